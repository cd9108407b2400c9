import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Civil and administrative applications and every case's course: missing material, decision,
/// provisional aid, designation, objection and review, termination and closing. Each step moves the
/// service request through the one lifecycle (RequestActions) and records what the law adds here,
/// in the same transaction and ledger write.
enum LegalAidCases {
    // MARK: Application

    struct ApplicationInput: Content {
        var matter: String?
        var kind: String?
        var category: String?
        var description: String?
        var applicant: Intake.ApplicantInput?
        var regionCode: String?
        var householdSize: Int?
        var householdMonthlyIncome: Double?
        var statuses: [String]?
        /// A migrant worker's claim under art. 42 (3) (`labor_pay`, `work_injury`), narrowing the matter.
        var claim: String?
        /// Art. 41: the applicant states their means truthfully (个人诚信承诺).
        var pledge: Bool?
        var priorityGroups: [String]?
        var channel: String?
    }

    /// The dispute category a matter of the scope files under.
    static func category(of matter: String) -> Category {
        switch matter {
        case "labor_relationship_or_pay", "labor_social_security", "social_insurance_or_assistance", "survivor_pension": .labor
        case "support_payment", "marriage_family", "legal_capacity": .marriageFamily
        case "personal_injury": .personalInjury
        case "food_drug": .foodDrug
        case "education_medical": .educationMedical
        case "environmental_damage", "environmental_pollution": .environment
        case "state_compensation": .administrative
        default: .other
        }
    }

    static func parseStatuses(_ raw: [String]?, _ errors: inout FieldErrors) -> Set<AidStatus> {
        var result = Set<AidStatus>()
        for s in raw ?? [] where !s.isEmpty {
            if let v = AidStatus(rawValue: s) { result.insert(v) } else { errors.add("statuses", "情形“\(s)”无效") }
        }
        return result
    }

    /// The means part of an application or pre-check: figures where the means are tested, checked at the edge.
    static func validMeans(size: Int?, income: Double?, needed: Bool, _ errors: inout FieldErrors) -> (Int?, Fen?) {
        var fen: Fen?
        if let income {
            fen = Fen.fromYuan(income)
            if fen == nil { errors.add("householdMonthlyIncome", "家庭月收入应为不小于 0 的金额（元）") }
        } else if needed {
            errors.add("householdMonthlyIncome", "请填写家庭月收入（元）")
        }
        if let size {
            if !(1...30).contains(size) { errors.add("householdSize", "家庭人口应为 1–30 人") }
        } else if needed {
            errors.add("householdSize", "请填写家庭人口数")
        }
        return (size, fen)
    }

