import Vapor
import SQLKit
import PLSDomain

/// The staff workbench: the area's figures and its indicators in short.
enum AdminPages {
    struct Tile: Encodable { var label: String; var value: Int; var href: String }

    struct DashboardContext: Encodable {
        var page: PageMeta
        var regionName: String
        var tiles: [Tile]
        var cards: [IndicatorPages.IndicatorCard]
        var canEdit: Bool
    }

    static func dashboard(_ req: Request) async throws -> View {
        let p = try req.staff()
        let db = req.sql
        let scope = p.scope
        async let institutions = InstitutionController.list(.init(), scope: scope, page: PageRequest(page: 1, per: 1), on: db)
        async let practitioners = PractitionerController.list(.init(), scope: scope, page: PageRequest(page: 1, per: 1), on: db)
        guard let region = p.region ?? req.city.code else { throw CitySetup.notSetUp }
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
            cards: IndicatorPages.cards(results, limit: 5), canEdit: !p.role.isReadOnly))
    }
}
