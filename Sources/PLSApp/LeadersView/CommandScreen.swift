import Vapor
import SQLKit
import PLSDomain

/// 指挥大屏 (issue #24, item 5): the day as it stands, for a 1920×1080 display in the command room — today's requests by
/// channel, the calls, the matters overdue, the bad ratings still open, where today's requests come from and what they
/// are about, and the indicators in red and green. Every figure comes from an index range or a kept row, so that the
/// screen's update stays within 50 ms at a million requests; the page refreshes its panel itself.
enum CommandScreen {
    struct Tile: Content { var id: String; var name: String; var value: String; var met: Bool? }

    struct Board: Content {
        var region: ShortfallUnit
        var at: Date
        var today: String
        var requestsToday: Int
        var byChannel: [KeyCount]
        var byMatter: [KeyCount]
        /// The units one level down with the most requests today.
        var hotspots: [KeyCount]
        var callsWaiting: Int
        var callsAnswered: Int
        var callsAbandoned: Int
        var overdue: Int
        var badRatingsOpen: Int
        var tiles: [Tile]
        var tilesMet: Int
        /// When the indicators were last kept (hourly).
        var tilesAt: Date?
    }

    static func mayRead(_ p: Principal) -> Bool { Scorecards.mayRead(p) }

    static func board(region: DivisionCode, regionName: String, app: Application, on sql: any SQLDatabase) async throws -> Board {
        let today = app.today
        let start = today.startInChina, end = today.adding(days: 1).startInChina
        // The whole city is every row: no region filter, so that the counts are read from the indexes alone.
        let prefix = region.level == .city ? "%" : region.scopePrefix + "%"
        let width = region.level == .city ? 6 : (region.level == .county ? 9 : 12)
        struct R: Decodable { var channel: String; var matterType: String; var unit: String; var n: Int }
        let rows = try await sql.raw("""
            SELECT channel, matter_type, SUBSTR(region_code, 1, \(unsafeRaw: String(width))) AS unit, COUNT(*) AS n FROM service_requests
            WHERE created_at >= \(bind: start) AND created_at < \(bind: end) AND region_code LIKE \(bind: prefix)
            GROUP BY channel, matter_type, SUBSTR(region_code, 1, \(unsafeRaw: String(width)))
            """).all(decoding: R.self, keyDecodingStrategy: .convertFromSnakeCase)
        func grouped(_ key: (R) -> String, _ name: (String) -> String) -> [KeyCount] { KeyCount.tally(rows, by: key, n: \.n, name: name) }
        var hotspots = Array(grouped({ $0.unit + String(repeating: "0", count: max(0, 12 - $0.unit.count)) }, { $0 }).prefix(5))
        let names = try await RegionNames.names(hotspots.map(\.key), on: sql)
        hotspots = hotspots.map { KeyCount(key: $0.key, name: names[$0.key] ?? $0.key, count: $0.count) }
        // Calls are the city's (the hotline serves the whole city).
        struct C: Decodable { var waiting: Int?; var answered: Int?; var abandoned: Int? }
        let calls = try await sql.raw("""
            SELECT CAST(SUM(CASE WHEN state = 'ringing' THEN 1 ELSE 0 END) AS BIGINT) AS waiting,
                   CAST(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS answered,
                   CAST(SUM(CASE WHEN state = 'abandoned' THEN 1 ELSE 0 END) AS BIGINT) AS abandoned
            FROM calls WHERE rang_at >= \(bind: start) AND rang_at < \(bind: end)
            """).first(decoding: C.self)
        let open = RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)
        var overdueQuery = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(ServiceRequest.schema)
            .where("status", .in, open).where("conclude_due", .lessThan, today.description)
        if region.level != .city { overdueQuery = overdueQuery.where("region_code", .like, prefix) }
        let overdue = try await overdueQuery.first(decodingColumn: "n", as: Int.self) ?? 0
        let closed = [RectificationStatus.closed, .withdrawn].map(\.rawValue)
        var badQuery = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Rectifications.schema).where("status", .notIn, closed)
        if region.level != .city { badQuery = badQuery.where("region_code", .like, prefix) }
        let bad = try await badQuery.first(decodingColumn: "n", as: Int.self) ?? 0
        // The indicators as kept this hour, for the region (the city or a county), else the city's.
        let keptCode = region.level == .city || region.level == .county ? region.rawValue : (app.city.code?.rawValue ?? region.rawValue)
        let kept = try await IndicatorSeries.stored(region: keptCode, from: today.monthKey, to: today.monthKey, on: sql)
        let defs = Dictionary(uniqueKeysWithValues: app.indicators.definitions.map { ($0.id, $0) })
        let tiles = app.indicators.definitions.compactMap { d -> Tile? in
            guard let r = kept.first(where: { $0.indicator == d.id }) else { return nil }
            let v = r.value.map { d.unit == .percent ? String(format: "%.1f%%", $0) : Scorecards.format($0) + (d.unit == .minutes ? "分" : "") } ?? "—"
            return Tile(id: d.id, name: defs[d.id]?.name ?? d.id, value: v, met: r.met)
        }
        return Board(region: .init(code: region.rawValue, name: regionName), at: app.clock.now, today: today.description,
                     requestsToday: rows.reduce(0) { $0 + $1.n },
                     byChannel: grouped(\.channel) { RequestChannel(rawValue: $0)?.chineseName ?? $0 },
                     byMatter: Array(grouped(\.matterType) { MatterType(rawValue: $0)?.chineseName ?? $0 }.prefix(6)),
                     hotspots: hotspots, callsWaiting: calls?.waiting ?? 0, callsAnswered: calls?.answered ?? 0, callsAbandoned: calls?.abandoned ?? 0,
                     overdue: overdue, badRatingsOpen: bad, tiles: tiles, tilesMet: tiles.filter { $0.met == true }.count,
                     tilesAt: kept.map(\.recordedAt).max())
    }

    static func load(_ req: Request) async throws -> Board {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (scope, row) = try await IndicatorController.scope(req, p)
        return try await board(region: scope.region, regionName: row.name, app: req.application, on: req.readSQL)
    }

    static func api(_ req: Request) async throws -> Board { try await load(req) }

    struct Context: Encodable {
        var page: PageMeta
        var b: Board
        var channels: Charts.Bars
        var time: String
        var refresh: String
    }

    static func context(_ req: Request) async throws -> Context {
        let b = try await load(req)
        let f = DateFormatter.chinaTime
        f.dateFormat = "HH:mm:ss"
        return Context(page: req.pageMeta(title: "指挥大屏 · \(b.region.name)"), b: b,
                       channels: Charts.bars(b.byChannel.map { ($0.name, Double($0.count), String($0.count), false) }),
                       time: f.string(from: b.at), refresh: "/command/panel?region=\(b.region.code)")
    }

    static func page(_ req: Request) async throws -> View { try await req.view.render("leaders/command", try await context(req)) }

    /// The panel alone, for the page to swap in every few seconds.
    static func panel(_ req: Request) async throws -> View { try await req.view.render("leaders/command-panel", try await context(req)) }
}
