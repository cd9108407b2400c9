import Vapor
import SQLKit
import Prometheus
import PLSDomain

/// `/metrics` in Prometheus's text format (swift-prometheus): requests by route and status, their latency, the
/// ledger's queue and batches, SMS sent, open and overdue matters. Only a caller on the machine (loopback) or one
/// showing `PLS_METRICS_TOKEN` may read it: the figures describe the service, not for the public.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                             .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)]

    func record(route: String, method: String, status: UInt, duration: Duration) {
        registry.makeCounter(descriptor: .init(metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route pattern and status"),
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer, by route pattern"),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// The figures read at each scrape (a few indexed counts), then the whole text.
    func scrape(app: Application) async throws -> String {
        let load = app.ledger.load
        func gauge(_ name: String, _ unit: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
            registry.makeGauge(descriptor: .init(metricName: name, unitName: unit, helpText: help), labels: labels).set(value)
        }
        gauge("ledger_queue", "writes", "Writes waiting for the ledger's next batch", Double(load.waiting))
        gauge("ledger_batches", "taken", "Ledger batches committed since start", Double(load.batches))
        gauge("ledger_batched", "writes", "Writes committed in batches since start (÷ batches = mean batch size)", Double(load.writes))
        let db = app.db as! any SQLDatabase
        let today = app.today.description
        let open = RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)
        let overdue = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(ServiceRequest.schema)
            .where("status", .in, open).where("conclude_due", .lessThan, today).first(decodingColumn: "n", as: Int.self) ?? 0
        gauge("requests_overdue", "count", "Open matters past their conclusion date", Double(overdue))
        let openCount = try await db.raw("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM request_counts WHERE status IN \(SQLBind.group(open))")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        gauge("requests_open", "count", "Matters still being handled", Double(openCount))
        let sms = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("sms_messages")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        gauge("sms_messages", "total", "SMS messages written to the outbox since the database was created", Double(sms))
        let backlog = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("sms_messages")
            .where("status", .in, [SmsOutbox.Status.pending.rawValue, SmsOutbox.Status.sending.rawValue]).first(decodingColumn: "n", as: Int.self) ?? 0
        gauge("sms_outbox_backlog", "messages", "SMS waiting for the provider to accept them", Double(backlog))
        let failed = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("sms_messages")
            .where("status", .equal, SmsOutbox.Status.failed.rawValue).first(decodingColumn: "n", as: Int.self) ?? 0
        gauge("sms_failed", "messages", "SMS given up (refused by the provider, or after every retry)", Double(failed))
        gauge("calendar_missing_years", "count", "This year and next without holidays in the calendar (deadlines would skip weekends only)",
              Double([app.today.year, app.today.year + 1].filter { !app.workingCalendar.knownYears.contains($0) }.count))
        if let replica = app.readReplica?.current {
            gauge("read_replica_in_use", "bool", "Analytics read from the replica (1), or from the primary while it lags or is away (0)",
                  replica.state == .inUse ? 1 : 0)
            gauge("read_replica_lag", "seconds", "How far the replica was behind the primary at the last check (-1: not reached)", replica.lagSeconds ?? -1)
            gauge("read_replica_reads", "total", "Analytics requests given the replica since start", Double(replica.readsOnReplica))
            gauge("read_primary_reads", "total", "Analytics requests given the primary since start (no replica, lagging or away)", Double(replica.readsOnPrimary))
            gauge("read_replica_fallbacks", "total", "Statements the replica failed and the primary answered", Double(replica.fallbacks))
        }
        return registry.emitToString()
    }
}

/// Records every answer's route pattern, status and time (outermost but one, so errors are counted as sent).
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: ServiceMetrics

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = ContinuousClock.now
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
        do {
            let response = try await next.respond(to: request)
            metrics.record(route: route, method: request.method.rawValue, status: response.status.code, duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any AbortError)?.status.code ?? 500
            metrics.record(route: route, method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}

extension Application {
    private struct MetricsKey: StorageKey { typealias Value = ServiceMetrics }
    var metrics: ServiceMetrics {
        if let m = storage[MetricsKey.self] { return m }
        let m = ServiceMetrics()
        storage[MetricsKey.self] = m
        return m
    }
}

enum MetricsEndpoint {
    /// Loopback callers, or `Authorization: Bearer <PLS_METRICS_TOKEN>`.
    static func serve(_ req: Request) async throws -> Response {
        let token = Environment.get("PLS_METRICS_TOKEN").flatMap { $0.isEmpty ? nil : $0 }
        let fromLoopback = req.isLocalCaller
        let shown = req.headers.bearerAuthorization?.token
        guard fromLoopback || (token != nil && shown.map { constantTimeEqual(Array($0.utf8), Array(token!.utf8)) } == true) else {
            throw AppError(.forbidden, "forbidden", "指标数据仅限本机或持有 PLS_METRICS_TOKEN 的采集程序读取")
        }
        let text = try await req.application.metrics.scrape(app: req.application)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}
