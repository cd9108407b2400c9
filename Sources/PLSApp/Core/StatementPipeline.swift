import Vapor
import SQLKit
import NIOConcurrencyHelpers
import PostgresKit
import FluentKit

/// Statements of one PostgreSQL transaction handed to the connection together: PostgresNIO sends each as soon as the one
/// before is answered, on its event loop, and the caller waits once. Measured on the ledger's batches at a million
/// requests: PostgreSQL spent about 6 ms on a batch of sixteen intakes that took 22–27 ms, and every answer waited for
/// the batch's task to get a turn on the busy cores before the next statement went out.
struct StatementPipeline {
    private let db: any SQLDatabase
    private var sent: [(future: EventLoopFuture<Void>, rows: NIOLockedValueBox<[any SQLRow]>)] = []
    /// On a pool each statement would take a connection of its own, in no order and outside the transaction: statements
    /// are sent only through a database bound to one connection (a transaction's).
    private let oneConnection: Bool

    init(on db: any SQLDatabase) {
        self.db = db
        oneConnection = (db as? any Database)?.inTransaction ?? false
    }

    /// Whether `db` takes pipelined statements (SQLite runs a connection's statements on its own thread, one at a time).
    static func applies(to db: any SQLDatabase) -> Bool { db.dialect.name == "postgresql" }

    /// Sends `statement`; its rows are `finish()`'s answer at the returned index.
    @discardableResult
    mutating func send(_ statement: any SQLExpression) -> Int {
        guard oneConnection else { return refuse(.notOneConnection) }
        let rows = NIOLockedValueBox<[any SQLRow]>([])
        sent.append((db.execute(sql: statement) { row in rows.withLockedValue { $0.append(row) } }, rows))
        return sent.count - 1
    }

    private mutating func refuse(_ error: PipelineError) -> Int {
        sent.append((db.eventLoop.makeFailedFuture(error), NIOLockedValueBox([])))
        return sent.count - 1
    }

    /// Sends a statement PostgresNIO runs as it is (binds already encoded); its rows are not kept.
    @discardableResult
    mutating func send(_ query: PostgresQuery) -> Int {
        guard oneConnection else { return refuse(.notOneConnection) }
        guard let pg = db as? any PostgresDatabase else { return refuse(.notPostgres) }
        let logger = db.logger
        sent.append((pg.withConnection { $0.query(query, logger: logger).map { _ in } }, NIOLockedValueBox([])))
        return sent.count - 1
    }

    private enum PipelineError: Error { case notPostgres, notOneConnection }

    /// Waits for every answer and returns each statement's rows; throws the first error: the statements after a failed
    /// one fail too (the transaction is aborted), so the first is the one that says why.
    func finish() async throws -> [[any SQLRow]] {
        var first: (any Error)?
        for (future, _) in sent {
            do { try await future.get() } catch { if first == nil { first = error } }
        }
        if let first { throw first }
        return sent.map { $0.rows.withLockedValue { $0 } }
    }
}
