import Vapor
import NIOConcurrencyHelpers

/// Counts the requests being handled, so that a shutdown waits for them before the databases they use are closed.
/// Vapor's server has stopped once its connections are closed, but a client that hangs up leaves its handler
/// running: under load, a stop (SIGTERM) right after the clients left crashed the process in `Request.db`, the
/// databases already gone. Outermost middleware; a lifecycle handler registered after every other, so that its
/// shutdown runs first.
final class InFlightRequests: AsyncMiddleware, LifecycleHandler {
    private let count = NIOLockedValueBox(0)
    private let timeout: Duration

    init(timeout: Duration = .seconds(10)) {
        self.timeout = timeout
    }

    var current: Int { count.withLockedValue { $0 } }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        count.withLockedValue { $0 += 1 }
        defer { count.withLockedValue { $0 -= 1 } }
        return try await next.respond(to: request)
    }

    /// Waits until no request is being handled, or for `timeout` at most (a handler stuck for longer is not waited for).
    func shutdownAsync(_ app: Application) async {
        let deadline = ContinuousClock.now + timeout
        while current > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if current > 0 { app.logger.warning("shutting down with \(current) requests still being handled") }
    }
}

/// Logs each request by its route's pattern (`GET /my/:number`), never its path: paths carry request numbers and
/// the signed tokens of rating links, which are not for the log.
struct RoutePatternLoggingMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let pattern = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "(no route)"
        request.logger.debug("\(request.method) \(pattern)")
        return try await next.respond(to: request)
    }
}
