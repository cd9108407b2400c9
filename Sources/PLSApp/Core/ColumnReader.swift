import Foundation
import SQLKit
import SQLiteKit
import PostgresKit
import Crypto
import NIOConcurrencyHelpers
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
    ///
    /// `prepared`: on PostgreSQL, the statement is prepared once per connection and reused by name, so PostgreSQL
    /// parses it once and, from the sixth run when its generic plan looks no costlier, plans it once. Only for busy
    /// lookups whose generic plan is right whatever the binds (by key; not a `LIKE` prefix, which a generic plan cannot
    /// take from an index), and only when their text comes from a bounded set of shapes: no literal that varies.
    /// `ofManyTexts`: the shapes are bounded but many (the list's filters, scopes and pages): prepared only while the
    /// process holds fewer than half of `PreparedText.limit`, so that they never crowd out the lookups'.
    static func all<T>(_ query: SQLQueryString, on db: any SQLDatabase, prepared: Bool = false, ofManyTexts: Bool = false,
                       _ read: (any ColumnReader) throws -> T) async throws -> [T] {
        guard let sqlite = db as? any SQLiteDatabase else {
            let prepared = prepared ? PreparedText.Budget(ofManyTexts: ofManyTexts) : nil
            if let pg = db as? any PostgresDatabase, let rows = try await postgresRows(query, on: db, pg, prepared: prepared) {
                return try rows.map { try read(PostgresColumns(row: $0)) }
            }
            if let reads = db as? FallbackReads, let rows = try await reads.postgresRows({ try await postgresRows(query, on: $0, $1, prepared: prepared) }) {
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
    fileprivate static func postgresRows(_ query: SQLQueryString, on db: any SQLDatabase, _ pg: any PostgresDatabase,
                                         prepared: PreparedText.Budget?) async throws -> [PostgresRow]? {
        var serializer = SQLSerializer(database: db)
        query.serialize(to: &serializer)
        var binds = PostgresBindings(capacity: serializer.binds.count)
        var types: [PostgresDataType] = []
        types.reserveCapacity(serializer.binds.count)
        for bind in serializer.binds {
            guard let type = PostgresBind.append(bind, to: &binds) else { return nil }
            types.append(type)
        }
        let sql = serializer.sql, logger = db.logger, bindings = binds
        if let prepared, let statement = PreparedText.Statement(sql: sql, types: types, budget: prepared) {
            do {
                return try await pg.withConnection { connection in
                    connection.eventLoop.makeFutureWithTask { try await PreparedText.rows(statement, bindings, on: connection, logger: logger) }
                }.get()
            } catch let error as PSQLError where error.code == .server {
                // PostgreSQL refused it: "cached plan must not change result type" (0A000) when a migration run by another
                // process changed the table under it, or a preparation that failed (a lock timeout, a cancel) and that
                // PostgresNIO then answers with the same error on that connection for as long as it lives. From now on
                // this statement goes unprepared (a little slower, never wrong); this time it is run unprepared, and an
                // error of the query itself comes back from there.
                PreparedText.retire(statement.name)
                logger.notice("prepared statement \(statement.name) failed (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?")); it runs unprepared from now on")
            }
        }
        return try await pg.withConnection { connection in
            connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).map(\.rows)
        }.get()
    }
}

/// Runs SQL text built at run time as a named prepared statement through PostgresNIO, which prepares a statement once
/// per connection, remembers it by name, and holds back concurrent first uses until it is prepared. Its API names a
/// statement by type (static `name` and `sql` of a `PostgresPreparedStatement`); the type here reads them from a task
/// local bound only around `execute`, which reads them before it first suspends.
enum PreparedText {
    struct Statement: Sendable {
        var name: String
        var sql: String
        var types: [PostgresDataType]

        /// Nil once `limit` different statements have been prepared in this process: each stays in every connection's
        /// memory, on both sides, for as long as the connection lives, so a caller that builds unbounded shapes
        /// (a mistake) falls back to unnamed statements instead of growing them without end.
        init?(sql: String, types: [PostgresDataType], budget: Budget = Budget()) {
            var digest = SHA256()
            digest.update(data: Array(sql.utf8))
            for t in types { withUnsafeBytes(of: t.rawValue.bigEndian) { digest.update(bufferPointer: $0) } }
            let name = "pls_" + Hex.encode(digest.finalize()).prefix(40)
            guard PreparedText.known.withLockedValue({ known in
                if let retired = known[name] { return !retired }
                guard budget.admits(known.count) else { return false }
                known[name] = false
                return true
            }) else { return nil }
            self.name = name
            self.sql = sql
            self.types = types
        }
    }

    static let limit = 512

    /// How many statements a process may hold when a new one is to be prepared.
    struct Budget: Sendable {
        var ofManyTexts = false
        func admits(_ held: Int) -> Bool { held < (ofManyTexts ? PreparedText.limit / 2 : PreparedText.limit) }
    }
    /// The statements prepared so far, by name: true once retired.
    private static let known = NIOLockedValueBox<[String: Bool]>([:])

    static func retire(_ name: String) { known.withLockedValue { $0[name] = true } }

    /// Whether PostgreSQL refused what a statement wrote (a key taken: class 23) or the transaction it ran in (a deadlock,
    /// a serialization failure: class 40), not the statement itself.
    static func refusedItsValues(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("23") || state.hasPrefix("40")
    }
    @TaskLocal fileprivate static var current = Statement?.none

    /// PostgresNIO's statement type for SQL text; only meaningful inside `rows`.
    private struct Prepared: PostgresPreparedStatement {
        static var name: String { PreparedText.current?.name ?? "" }
        static var sql: String { PreparedText.current?.sql ?? "" }
        static var bindingDataTypes: [PostgresDataType] { PreparedText.current?.types ?? [] }
        typealias Row = PostgresRow
        let bindings: PostgresBindings
        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
    }

    static func rows(_ statement: Statement, _ bindings: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        try await $current.withValue(statement) {
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(Prepared(bindings: bindings), logger: logger) { rows.append(row) }
            return rows
        }
    }
}

/// A bind encoded as SQLKit's PostgreSQL driver encodes it (the same PostgreSQL types), for the types our queries bind.
enum PostgresBind {
    /// The PostgreSQL type the value was sent as; nil for a type not handled here.
    static func append(_ value: any Encodable & Sendable, to bindings: inout PostgresBindings) -> PostgresDataType? {
        func add<V: PostgresNonThrowingEncodable>(_ v: V) -> PostgresDataType {
            bindings.append(v)
            return V.psqlType
        }
        switch value {
        case let v as String: return add(v)
        case let v as Int: return add(v)
        case let v as Int64: return add(v)
        case let v as Int32: return add(v)
        case let v as Bool: return add(v)
        case let v as UUID: return add(v)
        case let v as Date: return add(v)
        case let v as Double: return add(v)
        default: return nil  // a nil (its type matters to PostgreSQL), an array, JSON…: SQLKit's path
        }
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
