import Vapor
import SQLKit
import PostgresKit
import FluentKit

/// Statements of one PostgreSQL transaction handed to the connection together: PostgresNIO sends each as soon as the one
/// before is answered, on its event loop, and the caller waits once (a batch's task no longer waits for a turn on the
/// busy cores between statements). The ledger's flush uses it when its rows need more than one statement.
struct StatementPipeline {
    private let db: any SQLDatabase
    private var sent: [EventLoopFuture<Void>] = []
    /// On a pool each statement would take a connection of its own, in no order and outside the transaction: statements
    /// are sent only through a database bound to one connection (a transaction's).
    private let oneConnection: Bool

    init(on db: any SQLDatabase) {
        self.db = db
        oneConnection = (db as? any Database)?.inTransaction ?? false
    }

    /// Whether `db` takes pipelined statements (SQLite runs a connection's statements on its own thread, one at a time).
    static func applies(to db: any SQLDatabase) -> Bool { db.dialect.name == "postgresql" }

    /// Sends a statement PostgresNIO runs as it is (binds already encoded); its rows are not kept. `prepared`: run as
    /// that named statement, prepared on the connection's first use of it.
    mutating func send(_ query: PostgresQuery, prepared: PreparedText.Statement? = nil) {
        guard oneConnection else { return sent.append(db.eventLoop.makeFailedFuture(PipelineError.notOneConnection)) }
        guard let pg = db as? any PostgresDatabase else { return sent.append(db.eventLoop.makeFailedFuture(PipelineError.notPostgres)) }
        let logger = db.logger
        guard let prepared else { return sent.append(pg.withConnection { $0.query(query, logger: logger).map { _ in } }) }
        sent.append(pg.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                do {
                    _ = try await PreparedText.rows(prepared, query.binds, on: connection, logger: logger)
                } catch let error as PSQLError where error.code == .server && !PreparedText.refusedItsValues(error) {
                    // Not the rows (a key taken, a deadlock) but the statement: a preparation that failed, which PostgresNIO
                    // would answer with the same error on this connection for its life. The transaction is lost either
                    // way; the batch runs again, with this statement unprepared.
                    PreparedText.retire(prepared.name)
                    logger.notice("prepared statement \(prepared.name) failed (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?")); it runs unprepared from now on")
                    throw error
                }
            }
        })
    }

    private enum PipelineError: Error { case notPostgres, notOneConnection }

    /// Waits for every answer; throws the first error: the statements after a failed one fail too (the transaction is
    /// aborted), so the first is the one that says why.
    func finish() async throws {
        var first: (any Error)?
        for future in sent {
            do { try await future.get() } catch { if first == nil { first = error } }
        }
        if let first { throw first }
    }
}
