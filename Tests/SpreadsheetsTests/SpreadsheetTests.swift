import Foundation
import Testing
import ZIPFoundation
@testable import Spreadsheets

@Suite("Spreadsheets: CSV and Excel workbooks as rows of text")
struct SpreadsheetTests {
    @Test("CSV as spreadsheets write it: quotes, commas, line breaks, a byte-order mark")
    func csv() {
        let rows = [["licence_number", "notes"], ["A1", "说明，含逗号"], ["A2", "他说\"好\"\n第二行"], ["A3", ""]]
        let text = CSVTable.encode(rows)
        #expect(text.hasPrefix("\u{FEFF}"))
        #expect(CSVTable.parse(text) == rows)
        #expect(CSVTable.parse("a,b\r\nc,d\r\n\r\n") == [["a", "b"], ["c", "d"]])
        #expect(CSVTable.parse("x,\"y,z\"") == [["x", "y,z"]])
        // A textarea's CRLF inside a note is quoted, so the row stays whole.
        #expect(CSVTable.parse(CSVTable.encode([["a", "line\r\nbreak"]])) == [["a", "line\r\nbreak"]])
        #expect(CSVTable.parse("a\n,,\nb", keepBlank: true) == [["a"], ["", "", ""], ["b"]])
        #expect(CSVTable.isBlank(["", " "]))
    }

