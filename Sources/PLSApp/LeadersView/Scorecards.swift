import Vapor
import SQLKit
import PLSDomain

/// 督查考核 (issue #24, item 3): the city chooses indicators, weights and each one's scoring rule; each county gets a
/// score out of 100 and a rank per quarter and year, judged on the indicators' figures at the period's end as kept month
/// by month (`IndicatorSeries`). A period that is over is computed once and stored with the weights used, so that a
/// scorecard circulated stays as it was when the weights change later.
enum Scorecards {
    struct Weight: Content, Equatable {
        var indicator: String
        var weight: Double
        var rule: String
        var name: String?
        var ruleName: String?
    }

    struct Lost: Content { var indicator: String; var name: String; var points: Double }

    struct Line: Content {
        var indicator: String
        var name: String
        var value: Double?
        var target: Double
        var met: Bool?
        var weight: Double
        /// Points won of the weight; null when the county had nothing to measure (left out of its score).
        var earned: Double?
    }

    struct Item: Content {
        var region: String
        var name: String
        var score: Double
        var rank: Int
        var lost: [Lost]
        var lines: [Line]
    }

    struct Card: Content {
        var period: String
        var periodName: String
        /// Stored once the period is over; a period under way is scored on the figures kept so far.
        var final: Bool
        var computedAt: Date
        /// The month whose year-to-date figures were scored.
        var judgedMonth: String
        var weights: [Weight]
        var items: [Item]
    }

    static func mayRead(_ p: Principal) -> Bool { [.cityAdmin, .countyAdmin, .leader, .auditor].contains(p.role) }

    /// The weights in force: the city's choice, or every indicator at 10 scored met/not met until it chooses.
    static func weights(_ app: Application, on sql: any SQLDatabase) async throws -> [Weight] {
        struct R: Decodable { var indicator: String; var weight: Double; var rule: String }
        let rows = try await sql.select().columns("indicator", "weight", "rule").from("scorecard_items").orderBy("indicator").all(decoding: R.self)
        let defs = app.indicators.definitions
        let chosen = rows.isEmpty ? defs.map { R(indicator: $0.id, weight: 10, rule: ScoringRule.met.rawValue) } : rows
        // In the order of the board; an indicator no longer registered is left out.
        return defs.compactMap { d in
            chosen.first { $0.indicator == d.id }.map {
                Weight(indicator: $0.indicator, weight: $0.weight, rule: $0.rule, name: d.name, ruleName: ScoringRule(rawValue: $0.rule)?.chineseName)
            }
        }
    }

    struct WeightsInput: Content { var items: [Weight] }

    static func setWeights(_ input: WeightsInput, app: Application, actor: AuditLog.Actor, now: Date) async throws -> [Weight] {
        var fields: [String: String] = [:]
        let known = Set(app.indicators.definitions.map(\.id))
        if input.items.isEmpty || input.items.count > 100 { fields["items"] = "请选择 1–100 项考核指标" }
        var seen = Set<String>()
        for (i, w) in input.items.enumerated() {
            if !known.contains(w.indicator) { fields["items[\(i)].indicator"] = "没有这项指标" }
            if !seen.insert(w.indicator).inserted { fields["items[\(i)].indicator"] = "指标重复" }
            if !(w.weight.isFinite && w.weight > 0 && w.weight <= 100) { fields["items[\(i)].weight"] = "权重应在 0–100 之间（不含 0）" }
            if ScoringRule(rawValue: w.rule) == nil { fields["items[\(i)].rule"] = "计分方式应为 met（达标得分）或 proportional（按完成比例得分）" }
        }
        guard fields.isEmpty else { throw AppError.validation(fields) }
        let items = input.items.map { Weight(indicator: $0.indicator, weight: $0.weight, rule: $0.rule) }
        let before = try await weights(app, on: app.db as! any SQLDatabase).map { Weight(indicator: $0.indicator, weight: $0.weight, rule: $0.rule) }
        try await app.db.atomic { tx in
            let db = tx as! any SQLDatabase
            try await db.raw("DELETE FROM scorecard_items").run()
            var insert = db.insert(into: "scorecard_items").columns("indicator", "weight", "rule")
            for i in items { insert = insert.values(SQLBind(i.indicator), SQLBind(i.weight), SQLBind(i.rule)) }
            try await insert.run()
            try await AuditLog.record("scorecard.weights", target: "县（区）考核指标与权重", before: before, after: items,
                                      by: actor, protector: app.personalData, on: db, at: now)
        }
        return try await weights(app, on: app.db as! any SQLDatabase)
    }

