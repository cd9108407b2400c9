import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Moving a request through its lifecycle. Every change asks the state machine, is written with its
/// timeline event in one transaction, and joins the ledger.
enum RequestActions {
    struct Input: Content {
        var note: String?
        var reason: String?
        var institutionId: UUID?
        var practitionerId: UUID?
        var target: String?
        var reference: String?
        var outcome: String?
        var summary: String?

        init(note: String? = nil, reason: String? = nil, institutionId: UUID? = nil, practitionerId: UUID? = nil, target: String? = nil,
             reference: String? = nil, outcome: String? = nil, summary: String? = nil) {
            self.note = note; self.reason = reason; self.institutionId = institutionId; self.practitionerId = practitionerId
            self.target = target; self.reference = reference; self.outcome = outcome; self.summary = summary
        }
    }

    /// Beyond the role: a practitioner acts only on what is assigned to them; dispatchers and
    /// institution admins on what lies in their scope (checked when the request was found).
    static func mayAct(_ action: RequestAction, on r: ServiceRequest, _ p: Principal) -> Bool {
        guard RequestViews.visible(r, in: p.scope) else { return false }
        if p.role == .practitioner {
            return r.practitionerID != nil && r.practitionerID == p.practitionerID
        }
        if p.role == .institutionAdmin, action == .accept || action == .reject || action == .transfer || action == .takeBack {
            return false
        }
        return true
    }

    static func mayEvaluate(_ r: ServiceRequest, _ p: Principal) -> Bool {
        guard r.requestStatus == .concluded, r.rating == nil else { return false }
        return (p.role == .citizen && r.citizenAccountID == p.accountID) || p.role == .hotlineOperator
    }

    static let outcomes: [String: String] = [
        "answered": "已解答", "resolved": "已办结", "settled": "调解成功", "not_settled": "调解不成",
        "aid_granted": "给予法律援助", "aid_refused": "不予法律援助", "aid_closed": "法律援助结案", "aid_terminated": "终止法律援助",
        "mediation_terminated": "终止调解", "not_mediated": "当事人拒绝调解", "certified": "已出具文书", "withdrawn": "申请人撤回", "other": "其他",
    ]

    /// What the applicant is told when a step changes what they should expect (the conclusion tells them itself).
    static func applicantNotice(_ action: RequestAction, _ r: ServiceRequest, input: Input, note: String?,
                                on db: any SQLDatabase) async throws -> String? {
        if let own = MatterType(rawValue: r.matterType).flatMap(MatterCases.forMatter)?.applicantNotice(action, r, reason: input.reason) {
            return own
        }
        switch action {
        case .accept:
            return "您的事项 \(r.number) 已受理，将于 \(r.concludeDue ?? "办理时限") 前办结（节假日顺延）。"
        case .assign:
            var who = "承办机构"
            if let id = r.practitionerID {
                who = try await db.select().column("name").from(Practitioner.schema).where("id", .equal, id)
                    .first(decodingColumn: "name", as: String.self) ?? who
            } else if let id = r.institutionID {
                who = try await db.select().column("name").from(Institution.schema).where("id", .equal, id)
                    .first(decodingColumn: "name", as: String.self) ?? who
            }
            return "您的事项 \(r.number) 已交由\(who)承办，承办人员将与您联系。"
        case .reject:
            return "您的事项 \(r.number) 不予受理：\(input.reason ?? "")。如有疑问请拨打 12348。"
        case .transfer:
            let target = TransferTarget(rawValue: r.transferTarget ?? "")?.chineseName ?? "有关部门"
            return "您的事项 \(r.number) 已转\(target)办理，请留意对方联系。"
        case .suspend:
            return "您的事项 \(r.number) 暂时中止办理：\(note ?? "")。中止期间不计入办理时限。"
        case .resume:
            return "您的事项 \(r.number) 已恢复办理，办结期限 \(r.concludeDue ?? "")。"
        case .reopen:
            return "您的事项 \(r.number) 已重新办理。"
        case .submit, .start, .takeBack, .conclude:
            return nil
        }
    }

