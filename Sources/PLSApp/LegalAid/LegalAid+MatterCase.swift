import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Legal aid on the matter-case seam: what intake, the request's detail and its pages need from a legal aid case.
struct LegalAidMatterCase: MatterCase {
    var matter: MatterType { .legalAid }
    /// Accepted only by the centre's decision on it (法律援助法 art. 43).
    var acceptedOnIntake: Bool { false }
    var eventNames: [String: String] { LegalAidCases.eventNames }
    var runningFigures: [RunningFigure] { [.lawyerShare, .notifiedDesignationOnTime, .decisionOnTime, .designationOnTime, .reviewOnTime] }

    /// Entered through the general intake: the case row with what is known; the centre completes it.
    func open(for r: ServiceRequest, itemCode: String?, category: PLSDomain.Category, app: Application, on db: any Database) async throws {
        let kind: AidCaseKind = itemCode == "legal_aid.criminal" || category == .criminal ? .criminal
            : (category == .administrative ? .administrative : .civil)
        try await LegalAidCases.newCase(for: r, kind: kind, app: app, on: db).create(on: db)
    }

    /// Decided, closed and ended by its own steps, which carry what the law requires.
    func refusal(of action: RequestAction, on r: ServiceRequest, on db: any Database) async throws -> AppError? {
        guard let step = LegalAidCases.step(replacing: action) else { return nil }
        return AppError.conflict("use_legal_aid_step", "法律援助案件请通过“\(step.chineseName)”办理（/api/v1/legal-aid/cases/{id}/\(step.rawValue)）")
    }

    /// The case moves by its own steps (decision, designation, closing), which call the others.
    func offers(_ action: RequestAction) -> Bool { [.start, .suspend, .resume, .transfer, .takeBack].contains(action) }

    func follow(_ action: RequestAction, _ r: ServiceRequest, input: RequestActions.Input, today: CivilDate, app: Application,
                on db: any Database) async throws {
        try await LegalAidCases.follow(action, r, input: input, today: today, app: app, on: db)
    }

    /// Designated from the roster only (arts. 25–26): criminal defence from its criminal lawyers, a possible life or
    /// death sentence from those with three years' practice.
    func candidateRule(for r: ServiceRequest, today: CivilDate, on db: any SQLDatabase) async throws -> CandidateRule? {
        struct C: Decodable { var kind: String; var noticeReason: String? }
        let c = try await db.select().columns("kind", "notice_reason").from(LegalAidCase.schema).where("request_id", .equal, SQLBind(r.id!))
            .first(decoding: C.self, keyDecodingStrategy: .snakeCase)
        let criminal = c?.kind == AidCaseKind.criminal.rawValue
        var condition: SQLQueryString = "EXISTS (SELECT 1 FROM legal_aid_roster l WHERE l.practitioner_id = p.id AND l.active = \(bind: true)"
        if criminal { condition = condition + " AND l.criminal = \(bind: true)" }
        if c?.noticeReason.flatMap(NotifiedDefenceReason.init)?.requiresSeniorLawyer == true {
            condition = condition + " AND l.practice_since <= \(bind: Seniority.latestSeniorStart(on: today).description)"
        }
        return CandidateRule(practitionerTypes: criminal ? [.lawyer] : nil, condition: condition + ")")
    }

    /// Its case on a legal aid request; on notarization and appraisal, the applicant's running aid (fee reduction, art. 53).
    func sections(of r: ServiceRequest, for p: Principal?, app: Application, on db: any SQLDatabase) async throws -> [CaseSection] {
        var sections: [CaseSection] = []
        if r.matterType == MatterType.legalAid.rawValue, let c = try await LegalAidCase.find(r.id, on: app.db) {
            sections.append(CaseSection(key: "legalAid", value: try await LegalAidCases.view(c, of: r, for: p, today: app.today,
                                                                                              protector: app.personalData, on: db)))
        }
        if let fee = try await LegalAidCases.feeReduction(for: r, on: db) { sections.append(CaseSection(key: "feeReduction", value: fee)) }
        return sections
    }

    func workPage(_ page: CasePageInput, req: Request) async throws -> CasePageParts {
        var parts = CasePageParts()
        if let fee = page.section(LegalAidCases.FeeReduction.self) {
            parts.notice = try await req.renderPart("legal-aid/fee-reduction", CasePartContext<LegalAidCases.FeeReduction, Bool>(page, fee))
        }
        if let aid = page.section(LegalAidCases.View.self) {
            parts.panel = try await req.renderPart("legal-aid/panel", CasePartContext<LegalAidCases.View, Bool>(page, aid))
            let forms = try await LegalAidPages.forms(aid, request: page.request, req: req)
            parts.forms = try await req.renderPart("legal-aid/forms", CasePartContext(page, aid, forms: forms))
        }
        return parts
    }

    func portalPage(_ page: CasePageInput, req: Request) async throws -> String? {
        guard let aid = page.section(LegalAidCases.View.self) else { return nil }
        return try await req.renderPart("legal-aid/portal-panel", CasePartContext<LegalAidCases.View, Bool>(page, aid))
    }
}

