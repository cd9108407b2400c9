import Vapor
import Fluent
import FluentPostgresDriver
import NIOPosix

/// PostgreSQL: the ledger's connection on a thread of its own, which is also where its batches run (a task executor),
/// as SQLite's batches run on `DirectSQLiteWriter`'s thread. On the application's event loops every statement of a
/// batch waited for its turn behind HTTP work, and the batch's own work (building and hashing sixteen intakes) for a
/// turn on the shared executor: measured at a million requests, a batch spent about 6 ms in PostgreSQL out of 22–27.
final class LedgerLoop: TaskExecutor, @unchecked Sendable {
    // Unchecked: every property is set once, in `init`.
    private let group: MultiThreadedEventLoopGroup
    let eventLoop: any EventLoop
    private let databases: Databases

    init(postgres configuration: SQLPostgresConfiguration, threadPool: NIOThreadPool) {
        // An event loop is a thread and a queue of work, which NIO keeps well; the connection's reads arrive on it too.
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
        databases = Databases(threadPool: threadPool, on: group)
        // One batch at a time: one connection.
        databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 1, sqlLogLevel: .trace), as: .ledgerWriter)
    }

    func database(logger: Logger) -> (any Database)? {
        databases.database(.ledgerWriter, logger: logger, on: eventLoop)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }

    /// After the last batch: closes the connection, then stops the thread.
    func shutdown() async {
        await databases.shutdownAsync()
        try? await group.shutdownGracefully()
    }
}
