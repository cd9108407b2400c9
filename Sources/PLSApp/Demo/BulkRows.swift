import Foundation
import SQLKit
import SQLiteNIO

/// One value of a generated row. On SQLite it is handed to SQLiteNIO as it is (no Codable encoding, no SQL
/// builder: measured, about a quarter of the generator's time); on PostgreSQL it is an ordinary bind.
enum BulkCell: Sendable {
    case text(String), integer(Int64), real(Double), bool(Bool), date(Date), uuid(UUID)
    /// A missing value, as the typed nil PostgreSQL needs (a text null does not go into a uuid column).
    case null(any Encodable & Sendable)

    init<T: BulkCellConvertible & Encodable & Sendable>(_ value: T?) { self = value?.bulkCell ?? .null(T?.none) }

    var sqliteData: SQLiteData {
        switch self {
        case .text(let v): .text(v)
        case .integer(let v): .integer(Int(v))
        case .real(let v): .float(v)
        case .bool(let v): .integer(v ? 1 : 0)
        case .date(let v): .float(v.timeIntervalSince1970)  // as SQLiteNIO stores a date
        case .uuid(let v): .text(v.uuidString)  // as SQLiteKit encodes a UUID (through Codable)
        case .null: .null
        }
    }

    var bind: any Encodable & Sendable {
        switch self {
        case .text(let v): v
        case .integer(let v): v
        case .real(let v): v
        case .bool(let v): v
        case .date(let v): v
        case .uuid(let v): v
        case .null(let typed): typed
        }
    }
}

protocol BulkCellConvertible { var bulkCell: BulkCell { get } }
extension String: BulkCellConvertible { var bulkCell: BulkCell { .text(self) } }
extension Int: BulkCellConvertible { var bulkCell: BulkCell { .integer(Int64(self)) } }
extension Int64: BulkCellConvertible { var bulkCell: BulkCell { .integer(self) } }
extension Bool: BulkCellConvertible { var bulkCell: BulkCell { .bool(self) } }
extension UUID: BulkCellConvertible { var bulkCell: BulkCell { .uuid(self) } }
extension Date: BulkCellConvertible { var bulkCell: BulkCell { .date(self) } }

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
