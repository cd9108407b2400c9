import Vapor
import Fluent
import SQLKit

extension Ledger {
    /// What a batch's writes see of the database (`Writer.db`). Every write may hold the new requests it saves for the
    /// batch's one insert (`Writer.save`); what it then does through the database decides the rest, statement by
    /// statement, so that no caller has to predict it:
    /// - a statement that writes, or that reads a table the batch holds rows for, first has the held rows written
    ///   (it then sees them, and may refer to them), inside the batch's transaction;
    /// - on SQLite a batch starts without a transaction (`holding`). If no such statement comes, the ledger's own
    ///   connection writes the held rows in one step (`DirectSQLiteWriter`); when one comes, the batch's transaction
    ///   opens right there (`open`) and the batch goes on in it, without running anything twice.
    /// Confined to the one task that runs a batch, as the writer is.
    final class Batch: @unchecked Sendable {
        enum Mode { case holding, transaction }
        private(set) var mode: Mode
        /// The batch's transaction is open (from the start, or since a statement opened it).
        var isOpen: Bool { mode == .transaction }
        /// Opens the transaction on the batch's connection and checks that the chain's head is still the one the batch
        /// started from (another process may have written meanwhile).
        private let open: @Sendable () async throws -> Void
        weak var writer: Writer?

        init(mode: Mode, open: @escaping @Sendable () async throws -> Void = {}) {
            self.mode = mode
            self.open = open
        }

        /// The tables whose rows a batch holds until it writes them (the day counters follow the requests by trigger).
        static let heldTables = ["service_requests", "idempotency_keys", "request_events", "request_day_counters", "notifications", "sms_messages"]

        /// Whether a statement of a write's body (`writes`, or reads one of `heldTables`) needs `prepare` first: most
        /// do not, and go straight on (a task per statement would cost every write of the batch a hop).
        func needsPreparing(writes: Bool, readsHeld: Bool) -> Bool {
            guard let writer else { return false }
            return (writes && (mode == .holding || writer.holdsRows)) || (readsHeld && writer.holdsRows)
        }

        func prepare(writes: Bool, readsHeld: Bool) async throws {
            guard let writer, needsPreparing(writes: writes, readsHeld: readsHeld) else { return }
            if mode == .holding {
                try await open()
                mode = .transaction
            }
            try await writer.writeDeferred()
        }

        static func readsHeld(_ sql: String) -> Bool {
            heldTables.contains { table in
                var from = sql.startIndex
                while let r = sql.range(of: table, range: from..<sql.endIndex) {
                    let before = r.lowerBound == sql.startIndex ? nil : sql[sql.index(before: r.lowerBound)]
                    let after = r.upperBound == sql.endIndex ? nil : sql[r.upperBound]
                    func isWord(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
                    if !isWord(before), !isWord(after) { return true }
                    from = r.upperBound
                }
                return false
            }
        }
    }

    /// The database as a batch's writes see it: each statement passes `Batch.prepare` first.
    struct BatchDatabase: Database, SQLDatabase {
        let base: any Database & SQLDatabase
        let batch: Batch

        init(_ base: any Database, batch: Batch) {
            self.base = base as! any Database & SQLDatabase
            self.batch = batch
        }

        private func after<T: Sendable>(writes: Bool, readsHeld: Bool, _ run: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
            let batch = self.batch
            guard batch.needsPreparing(writes: writes, readsHeld: readsHeld) else { return run() }
            return base.eventLoop.makeFutureWithTask {
                try await batch.prepare(writes: writes, readsHeld: readsHeld)
                return try await run().get()
            }
        }

        // MARK: Database

        var context: DatabaseContext { base.context }
        /// The batch is the transaction: a body's own `atomic` joins it.
        var inTransaction: Bool { true }

        func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> ()) -> EventLoopFuture<Void> {
            let reads: Bool
            switch query.action {
            case .read, .aggregate: reads = true
            default: reads = false
            }
            let held = Batch.heldTables.contains(query.schema) || !query.joins.isEmpty
            return after(writes: !reads, readsHeld: held) { base.execute(query: query, onOutput: onOutput) }
        }

        func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
            after(writes: true, readsHeld: false) { base.execute(schema: schema) }
        }

        func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
            after(writes: true, readsHeld: false) { base.execute(enum: `enum`) }
        }

        func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
            closure(self)
        }

        func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
            closure(self)
        }

        // MARK: SQLDatabase

        var logger: Logger { base.logger }
        var eventLoop: any EventLoop { base.eventLoop }
        var version: (any SQLDatabaseReportedVersion)? { base.version }
        var dialect: any SQLDialect { base.dialect }
        var queryLogLevel: Logger.Level? { base.queryLogLevel }

        /// Only a plain `SELECT` reads (a `WITH` may end in a write, and counts as one).
        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
            let text = base.serialize(query).sql
            let statement = text.drop { $0.isWhitespace }
            let reads = statement.prefix(6).uppercased() == "SELECT" && statement.dropFirst(6).first?.isWhitespace == true
            return after(writes: !reads, readsHeld: Batch.readsHeld(text)) { base.execute(sql: query, onRow) }
        }
    }
}
