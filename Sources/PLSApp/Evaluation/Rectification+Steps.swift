import Vapor
import Fluent
import SQLKit
import PLSDomain

extension Rectifications {
    /// One step's input, as the API takes it (JSON) and the pages post it (form fields of the same names).
    struct StepInput: Content {
        /// callback: whether the person was reached; attempts made this time (1 by default).
        var reached: Bool?
        var attempts: Int?
        var note: String?
        /// rectify: what the verification found, and what was done.
        var verification: String?
        var measures: String?
        /// reply: what the person is told.
        var reply: String?
        /// appeal: `mistaken` or `malicious`, with the reason; appeal-decision: `upheld`, with the reason.
        var kind: String?
        var reason: String?
        var upheld: Bool?
        /// evaluation: the person's rating of the rectification (1–5).
        var rating: Int?
        var comment: String?
    }

    /// A checked step: the columns it sets, the timeline's note, and whom it tells.
    private struct Checked {
        var set: [(String, any Encodable & Sendable)] = []
        var note: String
    }

    private static func check(_ step: RectificationStep, _ input: StepInput, protector: PersonalDataProtector, today: CivilDate) throws -> Checked {
        var errors = FieldErrors()
        let day = today.description
        switch step {
        case .callback:
            errors.check(input.reached != nil, "reached", "请选择是否联系上当事人")
            let attempts = input.attempts ?? 1
            errors.check((1...20).contains(attempts), "attempts", "本次联系次数应为 1–20")
            let note = errors.optional(input.note, "note", "回访情况", maxLength: 1000)
            try errors.throwIfAny()
            let reached = input.reached ?? false
            return Checked(set: [("callback_reached", reached), ("callback_on", day), ("callback_note", try protector.seal(ifAny: note) as String?),
                                 ("callback_attempts", attempts)],
                           note: (reached ? "回访：已联系上当事人" : "回访：未联系上当事人（本次 \(attempts) 次）") + (note.map { "。\($0)" } ?? ""))
        case .rectify:
            let verification = errors.required(input.verification, "verification", "核实情况", maxLength: 2000)
            let measures = errors.required(input.measures, "measures", "整改措施", maxLength: 2000)
            try errors.throwIfAny()
            return Checked(set: [("verification", try protector.seal(verification)), ("measures", try protector.seal(measures)), ("rectified_on", day)],
                           note: "核实整改：\(verification)。整改措施：\(measures)")
        case .reply:
            let reply = errors.required(input.reply, "reply", "答复内容", maxLength: 300)
            try errors.throwIfAny()
            return Checked(set: [("reply", try protector.seal(reply)), ("replied_on", day)], note: "答复当事人：\(reply)")
        case .appeal:
            let kind = errors.choice(input.kind, "kind", "申诉理由类型", as: RatingAppealKind.self)
            let reason = errors.required(input.reason, "reason", "申诉理由", maxLength: 1000)
            try errors.throwIfAny()
            return Checked(set: [("appeal_kind", kind!.rawValue), ("appeal_reason", try protector.seal(reason)), ("appealed_on", day)],
                           note: "申诉：\(kind!.chineseName)。\(reason)")
        case .appealDecision:
            errors.check(input.upheld != nil, "upheld", "请选择申诉是否成立")
            let reason = errors.required(input.reason, "reason", "复核意见", maxLength: 1000)
            try errors.throwIfAny()
            let upheld = input.upheld ?? false
            return Checked(set: [("appeal_upheld", upheld), ("appeal_decision_reason", try protector.seal(reason)), ("appeal_decided_on", day)],
                           note: (upheld ? "申诉复核：申诉成立，该评价不计入满意度。" : "申诉复核：申诉不成立，继续整改。") + reason)
        case .evaluation:
            let rating = input.rating.flatMap(Rating.init(rawValue:))
            if rating == nil { errors.add("rating", "请选择对整改结果的评价") }
            let comment = errors.optional(input.comment, "comment", "意见", maxLength: 500)
            try errors.throwIfAny()
            return Checked(set: [("follow_up_rating", rating!.rawValue), ("follow_up_comment", try protector.seal(ifAny: comment) as String?),
                                 ("follow_up_on", day)],
                           note: "整改复评：\(rating!.chineseName)" + (comment.map { "。\($0)" } ?? ""))
        }
    }

