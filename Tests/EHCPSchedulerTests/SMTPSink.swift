import EHCPScheduler
import Foundation
import SMTP

/// A real SMTP server on loopback (aiosmtpd, `Tests/Support/smtp_sink.py`), started for one test and
/// stopped after it. Each accepted message is a JSON file the test reads back.
final class SMTPSink: @unchecked Sendable {
    struct Received: Decodable {
        var mailFrom: String
        var rcptTos: [String]
        var data: String
        var tls: Bool
        var tlsVersion: String?
        var authUser: String?
        enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from"
            case rcptTos = "rcpt_tos"
            case data, tls
            case tlsVersion = "tls_version"
            case authUser = "auth_user"
        }

        /// The message's headers (first of each) and its text, decoded from base64 when it was sent so.
        var headers: [String: String] {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            var headers: [String: String] = [:]
            for line in head.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = String(line[..<colon]).lowercased()
                if headers[name] == nil { headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            }
            return headers
        }
        var body: String {
            let text = data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            guard headers["content-transfer-encoding"] == "base64" else { return text.replacingOccurrences(of: "\r\n", with: "\n") }
            let decoded = Data(base64Encoded: text.replacingOccurrences(of: "\r\n", with: "")) ?? Data()
            return String(decoding: decoded, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        }
    }

    let directory: URL
    let port: Int
    let security: SMTPClient.Security
    private let process: Process

    /// A relay that plays a man in the middle of STARTTLS (`--security inject`).
    static func injecting() throws -> SMTPSink { try SMTPSink(security: .startTLS, auth: nil, mode: "inject") }

    init(security: SMTPClient.Security, auth: String? = nil, mode: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-smtp-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/smtp_sink.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", script.path, "--dir", directory.path, "--security", mode ?? security.rawValue] + (auth.map { ["--auth", $0] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Blocks until the server says where it listens (or exits): no sleeping.
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            kill(process.processIdentifier, SIGKILL)
            throw SinkFailed(output: text)
        }
        self.port = port
        self.security = security
    }

    struct SinkFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "the SMTP sink did not start (is aiosmtpd installed? scripts/install-test-deps.sh): \(output)" }
    }

    /// The client's settings for this server, trusting its certificate.
    func configuration(username: String? = nil, password: String? = nil, trusted: Bool = true) -> SMTPClient.Configuration {
        SMTPClient.Configuration(
            host: "localhost", port: port, security: security, username: username, password: password,
            caFile: trusted && security != .none ? directory.appendingPathComponent("cert.pem").path : nil)
    }

    /// Every message accepted so far, in order.
    func messages() throws -> [Received] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try JSONDecoder().decode(Received.self, from: Data(contentsOf: directory.appendingPathComponent($0))) }
    }

    func stop() {
        // SIGKILL: the test process may block SIGTERM, and a child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
