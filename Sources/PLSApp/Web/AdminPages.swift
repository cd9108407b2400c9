import Vapor
import SQLKit
import PLSDomain

/// The staff workbench and the indicator dashboard.
enum AdminPages {
    struct Tile: Encodable { var label: String; var value: Int; var href: String }

    struct IndicatorCard: Encodable {
        var result: IndicatorRegistry.Result
        /// Bar width in percent of the track, for the server-rendered SVG.
        var bar: Double
        var targetMark: Double
        var valueText: String
        var targetText: String
        var moreShortfalls: Int
        /// The city's administrators set targets on the dashboard.
        var canSetTarget = false
    }

    struct DashboardContext: Encodable {
        var page: PageMeta
        var regionName: String
        var tiles: [Tile]
        var cards: [IndicatorCard]
        var canEdit: Bool
    }

    static func cards(_ results: [IndicatorRegistry.Result], limit: Int) -> [IndicatorCard] {
        results.map { r in
            var trimmed = r
            trimmed.shortfalls = Array(r.shortfalls.prefix(limit))
            let percent = r.unit == IndicatorUnit.percent.rawValue
            let text = percent ? String(format: "%.1f%%", r.value) : String(Int(r.value))
            let symbol = r.comparator == IndicatorComparator.atLeast.rawValue ? "≥" : "≤"
            let target = "目标 \(symbol) " + (percent ? String(format: "%g%%", r.target) : String(format: "%g", r.target))
            let scale = r.unit == IndicatorUnit.percent.rawValue ? 100.0 : max(r.target, r.value, 1)
            return IndicatorCard(result: trimmed, bar: min(100, r.value / scale * 100), targetMark: min(100, r.target / scale * 100),
                                 valueText: text, targetText: target, moreShortfalls: max(0, r.shortfallCount - trimmed.shortfalls.count))
        }
    }

    static func dashboard(_ req: Request) async throws -> View {
        let p = try req.staff()
        let db = req.sql
        let scope = p.scope
        async let institutions = InstitutionController.list(.init(), scope: scope, page: PageRequest(page: 1, per: 1), on: db)
        async let practitioners = PractitionerController.list(.init(), scope: scope, page: PageRequest(page: 1, per: 1), on: db)
        let region = p.region ?? DemoCity.cityCode
        let regionRow = try await RegionController.find(region.rawValue, on: db)
        let results = try await req.application.indicators.compute(IndicatorScope(region: region, year: req.today.year, today: req.today), on: db)
        var tiles = [Tile(label: "机构", value: try await institutions.total, href: "/admin/institutions"),
                     Tile(label: "法律服务人员", value: try await practitioners.total, href: "/admin/practitioners")]
        let open = try await RequestViews.list({ var f = RequestViews.Filter(); f.overdue = true; return f }(), scope: scope,
                                                page: PageRequest(page: 1, per: 1), today: req.today, protector: req.personalData, on: db)
        tiles.append(Tile(label: "超期事项", value: open.total, href: "/work?overdue=1"))
        if scope == .everything {
            // Regions are the city's reference data: the counts only mean something city-wide.
            let towns = try await RegionController.list(.init(level: .town), page: PageRequest(page: 1, per: 1), on: db)
            let villages = try await RegionController.list(.init(level: .village), page: PageRequest(page: 1, per: 1), on: db)
            tiles.append(Tile(label: "镇（街道）", value: towns.total, href: "/admin/regions?level=town"))
            tiles.append(Tile(label: "村（社区）", value: villages.total, href: "/admin/regions?level=village"))
        }
        return try await req.view.render("admin/dashboard", DashboardContext(
            page: req.pageMeta(title: "工作台"), regionName: regionRow?.name ?? "", tiles: tiles,
            cards: cards(results, limit: 5), canEdit: !p.role.isReadOnly))
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
        let results = try await req.application.indicators.compute(scope, on: req.sql)
        // The regions one may switch between: the city and its counties, as far as the scope reaches.
        let counties = try await RegionController.list(.init(parent: DemoCity.cityCode.rawValue), page: PageRequest(page: 1, per: 100), on: req.sql)
        var choices = [RegionController.Row]()
        if p.scope == .everything, let city = try await RegionController.find(DemoCity.cityCode.rawValue, on: req.sql) { choices.append(city) }
        choices += counties.items.filter { c in p.scope == .everything || (p.region.map { DivisionCode(c.code).map($0.contains) ?? false } ?? false) }
        if !choices.contains(where: { $0.code == row.code }) { choices.append(row) }
        return try await req.view.render("admin/indicators", IndicatorsContext(
            page: req.pageMeta(title: "指标看板"), regionName: row.name, regionCode: row.code, year: scope.year,
            regions: choices.map { SelectOption(value: $0.code, label: $0.name, selected: $0.code == row.code) },
            cards: cards(results, limit: IndicatorRegistry.shortfallLimit).map { var c = $0; c.canSetTarget = p.role == .cityAdmin; return c },
            metCount: results.filter(\.met).count))
    }

    static func setTarget(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let id = req.parameters.get("id") ?? ""
        do {
            _ = try await IndicatorTargets.setTarget(id, req.formValue("target").flatMap(Double.init), app: req.application, now: req.now)
            return req.redirect(to: "/admin/indicators", flash: "已修改指标目标")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return req.redirect(to: "/admin/indicators", flash: e.fields["target"] ?? e.message)
        }
    }
}
