import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Excel workbooks (Office Open XML, .xlsx): one sheet written, the first sheet read, as rows of text.
/// County offices keep their rosters in Excel; reading the workbook itself spares them "save as CSV UTF-8".
public enum XLSX {
    public enum Cell: Equatable, Sendable {
        case text(String)
        case number(Double)
    }

    /// Why a workbook could not be read, in words for the person who uploaded it.
    public struct ReadError: Error, Equatable, Sendable {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    public static let contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    /// A zip file starts with a local file header, "PK\u{3}\u{4}"; a CSV never does.
    public static func isWorkbook<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        Array(bytes.prefix(4)) == [0x50, 0x4B, 0x03, 0x04]
    }

    // MARK: Writing

    /// A workbook of one sheet: the first row is the header (bold, frozen), text cells are formatted as text
    /// so that Excel keeps codes such as 12-digit region codes as they are when someone edits them.
    public static func write(sheet name: String, rows: [[Cell]]) throws -> Data {
        let archive = try Archive(accessMode: .create)
        func add(_ path: String, _ xml: String) throws {
            let data = Data(xml.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 modificationDate: Date(timeIntervalSince1970: 1_577_836_800), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try add("[Content_Types].xml", """
            \(declaration)<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            </Types>
            """)
        try add("_rels/.rels", """
            \(declaration)<Relationships xmlns="\(relationships)">\
            <Relationship Id="rId1" Type="\(officeDocument)/officeDocument" Target="xl/workbook.xml"/></Relationships>
            """)
        try add("xl/_rels/workbook.xml.rels", """
            \(declaration)<Relationships xmlns="\(relationships)">\
            <Relationship Id="rId1" Type="\(officeDocument)/worksheet" Target="worksheets/sheet1.xml"/>\
            <Relationship Id="rId2" Type="\(officeDocument)/styles" Target="styles.xml"/></Relationships>
            """)
        try add("xl/workbook.xml", """
            \(declaration)<workbook xmlns="\(main)" xmlns:r="\(officeDocument)">\
            <sheets><sheet name="\(escape(sheetName(name)))" sheetId="1" r:id="rId1"/></sheets></workbook>
            """)
        // Styles: 0 default, 1 bold header, 2 text (number format 49, "@").
        try add("xl/styles.xml", """
            \(declaration)<styleSheet xmlns="\(main)">\
            <fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>\
            <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
            <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
            <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
            <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
            <xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>\
            <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
            <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
            </styleSheet>
            """)
        var sheet = declaration + "<worksheet xmlns=\"\(main)\">"
        sheet += "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>"
        let widths = columnWidths(rows)
        if !widths.isEmpty {
            sheet += "<cols>" + widths.enumerated().map { "<col min=\"\($0.offset + 1)\" max=\"\($0.offset + 1)\" width=\"\($0.element)\" customWidth=\"1\"/>" }.joined() + "</cols>"
        }
        sheet += "<sheetData>"
        for (r, row) in rows.enumerated() {
            sheet += "<row r=\"\(r + 1)\">"
            for (c, cell) in row.enumerated() {
                let ref = column(c) + String(r + 1)
                switch cell {
                case .number(let n) where n.isFinite:
                    sheet += "<c r=\"\(ref)\"><v>\(number(n))</v></c>"
                case .number:
                    break
                case .text(let s):
                    let space = s.first?.isWhitespace == true || s.last?.isWhitespace == true ? " xml:space=\"preserve\"" : ""
                    sheet += "<c r=\"\(ref)\" s=\"\(r == 0 ? 1 : 2)\" t=\"inlineStr\"><is><t\(space)>\(escape(s))</t></is></c>"
                }
            }
            sheet += "</row>"
        }
        sheet += "</sheetData></worksheet>"
        try add("xl/worksheets/sheet1.xml", sheet)
        guard let data = archive.data else { throw ReadError("无法生成 Excel 文件") }
        return data
    }

    private static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    private static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    private static let relationships = "http://schemas.openxmlformats.org/package/2006/relationships"
    private static let officeDocument = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    /// Excel's limits on a sheet's name: at most 31 characters, none of : \ / ? * [ ].
    static func sheetName(_ name: String) -> String {
        let cleaned = String(name.filter { !":\\/?*[]".contains($0) }.prefix(31))
        return cleaned.isEmpty ? "Sheet1" : cleaned
    }

    /// Column widths in Excel's character units, a Chinese character counting two.
    static func columnWidths(_ rows: [[Cell]]) -> [Int] {
        var widths: [Int] = []
        for row in rows.prefix(500) {
            for (i, cell) in row.enumerated() {
                let text: String
                switch cell { case .text(let s): text = s; case .number(let n): text = number(n) }
                let w = text.unicodeScalars.reduce(0) { $0 + ($1.value > 0x2E80 ? 2 : 1) }
                if i >= widths.count { widths.append(0) }
                widths[i] = max(widths[i], w)
            }
        }
        return widths.map { min(60, max(8, $0 + 2)) }
    }

    /// "A", "B", … "Z", "AA" for a zero-based column index.
    static func column(_ index: Int) -> String {
        var n = index + 1, s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    static let maxColumnIndex = 16_384
    /// Columns read from a sheet: more than any import has, few enough that 100,000 rows stay small in memory.
    static let maxImportedColumns = 64

    /// A zero-based column index from a cell reference such as "AB12".
    static func columnIndex(_ ref: String) -> Int? {
        var n = 0, any = false
        for u in ref.unicodeScalars {
            guard (65...90).contains(u.value) || (97...122).contains(u.value) else { break }
            // Past Excel's last column (XFD) the reference is invalid; stop before the arithmetic can overflow.
            guard n <= maxColumnIndex else { return maxColumnIndex + 1 }
            n = n * 26 + Int((u.value & 0xDF) - 64)
            any = true
        }
        return any ? n - 1 : nil
    }

    /// Numbers as a person reads them: 15 significant digits, the precision Excel keeps, without a trailing ".0".
    static func number(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return String(format: "%.15g", n)
    }

    /// Text as XML allows it: the five entities escaped, control characters XML 1.0 forbids dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    // MARK: Reading

    /// The first sheet's rows, the row at index i being the sheet's row i + 1 (rows the sheet skips are empty),
    /// so that a row reported back is the row number the person sees in Excel.
    static let maxPartBytes: UInt64 = 64 << 20
    static let maxTotalBytes: UInt64 = 128 << 20

    public static func read(_ data: Data, maxRows: Int = 100_000) throws -> [[String]] {
        // The zip's directory is checked by us first: ZIPFoundation converts sizes and offsets it reads from the file
        // with trapping conversions, so a forged ZIP64 record would end the process.
        try ZipDirectory.check(data)
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch { throw ReadError("文件不是有效的 Excel（.xlsx）工作簿") }
        // A zip that inflates to gigabytes must not take the server with it: the sizes it declares are checked, and the
        // bytes actually produced are counted, since a forged entry can declare little and inflate to much.
        var declared: UInt64 = 0
        for entry in archive {
            if entry.uncompressedSize > maxPartBytes { throw ReadError("工作簿过大，请拆分后分批导入") }
            declared += entry.uncompressedSize
            if declared > maxTotalBytes { throw ReadError("工作簿过大，请拆分后分批导入") }
        }
        var produced = 0
        struct TooLarge: Error {}
        func part(_ path: String) throws -> Data? {
            guard let entry = archive[path] else { return nil }
            var out = Data()
            do {
                _ = try archive.extract(entry) { chunk in
                    produced += chunk.count
                    if out.count + chunk.count > Int(maxPartBytes) || produced > Int(maxTotalBytes) { throw TooLarge() }
                    out.append(chunk)
                }
            } catch is TooLarge {
                throw ReadError("工作簿过大，请拆分后分批导入")
            } catch { throw ReadError("工作簿已损坏（\(path)），请在 Excel 中重新保存后再导入") }
            return out
        }
        guard let workbook = try part("xl/workbook.xml") else {
            throw ReadError("文件不是 Excel（.xlsx）工作簿；旧版 .xls 请在 Excel 中另存为 .xlsx")
        }
        let book = WorkbookParser.parse(workbook)
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let rid = book.firstSheetRelationship, let rels = try part("xl/_rels/workbook.xml.rels"),
           let target = RelationshipsParser.parse(rels)[rid] {
            sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        }
        guard let sheet = try part(sheetPath) else { throw ReadError("工作簿中没有工作表") }
        let strings = try part("xl/sharedStrings.xml").map(SharedStringsParser.parse) ?? []
        let dateStyles = try part("xl/styles.xml").map(StylesParser.dateStyles) ?? []
        let parser = SheetParser(strings: strings, dateStyles: dateStyles, date1904: book.date1904, maxRows: maxRows)
        return try parser.parse(sheet)
    }

    /// Days since Excel's epoch as a calendar date, "YYYY-MM-DD" (the time of day dropped).
    static func date(serial: Double, date1904: Bool) -> String? {
        guard serial.isFinite, serial >= 1, serial < 2_958_466 else { return nil }
        // 1900 system: Excel counts a 29 February 1900 that never was, so from March 1900 on serial 25,569 is
        // 1970-01-01. 1904 system (old Mac workbooks): serial 0 is 1904-01-01, 24,107 days before 1970.
        let unixDays = serial - (date1904 ? 24_107 : 25_569)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let day = Date(timeIntervalSince1970: unixDays.rounded(.down) * 86_400)
        let c = calendar.dateComponents([.year, .month, .day], from: day)
        guard let y = c.year, let m = c.month, let d = c.day else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
    }
}

// MARK: - Parts of the workbook

/// Reads attributes by local name: writers differ in the prefixes they give namespaces.
private func attribute(_ attributes: [String: String], _ local: String) -> String? {
    if let v = attributes[local] { return v }
    return attributes.first { $0.key.hasSuffix(":" + local) }?.value
}

private func localName(_ name: String) -> Substring {
    name.split(separator: ":").last ?? Substring(name)
}

/// Runs `delegate` over the part and hands it back with what it gathered.
private func read<Delegate: NSObject & XMLParserDelegate>(_ data: Data, with delegate: Delegate) -> Delegate {
    let parser = XMLParser(data: data)
    parser.delegate = delegate
    _ = parser.parse()
    return delegate
}

private final class WorkbookParser: NSObject, XMLParserDelegate {
    var firstSheetRelationship: String?
    var date1904 = false

    static func parse(_ data: Data) -> WorkbookParser { read(data, with: WorkbookParser()) }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch localName(name) {
        case "sheet" where firstSheetRelationship == nil: firstSheetRelationship = attribute(attributes, "id")
        case "workbookPr": date1904 = ["1", "true"].contains(attribute(attributes, "date1904") ?? "")
        default: break
        }
    }
}

private final class RelationshipsParser: NSObject, XMLParserDelegate {
    var targets: [String: String] = [:]

    static func parse(_ data: Data) -> [String: String] { read(data, with: RelationshipsParser()).targets }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if localName(name) == "Relationship", let id = attributes["Id"], let target = attributes["Target"] { targets[id] = target }
    }
}

/// The shared strings: each `si` is the text of its `t` runs, leaving out phonetic guides (`rPh`).
private final class SharedStringsParser: NSObject, XMLParserDelegate {
    var strings: [String] = []
    var current = ""
    var inText = false, inPhonetic = false