    /// Takes `step` on rectification `id`: checked at the edge, then in one write with its timeline event, the
    /// figures it changes and the notices it sends.
    static func take(_ step: RectificationStep, on id: UUID, _ input: StepInput, by p: Principal, app: Application) async throws -> Stored {
        let protector = app.personalData, today = app.today
        let before = try await find(id, on: app.db as! any SQLDatabase)
        guard visible(before, to: p) else { throw AppError.notFound("整改记录") }
        guard may(step, before, p) else { throw AppError(.forbidden, "forbidden", forbiddenMessage(step)) }
        let checked = try check(step, input, protector: protector, today: today)
        return try await app.ledger.write(on: app.db) { w in
            let sql = w.db as! any SQLDatabase
            let x = try await find(id, on: sql)
            let now = app.clock.now
            let attempts = x.callbackAttempts + (step == .callback ? (input.attempts ?? 1) : 0)
            let next: RectificationStatus
            switch RectificationFlow.next(step, from: x.state, reached: input.reached ?? false, attempts: attempts,
                                          appealed: x.appealedOn != nil, upheld: input.upheld ?? false,
                                          before: x.appealFromStatus.flatMap(RectificationStatus.init(rawValue:))) {
            case .success(let s): next = s
            case .failure(.notNow(let message)): throw AppError.conflict("step_not_allowed", message)
            }
            var update = sql.update(schema).set("status", to: next.rawValue).set("updated_at", to: now)
            for (column, value) in checked.set where column != "callback_attempts" { update = update.set(SQLIdentifier(column), to: SQLBind(value)) }
            if step == .callback { update = update.set("callback_attempts", to: attempts) }
            let calendar = app.workingCalendar
            switch step {
            case .appeal:
                update = update.set("appeal_due", to: rules(app).appealDue(appealedOn: today, on: calendar).description)
                    .set("appeal_from_status", to: x.status)
            case .appealDecision where next != .withdrawn:
                // The limits stood still while the county decided.
                if let from = x.appealedOn.flatMap(CivilDate.init) {
                    for (column, due) in [("callback_due", x.callbackDue), ("rectify_due", x.rectifyDue)] {
                        if let d = CivilDate(due) {
                            update = update.set(SQLIdentifier(column), to: SQLBind(DeadlineRule.extend(d, bySuspension: from, to: today, on: calendar).description))
                        }
                    }
                }
            default: break
            }
            try await update.where("id", .equal, x.id).run()

            let r = try await RequestViews.find(x.requestId.uuidString, scope: .everything, on: w.db)
            w.append(LedgerEvent(requestID: x.requestId, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName,
                                 action: "rectification.\(step.rawValue)", fromStatus: r.status, toStatus: r.status, note: checked.note))
            try await tell(after: step, next: next, x, r, input: input, app: app, on: w.db, at: now)
            return try await find(id, on: sql)
        }
    }

    private static func forbiddenMessage(_ step: RectificationStep) -> String {
        switch step {
        case .callback, .rectify, .reply: "只有承办机构的工作人员可以办理差评整改"
        case .appeal: "只有承办机构的管理员可以申诉"
        case .appealDecision: "申诉由所在县（区）司法局复核"
        case .evaluation: "只有当事人本人可以评价整改结果"
        }
    }

    /// Who hears of the step: the person of the reply; the county of an appeal and of a bad follow-up rating; the
    /// institution of the county's decision. An upheld appeal takes the rating out of the satisfaction figures.
    private static func tell(after step: RectificationStep, next: RectificationStatus, _ x: Stored, _ r: ServiceRequest,
                             input: StepInput, app: Application, on db: any Database, at now: Date) async throws {
        let sql = db as! any SQLDatabase
        let county = Notifications.countyPrefix(x.regionCode)
        switch step {
        case .reply:
            let reply = input.reply?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            try await Notifications.tellApplicant(r, "您对事项 \(r.number) 的评价已核实整改：\(reply)。欢迎在“我的事项”或拨打 12348 对整改结果评价。",
                                                  app: app, on: db, at: now)
        case .appeal:
            let admins = try await Notifications.accounts(role: .countyAdmin, regionPrefix: county, on: sql)
            try await Notifications.notify(accounts: admins, request: r.id, text: "差评申诉待复核：事项 \(r.number)，请于 5 个工作日内复核",
                                           now: now, on: sql)
        case .appealDecision:
            if next == .withdrawn {
                let year = r.concludedOn.flatMap(CivilDate.init)?.year ?? CivilDate(now).year
                let satisfied = Rating(rawValue: x.rating)?.isSatisfied == true ? 1 : 0
                try await Stats.add(region: r.regionCode, year: year, rated: -1, satisfied: -satisfied, on: sql)
            }
            try await notifyHandlers(institution: x.institutionId, regionCode: x.regionCode, request: r.id,
                                     text: "差评申诉复核：事项 \(r.number) 的申诉\(next == .withdrawn ? "成立，该评价不计入满意度" : "不成立，请继续整改")",
                                     now: now, on: sql)
        case .evaluation:
            if let rating = input.rating.flatMap(Rating.init(rawValue:)), rating.isBad {
                let admins = try await Notifications.accounts(role: .countyAdmin, regionPrefix: county, on: sql)
                try await Notifications.notify(accounts: admins, request: r.id,
                                               text: "整改复评仍为“\(rating.chineseName)”：事项 \(r.number)，请督促承办机构", now: now, on: sql)
            }
        case .callback, .rectify:
            break
        }
    }

