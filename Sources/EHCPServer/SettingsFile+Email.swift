import EHCPDomain
import EHCPScheduler
import EHCPStore
import Foundation
import SMTP

/// The settings file's `email` section (docs/operations.md, "Email"): one transport, SMTP or GOV.UK Notify.
///
///     "email": {"transport": "smtp", "from": "EHCP alerts <ehcp-alerts@council.gov.uk>", "digestTime": "07:30",
///               "smtp": {"host": "relay.council.internal", "port": 587, "security": "starttls",
///                        "username": "ehcp", "passwordFile": "/etc/ehcp/smtp-password", "caFile": "/etc/ehcp/council-ca.pem"}}
///
///     "email": {"transport": "notify", "digestTime": "07:30",
///               "notify": {"apiKeyFile": "/etc/ehcp/notify-api-key", "replyToId": "…",
///                          "templates": {"breach": "…", "reminder": "…", "digest": "…"}}}
///
/// Secrets are read from files (a systemd credential, say), never written in the settings file.
enum EmailSection {
    typealias Invalid = SettingsFile.Invalid

    static func parse(_ value: JSONValue, source: String) throws -> EmailSettings {
        guard let object = value.objectValue else { throw Invalid(description: "\(source): email must be an object") }
        func string(_ object: [String: JSONValue], _ key: String, in path: String) throws -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let text)? where !text.isEmpty: return text
            default: throw Invalid(description: "\(source): \(path).\(key) must be a non-empty string")
            }
        }
        func secret(_ path: String, file: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw Invalid(description: "\(source): \(path) names '\(file)', which cannot be read")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let known: Set = ["transport", "from", "digestTime", "smtp", "notify"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid(description: "\(source): unknown setting 'email.\(unknown)'; known: \(known.sorted().joined(separator: ", "))")
        }
        var digestAt = 7 * 60
        if let time = try string(object, "digestTime", in: "email") {
            let parts = time.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0...23).contains(parts[0]), (0...59).contains(parts[1]), time.count == 5 else {
                throw Invalid(description: "\(source): email.digestTime must be a time written HH:MM (24-hour, London time), not '\(time)'")
            }
            digestAt = parts[0] * 60 + parts[1]
        }
        let from = try string(object, "from", in: "email")
        if let from, !isMailbox(from) {
            throw Invalid(description: "\(source): email.from must be an address or 'Name <address>', not '\(from)'")
        }
        switch try string(object, "transport", in: "email") {
        case "smtp":
            guard let smtp = object["smtp"]?.objectValue else {
                throw Invalid(description: "\(source): email.smtp must be an object when transport is smtp")
            }
            guard let from else { throw Invalid(description: "\(source): email.from is needed for SMTP (the address alerts come from)") }
            let smtpKnown: Set = ["host", "port", "security", "username", "passwordFile", "caFile"]
            if let unknown = smtp.keys.sorted().first(where: { !smtpKnown.contains($0) }) {
                throw Invalid(description: "\(source): unknown setting 'email.smtp.\(unknown)'; known: \(smtpKnown.sorted().joined(separator: ", "))")
            }
            guard let host = try string(smtp, "host", in: "email.smtp") else { throw Invalid(description: "\(source): email.smtp.host is needed") }
            let securityText = try string(smtp, "security", in: "email.smtp") ?? "starttls"
            guard let security = SMTPClient.Security(rawValue: securityText) else {
                throw Invalid(description: "\(source): email.smtp.security must be starttls, tls or none, not '\(securityText)'")
            }
            if security == .none && !["localhost", "127.0.0.1", "::1"].contains(host.lowercased()) {
                throw Invalid(
                    description: "\(source): email.smtp.security 'none' is allowed only for a relay on this machine (localhost), not '\(host)'")
            }
            var port = security == .implicitTLS ? 465 : security == .startTLS ? 587 : 25
            switch smtp["port"] {
            case nil: break
            case .number(let n)? where n >= 1 && n <= 65_535 && n == n.rounded(): port = Int(n)
            case let other?:
                throw Invalid(description: "\(source): email.smtp.port must be a port number from 1 to 65535, not \(other.compactDescription)")
            }
            let username = try string(smtp, "username", in: "email.smtp")
            let password = try string(smtp, "passwordFile", in: "email.smtp").map { try secret("email.smtp.passwordFile", file: $0) }
            if username != nil && password == nil {
                throw Invalid(description: "\(source): email.smtp.passwordFile is needed with email.smtp.username")
            }
            if username != nil && security == .none {
                throw Invalid(description: "\(source): email.smtp.username needs security starttls or tls: a password is never sent unencrypted")
            }
            let configuration = SMTPClient.Configuration(
                host: host, port: port, security: security, username: username, password: password,
                caFile: try string(smtp, "caFile", in: "email.smtp"))
            return EmailSettings(transport: .smtp(configuration), from: from, digestAt: digestAt)
        case "notify":
            guard let notify = object["notify"]?.objectValue else {
                throw Invalid(description: "\(source): email.notify must be an object when transport is notify")
            }
            let notifyKnown: Set = ["apiKeyFile", "baseURL", "templates", "replyToId"]
            if let unknown = notify.keys.sorted().first(where: { !notifyKnown.contains($0) }) {
                throw Invalid(
                    description: "\(source): unknown setting 'email.notify.\(unknown)'; known: \(notifyKnown.sorted().joined(separator: ", "))")
            }
            guard let keyFile = try string(notify, "apiKeyFile", in: "email.notify") else {
                throw Invalid(description: "\(source): email.notify.apiKeyFile is needed (a file holding the API key)")
            }
            guard let key = NotifyClient.APIKey(try secret("email.notify.apiKeyFile", file: keyFile)) else {
                throw Invalid(
                    description: "\(source): the file email.notify.apiKeyFile names does not hold a Notify API key (name-service id-secret)")
            }
            let baseURL = try string(notify, "baseURL", in: "email.notify") ?? "https://api.notifications.service.gov.uk"
            guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), url.host != nil,
                scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(url.host!.lowercased()))
            else {
                throw Invalid(description: "\(source): email.notify.baseURL must be an https URL (http only to localhost), not '\(baseURL)'")
            }
            guard let templates = notify["templates"]?.objectValue else {
                throw Invalid(description: "\(source): email.notify.templates must name a template id for breach, reminder and digest")
            }
            var ids: [String: String] = [:]
            for kind in ["breach", "reminder", "digest"] {
                guard let id = try string(templates, kind, in: "email.notify.templates"), UUID(uuidString: id) != nil else {
                    throw Invalid(description: "\(source): email.notify.templates.\(kind) must be a template id (a UUID from Notify)")
                }
                ids[kind] = id
            }
            let replyTo = try string(notify, "replyToId", in: "email.notify")
            return EmailSettings(
                transport: .notify(baseURL: baseURL, key: key, templates: ids, replyTo: replyTo), from: from ?? "", digestAt: digestAt)
        case let other:
            throw Invalid(description: "\(source): email.transport must be \"smtp\" or \"notify\", not \(other.map { "'\($0)'" } ?? "missing")")
        }
    }

    /// The From setting's shape: an address, or `Name <address>`, on one line, with no other angle brackets.
    static func isMailbox(_ text: String) -> Bool {
        EmailChoices.isAddress(SMTPMessage.address(in: text)) && !text.contains("\n") && !text.contains("\r")
            && text.filter({ $0 == "<" }).count <= 1
    }
}
