import Vapor
import NIOCore
import NIOPosix
import Logging
import PLSApp

@main
enum Entrypoint {
    static func main() async throws {
        // Swift concurrency runs on NIO's event loops: a request's async work no longer hops between
        // the event loop and the global pool's threads (measured: most of the kernel time under load).
        // First thing in main, from the main thread, before any other async work, as the hook requires.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        var env = try Environment.detect()
        // Never below debug, whatever LOG_LEVEL or --log say: at trace the drivers log SQL with its values
        // (names, mobiles, free text), and personal data stays out of the logs at every level.
        try LoggingSystem.bootstrap(from: &env) { level in
            let floor = max(level, .debug)
            return { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = floor
                return handler
            }
        }
        let app = try await Application.make(env)
        do {
            try await configure(app)
            try await app.execute()
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            exit(1)
        }
        try await app.asyncShutdown()
    }
}
