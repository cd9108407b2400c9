import Vapor
import SQLKit
import PLSDomain

/// 月报 (issue #24, item 6): on the first working day of a month, the month before is written up for the city and each
/// county — the month's requests by channel, matter and county, every indicator at the month's end with its change on
/// the month before and on the same month last year, and the shortfalls — archived as it was written, printable on
/// A4, exportable, and announced to the leaders.
enum MonthlyReports {
    struct Line: Content {
        var id: String
        var name: String
        var unit: String
        var value: Double?
        var target: Double
        var comparator: String
        var met: Bool?
        /// The month before (环比) and the same month last year (同比), and the change against each.
        var previous: Double?
        var monthOnMonth: Double?
        var lastYear: Double?
        var yearOnYear: Double?
        var shortfallCount: Int
        var shortfalls: [ShortfallUnit]
    }

    struct Report: Content {
        var month: String
        var monthName: String
        var region: ShortfallUnit
        var generatedAt: Date
        var received: Int
        var receivedPrevious: Int
        var receivedLastYear: Int
        var byChannel: [KeyCount]
        var byMatter: [KeyCount]
        /// The counties' requests (a city's report).
        var byCounty: [KeyCount]
        var indicators: [Line]
        var metCount: Int
        var judgedCount: Int
    }

    struct Summary: Content { var month: String; var region: String; var name: String; var generatedAt: Date; var href: String }

    static func mayRead(_ p: Principal) -> Bool { Scorecards.mayRead(p) }

    static func monthName(_ start: CivilDate) -> String { "\(start.year) 年 \(start.month) 月" }

    /// Builds the month's report for a region kept month by month (the city or a county).
    static func build(month start: CivilDate, region: DivisionCode, app: Application) async throws -> Report {
        let sql = app.db as! any SQLDatabase
        let month = start.monthKey, previous = start.previousMonthStart.monthKey
        let lastYearMonth = CivilDate.pad(start.year - 1, 4) + "-" + CivilDate.pad(start.month, 2)
        if start.nextMonthStart.monthKey == app.today.monthKey || start.monthKey == app.today.monthKey {
            try await IndicatorSeries.ensure(month: start, app: app)
        }
        let kept = try await IndicatorSeries.stored(region: region.rawValue, from: lastYearMonth, to: month, on: sql)
        let now = kept.filter { $0.month == month }
        guard !now.isEmpty else { throw AppError.validation(["month": "平台没有保存这个月的指标数据，无法生成月报"]) }
        let before = Dictionary(kept.filter { $0.month == previous }.map { ($0.indicator, $0.value) }, uniquingKeysWith: { a, _ in a })
        let lastYear = Dictionary(kept.filter { $0.month == lastYearMonth }.map { ($0.indicator, $0.value) }, uniquingKeysWith: { a, _ in a })
        let defs = app.indicators.definitions
        let byID = Dictionary(now.map { ($0.indicator, $0) }, uniquingKeysWith: { a, _ in a })
        let lines = defs.compactMap { d -> Line? in
            guard let r = byID[d.id] else { return nil }
            let prev = before[d.id] ?? nil, last = lastYear[d.id] ?? nil
            let units = (try? JSONDecoder().decode([ShortfallUnit].self, from: Data(r.shortfalls.utf8))) ?? []
            return Line(id: d.id, name: d.name, unit: d.unit.rawValue, value: r.value, target: r.target, comparator: d.comparator.rawValue, met: r.met,
                        previous: prev, monthOnMonth: Change.of(r.value, against: prev), lastYear: last, yearOnYear: Change.of(r.value, against: last),
                        shortfallCount: r.shortfallCount, shortfalls: units)
        }
        struct C: Decodable { var month: String; var regionCode: String; var matterType: String; var channel: String; var received: Int }
        let counts = try await sql.raw("""
            SELECT month, region_code, matter_type, channel, CAST(SUM(received) AS BIGINT) AS received FROM request_months
            WHERE month IN (\(bind: month), \(bind: previous), \(bind: lastYearMonth)) AND region_code LIKE \(bind: region.scopePrefix + "%")
            GROUP BY month, region_code, matter_type, channel
            """).all(decoding: C.self, keyDecodingStrategy: .convertFromSnakeCase)
        let these = counts.filter { $0.month == month }
        let group = { (key: (C) -> String, name: (String) -> String) -> [KeyCount] in KeyCount.tally(these, by: key, n: \.received, name: name) }
        var byCounty: [KeyCount] = []
        if region.level == .city {
            let counties = try await IndicatorSeries.keptRegions(on: sql, city: region).dropFirst()
            let names = try await RegionNames.names(Array(counties), on: sql)
            let sums = Dictionary(grouping: these, by: \.regionCode).mapValues { $0.reduce(0) { $0 + $1.received } }
            byCounty = counties.map { KeyCount(key: $0, name: names[$0] ?? $0, count: sums[$0] ?? 0) }.sorted { $0.count > $1.count }
        }
        let name = try await RegionController.find(region.rawValue, on: sql)?.name ?? region.rawValue
        return Report(month: month, monthName: monthName(start), region: .init(code: region.rawValue, name: name), generatedAt: app.clock.now,
                      received: these.reduce(0) { $0 + $1.received },
                      receivedPrevious: counts.filter { $0.month == previous }.reduce(0) { $0 + $1.received },
                      receivedLastYear: counts.filter { $0.month == lastYearMonth }.reduce(0) { $0 + $1.received },
                      byChannel: group(\.channel) { RequestChannel(rawValue: $0)?.chineseName ?? $0 },
                      byMatter: group(\.matterType) { MatterType(rawValue: $0)?.chineseName ?? $0 },
                      byCounty: byCounty, indicators: lines, metCount: lines.filter { $0.met == true }.count,
                      judgedCount: lines.filter { $0.met != nil }.count)
    }

