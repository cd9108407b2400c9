import Foundation
import SQLKit
import SQLiteNIO
import PostgresNIO
import FluentKit
import PLSDomain

/// One value of a generated row. On SQLite it is handed to SQLiteNIO as it is (no Codable encoding, no SQL
/// builder: measured, about a quarter of the generator's time); on PostgreSQL it is an ordinary bind.
enum BulkCell: Sendable {
    case text(String), integer(Int64), real(Double), bool(Bool), date(Date), uuid(UUID)
    /// A missing value, with the Swift type it stands for (SQLKit's binds take it as an optional of that type).
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

extension BulkCell {
    /// The value in `COPY … FROM STDIN`'s text format: `\N` for null, text with its backslashes, tabs and line
    /// breaks escaped, a moment as PostgreSQL prints a `timestamptz` in UTC.
    func writeCopyText(into buffer: inout ByteBuffer) {
        switch self {
        case .text(let v):
            guard v.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { buffer.writeString(v); return }
            for byte in v.utf8 {
                switch byte {
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        case .integer(let v): buffer.writeString(String(v))
        case .real(let v): buffer.writeString(v.isFinite ? String(v) : "NaN")
        case .bool(let v): buffer.writeStaticString(v ? "t" : "f")
        case .date(let v):
            let micros = Int64((v.timeIntervalSince1970 * 1_000_000).rounded())
            let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            let day = CivilDate(dayNumber: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400))
            let inDay = Int(seconds - Int64(day.dayNumber) * 86_400)
            let fraction = Int(micros - seconds * 1_000_000)
            buffer.writeString(day.description + " " + CivilDate.pad(inDay / 3600, 2) + ":" + CivilDate.pad(inDay / 60 % 60, 2) + ":"
                               + CivilDate.pad(inDay % 60, 2) + "." + CivilDate.pad(fraction, 6) + "+00")
        case .uuid(let v): buffer.writeString(v.uuidString)
        case .null: buffer.writeStaticString("\\N")
        }
    }
}

extension BulkCell {
    /// The value as a PostgreSQL bind, encoded by PostgresNIO itself; a null goes with no type, so that PostgreSQL takes
    /// the column's (an insert's only use of it).
    func append(to bindings: inout PostgresBindings) {
        switch self {
        case .text(let v): bindings.append(v)
        case .integer(let v): bindings.append(v)
        case .real(let v): bindings.append(v)
        case .bool(let v): bindings.append(v)
        case .date(let v): bindings.append(v)
        case .uuid(let v): bindings.append(v)
        case .null: bindings.appendNull()
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

    /// A multi-row insert as PostgresNIO runs it: its text, its values appended to `bindings` from the cells directly
    /// (numbered after those already there). Through SQLKit's builder, with each bind encoded through Codable, a ledger
    /// batch's inserts cost `pls` more than PostgreSQL.
    fileprivate static func postgresInsertText(_ table: String, _ columns: [String], _ rows: ArraySlice<[BulkCell]>,
                                               into bindings: inout PostgresBindings) -> String {
        var sql = "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES "
        var n = bindings.count
        for (i, row) in rows.enumerated() {
            sql += i == 0 ? "(" : ", ("
            for (j, cell) in row.enumerated() {
                n += 1
                sql += (j == 0 ? "$" : ", $") + String(n)
                cell.append(to: &bindings)
            }
            sql += ")"
        }
        return sql
    }

    /// Loads `rows` into `table` with `COPY … FROM STDIN` on PostgreSQL (measured at a million requests: the generator's
    /// multi-row inserts kept one PostgreSQL backend busy parsing and binding; see README, Speed); elsewhere `insert`.
    static func copy(_ table: String, _ columns: [String], _ rows: ArraySlice<[BulkCell]>, on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        guard let pg = db as? any PostgresDatabase else {
            for start in stride(from: rows.startIndex, to: rows.endIndex, by: 400) {
                try await insert(table, columns, rows[start..<min(start + 400, rows.endIndex)], on: db)
            }
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: rows.count * columns.count * 16)
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                cell.writeCopyText(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        let data = buffer, logger = db.logger
        try await pg.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(data) }
            }
        }.get()
    }
}

/// The secondary indexes and triggers of the tables a bulk load fills, set aside while it runs.
/// Measured at a million requests: the load took 279 s with the indexes and triggers in place, and 151 s without
/// them plus 55 s to build them afterwards (each index one sort) and sum the counts and figures once from the rows.
struct DeferredSchema {
    /// The `CREATE INDEX` and `CREATE TRIGGER` statements as the database stored them.
    private(set) var statements: [String] = []