    static func apply(_ submitted: ApplicationInput, by p: Principal, idempotencyKey: String?, app: Application) async throws -> ServiceRequest {
        let db = app.db as! any SQLDatabase
        // The place as named on the page ("西山县 · 城关镇 · 凤埠社区") or its code.
        var named = submitted
        named.regionCode = try await RegionNames.code(for: submitted.regionCode, on: db)
        let input = named
        var errors = FieldErrors()
        let kind = input.kind.flatMap { $0.isEmpty ? nil : $0 }.map { AidCaseKind(rawValue: $0) } ?? .civil
        if kind == nil { errors.add("kind", "案件类型应为民事、行政或刑事") }
        // Art. 24: a criminal application is for the defence, whatever the charge.
        let matterID = kind == .criminal ? AidMatter.criminalDefence.id : errors.required(input.matter, "matter", "申请事项", maxLength: 40)
        let all = try await LegalAidSettings.matters(includeInactive: true, on: db)
        let known = all.first { $0.id == matterID }
        if kind != .criminal, !matterID.isEmpty, known == nil, matterID != "other" { errors.add("matter", "申请事项取值无效") }
        let statuses = parseStatuses(input.statuses, &errors)
        let scope = try await LegalAidSettings.scope(on: db) + (kind == .criminal ? [AidMatter.criminalDefence] : [])
        let matter = scope.first { $0.id == matterID }
        let claim = LegalAidSettings.claim(input.claim, matter: matter, &errors)
        let needsMeans = LegalAidRules.needsMeans(matter: matter, statuses: statuses, claim: claim)
        let (size, income) = validMeans(size: input.householdSize, income: input.householdMonthlyIncome, needed: needsMeans, &errors)
        if needsMeans, input.pledge != true { errors.add("pledge", "请如实说明经济困难状况并作出个人诚信承诺（法律援助法第四十一条）") }
        var intakeInput = Intake.Input(matterType: MatterType.legalAid.rawValue, itemCode: kind == .criminal ? "legal_aid.criminal" : "legal_aid.civil",
                                       category: kind == .criminal ? Category.criminal.rawValue
                                           : input.category?.nilIfEmpty ?? (kind == .administrative ? Category.administrative.rawValue : category(of: matterID).rawValue),
                                       channel: input.channel,
                                       description: input.description, applicant: input.applicant,
                                       priorityGroups: (input.priorityGroups ?? []) + statuses.compactMap { $0.priorityGroup?.rawValue },
                                       regionCode: input.regionCode)
        intakeInput.priorityGroups = Array(Set(intakeInput.priorityGroups ?? [])).sorted()
        var valid: Intake.Valid?
        do {
            valid = try await Intake.validate(intakeInput, by: p, today: app.today, regions: app.regionDirectory, on: db)
        } catch let e as AppError where e.status == .unprocessableEntity {
            for (k, v) in e.fields { errors.add(k, v) }
        }
        var threshold: HardshipThreshold?
        if let county = LegalAidSettings.countyCode(of: input.regionCode ?? "") {
            threshold = try await LegalAidSettings.threshold(county: county, on: db)
            if threshold == nil, needsMeans { errors.add("regionCode", "所在县（区）尚未设定经济困难标准，请联系当地法律援助中心") }
        }
        try errors.throwIfAny()
        let eligibility = LegalAidRules.eligibility(matterID: matterID, scope: scope, statuses: statuses, claim: claim, threshold: threshold,
                                                    householdSize: size, householdIncome: income)
        let created = try await Intake.create(valid!, by: p, idempotencyKey: idempotencyKey, app: app, on: app.db) { r, w in
            let c = try await newCase(for: r, kind: kind!, app: app, on: w.db)
            c.aidMatter = matterID
            c.householdSize = size
            c.householdIncome = income
            c.statusesText = DelimitedList.encode(AidStatus.allCases.filter(statuses.contains).map(\.rawValue))
            c.migrantWorkerClaim = claim?.rawValue
            c.meansTest = eligibility.meansTest.rawValue
            c.threshold = eligibility.threshold
            c.eligibleAtIntake = eligibility.eligible
            c.pledge = input.pledge ?? false
            try await c.create(on: w.db)
        }
        return created.request
    }

    /// The case row every legal aid request has, with its centre (the county's legal aid centre, else the city's)
    /// and the decision clock started on the day of receipt.
    static func newCase(for r: ServiceRequest, kind: AidCaseKind, app: Application, on db: any Database) async throws -> LegalAidCase {
        let sql = db as! any SQLDatabase
        let county = LegalAidSettings.countyCode(of: r.regionCode) ?? r.regionCode
        let centre = try await sql.select().column("id").from(Institution.schema)
            .where("type", .equal, SQLBind(InstitutionType.legalAidCentre.rawValue)).where("active", .equal, SQLBind(true))
            .where { $0.where("region_code", .equal, SQLBind(county)).orWhere("region_code", .equal, SQLBind(DivisionCode(county)?.ancestor(at: .city)?.rawValue ?? "")) }
            .orderBy("region_code", .descending).first(decodingColumn: "id", as: UUID.self)
        let today = app.today
        let c = LegalAidCase(requestID: r.id!, kind: kind, receivedOn: today, now: app.clock.now)
        c.centreID = centre
        let rules = try await LegalAidSettings.rules(on: sql)
        r.acceptDue = rules[.decision]!.due(from: today, on: app.workingCalendar).description
        try await r.save(on: db)
        return c
    }