    /// The archived report, written now if the month is over and it was not yet. `announce`: the job's writing on the
    /// first working day tells the leaders; a report written because someone asked for an old month does not.
    static func report(month raw: String, region: DivisionCode, app: Application, announce: Bool = false) async throws -> Report {
        guard let start = CivilDate.month(raw)?.start else { throw AppError.validation(["month": "月份应写作 YYYY-MM，如 2026-11"]) }
        guard start.nextMonthStart <= app.today else { throw AppError.validation(["month": "该月尚未结束：月报在次月第一个工作日生成"]) }
        guard region.level == .city || region.level == .county else { throw AppError.validation(["region": "月报按市和县（区）生成"]) }
        let sql = app.db as! any SQLDatabase
        struct S: Decodable { var body: String }
        if let s = try await sql.select().column("body").from("monthly_reports").where("month", .equal, start.monthKey)
            .where("region_code", .equal, region.rawValue).first(decoding: S.self),
           let report = try? JSONDecoder().decode(Report.self, from: Data(s.body.utf8)) {
            return report
        }
        let report = try await build(month: start, region: region, app: app)
        let body = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        let leaders = try await readers(of: region, on: sql)
        let text = "\(report.monthName)公共法律服务月报（\(report.region.name)）已生成：受理 \(report.received) 件，指标达标 \(report.metCount)/\(report.judgedCount) 项。"
        let inserted = try await app.ledger.write(on: app.db) { w -> Bool in
            let db = w.db as! any SQLDatabase
            struct N: Decodable { var n: Int }
            let exists = try await db.raw("SELECT COUNT(*) AS n FROM monthly_reports WHERE month = \(bind: report.month) AND region_code = \(bind: region.rawValue)")
                .first(decoding: N.self)?.n ?? 0
            guard exists == 0 else { return false }
            try await db.raw("INSERT INTO monthly_reports (month, region_code, generated_at, body) VALUES (\(bind: report.month), \(bind: region.rawValue), \(bind: report.generatedAt), \(bind: body))").run()
            if announce { try await Notifications.notify(accounts: leaders, request: nil, text: text, now: report.generatedAt, on: db) }
            return true
        }
        if !inserted, let s = try await sql.select().column("body").from("monthly_reports").where("month", .equal, start.monthKey)
            .where("region_code", .equal, region.rawValue).first(decoding: S.self),
           let stored = try? JSONDecoder().decode(Report.self, from: Data(s.body.utf8)) {
            return stored
        }
        return report
    }