    static func parse(_ data: Data) -> [String] { read(data, with: SharedStringsParser()).strings }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch localName(name) {
        case "si": current = ""
        case "t": inText = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch localName(name) {
        case "si": strings.append(current)
        case "t": inText = false
        case "rPh": inPhonetic = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }
}

/// Which cell styles show dates: Excel stores a typed date as a number of days, told apart only by its format.
private final class StylesParser: NSObject, XMLParserDelegate {
    var customFormats: [Int: String] = [:]
    var cellFormats: [Int] = []
    var inCellXfs = false

    static func dateStyles(_ data: Data) -> Set<Int> {
        let p = read(data, with: StylesParser())
        var styles = Set<Int>()
        for (i, id) in p.cellFormats.enumerated() where isDateFormat(id: id, code: p.customFormats[id]) { styles.insert(i) }
        return styles
    }

    /// Built-in date formats (14–22; 27–36 and 50–58 in Chinese Excel; 45–47), or a custom code with days or years.
    static func isDateFormat(id: Int, code: String?) -> Bool {
        if (14...22).contains(id) || (27...36).contains(id) || (45...47).contains(id) || (50...58).contains(id) { return true }
        guard var code else { return false }
        // Quoted text and bracketed sections ([Red], [$-804]) are not part of the date pattern.
        code = code.replacingOccurrences(of: "\"[^\"]*\"", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\\[[^\\]]*\\]", with: "", options: .regularExpression).lowercased()
        return code.contains("y") || code.contains("d") || code.contains("e")
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch localName(name) {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { customFormats[id] = code }
        case "cellXfs": inCellXfs = true
        case "xf" where inCellXfs: cellFormats.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if localName(name) == "cellXfs" { inCellXfs = false }
    }
}

private final class SheetParser: NSObject, XMLParserDelegate {
    let strings: [String]
    let dateStyles: Set<Int>
    let date1904: Bool
    let maxRows: Int
    var rows: [[String]] = []
    var row: [String] = [], rowNumber = 0
    var cellRef: String?, cellType = "n", cellStyle = 0
    var value = "", inline = ""
    var inValue = false, inInlineText = false
    var failure: XLSX.ReadError?

