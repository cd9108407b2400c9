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

    static func apiList(_ req: Request) async throws -> Report {
        let p = try req.staff()
        let (scope, row) = try await scope(req, p)
        let items = try await req.application.indicators.compute(scope, on: req.sql, logger: req.logger)
        return Report(region: .init(code: row.code, name: row.name), year: scope.year, items: items)
    }
}