    /// The scorecard of a period: stored once the period is over, else scored on the figures kept so far.
    static func card(_ period: ReportPeriod, app: Application) async throws -> Card {
        guard period.kind != .month else { throw AppError.validation(["period": "考核按季度（如 2026-Q3）或年度（如 2026）"]) }
        let sql = app.db as! any SQLDatabase
        let today = app.today
        guard period.firstDay <= today else { throw AppError.validation(["period": "该考核期尚未开始"]) }
        struct S: Decodable { var body: String }
        let stored = { () async throws -> Card? in
            try await sql.select().column("body").from("scorecards").where("period", .equal, period.description).first(decoding: S.self)
                .flatMap { try? JSONDecoder().decode(Card.self, from: Data($0.body.utf8)) }
        }
        if period.isOver(on: today), let card = try await stored() { return card }
        let card = try await compute(period, app: app)
        if card.final {
            let body = String(decoding: try JSONEncoder().encode(card), as: UTF8.self)
            try await app.ledger.write(on: app.db) { w in
                try await (w.db as! any SQLDatabase).raw("""
                    INSERT INTO scorecards (period, computed_at, body) VALUES (\(bind: card.period), \(bind: card.computedAt), \(bind: body))
                    ON CONFLICT (period) DO NOTHING
                    """).run()
            }
            // Two first readers at once: both return the one stored.
            return try await stored() ?? card
        }
        return card
    }

    static func compute(_ period: ReportPeriod, app: Application) async throws -> Card {
        let sql = app.db as! any SQLDatabase
        let today = app.today
        let month = period.judgedMonth(today: today)
        if let start = CivilDate.month(month)?.start, start.monthKey == today.monthKey || start.nextMonthStart.monthKey == today.monthKey {
            try await IndicatorSeries.ensure(month: start, app: app)
        }
        let regions = try await IndicatorSeries.keptRegions(on: sql, city: app.city.code).dropFirst()
        let weights = try await weights(app, on: sql)
        struct R: Decodable { var indicator: String; var regionCode: String; var value: Double?; var target: Double; var met: Bool? }
        let rows = regions.isEmpty ? [] : try await sql.select().columns("indicator", "region_code", "value", "target", "met").from(IndicatorSeries.schema)
            .where("month", .equal, month).where("region_code", .in, SQLBind.group(Array(regions)))
            .all(decoding: R.self, keyDecodingStrategy: .convertFromSnakeCase)
        guard !rows.isEmpty else { throw AppError.validation(["period": "平台没有保存这一期的指标数据，无法考核"]) }
        let byKey = Dictionary(rows.map { ($0.regionCode + "/" + $0.indicator, $0) }, uniquingKeysWith: { a, _ in a })
        let defs = Dictionary(uniqueKeysWithValues: app.indicators.definitions.map { ($0.id, $0) })
        let names = try await RegionNames.names(Array(regions), on: sql)
        var scored: [(String, CountyScoring.Score, [Line])] = []
        for region in regions {
            var items: [CountyScoring.Item] = []
            var lines: [Line] = []
            for w in weights {
                let r = byKey[region + "/" + w.indicator]
                let item = CountyScoring.Item(indicator: w.indicator, weight: w.weight, rule: ScoringRule(rawValue: w.rule) ?? .met, value: r?.value,
                                              target: r?.target ?? defs[w.indicator]?.target ?? 0,
                                              atLeast: defs[w.indicator]?.comparator != .atMost, met: r?.met)
                items.append(item)
                lines.append(Line(indicator: w.indicator, name: w.name ?? w.indicator, value: item.value, target: item.target, met: item.met,
                                  weight: w.weight, earned: item.earned.map { ($0 * 10).rounded() / 10 }))
            }
            scored.append((region, CountyScoring.score(items), lines))
        }
        let ranks = CountyScoring.rank(scored.map { (id: $0.0, score: $0.1.score) })
        let items = scored.map { s in
            Item(region: s.0, name: names[s.0] ?? s.0, score: s.1.score, rank: ranks[s.0] ?? 0,
                 lost: s.1.lost.map { Lost(indicator: $0.indicator, name: defs[$0.indicator]?.name ?? $0.indicator, points: $0.points) }, lines: s.2)
        }.sorted { $0.rank != $1.rank ? $0.rank < $1.rank : $0.region < $1.region }
        return Card(period: period.description, periodName: period.chineseName, final: period.isOver(on: today), computedAt: app.clock.now,
                    judgedMonth: month, weights: weights, items: items)
    }

