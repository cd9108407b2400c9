import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Legal aid through the real routes: the pre-check's contract, an application from receipt to closing,
/// refusal with objection and review, provisional aid and termination, notified defence, duty lawyers,
/// the indicators and fee reduction for recipients.
final class LegalAidTests: AppTestCase {
    /// Monday 23 November 2026, 10:00 in Beijing.
    static let monday = Date(timeIntervalSince1970: 1_795_399_200)
    override var loadedOn: Date? { Self.monday }

    func day(_ n: Int) -> Date { Self.monday.addingTimeInterval(Double(n) * 86_400) }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func citizen() async throws -> String {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    func check(_ body: [String: AnyEncodable]) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/legal-aid/eligibility", json: body)
    }

    func application(matter: String = "labor_relationship_or_pay", size: Int? = 3, income: Double? = 3000, statuses: [String] = [],
                     pledge: Bool = true) -> LegalAidCases.ApplicationInput {
        LegalAidCases.ApplicationInput(matter: matter, kind: nil, category: nil, description: "建筑公司拖欠工资八个月，共计四万元",
                                       applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile, idNumber: "11010519491231002X"),
                                       regionCode: village.code.rawValue, householdSize: size, householdMonthlyIncome: income,
                                       statuses: statuses, pledge: pledge, priorityGroups: nil, channel: nil)
    }

    func apply(_ token: String, _ body: LegalAidCases.ApplicationInput) async throws -> (XCTHTTPResponse, LegalAidController.CaseDetail?) {
        let res = try await send(.POST, "/api/v1/legal-aid/applications", token: token, json: body)
        return (res, res.status == .created ? try res.content.decode(LegalAidController.CaseDetail.self) : nil)
    }

    func step(_ token: String, _ id: UUID, _ step: String, _ body: LegalAidCases.StepInput = .init()) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/legal-aid/cases/\(id)/\(step)", token: token, json: body)
    }

    func decode(_ res: XCTHTTPResponse) throws -> LegalAidController.CaseDetail { try res.content.decode(LegalAidController.CaseDetail.self) }

    /// Lawyers working in county 0 (or city-wide), by id.
    func lawyers() async throws -> [UUID] {
        try await sql.select().column("id").from(Practitioner.schema).where("type", .equal, "lawyer")
            .where("region_code", .like, county(0).code.scopePrefix + "%").orderBy("name").all(decodingColumn: "id", as: UUID.self)
    }

    func indicator(_ id: String, region: String) async throws -> IndicatorRegistry.Result {
        let res = try await send(.GET, "/api/v1/indicators?region=\(region)&year=2026", token: try await token("admin"))
        return try XCTUnwrap(try res.content.decode(IndicatorController.Report.self).items.first { $0.id == id })
    }

    // MARK: Pre-check

    func testPreCheckFollowsTheContract() async throws {
        let code = AnyEncodable(village.code.rawValue)
        // County 0: allowance 800 × 2.2 = 1,760 a head; a household of three at 5,280 is within.
        var res = try await check(["matter": AnyEncodable("labor_relationship_or_pay"), "regionCode": code, "householdSize": AnyEncodable(3),
                                   "householdMonthlyIncome": AnyEncodable(5280), "statuses": AnyEncodable([String]())])
        XCTAssertEqual(res.status, .ok, res.body.string)
        var e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertTrue(e.eligible)
        XCTAssertEqual(e.meansTest, "passed")
        XCTAssertEqual(e.threshold, 1760)
        XCTAssertTrue(e.reasons.contains { $0.article == "法律援助法第三十四条" })

        res = try await check(["matter": AnyEncodable("labor_relationship_or_pay"), "regionCode": code, "householdSize": AnyEncodable(3),
                               "householdMonthlyIncome": AnyEncodable(5280.01)])
        e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertFalse(e.eligible)
        XCTAssertEqual(e.meansTest, "failed")

        // A migrant worker claiming wages: exempt, no figures needed.
        res = try await check(["matter": AnyEncodable("labor_relationship_or_pay"), "regionCode": code, "statuses": AnyEncodable(["migrant_worker"]),
                               "claim": AnyEncodable("labor_pay")])
        e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertEqual([e.meansTest, String(e.eligible)], ["exempt", "true"])
        XCTAssertTrue(e.reasons.contains { $0.article == "法律援助法第四十二条第（三）项" && $0.text.hasPrefix("申请支付劳动报酬的进城务工人员") })
    }

    /// Art. 42 (3) follows the claim, not the matter (the contract of issue #19): a migrant worker's personal-injury
    /// matter is means-tested unless the claim is a work injury.
    func testAMigrantWorkersExemptionFollowsTheClaim() async throws {
        let code = AnyEncodable(village.code.rawValue)
        let migrant = AnyEncodable(["migrant_worker"])
        // No claim stated: means-tested, so the figures are needed, and a well-off household is not eligible.
        var res = try await check(["matter": AnyEncodable("personal_injury"), "regionCode": code, "statuses": migrant])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["householdSize", "householdMonthlyIncome"])
        res = try await check(["matter": AnyEncodable("personal_injury"), "regionCode": code, "statuses": migrant,
                               "householdSize": AnyEncodable(2), "householdMonthlyIncome": AnyEncodable(12000)])
        var e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertEqual([e.meansTest, String(e.eligible)], ["failed", "false"])
        XCTAssertTrue(e.reasons.contains { $0.article == "法律援助法第四十二条第（三）项" }, "the page says why the status did not exempt")
        // A work injury: exempt.
        res = try await check(["matter": AnyEncodable("personal_injury"), "regionCode": code, "statuses": migrant, "claim": AnyEncodable("work_injury")])
        e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertEqual([e.meansTest, String(e.eligible)], ["exempt", "true"])
        // A claim the matter does not carry, or no claim at all: 422 naming it.
        res = try await check(["matter": AnyEncodable("personal_injury"), "regionCode": code, "statuses": migrant, "claim": AnyEncodable("labor_pay")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["claim"], "“申请支付劳动报酬”不属于“请求工伤事故、交通事故、食品药品安全事故、医疗事故人身损害赔偿”")
        res = try await check(["matter": AnyEncodable("personal_injury"), "regionCode": code, "statuses": migrant, "claim": AnyEncodable("traffic")])
        XCTAssertNotNil(try errorBody(res).fields["claim"])

        // The application records the claim; the case shows it beside the status, and the means were not asked for.
        var body = application(matter: "personal_injury", size: nil, income: nil, statuses: ["migrant_worker"], pledge: false)
        body.claim = "work_injury"
        let (created, detail) = try await apply(try await citizen(), body)
        XCTAssertEqual(created.status, .created, created.body.string)
        XCTAssertEqual(detail?.legalAid.meansTest, "exempt")
        XCTAssertEqual(detail?.legalAid.statusNames, ["进城务工人员（请求工伤事故人身损害赔偿）"])
        let stored = try await sql.raw("SELECT migrant_worker_claim FROM legal_aid_cases WHERE request_id = \(bind: try XCTUnwrap(detail).request.id)")
            .first(decodingColumn: "migrant_worker_claim", as: String.self)
        XCTAssertEqual(stored, "work_injury")

        // The scope's matters say which claims they carry; a city's own matter can be given them.
        let admin = try await token("admin")
        res = try await send(.GET, "/api/v1/legal-aid/matters", token: admin)
        let matters = try res.content.decode([LegalAidSettings.MatterRow].self)
        XCTAssertEqual(matters.first { $0.id == "personal_injury" }?.migrantWorkerClaims, ["work_injury"])
        XCTAssertEqual(matters.first { $0.id == "labor_relationship_or_pay" }?.migrantWorkerClaims, ["labor_pay"])
        res = try await send(.PUT, "/api/v1/legal-aid/matters/construction_wages", token: admin,
                             json: LegalAidSettings.MatterInput(name: "建设工程欠薪", basis: "实施方案", migrantWorkerClaims: ["labor_pay", "x"]))
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.PUT, "/api/v1/legal-aid/matters/construction_wages", token: admin,
                             json: LegalAidSettings.MatterInput(name: "建设工程欠薪", basis: "实施方案", migrantWorkerClaims: ["labor_pay"]))
        XCTAssertEqual(try res.content.decode(LegalAidSettings.MatterRow.self).migrantWorkerClaims, ["labor_pay"])

        // Art. 32: no means test at all.
        res = try await check(["matter": AnyEncodable("marriage_family"), "regionCode": code, "statuses": AnyEncodable(["abuse_abandonment_domestic_violence_victim"])])
        e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertEqual([e.meansTest, String(e.eligible)], ["not_required", "true"])

        // Outside the scope: a reasoned no, not an error.
        res = try await check(["matter": AnyEncodable("contract_debt"), "regionCode": code, "householdSize": AnyEncodable(1), "householdMonthlyIncome": AnyEncodable(0)])
        XCTAssertEqual(res.status, .ok)
        e = try res.content.decode(LegalAidController.EligibilityView.self)
        XCTAssertFalse(e.eligible)
        XCTAssertEqual(e.reasons.first?.article, "法律援助法第三十一条")

        // The means tested without figures: 422 naming them.
        res = try await check(["matter": AnyEncodable("support_payment"), "regionCode": code])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["householdSize", "householdMonthlyIncome"])
        res = try await check(["matter": AnyEncodable("support_payment"), "regionCode": AnyEncodable("999999999999"),
                               "householdSize": AnyEncodable(1), "householdMonthlyIncome": AnyEncodable(10)])
        XCTAssertEqual(try errorBody(res).fields.keys.first, "regionCode")
    }

    func testThresholdsAreSetPerCountyAndNeverBelowTwice() async throws {
        let countyAdmin = try await token("county-admin")
        let own = county(0).code.rawValue, other = county(1).code.rawValue
        var res = try await send(.PUT, "/api/v1/legal-aid/thresholds/\(own)", token: countyAdmin, json: ["minimumLivingAllowance": 820.0, "multiple": 1.8])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["multiple"])
        res = try await send(.PUT, "/api/v1/legal-aid/thresholds/\(own)", token: countyAdmin, json: ["minimumLivingAllowance": 820.0])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let t = try res.content.decode(LegalAidSettings.ThresholdView.self)
        XCTAssertEqual([t.minimumLivingAllowance, t.multiple, t.threshold], [820, 2, 1640])
        res = try await send(.PUT, "/api/v1/legal-aid/thresholds/\(other)", token: countyAdmin, json: ["minimumLivingAllowance": 820.0])
        XCTAssertEqual(res.status, .notFound, "another county's is not theirs to set")
        res = try await send(.PUT, "/api/v1/legal-aid/thresholds/\(own)", token: try await token("clerk"), json: ["minimumLivingAllowance": 820.0])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.PUT, "/api/v1/legal-aid/deadline-rules/decision", token: try await token("admin"), json: ["days": AnyEncodable(10), "unit": AnyEncodable("calendar_days")])
        XCTAssertEqual(res.status, .unprocessableEntity, "seven days is the law's longest")
        res = try await send(.PUT, "/api/v1/legal-aid/deadline-rules/decision", token: try await token("admin"), json: ["days": AnyEncodable(5), "unit": AnyEncodable("working_days")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/legal-aid/thresholds/\(own)")
        XCTAssertEqual(try res.content.decode(LegalAidSettings.ThresholdView.self).threshold, 1640)
        // The pre-check uses the new figure at once.
        res = try await check(["matter": AnyEncodable("support_payment"), "regionCode": AnyEncodable(village.code.rawValue),
                               "householdSize": AnyEncodable(1), "householdMonthlyIncome": AnyEncodable(1700)])
        XCTAssertEqual(try res.content.decode(LegalAidController.EligibilityView.self).meansTest, "failed")
    }

    // MARK: Civil application, receipt to closing

    func testApplicationFromReceiptToClosing() async throws {
        let me = try await citizen()
        var (res, created) = try await apply(me, application(pledge: false))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["pledge"], "art. 41: the statement of means")
        (res, created) = try await apply(me, application())
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try XCTUnwrap(created)
        let id = c.request.id
        XCTAssertEqual(c.request.status, "submitted")
        XCTAssertEqual(c.request.acceptDue, "2026-11-30", "seven days from Monday 23 November")
        XCTAssertEqual(c.legalAid.meansTest, "passed")
        XCTAssertEqual(c.legalAid.threshold, 1760)
        XCTAssertTrue(c.legalAid.centreName?.contains("法律援助中心") == true)
        XCTAssertEqual(c.request.priorityGroups, ["elderly"], "derived from the ID number")

        var aid = try await token("aid")
        // Tuesday: one notice listing everything missing; the clock stops.
        app.clock.set(day(1))
        aid = try await token("aid")
        res = try await step(aid, id, "missing-materials", .init(items: ["劳动合同或工作证明", "工资欠条"]))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try decode(res).legalAid.missingMaterials, ["劳动合同或工作证明", "工资欠条"])
        let texts = try await SmsMessage.query(on: app.db).all().map { try app.personalData.open($0.text) }
        XCTAssertTrue(texts.contains { $0.contains("工资欠条") })
        res = try await step(aid, id, "decision", .init(grant: true))
        XCTAssertEqual(res.status, .conflict, "no grant while material is awaited")
        res = try await step(aid, id, "missing-materials", .init(items: ["身份证"]))
        XCTAssertEqual(try errorBody(res).code, "invalid_transition", "one notice, not a trickle")

        // Friday: the material arrives after three days; the decision is due three days later.
        app.clock.set(day(4))
        aid = try await token("aid")
        res = try await step(aid, id, "materials-received")
        XCTAssertEqual(try decode(res).request.acceptDue, "2026-12-03")
        res = try await step(aid, id, "missing-materials", .init(items: ["户口簿"]))
        XCTAssertEqual(res.status, .conflict, "art. 43: one notice listing everything")
        res = try await step(aid, id, "decision", .init(grant: true, reason: "符合经济困难标准"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var d = try decode(res)
        XCTAssertEqual(d.request.status, "accepted")
        XCTAssertEqual(d.legalAid.designationDue, "2026-11-30", "3 days after Friday ends on Monday")
        XCTAssertTrue(d.legalAid.notices.contains("grant"))

        // Designation only from the roster.
        let offRoster = try await sql.raw("""
            SELECT p.id FROM practitioners p WHERE p.type = 'lawyer' AND NOT EXISTS (SELECT 1 FROM legal_aid_roster l WHERE l.practitioner_id = p.id)
            """).first(decodingColumn: "id", as: UUID.self)
        if let offRoster {
            res = try await step(aid, id, "designation", .init(practitionerId: offRoster))
            XCTAssertEqual(res.status, .unprocessableEntity)
        }
        res = try await send(.GET, "/api/v1/legal-aid/cases/\(id)/candidates", token: aid)
        let candidates = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertFalse(candidates.isEmpty)
        if let offRoster { XCTAssertFalse(candidates.contains { $0.practitionerId == offRoster }) }
        let lawyerAccount = city.accounts.first { $0.username == "lawyer" }!
        res = try await step(aid, id, "designation", .init(practitionerId: lawyerAccount.practitionerID))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "assigned")
        XCTAssertEqual(d.legalAid.designatedOn, "2026-11-27")
        XCTAssertEqual(d.legalAid.designationOnTime, true)

        // The lawyer starts and closes; the subsidy comes from the table.
        let lawyer = try await token("lawyer")
        res = try await send(.POST, "/api/v1/requests/\(id)/start", token: lawyer)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/requests/\(id)/conclude", token: lawyer, json: ["outcome": "aid_terminated", "summary": "不办了"])
        XCTAssertEqual(try errorBody(res).code, "use_legal_aid_step", "only the centre ends aid (art. 48); the lawyer closes with a report")
        res = try await step(lawyer, id, "termination", .init(reason: "x", ground: "own_counsel"))
        XCTAssertEqual(res.status, .forbidden)
        res = try await step(lawyer, id, "closing", .init(stage: "investigation", report: "x"))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "stage", "a civil case has no investigation stage")
        res = try await step(lawyer, id, "closing", .init(stage: "first_instance", report: "一审判决支持全部工资请求，已执行到位"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "concluded")
        XCTAssertEqual(d.request.outcome, "aid_closed")
        XCTAssertEqual(d.legalAid.subsidy, 2000)
        XCTAssertEqual(d.legalAid.stageName, "一审")

        // The applicant follows it in the portal and the API; the timeline names every step.
        res = try await send(.GET, "/api/v1/requests/\(id)", token: try await citizen())
        let seen = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(try res.content.get(LegalAidCases.View.self, at: "legalAid").subsidy, 2000)
        XCTAssertEqual(seen.timeline.map(\.action), ["submit", "request_materials", "materials_received", "accept", "assign", "start", "conclude"])
        XCTAssertTrue(seen.actions.contains("evaluate"))

        // Printable notices, for staff and the applicant; not for another county's clerk.
        var browser = BrowserSession(self)
        try await browser.signIn("aid")
        for kind in ["materials", "grant", "designation"] {
            let page = try await browser.get("/legal-aid/cases/\(id)/notices/\(kind)")
            XCTAssertEqual(page.status, .ok, kind)
        }
        let grant = try await browser.get("/legal-aid/cases/\(id)/notices/grant")
        XCTAssertTrue(grant.body.string.contains("给予法律援助决定书"))
        XCTAssertTrue(grant.body.string.contains("王秀英"))
        XCTAssertFalse(grant.body.string.contains("11010519491231002X"), "the ID number is masked even in print")
        let refusal = try await browser.get("/legal-aid/cases/\(id)/notices/refusal")
        XCTAssertEqual(refusal.status, .notFound)
        try await assertRunningFiguresMatchRecount()
    }

    // MARK: Refusal, objection, review

    /// Every statutory deadline is watched (issue #19, item 2): the 7-day decision reminds the centre on the last working
    /// day before it, tells it the day after, and the county a working day later; each once, whoever scans; a clock
    /// stopped for material is not overdue; the designation that follows the decision is watched in its turn.
    /// Arts. 55–56: a recipient's complaint that the designee does not do their duty, upheld by the county, orders the
    /// centre to designate someone else; the order is watched like the designation, and the centre's replacement (from
    /// the roster, with its reason) is on the timeline, told to everyone concerned. Re-designating without that step is
    /// refused.
    func testAnUpheldComplaintOrdersAReplacementTheCentreMakes() async throws {
        let me = try await citizen()
        let (_, created) = try await apply(me, application())
        let id = try XCTUnwrap(created).request.id
        var aid = try await token("aid")
        var res = try await step(aid, id, "decision", .init(grant: true, reason: "符合经济困难标准"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let first = try XCTUnwrap(city.accounts.first { $0.username == "lawyer" }?.practitionerID)
        res = try await step(aid, id, "designation", .init(practitionerId: first))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/legal-aid/cases/\(id)/candidates", token: aid)
        let other = try XCTUnwrap(try res.content.decode([Dispatch.Candidate].self).first { $0.practitionerId != first }?.practitionerId)
        res = try await step(aid, id, "designation", .init(practitionerId: other))
        XCTAssertEqual(res.status, .conflict)
        XCTAssertTrue(try errorBody(res).message.contains("第五十六条"))

        // The recipient complains; the county accepts and upholds it.
        res = try await send(.POST, "/api/v1/complaints", token: me, json: Complaints.Input(
            kind: "legal_aid_replacement", channel: nil, institutionId: nil, practitionerId: first, requestId: id, name: nil, mobile: nil,
            content: "承办律师两个月未与我联系，也未去法院立案，要求更换"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let complaint = try res.content.decode(Complaints.View.self)
        let county = try await token("county-admin")
        res = try await send(.POST, "/api/v1/complaints/\(complaint.id)/accept", token: county, json: [String: String]())
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/complaints/\(complaint.id)/decide", token: county,
                             json: ["upheld": AnyEncodable(true), "finding": AnyEncodable("经查属实，承办律师未依法履行职责")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/legal-aid/cases/\(id)", token: aid)
        let ordered = try decode(res)
        XCTAssertEqual(ordered.legalAid.replacementDue, "2026-11-26", "the designation's three days from Monday")
        let centreNotices = try await sql.raw("SELECT text FROM notifications WHERE request_id = \(bind: id)").all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(centreNotices.contains { $0.contains("请于 2026-11-26 前更换") }, "\(centreNotices)")

        // Not made by the day after: the centre is told it is overdue.
        app.clock.set(day(4))
        try await Deadlines.scan(app: app)
        let watched = try await sql.raw("SELECT level FROM deadline_notices WHERE subject_id = \(bind: id) AND step = 'legal_aid.replacement'")
            .all(decodingColumn: "level", as: Int.self)
        XCTAssertEqual(watched.max(), DeadlineStage.overdue.rawValue, "\(watched)")

        // The centre replaces: not with the same lawyer, not without a reason.
        aid = try await token("aid")
        res = try await step(aid, id, "replacement", .init(reason: "投诉成立", practitionerId: first))
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await step(aid, id, "replacement", .init(practitionerId: other))
        XCTAssertEqual(try errorBody(res).fields["reason"], "请填写更换理由")
        res = try await send(.POST, "/api/v1/legal-aid/cases/\(id)/replacement", token: try await token("lawyer"),
                             json: LegalAidCases.StepInput(reason: "x", practitionerId: other))
        XCTAssertEqual(res.status, .forbidden, "the designee does not replace themself")
        res = try await step(aid, id, "replacement", .init(reason: "受援人投诉 \(complaint.number) 成立", practitionerId: other))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let replaced = try decode(res)
        XCTAssertEqual(replaced.request.practitionerId, other)
        XCTAssertEqual(replaced.request.status, "assigned")
        XCTAssertNil(replaced.legalAid.replacementDue)
        XCTAssertTrue(replaced.request.timeline.contains { $0.action == "replace_designee" && $0.actionName == "更换承办人员" && ($0.note ?? "").contains("第五十六条") })
        // Every step on the timeline by its name, the complaint's too, never by its code.
        let unnamed = replaced.request.timeline.filter { $0.actionName.unicodeScalars.contains { $0.isASCII && $0.properties.isAlphabetic } }
        XCTAssertEqual(unnamed.map(\.action), [])
        XCTAssertTrue(replaced.request.timeline.contains { $0.actionName == "投诉作出处理决定" })
        let texts = try await SmsMessage.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash(DemoCity.citizenMobile)).all()
            .map { try app.personalData.open($0.text) }
        XCTAssertTrue(texts.contains { $0.contains("已更换承办人员") }, "\(texts)")
        // The order, made, is no longer watched.
        let open = try await LegalAidMatterCase().deadlines(dueBy: CivilDate(day(30)), today: CivilDate(day(4)), on: sql)
        XCTAssertFalse(open.contains { $0.requestID == id && $0.step == "legal_aid.replacement" })
    }

    func testTheDecisionDeadlineRemindsThenEscalates() async throws {
        let me = try await citizen()
        let (created, detail) = try await apply(me, application())
        XCTAssertEqual(created.status, .created, created.body.string)
        let id = try XCTUnwrap(detail).request.id
        XCTAssertEqual(detail?.request.acceptDue, "2026-11-30", "seven days from Monday the 23rd")
        // A second application whose clock stops for material: never overdue while it waits.
        let (_, waiting) = try await apply(me, application(matter: "support_payment"))
        let aid = try await token("aid")
        let paused = try await step(aid, try XCTUnwrap(waiting).request.id, "missing-materials", .init(items: ["户口簿"]))
        XCTAssertEqual(paused.status, .ok, paused.body.string)

        func notices(_ username: String) async throws -> [String] {
            try await sql.raw("""
                SELECT n.text FROM notifications n JOIN accounts a ON a.id = n.account_id
                WHERE a.username = \(bind: username) AND n.request_id = \(bind: id) ORDER BY n.created_at
                """).all(decodingColumn: "text", as: String.self)
        }
        // The queue flags the step that is past due, and the step's indicator counts it once it falls due.
        let countyCode = String(village.code.rawValue.prefix(6)) + "000000"
        func flagged() async throws -> [UUID: String] {
            let res = try await send(.GET, "/api/v1/requests?overdue=true&matterType=legal_aid&per=100", token: try await token("aid"))
            XCTAssertEqual(res.status, .ok, res.body.string)
            let rows = try res.content.decode(Paged<RequestViews.Row>.self).items
            return Dictionary(uniqueKeysWithValues: rows.compactMap { r in r.overdueStep.map { (r.id, $0) } })
        }
        app.clock.set(day(3))  // Thursday: two working days left
        let onTimeBefore = try await indicator("aid_decision_on_time_rate", region: countyCode)
        var flags = try await flagged()
        XCTAssertNil(flags[id])
        var told = try await Deadlines.scan(app: app)
        var seen = try await notices("aid")
        XCTAssertEqual(seen, [])
        app.clock.set(day(4))  // Friday, the last working day before Monday the 30th
        told = try await Deadlines.scan(app: app)
        XCTAssertEqual(told, 1)
        seen = try await notices("aid")
        XCTAssertEqual(seen, ["到期提醒：事项 \(detail!.request.number) 的“法律援助审查决定（法律援助法第四十三条）”应于 2026-11-30 前完成"])
        told = try await Deadlines.scan(app: app)
        XCTAssertEqual(told, 0, "once")
        app.clock.set(day(8))  // Tuesday 1 December: overdue
        flags = try await flagged()
        XCTAssertEqual(flags[id], "审查决定")
        XCTAssertNil(flags[waiting!.request.id], "waiting for material is not late")
        let onTimeLate = try await indicator("aid_decision_on_time_rate", region: countyCode)
        XCTAssertEqual(onTimeLate.denominator, (onTimeBefore.denominator ?? 0) + 1)
        XCTAssertEqual(onTimeLate.numerator, onTimeBefore.numerator)
        XCTAssertEqual(onTimeLate.targetSource, "law")
        _ = try await Deadlines.scan(app: app)
        seen = try await notices("aid")
        XCTAssertEqual(seen.count, 2)
        XCTAssertTrue(seen.last?.hasPrefix("超期提醒") == true)
        var county = try await notices("county-admin")
        XCTAssertEqual(county, [])
        app.clock.set(day(9))  // Wednesday: a full working day later, the county
        _ = try await Deadlines.scan(app: app)
        county = try await notices("county-admin")
        XCTAssertEqual(county.count, 1)
        XCTAssertTrue(county.first?.hasPrefix("超期督办") == true)
        told = try await Deadlines.scan(app: app)
        XCTAssertEqual(told, 0)
        let waited = try await sql.raw("SELECT COUNT(*) AS n FROM deadline_notices WHERE subject_id = \(bind: waiting!.request.id)")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(waited, 0, "the clock stood still for material")

        // Decided late, on Wednesday the 2nd: the designation's three days end on Saturday, so on Monday the 7th.
        let res = try await step(try await token("aid"), id, "decision", .init(grant: true))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try decode(res).legalAid.designationDue, "2026-12-07")
        app.clock.set(day(15))
        flags = try await flagged()
        XCTAssertEqual(flags[id], "指派", "decided, the designation is now the late step")
        _ = try await Deadlines.scan(app: app)
        seen = try await notices("aid")
        XCTAssertTrue(seen.contains { $0.contains("指派承办人员") && $0.hasPrefix("超期提醒") }, "\(seen)")
    }

    /// Issue #20, item 1: a citizen who is not signed in reaches the citizen sign-in and comes back to the
    /// application with the pre-check's figures.
    func testAnAnonymousApplicantSignsInAsACitizenAndComesBackWithThePreCheck() async throws {
        var browser = BrowserSession(self)
        let target = "/legal-aid/apply?matter=labor_relationship_or_pay&householdSize=4&householdMonthlyIncome=2600"
        var res = try await browser.get(target)
        XCTAssertEqual(res.status, .seeOther)
        let location = try XCTUnwrap(res.headers.first(name: .location))
        XCTAssertTrue(location.hasPrefix("/login/citizen?next="), location)
        XCTAssertEqual(location.dropFirst("/login/citizen?next=".count).removingPercentEncoding, target)
        res = try await browser.get(location)
        XCTAssertTrue(res.body.string.contains("name=\"next\""), "the sign-in keeps the return address")
        // Asking for a code keeps it too.
        res = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("action", "send"), ("next", target)])
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("householdSize=4"), "still carried after the code is sent")
        res = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password),
                                                         ("action", "login"), ("next", target)])
        XCTAssertEqual(res.status, .seeOther)
        let back = try XCTUnwrap(res.headers.first(name: .location))
        XCTAssertTrue(back.hasPrefix(target + "&flash="), back)
        res = try await browser.get(back)
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("id=\"householdSize\" name=\"householdSize\" type=\"number\" value=\"4\""), "the pre-check's figures are filled in")
        XCTAssertTrue(res.body.string.contains("value=\"2600\""))
        // A staff page still leads to the staff sign-in; an address elsewhere is not followed.
        var anonymous = BrowserSession(self)
        res = try await anonymous.get("/work")
        XCTAssertTrue(res.headers.first(name: .location)?.hasPrefix("/login?next=") == true)
        res = try await anonymous.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password),
                                                           ("action", "login"), ("next", "//evil.example/")])
        XCTAssertTrue(res.headers.first(name: .location)?.hasPrefix("/?flash=") == true)
    }

    /// Arts. 41–44: the legal aid centre decides; the hotline and the other windows register and forward.
    func testOnlyTheLegalAidCentreDecides() async throws {
        let (_, detail) = try await apply(try await citizen(), application())
        let id = try XCTUnwrap(detail).request.id
        for username in ["operator", "clerk", "county-admin"] {
            let res = try await send(.POST, "/api/v1/legal-aid/cases/\(id)/decision", token: try await token(username),
                                     json: LegalAidCases.StepInput(grant: true))
            XCTAssertEqual(res.status, .forbidden, username)
            let designation = try await send(.POST, "/api/v1/legal-aid/cases/\(id)/provisional", token: try await token(username),
                                             json: LegalAidCases.StepInput(ground: "imminent_deadline"))
            XCTAssertEqual(designation.status, .forbidden, username)
        }
        // No decision without choosing one; the centre's clerk then decides.
        var res = try await send(.POST, "/api/v1/legal-aid/cases/\(id)/decision", token: try await token("aid"), json: LegalAidCases.StepInput())
        XCTAssertEqual(try errorBody(res).fields["grant"], "请选择给予或不予法律援助")
        res = try await send(.POST, "/api/v1/legal-aid/cases/\(id)/decision", token: try await token("aid"), json: LegalAidCases.StepInput(grant: true))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try decode(res).request.statusName, "已决定给予法律援助", "not 已受理: the citizen reads what was decided")
        // The applicant is told in legal aid's own words: the decision due on submission, then the decision.
        let told = try await sql.raw("SELECT text FROM notifications WHERE request_id = \(bind: id) ORDER BY created_at")
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(told.contains { $0.contains("前作出是否给予法律援助的决定") }, "\(told)")
        XCTAssertTrue(told.contains { $0.contains("经审查决定给予法律援助") }, "\(told)")
        XCTAssertFalse(told.contains { $0.contains("已受理") }, "\(told)")

        // The operator's page offers no decision form.
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let page = try await browser.get("/work/\(id)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertFalse(page.body.string.contains("/legal-aid/decision"))
    }

    func testRefusalObjectionAndReview() async throws {
        let me = try await citizen()
        let (_, created) = try await apply(me, application(income: 9000))
        let id = try XCTUnwrap(created).request.id
        XCTAssertEqual(created?.legalAid.eligibleAtIntake, false)
        let aid = try await token("aid")
        var res = try await step(aid, id, "decision", .init(grant: false))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "reason", "a refusal gives its reasons")
        res = try await step(aid, id, "decision", .init(grant: false, reason: "家庭月人均收入高于经济困难标准"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var d = try decode(res)
        XCTAssertEqual(d.request.status, "rejected")
        XCTAssertTrue(d.request.rejectReason?.contains("第四十九条") == true, "the right to object is stated")
        XCTAssertEqual(d.legalAid.notices, ["refusal"])

        // Only the applicant (or a clerk for them) objects; the bureau has five days.
        res = try await step(try await token("lawyer"), id, "objection", .init(text: "x"))
        XCTAssertEqual(res.status, .notFound, "not the lawyer's to see")
        res = try await step(me, id, "objection", .init(text: "家中有重病老人，收入证明未计入医疗支出"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.legalAid.reviewDue, "2026-11-30", "five days from Monday 23 November ends on Saturday, then Monday")
        let countyAdminID = try await sql.select().column("id").from(Account.schema).where("username", .equal, "county-admin")
            .first(decodingColumn: "id", as: UUID.self)!
        let notified = try await sql.select().column("text").from("notifications").where("account_id", .equal, SQLBind(countyAdminID))
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(notified.contains { $0.contains("异议待审查") })
        res = try await step(me, id, "objection", .init(text: "再次异议"))
        XCTAssertEqual(res.status, .conflict)

        res = try await step(aid, id, "review", .init(reason: "x", result: "corrected"))
        XCTAssertEqual(res.status, .forbidden, "the justice bureau reviews, not the centre")
        let bureau = try await token("county-admin")
        res = try await step(bureau, id, "review", .init(reason: "医疗支出应予扣除，符合经济困难标准", result: "corrected"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "submitted", "back to the centre to decide again")
        XCTAssertEqual(d.legalAid.reviewResult, "corrected")
        XCTAssertNil(d.legalAid.decision)
        res = try await step(aid, id, "decision", .init(grant: true))
        XCTAssertEqual(try decode(res).request.status, "accepted")
        // The step indicators' figures followed the refusal, the review that reopened the decision, and the new one.
        try await assertRunningFiguresMatchRecount()
        let figures = try await sql.raw("SELECT figure FROM indicator_figures WHERE den > 0").all(decodingColumn: "figure", as: String.self)
        XCTAssertTrue(Set(figures).isSuperset(of: ["aid_decision_on_time", "aid_review_on_time"]), "\(figures)")
    }

    // MARK: Provisional aid and termination

    func testProvisionalAidThenTermination() async throws {
        let (_, created) = try await apply(try await citizen(), application())
        let id = try XCTUnwrap(created).request.id
        let aid = try await token("aid")
        var res = try await step(aid, id, "provisional", .init(ground: "soon"))
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await step(aid, id, "provisional", .init(reason: "诉讼时效将于 11 月 27 日届满", ground: "limitation_near"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var d = try decode(res)
        XCTAssertEqual(d.request.status, "accepted")
        XCTAssertTrue(d.legalAid.provisional)
        XCTAssertNil(d.legalAid.decision, "the means are still under review")
        XCTAssertTrue(d.legalAid.steps.contains("decision"))
        res = try await step(aid, id, "designation", .init(practitionerId: city.accounts.first { $0.username == "lawyer" }!.practitionerID))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await step(aid, id, "termination", .init(reason: "x", ground: "bad"))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "ground")
        res = try await step(aid, id, "termination", .init(reason: "受援人已自行委托律师", ground: "own_counsel", stage: "first_instance"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "concluded")
        XCTAssertEqual(d.request.outcome, "aid_terminated")
        XCTAssertTrue(d.request.summary?.contains("第四十八条第（六）项") == true)
        XCTAssertEqual(d.legalAid.subsidy, 1000, "half the rate for work done")

        // Art. 49 covers a termination too; set aside, the case goes back to the centre and out of the concluded count.
        let me = try await citizen()
        res = try await step(me, id, "objection", .init(text: "我并未自行委托律师，是亲属误传"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let concludedBefore = try await indicator("on_time_rate", region: county(0).code.rawValue).denominator
        res = try await step(try await token("county-admin"), id, "review", .init(reason: "经核实受援人未自行委托律师", result: "corrected"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "submitted")
        XCTAssertNil(d.legalAid.terminationGroundName)
        XCTAssertNil(d.legalAid.subsidy)
        let concludedAfter = try await indicator("on_time_rate", region: county(0).code.rawValue).denominator
        XCTAssertEqual(concludedAfter, (concludedBefore ?? 1) - 1)
    }

    // MARK: Notified defence

    func testNotifiedDefenceNeedsASeniorLawyerForALifeSentence() async throws {
        let aid = try await token("aid")
        let notice: [String: String] = ["organ": "court", "organName": "示范市中级人民法院", "letterNumber": "（2026）示中法援通字第 18 号",
                                        "suspectName": "赵某", "charge": "故意杀人罪", "stage": "first_instance", "detentionPlace": "示范市看守所",
                                        "reason": "life_or_death", "regionCode": county(0).code.rawValue]
        var bad = notice
        bad["stage"] = "investigation"
        var res = try await send(.POST, "/api/v1/legal-aid/notices", token: aid, json: bad)
        XCTAssertEqual(try errorBody(res).fields.keys.first, "stage", "a court does not notify at investigation")
        res = try await send(.POST, "/api/v1/legal-aid/notices", token: aid, json: notice)
        XCTAssertEqual(res.status, .created, res.body.string)
        let d = try decode(res)
        XCTAssertEqual(d.request.status, "accepted")
        XCTAssertEqual(d.request.channel, "referral")
        XCTAssertEqual(d.legalAid.designationDue, "2026-11-26", "art. 36: three days")
        XCTAssertTrue(d.legalAid.requiresSeniorLawyer)
        XCTAssertEqual(d.legalAid.meansTest, "not_required")
        res = try await send(.POST, "/api/v1/legal-aid/notices", token: aid, json: notice)
        XCTAssertEqual(res.status, .ok, "the same letter twice is one case")
        XCTAssertEqual(try decode(res).request.id, d.request.id)
        // Another county's clerk sending the same letter learns it is recorded, and sees nothing of it.
        let centre1 = city.institutions.first { $0.type == .legalAidCentre && $0.region == county(1).code }!
        _ = try await send(.POST, "/api/v1/accounts", token: try await token("admin"), json: [
            "username": "aid1", "displayName": "另一县法律援助中心", "role": "window_clerk", "regionCode": county(1).code.rawValue,
            "institutionId": centre1.id.uuidString, "password": "Aid1-pass-2026"])
        var elsewhere = notice
        elsewhere["regionCode"] = county(1).code.rawValue
        res = try await send(.POST, "/api/v1/legal-aid/notices", token: try await token("aid1", password: "Aid1-pass-2026"), json: elsewhere)
        XCTAssertEqual(res.status, .conflict)
        XCTAssertEqual(try errorBody(res).code, "duplicate_notice")
        XCTAssertFalse(res.body.string.contains("赵某"))
        // The officer's mobile is the organ's contact, never the suspect's account.
        var withContact = notice
        withContact["letterNumber"] = "（2026）示中法援通字第 20 号"
        withContact["contactMobile"] = DemoCity.citizenMobile
        res = try await send(.POST, "/api/v1/legal-aid/notices", token: aid, json: withContact)
        XCTAssertEqual(try decode(res).legalAid.organContact, "138****0000")
        XCTAssertEqual(try decode(res).request.applicant.mobile, "—")
        let mine = try await send(.GET, "/api/v1/requests", token: try await citizen())
        XCTAssertFalse(mine.body.string.contains("赵某"))

        // A criminal lawyer with one year of practice may not take it (art. 26); the candidates leave them out.
        let all = try await lawyers()
        let demoLawyer = city.accounts.first { $0.username == "lawyer" }!.practitionerID!
        let junior = try XCTUnwrap(all.first { $0 != demoLawyer })
        let admin = try await token("admin")
        res = try await send(.PUT, "/api/v1/legal-aid/roster/\(junior)", token: admin, json: ["practiceSince": AnyEncodable("2025-10-01"), "criminal": AnyEncodable(true)])
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(LegalAidSettings.RosterEntry.self).yearsOfPractice, 1)
        res = try await send(.GET, "/api/v1/legal-aid/cases/\(d.request.id)/candidates", token: aid)
        let candidates = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertTrue(candidates.contains { $0.practitionerId == demoLawyer })
        XCTAssertFalse(candidates.contains { $0.practitionerId == junior })
        XCTAssertTrue(candidates.allSatisfy { $0.type == "lawyer" })
        res = try await step(aid, d.request.id, "designation", .init(practitionerId: junior))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(try errorBody(res).fields["practitionerId"]?.contains("第二十六条") == true)

        // Designated on Wednesday, within the three days.
        app.clock.set(day(2))
        res = try await step(try await token("aid"), d.request.id, "designation", .init(practitionerId: demoLawyer))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try decode(res).legalAid.designationOnTime, true)
        var rate = try await indicator("notified_defence_designation_rate", region: county(0).code.rawValue)
        XCTAssertEqual([rate.numerator, rate.denominator], [1, 1])

        // Notices left undesignated past their due day (letters 19 and 20) count against the county.
        var second = notice
        second["letterNumber"] = "（2026）示中法援通字第 19 号"
        second["reason"] = "minor"
        _ = try await send(.POST, "/api/v1/legal-aid/notices", token: try await token("aid"), json: second)
        app.clock.set(day(8))
        rate = try await indicator("notified_defence_designation_rate", region: county(0).code.rawValue)
        XCTAssertEqual([rate.numerator, rate.denominator], [1, 3])
        XCTAssertEqual(rate.met, false)
        let share = try await indicator("lawyer_share_of_aid_cases", region: county(0).code.rawValue)
        XCTAssertEqual([share.numerator, share.denominator], [1, 1])
    }

    // MARK: Duty lawyers

    func testDutyLawyerCoverageMovesWithAssistance() async throws {
        let aid = try await token("aid")
        var res = try await send(.GET, "/api/v1/legal-aid/duty-stations", token: aid)
        let stations = try res.content.decode([CriminalLegalAid.Station].self)
        XCTAssertEqual(stations.count, 3, "court, procuratorate and detention centre of the aid centre's county")
        XCTAssertTrue(stations.allSatisfy { $0.regionCode == county(0).code.rawValue })
        let station = stations.first { $0.kind == "detention_centre" }!

        res = try await send(.GET, "/api/v1/legal-aid/duty-persons", token: try await token("mediator"))
        XCTAssertEqual(res.status, .forbidden, "suspects' names are for the centres and the duty lawyers")
        let before = try await indicator("duty_lawyer_coverage", region: county(0).code.rawValue)
        res = try await send(.POST, "/api/v1/legal-aid/duty-persons", token: aid,
                             json: ["stationId": station.id.uuidString, "name": "钱某", "caseReference": "示公刑字 2026-77", "stage": "investigation"])
        XCTAssertEqual(res.status, .created, res.body.string)
        let person = try res.content.decode(CriminalLegalAid.Person.self)
        res = try await send(.GET, "/api/v1/legal-aid/duty-persons?stationId=\(station.id)&unassisted=true", token: aid)
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertTrue(try res.content.decode(Paged<CriminalLegalAid.Person>.self).items.contains { $0.id == person.id })
        let waiting = try await indicator("duty_lawyer_coverage", region: county(0).code.rawValue)
        XCTAssertEqual(waiting.denominator, (before.denominator ?? 0) + 1)
        XCTAssertEqual(waiting.numerator, before.numerator)

        // The duty lawyer records the help on their phone: their own record, at once.
        let lawyer = try await token("lawyer")
        res = try await send(.POST, "/api/v1/legal-aid/duty-assistances", token: lawyer,
                             json: ["personId": AnyEncodable(person.id), "kinds": AnyEncodable(["bogus"])])
        XCTAssertEqual(try errorBody(res).fields.keys.first, "kinds")
        res = try await send(.POST, "/api/v1/legal-aid/duty-assistances", token: lawyer,
                             json: ["personId": AnyEncodable(person.id), "kinds": AnyEncodable(["consultation", "plea_signing"]),
                                    "notes": AnyEncodable("告知认罪认罚从宽制度，在场见证具结书签署")])
        XCTAssertEqual(res.status, .created, res.body.string)
        let after = try await indicator("duty_lawyer_coverage", region: county(0).code.rawValue)
        res = try await send(.GET, "/api/v1/legal-aid/duty-persons?stationId=\(station.id)&unassisted=true", token: aid)
        XCTAssertFalse(try res.content.decode(Paged<CriminalLegalAid.Person>.self).items.contains { $0.id == person.id })
        XCTAssertEqual(after.numerator, (waiting.numerator ?? 0) + 1)

        // The rota: today's lawyer is on duty, and the matching score says so.
        let lawyerID = city.accounts.first { $0.username == "lawyer" }!.practitionerID!
        res = try await send(.PUT, "/api/v1/legal-aid/duty-stations/\(station.id)/shifts/2026-11-23", token: aid, json: ["practitionerIds": [lawyerID]])
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode([CriminalLegalAid.Shift].self).first?.lawyers.map(\.id), [lawyerID])
        let notice: [String: String] = ["organ": "public_security", "organName": "示范市公安局城关分局", "letterNumber": "城公援字 2026-5",
                                        "suspectName": "孙某", "charge": "盗窃罪", "stage": "investigation", "reason": "minor",
                                        "regionCode": county(0).code.rawValue]
        let created = try decode(try await send(.POST, "/api/v1/legal-aid/notices", token: aid, json: notice))
        XCTAssertEqual(created.request.priorityGroups, ["minor"])
        res = try await send(.GET, "/api/v1/legal-aid/cases/\(created.request.id)/candidates", token: aid)
        let onDuty = try res.content.decode([Dispatch.Candidate].self).first { $0.practitionerId == lawyerID }
        XCTAssertTrue(onDuty?.reasons.contains("今日值班（+5）") == true)
        // Only roster lawyers stand duty.
        let officer = try await sql.select().column("id").from(Practitioner.schema).where("type", .equal, "legal_aid_officer")
            .first(decodingColumn: "id", as: UUID.self)!
        res = try await send(.PUT, "/api/v1/legal-aid/duty-stations/\(station.id)/shifts/2026-11-24", token: aid, json: ["practitionerIds": [officer]])
        XCTAssertEqual(res.status, .unprocessableEntity)
    }

    func testACriminalApplicationIsADefenceByCriminalLawyers() async throws {
        var body = application(matter: "", size: 4, income: 2000)
        body.kind = "criminal"
        body.description = "儿子涉嫌盗窃被刑事拘留，家里请不起律师"
        let (res, created) = try await apply(try await citizen(), body)
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try XCTUnwrap(created)
        XCTAssertEqual(c.legalAid.kind, "criminal")
        XCTAssertEqual(c.request.category, "criminal")
        XCTAssertEqual(c.legalAid.eligibleAtIntake, true)
        let aid = try await token("aid")
        _ = try await step(aid, c.request.id, "decision", .init(grant: true))
        let candidates = try (try await send(.GET, "/api/v1/legal-aid/cases/\(c.request.id)/candidates", token: aid)).content.decode([Dispatch.Candidate].self)
        XCTAssertFalse(candidates.isEmpty)
        XCTAssertTrue(candidates.allSatisfy { $0.type == "lawyer" }, "art. 25: a defence is a lawyer's")
    }

    // MARK: Fee reduction and scope

    func testRecipientsNotarizationIsMarkedForFeeReduction() async throws {
        let me = try await citizen()
        let (_, created) = try await apply(me, application())
        let aid = try await token("aid")
        _ = try await step(aid, try XCTUnwrap(created).request.id, "decision", .init(grant: true))
        let res = try await send(.POST, "/api/v1/requests", token: me, json: Intake.Input(
            matterType: "notarization", itemCode: nil, category: "labor", channel: nil, description: "申请办理劳动合同公证",
            applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile, idNumber: nil), priorityGroups: nil,
            regionCode: village.code.rawValue, externalReference: nil, accept: nil, answer: nil))
        let feeReduction = try res.content.get(LegalAidCases.FeeReduction.self, at: "feeReduction")
        XCTAssertEqual(feeReduction.aidNumber, created?.request.number)
        XCTAssertTrue(feeReduction.basis.contains("第五十三条"))
    }

    func testAnotherCountySeesNothingAndTheGeneralIntakeOpensACase() async throws {
        let (_, created) = try await apply(try await citizen(), application())
        let id = try XCTUnwrap(created).request.id
        // A clerk of county 1 cannot see or act on county 0's case.
        let other = try await token("admin")
        let otherCounty = county(1).code.rawValue
        let centre = city.institutions.first { $0.type == .legalAidCentre && $0.region.rawValue == otherCounty }!
        let made = try await send(.POST, "/api/v1/accounts", token: other, json: [
            "username": "aid2", "displayName": "另一县法律援助中心", "role": "window_clerk", "regionCode": otherCounty,
            "institutionId": centre.id.uuidString, "password": "Aid2-pass-2026"])
        XCTAssertEqual(made.status, .created, made.body.string)
        let clerk2 = try await token("aid2", password: "Aid2-pass-2026")
        var res = try await send(.GET, "/api/v1/legal-aid/cases/\(id)", token: clerk2)
        XCTAssertEqual(res.status, .notFound)
        res = try await step(clerk2, id, "decision", .init(grant: true))
        XCTAssertEqual(res.status, .notFound)

        // A legal aid matter entered at the hotline through the general intake is not accepted at once:
        // acceptance is the centre's decision.
        res = try await send(.POST, "/api/v1/requests", token: try await token("operator"), json: Intake.Input(
            matterType: "legal_aid", itemCode: nil, category: "labor", channel: nil, description: "来电申请法律援助，追讨工资",
            applicant: .init(name: "李强", mobile: "13900000011", idNumber: nil), priorityGroups: nil,
            regionCode: village.code.rawValue, externalReference: nil, accept: nil, answer: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
        let entered = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(entered.status, "submitted")
        XCTAssertNotNil(try? res.content.get(LegalAidCases.View.self, at: "legalAid"))
        XCTAssertEqual(entered.acceptDue, "2026-11-30")
        // The general actions cannot stand in for the law's steps: a decision, a closing, an ending.
        res = try await send(.POST, "/api/v1/requests/\(entered.id)/accept", token: try await token("aid"))
        XCTAssertEqual(res.status, .conflict)
        XCTAssertEqual(try errorBody(res).code, "use_legal_aid_step")
        res = try await send(.POST, "/api/v1/requests/\(entered.id)/reopen", token: try await token("county-admin"))
        XCTAssertEqual(res.status, .notFound, "reopening is the review's, not an action of its own")
    }
}
