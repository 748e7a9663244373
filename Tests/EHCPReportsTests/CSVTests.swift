import EHCPReports
import Testing

/// Every CSV goes through `CSV.render`; a cell a spreadsheet would run as a formula must arrive as text.
@Suite("CSV cells are safe to open in a spreadsheet")
struct CSVTests {
    @Test(
        "A cell starting with =, +, -, @, tab or carriage return gets a leading apostrophe, in any column",
        arguments: [
            ("=HYPERLINK(\"http://x\",\"Click\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"Click\"\")\""),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
        ])
    func formulaIsNeutralised(cell: String, expected: String) {
        let csv = CSV.render(header: ["reference", "caseworker"], rows: [["ok", cell], [cell, "ok"]])
        #expect(csv == "reference,caseworker\r\nok,\(expected)\r\n\(expected),ok\r\n")
    }

    @Test("Plain numbers, including negative ones, and ordinary text are left as they are")
    func dataIsUnchanged() {
        let csv = CSV.render(header: ["a", "b", "c", "d"], rows: [["-3", "-0.5", "Smith-Jones", "EHC-2025/001"]])
        #expect(csv == "a,b,c,d\r\n-3,-0.5,Smith-Jones,EHC-2025/001\r\n")
    }
}