extension RequestViews.Detail {
    /// The legal aid case of a legal aid request (法律援助案件).
    var legalAid: LegalAidCases.View? { sections.lazy.compactMap { $0.value as? LegalAidCases.View }.first }
    /// On notarization and appraisal: the applicant is a legal aid recipient (art. 53).
    var feeReduction: LegalAidCases.FeeReduction? { sections.lazy.compactMap { $0.value as? LegalAidCases.FeeReduction }.first }
}

extension LegalAidMatterCase {
    /// The decision is legal aid's acceptance, and its clock stops while material is awaited.
    var watchesItsOwnAcceptance: Bool { true }

    func overdueSteps(today: CivilDate) -> OverdueSteps? {
        let t = today.description
        let open = RequestStatus.open.map(\.rawValue)
        return OverdueSteps(table: LegalAidCase.schema, steps: [
            OverdueStep(name: "审查决定", condition: """
                r.status = \(bind: RequestStatus.submitted.rawValue) AND r.accept_due < \(bind: t)
                AND c.decision IS NULL AND c.materials_requested_on IS NULL AND c.organ_name IS NULL
                """),
            OverdueStep(name: "指派", condition: """
                r.status IN (\(binds: open)) AND c.designated_on IS NULL AND c.designation_due < \(bind: t)
                """),
            OverdueStep(name: "异议审查", condition: """
                c.review_result IS NULL AND c.review_due < \(bind: t)
                """, beyondOpen: """
                SELECT c.request_id FROM legal_aid_cases c WHERE c.review_due < \(bind: t) AND c.review_result IS NULL
                """),
        ])
    }

    func statusName(_ status: RequestStatus) -> String? {
        switch status {
        case .submitted: "审查中"
        case .accepted: "已决定给予法律援助"
        case .assigned: "已指派承办人员"
        case .rejected: "不予法律援助"
        default: nil
        }
    }

    func applicantNotice(_ action: RequestAction, _ r: ServiceRequest, reason: String?) -> String? {
        switch action {
        case .submit where r.requestStatus == .submitted:
            "您的法律援助申请 \(r.number) 已提交，将于 \(r.acceptDue ?? "") 前作出是否给予法律援助的决定（法律援助法第四十三条）。"
        case .accept:
            "您的法律援助申请 \(r.number) 经审查决定给予法律援助，将尽快指派承办人员（法律援助法第四十三条）。"
        case .reject:
            "您的法律援助申请 \(r.number) 经审查决定不予法律援助：\(reason ?? "")。如有异议，可向司法行政部门提出（法律援助法第四十九条）。"
        default: nil
        }
    }

    func desk(forInstitutionType type: InstitutionType) -> String? { type == .legalAidCentre ? "/legal-aid/desk" : nil }

    func applicationPath(for itemCode: String) -> String? {
        itemCode == "legal_aid.criminal" ? "/legal-aid/apply?kind=criminal" : "/legal-aid/apply"
    }

    /// The decision (art. 43: 7 days, paused for material), the designation (arts. 36, 43: 3 days) and the review of
    /// an objection (art. 49: 5 days, by the county's justice bureau).
    func deadlines(dueBy horizon: CivilDate, today: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct Row: Decodable { var id: UUID; var number: String; var regionCode: String; var centreId: UUID?; var due: String }
        let open = RequestStatus.open.map(\.rawValue)
        func rows(_ step: String, due: String, _ condition: SQLQueryString) async throws -> [Row] {
            try await db.raw("""
                SELECT r.id, r.number, r.region_code, c.centre_id, \(unsafeRaw: due) AS due
                FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
                WHERE \(unsafeRaw: due) IS NOT NULL AND \(unsafeRaw: due) <= \(bind: horizon.description) AND
                """ + " " + condition + " AND " + Deadlines.notFinished(subject: "r.id", step: step, due: due) + " ORDER BY due LIMIT 500")
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
        func watched(_ rows: [Row], _ step: String, _ name: String, county: Bool = false) -> [WatchedDeadline] {
            rows.compactMap { r in
                CivilDate(r.due).map {
                    WatchedDeadline(requestID: r.id, number: r.number, regionCode: r.regionCode, step: step, name: name, due: $0,
                                    institutionID: r.centreId, countyTakesIt: county)
                }
            }
        }
        let decisions = try await rows("legal_aid.decision", due: "r.accept_due", """
            r.status = \(bind: RequestStatus.submitted.rawValue) AND c.decision IS NULL AND c.materials_requested_on IS NULL AND c.organ_name IS NULL
            """)
        let designations = try await rows("legal_aid.designation", due: "c.designation_due",
                                          "c.designated_on IS NULL AND r.status IN (\(binds: open))")
        let reviews = try await rows("legal_aid.objection_review", due: "c.review_due", "c.review_result IS NULL")
        let replacements = try await rows("legal_aid.replacement", due: "c.replacement_due",
                                          "r.status IN (\(binds: [RequestStatus.assigned, .inProgress].map(\.rawValue)))")
        return watched(decisions, "legal_aid.decision", "法律援助审查决定（法律援助法第四十三条）")
            + watched(designations, "legal_aid.designation", "指派承办人员（法律援助法第三十六条、第四十三条）")
            + watched(reviews, "legal_aid.objection_review", "审查异议（法律援助法第四十九条）", county: true)
            + watched(replacements, "legal_aid.replacement", "更换承办人员（法律援助法第五十六条）")
    }
}