    // MARK: Steps

    enum Step: String, CaseIterable, Sendable {
        case missingMaterials = "missing-materials"
        case materialsReceived = "materials-received"
        case decision, provisional, designation, replacement, objection, review, termination, closing

        var chineseName: String {
            switch self {
            case .missingMaterials: "一次性告知补充材料"
            case .materialsReceived: "收到补充材料"
            case .decision: "审查决定"
            case .provisional: "先行提供法律援助"
            case .designation: "指派"
            case .replacement: "更换承办人员"
            case .objection: "提出异议"
            case .review: "异议审查"
            case .termination: "终止法律援助"
            case .closing: "结案"
            }
        }
    }

    struct StepInput: Content {
        var items: [String]?
        var grant: Bool?
        var reason: String?
        var ground: String?
        var practitionerId: UUID?
        var text: String?
        var result: String?
        var stage: String?
        var report: String?
        var note: String?
    }

    /// The legal aid step that takes the place of a general action, which a legal aid case may not take directly.
    static func step(replacing action: RequestAction) -> Step? {
        switch action {
        case .accept, .reject: .decision
        case .conclude: .closing
        default: nil
        }
    }

    /// The timeline names of the steps that leave the status as it is.
    static let eventNames: [String: String] = [
        "request_materials": "一次性告知补充材料", "materials_received": "收到补充材料", "decide": "审查决定",
        "object": "提出异议", "review": "异议审查", "replace_designee": "更换承办人员",
    ]

    static func load(_ r: ServiceRequest, on db: any Database) async throws -> LegalAidCase {
        guard r.matterType == MatterType.legalAid.rawValue, let c = try await LegalAidCase.find(r.id, on: db) else {
            throw AppError.notFound("法律援助案件")
        }
        return c
    }

    /// Who may take which step, before the state is looked at.
    static func mayTake(_ step: Step, on r: ServiceRequest, _ c: LegalAidCase, _ p: Principal) -> Bool {
        switch step {
        case .objection:
            return (p.role == .citizen && r.citizenAccountID == p.accountID) || [.windowClerk, .hotlineOperator].contains(p.role)
        case .review:
            return p.role == .countyAdmin || p.role == .cityAdmin
        case .closing:
            return RequestActions.mayAct(.conclude, on: r, p) && (RequestLifecycle.dispatchers.contains(p.role) || p.role == .practitioner)
        default:
            // Arts. 41–44: the legal aid centre examines, decides, designates and terminates; the hotline and the other
            // windows register and forward. Only the case's own centre's staff take these steps.
            return p.role == .windowClerk && p.institutionID != nil && p.institutionID == c.centreID
                && RequestActions.mayAct(.accept, on: r, p)
        }
    }

    /// The steps open to `p` now, for buttons.
    static func available(_ r: ServiceRequest, _ c: LegalAidCase, for p: Principal) -> [Step] {
        Step.allCases.filter { mayTake($0, on: r, c, p) && stateAllows($0, r, c) == nil }
    }

