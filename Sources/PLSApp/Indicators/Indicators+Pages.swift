import Vapor
import SQLKit
import PLSDomain

/// The indicator board: every indicator of a region and year against its target, with the units that fall short;
/// the cards other pages show (legal aid, mediation) and setting a target.
enum IndicatorPages {
    struct IndicatorCard: Encodable {
        var result: IndicatorRegistry.Result
        /// Bar width in percent of the track, for the server-rendered SVG.
        var bar: Double
        var targetMark: Double
        var valueText: String
        var targetText: String
        var moreShortfalls: Int
        /// 达标, 未达标 or 暂无数据, and the badge's style.
        var verdict: String
        var verdictStyle: String
        /// The city's administrators set targets on the dashboard.
        var canSetTarget = false
        /// The drill-down by unit, on the board.
        var detailHref: String?
    }

    static func cards(_ results: [IndicatorRegistry.Result], limit: Int) -> [IndicatorCard] {
        results.map { r in
            var trimmed = r
            trimmed.shortfalls = Array(r.shortfalls.prefix(limit))
            let percent = r.unit == IndicatorUnit.percent.rawValue
            let suffix = r.unit == IndicatorUnit.minutes.rawValue ? " 分钟" : ""
            let text = r.value.map { percent ? String(format: "%.1f%%", $0) : String(Int($0.rounded())) + suffix } ?? "暂无数据"
            let symbol = r.comparator == IndicatorComparator.atLeast.rawValue ? "≥" : "≤"
            let target = "目标 \(symbol) " + (percent ? String(format: "%g%%", r.target) : String(format: "%g", r.target) + suffix)
            let value = r.value ?? 0
            let scale = r.unit == IndicatorUnit.percent.rawValue ? 100.0 : max(r.target, value, 1)
            let verdict = switch r.met { case true?: ("达标", "ok"); case false?: ("未达标", "warn"); case nil: ("暂无数据", "muted") }
            return IndicatorCard(result: trimmed, bar: min(100, value / scale * 100), targetMark: min(100, r.target / scale * 100),
                                 valueText: text, targetText: target, moreShortfalls: max(0, r.shortfallCount - trimmed.shortfalls.count),
                                 verdict: verdict.0, verdictStyle: verdict.1)
        }
    }

    struct IndicatorsContext: Encodable {
        var page: PageMeta
        var regionName: String
        var regionCode: String
        var year: Int
        var regions: [SelectOption]
        var cards: [IndicatorCard]
        var metCount: Int
    }

    static func indicators(_ req: Request) async throws -> View {
        let p = try req.staff()
        let (scope, row) = try await IndicatorController.scope(req, p)
        let results = try await req.application.indicators.compute(scope, on: req.readSQL)
        // The regions one may switch between: the city and its counties, as far as the scope reaches.
        let cityCode = req.city.code?.rawValue ?? row.code
        let counties = try await RegionController.list(.init(parent: cityCode), page: PageRequest(page: 1, per: 100), on: req.sql)
        var choices = [RegionController.Row]()
        if p.scope == .everything, let city = try await RegionController.find(cityCode, on: req.sql) { choices.append(city) }
        choices += counties.items.filter { c in p.scope == .everything || (p.region.map { DivisionCode(c.code).map($0.contains) ?? false } ?? false) }
        if !choices.contains(where: { $0.code == row.code }) { choices.append(row) }
        return try await req.view.render("indicators/indicators", IndicatorsContext(
            page: req.pageMeta(title: "指标看板"), regionName: row.name, regionCode: row.code, year: scope.year,
            regions: choices.map { SelectOption(value: $0.code, label: $0.name, selected: $0.code == row.code) },
            cards: cards(results, limit: IndicatorRegistry.shortfallLimit).map {
                var c = $0
                c.canSetTarget = p.role == .cityAdmin
                c.detailHref = "/admin/indicators/\($0.result.id)?region=\(row.code)&year=\(scope.year)"
                return c
            },
            metCount: results.filter { $0.met == true }.count))
    }

    struct BreakdownContext: Encodable {
        var page: PageMeta; var b: IndicatorController.Breakdown; var card: IndicatorCard; var rows: [Row]; var up: String?; var upName: String?
        /// The months of this year and last (`IndicatorSeries`), as a chart and a table.
        var chart: Charts.Months; var months: [MonthRow]; var yearOnYear: String?
        struct MonthRow: Encodable { var month: String; var value: String; var lastYear: String }
        struct Row: Encodable { var name: String; var href: String?; var valueText: String; var verdict: String; var verdictStyle: String; var bar: Double; var counts: String? }
    }