    // MARK: Deadlines

    /// The callback (by its due day), the rectification and reply (by theirs) and the county's decision on an appeal.
    static func deadlines(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct Row: Decodable { var requestId: UUID; var number: String; var regionCode: String; var institutionId: UUID?; var due: String }
        func rows(_ step: String, due: String, statuses: [RectificationStatus]) async throws -> [Row] {
            try await db.raw("""
                SELECT x.request_id, r.number, x.region_code, x.institution_id, \(unsafeRaw: due) AS due
                FROM rectifications x JOIN service_requests r ON r.id = x.request_id
                WHERE x.status IN (\(binds: statuses.map(\.rawValue))) AND \(unsafeRaw: due) <= \(bind: horizon.description) AND
                """ + " " + Deadlines.notFinished(subject: "x.request_id", step: step, due: due) + " ORDER BY due LIMIT 500")
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
        func watched(_ rows: [Row], _ step: String, _ name: String, county: Bool = false) -> [WatchedDeadline] {
            rows.compactMap { x in
                CivilDate(x.due).map {
                    WatchedDeadline(requestID: x.requestId, number: x.number, regionCode: x.regionCode, step: step, name: name, due: $0,
                                    institutionID: x.institutionId, countyTakesIt: county || x.institutionId == nil)
                }
            }
        }
        return watched(try await rows("rectification.callback", due: "x.callback_due", statuses: [.awaitingCallback]), "rectification.callback", "差评回访")
            + watched(try await rows("rectification.rectify", due: "x.rectify_due", statuses: [.awaitingCallback, .rectifying, .rectified]),
                      "rectification.rectify", "差评整改并答复")
            + watched(try await rows("rectification.appeal", due: "x.appeal_due", statuses: [.appealed]), "rectification.appeal", "差评申诉复核",
                      county: true)
    }
}

/// The rectifications of bad ratings, one per rating, with the indexes their queues and deadlines read.
struct M034CreateRectifications: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Rectifications.schema)
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id", onDelete: .cascade))
            .field("institution_id", .uuid, .references(Institution.schema, "id"))
            .field("region_code", .string, .required)
            .field("rating", .int, .required)
            .field("rated_on", .string, .required)
            .field("status", .string, .required)
            .field("callback_due", .string, .required)
            .field("rectify_due", .string, .required)
            .field("callback_attempts", .int, .required)
            .field("callback_reached", .bool)
            .field("callback_on", .string)
            .field("callback_note", .string)
            .field("verification", .string)
            .field("measures", .string)
            .field("rectified_on", .string)
            .field("reply", .string)
            .field("replied_on", .string)
            .field("appeal_kind", .string)
            .field("appeal_reason", .string)
            .field("appealed_on", .string)
            .field("appeal_due", .string)
            .field("appeal_from_status", .string)
            .field("appeal_upheld", .bool)
            .field("appeal_decision_reason", .string)
            .field("appeal_decided_on", .string)
            .field("follow_up_rating", .int)
            .field("follow_up_comment", .string)
            .field("follow_up_on", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "request_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "rect_institution_idx").on(Rectifications.schema).column("institution_id").column("status").run()
        try await sql.create(index: "rect_region_idx").on(Rectifications.schema).column("region_code").column("rated_on").run()
        try await sql.create(index: "rect_status_idx").on(Rectifications.schema).column("status").column("rated_on").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Rectifications.schema).delete()
    }
}