    /// Why the case's state does not allow the step, or nil.
    static func stateAllows(_ step: Step, _ r: ServiceRequest, _ c: LegalAidCase) -> String? {
        let status = r.requestStatus
        let pending = c.materialsRequestedOn != nil
        switch step {
        case .missingMaterials:
            if c.isNotified { return "通知辩护案件无需申请材料" }
            // Art. 43: everything missing is told at once, in one notice.
            if c.missingMaterials != nil { return pending ? "已发出补充材料通知，请待申请人补齐后登记" : "补充材料应一次性告知，本申请已发出过通知" }
            return status == .submitted ? nil : "只有审查中的申请可以要求补充材料"
        case .materialsReceived:
            return pending ? nil : "没有待补充的材料"
        case .decision:
            if c.decision != nil { return "已作出审查决定" }
            if status == .submitted { return nil }
            return c.provisionalGround != nil && [.accepted, .assigned, .inProgress].contains(status) ? nil : "当前状态不能作出审查决定"
        case .provisional:
            return status == .submitted && c.decision == nil && !c.isNotified ? nil : "只有审查中的申请可以先行提供法律援助"
        case .designation:
            if status == .assigned { return "已指派承办人员；如需更换，请“更换承办人员”并写明理由（法律援助法第五十六条）" }
            return status == .accepted ? nil : "给予法律援助后才能指派"
        case .replacement:
            return [.assigned, .inProgress].contains(status) && r.practitionerID != nil ? nil : "指派承办人员后、结案前才能更换"
        case .objection:
            // Art. 49: against a refusal or a termination; once per decision.
            if c.objectionOn != nil && c.reviewResult != "corrected" { return "已提出过异议" }
            if status == .rejected && c.decision == "refused" { return nil }
            return status == .concluded && r.outcome == "aid_terminated" ? nil : "只能对不予法律援助或终止法律援助的决定提出异议"
        case .review:
            return c.objectionOn != nil && c.reviewResult == nil ? nil : "没有待审查的异议"
        case .termination:
            return [.accepted, .assigned, .inProgress].contains(status) ? nil : "当前状态不能终止法律援助"
        case .closing:
            return [.assigned, .inProgress].contains(status) ? nil : "指派后才能结案"
        }
    }

    static func perform(_ step: Step, on idOrNumber: String, input: StepInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        try await CaseSteps.run(on: idOrNumber, by: p, app: app, load: { r, db in try await load(r, on: db) }, check: { r, c in
            guard mayTake(step, on: r, c, p) else { throw AppError(.forbidden, "forbidden", "您不能对该案件“\(step.chineseName)”") }
            if let why = stateAllows(step, r, c) { throw AppError.conflict("invalid_transition", why) }
        }, take: { r, c, w, now in
            try await take(step, r, c, input: input, by: p, writer: w, app: app, now: now)
        })
    }

    private static func event(_ r: ServiceRequest, _ action: String, _ note: String, by p: Principal, now: Date, writer w: Ledger.Writer) {
        CaseSteps.note(r, action, note, by: p, now: now, writer: w)
    }

