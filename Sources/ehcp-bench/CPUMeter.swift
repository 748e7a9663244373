import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time spent by this process and by the embedded PostgreSQL cluster, so that a benchmark can report
/// the cost of an operation in CPU milliseconds. On a shared 2-core machine throughput swings by ±15%
/// from run to run with the neighbours' load; CPU time per operation moves far less, so it is what
/// comparisons between two builds should read.
struct CPUMeter {
    /// CPU seconds so far: `process` (server and benchmark clients), `database` (nil with no embedded cluster).
    struct Reading {
        var process: Double
        var database: Double?
    }

    /// The embedded cluster's postmaster; nil for an external `DATABASE_URL`, whose CPU is not ours to read.
    let postmaster: Int32?

    /// - Parameter dataDirectory: the embedded cluster's data directory (`postmaster.pid` names the postmaster).
    init(dataDirectory: URL?) {
        let pidFile = dataDirectory.flatMap { try? String(contentsOf: $0.appendingPathComponent("postmaster.pid"), encoding: .utf8) }
        postmaster = pidFile?.split(separator: "\n").first.flatMap { Int32($0) }
    }

    func read() -> Reading {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let process = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return Reading(process: process, database: postmaster.map(Self.clusterSeconds))
    }

    /// The postmaster's CPU and that of its children (backends, WAL writer, checkpointer …) now running.
    private static func clusterSeconds(postmaster: Int32) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // proc_pid_stat(5): after "pid (comm)" come state, ppid … and, as fields 14 and 15, utime and stime.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let parent = Int32(fields[1]), pid == postmaster || parent == postmaster,
                let user = Double(fields[11]), let system = Double(fields[12])
            else { continue }
            total += (user + system) / ticks
        }
        return total
    }
}

extension CPUMeter.Reading {
    static func - (after: Self, before: Self) -> Self {
        Self(process: after.process - before.process, database: after.database.flatMap { a in before.database.map { a - $0 } })
    }
}

extension CPUMeter {
    /// Runs one measurement and adds the CPU it took.
    func measure(_ body: () async throws -> (rate: Double, samples: Samples)) async rethrows -> (rate: Double, samples: Samples, cpu: Reading) {
        let start = read()
        let (rate, samples) = try await body()
        return (rate, samples, read() - start)
    }
}
