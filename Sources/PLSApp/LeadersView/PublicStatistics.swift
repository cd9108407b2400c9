import Vapor
import SQLKit
import PLSDomain

/// 公开统计 (issue #24, item 7): the year's aggregate figures for the platform's annual publication, open to anyone — no
/// personal data, and any count under `PublicFigure.threshold` withheld (shown as “少于 10”), so that a small place's few
/// cases point to no one. Read from the kept months and running figures only.
enum PublicStatistics {
    struct Count: Content { var key: String; var name: String; var count: Int? }
    struct Rate: Content { var id: String; var name: String; var value: Double?; var met: Bool? }
    struct Report: Content {
        var year: Int
        var city: String
        var received: Int?
        var byMatter: [Count]
        var byChannel: [Count]
        var byCounty: [Count]
        var concluded: Int?
        var onTimeRate: Double?
        var satisfactionRate: Double?
        var indicators: [Rate]
        var threshold: Int
    }

    static func report(year: Int, app: Application, on sql: any SQLDatabase) async throws -> Report {
        guard let city = app.city.code else { throw AppError.notFound("城市") }
        struct D: Decodable { var regionCode: String; var matterType: String; var channel: String; var n: Int }
        let rows = try await sql.raw("""
            SELECT region_code, matter_type, channel, CAST(SUM(received) AS BIGINT) AS n FROM request_months
            WHERE month >= \(bind: CivilDate.pad(year, 4) + "-01") AND month <= \(bind: CivilDate.pad(year, 4) + "-12")
            GROUP BY region_code, matter_type, channel
            """).all(decoding: D.self, keyDecodingStrategy: .convertFromSnakeCase)
        func grouped(_ key: (D) -> String, _ name: (String) -> String) -> [Count] {
            KeyCount.tally(rows, by: key, n: \.n, name: name).map { Count(key: $0.key, name: $0.name, count: PublicFigure.published($0.count)) }
        }
        let counties = try await RegionNames.names(Array(Set(rows.map(\.regionCode))), on: sql)
        struct S: Decodable { var concluded: Int?; var onTime: Int?; var rated: Int?; var satisfied: Int? }
        let s = try await sql.raw("""
            SELECT CAST(SUM(concluded) AS BIGINT) AS concluded, CAST(SUM(on_time) AS BIGINT) AS on_time,
                   CAST(SUM(rated) AS BIGINT) AS rated, CAST(SUM(satisfied) AS BIGINT) AS satisfied
            FROM request_stats WHERE year = \(bind: year) AND region_code LIKE \(bind: city.scopePrefix + "%")
            """).first(decoding: S.self, keyDecodingStrategy: .convertFromSnakeCase)
        let rate = { (n: Int?, d: Int?) -> Double? in
            guard let d, d >= PublicFigure.threshold else { return nil }
            return (Double(n ?? 0) * 1000 / Double(d)).rounded() / 10
        }
        // The plan's indicators for the city at the latest month kept in the year; a rate over few cases is left out.
        let lastMonth = CivilDate.pad(year, 4) + "-" + CivilDate.pad(year == app.today.year ? app.today.month : 12, 2)
        let kept = try await IndicatorSeries.stored(region: city.rawValue, from: CivilDate.pad(year, 4) + "-01", to: lastMonth, on: sql)
        let latest = kept.filter { $0.month == (kept.map(\.month).max() ?? "") }
        let indicators = app.indicators.definitions.compactMap { d -> Rate? in
            guard let r = latest.first(where: { $0.indicator == d.id }), d.unit == .percent else { return nil }
            if d.sampled, (r.den ?? 0) < PublicFigure.threshold { return nil }
            return Rate(id: d.id, name: d.name, value: r.value, met: r.met)
        }
        return Report(year: year, city: app.city.name, received: PublicFigure.published(rows.reduce(0) { $0 + $1.n }),
                      byMatter: grouped(\.matterType) { MatterType(rawValue: $0)?.chineseName ?? $0 },
                      byChannel: grouped(\.channel) { RequestChannel(rawValue: $0)?.chineseName ?? $0 },
                      byCounty: grouped(\.regionCode) { counties[$0] ?? $0 },
                      concluded: s?.concluded.flatMap(PublicFigure.published), onTimeRate: rate(s?.onTime, s?.concluded),
                      satisfactionRate: rate(s?.satisfied, s?.rated), indicators: indicators, threshold: PublicFigure.threshold)
    }

    static func load(_ req: Request) async throws -> Report {
        let year = (try? req.query.get(Int.self, at: "year")) ?? req.today.year
        guard (2000...2100).contains(year) else { throw AppError.validation(["year": "年份应在 2000–2100 之间"]) }
        return try await report(year: year, app: req.application, on: req.readSQL)
    }

    struct Context: Encodable {
        var page: PageMeta
        var r: Report
        var matters: Charts.Bars
        var years: [SelectOption]
        var text: [String: String]
    }

    static func page(_ req: Request) async throws -> View {
        let r = try await load(req)
        let shown = { (n: Int?) in n.map(String.init) ?? "少于 \(PublicFigure.threshold)" }
        let pct = { (v: Double?) in v.map { String(format: "%.1f%%", $0) } ?? "样本不足" }
        return try await req.view.render("leaders/statistics", Context(
            page: req.pageMeta(title: "公共法律服务统计"), r: r,
            matters: Charts.bars(r.byMatter.map { ($0.name, Double($0.count ?? 0), shown($0.count), false) }),
            years: [req.today.year, req.today.year - 1].map { SelectOption(value: String($0), label: "\($0) 年", selected: $0 == r.year) },
            text: ["received": shown(r.received), "concluded": shown(r.concluded), "onTime": pct(r.onTimeRate), "satisfaction": pct(r.satisfactionRate)]))
    }
}