    private static func take(_ step: Step, _ r: ServiceRequest, _ c: LegalAidCase, input: StepInput, by p: Principal,
                             writer w: Ledger.Writer, app: Application, now: Date) async throws {
        let db = w.db
        let sql = db as! any SQLDatabase
        let today = CivilDate(now)
        let calendar = app.workingCalendar
        let rules = try await LegalAidSettings.rules(on: sql)
        var errors = FieldErrors()
        switch step {
        case .missingMaterials:
            let items = (input.items ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            if items.isEmpty { errors.add("items", "请逐项列出需要补充的材料") }
            if items.count > 20 || items.contains(where: { $0.count > 100 }) { errors.add("items", "最多 20 项，每项不超过 100 字") }
            try errors.throwIfAny()
            c.materialsRequestedOn = today.description
            c.missingMaterials = items.joined(separator: "\n")
            try await c.save(on: db)
            event(r, "request_materials", "一次性告知需补充：" + items.joined(separator: "；") + "。补充期间不计入审查期限（第四十三条）", by: p, now: now, writer: w)
            try await Notifications.tellApplicant(r, "您的法律援助申请 \(r.number) 需补充材料：" + items.joined(separator: "；")
                                                  + "。请尽快提交，补充期间审查暂停计时。", app: app, on: db, at: now)
        case .materialsReceived:
            let since = CivilDate(c.materialsRequestedOn!)!
            let paused = c.pause + DeadlineRule.Pause.between(since, today, on: calendar)
            c.pausedCalendarDays = paused.calendarDays
            c.pausedWorkingDays = paused.workingDays
            c.materialsRequestedOn = nil
            let due = rules[.decision]!.due(from: CivilDate(c.receivedOn)!, paused: paused, on: calendar)
            r.acceptDue = due.description
            r.updatedAt = now
            try await r.save(on: db)
            try await c.save(on: db)
            event(r, "materials_received", "材料已补齐，审查期限顺延至 \(due)" + (input.note?.nilIfEmpty.map { "。\($0)" } ?? ""), by: p, now: now, writer: w)
        case .decision:
            guard let grant = input.grant else { throw AppError.validation(["grant": "请选择给予或不予法律援助"]) }
            if grant, c.materialsRequestedOn != nil {
                throw AppError.conflict("materials_pending", "申请人尚未补齐材料，审查暂停；收到材料后再作出给予的决定")
            }
            let reason = grant ? errors.optional(input.reason, "reason", "决定理由", maxLength: 500)
                               : errors.required(input.reason, "reason", "不予法律援助的理由", maxLength: 500)
            try errors.throwIfAny()
            if r.requestStatus == .submitted {
                if grant {
                    try await RequestActions.apply(.accept, to: r, input: .init(note: "决定给予法律援助" + (reason.map { "：\($0)" } ?? "")),
                                                   by: p, writer: w, app: app, now: now)
                } else {
                    try await RequestActions.apply(.reject, to: r, input: .init(reason: refusalText(reason!)), by: p, writer: w, app: app, now: now)
                }
            } else if grant {
                event(r, "decide", "经审查决定给予法律援助，先行提供的法律援助继续进行", by: p, now: now, writer: w)
            } else {
                try await RequestActions.apply(.conclude, to: r, input: .init(outcome: "aid_terminated",
                                               summary: "经审查不符合法律援助条件，终止先行提供的法律援助：\(reason!)"), by: p, writer: w, app: app, now: now)
            }
            let fresh = try await load(r, on: db)
            fresh.decision = grant ? "granted" : "refused"
            fresh.decidedOn = today.description
            fresh.decisionReason = try app.personalData.seal(ifAny: reason)
            try await fresh.save(on: db)
        case .provisional:
            let ground = errors.choice(input.ground, "ground", "先行提供法律援助的情形", as: ProvisionalGround.self)
            let note = errors.optional(input.reason, "reason", "说明", maxLength: 500)
            try errors.throwIfAny()
            c.provisionalGround = ground!.rawValue
            c.designationDue = rules[.designation]!.due(from: today, on: calendar).description
            try await c.save(on: db)
            try await RequestActions.apply(.accept, to: r, input: .init(note: "先行提供法律援助（\(ground!.article)：\(ground!.chineseName)）"
                                           + (note.map { "。\($0)" } ?? "") + "，经济困难状况继续审查"), by: p, writer: w, app: app, now: now)
        case .designation:
            guard let pid = input.practitionerId else { throw AppError.validation(["practitionerId": "请选择承办的法律援助人员"]) }
            try await RequestActions.apply(.assign, to: r, input: .init(note: input.note?.nilIfEmpty, practitionerId: pid), by: p, writer: w, app: app, now: now)
        case .replacement:
            try await replace(r, c, input: input, by: p, writer: w, app: app, now: now)
        case .objection:
            let text = errors.required(input.text ?? input.reason, "text", "异议理由", maxLength: 1000)
            try errors.throwIfAny()
            c.objectionOn = today.description
            c.objectionText = try app.personalData.seal(text)
            c.reviewDue = rules[.objectionReview]!.due(from: today, on: calendar).description
            c.reviewResult = nil
            c.reviewReason = nil
            c.reviewedOn = nil
            try await c.save(on: db)
            let against = r.requestStatus == .rejected ? "不予法律援助" : "终止法律援助"
            event(r, "object", "对\(against)的决定提出异议：\(text)。司法行政部门应于 \(c.reviewDue!) 前审查（第四十九条）", by: p, now: now, writer: w)
            let county = try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(r.regionCode), on: sql)
            try await Notifications.notify(accounts: county, request: r.id, text: "法律援助异议待审查：\(r.number)，请于 \(c.reviewDue!) 前作出决定",
                                           now: now, on: sql)
        case .review:
            let result = errors.required(input.result, "result", "审查结果", maxLength: 20)
            if !result.isEmpty, !["upheld", "corrected"].contains(result) { errors.add("result", "审查结果应为维持（upheld）或责令改正（corrected）") }
            let reason = errors.required(input.reason, "reason", "审查理由", maxLength: 1000)
            try errors.throwIfAny()
            c.reviewResult = result
            c.reviewReason = try app.personalData.seal(reason)
            c.reviewedOn = today.description
            if result == "corrected" {
                c.decision = nil
                c.decidedOn = nil
                c.decisionReason = nil
                c.terminationGround = nil
                c.closedOn = nil
                c.stage = nil
                c.subsidy = nil
                c.closingReport = nil
                try await c.save(on: db)
                try await RequestActions.apply(.reopen, to: r, input: .init(note: "司法行政部门审查异议，责令法律援助机构改正（第四十九条）：\(reason)"),
                                               by: p, writer: w, app: app, now: now)
                r.acceptDue = rules[.decision]!.due(from: today, on: calendar).description
                try await r.save(on: db)
            } else {
                try await c.save(on: db)
                event(r, "review", "司法行政部门审查异议，维持原决定（第四十九条）：\(reason)", by: p, now: now, writer: w)
            }
        case .termination:
            let ground = errors.choice(input.ground, "ground", "终止情形", as: TerminationGround.self)
            let reason = errors.required(input.reason, "reason", "终止理由", maxLength: 1000)
            let stage = input.stage?.nilIfEmpty.map { AidStage(rawValue: $0) }
            if let stage, stage == nil || !c.caseKind.stages.contains(stage!) { errors.add("stage", "办理阶段取值无效") }
            try errors.throwIfAny()
            try await RequestActions.apply(.conclude, to: r, input: .init(outcome: "aid_terminated",
                                           summary: "终止法律援助（\(ground!.article)：\(ground!.chineseName)）：\(reason)"), by: p, writer: w, app: app, now: now)
            let fresh = try await load(r, on: db)
            fresh.terminationGround = ground!.rawValue
            if let s = stage ?? nil, fresh.designatedOn != nil {
                fresh.stage = s.rawValue
                fresh.subsidy = SubsidyRate.subsidy(kind: fresh.caseKind, stage: s, terminated: true, rates: try await LegalAidSettings.rates(on: sql))
            }
            try await fresh.save(on: db)
        case .closing:
            let stage = errors.choice(input.stage, "stage", "办理阶段", as: AidStage.self)
            if let stage, !c.caseKind.stages.contains(stage) { errors.add("stage", "\(c.caseKind.chineseName)案件没有“\(stage.chineseName)”阶段") }
            let report = errors.required(input.report, "report", "结案报告", maxLength: 4000)
            try errors.throwIfAny()
            try await RequestActions.apply(.conclude, to: r, input: .init(outcome: "aid_closed", summary: report), by: p, writer: w, app: app, now: now)
            let fresh = try await load(r, on: db)
            fresh.stage = stage!.rawValue
            fresh.subsidy = SubsidyRate.subsidy(kind: fresh.caseKind, stage: stage!, terminated: false, rates: try await LegalAidSettings.rates(on: sql))
            try await fresh.save(on: db)
        }
    }

