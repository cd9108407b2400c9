import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// People's mediation through the real routes: committee make-up, a dispute from a listening point to
/// fulfilment, refusal, mass disputes, hotspots, judicial confirmation, reminders and the indicators.
final class MediationTests: AppTestCase {
    /// Monday 23 November 2026, 10:00 in Beijing.
    static let monday = Date(timeIntervalSince1970: 1_795_399_200)
    override var loadedOn: Date? { Self.monday }
    func day(_ n: Int) -> Date { Self.monday.addingTimeInterval(Double(n) * 86_400) }

    var mediatorAccount: DemoCity.Account { city.accounts.first { $0.username == "mediator" }! }
    var town: DivisionCode { city.practitioners.first { $0.id == mediatorAccount.practitionerID }!.region }
    var townCommittee: UUID { mediatorAccount.institutionID! }

    /// A listening point in one of the mediator's town's villages.
    func point() async throws -> MediationNetwork.Point {
        let res = try await send(.GET, "/api/v1/mediation/listening-points?region=\(town.rawValue)", token: try await token("admin"))
        return try XCTUnwrap(try res.content.decode(Paged<MediationNetwork.Point>.self).items.first)
    }

    func dispute(_ token: String, point: MediationNetwork.Point?, category: String = "property", people: Int? = nil, amount: Double? = nil,
                 region: String? = nil) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/mediation/cases", token: token, json: MediationCases.CaseInput(
            source: point == nil ? "application" : "listening_point", listeningPointId: point?.id, committeeId: nil, category: category,
            description: "邻居装修占用公共通道，多次协商未果", regionCode: region,
            parties: [.init(side: "applicant", kind: "person", name: "张桂芳", mobile: "13900000021"),
                      .init(side: "respondent", kind: "person", name: "李建国", mobile: nil)],
            amount: amount, peopleInvolved: people, channel: nil, externalReference: nil))
    }

    func step(_ token: String, _ id: UUID, _ step: String, _ body: MediationCases.StepInput = .init()) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/mediation/cases/\(id)/\(step)", token: token, json: body)
    }

    func decode(_ res: XCTHTTPResponse) throws -> MediationController.CaseDetail { try res.content.decode(MediationController.CaseDetail.self) }

    func indicator(_ id: String, region: String = DemoCity.cityCode.rawValue) async throws -> IndicatorRegistry.Result {
        let res = try await send(.GET, "/api/v1/indicators?region=\(region)&year=2026", token: try await token("admin"))
        return try XCTUnwrap(try res.content.decode(IndicatorController.Report.self).items.first { $0.id == id })
    }

    // MARK: Network

    func testCommitteeMakeUpIsCheckedAgainstArticles8And9() async throws {
        let admin = try await token("county-admin")
        var res = try await send(.PUT, "/api/v1/mediation/committees/\(townCommittee)/members", token: admin, json: MediationNetwork.MembersInput(members: [
            .init(name: "王建国", gender: "male", role: "member", termStart: "2025-03-01"),
            .init(name: "赵志强", gender: "male", role: "member", termStart: "2025-03-01"),
        ]))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var c = try res.content.decode(MediationNetwork.Committee.self)
        XCTAssertEqual(c.warnings.count, 3, "too few, no woman, no director")
        XCTAssertEqual(Set(c.warnings.map(\.article)), ["人民调解法第八条第二款", "人民调解法第八条第三款"])
        res = try await send(.GET, "/api/v1/mediation/committees/flagged", token: admin)
        XCTAssertTrue(try res.content.decode([MediationNetwork.Flagged].self).contains { $0.id == townCommittee })

        // Saved in breach: the town's judicial office (here the county: the office has no accounts) is told, and the
        // committee counts against the composition indicator (issue #19, item 6).
        let told = try await sql.raw("SELECT text FROM notifications WHERE text LIKE \(bind: "调委会组成提醒%")").all(decodingColumn: "text", as: String.self)
        XCTAssertEqual(told.count, 1)
        XCTAssertTrue(told.first?.contains(c.name) == true && told.first?.contains("人民调解法第八条") == true, "\(told)")
        let before = try await indicator("mediation_committee_composition_rate")
        XCTAssertEqual(before.targetSource, "law")
        XCTAssertLessThan(before.numerator ?? 0, before.denominator ?? 0)


        res = try await send(.PUT, "/api/v1/mediation/committees/\(townCommittee)/members", token: admin, json: MediationNetwork.MembersInput(members: [
            .init(name: "王建国", gender: "male", role: "director", termStart: "2025-03-01"),
            .init(name: "李秀英", gender: "female", role: "member", termStart: "2025-03-01"),
            .init(name: "赵志强", gender: "male", role: "member", termStart: "2025-03-01"),
        ]))
        c = try res.content.decode(MediationNetwork.Committee.self)
        XCTAssertEqual(c.warnings.count, 0)
        let after = try await indicator("mediation_committee_composition_rate")
        XCTAssertEqual(after.numerator, (before.numerator ?? 0) + 1, "put right, it counts")
        let toldAgain = try await sql.raw("SELECT COUNT(*) AS n FROM notifications WHERE text LIKE \(bind: "调委会组成提醒%")").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(toldAgain, 1, "a committee saved in order tells nobody")
        XCTAssertEqual(c.members.first { $0.role == "director" }?.termEnd, "2028-03-01")
        res = try await send(.PUT, "/api/v1/mediation/committees/\(townCommittee)/members", token: admin,
                             json: MediationNetwork.MembersInput(members: [.init(name: "", gender: "x", role: nil, termStart: "2030-01-01")]))
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["members[0].name", "members[0].gender", "members[0].termStart"])
        res = try await send(.PUT, "/api/v1/mediation/committees/\(townCommittee)/members", token: try await token("lawyer"),
                             json: MediationNetwork.MembersInput(members: []))
        XCTAssertEqual(res.status, .forbidden)
    }

    // MARK: A dispute from a listening point to fulfilment

    func testListeningPointDisputeToAgreementAndFulfilment() async throws {
        let mediator = try await token("mediator")
        let lp = try await point()
        var res = try await dispute(mediator, point: lp)
        XCTAssertEqual(res.status, .created, res.body.string)
        var d = try decode(res)
        let id = d.request.id
        XCTAssertEqual(d.request.status, "assigned", "the mediator at the point takes it")
        XCTAssertEqual(d.request.practitionerId, mediatorAccount.practitionerID)
        XCTAssertEqual(d.mediation.sourceName, "百姓说事点")
        XCTAssertEqual(d.mediation.parties.map(\.name), ["张桂芳", "李建国"])
        XCTAssertEqual(d.mediation.parties.first?.mobile, "139****0021")
        XCTAssertEqual(d.request.concludeDue, "2026-12-23", "a month, as the editable rule says")

        // Art. 17: no mediation without consent.
        res = try await send(.POST, "/api/v1/requests/\(id)/start", token: mediator)
        XCTAssertEqual(try errorBody(res).code, "consent_required")
        res = try await step(mediator, id, "consent", .init(given: true))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/requests/\(id)/start", token: mediator)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await step(mediator, id, "session", .init(heldOn: "2026-11-23", attendees: "张桂芳、李建国、村委会主任", record: "双方陈述意见，初步同意恢复通道"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/requests/\(id)/conclude", token: mediator, json: ["summary": "x"])
        XCTAssertEqual(try errorBody(res).code, "use_mediation_step")

        res = try await step(mediator, id, "outcome", .init(result: "success", form: "written", terms: "李建国于 12 月 3 日前清理通道并赔偿 500 元",
                                                           obligations: [.init(description: "清理公共通道并赔偿 500 元", dueOn: "2026-12-03")]))
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["facts", "partiesConfirmed"])
        res = try await step(mediator, id, "outcome", .init(result: "success", form: "written", facts: "李建国装修时在公共通道堆放建材",
                                                           terms: "李建国于 12 月 3 日前清理通道并赔偿 500 元",
                                                           obligations: [.init(description: "清理公共通道并赔偿 500 元", dueOn: "2026-12-03")],
                                                           partiesConfirmed: true))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try decode(res)
        XCTAssertEqual(d.request.status, "concluded")
        XCTAssertEqual(d.request.outcome, "settled")
        XCTAssertEqual(d.mediation.confirmationDue, "2026-12-23", "thirty days from the agreement")
        XCTAssertTrue(d.mediation.printable)

        // The written agreement prints.
        var browser = BrowserSession(self)
        try await browser.signIn("mediator")
        let work = try await browser.get("/work/\(id)")
        XCTAssertEqual(work.status, .ok)
        XCTAssertTrue(work.body.string.contains("打印人民调解协议书"))
        let network = try await browser.get("/mediation"), committee = try await browser.get("/mediation/committees/\(townCommittee)")
        XCTAssertEqual([network.status, committee.status], [.ok, .ok])
        let page = try await browser.get("/mediation/cases/\(id)/agreement")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("人民调解协议书"))
        XCTAssertTrue(page.body.string.contains("清理公共通道并赔偿 500 元"))

        // The day before the performance date: the committee (here its county: no staff accounts of its own) is reminded.
        app.clock.set(day(9))
        let reminded = try await Deadlines.scan(app: app)
        XCTAssertGreaterThanOrEqual(reminded, 1)
        let before = try await sql.raw("SELECT text FROM notifications WHERE request_id = \(bind: id)").all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(before.contains { $0.hasPrefix("到期提醒") && $0.contains("调解协议约定的履行期限") && $0.contains("2026-12-03") }, "\(before)")

        // The performance date passes unfulfilled: one reminder, to the committee and the mediator.
        app.clock.set(day(12))
        let first = try await MediationCases.remindOverdueObligations(app: app)
        let second = try await MediationCases.remindOverdueObligations(app: app)
        XCTAssertEqual([first, second], [1, 0], "once")
        let mediatorAccountID = try await sql.select().column("id").from(Account.schema).where("username", .equal, "mediator")
            .first(decodingColumn: "id", as: UUID.self)!
        let texts = try await sql.select().column("text").from("notifications").where("account_id", .equal, SQLBind(mediatorAccountID))
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(texts.contains { $0.contains("履行提醒") })
        var rate = try await indicator("mediation_fulfilment_rate")
        XCTAssertEqual([rate.numerator, rate.denominator], [0, 1])

        // A follow-up visit finds it done.
        let later = try await token("mediator")
        res = try await step(later, id, "visit", .init(status: "fulfilled", obligationId: UUID()))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "obligationId")
        res = try await step(try await token("county-admin"), id, "visit", .init(status: "fulfilled"))
        XCTAssertEqual(res.status, .forbidden, "follow-up is the mediator's and the committee's")
        res = try await step(later, id, "visit", .init(status: "fulfilled", note: "通道已清理，赔偿款已当面支付"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try decode(res).mediation.obligations.first?.status, "fulfilled")
        XCTAssertEqual(try decode(res).mediation.fulfilment, "fulfilled")
        rate = try await indicator("mediation_fulfilment_rate")
        XCTAssertEqual([rate.numerator, rate.denominator], [1, 1])
        let success = try await indicator("mediation_success_rate")
        XCTAssertEqual([success.numerator, success.denominator], [1, 1])

        // Judicial confirmation: jointly, within the thirty days.
        res = try await step(later, id, "confirmation", .init(court: "城关区人民法院"))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "joint")
        app.clock.set(day(31))
        res = try await step(try await token("mediator"), id, "confirmation", .init(court: "城关区人民法院", joint: true))
        XCTAssertEqual(res.status, .conflict, "the window closed on 23 December")
        XCTAssertEqual(try errorBody(res).code, "confirmation_window_passed")
        res = try await step(try await token("mediator"), id, "confirmation", .init(appliedOn: "2026-12-22", court: "城关区人民法院", joint: true))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await step(try await token("mediator"), id, "court-decision", .init(decision: "confirmed", decidedOn: "2026-12-24"))
        XCTAssertEqual(try decode(res).mediation.courtDecisionName, "裁定确认调解协议有效")
    }

    /// Issue #20, item 7: a validation error never empties what the mediator typed into the outcome form.
    func testTheOutcomeFormKeepsTheFactsAndTheAgreementOnAnError() async throws {
        let mediator = try await token("mediator")
        let d = try decode(try await dispute(mediator, point: try await point()))
        let id = d.request.id
        _ = try await step(mediator, id, "consent", .init(given: true))
        _ = try await send(.POST, "/api/v1/requests/\(id)/start", token: mediator)
        var browser = BrowserSession(self)
        try await browser.signIn("mediator")
        // The parties' confirmation is missing: refused, and every word stays.
        let page = try await browser.post("/work/\(id)/mediation/outcome", [
            ("result", "success"), ("form", "oral"), ("facts", "李建国装修时在公共通道堆放建材"),
            ("terms", "李建国于 12 月 3 日前清理通道"), ("signedOn", "2026-11-23")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        let html = page.body.string
        XCTAssertTrue(html.contains(">李建国装修时在公共通道堆放建材</textarea>"), "the facts stay")
        XCTAssertTrue(html.contains(">李建国于 12 月 3 日前清理通道</textarea>"), "the agreement stays")
        XCTAssertTrue(html.contains("<option value=\"oral\" selected>"), "the chosen form stays")
    }

    func testACommitteeTakesDisputesInForItselfOnly() async throws {
        let admin = try await token("admin")
        let made = try await send(.POST, "/api/v1/accounts", token: admin, json: [
            "username": "committee", "displayName": "镇调委会", "role": "institution_admin", "regionCode": town.rawValue,
            "institutionId": townCommittee.uuidString, "password": "Committee-2026"])
        XCTAssertEqual(made.status, .created, made.body.string)
        let committee = try await token("committee", password: "Committee-2026")
        let village = city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(town.scopePrefix) }!
        var res = try await dispute(committee, point: nil, region: village.code.rawValue)
        XCTAssertEqual(res.status, .created, res.body.string)
        let d = try decode(res)
        XCTAssertEqual(d.request.status, "accepted", "the committee's own intake accepts at once")
        XCTAssertEqual(d.request.institutionId, townCommittee)
        // Another town's village is not this committee's to take in.
        let elsewhere = city.regions.first { $0.level == .village && !$0.code.rawValue.hasPrefix(town.scopePrefix) }!
        res = try await dispute(committee, point: nil, region: elsewhere.code.rawValue)
        XCTAssertEqual(res.status, .unprocessableEntity)
        // A law firm's admin takes in no disputes; a lawyer neither.
        res = try await dispute(try await token("lawyer"), point: nil, region: village.code.rawValue)
        XCTAssertEqual(res.status, .forbidden)
        // Its mediators are full- or part-time.
        res = try await send(.PUT, "/api/v1/mediation/mediators/\(mediatorAccount.practitionerID!)", token: committee, json: ["fullTime": true])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/mediation/committees/\(townCommittee)", token: committee)
        XCTAssertEqual(try res.content.decode(MediationNetwork.Committee.self).mediators.first { $0.practitionerId == mediatorAccount.practitionerID }?.fullTime, true)
        // A citizen's own application through the portal is a mediation case too, waiting for consent.
        let citizen = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        let citizenToken = try citizen.content.decode(AuthController.TokenResponse.self).token
        res = try await send(.POST, "/api/v1/requests", token: citizenToken, json: Intake.Input(
            matterType: "mediation", itemCode: nil, category: "property", channel: nil, description: "物业费纠纷，请求调解",
            applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile, idNumber: nil), priorityGroups: nil,
            regionCode: village.code.rawValue, externalReference: nil, accept: nil, answer: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
        let applied = try res.content.get(MediationCases.View.self, at: "mediation")
        XCTAssertEqual(applied.source, "application")
        XCTAssertEqual(applied.consent, "pending")
    }

    func testRefusalClosesTheCaseUnmediatedWithAdvice() async throws {
        let clerk = try await token("county-admin")
        let village = city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(town.scopePrefix) }!
        var res = try await dispute(clerk, point: nil, region: village.code.rawValue)
        XCTAssertEqual(res.status, .created, res.body.string)
        let id = try decode(res).request.id
        res = try await step(clerk, id, "consent", .init(given: false))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let d = try decode(res)
        XCTAssertEqual(d.request.status, "concluded")
        XCTAssertEqual(d.request.outcome, "not_mediated")
        XCTAssertTrue(d.mediation.advice?.contains("仲裁") == true)
        let success = try await indicator("mediation_success_rate")
        XCTAssertEqual(success.denominator, 0, "a refusal is not a failed mediation")
    }

    func testMassDisputeIsEscalatedAndHotspotsRaiseAnAlert() async throws {
        let clerk = try await token("county-admin")
        let village = city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(town.scopePrefix) }!
        var res = try await dispute(clerk, point: nil, category: "labor", people: 35, region: village.code.rawValue)
        XCTAssertEqual(res.status, .created, res.body.string)
        let d = try decode(res)
        XCTAssertTrue(d.mediation.mass)
        XCTAssertTrue(d.request.timeline.contains { $0.action == "escalate" })
        // Two more labour disputes in the same village within days: a hotspot for the judicial office.
        for _ in 0..<2 { _ = try await dispute(clerk, point: nil, category: "labor", region: village.code.rawValue) }
        res = try await send(.GET, "/api/v1/mediation/hotspots", token: clerk)
        let alerts = try res.content.decode([MediationController.Alert].self)
        XCTAssertTrue(alerts.contains { $0.regionCode == village.code.rawValue && $0.category == "labor" && $0.recent == 3 })
        let countyAdminID = try await sql.select().column("id").from(Account.schema).where("username", .equal, "county-admin")
            .first(decodingColumn: "id", as: UUID.self)!
        let texts = try await sql.select().column("text").from("notifications").where("account_id", .equal, SQLBind(countyAdminID))
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(texts.contains { $0.contains("群体性纠纷") })
        XCTAssertTrue(texts.contains { $0.contains("矛盾纠纷预警") })
        // A fourth does not raise the same alert again.
        _ = try await dispute(clerk, point: nil, category: "labor", region: village.code.rawValue)
        res = try await send(.GET, "/api/v1/mediation/hotspots", token: clerk)
        XCTAssertEqual(try res.content.decode([MediationController.Alert].self).filter { $0.regionCode == village.code.rawValue }.count, 1)
    }

    func testTargetsAreEditableAndIndustryCoverageCountsFields() async throws {
        var res = try await send(.PUT, "/api/v1/indicators/mediation_success_rate/target", token: try await token("admin"), json: ["target": 120.0])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.PUT, "/api/v1/indicators/mediation_success_rate/target", token: try await token("county-admin"), json: ["target": 80.0])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.PUT, "/api/v1/indicators/mediation_success_rate/target", token: try await token("admin"), json: ["target": 80.0])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let changed = try await indicator("mediation_success_rate")
        XCTAssertEqual(changed.target, 80)
        // The same from the dashboard, for the city's administrators only.
        var browser = BrowserSession(self)
        try await browser.signIn("admin")
        let dashboard = try await browser.get("/admin/indicators")
        XCTAssertTrue(dashboard.body.string.contains("修改目标"))
        let posted = try await browser.post("/admin/indicators/mediation_success_rate/target", [("target", "85")])
        XCTAssertEqual(posted.status, .seeOther)
        let viaPage = try await indicator("mediation_success_rate")
        XCTAssertEqual(viaPage.target, 85)
        var county = BrowserSession(self)
        try await county.signIn("county-admin")
        let page = try await county.get("/admin/indicators")
        XCTAssertFalse(page.body.string.contains("修改目标"))

        let fields = Set(city.institutions.filter { $0.type == .mediationCommittee && $0.committeeKind == .industry }.compactMap(\.industryField))
        let coverage = try await indicator("industry_committee_coverage")
        XCTAssertEqual(coverage.numerator, fields.count)
        XCTAssertEqual(coverage.denominator, IndustryField.allCases.count)
    }
}
