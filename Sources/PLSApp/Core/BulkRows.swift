import Foundation
import SQLKit
import SQLiteNIO
import FluentKit
import PLSDomain

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
        case .uuid(let v): .text(UUIDText.string(v))  // as SQLiteKit encodes a UUID (through Codable), upper case
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

/// The secondary indexes and triggers of the tables a bulk load fills, set aside while it runs (SQLite only).
/// Measured at a million requests: the load took 279 s with the indexes and triggers in place, and 151 s without
/// them plus 55 s to build them afterwards (each index one sort) and sum the counts and figures once from the rows.
struct DeferredSchema {
    /// The `CREATE INDEX` and `CREATE TRIGGER` statements as the database stored them.
    private(set) var statements: [String] = []

    static func setAside(_ tables: [String], on database: any Database) async throws -> DeferredSchema {
        let db = database as! any SQLDatabase
        guard db.dialect.name == "sqlite" else { return DeferredSchema() }
        struct Entry: Decodable { var type: String; var name: String; var sql: String }
        let entries = try await db.raw("""
            SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN (\(binds: tables))
            ORDER BY type, name
            """).all(decoding: Entry.self)
        try await database.atomic { tx in
            for e in entries {
                let drop = "DROP \(e.type == "index" ? "INDEX" : "TRIGGER") \"\(e.name)\""
                try await (tx as! any SQLDatabase).raw(SQLQueryString(drop)).run()
            }
        }
        return DeferredSchema(statements: entries.map(\.sql))
    }

    /// Builds the indexes and triggers again and recounts what the triggers would have kept.
    func restore(on database: any Database) async throws {
        guard !statements.isEmpty else { return }
        try await database.atomic { database in
            let tx = database as! any SQLDatabase
            // Sorting for an index may use a second thread, and a page cache that holds it.
            try await tx.raw("PRAGMA threads = 2").run()
            try await tx.raw("PRAGMA cache_size = -1048576").run()
            for statement in statements { try await tx.raw(SQLQueryString(statement)).run() }
            try await RequestCounts.refill(on: tx)
            try await RunningFigure.refill(on: tx)
        }
    }
}
