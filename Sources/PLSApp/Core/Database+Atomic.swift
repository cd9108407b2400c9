import Vapor
import Fluent
import FluentPostgresDriver
import NIOConcurrencyHelpers

extension Database {
    /// Runs `body` in one transaction, as Fluent's `transaction` does, and on PostgreSQL stops waiting once the
    /// transaction's connection has closed.
    ///
    /// Why: when the server closes a connection (a restart, `pg_terminate_backend`), PostgresNIO 1.33 never answers a
    /// statement written to it after the close, and Fluent's `transaction` writes a `ROLLBACK` there after the failed
    /// statement. The caller then waited forever, holding its pool lease (one connection per event loop): the resilience
    /// test found the ledger's queue stalled after a PostgreSQL restart in about half the runs while reads recovered.
    /// Here the transaction gets `ConnectionLoss.grace` to end by itself after its connection closed; then the caller
    /// gets 503 `database_unavailable`, the lease goes back and the pool drops the closed connection. Nothing of the
    /// abandoned transaction can commit: its connection is gone.
    ///
    /// Every transaction of the platform goes through here (a test checks that no other code calls `transaction`).
    func atomic<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        // Inside a transaction, Fluent runs the body on the same connection: already watched.
        guard !inTransaction, self is any PostgresDatabase else { return try await transaction(body) }
        return try await withConnection { connection in
            // Written out rather than `connection.transaction`: a connection-bound database counts as in a transaction
            // already (Fluent gives it `inTransaction`, so its `transaction` would run the body without BEGIN); the same
            // flag makes a nested `atomic` or `transaction` in the body join this one.
            let channel = try await (connection as! any PostgresDatabase)
                .withConnection { $0.eventLoop.makeSucceededFuture($0) }.get()
            let sql = connection as! any SQLDatabase
            return try await ConnectionLoss.race(channel, logger: connection.logger) {
                try await sql.raw("BEGIN").run()
                do {
                    let result = try await body(connection)
                    try await sql.raw("COMMIT").run()
                    return result
                } catch {
                    // On a closed connection the server has rolled back, and a ROLLBACK written there is never answered.
                    if !channel.isClosed { try await sql.raw("ROLLBACK").run() }
                    throw error
                }
            }
        }
    }
}

/// Waits for a PostgreSQL operation unless its connection has closed and the operation has not ended within `grace`.
enum ConnectionLoss {
    static let grace: TimeAmount = .seconds(2)
    /// How often a running operation looks at its connection: a timer on the connection's event loop, not a callback on
    /// its close (a callback per transaction would pile up on a connection that lives for days).
    private static let every: TimeAmount = .milliseconds(250)

    static func race<T: Sendable>(_ connection: PostgresConnection, logger: Logger,
                                  _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiting = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        @Sendable func answer(_ result: Result<T, any Error>) {
            waiting.withLockedValue { c -> CheckedContinuation<T, any Error>? in defer { c = nil }; return c }?.resume(with: result)
        }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            let closedAt = NIOLockedValueBox<NIODeadline?>(nil)
            let watch = connection.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { task in
                guard connection.isClosed else { return }
                let now = NIODeadline.now()
                let since = closedAt.withLockedValue { at in at ?? { at = now; return now }() }
                guard now - since >= grace else { return }
                task.cancel()
                logger.warning("a transaction did not end after its PostgreSQL connection closed; answered as unavailable and left behind")
                var error = AppError(.serviceUnavailable, "database_unavailable", "数据库暂时不可用，请稍后再试")
                error.retryAfter = 5
                answer(.failure(error))
            }
            Task {
                do {
                    let value = try await operation()
                    watch.cancel()
                    answer(.success(value))
                } catch {
                    watch.cancel()
                    answer(.failure(error))
                }
            }
        }
    }
}
