import Vapor
import NIOCore
import NIOConcurrencyHelpers

/// Work the server does every so often while it is up (the overdue scan, SMS delivery); at shutdown it waits for a
/// run under way, since the databases close right after and a run still going would find none.
struct RepeatingJob: LifecycleHandler {
    let name: String
    let initialDelay: TimeAmount
    let interval: TimeAmount
    let work: @Sendable (Application) async -> Void

    func didBootAsync(_ app: Application) async throws {
        let work = self.work
        let task = app.eventLoopGroup.next().scheduleRepeatedAsyncTask(initialDelay: initialDelay, delay: interval) { _ in
            app.eventLoopGroup.next().makeFutureWithTask { await work(app) }
        }
        app.repeatingTasks.withLockedValue { $0[name] = task }
    }

    func shutdownAsync(_ app: Application) async {
        guard let task = app.repeatingTasks.withLockedValue({ $0.removeValue(forKey: name) }) else { return }
        let cancelled = app.eventLoopGroup.any().makePromise(of: Void.self)
        task.cancel(promise: cancelled)
        try? await cancelled.futureResult.get()
    }
}

extension Application {
    private struct RepeatingTasksKey: StorageKey { typealias Value = NIOLockedValueBox<[String: RepeatedTask]> }
    /// The scheduled tasks of the repeating jobs, by name.
    var repeatingTasks: NIOLockedValueBox<[String: RepeatedTask]> {
        if let tasks = storage[RepeatingTasksKey.self] { return tasks }
        let tasks = NIOLockedValueBox<[String: RepeatedTask]>([:])
        storage[RepeatingTasksKey.self] = tasks
        return tasks
    }
}
