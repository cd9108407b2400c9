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
        // A restore replaces the database file: done before anything opens it.
        if let status = DataRestore.runIfAsked(CommandLine.arguments) { exit(status) }
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
            // Said plainly on the terminal (or the journal), whatever the log level.
            if let problem = startupProblem(error) { FileHandle.standardError.write(Data(("pls: " + problem + "\n").utf8)) }
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            exit(1)
        }
        try await app.asyncShutdown()
    }
}
