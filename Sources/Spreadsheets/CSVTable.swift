import Foundation

/// Comma-separated values as spreadsheets write them (RFC 4180): quoted fields may hold commas, quotes
/// and line breaks. Exports start with a byte-order mark so that Excel reads the Chinese as UTF-8.
public enum CSVTable {
    /// A row of nothing but empty cells.
    public static func isBlank(_ row: [String]) -> Bool { row.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }

    /// The records of the text. Blank records are dropped unless `keepBlank`, which keeps record numbers
    /// matching the lines a spreadsheet user sees.
    public static func parse(_ text: String, keepBlank: Bool = false) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, i = text.startIndex
        var t = text
        if t.hasPrefix("\u{FEFF}") { t.removeFirst(); i = t.startIndex }
        while i < t.endIndex {
            let c = t[i]
            if quoted {
                if c == "\"" {
                    let next = t.index(after: i)
                    if next < t.endIndex, t[next] == "\"" { field.append("\""); i = next } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else {
                switch c {
                case "\"": quoted = true
                case ",": row.append(field); field = ""
                case "\n", "\r\n", "\r":
                    row.append(field); field = ""
                    rows.append(row); row = []
                default: field.append(c)
                }
            }
            i = t.index(after: i)
        }
        if !field.isEmpty || !row.isEmpty || quoted { row.append(field); rows.append(row) }
        return keepBlank ? rows : rows.filter { !isBlank($0) }
    }

    /// A cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`, `-2+3`) is written as
    /// text, behind an apostrophe, as OWASP advises for CSV exports; a plain number such as `-1.5` stays a number.
    static func neutralised(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return s }
        if first == "-", Double(s) != nil { return s }
        return "'" + s
    }

    public static func encode(_ rows: [[String]]) -> String {
        "\u{FEFF}" + rows.map { $0.map(quote).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    static func quote(_ raw: String) -> String {
        let s = neutralised(raw)
        // "\r\n" is one Character in Swift: test for any line break, not for "\n" alone.
        return s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