    /// At the start of a quarter, the quarter just over (and in January the year) is stored.
    static func snapshotDue(_ app: Application) async throws {
        let today = app.today
        let q = (today.month - 1) / 3
        let previous = q == 0 ? ReportPeriod(kind: .quarter, year: today.year - 1, part: 4) : ReportPeriod(kind: .quarter, year: today.year, part: q)
        var due = [previous]
        if today.month == 1 { due.append(ReportPeriod(kind: .year, year: today.year - 1, part: 0)) }
        for p in due { _ = try? await card(p, app: app) }
    }

    // MARK: API and pages

    static func period(_ req: Request) throws -> ReportPeriod {
        let raw = (try? req.query.get(String.self, at: "period")) ?? ""
        if raw.isEmpty {
            let t = req.today
            return ReportPeriod(kind: .quarter, year: t.year, part: (t.month - 1) / 3 + 1)
        }
        guard let p = ReportPeriod(raw), p.kind != .month else { throw AppError.validation(["period": "考核期应写作 2026（年度）或 2026-Q3（季度）"]) }
        return p
    }

    /// A county's administrator sees their own county's line (and its rank); the city and the leaders see all.
    static func visible(_ card: Card, to p: Principal) -> Card {
        guard case .region(let own) = p.scope, own.level != .city else { return card }
        var c = card
        c.items = card.items.filter { DivisionCode($0.region).map(own.contains) ?? false }
        return c
    }

    static func apiCard(_ req: Request) async throws -> Card {
        let p = try req.staff()
        try p.require(mayRead(p))
        return visible(try await card(try period(req), app: req.application), to: p)
    }

    static func apiWeights(_ req: Request) async throws -> WeightsInput {
        let p = try req.staff()
        try p.require(mayRead(p))
        return WeightsInput(items: try await weights(req.application, on: req.sql))
    }

    static func apiSetWeights(_ req: Request) async throws -> WeightsInput {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let input = try req.content.decode(WeightsInput.self)
        return WeightsInput(items: try await setWeights(input, app: req.application, actor: req.auditActor, now: req.now))
    }

    static func export(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(mayRead(p))
        let card = visible(try await card(try period(req), app: req.application), to: p)
        var rows: [[String]] = [["排名", "县（区）", "得分"] + card.weights.map { "\($0.name ?? $0.indicator)（权重 \(format($0.weight))）" } + ["失分指标"]]
        for i in card.items {
            rows.append([String(i.rank), i.name, format(i.score)]
                        + i.lines.map { $0.earned.map(format) ?? "不计分" }
                        + [i.lost.map { "\($0.name) −\(format($0.points))" }.joined(separator: "；")])
        }
        return try SheetFile.response(rows, numeric: Set([0, 2] + card.weights.indices.map { $0 + 3 }),
                                      name: "scorecard-\(card.period)", format: .xlsx)
    }