    /// Who is told of a report: the city's leaders and administrators for the city's, the county's for a county's.
    static func readers(of region: DivisionCode, on sql: any SQLDatabase) async throws -> [UUID] {
        region.level == .city
            ? try await Notifications.accounts(roles: [.leader, .cityAdmin], regionPrefix: region.rawValue, on: sql)
            : try await Notifications.accounts(roles: [.leader, .countyAdmin], regionPrefix: region.scopePrefix, on: sql)
    }

    /// From the first working day of a month, last month's reports not yet written are written.
    static func generateDue(_ app: Application) async throws {
        let today = app.today
        let first = CivilDate(year: today.year, month: today.month, day: 1) ?? today
        guard today >= app.workingCalendar.nextWorkingDay(onOrAfter: first) else { return }
        let sql = app.db as! any SQLDatabase
        let month = first.previousMonthStart.monthKey
        let done = Set(try await sql.select().column("region_code").from("monthly_reports").where("month", .equal, month)
            .all(decodingColumn: "region_code", as: String.self))
        for code in try await IndicatorSeries.keptRegions(on: sql, city: app.city.code) where !done.contains(code) {
            guard let region = DivisionCode(code) else { continue }
            do { _ = try await report(month: month, region: region, app: app, announce: true) } catch let e as AppError where e.status == .unprocessableEntity {
                app.logger.info("monthly report \(month) \(code) not written: \(e.message)")
            }
        }
    }

    // MARK: API and pages

    static func regionAndMonth(_ req: Request) async throws -> (DivisionCode, String) {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (scope, _) = try await IndicatorController.scope(req, p)
        return (scope.region, req.parameters.get("month") ?? "")
    }

    static func apiReport(_ req: Request) async throws -> Report {
        let (region, month) = try await regionAndMonth(req)
        return try await report(month: month, region: region, app: req.application)
    }

    /// The archive: the reports written, newest first, that the principal may read.
    static func list(_ req: Request) async throws -> Paged<Summary> {
        let p = try req.staff()
        try p.require(mayRead(p))
        let page = try PageRequest(from: req)
        let prefix: String? = if case .region(let own) = p.scope { own.scopePrefix + "%" } else { nil }
        var q = req.sql.select().columns("month", "region_code", "generated_at").from("monthly_reports")
        var c = req.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("monthly_reports")
        if let prefix { q = q.where("region_code", .like, prefix); c = c.where("region_code", .like, prefix) }
        struct R: Decodable { var month: String; var regionCode: String; var generatedAt: Date }
        let rows = try await q.orderBy("month", .descending).orderBy("region_code").limit(page.per).offset(page.offset)
            .all(decoding: R.self, keyDecodingStrategy: .convertFromSnakeCase)
        let total = try await c.first(decodingColumn: "n", as: Int.self) ?? 0
        let names = try await RegionNames.names(rows.map(\.regionCode), on: req.sql)
        return Paged(items: rows.map {
            Summary(month: $0.month, region: $0.regionCode, name: names[$0.regionCode] ?? $0.regionCode, generatedAt: $0.generatedAt,
                    href: "/reports/monthly/\($0.month)?region=\($0.regionCode)")
        }, total: total, page: page.page, per: page.per)
    }

    static func export(_ req: Request) async throws -> Response {
        let (region, month) = try await regionAndMonth(req)
        let r = try await report(month: month, region: region, app: req.application)
        let num = { (v: Double?) in v.map { String(format: "%.1f", $0) } ?? "" }
        var rows: [[String]] = [["\(r.region.name) \(r.monthName)公共法律服务月报", "", "", "", "", "", "", "", ""],
                                ["指标", "本月末", "上月末", "环比", "去年同期", "同比", "目标", "是否达标", "未达标单位数"]]
        for l in r.indicators {
            rows.append([l.name, num(l.value), num(l.previous), num(l.monthOnMonth), num(l.lastYear), num(l.yearOnYear),
                         String(format: "%g", l.target), l.met.map { $0 ? "达标" : "未达标" } ?? "暂无数据", String(l.shortfallCount)])
        }
        rows.append([])
        rows.append(["受理渠道", "件数"])
        for c in r.byChannel { rows.append([c.name, String(c.count)]) }
        rows.append(["事项", "件数"])
        for c in r.byMatter { rows.append([c.name, String(c.count)]) }
        if !r.byCounty.isEmpty {
            rows.append(["县（区）", "件数"])
            for c in r.byCounty { rows.append([c.name, String(c.count)]) }
        }
        return try SheetFile.response(rows, numeric: [1, 2, 3, 4, 5, 6, 8], name: "monthly-report-\(r.month)-\(r.region.code)", format: .xlsx)
    }

