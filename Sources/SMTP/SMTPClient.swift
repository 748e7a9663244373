import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A small SMTP client (RFC 5321) for handing mail to a council's relay: EHLO, STARTTLS (RFC 3207) or
/// implicit TLS (RFC 8314), AUTH PLAIN or LOGIN (RFC 4954), one message per connection. It sends no
/// password over an unencrypted connection, verifies the relay's certificate, and sorts failures into
/// permanent (a 5xx reply to the recipient or the message: retrying will not help, and a refused
/// recipient is a bounced address) and temporary (4xx, a refused AUTH or sender, a timeout, a lost
/// connection), which the caller retries.
public struct SMTPClient: Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// Connect in plain text, then upgrade with STARTTLS before anything else (port 587).
        case startTLS = "starttls"
        /// TLS from the first byte (port 465).
        case implicitTLS = "tls"
        /// No encryption: only for a relay on this machine.
        case none
    }

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var security: Security
        public var username: String?
        public var password: String?
        /// A PEM file of the certificate authorities to trust instead of the system's (a council's own CA).
        public var caFile: String?
        /// The name this client gives in EHLO.
        public var clientName = "ehcp.localdomain"
        /// The whole conversation's limit.
        public var timeout: Duration = .seconds(30)

        public init(host: String, port: Int, security: Security, username: String? = nil, password: String? = nil, caFile: String? = nil) {
            self.host = host
            self.port = port
            self.security = security
            self.username = username
            self.password = password
            self.caFile = caFile
        }
    }

    /// Who it is from and to, and the message itself (`SMTPMessage`).
    public struct Envelope: Sendable {
        public var from: String
        public var to: [String]
        public var message: String
        public init(from: String, to: [String], message: String) {
            self.from = from
            self.to = to
            self.message = message
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// A short reason fit to show an administrator.
        public var reason: String
        /// The relay refused for good (5xx): sending the same message again will not help.
        public var permanent: Bool
        /// The relay refused a recipient for good: the address bounced.
        public var recipientRefused: Bool
        public var description: String { reason }

        init(_ reason: String, permanent: Bool = false, recipientRefused: Bool = false) {
            self.reason = reason
            self.permanent = permanent
            self.recipientRefused = recipientRefused
        }
    }

    public let configuration: Configuration
    private let tls: NIOSSLContext?

    /// - Throws: `Failure` when the TLS settings cannot be used (an unreadable CA file, say).
    public init(_ configuration: Configuration) throws(Failure) {
        self.configuration = configuration
        guard configuration.security != .none else {
            tls = nil
            return
        }
        var settings = TLSConfiguration.makeClientConfiguration()
        settings.minimumTLSVersion = .tlsv12
        if let caFile = configuration.caFile { settings.trustRoots = .file(caFile) }
        do { tls = try NIOSSLContext(configuration: settings) } catch {
            throw Failure("the TLS settings cannot be used (is caFile a readable PEM file?): \(error)")
        }
    }

    /// Hands one message to the relay. Returns when the relay has accepted it (250 after DATA).
    public func send(_ envelope: Envelope) async throws(Failure) {
        let configuration = configuration
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let received = LineDecoder.Received()
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: configuration.host, port: configuration.port) { [tls] channel in
                    channel.eventLoop.makeCompletedFuture {
                        if configuration.security == .implicitTLS, let tls {
                            try channel.pipeline.syncOperations.addHandler(try Self.handler(tls, host: configuration.host))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(received: received)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure("could not connect to the relay \(configuration.host):\(configuration.port)")
        }
        let raw = channel.channel
        let timer = raw.eventLoop.scheduleTask(in: .nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000)) {
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            try await channel.executeThenClose { inbound, outbound in
                var conversation = Conversation(channel: raw, received: received, lines: inbound.makeAsyncIterator(), outbound: outbound)
                try await conversation.run(envelope, client: self)
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as NIOSSLError {
            throw Failure("the TLS connection to the relay failed: \(error)")
        } catch let error as BoringSSLError {
            throw Failure("the relay's TLS certificate was not accepted: \(error)")
        } catch {
            throw Failure("the relay closed the connection or did not answer within \(configuration.timeout)")
        }
    }

    static func handler(_ context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        // An address has no name to send (SNI); the certificate is then checked against the address.
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }

    /// Starts TLS on an open connection, after the relay's 220 to STARTTLS. Anything the relay sent
    /// after that 220 arrived in plain text and could be an attacker's forged replies (RFC 3207 §6), so
    /// the connection is refused unless every line received has been read (`read`) and nothing waits
    /// in the decoder. The check and the upgrade run together on the channel's event loop, where reads
    /// happen, so no byte slips between them.
    func startTLS(on channel: any Channel, received: LineDecoder.Received, read: Int) async throws {
        guard let tls else { return }
        let host = configuration.host
        try await channel.eventLoop.submit {
            guard received.state.withLock({ $0.lines == read && $0.pendingBytes == 0 }) else {
                throw Failure("the relay sent more after agreeing to STARTTLS, which could be tampering; nothing was sent")
            }
            try channel.pipeline.syncOperations.addHandler(try Self.handler(tls, host: host), position: .first)
        }.get()
    }
}

/// One SMTP conversation, command by command.
struct Conversation {
    let channel: any Channel
    let received: LineDecoder.Received
    /// Lines taken from the stream so far.
    var read = 0
    var lines: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    struct Reply {
        var code: Int
        var lines: [String]
        var text: String { lines.joined(separator: " ") }
    }

    mutating func run(_ envelope: SMTPClient.Envelope, client: SMTPClient) async throws {
        let configuration = client.configuration
        try expect(try await reply(), 220, "greeting")
        var capabilities = try await hello(configuration.clientName)
        var encrypted = configuration.security == .implicitTLS
        if configuration.security == .startTLS {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw SMTPClient.Failure("the relay does not offer STARTTLS; set security to \"tls\" or use another relay")
            }
            try expect(try await command("STARTTLS"), 220, "STARTTLS")
            try await client.startTLS(on: channel, received: received, read: read)
            encrypted = true
            capabilities = try await hello(configuration.clientName)
        }
        if let username = configuration.username {
            guard encrypted else { throw SMTPClient.Failure("will not send the relay's password without TLS") }
            let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").dropFirst() ?? []
            let password = configuration.password ?? ""
            if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                try expect(try await command("AUTH PLAIN \(token)"), 235, "AUTH")
            } else {
                try expect(try await command("AUTH LOGIN"), 334, "AUTH")
                try expect(try await command(Data(username.utf8).base64EncodedString()), 334, "AUTH")
                try expect(try await command(Data(password.utf8).base64EncodedString()), 235, "AUTH")
            }
        }
        try expect(try await command("MAIL FROM:<\(envelope.from)>"), 250, "MAIL FROM")
        for recipient in envelope.to {
            let answer = try await command("RCPT TO:<\(recipient)>")
            guard answer.code == 250 || answer.code == 251 else {
                let bounced = Self.isBadAddress(answer)
                throw SMTPClient.Failure(
                    "the relay refused the recipient: \(answer.code) \(answer.text.prefix(200))", permanent: bounced, recipientRefused: bounced)
            }
        }
        try expect(try await command("DATA"), 354, "DATA")
        try await outbound.write(ByteBuffer(string: SMTPMessage.dotStuffed(envelope.message) + ".\r\n"))
        try expect(try await reply(), 250, "the message", refusesMessage: true)
        _ = try? await command("QUIT")
    }

    /// Whether a refused RCPT says the address itself is bad (RFC 3463: 550, 551 or 553, and no
    /// enhanced code of class 5.7, security or policy). "Relaying denied" (5.7.1) or "authentication
    /// required" (530) is the relay's set-up, retried until an administrator fixes it, never a bounce.
    static func isBadAddress(_ reply: Reply) -> Bool {
        guard [550, 551, 553].contains(reply.code) else { return false }
        let enhanced = reply.lines.first?.split(separator: " ").first.map(String.init) ?? ""
        return !enhanced.hasPrefix("5.7.")
    }

    private mutating func hello(_ name: String) async throws -> [String] {
        let answer = try await command("EHLO \(name)")
        try expect(answer, 250, "EHLO")
        return Array(answer.lines.dropFirst())
    }

    private mutating func command(_ line: String) async throws -> Reply {
        try await outbound.write(ByteBuffer(string: line + "\r\n"))
        return try await reply()
    }

    /// Reads one reply: lines `250-…` continue, `250 …` ends it.
    private mutating func reply() async throws -> Reply {
        var text: [String] = []
        while let buffer = try await lines.next() {
            read += 1
            let line = String(buffer: buffer)
            guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else {
                throw SMTPClient.Failure("the relay's reply was not SMTP: \(line.prefix(80))")
            }
            text.append(String(line.dropFirst(4)))
            if line.utf8.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return Reply(code: code, lines: text) }
        }
        throw SMTPClient.Failure("the relay closed the connection")
    }

    /// A reply other than `code` fails the attempt. Only the relay's refusal of this message (its
    /// recipient, its content) is permanent; a refused greeting, AUTH or sender is the relay's set-up,
    /// which an administrator fixes, so those are retried.
    private func expect(_ reply: Reply, _ code: Int, _ step: String, refusesMessage: Bool = false) throws {
        guard reply.code != code else { return }
        throw SMTPClient.Failure(
            "the relay answered \(step) with \(reply.code) \(reply.text.prefix(200))", permanent: refusesMessage && reply.code >= 500)
    }
}

/// Splits the stream into lines, without their CR LF. A line longer than the RFC's limit (with room) ends the connection.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// How many lines were passed on, and how many bytes of an unfinished one wait: what STARTTLS checks.
    final class Received: Sendable {
        let state = Mutex<(lines: Int, pendingBytes: Int)>((0, 0))
    }
    let received: Received

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 8_192 { throw SMTPClient.Failure("the relay sent a line longer than SMTP allows") }
            received.state.withLock { $0.pendingBytes = buffer.readableBytes }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        received.state.withLock {
            $0.lines += 1
            $0.pendingBytes = buffer.readableBytes
        }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}
