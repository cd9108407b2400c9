import Vapor
import SQLKit
import PLSDomain

struct IndicatorController {
    struct Report: Content {
        var region: ShortfallUnit
        var year: Int
        var items: [IndicatorRegistry.Result]
    }

    /// The region asked for, defaulting to the principal's own; outside their scope it is 403.
    static func scope(_ req: Request, _ p: Principal) async throws -> (IndicatorScope, RegionController.Row) {
        let raw = (try? req.query.get(String.self, at: "region")).flatMap { $0.isEmpty ? nil : $0 } ?? p.region?.rawValue ?? req.city.code?.rawValue ?? ""
        guard let code = DivisionCode(raw), code.level != .naturalVillage else {
            throw AppError.validation(["region": "区划代码无效"])
        }
        guard let row = try await RegionController.find(code.rawValue, on: req.sql) else { throw AppError.notFound("行政区划") }
        let scope = p.scope
        let visible: Bool
        switch scope {
        case .everything: visible = true
        case .region(let own): visible = own.contains(code)
        case .institution, .own: visible = p.region.map { $0.contains(code) } ?? false
        }
        guard visible else { throw AppError(.forbidden, "forbidden", "该区划不在您的管辖范围内") }
        let currentYear = Calendar(identifier: .gregorian).component(.year, from: req.now)
        let year = (try? req.query.get(Int.self, at: "year")) ?? currentYear
        guard (2000...2100).contains(year) else { throw AppError.validation(["year": "年份应在 2000–2100 之间"]) }
        return (IndicatorScope(region: code, year: year, today: req.today), row)
    }

    /// 逐级下钻 (issue #24, item 2): one indicator for the region and for each of its units one level down, each with its
    /// value and whether it meets the target, so that a leader sees which county (then town, then village) falls short.
    struct Breakdown: Content {
        var region: ShortfallUnit
        var year: Int
        var indicator: IndicatorRegistry.Result
        var items: [Unit]
        /// In a town or a village, the records behind the shortfall (late requests, committees breaking the rules),
        /// each linked to where it is fixed; empty for indicators that count units.
        var records: [ShortfallUnit] = []
        struct Unit: Content {
            var region: String
            var name: String
            var level: String
            var value: Double?
            var met: Bool?
            var numerator: Int?
            var denominator: Int?
            /// Whether the unit has units of its own to drill into.
            var drillable: Bool
        }
    }

    static func breakdown(_ req: Request) async throws -> Breakdown {
        let p = try req.staff()
        let id = req.parameters.get("id") ?? ""
        guard req.application.indicators.definitions.contains(where: { $0.id == id }) else { throw AppError.notFound("指标") }
        let (scope, row) = try await scope(req, p)
        let registry = req.application.indicators
        let read = req.readSQL
        let targets = try await IndicatorRegistry.targets(on: read)
        guard let own = try await registry.compute(scope, only: id, targets: targets, on: read, logger: req.logger).first else { throw AppError.notFound("指标") }
        // Villages have none below them (natural villages are not units of the indicators).
        var items: [Breakdown.Unit] = []
        if scope.region.level != .village {
            let children = try await RegionController.list(.init(parent: row.code), page: PageRequest(page: 1, per: 200), on: req.sql).items
            for child in children {
                guard let code = DivisionCode(child.code), code.level != .naturalVillage,
                      let r = try await registry.compute(IndicatorScope(region: code, year: scope.year, today: scope.today), only: id, targets: targets,
                                                             on: read).first
                else { continue }
                items.append(.init(region: child.code, name: child.name, level: child.level, value: r.value, met: r.met, numerator: r.numerator,
                                   denominator: r.denominator, drillable: code.level != .village))
            }
        }
        var records: [ShortfallUnit] = []
        if [.town, .village].contains(scope.region.level), let find = registry.definitions.first(where: { $0.id == id })?.records {
            records = try await find(scope, read)
        }
        return Breakdown(region: .init(code: row.code, name: row.name), year: scope.year, indicator: own, items: items, records: records)
    }

    static func apiList(_ req: Request) async throws -> Report {
        let p = try req.staff()
        let (scope, row) = try await scope(req, p)
        let items = try await req.application.indicators.compute(scope, on: req.readSQL, logger: req.logger)
        return Report(region: .init(code: row.code, name: row.name), year: scope.year, items: items)
    }
}