    /// Art. 56: the recipient who shows that the designee does not perform their duties may ask the centre for another;
    /// the centre designates one from the roster (as for a designation), with its reason on the record. The new designee
    /// is told (and by SMS), the one replaced too, and the recipient; a replacement ordered on an upheld complaint is
    /// then no longer due.
    private static func replace(_ r: ServiceRequest, _ c: LegalAidCase, input: StepInput, by p: Principal, writer w: Ledger.Writer,
                                app: Application, now: Date) async throws {
        let sql = w.db as! any SQLDatabase
        let today = CivilDate(now)
        var errors = FieldErrors()
        if input.practitionerId == nil { errors.add("practitionerId", "请选择新的承办人员") }
        if let pid = input.practitionerId, pid == r.practitionerID { errors.add("practitionerId", "新的承办人员不能是原承办人员") }
        let reason = errors.required(input.reason, "reason", "更换理由", maxLength: 500)
        try errors.throwIfAny()
        let pid = input.practitionerId!
        let type = try await checkDesignee(pid, for: c, today: today, on: sql)
        struct P: Decodable { var id: UUID; var institutionId: UUID; var name: String; var status: String }
        let people = try await sql.select().columns("id", "institution_id", "name", "status").from(Practitioner.schema)
            .where("id", .in, SQLBind.group([pid] + (r.practitionerID.map { [$0] } ?? []))).all(decoding: P.self, keyDecodingStrategy: .snakeCase)
        guard let next = people.first(where: { $0.id == pid }) else { throw AppError.validation(["practitionerId": "人员不存在"]) }
        guard next.status == PractitionerStatus.practising.rawValue else { throw AppError.validation(["practitionerId": "\(next.name)目前不在执业状态"]) }
        let previous = r.practitionerID
        let previousName = people.first { $0.id == previous }?.name ?? "原承办人员"
        r.practitionerID = pid
        r.institutionID = next.institutionId
        r.updatedAt = now
        try await w.save(r)
        c.designeeType = type.rawValue
        c.replacementDue = nil
        try await c.save(on: w.db)
        event(r, "replace_designee", "更换承办人员：\(previousName) → \(next.name)（法律援助法第五十六条）：\(reason)", by: p, now: now, writer: w)
        let incoming = try await RequestActions.practitionerAccounts(pid, on: sql)
        let text = "更换指派：法律援助事项 \(r.number) 改由您承办，办结期限 \(r.concludeDue ?? "—")，请及时联系受援人。"
        try await Notifications.notify(accounts: incoming, request: r.id, text: text, now: now, on: sql)
        try await Notifications.sms(accounts: incoming, text: text, app: app, on: w.db, at: now)
        let outgoing = try await RequestActions.practitionerAccounts(previous, on: sql)
        try await Notifications.notify(accounts: outgoing, request: r.id, text: "法律援助事项 \(r.number) 已改由\(next.name)承办，请做好交接。", now: now, on: sql)
        try await Notifications.tellApplicant(r, "您的法律援助事项 \(r.number) 已更换承办人员，改由\(next.name)承办，承办人员将与您联系。",
                                              app: app, on: w.db, at: now)
    }