    /// The outcomes a matter of this type can conclude with (no 调解成功 for a consultation); the first is the default.
    static func outcomes(for matter: MatterType) -> [String] {
        switch matter {
        case .consultation: ["answered", "resolved", "withdrawn", "other"]
        case .legalAid: ["aid_closed", "aid_terminated", "withdrawn", "other"]
        case .mediation: ["settled", "not_settled", "mediation_terminated", "not_mediated", "withdrawn"]
        case .notarization, .judicialAppraisal: ["certified", "resolved", "withdrawn", "other"]
        case .arbitration: ["resolved", "settled", "withdrawn", "other"]
        case .villageAdviser, .legalPublicity, .complaint: ["resolved", "withdrawn", "other"]
        }
    }

    /// Checks the action's own input and applies it to `r` inside a ledger write.
    /// `tell`: whether the applicant is told here; an intake tells them once, after it is written (`Intake.create`).
    static func apply(_ action: RequestAction, to r: ServiceRequest, input: Input, by p: Principal, writer w: Ledger.Writer,
                      app: Application, now: Date, tell: Bool = true) async throws {
        let from = r.requestStatus
        let to: RequestStatus
        switch RequestLifecycle.next(from: from, action: action, by: p.role) {
        case .success(let s): to = s
        case .failure(.roleNotAllowed): throw AppError(.forbidden, "forbidden", "您的角色不能“\(action.chineseName)”")
        case .failure(.invalidTransition(let e)): throw AppError.conflict("invalid_transition", e.message)
        }
        guard mayAct(action, on: r, p) else { throw AppError(.forbidden, "forbidden", "该事项不由您办理") }
        let db = w.db
        let sql = db as! any SQLDatabase
        let today = CivilDate(now)
        let calendar = app.workingCalendar
        var errors = FieldErrors()
        var note = input.note?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        let matter = MatterType(rawValue: r.matterType) ?? .consultation

        switch action {
        case .accept:
            let rules = app.rulesCache.rules(matter)
            r.concludeDue = rules.conclude.due(from: today, on: calendar).description
            note = note ?? "办结时限：\(rules.conclude.chineseDescription)，\(r.concludeDue!) 前"
        case .reject:
            let reason = errors.required(input.reason, "reason", "不予受理的理由", maxLength: 500)
            try errors.throwIfAny()
            r.rejectReason = try app.personalData.seal(reason)
            note = reason
        case .assign:
            var institutionID = input.institutionId
            if let pid = input.practitionerId {
                struct P: Decodable { var institutionId: UUID; var type: String; var status: String; var name: String }
                guard let prac = try await sql.select().columns("institution_id", "type", "status", "name").from(Practitioner.schema)
                    .where("id", .equal, SQLBind(pid)).first(decoding: P.self, keyDecodingStrategy: .snakeCase) else {
                    throw AppError.validation(["practitionerId": "人员不存在"])
                }
                if prac.status != PractitionerStatus.practising.rawValue { errors.add("practitionerId", "\(prac.name)目前不在执业状态") }
                if let t = PractitionerType(rawValue: prac.type), !matter.practitionerTypes.isEmpty, !matter.practitionerTypes.contains(t) {
                    errors.add("practitionerId", "\(t.chineseName)不能承办\(matter.chineseName)事项")
                }
                if let i = institutionID, i != prac.institutionId { errors.add("institutionId", "该人员不属于所选机构") }
                if p.role == .institutionAdmin, prac.institutionId != p.institutionID { errors.add("practitionerId", "只能分派给本机构人员") }
                institutionID = prac.institutionId
                note = note ?? "分派给\(prac.name)"
            } else if let iid = institutionID {
                guard let inst = try? await InstitutionController.find(iid, scope: .everything, on: sql), inst.active else {
                    throw AppError.validation(["institutionId": "机构不存在或已停用"])
                }
                if p.role == .institutionAdmin { errors.add("institutionId", "机构管理员请分派给本机构人员") }
                note = note ?? "分派给\(inst.name)"
            } else {
                errors.add("practitionerId", "请选择承办人员或承办机构")
            }
            try errors.throwIfAny()
            r.institutionID = institutionID
            r.practitionerID = input.practitionerId
            if r.concludeDue == nil {
                r.concludeDue = app.rulesCache.rules(matter).conclude.due(from: today, on: calendar).description
            }
            // The person who is to do the work hears of it at once: in the platform, and by SMS where they have a mobile.
            let handlers = try await practitionerAccounts(input.practitionerId, on: sql)
            let text = "新分派：事项 \(r.number)（\(matter.chineseName) · \(PLSDomain.Category(rawValue: r.category)?.chineseName ?? r.category)）"
                + "由您承办，办结期限 \(r.concludeDue ?? "—")，请及时联系申请人。"
            try await Notifications.notify(accounts: handlers, request: r.id, text: text, now: now, on: sql)
            try await Notifications.sms(accounts: handlers, text: text, app: app, on: db, at: now)
        case .start:
            break
        case .suspend:
            let reason = errors.required(input.reason ?? input.note, "reason", "中止原因（如待补正的材料）", maxLength: 500)
            try errors.throwIfAny()
            r.suspendedOn = today.description
            note = reason
        case .resume:
            if let due = r.concludeDue.flatMap(CivilDate.init), let since = r.suspendedOn.flatMap(CivilDate.init) {
                let extended = DeadlineRule.extend(due, bySuspension: since, to: today, on: calendar)
                r.concludeDue = extended.description
                note = note ?? "中止期间不计入办理时限，办结期限顺延至 \(extended)"
            }
            r.suspendedOn = nil
        case .transfer:
            let target = errors.choice(input.target, "target", "转办对象", as: TransferTarget.self)
            let reason = errors.required(input.reason, "reason", "转办理由", maxLength: 500)
            let reference = errors.optional(input.reference, "reference", "对方工单号", maxLength: 60)
            try errors.throwIfAny()
            r.transferTarget = target!.rawValue
            r.transferReference = reference
            note = "转\(target!.chineseName)：\(reason)" + (reference.map { "（对方工单号 \($0)）" } ?? "")
        case .takeBack:
            r.transferTarget = nil
            r.transferReference = nil
        case .conclude:
            let allowed = outcomes(for: matter)
            let outcome = input.outcome?.nilIfEmpty ?? allowed[0]
            if outcomes[outcome] == nil { errors.add("outcome", "办理结果取值无效") }
            else if !allowed.contains(outcome) { errors.add("outcome", "“\(outcomes[outcome]!)”不适用于\(matter.chineseName)事项") }
            let summary = errors.required(input.summary, "summary", "办理情况", maxLength: 2000)
            try errors.throwIfAny()
            r.outcome = outcome
            r.summary = try app.personalData.seal(summary)
            r.concludedOn = today.description
            let onTime = r.concludeDue.flatMap(CivilDate.init).map { today <= $0 } ?? true
            r.concludedOnTime = onTime
            note = "\(outcomes[outcome]!)：\(summary)"
            try await Stats.add(region: r.regionCode, year: today.year, concluded: 1, onTime: onTime ? 1 : 0, on: sql)
            // 服务一次、评价一次: the applicant is invited to rate, by SMS as well as in the portal.
            try await Notifications.tellApplicant(r, "您的事项 \(r.number) 已办结（\(outcomes[outcome]!)），请对本次服务评价："
                                                  + RatingLink.url(for: r.id!, app: app), app: app, on: db, at: now)
        case .reopen:
            if from == .concluded {
                // The conclusion is set aside: take it out of the running figures it was counted in.
                let year = r.concludedOn.flatMap(CivilDate.init)?.year ?? today.year
                try await Stats.add(region: r.regionCode, year: year, concluded: -1, onTime: r.concludedOnTime == true ? -1 : 0, on: sql)
                r.outcome = nil
                r.summary = nil
                r.concludedOn = nil
                r.concludedOnTime = nil
            }
            r.rejectReason = nil
            r.acceptDue = app.rulesCache.rules(matter).accept.due(from: today, on: calendar).description
        case .submit:
            throw AppError.conflict("invalid_transition", "事项已提交")
        }
        try await MatterCases.forMatter(matter)?.follow(action, r, input: input, today: today, app: app, on: db)
        if tell, let told = try await applicantNotice(action, r, input: input, note: note, on: sql) {
            try await Notifications.tellApplicant(r, told, app: app, on: db, at: now)
        }
        r.status = to.rawValue
        r.updatedAt = now
        try await w.save(r)
        w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis,
                                       actorID: p.accountID, actorName: p.displayName, action: action.rawValue,
                                       fromStatus: from.rawValue, toStatus: to.rawValue, note: note))
        for hook in statusHooks { try await hook(r, action, to, note, w, p, app, now) }
    }

    /// After acceptance, when the matter type is set to assign automatically: the best candidate,
    /// or in rotation the least-loaded eligible one. Full practitioners are never chosen.
    static func autoAssign(_ r: ServiceRequest, by p: Principal, writer w: Ledger.Writer, app: Application, now: Date,
                           tell: Bool = true) async throws {
        let sql = w.db as! any SQLDatabase
        guard r.requestStatus == .accepted, let matter = MatterType(rawValue: r.matterType),
              let mode = Catalog.AutoAssign(rawValue: app.rulesCache.rules(matter).autoAssign), mode != .off else { return }
        let eligible = try await Dispatch.candidates(for: r, limit: 50, today: CivilDate(now), on: sql).filter { !$0.overCapacity }
        let pick = mode == .best ? eligible.first : eligible.min { ($0.openLoad, $0.name) < ($1.openLoad, $1.name) }
        guard let pick else { return }
        try await apply(.assign, to: r, input: .init(note: "自动分派（\(mode == .best ? "最佳匹配" : "轮流")）给\(pick.name)", practitionerId: pick.practitionerId),
                        by: p, writer: w, app: app, now: now, tell: tell)
    }

    /// Finds the request in the principal's scope and applies one action, in its own transaction.
    static func perform(_ action: RequestAction, on idOrNumber: String, input: Input, by p: Principal, app: Application) async throws -> ServiceRequest {
        let db = app.db
        let found = try await RequestViews.find(idOrNumber, scope: p.scope, on: db)
        // Reopening follows only from a review (法律援助法 art. 49), never as an action of its own.
        if action == .reopen { throw AppError.notFound("操作") }
        // A case decided, closed or ended by its own steps (which carry what the law requires) refuses the general action.
        if let refusal = try await MatterCases.forMatter(found.matterType)?.refusal(of: action, on: found, on: db) { throw refusal }
        let now = app.clock.now
        return try await app.ledger.write(on: db) { w in
            // Read again inside the lock: another clerk may have acted a moment ago.
            let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: w.db)
            try await apply(action, to: r, input: input, by: p, writer: w, app: app, now: now)
            if action == .accept { try await autoAssign(r, by: p, writer: w, app: app, now: now) }
            return r
        }
    }

    /// Bulk assignment: each request in its own transaction, so one that cannot be assigned
    /// does not hold back the rest.
    static func assignMany(_ ids: [UUID], input: Input, by p: Principal, app: Application) async
        -> (assigned: [UUID], failed: [(id: UUID, error: AppError)]) {
        var assigned: [UUID] = [], failed: [(id: UUID, error: AppError)] = []
        for id in ids {
            do {
                _ = try await perform(.assign, on: id.uuidString, input: input, by: p, app: app)
                assigned.append(id)
            } catch let e as AppError {
                failed.append((id, e))
            } catch {
                failed.append((id, AppError(.internalServerError, "server_error", "服务暂时不可用，请稍后再试")))
            }
        }
        return (assigned, failed)
    }

    // MARK: Rating

    struct EvaluationInput: Content {
        var rating: Int?
        var comment: String?
    }

    /// 服务一次、评价一次: the applicant rates once; a hotline operator may record the rating given on a follow-up call.
    static func validRating(_ input: EvaluationInput) throws -> (Rating, String?) {
        var errors = FieldErrors()
        let rating = input.rating.flatMap(Rating.init(rawValue:))
        if rating == nil { errors.add("rating", "请选择 1–5 星评价") }
        let comment = errors.optional(input.comment, "comment", "评价意见", maxLength: 500)
        try errors.throwIfAny()
        return (rating!, comment)
    }

    static func evaluate(_ idOrNumber: String, _ input: EvaluationInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        let (rating, comment) = try validRating(input)
        let scope: DataScope = p.role == .hotlineOperator ? .everything : p.scope
        _ = try await RequestViews.find(idOrNumber, scope: scope, on: app.db)
        return try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(idOrNumber, scope: scope, on: w.db)
            guard (p.role == .citizen && r.citizenAccountID == p.accountID) || p.role == .hotlineOperator else {
                throw AppError(.forbidden, "forbidden", "只有申请人本人可以评价")
            }
            try await record(rating, comment, on: r, actorID: p.accountID, actorName: p.displayName,
                             via: p.role == .hotlineOperator ? "回访录入" : "申请人评价", writer: w, app: app)
            return r
        }
    }

    /// Rating from the link in the SMS: the signed link stands for the applicant, no sign-in needed.
    static func evaluate(byLink requestID: UUID, _ input: EvaluationInput, app: Application) async throws -> ServiceRequest {
        let (rating, comment) = try validRating(input)
        return try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(requestID.uuidString, scope: .everything, on: w.db)
            try await record(rating, comment, on: r, actorID: nil, actorName: "申请人", via: "短信链接评价", writer: w, app: app)
            return r
        }
    }

    /// Rating by keypad after a call (the exchange's post-call survey), for the matter the call was about.
    static func evaluate(byKeypad requestID: UUID, _ rating: Rating, app: Application) async throws -> ServiceRequest {
        try await app.ledger.write(on: app.db) { w in
            let r = try await RequestViews.find(requestID.uuidString, scope: .everything, on: w.db)
            try await record(rating, nil, on: r, actorID: nil, actorName: "来电人", via: "来电按键评价", writer: w, app: app)
            return r
        }
    }

    /// 服务一次、评价一次: once, after conclusion; a bad rating opens a rectification for the institution.
    private static func record(_ rating: Rating, _ comment: String?, on r: ServiceRequest, actorID: UUID?, actorName: String, via: String,
                               writer w: Ledger.Writer, app: Application) async throws {
        let now = app.clock.now
        guard r.requestStatus == .concluded else { throw AppError.conflict("not_concluded", "事项办结后才能评价") }
        guard r.rating == nil else { throw AppError.conflict("already_rated", "该事项已评价，每项服务只评价一次") }
        r.rating = rating.rawValue
        r.ratingComment = try app.personalData.seal(ifAny: comment)
        r.ratedAt = now
        r.updatedAt = now
        try await r.updateRow(on: w.db as! any SQLDatabase)
        w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis,
                                   actorID: actorID, actorName: actorName, action: "evaluate", fromStatus: r.status,
                                   toStatus: r.status, note: "\(via)：\(rating.chineseName)" + (comment.map { "。\($0)" } ?? "")))
        let year = r.concludedOn.flatMap(CivilDate.init)?.year ?? CivilDate(now).year
        try await Stats.add(region: r.regionCode, year: year, rated: 1, satisfied: rating.isSatisfied ? 1 : 0, on: w.db as! any SQLDatabase)
        if rating.isBad { try await Rectifications.open(for: r, rating: rating, writer: w, app: app, at: now) }
    }
}

/// The indicator figures of intake, kept current as requests conclude and are rated.
enum Stats {
    static func add(region: String, year: Int, concluded: Int = 0, onTime: Int = 0, rated: Int = 0, satisfied: Int = 0,
                    on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO request_stats (region_code, year, concluded, on_time, rated, satisfied)
            VALUES (\(bind: region), \(bind: year), \(bind: concluded), \(bind: onTime), \(bind: rated), \(bind: satisfied))
            ON CONFLICT (region_code, year) DO UPDATE SET
              concluded = request_stats.concluded + excluded.concluded, on_time = request_stats.on_time + excluded.on_time,
              rated = request_stats.rated + excluded.rated, satisfied = request_stats.satisfied + excluded.satisfied
            """).run()
    }
}
