import Vapor
import Fluent
import SQLKit
import PLSDomain

/// What happens to a request without changing its status: a repeat call urging it on (催办), a category corrected,
/// the handler reading the applicant's full number. Each is an event on the timeline, written in the ledger.
extension RequestActions {
    struct UrgeInput: Content { var note: String? }
    struct CategoryInput: Content { var category: String?; var reason: String? }
    struct Contact: Content { var name: String; var mobile: String }

    /// A caller asks again about an open matter: recorded on it (not as a new matter) and the handler reminded.
    static func urge(_ idOrNumber: String, _ input: UrgeInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        try p.require(RequestLifecycle.dispatchers.contains(p.role))
        var errors = FieldErrors()
        let note = errors.optional(input.note, "note", "催办内容", maxLength: 500)
        try errors.throwIfAny()
        _ = try await RequestViews.find(idOrNumber, scope: p.scope, on: app.db)
        let now = app.clock.now
        return try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: w.db)
            guard r.requestStatus.isOpen else {
                throw AppError.conflict("not_open", "事项 \(r.number) 当前为“\(r.requestStatus.chineseName)”，不能催办；如有新诉求请另行登记")
            }
            w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName, action: "urge",
                                 fromStatus: r.status, toStatus: r.status, note: "申请人催办" + (note.map { "：\($0)" } ?? "")))
            let text = "催办：事项 \(r.number) 的申请人再次来电（来访）询问进度" + (note.map { "：\($0)" } ?? "") + "，请及时处理并联系申请人"
            let sql = w.db as! any SQLDatabase
            let handlers = try await practitionerAccounts(r.practitionerID, on: sql)
            if handlers.isEmpty {
                try await Notifications.notifyInstitutionOrCounty(r, text: text, now: now, on: w.db)
            } else {
                try await Notifications.notify(accounts: handlers, request: r.id, text: text, now: now, on: sql)
            }
            return r
        }
    }

    /// A category taken down wrongly is corrected while the matter is open, the change kept on the timeline.
    static func recategorize(_ idOrNumber: String, _ input: CategoryInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        var errors = FieldErrors()
        let category = errors.choice(input.category, "category", "类别", as: PLSDomain.Category.self)
        let reason = errors.optional(input.reason, "reason", "更正说明", maxLength: 500)
        try errors.throwIfAny()
        _ = try await RequestViews.find(idOrNumber, scope: p.scope, on: app.db)
        let now = app.clock.now
        return try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: w.db)
            guard mayCorrect(r, p) else { throw AppError(.forbidden, "forbidden", "该事项不由您办理") }
            guard r.requestStatus.isOpen else { throw AppError.conflict("not_open", "事项已\(r.requestStatus.chineseName)，不能更正类别") }
            guard category!.rawValue != r.category else { throw AppError.validation(["category": "类别未改变"]) }
            let before = PLSDomain.Category(rawValue: r.category)?.chineseName ?? r.category
            r.category = category!.rawValue
            r.updatedAt = now
            try await w.save(r)
            w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName, action: "recategorize",
                                 fromStatus: r.status, toStatus: r.status,
                                 note: "类别由“\(before)”更正为“\(category!.chineseName)”" + (reason.map { "：\($0)" } ?? "")))
            return r
        }
    }

    /// Dispatchers in scope, and whoever handles the matter.
    static func mayCorrect(_ r: ServiceRequest, _ p: Principal) -> Bool {
        if RequestLifecycle.dispatchers.contains(p.role) { return true }
        return p.role == .practitioner && r.practitionerID != nil && r.practitionerID == p.practitionerID
    }

    /// Whoever must call the applicant back: the assigned practitioner, or the staff of the institution handling it.
    static func mayReachApplicant(_ r: ServiceRequest, _ p: Principal) -> Bool {
        guard r.requestStatus.isOpen else { return false }
        if p.role == .practitioner { return r.practitionerID != nil && r.practitionerID == p.practitionerID }
        return p.institutionID != nil && p.institutionID == r.institutionID
    }

    /// The applicant's name and full mobile for the handler who must call them; each reading is on the timeline.
    static func revealContact(_ idOrNumber: String, by p: Principal, actor: AuditLog.Actor, app: Application) async throws -> Contact {
        let found = try await RequestViews.find(idOrNumber, scope: p.scope, on: app.db)
        guard mayReachApplicant(found, p) else {
            throw AppError(.forbidden, "forbidden", "只有承办人员可以查看申请人的完整号码；其他人员请通过 12348 热线回拨")
        }
        let now = app.clock.now
        let contact = try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: w.db)
            w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName, action: "view_contact",
                                 fromStatus: r.status, toStatus: r.status, note: "查看申请人完整联系电话（用于联系申请人）"))
            return Contact(name: try app.personalData.open(r.applicantName),
                           mobile: try app.personalData.decrypt(r.applicantMobileCipher))
        }
        // The audit log keeps every reading of a person's full number, beside the timeline's event.
        try await AuditLog.record("personal_data.read", target: "事项 \(found.number) 申请人手机号码", by: actor, protector: app.personalData,
                                  on: app.db as! any SQLDatabase, at: now)
        return contact
    }

    static func practitionerAccounts(_ practitioner: UUID?, on db: any SQLDatabase) async throws -> [UUID] {
        guard let practitioner else { return [] }
        return try await db.select().column("id").from(Account.schema).where("practitioner_id", .equal, SQLBind(practitioner))
            .where("active", .equal, true).all(decodingColumn: "id", as: UUID.self)
    }
}