    /// An upheld complaint asking for another designee (art. 56): the centre is to replace them within the designation
    /// limit (the platform's rule: the law sets no days), watched like the designation; returns the due day, or nil when
    /// the case no longer has a designee to replace.
    static func orderReplacement(request: UUID, complaint number: String, app: Application, on db: any Database, at now: Date) async throws -> CivilDate? {
        let sql = db as! any SQLDatabase
        guard let c = try await LegalAidCase.find(request, on: db), let r = try await ServiceRequest.find(request, on: db),
              [.assigned, .inProgress].contains(r.requestStatus), r.practitionerID != nil else { return nil }
        let today = CivilDate(now)
        let due = try await LegalAidSettings.rules(on: sql)[.designation]!.due(from: today, on: app.workingCalendar)
        c.replacementDue = due.description
        try await c.save(on: db)
        if let centre = c.centreID {
            let staff = try await Notifications.accounts(roles: [.institutionAdmin, .windowClerk], institution: centre, on: sql)
            try await Notifications.notify(accounts: staff, request: request,
                                           text: "受援人投诉 \(number) 成立：请于 \(due) 前更换事项 \(r.number) 的承办人员（法律援助法第五十六条）", now: now, on: sql)
        }
        return due
    }

    static func refusalText(_ reason: String) -> String {
        "不予法律援助：\(reason)。申请人对决定有异议的，可以向设立该法律援助机构的司法行政部门提出（法律援助法第四十九条）"
    }

