import Vapor
import Spreadsheets

/// Spreadsheets people upload and download: CSV in UTF-8 or an Excel workbook, one column layout for both.
enum SheetFile {
    /// The largest spreadsheet an import takes (a roster or a year of service records is far smaller).
    static let uploadLimit = 5 * 1024 * 1024
    enum Format: String, Sendable {
        case csv, xlsx
        var fileExtension: String { rawValue }
    }

    /// An import's largest number of rows (after the header).
    static let rowLimit = 20_000

    /// The rows of an uploaded file: an Excel workbook by its zip signature, otherwise CSV that must be UTF-8
    /// (a GBK file from an old Excel would otherwise import garbled). A workbook's short rows are padded to
    /// `width`, because Excel leaves empty trailing cells out.
    static func rows(_ data: ByteBuffer?, width: Int) throws -> [[String]] {
        guard let data, data.readableBytes > 0 else { throw AppError.validation(["file": "请上传 CSV（UTF-8）或 Excel（.xlsx）文件"]) }
        if XLSX.isWorkbook(data.readableBytesView) {
            do {
                return try XLSX.read(Data(data.readableBytesView), maxRows: rowLimit + 1).map { row in
                    var row = row
                    while row.count > width, row.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { row.removeLast() }
                    if !row.isEmpty, row.count < width { row += Array(repeating: "", count: width - row.count) }
                    return row
                }
            } catch let e as XLSX.ReadError {
                throw AppError.validation(["file": e.message])
            }
        }
        guard let text = String(bytes: data.readableBytesView, encoding: .utf8) else {
            throw AppError.validation(["file": "文件既不是 Excel（.xlsx）也不是 UTF-8 编码的 CSV；请在 Excel 中“另存为 CSV UTF-8”或 .xlsx 后再导入"])
        }
        return CSVTable.parse(text, keepBlank: true)
    }

    /// The records of an uploaded sheet with the line number of the first, its header row (named by the first
    /// column) dropped; an empty file or one too large is refused whole.
    static func records(_ data: ByteBuffer?, columns: [String]) throws -> (rows: [[String]], firstLine: Int) {
        var rows = try rows(data, width: columns.count)
        guard rows.contains(where: { !CSVTable.isBlank($0) }) else { throw AppError.validation(["file": "文件为空"]) }
        var firstLine = 1
        if rows[0].first?.trimmingCharacters(in: .whitespaces).lowercased() == columns[0] { rows.removeFirst(); firstLine = 2 }
        if rows.count > rowLimit { throw AppError.validation(["file": "每次最多导入 \(rowLimit) 行"]) }
        return (rows, firstLine)
    }

    /// A download of the header and rows: CSV with a byte-order mark (so Excel reads the Chinese as UTF-8),
    /// or a workbook whose `numeric` columns hold numbers Excel can add up.
    static func response(_ rows: [[String]], numeric: Set<Int> = [], name: String, format: Format) throws -> Response {
        let res: Response
        switch format {
        case .csv:
            res = Response(status: .ok, body: .init(string: CSVTable.encode(rows)))
            res.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        case .xlsx:
            let cells: [[XLSX.Cell]] = rows.enumerated().map { r, row in
                row.enumerated().map { c, text in
                    if r > 0, numeric.contains(c), let n = Double(text) { return .number(n) }
                    return .text(text)
                }
            }
            res = Response(status: .ok, body: .init(data: try XLSX.write(sheet: name, rows: cells)))
            res.headers.replaceOrAdd(name: .contentType, value: XLSX.contentType)
        }
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name).\(format.fileExtension)\"")
        return res
    }
}
