import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import SQLiteNIO
import CSQLiteShared

/// A SQLite connection of its own, on a thread of its own, that runs a whole write transaction in one step: the
/// ledger's batches of intakes (`GroupCommitter`). Through SQLiteNIO every statement is a round trip between an
/// event loop and a thread-pool thread; with both cores serving HTTP each came back after 0.5–1.3 ms, a batch was
/// five of them, and every intake of the batch waited for all five. Here the statements of a batch run back to back,
/// each prepared once for the life of the connection.
///
/// It is also a task executor on that thread: the task that runs the ledger's batches prefers it, so the work of a
/// batch and its transaction run on one thread, with no hop between them and none queued behind HTTP work.
///
/// It opens the same file with the same SQLite library as SQLiteNIO's connections (`CSQLiteShared`), so SQLite's
/// locking keeps them apart as it keeps any two connections apart: `BEGIN IMMEDIATE` waits for the write lock.
final class DirectSQLiteWriter: TaskExecutor, @unchecked Sendable {
    // Unchecked: the handle, the statements and `finished` are used only on `loop`'s thread.
    private let path: String
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The connection was closed for good (on `loop`'s thread, as the handle).
    private var finished = false
    /// Set by `close`: from then on nothing more is handed to `loop`, which is about to stop.
    private let closed = NIOLockedValueBox(false)

    /// `path`: an existing database file (migrated by SQLiteNIO's connections; this one never creates it).
    init(path: String) {
        self.path = path
        // An event loop with nothing to watch: a thread and a queue of work, which NIO keeps well.
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        loop.run(UnownedJob(job), on: asUnownedTaskExecutor(), unless: closed)
    }

    struct Failure: Error, CustomStringConvertible {
        var code: Int32
        var message: String
        var description: String { "SQLite \(code): \(message)" }
    }

    /// The statements of one transaction, for the body of `transaction` only (not to be kept: it runs on the thread).
    struct Transaction {
        fileprivate let writer: DirectSQLiteWriter

        /// Runs a statement that returns no rows.
        func run(_ sql: String, _ cells: [BulkCell] = []) throws {
            _ = try writer.step(sql, cells, readFirstRow: false)
        }

        /// The first row of a query, its values as SQLite returned them; nil when there is none.
        func first(_ sql: String, _ cells: [BulkCell] = []) throws -> [SQLiteData]? {
            try writer.step(sql, cells, readFirstRow: true)
        }
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT` on the connection's thread: at once when called there (from
    /// a task that prefers this executor), else after a hop. If `body` throws, or the commit fails, the transaction is
    /// rolled back and the error thrown. The connection opens on first use.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        if loop.inEventLoop { return try transactionHere(body) }
        let submitted = closed.withLockedValue { closed in closed ? nil : loop.submit { try self.transactionHere(body) } }
        guard let submitted else { throw Self.closedFailure }
        return try await submitted.get()
    }

    private static let closedFailure = Failure(code: 21, message: "the ledger's connection is closed")  // 21: SQLITE_MISUSE

    private func transactionHere<T>(_ body: (Transaction) throws -> T) throws -> T {
        if finished { throw Self.closedFailure }
        if handle == nil { try open() }
        _ = try step("BEGIN IMMEDIATE", [], readFirstRow: false)
        do {
            let value = try body(Transaction(writer: self))
            _ = try step("COMMIT", [], readFirstRow: false)
            return value
        } catch {
            if sqlite_nio_sqlite3_get_autocommit(handle) == 0 { _ = try? step("ROLLBACK", [], readFirstRow: false) }
            throw error
        }
    }

    /// Finalizes the statements, closes the connection and stops its thread. What was handed to the thread before
    /// runs first; a transaction asked for afterwards is refused, and a task that still prefers this executor runs on
    /// the shared one (`Ledger.shutdown` waits for the batches under way, so none should).
    func close() async {
        let wasOpen = closed.withLockedValue { closed in
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        try? await loop.submit {
            self.finished = true
            for statement in self.statements.values { sqlite_nio_sqlite3_finalize(statement) }
            self.statements = [:]
            if let handle = self.handle { sqlite_nio_sqlite3_close_v2(handle) }
            self.handle = nil
        }.get()
        try? await group.shutdownGracefully()
    }

    private func open() throws {
        sqlite_nio_sqlite3_initialize()
        var opened: OpaquePointer?
        let flags: Int32 = PLS_SQLITE_OPEN_READWRITE | PLS_SQLITE_OPEN_FULLMUTEX | PLS_SQLITE_OPEN_EXRESCODE
        let rc = sqlite_nio_sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == PLS_SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            if let opened { sqlite_nio_sqlite3_close_v2(opened) }
            throw Failure(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = opened
        // Another connection's write (a session, an administrator's save) holds the lock for milliseconds.
        sqlite_nio_sqlite3_busy_timeout(opened, 30_000)
        do {
            // As SQLiteKit sets up its connections; FULL: a commit is on disk before it is acknowledged.
            // MEMORY: the journal of each statement (needed to undo just that statement) stays off the disk.
            for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = FULL", "PRAGMA temp_store = MEMORY"] {
                _ = try step(pragma, [], readFirstRow: false, keep: false)
            }
        } catch {
            // Not half set up: the next transaction opens it again.
            sqlite_nio_sqlite3_close_v2(opened)
            handle = nil
            throw error
        }
    }

    private func failure(_ rc: Int32, _ sql: String) -> Failure {
        let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? ""
        return Failure(code: rc, message: "\(message) (\(sql.prefix(60)))")
    }

    private func statement(_ sql: String, keep: Bool) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var prepared: OpaquePointer?
        let rc = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, keep ? UInt32(PLS_SQLITE_PREPARE_PERSISTENT) : 0, &prepared, nil)
        guard rc == PLS_SQLITE_OK, let prepared else { throw failure(rc, sql) }
        if keep { statements[sql] = prepared }
        return prepared
    }

    /// Binds `cells`, steps to the end (or to the first row), and leaves the statement reset for its next use.
    private func step(_ sql: String, _ cells: [BulkCell], readFirstRow: Bool, keep: Bool = true) throws -> [SQLiteData]? {
        let s = try statement(sql, keep: keep)
        defer {
            sqlite_nio_sqlite3_reset(s)
            sqlite_nio_sqlite3_clear_bindings(s)
            if !keep { sqlite_nio_sqlite3_finalize(s) }
        }
        for (offset, cell) in cells.enumerated() {
            let rc = bind(cell.sqliteData, at: Int32(offset + 1), in: s)
            guard rc == PLS_SQLITE_OK else { throw failure(rc, sql) }
        }
        var rc = sqlite_nio_sqlite3_step(s)
        var first: [SQLiteData]?
        while rc == PLS_SQLITE_ROW {
            if readFirstRow, first == nil { first = row(of: s) }
            rc = sqlite_nio_sqlite3_step(s)
        }
        guard rc == PLS_SQLITE_DONE else { throw failure(rc, sql) }
        return first
    }

    private func bind(_ value: SQLiteData, at index: Int32, in s: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let v): return sqlite_nio_sqlite3_bind_int64(s, index, Int64(v))
        case .float(let v): return sqlite_nio_sqlite3_bind_double(s, index, v)
        case .null: return sqlite_nio_sqlite3_bind_null(s, index)
        case .text(let v):
            var text = v
            return text.withUTF8 { utf8 in
                // An empty buffer may have no address, and a null address would bind NULL, not ''.
                guard let base = utf8.baseAddress, !utf8.isEmpty else { return pls_sqlite3_bind_text_copy(s, index, "", 0) }
                return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                    pls_sqlite3_bind_text_copy(s, index, $0, Int32(utf8.count))
                }
            }
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return pls_sqlite3_bind_blob_copy(s, index, "", 0) }
                return pls_sqlite3_bind_blob_copy(s, index, base, Int32(bytes.count))
            }
        }
    }

    private func row(of s: OpaquePointer) -> [SQLiteData] {
        (0..<sqlite_nio_sqlite3_column_count(s)).map { column in
            switch sqlite_nio_sqlite3_column_type(s, column) {
            case PLS_SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(s, column)))
            case PLS_SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(s, column))
            case PLS_SQLITE_TEXT:
                let count = Int(sqlite_nio_sqlite3_column_bytes(s, column))
                guard let text = sqlite_nio_sqlite3_column_text(s, column) else { return .text("") }
                return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            case PLS_SQLITE_BLOB:
                let count = Int(sqlite_nio_sqlite3_column_bytes(s, column))
                return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: sqlite_nio_sqlite3_column_blob(s, column), count: count)))
            default: return .null
            }
        }
    }
}
