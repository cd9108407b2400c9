import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Mediation cases: intake from every source with the parties, consent, sessions, the outcome and the
/// settlement agreement, follow-up of its performance, judicial confirmation. Each step moves the
/// service request through the one lifecycle and records the mediation detail in the same write.
enum MediationCases {
    struct PartyInput: Content { var side: String?; var kind: String?; var name: String?; var mobile: String? }

    struct CaseInput: Content {
        var source: String?
        var listeningPointId: UUID?
        var committeeId: UUID?
        var category: String?
        var description: String?
        var regionCode: String?
        var parties: [PartyInput]?
        var amount: Double?
        var peopleInvolved: Int?
        var channel: String?
        var externalReference: String?
    }

    /// Who may take in a dispute: the desks of intake, and the committees and judicial offices themselves.
    static let intakeRoles: Set<Role> = [.hotlineOperator, .windowClerk, .institutionAdmin, .countyAdmin, .cityAdmin, .practitioner]

    static func create(_ input: CaseInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        try p.require(intakeRoles.contains(p.role))
        let db = app.db as! any SQLDatabase
        let today = app.today
        // A committee's own people (its admin, its mediators at a listening point) take disputes in for that
        // committee only: it accepts them, and a mediator who takes one in mediates it.
        var own: (id: UUID, region: DivisionCode)?
        if p.role == .practitioner || p.role == .institutionAdmin {
            guard let committee = p.institutionID, let row = try? await InstitutionController.find(committee, scope: .everything, on: db),
                  row.type == InstitutionType.mediationCommittee.rawValue, row.active, let region = DivisionCode(row.regionCode) else {
                throw AppError(.forbidden, "forbidden", "只有人民调解委员会及其调解员可以登记纠纷")
            }
            if p.role == .practitioner, try await !isMediator(p, on: db) { throw AppError(.forbidden, "forbidden", "只有执业的人民调解员可以登记纠纷") }
            own = (committee, region)
        }
        // The committee's intake desk: accepts (and, for its mediator, assigns) inside the same write.
        let desk = own.map { p.asIntakeDesk(region: $0.region, institution: $0.id) }
        let actor = desk ?? p
        var errors = FieldErrors()
        let source = errors.choice(input.source, "source", "案件来源", as: MediationSource.self)
        var parties: [(PartySide, PartyKind, String, MobileNumber?)] = []
        for (i, party) in (input.parties ?? []).enumerated() {
            let side = errors.choice(party.side, "parties[\(i)].side", "当事人一方", as: PartySide.self)
            let kind = PartyKind(rawValue: party.kind ?? "person") ?? .person
            let name = errors.required(party.name, "parties[\(i)].name", "当事人姓名或名称", maxLength: 60)
            var mobile: MobileNumber?
            if let raw = party.mobile?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
                mobile = MobileNumber(raw)
                if mobile == nil { errors.add("parties[\(i)].mobile", "请输入正确的 11 位手机号码") }
            }
            if let side { parties.append((side, kind, name, mobile)) }
        }
        if !parties.contains(where: { $0.0 == .applicant }) || !parties.contains(where: { $0.0 == .respondent }) {
            errors.add("parties", "请登记纠纷双方当事人（至少各一方）")
        }
        var amount: Fen?
        if let a = input.amount {
            amount = Fen.fromYuan(a)
            if amount == nil { errors.add("amount", "争议金额应为不小于 0 的金额（元）") }
        }
        let people = input.peopleInvolved ?? parties.count
        if people < parties.count || people > 100_000 { errors.add("peopleInvolved", "涉及人数应不少于登记的当事人数") }
        var listeningPoint: (id: UUID, committee: UUID?, region: String)?
        if let lp = input.listeningPointId {
            struct L: Decodable { var id: UUID; var committeeId: UUID?; var regionCode: String }
            if let row = try await db.select().columns("id", "committee_id", "region_code").from("listening_points").where("id", .equal, SQLBind(lp))
                .where("active", .equal, SQLBind(true)).first(decoding: L.self, keyDecodingStrategy: .snakeCase),
               own.map({ DivisionCode(row.regionCode).map($0.region.contains) ?? false }) ?? true {
                listeningPoint = (row.id, row.committeeId, row.regionCode)
            } else {
                errors.add("listeningPointId", "说事点不存在、已停用或不在本调委会辖区")
            }
        } else if source == .listeningPoint {
            errors.add("listeningPointId", "请选择百姓说事点")
        }
        let regionCode = try await RegionNames.code(for: input.regionCode, on: db)?.nilIfEmpty ?? listeningPoint?.region ?? ""
        var committee = own?.id ?? input.committeeId ?? listeningPoint?.committee
        if committee == nil {
            // The committee of the village, else of the town, where the dispute arose.
            committee = try await MediationCases.committee(of: regionCode, on: db)
        } else if own == nil, let chosen = committee {
            var scope = DataScope.everything
            if case .region = p.scope { scope = p.scope }
            let row = try? await InstitutionController.find(chosen, scope: scope, on: db)
            if row?.type != InstitutionType.mediationCommittee.rawValue || row?.active != true { errors.add("committeeId", "请选择辖区内在用的人民调解委员会") }
        }
        let referred = [MediationSource.courtReferral, .policeReferral, .petitionReferral].contains(source)
        let channel = input.channel?.nilIfEmpty ?? (referred && Intake.channels(for: actor.role).contains(.referral) ? RequestChannel.referral.rawValue : nil)
        let first = parties.first { $0.0 == .applicant }
        var valid: Intake.Valid?
        var intakeError: AppError?
        do {
            var v = try await Intake.validate(Intake.Input(
                matterType: MatterType.mediation.rawValue, itemCode: nil, category: input.category, channel: channel,
                description: input.description, applicant: .init(name: first?.2 ?? "—", mobile: first?.3?.digits ?? "13000000000", idNumber: nil),
                priorityGroups: nil, regionCode: regionCode, externalReference: input.externalReference, accept: true, answer: nil),
                by: actor, today: today, regions: app.regionDirectory, on: db)
            v.mobile = first?.3
            // The committee's desk accepts below, inside the same write.
            if desk != nil { v.accept = false }
            valid = v
        } catch let e as AppError where e.status == .unprocessableEntity {
            intakeError = e
            for (k, v) in e.fields { errors.add(k.hasPrefix("applicant") ? "parties[0]" + k.dropFirst("applicant".count) : k, v) }
        }
        try errors.throwIfAny()
        guard let valid else { throw intakeError ?? AppError.validation([:]) }
        let settings = try await MediationSettings.all(on: db)
        let mass = MediationRules.isMass(peopleInvolved: people, amount: amount, peopleThreshold: Int(settings["mass_people"] ?? 10),
                                         amountThreshold: Fen((settings["mass_amount_yuan"] ?? 500_000) * 100))
        let partyRows = parties
        let (committeeID, amountFen, pointID) = (committee, amount, listeningPoint?.id)
        let created = try await Intake.create(valid, by: p, idempotencyKey: nil, app: app, on: app.db) { r, w in
            let c = MediationCase()
            c.id = r.id
            c.committeeID = committeeID
            c.source = source!.rawValue
            c.listeningPointID = pointID
            c.amount = amountFen
            c.peopleInvolved = people
            c.mass = mass
            c.consent = "pending"
            c.createdAt = app.clock.now
            try await c.create(on: w.db)
            let sql = w.db as! any SQLDatabase
            for (i, party) in partyRows.enumerated() {
                try await sql.insert(into: "mediation_parties").columns("id", "request_id", "side", "kind", "name", "mobile_masked", "sort")
                    .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(party.0.rawValue), SQLBind(party.1.rawValue), SQLBind(try app.personalData.seal(party.2)),
                            SQLBind(party.3?.masked), SQLBind(i)).run()
            }
            // The committee takes the case: its admins see it from now on.
            r.institutionID = committeeID
            try await r.save(on: w.db)
            if let desk {
                try await RequestActions.apply(.accept, to: r, input: .init(note: "调委会受理"), by: desk, writer: w, app: app, now: app.clock.now)
                if p.role == .practitioner {
                    try await RequestActions.apply(.assign, to: r, input: .init(note: "说事点受理，由\(p.displayName)调解", practitionerId: p.practitionerID),
                                                   by: desk, writer: w, app: app, now: app.clock.now)
                }
            }
            if mass {
                w.append(LedgerEvent(requestID: r.id!, atMillis: app.clock.now.millis, actorID: p.accountID, actorName: p.displayName,
                                           action: "escalate", fromStatus: r.status, toStatus: r.status,
                                           note: "群体性或重大纠纷（涉及 \(people) 人" + (amountFen.map { "，争议金额 \(Money.yuan($0)) 元" } ?? "") + "），已报告司法所"))
                try await notifyJudicialOffice(r, text: "群体性纠纷：\(r.number) 涉及 \(people) 人，请司法所关注并统筹化解", now: app.clock.now, on: sql)
            }
            try await checkHotspot(r, settings: settings, today: today, now: app.clock.now, on: sql)
        }
        return created.request
    }

    /// A mediation applied for through the general intake (the portal, the hotline): the case row with the
    /// applicant as the one party known so far and the committee of the place; the committee completes it.
    static func newApplicationCase(for r: ServiceRequest, app: Application, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let committee = try await MediationCases.committee(of: r.regionCode, on: sql)
        let c = MediationCase()
        c.id = r.id
        c.committeeID = committee
        c.source = MediationSource.application.rawValue
        c.peopleInvolved = 1
        c.mass = false
        c.consent = "pending"
        c.createdAt = app.clock.now
        try await c.create(on: db)
        try await sql.insert(into: "mediation_parties").columns("id", "request_id", "side", "kind", "name", "mobile_masked", "sort")
            .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(PartySide.applicant.rawValue), SQLBind(PartyKind.person.rawValue),
                    // Sealed as the request's, copied as it is.
                    SQLBind(r.applicantName), SQLBind(r.applicantMobileMasked), SQLBind(0)).run()
        if r.institutionID == nil, let committee {
            r.institutionID = committee
            try await r.save(on: db)
        }
    }

    /// A practising mediator.
    static func isMediator(_ p: Principal, on db: any SQLDatabase) async throws -> Bool {
        guard let id = p.practitionerID else { return false }
        struct R: Decodable { var type: String; var status: String }
        let row = try await db.select().columns("type", "status").from(Practitioner.schema).where("id", .equal, SQLBind(id)).first(decoding: R.self)
        return row?.type == PractitionerType.mediator.rawValue && row?.status == PractitionerStatus.practising.rawValue
    }

    /// The committee of the village, else of the town, where a dispute arose.
    static func committee(of regionCode: String, on db: any SQLDatabase) async throws -> UUID? {
        try await db.raw("""
            SELECT id FROM institutions WHERE type = \(bind: InstitutionType.mediationCommittee.rawValue) AND active = \(bind: true)
              AND committee_kind IN ('village', 'town') AND \(bind: regionCode) LIKE region_code || '%'
            ORDER BY LENGTH(region_code) DESC LIMIT 1
            """).first(decodingColumn: "id", as: UUID.self)
    }

    /// The judicial office of the town (its admins), and the county's admins.
    static func notifyJudicialOffice(_ r: ServiceRequest, text: String, now: Date, on db: any SQLDatabase) async throws {
        let town = DivisionCode(r.regionCode)?.ancestor(at: .town)?.rawValue ?? r.regionCode
        let offices = try await db.select().column("id").from(Institution.schema).where("type", .equal, SQLBind(InstitutionType.judicialOffice.rawValue))
            .where("region_code", .equal, SQLBind(town)).all(decodingColumn: "id", as: UUID.self)
        var accounts: [UUID] = []
        for o in offices { accounts += try await Notifications.accounts(role: .institutionAdmin, institution: o, on: db) }
        accounts += try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(r.regionCode), on: db)
        try await Notifications.notify(accounts: accounts, request: r.id, text: text, now: now, on: db)
    }

    /// Dispute screening: a new case may make its village or town a hotspot for its category; the
    /// judicial office is told once a window.
    static func checkHotspot(_ r: ServiceRequest, settings: [String: Double], today: CivilDate, now: Date, on db: any SQLDatabase) async throws {
        guard let code = DivisionCode(r.regionCode) else { return }
        let since = now.addingTimeInterval(-Double(Hotspot.windowDays) * 86_400)
        let before = now.addingTimeInterval(-Double(Hotspot.windowDays * (Hotspot.baselineWindows + 1)) * 86_400)
        for place in [code.ancestor(at: .village), code.ancestor(at: .town)].compactMap({ $0 }) {
            struct C: Decodable { var recent: Int; var earlier: Int }
            let counts = try await db.raw("""
                SELECT CAST(COALESCE(SUM(CASE WHEN created_at >= \(bind: since) THEN 1 ELSE 0 END), 0) AS BIGINT) AS recent,
                       CAST(COALESCE(SUM(CASE WHEN created_at < \(bind: since) THEN 1 ELSE 0 END), 0) AS BIGINT) AS earlier
                FROM service_requests WHERE matter_type = \(bind: MatterType.mediation.rawValue) AND category = \(bind: r.category)
                  AND region_code LIKE \(bind: place.scopePrefix + "%") AND created_at >= \(bind: before)
                """).first(decoding: C.self) ?? C(recent: 0, earlier: 0)
            guard Hotspot.isHotspot(recent: counts.recent, earlier: counts.earlier, multiple: settings["hotspot_multiple"] ?? 2,
                                    minimum: Int(settings["hotspot_minimum"] ?? 3)) else { continue }
            let windowStart = today.adding(days: -Hotspot.windowDays).description
            let raised = try await db.select().column("id").from("mediation_alerts").where("region_code", .equal, SQLBind(place.rawValue))
                .where("category", .equal, SQLBind(r.category)).where("raised_on", .greaterThan, SQLBind(windowStart)).first()
            guard raised == nil else { continue }
            try await db.insert(into: "mediation_alerts").columns("id", "region_code", "category", "recent", "earlier", "raised_on", "created_at")
                .values(SQLBind(UUID()), SQLBind(place.rawValue), SQLBind(r.category), SQLBind(counts.recent), SQLBind(counts.earlier),
                        SQLBind(today.description), SQLBind(now)).run()
            let name = try await RegionController.find(place.rawValue, on: db)?.name ?? place.rawValue
            try await notifyJudicialOffice(r, text: "矛盾纠纷预警：\(name)近 30 日\(Category(rawValue: r.category)?.chineseName ?? r.category)纠纷 \(counts.recent) 件，明显高于往常，请排查化解",
                                           now: now, on: db)
        }
    }

    // MARK: Steps

    enum Step: String, CaseIterable, Sendable {
        case consent, session, outcome, visit, confirmation
        case courtDecision = "court-decision"
        var chineseName: String {
            switch self {
            case .consent: "征询调解意愿"
            case .session: "记录调解"
            case .outcome: "调解结果"
            case .visit: "回访履行情况"
            case .confirmation: "申请司法确认"
            case .courtDecision: "法院确认结果"
            }
        }
    }

    struct ObligationInput: Content { var description: String?; var dueOn: String? }

    struct StepInput: Content {
        var given: Bool?
        var advice: String?
        var heldOn: String?
        var attendees: String?
        var record: String?
        var result: String?
        var reason: String?
        var form: String?
        var facts: String?
        var terms: String?
        var obligations: [ObligationInput]?
        var partiesConfirmed: Bool?
        /// The day the parties signed (written) or reached (oral) the agreement; today when not given.
        var signedOn: String?
        var status: String?
        var obligationId: UUID?
        var note: String?
        var appliedOn: String?
        var court: String?
        var joint: Bool?
        var decision: String?
        var decidedOn: String?
    }

    static let eventNames: [String: String] = [
        "consent": "征询调解意愿", "session": "调解", "visit": "回访", "confirmation": "申请司法确认", "court_decision": "司法确认结果", "escalate": "报告司法所",
    ]

    /// The general actions a mediation case takes through its own steps instead.
    static func step(replacing action: RequestAction) -> Step? { action == .conclude ? .outcome : nil }

    static func load(_ r: ServiceRequest, on db: any Database) async throws -> MediationCase {
        guard r.matterType == MatterType.mediation.rawValue, let c = try await MediationCase.find(r.id, on: db) else { throw AppError.notFound("调解案件") }
        return c
    }

    /// The mediating is the assigned mediator's and the committee's; intake desks and bureaus ask consent and
    /// record what the court did.
    static func mayTake(_ step: Step, _ r: ServiceRequest, _ p: Principal) -> Bool {
        guard RequestViews.visible(r, in: p.scope), !p.role.isReadOnly, p.role != .citizen else { return false }
        if p.role == .practitioner { return r.practitionerID != nil && r.practitionerID == p.practitionerID }
        if p.role == .institutionAdmin { return r.institutionID != nil && r.institutionID == p.institutionID }
        switch step {
        case .session, .outcome, .visit: return false
        case .consent, .confirmation, .courtDecision: return [.countyAdmin, .cityAdmin, .windowClerk].contains(p.role)
        }
    }

    static func stateAllows(_ step: Step, _ r: ServiceRequest, _ c: MediationCase) -> String? {
        let status = r.requestStatus
        switch step {
        case .consent:
            return c.consent == "pending" && [.accepted, .assigned].contains(status) ? nil : "已征询过当事人意愿"
        case .session, .outcome:
            if c.consent != "given" { return "须经当事人同意方可调解（人民调解法第十七条）" }
            return status == .inProgress ? nil : "开始调解后才能\(step.chineseName)"
        case .visit:
            return status == .concluded && c.outcome == MediationOutcome.success.rawValue ? nil : "调解成功后才能回访履行情况"
        case .confirmation:
            if c.agreementForm != AgreementForm.written.rawValue || c.outcome != MediationOutcome.success.rawValue { return "只有书面调解协议可以申请司法确认" }
            return c.confirmationAppliedOn == nil ? nil : "已申请司法确认"
        case .courtDecision:
            return c.confirmationAppliedOn != nil && c.courtDecision == nil ? nil : "没有待法院确认的申请"
        }
    }

    static func available(_ r: ServiceRequest, _ c: MediationCase, for p: Principal) -> [Step] {
        Step.allCases.filter { mayTake($0, r, p) && stateAllows($0, r, c) == nil }
    }

    static func perform(_ step: Step, on idOrNumber: String, input: StepInput, by p: Principal, app: Application) async throws -> ServiceRequest {
        try await CaseSteps.run(on: idOrNumber, by: p, app: app, load: { r, db in try await load(r, on: db) }, check: { r, c in
            guard mayTake(step, r, p) else { throw AppError(.forbidden, "forbidden", "您不能对该调解案件“\(step.chineseName)”") }
            if let why = stateAllows(step, r, c) { throw AppError.conflict("invalid_transition", why) }
        }, take: { r, c, w, now in
            try await take(step, r, c, input: input, by: p, writer: w, app: app, now: now)
        })
    }

    private static func event(_ r: ServiceRequest, _ action: String, _ note: String, by p: Principal, now: Date, writer w: Ledger.Writer) {
        CaseSteps.note(r, action, note, by: p, now: now, writer: w)
    }

    private static func date(_ raw: String?, _ field: String, _ label: String, today: CivilDate, _ errors: inout FieldErrors) -> CivilDate {
        guard let raw = raw?.nilIfEmpty else { return today }
        guard let d = CivilDate(raw), d <= today else { errors.add(field, "\(label)应为今天或以前的日期（YYYY-MM-DD）"); return today }
        return d
    }

    private static func take(_ step: Step, _ r: ServiceRequest, _ c: MediationCase, input: StepInput, by p: Principal,
                             writer w: Ledger.Writer, app: Application, now: Date) async throws {
        let db = w.db
        let sql = db as! any SQLDatabase
        let today = CivilDate(now)
        var errors = FieldErrors()
        switch step {
        case .consent:
            guard let given = input.given else { throw AppError.validation(["given": "请选择当事人是否同意调解"]) }
            if given {
                c.consent = "given"
                try await c.save(on: db)
                event(r, "consent", "当事人同意调解（人民调解法第十七条）", by: p, now: now, writer: w)
            } else {
                let advice = input.advice?.nilIfEmpty ?? MediationRules.otherRemedies
                c.consent = "refused"
                c.outcome = MediationOutcome.notMediated.rawValue
                c.closedOn = today.description
                c.advice = advice
                try await c.save(on: db)
                try await RequestActions.apply(.conclude, to: r, input: .init(outcome: MediationOutcome.notMediated.requestOutcome,
                                               summary: "当事人明确拒绝调解，不予调解（人民调解法第十七条）。已告知：\(advice)"),
                                               by: p, writer: w, app: app, now: now)
            }
        case .session:
            let held = date(input.heldOn, "heldOn", "调解日期", today: today, &errors)
            let attendees = errors.required(input.attendees, "attendees", "参加人员", maxLength: 300)
            let record = errors.required(input.record, "record", "调解记录", maxLength: 4000)
            try errors.throwIfAny()
            let mediator = try await sql.select().column("name").from(Practitioner.schema).where("id", .equal, SQLBind(r.practitionerID))
                .first(decodingColumn: "name", as: String.self) ?? p.displayName
            try await sql.insert(into: "mediation_sessions").columns("id", "request_id", "held_on", "mediator_name", "attendees", "record", "created_at")
                .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(held.description), SQLBind(mediator),
                        SQLBind(try app.personalData.seal(attendees)), SQLBind(try app.personalData.seal(record)), SQLBind(now)).run()
            // The timeline (hash-chained, never rewritten) names no attendee: their names stay in the sealed record.
            event(r, "session", "\(held) 调解，调解员 \(mediator)", by: p, now: now, writer: w)
        case .outcome:
            let result = errors.choice(input.result, "result", "调解结果", as: MediationOutcome.self)
            if result == .notMediated { errors.add("result", "调解开始后的结果应为成功、不成或终止") }
            var obligations: [(String, CivilDate)] = []
            var form: AgreementForm?
            var terms = "", facts: String?
            if result == .success {
                form = errors.choice(input.form, "form", "协议形式", as: AgreementForm.self)
                terms = errors.required(input.terms, "terms", "协议内容", maxLength: 4000)
                if form == .written { facts = errors.required(input.facts, "facts", "纠纷主要事实、争议事项", maxLength: 4000) }
                if input.partiesConfirmed != true { errors.add("partiesConfirmed", "调解协议须经各方当事人确认（书面协议由当事人签名）") }
                for (i, o) in (input.obligations ?? []).enumerated() where !(o.description ?? "").isEmpty || !(o.dueOn ?? "").isEmpty {
                    let text = errors.required(o.description, "obligations[\(i)].description", "履行事项", maxLength: 300)
                    guard let due = o.dueOn.flatMap(CivilDate.init) else { errors.add("obligations[\(i)].dueOn", "请填写履行期限（YYYY-MM-DD）"); continue }
                    obligations.append((text, due))
                }
            }
            let reason = result == .success ? nil : errors.required(input.reason, "reason", "调解不成或终止的原因", maxLength: 1000)
            let signed = date(input.signedOn, "signedOn", "协议签订（达成）日期", today: today, &errors)
            try errors.throwIfAny()
            c.outcome = result!.rawValue
            c.closedOn = today.description
            if result == .success {
                c.agreementForm = form!.rawValue
                c.agreementTerms = try app.personalData.seal(terms)
                c.agreementFacts = try app.personalData.seal(ifAny: facts)
                // Art. 29, 30: a written agreement takes effect when signed and sealed, an oral one when reached.
                c.agreementEffectiveOn = signed.description
                c.confirmationDue = form == .written ? MediationRules.confirmationDeadline(effectiveOn: signed, calendar: app.workingCalendar).description : nil
                for (i, o) in obligations.enumerated() {
                    try await sql.insert(into: "mediation_obligations").columns("id", "request_id", "description", "due_on", "status", "reminded", "sort")
                        .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(try app.personalData.seal(o.0)), SQLBind(o.1.description), SQLBind(FulfilmentStatus.pending.rawValue),
                                SQLBind(false), SQLBind(i)).run()
                }
            } else {
                c.advice = MediationRules.otherRemedies
            }
            try await c.save(on: db)
            let summary = result == .success
                ? "\(form!.chineseName)：\(terms)" + (obligations.isEmpty ? "" : "。履行期限：" + obligations.map { "\($0.0)（\($0.1) 前）" }.joined(separator: "；"))
                : "\(result!.chineseName)：\(reason!)。已告知当事人\(MediationRules.otherRemedies)（人民调解法第二十六条）"
            try await RequestActions.apply(.conclude, to: r, input: .init(outcome: result!.requestOutcome, summary: summary), by: p, writer: w, app: app, now: now)
        case .visit:
            let status = errors.choice(input.status, "status", "履行情况", as: FulfilmentStatus.self)
            if status == .pending { errors.add("status", "请选择已履行、部分履行或未履行") }
            let visited = date(input.heldOn, "heldOn", "回访日期", today: today, &errors)
            let note = errors.optional(input.note, "note", "回访情况", maxLength: 1000)
            try errors.throwIfAny()
            var update = sql.update("mediation_obligations").set("status", to: SQLBind(status!.rawValue)).where("request_id", .equal, SQLBind(r.id!))
            if let o = input.obligationId {
                guard try await sql.select().column("id").from("mediation_obligations").where("id", .equal, SQLBind(o))
                    .where("request_id", .equal, SQLBind(r.id!)).first() != nil else {
                    throw AppError.validation(["obligationId": "该履行事项不属于本协议"])
                }
                update = update.where("id", .equal, SQLBind(o))
            } else {
                // A visit about the whole agreement leaves what was already done as done.
                update = update.where("status", .notEqual, SQLBind(FulfilmentStatus.fulfilled.rawValue))
            }
            try await update.run()
            try await sql.insert(into: "mediation_visits").columns("id", "request_id", "visited_on", "status", "note", "by_name", "created_at")
                .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(visited.description), SQLBind(status!.rawValue), SQLBind(try app.personalData.seal(ifAny: note)), SQLBind(p.displayName), SQLBind(now)).run()
            event(r, "visit", "\(visited) 回访：\(status!.chineseName)" + (note.map { "。\($0)" } ?? ""), by: p, now: now, writer: w)
        case .confirmation:
            let applied = date(input.appliedOn, "appliedOn", "申请日期", today: today, &errors)
            let court = errors.required(input.court, "court", "受理法院", maxLength: 60)
            if input.joint != true { errors.add("joint", "司法确认须由双方当事人共同申请（人民调解法第三十三条）") }
            try errors.throwIfAny()
            if let due = c.confirmationDue.flatMap(CivilDate.init), applied > due {
                throw AppError.conflict("confirmation_window_passed", "已超过申请司法确认的期限（协议生效之日起三十日，至 \(due)），当事人可就协议履行向法院起诉")
            }
            c.confirmationAppliedOn = applied.description
            c.courtName = court
            try await c.save(on: db)
            event(r, "confirmation", "双方当事人于 \(applied) 共同向\(court)申请司法确认", by: p, now: now, writer: w)
        case .courtDecision:
            let decision = errors.choice(input.decision, "decision", "法院裁定", as: CourtDecision.self)
            let decided = date(input.decidedOn, "decidedOn", "裁定日期", today: today, &errors)
            try errors.throwIfAny()
            c.courtDecision = decision!.rawValue
            c.courtDecidedOn = decided.description
            try await c.save(on: db)
            event(r, "court_decision", "\(c.courtName ?? "法院")\(decision!.chineseName)（\(decided)）", by: p, now: now, writer: w)
        }
    }

    /// Starting a mediation needs the parties' consent (art. 17).
    static func follow(_ action: RequestAction, _ r: ServiceRequest, on db: any Database) async throws {
        guard action == .start, let c = try await MediationCase.find(r.id, on: db) else { return }
        if c.consent != "given" { throw AppError.conflict("consent_required", "须经当事人同意方可调解（人民调解法第十七条），请先征询调解意愿") }
    }

    // MARK: Reminders

    /// Obligations whose date has passed unfulfilled: the committee's admins and the mediator are told, once each.
    @discardableResult
    static func remindOverdueObligations(app: Application) async throws -> Int {
        let db = app.db as! any SQLDatabase
        struct O: Decodable { var id: UUID; var requestId: UUID; var dueOn: String; var number: String; var institutionId: UUID?; var practitionerId: UUID? }
        let rows = try await db.raw("""
            SELECT o.id, o.request_id, o.due_on, r.number, r.institution_id, r.practitioner_id
            FROM mediation_obligations o JOIN service_requests r ON r.id = o.request_id
            WHERE o.reminded = \(bind: false) AND o.due_on < \(bind: app.today.description)
              AND o.status IN (\(binds: [FulfilmentStatus.pending.rawValue, FulfilmentStatus.partlyFulfilled.rawValue])) LIMIT 500
            """).all(decoding: O.self, keyDecodingStrategy: .snakeCase)
        for o in rows {
            try await app.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                let moved = try await sql.raw("UPDATE mediation_obligations SET reminded = \(bind: true) WHERE id = \(bind: o.id) AND reminded = \(bind: false) RETURNING id").all()
                guard !moved.isEmpty else { return }
                var targets: [UUID] = []
                if let i = o.institutionId { targets += try await Notifications.accounts(role: .institutionAdmin, institution: i, on: sql) }
                if let pid = o.practitionerId {
                    targets += try await sql.select().column("id").from(Account.schema).where("practitioner_id", .equal, SQLBind(pid))
                        .all(decodingColumn: "id", as: UUID.self)
                }
                try await Notifications.notify(accounts: targets, request: o.requestId,
                                               text: "履行提醒：调解协议 \(o.number) 约定的履行事项应于 \(o.dueOn) 前履行，请回访了解履行情况", now: app.clock.now, on: sql)
            }
        }
        return rows.count
    }
}
