import Foundation
import SQLKit
import SQLiteNIO

/// One value of a generated row. On SQLite it is handed to SQLiteNIO as it is (no Codable encoding, no SQL
/// builder: measured, those were a third of the generator's time); on PostgreSQL it is an ordinary bind.
enum BulkCell: Sendable {
    case text(String), integer(Int64), real(Double), uuid(UUID), null

    init<T: CellConvertible>(_ value: T?) { self = value?.cell ?? .null }

    var sqliteData: SQLiteData {
        switch self {
        case .text(let v): .text(v)
        case .integer(let v): .integer(Int(v))
        case .real(let v): .float(v)
        case .uuid(let v): .text(v.uuidString)  // as SQLiteKit encodes a UUID (through Codable)
        case .null: .null
        }
    }

    var bind: any Encodable & Sendable {
        switch self {
        case .text(let v): v
        case .integer(let v): v
        case .real(let v): v
        case .uuid(let v): v
        case .null: String?.none
        }
    }
}

protocol CellConvertible { var cell: BulkCell { get } }
extension String: CellConvertible { var cell: BulkCell { .text(self) } }
extension Int: CellConvertible { var cell: BulkCell { .integer(Int64(self)) } }
extension Int64: CellConvertible { var cell: BulkCell { .integer(self) } }
extension Bool: CellConvertible { var cell: BulkCell { .integer(self ? 1 : 0) } }
extension UUID: CellConvertible { var cell: BulkCell { .uuid(self) } }
/// As SQLiteNIO stores a date: seconds since 1970.
extension Date: CellConvertible { var cell: BulkCell { .real(timeIntervalSince1970) } }

enum BulkRows {
    /// Inserts `rows` into `table` in one statement.
    static func insert(_ table: String, _ columns: [String], _ rows: ArraySlice<[BulkCell]>, on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        if let sqlite = db as? any SQLiteDatabase {
            let one = "(" + repeatElement("?", count: columns.count).joined(separator: ", ") + ")"
            let text = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + repeatElement(one, count: rows.count).joined(separator: ", ")
            var binds: [SQLiteData] = []
            binds.reserveCapacity(rows.count * columns.count)
            for row in rows { for cell in row { binds.append(cell.sqliteData) } }
            _ = try await sqlite.query(text, binds)
        } else {
            var insert = db.insert(into: table).columns(columns)
            for row in rows { insert = insert.values(row.map { SQLBind($0.bind) }) }
            try await insert.run()
        }
    }
}
