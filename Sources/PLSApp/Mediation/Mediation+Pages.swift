import Vapor
import SQLKit
import PLSDomain

/// Mediation pages: the network and its figures, taking in a dispute, the steps on a case, the printable
/// settlement agreement, a committee's members.
enum MediationPages {
    // MARK: Network and figures

    struct NetworkContext: Encodable {
        var page: PageMeta
        var cards: [IndicatorPages.IndicatorCard]
        var flagged: [MediationNetwork.Flagged]
        var alerts: [MediationController.Alert]
        var stats: MediationIndicators.Statistics
        var pointCount: Int
        var canEnter: Bool
    }

    static func network(_ req: Request) async throws -> View {
        let p = try req.staff()
        let (scope, _) = try await IndicatorController.scope(req, p)
        let prefix = p.areaPrefix
        let indicators = try await IndicatorRegistry(MediationIndicators.all).compute(scope, on: req.sql)
        let points = try await req.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("listening_points")
            .where("active", .equal, SQLBind(true)).where("region_code", .like, SQLBind(prefix + "%")).first(decodingColumn: "n", as: Int.self) ?? 0
        return try await req.view.render("mediation/network", NetworkContext(
            page: req.pageMeta(title: "人民调解"), cards: IndicatorPages.cards(indicators, limit: 10),
            flagged: try await MediationNetwork.flagged(prefix: prefix, today: req.today, limit: 20, on: req.sql),
            alerts: try await MediationController.alerts(prefix: prefix, on: req.sql),
            stats: try await MediationIndicators.statistics(region: scope.region, year: scope.year, on: req.sql),
            pointCount: points, canEnter: MediationCases.intakeRoles.contains(p.role) && !p.role.isReadOnly))
    }

    // MARK: Taking in a dispute

    static let keys = ["source", "listeningPointId", "category", "description", "regionCode", "applicantName", "applicantMobile",
                       "respondentName", "respondentMobile", "respondentKind", "amount", "peopleInvolved"]

    static func fields(_ v: [String: String], req: Request, p: Principal) async throws -> [FormField] {
        var source = FormField.select("source", "案件来源", MediationSource.self, selected: v["source"] ?? MediationSource.listeningPoint.rawValue)
        source.half = true
        var point = FormField(name: "listeningPointId", label: "百姓说事点", kind: .select)
        let prefix = p.region?.scopePrefix ?? ""
        point.options = [SelectOption(value: "", label: "（不经说事点）", selected: false)]
            + (try await MediationNetwork.points(prefix: prefix, limit: 500, on: req.sql)).map {
                SelectOption(value: $0.id.uuidString, label: "\($0.name)（\($0.hours)）", selected: $0.id.uuidString == v["listeningPointId"]) }
        point.half = true
        var category = FormField.select("category", "纠纷类别", Category.self, selected: v["category"], blank: "请选择")
        category.half = true
        var region = FormField(name: "regionCode", label: "纠纷发生地（村、社区）", value: try await RegionNames.label(v["regionCode"], on: req.sql),
                               hint: "输入村（社区）名称选择；经说事点登记的可不填")
        region.datalist = true
        region.options = try await RequestForm.regionOptions(on: req.sql)
        region.half = true
        var an = FormField(name: "applicantName", label: "申请方当事人", value: v["applicantName"] ?? "", required: true)
        an.half = true
        var am = FormField(name: "applicantMobile", label: "申请方手机", kind: .tel, value: v["applicantMobile"] ?? "")
        am.half = true
        var rn = FormField(name: "respondentName", label: "被申请方当事人（个人或单位）", value: v["respondentName"] ?? "", required: true)
        rn.half = true
        var rk = FormField.select("respondentKind", "被申请方类别", PartyKind.self, selected: v["respondentKind"] ?? "person")
        rk.half = true
        var amount = FormField(name: "amount", label: "争议金额（元，选填）", kind: .number, value: v["amount"] ?? "")
        amount.half = true
        var people = FormField(name: "peopleInvolved", label: "涉及人数", kind: .number, value: v["peopleInvolved"] ?? "2")
        people.half = true
        return [source, point, category, region,
                FormField(name: "description", label: "纠纷情况", kind: .textarea, value: v["description"] ?? "", required: true),
                an, am, rn, rk, amount, people]
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(MediationCases.intakeRoles.contains(p.role))
        return try await req.renderForm(title: "登记矛盾纠纷", action: "/mediation/new", fields: try await fields([:], req: req, p: p),
                                        submit: "登记并受理", cancel: "/mediation")
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try req.staff()
        var v: [String: String] = [:]
        for k in keys { v[k] = req.formValue(k) ?? "" }
        let input = MediationCases.CaseInput(
            source: v["source"], listeningPointId: v["listeningPointId"].flatMap(UUID.init(uuidString:)), committeeId: nil, category: v["category"],
            description: v["description"], regionCode: v["regionCode"]?.nilIfEmpty,
            parties: [.init(side: "applicant", kind: "person", name: v["applicantName"], mobile: v["applicantMobile"]),
                      .init(side: "respondent", kind: v["respondentKind"], name: v["respondentName"], mobile: v["respondentMobile"])],
            amount: v["amount"].flatMap(Double.init), peopleInvolved: v["peopleInvolved"].flatMap(Int.init), channel: nil, externalReference: nil)
        do {
            let r = try await MediationCases.create(input, by: p, app: req.application)
            return req.redirect(to: "/work/\(r.id!)", flash: "已登记纠纷 \(r.number)")
        } catch let e as AppError where e.status == .unprocessableEntity {
            var fields = e.fields
            for (from, to) in [("parties[0].name", "applicantName"), ("parties[0].mobile", "applicantMobile"), ("parties[1].name", "respondentName")] {
                if let m = fields.removeValue(forKey: from) { fields[to] = m }
            }
            return try await req.renderForm(title: "登记矛盾纠纷", action: "/mediation/new", fields: try await self.fields(v, req: req, p: p),
                                            submit: "登记并受理", cancel: "/mediation", error: AppError.validation(fields, message: e.message))
        }
    }

