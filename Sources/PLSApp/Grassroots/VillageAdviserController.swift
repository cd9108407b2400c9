import Vapor
import SQLKit
import PLSDomain

/// /api/v1/village-advisers: assignments, the service log (with CSV import and export), and the
/// quantified view by village, adviser and month.
enum VillageAdviserController {

    static func apiAssignments(_ req: Request) async throws -> Paged<VillageAdvisers.Assignment> {
        let p = try req.staff()
        let region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init)
        var pre = p.areaPrefix
        if let region, region.scopePrefix.hasPrefix(pre) { pre = region.scopePrefix }
        let practitioner = (try? req.query.get(String.self, at: "practitioner")).flatMap(UUID.init(uuidString:))
        let current = (try? req.query.get(String.self, at: "current")).map { ["1", "true"].contains($0) } ?? false
        return try await VillageAdvisers.assignments(prefix: pre, practitioner: practitioner, current: current, today: req.today,
                                                     page: try PageRequest(from: req), on: req.sql)
    }

    static func apiAssign(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let a = try await VillageAdvisers.assign(try req.content.decode(VillageAdvisers.AssignmentInput.self), by: p, actor: req.auditActor,
                                                 protector: req.personalData, today: req.today, now: req.now, on: req.sql)
        return try Response(status: .created).encodeJSON(a)
    }

    struct EndInput: Content { var endOn: String? }

    static func apiEnd(_ req: Request) async throws -> HTTPStatus {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("聘任记录") }
        let input = req.body.data == nil ? EndInput() : try req.content.decode(EndInput.self)
        var day: CivilDate?
        if let raw = input.endOn?.nilIfEmpty {
            day = CivilDate(raw)
            if day == nil { throw AppError.validation(["endOn": "日期格式应为 YYYY-MM-DD"]) }
        }
        try await VillageAdvisers.endAssignment(id, on: day, by: p, actor: req.auditActor, protector: req.personalData, today: req.today,
                                                now: req.now, on: req.sql)
        return .noContent
    }

    static func filter(_ req: Request, _ p: Principal) -> SQLQueryString {
        var f = VillageAdvisers.scopeFilter(p)
        if let region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init) {
            f = f + " AND s.region_code LIKE \(bind: region.scopePrefix + "%")"
        }
        if let practitioner = (try? req.query.get(String.self, at: "practitioner")).flatMap(UUID.init(uuidString:)) {
            f = f + " AND s.practitioner_id = \(bind: practitioner)"
        }
        if let year = try? req.query.get(Int.self, at: "year") {
            f = f + " AND s.served_on >= \(bind: "\(year)-01-01") AND s.served_on <= \(bind: "\(year)-12-31")"
        }
        return f
    }

    static func apiServices(_ req: Request) async throws -> Paged<VillageAdvisers.Service> {
        let p = try req.staff()
        return try await VillageAdvisers.services(filter: filter(req, p), page: try PageRequest(from: req), on: req.sql)
    }

    static func apiLog(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let s = try await VillageAdvisers.log(try req.content.decode(VillageAdvisers.ServiceInput.self), by: p, today: req.today, now: req.now, app: req.application)
        return try Response(status: .created).encodeJSON(s)
    }

    /// `POST …/services/{id}/photos`, multipart: one `file` part, or several named `file[]`.
    static func apiAddPhotos(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let form = try await req.receiveForm(limit: VillageAdvisers.uploadLimit)
        defer { form.discard() }
        let photos = try await form.bytes(of: "file", app: req.application)
        let s = try await VillageAdvisers.addPhotos(try req.uuid("id"), photos, by: p, now: req.now, app: req.application)
        return try Response(status: .created).encodeJSON(s)
    }

    static func apiPhoto(_ req: Request) async throws -> Response {
        try await VillageAdvisers.photo(req, service: try req.uuid("id"), photo: try req.uuid("photoId"))
    }

    struct ToRequestInput: Content { var description: String?; var name: String?; var mobile: String?; var category: String? }

    static func apiToRequest(_ req: Request) async throws -> Response {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("服务记录") }
        let input = req.body.data == nil ? ToRequestInput() : try req.content.decode(ToRequestInput.self)
        let r = try await VillageAdvisers.toRequest(id, .init(description: input.description, name: input.name, mobile: input.mobile,
                                                              category: input.category), by: p, app: req.application)
        return try Response(status: .created, headers: ["Location": "/api/v1/requests/\(r.id!)"])
            .encodeJSON(try await RequestViews.detail(r, for: p, app: req.application, on: req.sql))
    }

    /// A rejected import as the API reports it: 422 with each bad line named.
    static func rejected(_ result: VillageAdvisers.ImportResult) -> AppError {
        var fields: [String: String] = [:]
        for e in result.errors.prefix(50) { fields["line \(e.line)"] = e.message }
        return AppError(.unprocessableEntity, "import_rejected", "有 \(result.errors.count) 行不符合要求，未导入任何数据", fields: fields)
    }

    static func apiExport(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let p = try req.staff()
        return try SheetFile.response(try await VillageAdvisers.exportServices(filter: filter(req, p), on: req.readSQL),
                                      numeric: VillageAdvisers.numericColumns, name: "village-adviser-services", format: format)
    }

    static func apiImport(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try req.limit(.importFile, key: p.accountID.uuidString)
        let result = try await VillageAdvisers.importServices(req.body.data, by: p, today: req.today, now: req.now, app: req.application)
        if !result.errors.isEmpty { throw rejected(result) }
        return try Response(status: .created).encodeJSON(result)
    }

    static func apiVillages(_ req: Request) async throws -> Paged<VillageAdvisers.VillageFigure> {
        let p = try req.staff()
        var pre = p.areaPrefix
        if let region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init), region.scopePrefix.hasPrefix(pre) { pre = region.scopePrefix }
        let behind = (try? req.query.get(String.self, at: "behind")).map { ["1", "true"].contains($0) } ?? false
        return try await VillageAdvisers.villages(prefix: pre, today: req.today, behindOnly: behind, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiAdviser(_ req: Request) async throws -> VillageAdvisers.AdviserSummary {
        let p = try req.staff()
        guard let id = req.parameters.get("practitionerId").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人员") }
        if p.role == .practitioner, p.practitionerID != id { throw AppError.notFound("人员") }
        _ = try await PractitionerController.find(id, scope: p.role == .practitioner ? .everything : p.scope, on: req.sql)
        return try await VillageAdvisers.adviser(id, today: req.today, on: req.sql)
    }

    static func apiMonthly(_ req: Request) async throws -> [VillageAdvisers.MonthlyRow] {
        let p = try req.staff()
        let year = (try? req.query.get(Int.self, at: "year")) ?? req.today.year
        let month = (try? req.query.get(Int.self, at: "month")) ?? req.today.month
        guard (1...12).contains(month), (2000...2100).contains(year) else { throw AppError.validation(["month": "年份或月份无效"]) }
        return try await VillageAdvisers.monthly(year: year, month: month, prefix: p.areaPrefix, on: req.sql)
    }
}