    struct PageContext: Encodable {
        var page: PageMeta
        var r: Report
        var channels: Charts.Bars
        var counties: Charts.Bars
        var lines: [Row]
        var shortfalls: [Row]
        var regions: [SelectOption]
        var changeText: String
        /// When it was written, in Beijing time.
        var generatedText: String
        struct Row: Encodable {
            var name: String; var value: String; var previous: String; var mom: String; var lastYear: String; var yoy: String
            var target: String; var verdict: String; var verdictStyle: String; var shortfalls: String; var href: String
        }
    }

    static func page(_ req: Request) async throws -> View {
        let (region, month) = try await regionAndMonth(req)
        let r = try await report(month: month, region: region, app: req.application)
        let text = { (v: Double?, unit: String) -> String in
            guard let v else { return "—" }
            return unit == IndicatorUnit.percent.rawValue ? String(format: "%.1f%%", v) : Scorecards.format(v) + (unit == IndicatorUnit.minutes.rawValue ? " 分钟" : "")
        }
        let change = { (v: Double?, unit: String) -> String in
            guard let v else { return "—" }
            let s = unit == IndicatorUnit.percent.rawValue ? String(format: "%+.1f 个百分点", v) : (v >= 0 ? "+" : "") + Scorecards.format(v)
            return v == 0 ? "持平" : s
        }
        let rows = r.indicators.map { l in
            PageContext.Row(name: l.name, value: text(l.value, l.unit), previous: text(l.previous, l.unit), mom: change(l.monthOnMonth, l.unit),
                            lastYear: text(l.lastYear, l.unit), yoy: change(l.yearOnYear, l.unit),
                            target: (l.comparator == IndicatorComparator.atLeast.rawValue ? "≥ " : "≤ ") + text(l.target, l.unit),
                            verdict: l.met.map { $0 ? "达标" : "未达标" } ?? "暂无数据", verdictStyle: l.met.map { $0 ? "ok" : "warn" } ?? "muted",
                            shortfalls: l.shortfalls.prefix(5).map(\.name).joined(separator: "、") + (l.shortfallCount > 5 ? " 等 \(l.shortfallCount) 个" : ""),
                            href: "/admin/indicators/\(l.id)?region=\(r.region.code)&year=\(r.month.prefix(4))")
        }
        let diff = r.received - r.receivedPrevious
        let cityCode = req.application.city.code
        var regions: [SelectOption] = []
        if let p = req.auth.get(Principal.self), p.scope == .everything, let city = cityCode {
            let kept = try await IndicatorSeries.keptRegions(on: req.sql, city: city)
            let names = try await RegionNames.names(kept, on: req.sql)
            regions = kept.map { SelectOption(value: $0, label: names[$0] ?? $0, selected: $0 == r.region.code) }
        }
        return try await req.view.render("leaders/monthly-report", PageContext(
            page: req.pageMeta(title: "\(r.region.name) \(r.monthName)月报"), r: r,
            channels: Charts.bars(r.byChannel.map { ($0.name, Double($0.count), String($0.count), false) }),
            counties: Charts.bars(r.byCounty.map { ($0.name, Double($0.count), String($0.count), false) }),
            lines: rows, shortfalls: rows.filter { $0.verdict == "未达标" }, regions: regions,
            changeText: diff == 0 ? "与上月持平" : (diff > 0 ? "比上月多 \(diff) 件" : "比上月少 \(-diff) 件"),
            generatedText: String(DateFormatter.chinaTime.string(from: r.generatedAt).prefix(16))))
    }

    struct ListContext: Encodable {
        var page: PageMeta; var items: [Row]; var pager: Paged<Summary>
        struct Row: Encodable { var s: Summary; var generated: String }
    }

    static func listPage(_ req: Request) async throws -> View {
        let paged = try await list(req)
        let f = DateFormatter.chinaTime
        return try await req.view.render("leaders/monthly-reports", ListContext(
            page: req.pageMeta(title: "月报"), items: paged.items.map { .init(s: $0, generated: String(f.string(from: $0.generatedAt).prefix(16))) }, pager: paged))
    }
}