    @Test("a workbook we write reads back the same, numbers as a person reads them")
    func roundTrip() throws {
        let rows: [[XLSX.Cell]] = [
            [.text("licence_number"), .text("village_code"), .text("hours"), .text("notes")],
            [.text("13401201510012345"), .text("340102001001"), .number(2.5), .text("含<尖括号>&“引号”\"")],
            [.text("000123"), .text(" 前后空格 "), .number(3), .text("第一行\n第二行")],
            [.text("x"), .text(""), .number(0.1 + 0.2), .text("控制字符\u{1}去掉")],
        ]
        let data = try XLSX.write(sheet: "服务记录/2026", rows: rows)
        #expect(XLSX.isWorkbook(data))
        let back = try XLSX.read(data)
        #expect(back == [
            ["licence_number", "village_code", "hours", "notes"],
            ["13401201510012345", "340102001001", "2.5", "含<尖括号>&“引号”\""],
            ["000123", " 前后空格 ", "3", "第一行\n第二行"],
            ["x", "", "0.3", "控制字符去掉"],
        ])
        // Numbers are numbers Excel adds up; text is text, formatted so Excel keeps its leading zeros.
        let archive = try Archive(data: data, accessMode: .read)
        var xml = Data()
        _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { xml.append($0) }
        let sheet = String(decoding: xml, as: UTF8.self)
        #expect(sheet.contains("<c r=\"C2\"><v>2.5</v></c>"))
        #expect(sheet.contains("<c r=\"A3\" s=\"2\" t=\"inlineStr\"><is><t>000123</t></is></c>"))
        #expect(sheet.contains("state=\"frozen\""), "the header row stays in view")
    }

    @Test("a workbook openpyxl wrote as Excel does: typed dates in two formats, numbers, skipped rows and cells")
    func openpyxlWorkbook() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/openpyxl-services.xlsx")
        let rows = try XLSX.read(try Data(contentsOf: url))
        #expect(rows.count == 5)
        #expect(rows[1] == ["13401201510012345", "340102001001", "2026-03-05", "2.5", "consultation", "3", "12", "村委会，逗号\"引号\""])
        #expect(rows[2] == ["13401201510012345", "340102001002", "2026-03-06", "1", "publicity"])
        #expect(rows[3] == [])
        #expect(rows[4] == ["X1", "", "2026-02-28", "", "", "", "", "  前后空格 "])
    }

    @Test("shared strings with rich runs and phonetic guides, booleans, a 1904 workbook, a sheet not named sheet1")
    func sharedStrings() throws {
        let data = try workbook(parts: [
            "xl/workbook.xml": """
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:rel="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
                <workbookPr date1904="1"/><sheets><sheet name="名册" sheetId="7" rel:id="rId9"/></sheets></workbook>
                """,
            "xl/_rels/workbook.xml.rels": """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/roster.xml"/></Relationships>
                """,
            "xl/sharedStrings.xml": """
                <sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2">
                <si><t>张三</t></si><si><r><rPr><b/></rPr><t>法治</t></r><r><t xml:space="preserve">带头人 </t></r><rPh sb="0" eb="2"><t>ふりがな</t></rPh></si></sst>
                """,
            "xl/styles.xml": """
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>
                """,
            "xl/worksheets/roster.xml": """
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
                <row r="2"><c r="B2" t="s"><v>1</v></c><c r="A2" t="s"><v>0</v></c><c r="C2" s="1"><v>44000</v></c><c r="D2" t="b"><v>1</v></c></row>
                </sheetData></worksheet>
                """,
        ])
        // Cells out of order land in their columns; 44,000 days after 1 January 1904.
        #expect(try XLSX.read(data) == [[], ["张三", "法治带头人 ", "2024-06-19", "TRUE"]])
    }

    @Test("Excel's serial dates in the 1900 system")
    func serialDates() {
        #expect(XLSX.date(serial: 25_569, date1904: false) == "1970-01-01")
        #expect(XLSX.date(serial: 46_086, date1904: false) == "2026-03-05")
        #expect(XLSX.date(serial: 46_081.99, date1904: false) == "2026-02-28")
        #expect(XLSX.date(serial: 0, date1904: false) == nil)
    }

    @Test("what is not a workbook is refused in words the uploader understands")
    func refusals() throws {
        #expect(!XLSX.isWorkbook(Data("licence_number,village_code\n".utf8)))
        #expect(throws: XLSX.ReadError.self) { try XLSX.read(Data("PK\u{3}\u{4}not really a zip".utf8)) }
        let noWorkbook = try workbook(parts: ["word/document.xml": "<document/>"])
        #expect(throws: XLSX.ReadError("文件不是 Excel（.xlsx）工作簿；旧版 .xls 请在 Excel 中另存为 .xlsx")) { try XLSX.read(noWorkbook) }
        let tooLong = try XLSX.write(sheet: "s", rows: (0..<12).map { [.text("r\($0)")] })
        #expect(throws: XLSX.ReadError("每次最多导入 10 行")) { try XLSX.read(tooLong, maxRows: 10) }
    }

    @Test("column letters and sheet names as Excel has them")
    func names() {
        #expect(XLSX.column(0) == "A")
        #expect(XLSX.column(25) == "Z")
        #expect(XLSX.column(26) == "AA")
        #expect(XLSX.column(701) == "ZZ")
        #expect(XLSX.columnIndex("AB12") == 27)
        #expect(XLSX.columnIndex("12") == nil)
        #expect(XLSX.sheetName("a/b:c[d]") == "abcd")
        #expect(XLSX.sheetName("") == "Sheet1")
    }

    /// Where the first central directory entry ("PK\u{1}\u{2}") starts.
    private func centralEntry(_ bytes: [UInt8]) -> Int? {
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        var i = 0
        while i + 4 <= bytes.count {
            if Array(bytes[i..<i + 4]) == signature { return i }
            i += 1
        }
        return nil
    }

    /// A sheet with the given sheetData, in a workbook otherwise as small as Excel allows.
    private func sheet(_ sheetData: String) throws -> Data {
        try workbook(parts: [
            "xl/workbook.xml": """
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
                <sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>
                """,
            "xl/_rels/workbook.xml.rels": """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>
                """,
            "xl/worksheets/sheet1.xml": """
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>\(sheetData)</sheetData></worksheet>
                """,
        ])
    }

    @Test("forged cell and row references are refused or skipped, never trap (each of these ended the server before)")
    func forgedReferences() throws {
        // 14 letters: the column arithmetic overflowed.
        #expect(XLSX.columnIndex("AAAAAAAAAAAAAA1") == XLSX.maxColumnIndex + 1)
        #expect(try XLSX.read(try sheet(#"<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c><c r="AAAAAAAAAAAAAA1" t="inlineStr"><is><t>y</t></is></c></row>"#)) == [["x"]])
        // Int.min as a row number: `rowNumber - 1` overflowed.
        #expect(throws: XLSX.ReadError.self) { try XLSX.read(try sheet(#"<row r="-9223372036854775808"><c r="A1"><v>1</v></c></row>"#)) }
        #expect(throws: XLSX.ReadError.self) { try XLSX.read(try sheet(#"<row r="0"><c r="A1"><v>1</v></c></row>"#)) }
        // A cell at Excel's last column makes no 16,000 empty cells to reach it.
        #expect(try XLSX.read(try sheet(#"<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>"#)) == [["1"]])
    }

    @Test("a zip whose directory lies (zip64 markers, sizes past the file) is refused before ZIPFoundation reads it")
    func forgedDirectory() throws {
        let good = try sheet(#"<row r="1"><c r="A1"><v>1</v></c></row>"#)
        #expect(try XLSX.read(good) == [["1"]])
        // Find the first central directory entry and make its sizes the zip64 marker, as a forged zip64 file would.
        var bytes = [UInt8](good)
        let central = try #require(centralEntry(bytes))
        for i in 0..<4 { bytes[central + 24 + i] = 0xFF }
        #expect(throws: XLSX.ReadError("文件不是有效的 Excel（.xlsx）工作簿")) { try XLSX.read(Data(bytes)) }
        // An offset of the local header past the directory.
        bytes = [UInt8](good)
        for i in 0..<4 { bytes[central + 42 + i] = 0x7F }
        #expect(throws: XLSX.ReadError("文件不是有效的 Excel（.xlsx）工作簿")) { try XLSX.read(Data(bytes)) }
        // Cut short: no end record.
        #expect(throws: XLSX.ReadError.self) { try XLSX.read(Data(good.prefix(good.count - 10))) }
    }

    @Test("an entry that inflates past the cap is refused by the bytes it produces, whatever it declares")
    func inflationCap() throws {
        // 70 MB of one repeated byte deflates to a few tens of kilobytes.
        let huge = String(repeating: "A", count: 70 << 20)
        let data = try workbook(parts: ["xl/workbook.xml": huge])
        #expect(throws: XLSX.ReadError("工作簿过大，请拆分后分批导入")) { try XLSX.read(data) }
        // The same entry declaring 1,000 bytes in both its headers: refused all the same, by what it inflates to.
        var bytes = [UInt8](data)
        func patch(_ at: Int) { bytes[at] = 0xE8; bytes[at + 1] = 0x03; bytes[at + 2] = 0; bytes[at + 3] = 0 }
        patch(22)
        let central = try #require(centralEntry(bytes))
        patch(central + 24)
        #expect(throws: XLSX.ReadError.self) { try XLSX.read(Data(bytes)) }
    }

    @Test("CSV cells a spreadsheet would run as formulas are written as text")
    func formulaCells() {
        let text = CSVTable.encode([["=HYPERLINK(\"http://x\",\"点我\")", "+1+2", "@SUM(A1)", "-2+3", "-1.5", "12", "\tx", "正常"]])
        let row = CSVTable.parse(text)[0]
        #expect(row == ["'=HYPERLINK(\"http://x\",\"点我\")", "'+1+2", "'@SUM(A1)", "'-2+3", "-1.5", "12", "'\tx", "正常"])
    }

    /// A zip of the given parts, as another program would write it.
    private func workbook(parts: [String: String]) throws -> Data {
        let archive = try Archive(accessMode: .create)
        for (path, xml) in parts.sorted(by: { $0.key < $1.key }) {
            let data = Data(xml.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return archive.data!
    }
}
