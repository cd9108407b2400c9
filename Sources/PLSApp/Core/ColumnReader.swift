import Foundation
import SQLKit
import SQLiteKit
import PostgresKit
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
    func optionalDate(_ column: String) throws -> Date?
    func int(_ column: String) throws -> Int
    func optionalInt(_ column: String) throws -> Int?
    func int64(_ column: String) throws -> Int64
    func optionalBool(_ column: String) throws -> Bool?
}

enum ColumnRows {
    /// The rows of `query`, each read by `read`.
    static func all<T>(_ query: SQLQueryString, on db: any SQLDatabase, _ read: (any ColumnReader) throws -> T) async throws -> [T] {
        guard let sqlite = db as? any SQLiteDatabase else {
            if let pg = db as? any PostgresDatabase, let rows = try await postgresRows(query, on: db, pg) {
                return try rows.map { try read(PostgresColumns(row: $0)) }
            }
            return try await db.raw(query).all().map { try read(DecodedColumns(row: $0)) }
        }
        var serializer = SQLSerializer(database: db)
        query.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        let binds = try serializer.binds.map { try encoder.encode($0) }
        return try await sqlite.query(serializer.sql, binds).map { try read(SQLiteColumns(row: $0)) }
    }

    /// PostgreSQL: the rows as PostgresNIO returns them, for reading cell by cell (measured at a million requests: the
    /// Codable path was most of `pls`'s time on the filtered list, and 120 ms of the committee-composition indicator).
    /// Nil when a bind is of a type this does not encode as SQLKit would: the query then takes SQLKit's path.
    private static func postgresRows(_ query: SQLQueryString, on db: any SQLDatabase, _ pg: any PostgresDatabase) async throws -> [PostgresRow]? {
        var serializer = SQLSerializer(database: db)
        query.serialize(to: &serializer)
        var bindings = PostgresBindings(capacity: serializer.binds.count)
        for bind in serializer.binds {
            guard PostgresBind.append(bind, to: &bindings) else { return nil }
        }
        let sql = serializer.sql, logger = db.logger
        return try await pg.withConnection { connection in
            connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).map(\.rows)
        }.get()
    }
}

/// A bind encoded as SQLKit's PostgreSQL driver encodes it (the same PostgreSQL types), for the types our queries bind.
enum PostgresBind {
    /// False for a type not handled here.
    static func append(_ value: any Encodable & Sendable, to bindings: inout PostgresBindings) -> Bool {
        switch value {
        case let v as String: bindings.append(v)
        case let v as Int: bindings.append(v)
        case let v as Int64: bindings.append(v)
        case let v as Int32: bindings.append(v)
        case let v as Bool: bindings.append(v)
        case let v as UUID: bindings.append(v)
        case let v as Date: bindings.append(v)
        case let v as Double: bindings.append(v)
        default: return false  // a nil (its type matters to PostgreSQL), an array, JSON…: SQLKit's path
        }
        return true
    }
}

/// A PostgreSQL row read cell by cell through PostgresNIO's own decoding; a cell that does not decode as asked (a
/// numeric sum read as an integer) is read through SQLKit's Codable path instead, so answers are as before.
struct PostgresColumns: ColumnReader {
    let row: PostgresRow
    let cells: PostgresRandomAccessRow

    init(row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    private var decoded: DecodedColumns { DecodedColumns(row: row.sql()) }

    private func cell(_ column: String) throws -> PostgresCell {
        // The subscript stops the process for a missing column: asked first.
        guard cells.contains(column) else {
            throw DecodingError.valueNotFound(String.self, .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        return cells[column]
    }

    private func value<V: PostgresDecodable>(_ column: String, _ type: V.Type, else fallback: (DecodedColumns) throws -> V) throws -> V {
        let c = try cell(column)
        if let v = try? c.decode(V.self) { return v }
        return try fallback(decoded)
    }

    func text(_ column: String) throws -> String { try value(column, String.self) { try $0.text(column) } }
    func optionalText(_ column: String) throws -> String? { try value(column, String?.self) { try $0.optionalText(column) } }
    func uuid(_ column: String) throws -> UUID { try value(column, UUID.self) { try $0.uuid(column) } }
    func optionalUUID(_ column: String) throws -> UUID? { try value(column, UUID?.self) { try $0.optionalUUID(column) } }
    func date(_ column: String) throws -> Date { try value(column, Date.self) { try $0.date(column) } }
    func optionalDate(_ column: String) throws -> Date? { try value(column, Date?.self) { try $0.optionalDate(column) } }
    func int(_ column: String) throws -> Int { try value(column, Int.self) { try $0.int(column) } }
    func optionalInt(_ column: String) throws -> Int? { try value(column, Int?.self) { try $0.optionalInt(column) } }
    func int64(_ column: String) throws -> Int64 { try value(column, Int64.self) { try $0.int64(column) } }
    func optionalBool(_ column: String) throws -> Bool? { try value(column, Bool?.self) { try $0.optionalBool(column) } }
}

struct DecodedColumns: ColumnReader {
    let row: any SQLRow
    func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
    func optionalText(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
    func uuid(_ column: String) throws -> UUID { try row.decode(column: column, as: UUID.self) }
    func optionalUUID(_ column: String) throws -> UUID? { try row.decode(column: column, as: UUID?.self) }
    func date(_ column: String) throws -> Date { try row.decode(column: column, as: Date.self) }
    func optionalDate(_ column: String) throws -> Date? { try row.decode(column: column, as: Date?.self) }
    func int(_ column: String) throws -> Int { try row.decode(column: column, as: Int.self) }
    func optionalInt(_ column: String) throws -> Int? { try row.decode(column: column, as: Int?.self) }
    func int64(_ column: String) throws -> Int64 { try row.decode(column: column, as: Int64.self) }
    func optionalBool(_ column: String) throws -> Bool? { try row.decode(column: column, as: Bool?.self) }
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
    func optionalDate(_ column: String) throws -> Date? {
        let v = try value(column)
        if case .null = v { return nil }
        guard let d = Date(sqliteData: v) else { throw mismatch(Date.self, column) }
        return d
    }
    func int(_ column: String) throws -> Int { Int(try int64(column)) }
    func optionalInt(_ column: String) throws -> Int? {
        switch try value(column) {
        case .null: return nil
        case .integer(let i): return Int(i)
        default: throw mismatch(Int.self, column)
        }
    }
    func int64(_ column: String) throws -> Int64 {
        guard case .integer(let i) = try value(column) else { throw mismatch(Int64.self, column) }
        return Int64(i)
    }
    /// SQLite keeps a Bool as 0 or 1.
    func optionalBool(_ column: String) throws -> Bool? { try optionalInt(column).map { $0 != 0 } }
}