    // MARK: Steps (from the work page)

    struct CaseForms: Encodable {
        var steps: [String: Bool]
        var outcomes: [SelectOption]
        var forms: [SelectOption]
        var fulfilment: [SelectOption]
        var decisions: [SelectOption]
        var today: String
        /// What the failed form carried, so that a validation error never empties the facts or the agreement.
        var kept: [String: String]
    }

    static func forms(_ m: MediationCases.View, req: Request) -> CaseForms {
        // Only a failed post carries values back (the page is then answered from the step's route).
        let posted = req.method == .POST
        var kept: [String: String] = [:]
        if posted {
            for f in ["advice", "attendees", "record", "facts", "terms", "reason", "note", "court"] { kept[f] = req.formValue(f) ?? "" }
        }
        let result = posted ? req.formValue("result") : nil
        let form = posted ? req.formValue("form") : nil
        return CaseForms(
            steps: Dictionary(uniqueKeysWithValues: m.steps.map { ($0 == "court-decision" ? "courtDecision" : $0, true) }),
            outcomes: [MediationOutcome.success, .failure, .terminated].map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == (result ?? MediationOutcome.success.rawValue)) },
            forms: AgreementForm.allCases.map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == (form ?? AgreementForm.written.rawValue)) },
            fulfilment: [FulfilmentStatus.fulfilled, .partlyFulfilled, .notFulfilled].map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            decisions: CourtDecision.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            today: req.today.description, kept: kept)
    }

    static func step(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = req.parameters.get("id") ?? ""
        guard let step = MediationCases.Step(rawValue: req.parameters.get("step") ?? "") else { throw AppError.notFound("操作") }
        let descriptions = req.formValues("obligationDescription"), dues = req.formValues("obligationDue")
        let obligations = zip(descriptions, dues).map { MediationCases.ObligationInput(description: $0.0, dueOn: $0.1) }
        let input = MediationCases.StepInput(
            given: req.formValue("given").map { $0 == "1" }, advice: req.formValue("advice"), heldOn: req.formValue("heldOn"),
            attendees: req.formValue("attendees"), record: req.formValue("record"), result: req.formValue("result"), reason: req.formValue("reason"),
            form: req.formValue("form"), facts: req.formValue("facts"), terms: req.formValue("terms"), obligations: obligations,
            partiesConfirmed: req.formValues("partiesConfirmed").contains("1"), signedOn: req.formValue("signedOn"), status: req.formValue("status"),
            obligationId: req.formValue("obligationId").flatMap(UUID.init(uuidString:)), note: req.formValue("note"),
            appliedOn: req.formValue("appliedOn"), court: req.formValue("court"), joint: req.formValues("joint").contains("1"),
            decision: req.formValue("decision"), decidedOn: req.formValue("decidedOn"))
        do {
            let r = try await MediationCases.perform(step, on: id, input: input, by: p, app: req.application)
            return req.redirect(to: "/work/\(r.id!)", flash: "已\(step.chineseName)")
        } catch let e as AppError where [.unprocessableEntity, .conflict, .forbidden].contains(e.status) {
            return try await WorkPages.detail(req, error: e)
        }
    }

    // MARK: The printable agreement

    struct AgreementContext: Encodable {
        var committee: String
        var number: String
        var parties: [MediationCases.Party]
        var facts: String
        var terms: String
        var obligations: [MediationCases.Obligation]
        var mediators: String
        var copies: Int
        var date: String
        var confirmationDue: String?
        var back: String
    }

    static func agreement(_ req: Request) async throws -> View {
        let p = try req.staff()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        guard let m = d.mediation, m.printable else { throw AppError.notFound("调解协议书") }
        let mediators = Array(Set(m.sessions.map(\.mediatorName))).sorted().joined(separator: "、")
        return try await req.view.render("mediation/agreement", AgreementContext(
            committee: m.committeeName ?? "人民调解委员会", number: d.number, parties: m.parties, facts: m.agreementFacts ?? "",
            terms: m.agreementTerms ?? "", obligations: m.obligations, mediators: mediators.isEmpty ? (d.practitionerName ?? "") : mediators,
            copies: m.parties.count + 1,
            date: LegalAidPages.chineseDate(m.agreementEffectiveOn ?? ""), confirmationDue: m.confirmationDue.map(LegalAidPages.chineseDate),
            back: "/work/\(d.id)"))
    }

    // MARK: A committee

    struct CommitteeContext: Encodable { var page: PageMeta; var c: MediationNetwork.Committee; var hasWarnings: Bool }

    static func committee(_ req: Request) async throws -> View {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人民调解委员会") }
        let c = try await MediationNetwork.committee(id, scope: p.scope, today: req.today, on: req.sql)
        return try await req.view.render("mediation/committee", CommitteeContext(page: req.pageMeta(title: c.name), c: c, hasWarnings: !c.warnings.isEmpty))
    }
}