    static func setAside(_ tables: [String], on database: any Database) async throws -> DeferredSchema {
        let db = database as! any SQLDatabase
        guard db.dialect.name == "sqlite" else { return try await setAsidePostgres(tables, on: database) }
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

    /// PostgreSQL: the indexes that back no constraint (keys stay: they check what is loaded) and the row triggers that
    /// keep counts and figures, as `pg_get_indexdef`/`pg_get_triggerdef` print them.
    private static func setAsidePostgres(_ tables: [String], on database: any Database) async throws -> DeferredSchema {
        let db = database as! any SQLDatabase
        struct Entry: Decodable { var drop: String; var create: String }
        let entries = try await db.raw("""
            SELECT 'DROP INDEX ' || quote_ident(i.relname) AS drop, pg_get_indexdef(i.oid) AS create
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname IN (\(binds: tables)) AND t.relnamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            UNION ALL
            SELECT 'DROP TRIGGER ' || quote_ident(g.tgname) || ' ON ' || quote_ident(t.relname), pg_get_triggerdef(g.oid)
            FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
            WHERE NOT g.tgisinternal AND t.relname IN (\(binds: tables)) AND t.relnamespace = current_schema()::regnamespace
            """).all(decoding: Entry.self)
        try await database.atomic { tx in
            for e in entries { try await (tx as! any SQLDatabase).raw(SQLQueryString(e.drop)).run() }
        }
        return DeferredSchema(statements: entries.map(\.create))
    }

    /// Builds the indexes and triggers again and recounts what the triggers would have kept.
    func restore(on database: any Database) async throws {
        guard !statements.isEmpty else { return }
        try await database.atomic { database in
            let tx = database as! any SQLDatabase
            if tx.dialect.name == "sqlite" {
                // Sorting for an index may use a second thread, and a page cache that holds it.
                try await tx.raw("PRAGMA threads = 2").run()
                try await tx.raw("PRAGMA cache_size = -1048576").run()
            } else {
                try await tx.raw("SET LOCAL maintenance_work_mem = '512MB'").run()
            }
            for statement in statements { try await tx.raw(SQLQueryString(statement)).run() }
            try await RequestCounts.refill(on: tx)
            try await RunningFigure.refill(on: tx)
        }
    }
}

/// Several inserts, and one last statement, sent to PostgreSQL as one statement (each insert a data-modifying `WITH`):
/// one round trip, one parse, where each would be a round trip of its own that the ledger's batch waits for. PostgreSQL
/// runs the parts together on one snapshot and checks foreign keys at the statement's end, so a row may refer to one
/// inserted by another part; nothing here reads what another part writes.
///
/// Each insert sends one array per column (`unnest`), so the statement's text is the same however many rows a batch
/// holds, and it is prepared once (`PreparedText`): measured at a million requests, the multi-row `VALUES` of a batch of
/// fifteen intakes (some 850 binds) cost PostgreSQL 0.6 ms to parse and 2.9 ms to plan, every batch. A column whose
/// cells are of more than one kind (none of ours) is sent as `VALUES`, and the statement is then not prepared.
struct PostgresCombinedWrite {
    /// PostgreSQL's protocol numbers binds with 16 bits.
    static let maxBinds = 65_535
    private var parts: [String] = []
    private var bindings = PostgresBindings()
    private var types: [PostgresDataType] = []
    /// Whether the text depends only on the tables and columns written (every insert as arrays).
    private var sameForAnyRows = true

    var isEmpty: Bool { parts.isEmpty }

    /// Whether `binds` more still fit in the statement (counted as `VALUES` would need them).
    func fits(_ binds: Int) -> Bool { bindings.count + binds <= Self.maxBinds }

    /// `suffix`: what follows the rows (`ON CONFLICT …`).
    mutating func insert(_ table: String, _ columns: [String], _ rows: ArraySlice<[BulkCell]>, suffix: String = "") {
        guard !rows.isEmpty else { return }
        let kinds = columns.indices.map { column in BulkCell.ArrayKind(of: rows.lazy.map { $0.indices.contains(column) ? $0[column] : nil }) }
        guard kinds.allSatisfy({ $0 != nil }) else {
            sameForAnyRows = false  // its types are then not needed
            parts.append(BulkRows.postgresInsertText(table, columns, rows, into: &bindings) + suffix)
            return
        }
        var arrays: [String] = []
        for (column, kind) in kinds.enumerated() {
            let kind = kind!
            bindings.append(BulkCell.PostgresArray(kind: kind, cells: rows.map { $0[column] }))
            types.append(kind.arrayType)
            arrays.append("$" + String(bindings.count) + "::" + kind.sqlName + "[]")
        }
        parts.append("INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ") SELECT * FROM unnest("
                     + arrays.joined(separator: ", ") + ")" + suffix)
    }

