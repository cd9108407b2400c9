import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Every indicator over time (issue #24, item 1): each indicator's year-to-date figure for the city and each county,
/// kept per month as the months pass (`indicator_months`, recorded every hour for the month under way, so that a
/// month's row holds its figure at its end). A series is then read, never recounted; the month under way is the live
/// figure, so the chart ends where the board stands. The month's requests by county, matter and channel are kept the
/// same way (`request_months`) for the monthly report, the supply against demand and the public figures.
enum IndicatorSeries {
    static let schema = "indicator_months"

    struct Stored: Codable, Sendable {
        var indicator: String
        var regionCode: String
        var month: String
        var value: Double?
        var num: Int?
        var den: Int?
        var target: Double
        var met: Bool?
        var shortfallCount: Int
        var shortfalls: String
        var recordedAt: Date
    }

    /// The units whose series are kept: the city and its counties (below them the drill-down computes live).
    static func keptRegions(on sql: any SQLDatabase, city: DivisionCode?) async throws -> [String] {
        guard let city else { return [] }
        let counties = try await sql.select().column("code").from(Region.schema).where("parent_code", .equal, city.rawValue)
            .where("active", .equal, true).orderBy("code").all(decodingColumn: "code", as: String.self)
        return [city.rawValue] + counties
    }

    /// Records the month's year-to-date figures of every indicator for the city and its counties (or `regions`), and
    /// the month's requests by county, matter and channel. A month already over is judged on its last day.
    static func record(month start: CivilDate, app: Application, regions only: [String]? = nil) async throws {
        let sql = app.db as! any SQLDatabase
        let last = start.nextMonthStart.adding(days: -1)
        let today = min(app.today, last)
        var regions = only ?? []
        if only == nil { regions = try await keptRegions(on: sql, city: app.city.code) }
        let targets = try await IndicatorRegistry.targets(on: sql)
        let month = start.monthKey
        let now = app.clock.now
        var rows: [Stored] = []
        for code in regions {
            guard let region = DivisionCode(code) else { continue }
            let results = try await app.indicators.compute(IndicatorScope(region: region, year: start.year, today: today), targets: targets,
                                                           on: sql, logger: app.logger, slow: .milliseconds(500))
            for r in results {
                let shortfalls = String(decoding: try JSONEncoder().encode(Array(r.shortfalls.prefix(10))), as: UTF8.self)
                rows.append(Stored(indicator: r.id, regionCode: code, month: month, value: r.value, num: r.numerator, den: r.denominator,
                                   target: r.target, met: r.met, shortfallCount: r.shortfallCount, shortfalls: shortfalls, recordedAt: now))
            }
        }
        let counts = try await monthCounts(start, on: sql)
        let chunks = stride(from: 0, to: rows.count, by: 100).map { Array(rows[$0..<min($0 + 100, rows.count)]) }
        try await app.ledger.write(on: app.db) { w in
            let db = w.db as! any SQLDatabase
            for chunk in chunks { try await upsert(chunk, on: db) }
            try await db.raw("DELETE FROM request_months WHERE month = \(bind: month)").run()
            for start in stride(from: 0, to: counts.count, by: 200) {
                var insert = db.insert(into: "request_months").columns("region_code", "month", "matter_type", "channel", "received")
                for c in counts[start..<min(start + 200, counts.count)] {
                    insert = insert.values(SQLBind(c.unit), SQLBind(month), SQLBind(c.matterType), SQLBind(c.channel), SQLBind(c.n))
                }
                try await insert.run()
            }
        }
    }

    static func upsert(_ rows: [Stored], on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        var values: [SQLQueryString] = []
        for r in rows {
            values.append("(\(bind: r.indicator), \(bind: r.regionCode), \(bind: r.month), \(bind: r.value), \(bind: r.num), \(bind: r.den), \(bind: r.target), \(bind: r.met), \(bind: r.shortfallCount), \(bind: r.shortfalls), \(bind: r.recordedAt))")
        }
        let list = values.dropFirst().reduce(values[0]) { $0 + ", " + $1 }
        try await db.raw("INSERT INTO indicator_months (indicator, region_code, month, value, num, den, target, met, shortfall_count, shortfalls, recorded_at) VALUES "
                         + list + """
             ON CONFLICT (indicator, region_code, month) DO UPDATE SET value = excluded.value, num = excluded.num, den = excluded.den,
             target = excluded.target, met = excluded.met, shortfall_count = excluded.shortfall_count, shortfalls = excluded.shortfalls,
             recorded_at = excluded.recorded_at
            """).run()
    }

    struct MonthCount: Decodable, Sendable { var unit: String; var matterType: String; var channel: String; var n: Int }

    /// The month's requests by county, matter and channel: one pass over the month's rows by the creation index.
    static func monthCounts(_ start: CivilDate, on sql: any SQLDatabase) async throws -> [MonthCount] {
        try await sql.raw("""
            SELECT SUBSTR(region_code, 1, 6) || '000000' AS unit, matter_type, channel, COUNT(*) AS n FROM service_requests
            WHERE created_at >= \(bind: start.startInChina) AND created_at < \(bind: start.nextMonthStart.startInChina)
            GROUP BY SUBSTR(region_code, 1, 6), matter_type, channel
            """).all(decoding: MonthCount.self, keyDecodingStrategy: .convertFromSnakeCase)
    }

    /// The rows kept for a region from `from` to `to` (`YYYY-MM`, inclusive), of one indicator or all.
    static func stored(region: String, indicator: String? = nil, from: String, to: String, on sql: any SQLDatabase) async throws -> [Stored] {
        var q = sql.select().columns("indicator", "region_code", "month", "value", "num", "den", "target", "met", "shortfall_count", "shortfalls", "recorded_at")
            .from(schema).where("region_code", .equal, region).where("month", .greaterThanOrEqual, from).where("month", .lessThanOrEqual, to)
        if let indicator { q = q.where("indicator", .equal, indicator) }
        return try await q.orderBy("month").all(decoding: Stored.self, keyDecodingStrategy: .convertFromSnakeCase)
    }

    /// Records the month when nothing is kept for it yet (a page asked before the hourly job first ran).
    static func ensure(month start: CivilDate, app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        let any = try await sql.select().column("month").from(schema).where("month", .equal, start.monthKey)
            .where("region_code", .equal, app.city.code?.rawValue ?? "").limit(1).first()
        if any == nil { try await record(month: start, app: app) }
    }

    /// Last year's figure at the same point, for the plan's 稳步提升 targets: the same month a year earlier (December
    /// for a past year). Nil when that month was not kept.
    static func lastYear(_ indicator: String, scope: IndicatorScope, on sql: any SQLDatabase) async throws -> Double? {
        let month = scope.year == scope.today.year ? scope.today.month : 12
        let key = CivilDate.pad(scope.year - 1, 4) + "-" + CivilDate.pad(month, 2)
        struct V: Decodable { var value: Double? }
        return try await sql.select().column("value").from(schema).where("indicator", .equal, indicator)
            .where("region_code", .equal, scope.region.rawValue).where("month", .equal, key).first(decoding: V.self)?.value
    }

    // MARK: The series

    struct Point: Content {
        var month: String
        var value: Double?
        var numerator: Int?
        var denominator: Int?
        var met: Bool?
    }

    struct Series: Content {
        var indicator: IndicatorRegistry.Result
        var region: ShortfallUnit
        var year: Int
        var items: [Point]
        var lastYear: [Point]
        /// This year's latest figure against last year's at the same month, in the indicator's unit (points for a rate).
        var yearOnYear: Double?
    }

    static func series(_ req: Request) async throws -> Series {
        let p = try req.staff()
        let id = req.parameters.get("id") ?? ""
        guard req.application.indicators.definitions.contains(where: { $0.id == id }) else { throw AppError.notFound("指标") }
        let (scope, row) = try await IndicatorController.scope(req, p)
        let read = req.readSQL
        guard let live = try await req.application.indicators.compute(scope, only: id, on: read).first else { throw AppError.notFound("指标") }
        let y = CivilDate.pad(scope.year, 4), ly = CivilDate.pad(scope.year - 1, 4)
        let kept = try await stored(region: row.code, indicator: id, from: ly + "-01", to: y + "-12", on: read)
        let point = { (s: Stored) in Point(month: s.month, value: s.value, numerator: s.num, denominator: s.den, met: s.met) }
        var items = kept.filter { $0.month.hasPrefix(y) }.map(point)
        let lastYear = kept.filter { $0.month.hasPrefix(ly) }.map(point)
        if scope.year == scope.today.year {
            // The month under way is the live figure, as on the board; later months have not happened.
            let current = scope.today.monthKey
            items = items.filter { $0.month < current }
                + [Point(month: current, value: live.value, numerator: live.numerator, denominator: live.denominator, met: live.met)]
        }
        let latest = items.last
        let before = latest.flatMap { l in lastYear.first { $0.month.suffix(2) == l.month.suffix(2) } }
        return Series(indicator: live, region: .init(code: row.code, name: row.name), year: scope.year, items: items, lastYear: lastYear,
                      yearOnYear: Change.of(latest?.value, against: before?.value))
    }

    /// Keeps the month under way every hour; a month that ended while the server was down is recorded when it is back.
    static let job = RepeatingJob(name: "indicator-series", initialDelay: .seconds(90), interval: .hours(1)) { app in
        do { try await tick(app) } catch { app.logger.report(error: error) }
    }

    static func tick(_ app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        let this = CivilDate(year: app.today.year, month: app.today.month, day: 1) ?? app.today
        let previous = this.previousMonthStart
        struct R: Decodable { var at: Date? }
        let lastRecorded = try await sql.raw("SELECT MAX(recorded_at) AS at FROM indicator_months WHERE month = \(bind: previous.monthKey)")
            .first(decoding: R.self)?.at
        if lastRecorded.map({ $0 < this.adding(days: -1).startInChina }) ?? true { try await record(month: previous, app: app) }
        try await record(month: this, app: app)
        try await MonthlyReports.generateDue(app)
        try await Scorecards.snapshotDue(app)
    }
}

/// The tables of the leaders' view: the indicators' months, the months' requests, the scorecard's weights and
/// stored scorecards, the monthly reports, the workforce targets.
struct M053CreateLeadersView: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(IndicatorSeries.schema)
            .field("indicator", .string, .required)
            .field("region_code", .string, .required)
            .field("month", .string, .required)
            .field("value", .double)
            .field("num", .int64)
            .field("den", .int64)
            .field("target", .double, .required)
            .field("met", .bool)
            .field("shortfall_count", .int, .required)
            .field("shortfalls", .string, .required)
            .field("recorded_at", .datetime, .required)
            .unique(on: "indicator", "region_code", "month")
            .create()
        try await database.schema("request_months")
            .field("region_code", .string, .required)
            .field("month", .string, .required)
            .field("matter_type", .string, .required)
            .field("channel", .string, .required)
            .field("received", .int64, .required)
            .unique(on: "month", "region_code", "matter_type", "channel")
            .create()
        try await database.schema("scorecard_items")
            .field("indicator", .string, .identifier(auto: false))
            .field("weight", .double, .required)
            .field("rule", .string, .required)
            .create()
        try await database.schema("scorecards")
            .field("period", .string, .identifier(auto: false))
            .field("computed_at", .datetime, .required)
            .field("body", .string, .required)
            .create()
        try await database.schema("monthly_reports")
            .field("month", .string, .required)
            .field("region_code", .string, .required)
            .field("generated_at", .datetime, .required)
            .field("body", .string, .required)
            .unique(on: "month", "region_code")
            .create()
        try await database.schema("workforce_targets")
            .field("practitioner_type", .string, .identifier(auto: false))
            .field("per10k", .double, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "indicator_months_region_idx").on(IndicatorSeries.schema).column("region_code").column("month").run()
    }

    func revert(on database: any Database) async throws {
        for t in ["workforce_targets", "monthly_reports", "scorecards", "scorecard_items", "request_months", IndicatorSeries.schema] {
            try await database.schema(t).delete()
        }
    }
}
