import Vapor
import Fluent
import SQLKit
import PLSDomain

/// /api/v1/requests: intake, lists, the timeline, actions, candidates, rating and the public lookup.
enum RequestController {
    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.principal()
        var input = try req.content.decode(Intake.Input.self)
        var key = req.headers.first(name: "Idempotency-Key")?.trimmingCharacters(in: .whitespaces)
        if let key, key.isEmpty || key.count > 100 { throw AppError.badRequest("Idempotency-Key 应为 1–100 个字符") }
        // A department's system: its order waits for our staff to accept it, and is the same order however often it is
        // sent (its reference is its key).
        let link = try p.client.map { try WorkOrders.link(from: input, grant: $0) }
        if let link {
            input.accept = false
            input.answer = nil
            key = "external:" + link.reference
        }
        let valid = try await Intake.validate(input, by: p, today: req.today, regions: req.application.regionDirectory, on: req.sql)
        let app = req.application
        var linked: (@Sendable (ServiceRequest, Ledger.Writer) async throws -> Void)?
        if let link, let client = p.client?.clientID {
            linked = { r, w in
                try await MatterCases.forMatter(valid.matterType)?.open(for: r, itemCode: valid.itemCode, category: valid.category, app: app, on: w.db)
                try await WorkOrders.hold(link, for: r, client: client, writer: w, at: app.clock.now)
            }
        }
        let created = try await Intake.create(valid, by: p, idempotencyKey: key, app: app, on: req.db, detail: linked)
        let detail = try await RequestViews.detail(created.request, for: p, app: req.application, on: req.sql, timeline: created.timeline)
        var headers: HTTPHeaders = ["Location": "/api/v1/requests/\(created.request.id!)"]
        if created.replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
        return try detail.jsonResponse(status: created.replayed ? .ok : .created, headers: headers)
    }

    static func apiList(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let filter = try RequestViews.Filter(from: req)
        if filter.mobileHash != nil { try p.require(p.role.isStaff) }
        return try await RequestViews.list(filter, scope: p.scope, page: try PageRequest(from: req), today: req.today,
                                           calendar: req.application.workingCalendar, protector: req.personalData, on: req.sql).jsonResponse()
    }

    static func apiGet(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        return try await RequestViews.detail(r, for: p, app: req.application, on: req.sql).jsonResponse()
    }

    static func action(_ action: RequestAction) -> @Sendable (Request) async throws -> Response {
        { req in
            let p = try req.principal()
            let input = req.body.data == nil ? RequestActions.Input() : try req.content.decode(RequestActions.Input.self)
            let r = try await RequestActions.perform(action, on: req.parameters.get("id") ?? "", input: input, by: p, app: req.application)
            return try await RequestViews.detail(r, for: p, app: req.application, on: req.sql).jsonResponse()
        }
    }

    static func apiEvaluate(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let r = try await RequestActions.evaluate(req.parameters.get("id") ?? "", try req.content.decode(RequestActions.EvaluationInput.self),
                                                  by: p, app: req.application)
        return try await RequestViews.detail(r, for: p, app: req.application, on: req.sql).jsonResponse()
    }

    static func apiUrge(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let input = req.body.data == nil ? RequestActions.UrgeInput() : try req.content.decode(RequestActions.UrgeInput.self)
        let r = try await RequestActions.urge(req.parameters.get("id") ?? "", input, by: p, app: req.application)
        return try await RequestViews.detail(r, for: p, app: req.application, on: req.sql).jsonResponse()
    }

    static func apiRecategorize(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let r = try await RequestActions.recategorize(req.parameters.get("id") ?? "", try req.content.decode(RequestActions.CategoryInput.self),
                                                      by: p, app: req.application)
        return try await RequestViews.detail(r, for: p, app: req.application, on: req.sql).jsonResponse()
    }

    static func apiContact(_ req: Request) async throws -> RequestActions.Contact {
        try await RequestActions.revealContact(req.parameters.get("id") ?? "", by: try req.staff(), actor: req.auditActor, app: req.application)
    }

    struct BulkAssignInput: Content { var requestIds: [UUID]?; var practitionerId: UUID?; var institutionId: UUID? }
    struct BulkResult: Content {
        struct Failure: Content { var requestId: UUID; var code: String; var message: String }
        var assigned: [UUID]
        var failed: [Failure]
    }

    /// Each request in its own transaction: one that cannot be assigned does not hold back the rest.
    static func apiBulkAssign(_ req: Request) async throws -> BulkResult {
        let p = try req.staff()
        let input = try req.content.decode(BulkAssignInput.self)
        let ids = input.requestIds ?? []
        if ids.isEmpty || ids.count > 100 { throw AppError.validation(["requestIds": "请选择 1–100 个事项"]) }
        if input.practitionerId == nil && input.institutionId == nil {
            throw AppError.validation(["practitionerId": "请选择承办人员或承办机构"])
        }
        let outcome = await RequestActions.assignMany(ids, input: .init(institutionId: input.institutionId, practitionerId: input.practitionerId),
                                                      by: p, app: req.application)
        let result = BulkResult(assigned: outcome.assigned,
                                failed: outcome.failed.map { .init(requestId: $0.id, code: $0.error.code, message: $0.error.message) })
        return result
    }

    static func apiCandidates(_ req: Request) async throws -> [Dispatch.Candidate] {
        let p = try req.staff()
        try p.require(RequestLifecycle.dispatchers.contains(p.role))
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        return try await Dispatch.candidates(for: r, today: req.today, name: Dispatch.searchedName(req, key: "q"), on: req.sql)
    }

    static func apiDuplicates(_ req: Request) async throws -> [RequestViews.Row] {
        let p = try req.staff()
        guard let mobile = MobileNumber((try? req.query.get(String.self, at: "mobile")) ?? "") else {
            throw AppError.validation(["mobile": "请输入正确的 11 位手机号码"])
        }
        let raw = (try? req.query.get(String.self, at: "category")).flatMap { $0.isEmpty ? nil : $0 }
        let category = raw.flatMap(Category.init(rawValue:))
        if raw != nil, category == nil { throw AppError.validation(["category": "类别取值无效"]) }
        return try await Dispatch.recentDuplicates(req, mobile: mobile, category: category, scope: p.scope)
    }

    static func apiLookup(_ req: Request) async throws -> Dispatch.PublicView {
        var errors = FieldErrors()
        let number = errors.required(try? req.query.get(String.self, at: "number"), "number", "事项编号", maxLength: 30)
        let mobile = MobileNumber((try? req.query.get(String.self, at: "mobile")) ?? "")
        if mobile == nil { errors.add("mobile", "请输入申请时填写的手机号码") }
        try errors.throwIfAny()
        try req.limitLookup(number: number)
        return try await Dispatch.lookup(number: number, mobile: mobile!, app: req.application)
    }
}
extension Request {
    /// The public lookup answers anyone who knows a number and its mobile: guesses are limited per address and per number.
    func limitLookup(number: String) throws {
        try limit(.lookup)
        try limit(.lookup, key: "number|" + number.trimmingCharacters(in: .whitespaces).uppercased())
    }
}
