/// RFC 4180 CSV, safe to open in a spreadsheet: the one renderer of every CSV the service writes (the
/// SEN2 modules, the breach report, the timeliness tables and their case lists).
public enum CSV {
    public static func render(header: [String], rows: [[String?]]) -> String {
        ([header.map(field)] + rows.map { $0.map { field($0 ?? "") } }).map { $0.joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// One cell: formula-neutralised, then quoted when it holds a comma, quote or line break.
    static func field(_ value: String) -> String {
        let safe = neutralised(value)
        guard safe.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return safe }
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, tab or carriage
    /// return) gets a leading apostrophe, so it is shown as text (OWASP, "CSV Injection"). A child's
    /// name, a reference or a provider typed by anyone could otherwise carry `=HYPERLINK(…)` into a
    /// manager's spreadsheet. A plain number such as `-3` is left as it is: it is data, not a formula.
    static func neutralised(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, triggers.contains(first), !isPlainNumber(value) else { return value }
        return "'" + value
    }

    private static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// `-12` or `-0.5`: a minus sign, digits, and at most one decimal point between digits.
    private static func isPlainNumber(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "-") else { return false }
        let digits = bytes.dropFirst()
        let parts = digits.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (48...57).contains($0) } }
    }
}