    init(strings: [String], dateStyles: Set<Int>, date1904: Bool, maxRows: Int) {
        self.strings = strings
        self.dateStyles = dateStyles
        self.date1904 = date1904
        self.maxRows = maxRows
    }

    func parse(_ data: Data) throws -> [[String]] {
        let parser = XMLParser(data: data)
        parser.delegate = self
        if !parser.parse(), failure == nil { failure = XLSX.ReadError("工作表无法读取（XML 有误），请在 Excel 中重新保存后再导入") }
        if let failure { throw failure }
        return rows
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch localName(name) {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            if rowNumber < 1 {
                failure = XLSX.ReadError("工作表格式有误（行号无效），请在 Excel 中重新保存后再导入")
                parser.abortParsing()
            } else if rowNumber > maxRows {
                failure = XLSX.ReadError("每次最多导入 \(maxRows) 行")
                parser.abortParsing()
            }
            row = []
        case "c":
            cellRef = attributes["r"]
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap(Int.init) ?? 0
            value = ""
            inline = ""
        case "v": inValue = true
        case "t": inInlineText = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch localName(name) {
        case "v": inValue = false
        case "t": inInlineText = false
        case "c":
            let index = cellRef.flatMap(XLSX.columnIndex) ?? row.count
            // Every sheet we import has a few columns; a cell far to the right would only make empty cells to reach it.
            guard index < XLSX.maxImportedColumns else { return }
            while row.count < index { row.append("") }
            let text = cellText()
            if index < row.count { row[index] = text } else { row.append(text) }
        case "row":
            while rows.count < rowNumber - 1 { rows.append([]) }
            if rowNumber >= 1 { rows.append(row) }
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inValue { value += string } else if inInlineText { inline += string }
    }

    func cellText() -> String {
        switch cellType {
        case "s": return Int(value.trimmingCharacters(in: .whitespaces)).flatMap { strings.indices.contains($0) ? strings[$0] : nil } ?? ""
        case "inlineStr": return inline
        case "str", "e": return value
        case "b": return value == "1" ? "TRUE" : "FALSE"
        case "d": return String(value.prefix(10))
        default:
            guard let n = Double(value.trimmingCharacters(in: .whitespaces)) else { return value }
            if dateStyles.contains(cellStyle), let day = XLSX.date(serial: n, date1904: date1904) { return day }
            return XLSX.number(n)
        }
    }
}

/// The parts of a zip's directory that ZIPFoundation would trust: the end record and each central entry, read with
/// bounds checks. A zip64 workbook (never needed below 4 GB) and any size or offset beyond the file are refused.
enum ZipDirectory {
    static func check(_ data: Data) throws {
        let bad = XLSX.ReadError("文件不是有效的 Excel（.xlsx）工作簿")
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= bytes.count ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : nil }
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        // The end record: its signature within the last 64 KiB + 22 bytes (the comment may be up to 64 KiB).
        guard bytes.count >= 22 else { throw bad }
        var end = -1
        var i = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        while i >= lowest {
            if u32(i) == 0x0605_4B50 { end = i; break }
            i -= 1
        }
        guard end >= 0 else { throw bad }
        // A zip64 locator just before the end record.
        if end >= 20, u32(end - 20) == 0x0706_4B50 { throw bad }
        guard let entries = u16(end + 10), let size = u32(end + 12), let offset = u32(end + 16),
              entries != 0xFFFF, size != 0xFFFF_FFFF, offset != 0xFFFF_FFFF, offset + size <= end else { throw bad }
        var at = offset
        for _ in 0..<entries {
            guard u32(at) == 0x0201_4B50, let compressed = u32(at + 20), let uncompressed = u32(at + 24),
                  let nameLength = u16(at + 28), let extraLength = u16(at + 30), let commentLength = u16(at + 32),
                  let local = u32(at + 42) else { throw bad }
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF { throw bad }
            if compressed > bytes.count || local >= offset || local + 30 + compressed > bytes.count { throw bad }
            // Extra fields: no zip64 one (id 1).
            var e = at + 46 + nameLength
            let extraEnd = e + extraLength
            guard extraEnd <= bytes.count else { throw bad }
            while e + 4 <= extraEnd {
                guard let id = u16(e), let length = u16(e + 2) else { throw bad }
                if id == 0x0001 { throw bad }
                e += 4 + length
            }
            at = extraEnd + commentLength
            guard at <= end else { throw bad }
        }
    }
}