    /// A bind for the last statement's text, as `$n`.
    mutating func bind(_ cell: BulkCell) -> String {
        cell.append(to: &bindings)
        types.append(cell.postgresType)
        return "$" + String(bindings.count)
    }

    /// The statement: the inserts, then `last` (the statement whose rows are answered; `SELECT 1` when nothing is left).
    func query(last: String = "SELECT 1") -> (query: PostgresQuery, prepared: PreparedText.Statement?) {
        let with = parts.enumerated().map { "w\($0.offset) AS (\($0.element))" }.joined(separator: ", ")
        let sql = parts.isEmpty ? last : "WITH " + with + " " + last
        return (PostgresQuery(unsafeSQL: sql, binds: bindings), sameForAnyRows ? PreparedText.Statement(sql: sql, types: types) : nil)
    }
}

extension BulkCell {
    /// The PostgreSQL type a statement declares for the cell (`append(to:)`); a null as the type of the Swift value it
    /// stands for, if known here, else as none, for PostgreSQL to take the column's.
    var postgresType: PostgresDataType { ArrayKind(of: CollectionOfOne(Optional(self)))?.elementType ?? .null }

    /// The kind of a column's cells sent as one PostgreSQL array.
    enum ArrayKind: Equatable {
        case text, integer, real, bool, date, uuid

        /// The kind of every cell of a column: nil if they are of more than one kind, or all null of a Swift type not
        /// known here.
        init?(of cells: some Sequence<BulkCell?>) {
            var found: ArrayKind?
            var nullType: ArrayKind?
            for cell in cells {
                let kind: ArrayKind
                switch cell {
                case .text?: kind = .text
                case .integer?: kind = .integer
                case .real?: kind = .real
                case .bool?: kind = .bool
                case .date?: kind = .date
                case .uuid?: kind = .uuid
                case .null(let typed)?:
                    if nullType == nil { nullType = ArrayKind(nullOf: type(of: typed)) }
                    continue
                case nil: return nil
                }
                if let found, found != kind { return nil }
                found = kind
            }
            guard let kind = found ?? nullType else { return nil }
            self = kind
        }

        private init?(nullOf type: Any.Type) {
            switch ObjectIdentifier(type) {
            case ObjectIdentifier(String?.self): self = .text
            case ObjectIdentifier(Int?.self), ObjectIdentifier(Int64?.self): self = .integer
            case ObjectIdentifier(Double?.self): self = .real
            case ObjectIdentifier(Bool?.self): self = .bool
            case ObjectIdentifier(Date?.self): self = .date
            case ObjectIdentifier(UUID?.self): self = .uuid
            default: return nil
            }
        }

        var elementType: PostgresDataType {
            switch self {
            case .text: .text
            case .integer: .int8
            case .real: .float8
            case .bool: .bool
            case .date: .timestamptz
            case .uuid: .uuid
            }
        }

        var arrayType: PostgresDataType {
            switch self {
            case .text: .textArray
            case .integer: .int8Array
            case .real: .float8Array
            case .bool: .boolArray
            case .date: .timestamptzArray
            case .uuid: .uuidArray
            }
        }

        var sqlName: String {
            switch self {
            case .text: "text"
            case .integer: "int8"
            case .real: "float8"
            case .bool: "bool"
            case .date: "timestamptz"
            case .uuid: "uuid"
            }
        }
    }

    /// A column's cells as one PostgreSQL array, in its binary format (dimensions, then each element's length and
    /// bytes, -1 for a null), each element encoded by PostgresNIO.
    struct PostgresArray: PostgresDynamicTypeEncodable {
        let kind: ArrayKind
        let cells: [BulkCell]

        var psqlType: PostgresDataType { kind.arrayType }
        var psqlFormat: PostgresFormat { .binary }

        func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
            buffer.writeInteger(Int32(1))  // dimensions
            buffer.writeInteger(Int32(cells.contains { if case .null = $0 { true } else { false } } ? 1 : 0))
            buffer.writeInteger(Int32(bitPattern: kind.elementType.rawValue))
            buffer.writeInteger(Int32(cells.count))
            buffer.writeInteger(Int32(1))  // lower bound
            for cell in cells {
                let lengthAt = buffer.writerIndex
                buffer.writeInteger(Int32(0))
                let start = buffer.writerIndex
                switch cell {
                case .text(let v): v.encode(into: &buffer, context: context)
                case .integer(let v): v.encode(into: &buffer, context: context)
                case .real(let v): v.encode(into: &buffer, context: context)
                case .bool(let v): v.encode(into: &buffer, context: context)
                case .date(let v): v.encode(into: &buffer, context: context)
                case .uuid(let v): v.encode(into: &buffer, context: context)
                case .null:
                    buffer.setInteger(Int32(-1), at: lengthAt)
                    continue
                }
                buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthAt)
            }
        }
    }
}