    static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }

    struct PageContext: Encodable {
        var page: PageMeta
        var card: Card
        var periods: [SelectOption]
        var canEdit: Bool
        var rows: [Row]
        var error: String?
        struct Row: Encodable { var rank: Int; var name: String; var score: String; var bar: Double; var lost: String; var cells: [String] }
    }

    static func page(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(mayRead(p))
        let t = req.today
        var choices: [ReportPeriod] = []
        for y in [t.year, t.year - 1] {
            let lastQ = y == t.year ? (t.month - 1) / 3 + 1 : 4
            for q in stride(from: lastQ, through: 1, by: -1) { choices.append(ReportPeriod(kind: .quarter, year: y, part: q)) }
            choices.append(ReportPeriod(kind: .year, year: y, part: 0))
        }
        let chosen = try period(req)
        var card: Card
        var error: String?
        do {
            card = visible(try await Scorecards.card(chosen, app: req.application), to: p)
        } catch let e as AppError where e.status == .unprocessableEntity {
            error = e.fields["period"] ?? e.message
            card = Card(period: chosen.description, periodName: chosen.chineseName, final: false, computedAt: req.now, judgedMonth: "",
                        weights: try await weights(req.application, on: req.sql), items: [])
        }
        let rows = card.items.map { i in
            PageContext.Row(rank: i.rank, name: i.name, score: format(i.score), bar: max(0, min(100, i.score)),
                            lost: i.lost.isEmpty ? "—" : i.lost.prefix(5).map { "\($0.name) −\(format($0.points))" }.joined(separator: "；")
                                + (i.lost.count > 5 ? " 等 \(i.lost.count) 项" : ""),
                            cells: i.lines.map { l in l.earned.map(format) ?? "不计分" })
        }
        return try await req.view.render("leaders/scorecard", PageContext(
            page: req.pageMeta(title: "县（区）考核 · \(card.periodName)"), card: card,
            periods: (choices.contains(chosen) ? choices : [chosen] + choices).map { SelectOption(value: $0.description, label: $0.chineseName, selected: $0 == chosen) },
            canEdit: p.role == .cityAdmin, rows: rows, error: error))
    }

    struct WeightsContext: Encodable {
        var page: PageMeta
        var rows: [Row]
        struct Row: Encodable { var indicator: String; var name: String; var chosen: Bool; var weight: String; var proportional: Bool }
    }

    static func weightsPage(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let current = try await weights(req.application, on: req.sql)
        let rows = req.application.indicators.definitions.map { d in
            let w = current.first { $0.indicator == d.id }
            return WeightsContext.Row(indicator: d.id, name: d.name, chosen: w != nil, weight: w.map { format($0.weight) } ?? "10",
                                      proportional: w?.rule == ScoringRule.proportional.rawValue)
        }
        return try await req.view.render("leaders/scorecard-weights", WeightsContext(page: req.pageMeta(title: "考核指标与权重"), rows: rows))
    }

    static func weightsSubmit(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        var items: [Weight] = []
        for d in req.application.indicators.definitions where req.formValue("use_\(d.id)") != nil {
            let raw = req.formValue("weight_\(d.id)") ?? ""
            items.append(Weight(indicator: d.id, weight: Double(raw) ?? .nan, rule: req.formValue("rule_\(d.id)") ?? ScoringRule.met.rawValue))
        }
        do {
            _ = try await setWeights(WeightsInput(items: items), app: req.application, actor: req.auditActor, now: req.now)
            return req.redirect(to: "/admin/scorecards", flash: "已保存考核指标与权重；已结束的考核期保持原结果")
        } catch let e as AppError where e.status == .unprocessableEntity {
            let message = e.fields.first { $0.key.hasSuffix(".weight") }.map { _ in "权重应为 0–100 之间的数（不含 0）" } ?? e.fields.values.first ?? e.message
            return req.redirect(to: "/admin/scorecards/weights", flash: message)
        }
    }
}
