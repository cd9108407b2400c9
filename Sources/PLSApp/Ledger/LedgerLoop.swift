import Vapor
import Fluent
import FluentPostgresDriver
import NIOPosix
import NIOConcurrencyHelpers

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

    /// Set by `shutdown`: from then on nothing more is handed to the loop, which is about to stop (NIO drops work handed
    /// to a stopped loop, and a batch still under way would wait for ever).
    private let closed = NIOLockedValueBox(false)

    func database(logger: Logger) -> (any Database)? {
        closed.withLockedValue { $0 } ? nil : databases.database(.ledgerWriter, logger: logger, on: eventLoop)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        eventLoop.run(UnownedJob(job), on: asUnownedTaskExecutor(), unless: closed)
    }

    /// After the batches under way (`Ledger.shutdown`): closes the connection, then stops the thread.
    func shutdown() async {
        closed.withLockedValue { $0 = true }
        await databases.shutdownAsync()
        try? await group.shutdownGracefully()
    }
}

extension EventLoop {
    /// A task executor's job on this one-thread loop, unless the loop is stopping (`closed`, set before it stops):
    /// then on the shared executor, rather than lost with the thread (NIO drops work handed to a stopped loop).
    func run(_ job: UnownedJob, on executor: UnownedTaskExecutor, unless closed: NIOLockedValueBox<Bool>) {
        let taken = closed.withLockedValue { closed in
            if !closed { execute { job.runSynchronously(on: executor) } }
            return !closed
        }
        if !taken { globalConcurrentExecutor.enqueue(job) }
    }
}
