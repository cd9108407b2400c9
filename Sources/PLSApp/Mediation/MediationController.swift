import Vapor
import SQLKit
import PLSDomain

/// /api/v1/mediation: the network (committees, members, listening points), cases and their steps,
/// hotspots, settings and statistics.
enum MediationController {
    struct CaseDetail: Content {
        var request: RequestViews.Detail
        var mediation: MediationCases.View
    }

    static func detail(_ r: ServiceRequest, for p: Principal, req: Request) async throws -> CaseDetail {
        var d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        guard let m = d.mediation else { throw AppError.notFound("调解案件") }
        d.sections.removeAll { $0.value is MediationCases.View }
        return CaseDetail(request: d, mediation: m)
    }

    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let r = try await MediationCases.create(try req.content.decode(MediationCases.CaseInput.self), by: p, app: req.application)
        return try Response(status: .created, headers: ["Location": "/api/v1/mediation/cases/\(r.id!)"]).encodeJSON(try await detail(r, for: p, req: req))
    }

    static func apiCase(_ req: Request) async throws -> CaseDetail {
        let p = try req.staff()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        return try await detail(r, for: p, req: req)
    }

    static func step(_ step: MediationCases.Step) -> @Sendable (Request) async throws -> CaseDetail {
        { req in
            let p = try req.staff()
            let input = req.body.data == nil ? MediationCases.StepInput() : try req.content.decode(MediationCases.StepInput.self)
            let r = try await MediationCases.perform(step, on: req.parameters.get("id") ?? "", input: input, by: p, app: req.application)
            return try await detail(r, for: p, req: req)
        }
    }

    static func apiCommittee(_ req: Request) async throws -> MediationNetwork.Committee {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人民调解委员会") }
        return try await MediationNetwork.committee(id, scope: p.scope, today: req.today, on: req.sql)
    }

    static func apiSaveMembers(_ req: Request) async throws -> MediationNetwork.Committee {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人民调解委员会") }
        return try await MediationNetwork.saveMembers(id, try req.content.decode(MediationNetwork.MembersInput.self), by: p,
                                                      today: req.today, now: req.now, app: req.application)
    }

    /// The region a staff member's mediation lists cover: their scope's, or for those bound to an institution
    /// the region of their account (a committee sees its own area, not the city's).
    static func apiSaveMediator(_ req: Request) async throws -> MediationNetwork.Mediator {
        let p = try req.staff()
        guard let id = req.parameters.get("practitionerId").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人员") }
        return try await MediationNetwork.saveMediator(id, try req.content.decode(MediationNetwork.MediatorInput.self), by: p, on: req.sql)
    }


    static func apiFlagged(_ req: Request) async throws -> [MediationNetwork.Flagged] {
        let p = try req.staff()
        return try await MediationNetwork.flagged(prefix: p.areaPrefix, today: req.today, on: req.sql)
    }

    /// Within the caller's area (a region asked for outside it finds nothing), paged.
    static func apiPoints(_ req: Request) async throws -> Paged<MediationNetwork.Point> {
        let p = try req.staff()
        var prefix = p.areaPrefix
        if let raw = req.queryValue("region"), !raw.isEmpty {
            guard let region = DivisionCode(raw), region.scopePrefix.hasPrefix(prefix) else { throw AppError.notFound("区划") }
            prefix = region.scopePrefix
        }
        return try await MediationNetwork.points(prefix: prefix, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiCreatePoint(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let point = try await MediationNetwork.createPoint(try req.content.decode(MediationNetwork.PointInput.self), by: p, on: req.sql)
        return try Response(status: .created).encodeJSON(point)
    }

    struct Alert: Content {
        var regionCode: String; var regionName: String; var category: String; var categoryName: String; var recent: Int; var earlier: Int; var raisedOn: String
        /// The cases behind it: the work queue filtered to them (`/api/v1/requests` takes the same query).
        var casesHref: String
    }

    static func alerts(prefix: String, on db: any SQLDatabase) async throws -> [Alert] {
        struct R: Decodable { var regionCode: String; var regionName: String?; var category: String; var recent: Int; var earlier: Int; var raisedOn: String }
        return try await db.raw("""
            SELECT a.region_code, g.name AS region_name, a.category, a.recent, a.earlier, a.raised_on FROM mediation_alerts a
            LEFT JOIN regions g ON g.code = a.region_code WHERE a.region_code LIKE \(bind: prefix + "%") ORDER BY a.raised_on DESC LIMIT 50
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Alert(regionCode: $0.regionCode, regionName: $0.regionName ?? $0.regionCode, category: $0.category,
                  categoryName: Category(rawValue: $0.category)?.chineseName ?? $0.category, recent: $0.recent, earlier: $0.earlier, raisedOn: $0.raisedOn,
                  casesHref: "/work?matterType=mediation&category=\($0.category)&region=\($0.regionCode)")
        }
    }

    static func apiHotspots(_ req: Request) async throws -> [Alert] {
        let p = try req.staff()
        return try await alerts(prefix: p.areaPrefix, on: req.sql)
    }

    static func apiStatistics(_ req: Request) async throws -> MediationIndicators.Statistics {
        let p = try req.staff()
        let (scope, _) = try await IndicatorController.scope(req, p)
        return try await MediationIndicators.statistics(region: scope.region, year: scope.year, on: req.sql)
    }
}