    /// The drill-down page: the indicator for the region, then each unit one level down, worst first, each a link further down.
    static func breakdown(_ req: Request) async throws -> View {
        let b = try await IndicatorController.breakdown(req)
        let card = cards([b.indicator], limit: 10)[0]
        let percent = b.indicator.unit == IndicatorUnit.percent.rawValue
        let atLeast = b.indicator.comparator == IndicatorComparator.atLeast.rawValue
        let rows = b.items.sorted {
            // The ones falling short first, the worst of them at the top; those without data last.
            let a = ($0.met == false ? 0 : ($0.met == true ? 1 : 2)), c = ($1.met == false ? 0 : ($1.met == true ? 1 : 2))
            if a != c { return a < c }
            let x = $0.value ?? 0, y = $1.value ?? 0
            return atLeast ? x < y : x > y
        }.map { u in
            let verdict = switch u.met { case true?: ("达标", "ok"); case false?: ("未达标", "warn"); case nil: ("暂无数据", "muted") }
            let scale = percent ? 100.0 : max(b.indicator.target, u.value ?? 0, 1)
            return BreakdownContext.Row(
                name: u.name, href: u.drillable ? "/admin/indicators/\(b.indicator.id)?region=\(u.region)&year=\(b.year)" : nil,
                valueText: u.value.map { percent ? String(format: "%.1f%%", $0) : String(Int($0.rounded())) } ?? "暂无数据",
                verdict: verdict.0, verdictStyle: verdict.1, bar: min(100, (u.value ?? 0) / scale * 100),
                counts: u.denominator.map { "\(u.numerator ?? 0) / \($0)" })
        }
        // Up a level, within what the principal may see.
        var up: String?, upName: String?
        if let code = DivisionCode(b.region.code), let parent = code.parent, let p = req.auth.get(Principal.self),
           p.scope == .everything || (p.region.map { $0.contains(parent) } ?? false),
           let row = try await RegionController.find(parent.rawValue, on: req.sql) {
            up = "/admin/indicators/\(b.indicator.id)?region=\(row.code)&year=\(b.year)"
            upName = row.name
        }
        let series = try await IndicatorSeries.series(req)
        let monthOf = { (p: IndicatorSeries.Point) in Int(p.month.suffix(2)) ?? 0 }
        let format = { (v: Double?) in v.map { percent ? String(format: "%.1f%%", $0) : Scorecards.format($0) } ?? "—" }
        let months = (1...12).compactMap { m -> BreakdownContext.MonthRow? in
            let this = series.items.first { monthOf($0) == m }, last = series.lastYear.first { monthOf($0) == m }
            guard this != nil || last != nil else { return nil }
            return .init(month: "\(m) 月", value: format(this?.value), lastYear: format(last?.value))
        }
        let chart = Charts.months(thisYear: series.items.map { (monthOf($0), $0.value) }, lastYear: series.lastYear.map { (monthOf($0), $0.value) },
                                  target: b.indicator.targetSource == "rising" ? nil : b.indicator.target, percent: percent)
        let yoy = series.yearOnYear.map { v in v == 0 ? "与去年同期持平" : (percent ? String(format: "比去年同期%@ %.1f 个百分点", v > 0 ? "提高" : "下降", abs(v))
                                                                              : "比去年同期" + (v > 0 ? "增加 " : "减少 ") + Scorecards.format(abs(v))) }
        return try await req.view.render("indicators/breakdown", BreakdownContext(
            page: req.pageMeta(title: "\(b.indicator.name) · \(b.region.name)"), b: b, card: card, rows: rows, up: up, upName: upName,
            chart: chart, months: months, yearOnYear: yoy))
    }

    static func setTarget(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let id = req.parameters.get("id") ?? ""
        do {
            _ = try await IndicatorTargets.setTarget(id, req.formValue("target").flatMap(Double.init), actor: req.auditActor, app: req.application, now: req.now)
            return req.redirect(to: "/admin/indicators", flash: "已修改指标目标")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return req.redirect(to: "/admin/indicators", flash: e.fields["target"] ?? e.message)
        }
    }
}
