import Foundation

/// A plain-text email as RFC 5322 and MIME (RFC 2045–2047) write it, with CR LF line ends.
public struct SMTPMessage: Sendable {
    /// `Name <address>` or a bare address.
    public var from: String
    public var to: String
    public var subject: String
    public var body: String
    /// The Message-ID's left part: the same for every attempt, so that a duplicate is recognised.
    public var id: String
    public var date: Date
    /// More headers, in order (`Auto-Submitted`, the service's own ids).
    public var headers: [(String, String)]

    public init(from: String, to: String, subject: String, body: String, id: String, date: Date, headers: [(String, String)] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.id = id
        self.date = date
        self.headers = headers
    }

    /// The Message-ID header's value, `<id@domain of the from address>`.
    public var messageId: String {
        let domain = Self.address(in: from).split(separator: "@").last.map(String.init) ?? "localhost"
        return "<\(id)@\(domain)>"
    }

    /// The bare address in `Name <address>`.
    public static func address(in mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close else {
            return mailbox.trimmingCharacters(in: .whitespaces)
        }
        return String(mailbox[mailbox.index(after: open)..<close])
    }

    public var text: String {
        let ascii = body.unicodeScalars.allSatisfy(\.isASCII)
        var lines = [
            "Message-ID: \(messageId)", "Date: \(Self.rfc5322(date))", "From: \(Self.mailbox(from))", "To: \(Self.mailbox(to))",
            "Subject: \(Self.header(subject))", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(ascii ? "7bit" : "base64")",
        ]
        lines += headers.map { "\($0.0): \(Self.header($0.1))" }
        // Lines end CR LF on the wire; a lone CR (which RFC 5321 forbids) becomes a space.
        let normalised = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: " ")
            .split(separator: "\n", omittingEmptySubsequences: false)
        let content: [String] =
            ascii
            ? normalised.map(String.init)
            : Self.wrapped(Data(normalised.joined(separator: "\r\n").utf8).base64EncodedString(), width: 76)
        return (lines + [""] + content).joined(separator: "\r\n") + "\r\n"
    }

    /// A mailbox header (RFC 5322 §3.4): the address in angle brackets after its display name, the name
    /// quoted when it holds specials and an RFC 2047 encoded word when it is not ASCII, so the header
    /// always has exactly one address.
    static func mailbox(_ text: String) -> String {
        let bare = address(in: text)
        guard let open = text.lastIndex(of: "<") else { return bare }
        let name = text[..<open].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
        guard !name.isEmpty else { return "<\(bare)>" }
        if !name.unicodeScalars.allSatisfy(\.isASCII) { return "\(header(name)) <\(bare)>" }
        let specials = Set("()<>[]:;@\\,.\"")
        guard name.contains(where: { specials.contains($0) }) else { return "\(name) <\(bare)>" }
        let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(quoted)\" <\(bare)>"
    }

    /// A header value: as it is when ASCII, otherwise an RFC 2047 encoded word.
    static func header(_ value: String) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard !flat.unicodeScalars.allSatisfy(\.isASCII) else { return flat }
        return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func wrapped(_ text: String, width: Int) -> [String] {
        stride(from: 0, to: text.count, by: width).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            return String(text[from..<(text.index(from, offsetBy: width, limitedBy: text.endIndex) ?? text.endIndex)])
        }
    }

    /// The DATA section: a line that starts with a full stop gets another (RFC 5321 §4.5.2).
    static func dotStuffed(_ message: String) -> String {
        message.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }

    /// `Mon, 30 Nov 2026 07:30:00 +0000` (RFC 5322 §3.3), in UTC.
    static func rfc5322(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
