import EHCPDomain
import EHCPStore
import Logging
import Postgres

/// What an upgrade leaves for the commands that serve or sweep: projections to rebuild, and defaults for
/// local settings that depend on when the council upgraded (docs/operations.md, "Upgrading").
extension DatabaseOptions {
    /// `settings` with the defaults a migration stored for it (`local_setting_defaults`), where the
    /// settings file does not set them: after migration 9, the day checking decision notices began.
    public func withStoredDefaults(_ settings: LocalSettings, _ resolved: Connection, logger: Logger) throws -> LocalSettings {
        guard settings.decisionNoticesFrom == nil else { return settings }
        let owner = try connect(resolved.owner)
        defer { owner.close() }
        var merged = settings
        do {
            let stored = try owner.query("SELECT value FROM local_setting_defaults WHERE name = 'decisionNoticesFrom'").first
            merged.decisionNoticesFrom = try stored.flatMap { CivilDate(iso: try $0.decode(String.self, at: 0)) }
        } catch let error as PostgresError where error.sqlState == "42501" {
            logger.warning(
                "cannot read the defaults migration 9 stored; set decisionNoticesFrom in the settings file (docs/operations.md, Upgrading)")
        }
        return merged
    }

    /// Before serving or sweeping: rebuilds the projections a migration left computed by an older engine
    /// (`ProjectionRebuilder.rebuildIfStale`), as the owner, who sees every council.
    public func rebuildStaleProjections(_ resolved: Connection, engine: DeadlineEngine, logger: Logger) throws {
        let owner = try connect(resolved.owner)
        defer { owner.close() }
        let started = ContinuousClock.now
        do {
            let reasons = try ProjectionRebuilder(engine: engine).rebuildIfStale(on: owner) { progress in
                if progress.cases % 10_000 < 500 { logger.info("rebuilding projections", metadata: ["cases": "\(progress.cases)"]) }
            }
            if !reasons.isEmpty {
                logger.notice(
                    "rebuilt the projections from the events",
                    metadata: ["reason": "\(reasons.joined(separator: "; "))", "took": "\(ContinuousClock.now - started)"])
            }
        } catch let error as PostgresError where error.sqlState == "42501" {
            // Only the service's login was given: it cannot read every council, so say what to run.
            logger.warning(
                "the projections may have been computed by an older version; run 'ehcp projections rebuild' with DATABASE_OWNER_URL set")
        }
    }
}