    // MARK: Following the general lifecycle

    /// Keeps the case in step when a legal aid request moves through the general actions
    /// (`/requests/{id}/accept`, `/assign`, …), and refuses a designation the law does not allow.
    static func follow(_ action: RequestAction, _ r: ServiceRequest, input: RequestActions.Input, today: CivilDate,
                       app: Application, on db: any Database) async throws {
        guard let c = try await LegalAidCase.find(r.id, on: db) else { return }
        let sql = db as! any SQLDatabase
        let rules = try await LegalAidSettings.rules(on: sql)
        switch action {
        case .accept:
            if c.decision == nil, c.provisionalGround == nil, !c.isNotified {
                c.decision = "granted"
                c.decidedOn = today.description
                c.designationDue = rules[.designation]!.due(from: today, on: app.workingCalendar).description
            }
        case .reject:
            c.decision = "refused"
            c.decidedOn = today.description
            c.decisionReason = try c.decisionReason ?? app.personalData.seal(ifAny: input.reason)
        case .assign:
            guard let pid = input.practitionerId else {
                throw AppError.validation(["practitionerId": "法律援助案件须指派到具体的法律援助人员（法律援助法第四十三条）"])
            }
            let type = try await checkDesignee(pid, for: c, today: today, on: sql)
            if c.designatedOn == nil { c.designatedOn = today.description }
            c.designeeType = type.rawValue
        case .conclude:
            if c.closedOn == nil { c.closedOn = today.description }
            if c.closingReport == nil { c.closingReport = try app.personalData.seal(ifAny: input.summary) }
        case .reopen:
            c.decision = nil
            c.decidedOn = nil
        default:
            return
        }
        try await c.save(on: db)
    }

    /// Only those on the legal aid roster; a criminal defence only by a lawyer (art. 25) on the criminal roster,
    /// and a possible life or death sentence only by one with three years of practice (art. 26).
    static func checkDesignee(_ practitionerID: UUID, for c: LegalAidCase, today: CivilDate, on db: any SQLDatabase) async throws -> PractitionerType {
        struct R: Decodable { var type: String; var name: String; var practiceSince: String?; var criminal: Bool?; var active: Bool? }
        guard let row = try await db.raw("""
            SELECT p.type, p.name, l.practice_since, l.criminal, l.active FROM practitioners p
            LEFT JOIN legal_aid_roster l ON l.practitioner_id = p.id WHERE p.id = \(bind: practitionerID)
            """).first(decoding: R.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError.validation(["practitionerId": "人员不存在"])
        }
        guard row.active == true else {
            throw AppError.validation(["practitionerId": "\(row.name)不在法律援助人员库中，不能指派"])
        }
        let type = PractitionerType(rawValue: row.type) ?? .lawyer
        if c.caseKind == .criminal {
            if type != .lawyer || row.criminal != true {
                throw AppError.validation(["practitionerId": "刑事法律援助须指派刑事法律援助律师（法律援助法第二十五条）"])
            }
            if c.reason?.requiresSeniorLawyer == true, !Seniority.isSenior(since: row.practiceSince.flatMap(CivilDate.init), on: today) {
                throw AppError.validation(["practitionerId": "可能被判处无期徒刑、死刑的案件和死刑复核案件，须指派具有三年以上相关执业经历的律师（法律援助法第二十六条）"])
            }
        }
        return type
    }
}
