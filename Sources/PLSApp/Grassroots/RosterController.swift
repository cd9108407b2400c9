import Vapor
import SQLKit
import PLSDomain

/// /api/v1/rosters/{kind}: list, add, end, CSV import and export.
enum RosterController {
    static func apiList(_ req: Request) async throws -> Paged<Rosters.Entry> {
        let p = try req.staff()
        return try await Rosters.list(try Rosters.kind(req), prefix: p.areaPrefix, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiAdd(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let e = try await Rosters.add(try Rosters.kind(req), try req.content.decode(Rosters.Input.self), by: p, actor: req.auditActor, protector: req.personalData, today: req.today, now: req.now, on: req.sql)
        return try Response(status: .created).encodeJSON(e)
    }

    static func apiEnd(_ req: Request) async throws -> HTTPStatus {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("名册记录") }
        try await Rosters.end(try Rosters.kind(req), id, by: p, actor: req.auditActor, protector: req.personalData, today: req.today,
                              now: req.now, on: req.sql)
        return .noContent
    }

    static func apiExport(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let p = try req.staff()
        let kind = try Rosters.kind(req)
        return try SheetFile.response(try await Rosters.export(kind, prefix: p.areaPrefix, on: req.readSQL), name: kind.rawValue, format: format)
    }

    static func apiImport(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try req.limit(.importFile, key: p.accountID.uuidString)
        let kind = try Rosters.kind(req)
        let result = try await Rosters.importSheet(kind, req.body.data, by: p, actor: req.auditActor, today: req.today, now: req.now, app: req.application)
        if !result.errors.isEmpty { throw VillageAdviserController.rejected(result) }
        return try Response(status: .created).encodeJSON(result)
    }
}
