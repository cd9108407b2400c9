import Foundation
import SQLKit
import SQLiteKit
import PLSDomain

/// The columns of one result row, read by name. On SQLite the values are taken as SQLite returned them;
/// elsewhere through SQLKit's `Decodable` decoding, which on the busiest list was an eighth of its CPU
/// (generic metadata lookups and dynamic casts for every cell, and `sscanf` for every UUID).
protocol ColumnReader {
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func uuid(_ column: String) throws -> UUID
    func optionalUUID(_ column: String) throws -> UUID?
    func date(_ column: String) throws -> Date
}

enum ColumnRows {
    /// The rows of `query`, each read by `read`.
    static func all<T>(_ query: SQLQueryString, on db: any SQLDatabase, _ read: (any ColumnReader) throws -> T) async throws -> [T] {
        guard let sqlite = db as? any SQLiteDatabase else {
            return try await db.raw(query).all().map { try read(DecodedColumns(row: $0)) }
        }
        var serializer = SQLSerializer(database: db)
        query.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        let binds = try serializer.binds.map { try encoder.encode($0) }
        return try await sqlite.query(serializer.sql, binds).map { try read(SQLiteColumns(row: $0)) }
    }
}

struct DecodedColumns: ColumnReader {
    let row: any SQLRow
    func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
    func optionalText(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
    func uuid(_ column: String) throws -> UUID { try row.decode(column: column, as: UUID.self) }
    func optionalUUID(_ column: String) throws -> UUID? { try row.decode(column: column, as: UUID?.self) }
    func date(_ column: String) throws -> Date { try row.decode(column: column, as: Date.self) }
}

private struct SQLiteColumns: ColumnReader {
    let row: SQLiteRow

    private func value(_ column: String) throws -> SQLiteData {
        guard let v = row.column(column) else { throw DecodingError.valueNotFound(String.self, .init(codingPath: [], debugDescription: "no column \(column)")) }
        return v
    }
    private func mismatch<T>(_ type: T.Type, _ column: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: [], debugDescription: "column \(column) is not \(type)"))
    }

    func text(_ column: String) throws -> String {
        guard case .text(let s) = try value(column) else { throw mismatch(String.self, column) }
        return s
    }
    func optionalText(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let s): return s
        default: throw mismatch(String.self, column)
        }
    }
    func uuid(_ column: String) throws -> UUID {
        guard let id = try optionalUUID(column) else { throw mismatch(UUID.self, column) }
        return id
    }
    func optionalUUID(_ column: String) throws -> UUID? {
        switch try value(column) {
        case .null: return nil
        case .text(let s):
            guard let id = UUIDText.parse(s) else { throw mismatch(UUID.self, column) }
            return id
        default: throw mismatch(UUID.self, column)
        }
    }
    func date(_ column: String) throws -> Date {
        guard let d = Date(sqliteData: try value(column)) else { throw mismatch(Date.self, column) }
        return d
    }
}
