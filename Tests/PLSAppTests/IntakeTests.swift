import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// 一网通办 through the real routes: intake from each channel, the lifecycle, rating, scope and the ledger.
final class IntakeTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    let monday = Date(timeIntervalSince1970: 1_772_416_800)

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func citizenToken(_ mobile: String = DemoCity.citizenMobile) async throws -> String {
        if mobile == DemoCity.citizenMobile {
            let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "password": DemoCity.password])
            return try res.content.decode(AuthController.TokenResponse.self).token
        }
        _ = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        let text = try app.personalData.open(try await SmsMessage.query(on: app.db).sort(\.$createdAt, .descending).first()!.text)
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": String(text.filter(\.isNumber).prefix(6))])
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    func input(matter: String = "consultation", category: String = "labor", mobile: String = DemoCity.citizenMobile,
               id: String? = nil, channel: String? = nil, answer: String? = nil) -> Intake.Input {
        Intake.Input(matterType: matter, itemCode: nil, category: category, channel: channel, description: "公司拖欠三个月工资，想咨询如何维权",
                     applicant: .init(name: "王秀英", mobile: mobile, idNumber: id), priorityGroups: ["migrant_worker"],
                     regionCode: village.code.rawValue, externalReference: nil, accept: nil, answer: answer)
    }

    func create(_ token: String, _ body: Intake.Input, key: String? = nil) async throws -> (XCTHTTPResponse, RequestViews.Detail?) {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        let res = try await send(.POST, "/api/v1/requests", token: token, json: body, headers: headers)
        return (res, [.created, .ok].contains(res.status) ? try res.content.decode(RequestViews.Detail.self) : nil)
    }

    func act(_ token: String, _ id: UUID, _ action: String, _ body: RequestActions.Input = .init()) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/requests/\(id)/\(action)", token: token, json: body)
    }

    // MARK: Intake

    func testCitizenSubmitsAndSeesNumberDeadlineAndTimeline() async throws {
        let (res, detail) = try await create(try await citizenToken(), input())
        XCTAssertEqual(res.status, .created, res.body.string)
        let d = try XCTUnwrap(detail)
        XCTAssertEqual(d.number, "FW20260302000001")
        XCTAssertEqual(d.status, "submitted")
        XCTAssertEqual(d.channel, "web")
        XCTAssertEqual(d.acceptDue, "2026-03-03", "one working day after Monday")
        XCTAssertEqual(d.applicant.mobile, "138****0000")
        XCTAssertEqual(d.timeline.map(\.action), ["submit"])
        XCTAssertEqual(d.priorityGroups, ["migrant_worker"])
        let (_, second) = try await create(try await citizenToken(), input(category: "marriage_family"))
        XCTAssertEqual(second?.number, "FW20260302000002")
    }

    func testInvalidInputNamesTheFieldAndWritesNothing() async throws {
        var bad = input(id: "110105194912310021")
        bad.applicant?.mobile = "12345"
        bad.category = "astrology"
        let (res, _) = try await create(try await citizenToken(), bad)
        XCTAssertEqual(res.status, .unprocessableEntity)
        let fields = try errorBody(res).fields
        XCTAssertEqual(fields["applicant.idNumber"], "身份证号码校验位不正确，请核对")
        XCTAssertNotNil(fields["applicant.mobile"])
        XCTAssertNotNil(fields["category"])
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 0)
    }

    func testWindowRequiresAndChecksTheIDNumber() async throws {
        let clerk = try await token("clerk")
        var (res, _) = try await create(clerk, input(mobile: "13912345678"))
        XCTAssertEqual(try errorBody(res).fields["applicant.idNumber"], "窗口登记须核验申请人身份证号码")
        let detail: RequestViews.Detail?
        (res, detail) = try await create(clerk, input(mobile: "13912345678", id: "11010519491231002X"))
        XCTAssertEqual(res.status, .created, res.body.string)
        XCTAssertEqual(detail?.channel, "window")
        XCTAssertEqual(detail?.status, "accepted", "staff intake is acceptance")
        XCTAssertEqual(detail?.applicant.idNumber, "11***************X")
        XCTAssertEqual(detail?.applicant.birthDate, "1949-12", "the month of birth only, beside the masked number")
        XCTAssertEqual(detail?.applicant.sex, "female")
        XCTAssertTrue(detail?.priorityGroups.contains("elderly") ?? false, "76 years old: a priority group")
        // Stored encrypted, found by keyed hash.
        let row = try await ServiceRequest.find(detail!.id, on: app.db)!
        XCTAssertFalse(row.applicantIDCipher!.contains("11010519491231002X"))
        XCTAssertEqual(try app.personalData.decrypt(row.applicantIDCipher!), "11010519491231002X")
    }

    func testCitizenCannotUseStaffChannelsOrAnswer() async throws {
        let (res, _) = try await create(try await citizenToken(), input(channel: "hotline", answer: "自己答"))
        let fields = try errorBody(res).fields
        XCTAssertNotNil(fields["channel"])
        XCTAssertNotNil(fields["answer"])
    }

    func testIdempotencyKeyReturnsTheFirstResult() async throws {
        let t = try await citizenToken()
        let (first, a) = try await create(t, input(), key: "retry-1")
        XCTAssertEqual(first.status, .created)
        let (second, b) = try await create(t, input(), key: "retry-1")
        XCTAssertEqual(second.status, .ok)
        XCTAssertEqual(second.headers.first(name: "Idempotent-Replayed"), "true")
        XCTAssertEqual(a?.id, b?.id)
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 1)
    }

    func testHotlineAnswersOnTheCallAndRecordsTheFollowUpRating() async throws {
        let op = try await token("operator")
        let (res, d) = try await create(op, input(mobile: "13600001111", answer: "告知可向劳动监察投诉或申请劳动仲裁，并可申请法律援助"))
        XCTAssertEqual(res.status, .created, res.body.string)
        XCTAssertEqual(d?.channel, "hotline")
        XCTAssertEqual(d?.status, "concluded")
        XCTAssertEqual(d?.timeline.map(\.action), ["submit", "accept", "conclude"])
        XCTAssertEqual(d?.concludedOnTime, true)
        XCTAssertTrue(d?.actions.contains("evaluate") ?? false)
        var r = try await send(.POST, "/api/v1/requests/\(d!.id)/evaluation", token: op, json: ["rating": 5])
        XCTAssertEqual(r.status, .ok, r.body.string)
        r = try await send(.POST, "/api/v1/requests/\(d!.id)/evaluation", token: op, json: ["rating": 4])
        XCTAssertEqual(r.status, .conflict)
        XCTAssertEqual(try errorBody(r).code, "already_rated")
        // The caller's number brings up their history.
        r = try await send(.GET, "/api/v1/requests?mobile=13600001111", token: op)
        XCTAssertEqual(try r.content.decode(Paged<RequestViews.Row>.self).total, 1)
    }

    // MARK: Lifecycle

    func testFromSubmissionToRating() async throws {
        let firstCitizen = try await citizenToken()
        let clerk = try await token("clerk")
        let lawyerAccount = city.accounts.first { $0.username == "lawyer" }!
        var (_, d) = try await create(firstCitizen, input())
        let id = d!.id

        var res = try await act(clerk, id, "start")
        XCTAssertEqual(res.status, .conflict)
        XCTAssertEqual(try errorBody(res).code, "invalid_transition")

        res = try await act(clerk, id, "accept")
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(d?.concludeDue, "2026-03-09", "five working days after Monday 2 March")

        res = try await send(.GET, "/api/v1/requests/\(id)/candidates", token: clerk)
        let candidates = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertFalse(candidates.isEmpty)
        XCTAssertTrue(candidates.allSatisfy { ["lawyer", "grassroots_legal_worker", "legal_aid_officer"].contains($0.type) })
        XCTAssertEqual(candidates.map(\.score), candidates.map(\.score).sorted(by: >))
        XCTAssertFalse(candidates[0].reasons.isEmpty)

        res = try await act(clerk, id, "assign", .init(practitionerId: lawyerAccount.practitionerID))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).practitionerName, lawyerAccount.displayName)

        var lawyer = try await token("lawyer")
        res = try await act(lawyer, id, "start")
        XCTAssertEqual(res.status, .ok)
        res = try await act(lawyer, id, "suspend")
        XCTAssertEqual(res.status, .unprocessableEntity, "a suspension says what is missing")
        res = try await act(lawyer, id, "suspend", .init(reason: "请补充劳动合同和工资流水"))
        XCTAssertEqual(res.status, .ok)
        // Resumed on Thursday 5 March: three working days did not count.
        app.clock.set(monday.addingTimeInterval(3 * 86_400))
        lawyer = try await token("lawyer")
        let citizen = try await citizenToken()
        res = try await act(lawyer, id, "resume")
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).concludeDue, "2026-03-12")

        res = try await act(citizen, id, "evaluation")
        XCTAssertEqual(try errorBody(res).fields["rating"], "请选择 1–5 星评价")
        res = try await send(.POST, "/api/v1/requests/\(id)/evaluation", token: citizen, json: ["rating": 5])
        XCTAssertEqual(res.status, .conflict)
        XCTAssertEqual(try errorBody(res).code, "not_concluded")

        res = try await act(lawyer, id, "conclude", .init(outcome: "resolved", summary: "已代写劳动仲裁申请书"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(d?.status, "concluded")
        XCTAssertEqual(d?.concludedOnTime, true)
        let sent = try await SmsMessage.query(on: app.db).filter(\.$mobileMasked == "138****0000").all().map { try app.personalData.open($0.text) }
        XCTAssertTrue(sent.contains { $0.contains("\(d!.number) 已办结") && $0.contains("/rate/") }, "the applicant is invited to rate by SMS")

        res = try await send(.POST, "/api/v1/requests/\(id)/evaluation", token: citizen, json: RequestActions.EvaluationInput(rating: 5, comment: "律师很耐心"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        d = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(d?.timeline.map(\.action), ["submit", "accept", "assign", "start", "suspend", "resume", "conclude", "evaluate"])

        // The indicators moved as it happened.
        let ind = try await send(.GET, "/api/v1/indicators?region=\(DemoCity.cityCode.rawValue)&year=2026", token: try await token("leader"))
        let items = Dictionary(uniqueKeysWithValues: try ind.content.decode(IndicatorController.Report.self).items.map { ($0.id, $0) })
        XCTAssertEqual(items["on_time_rate"]?.numerator, 1)
        XCTAssertEqual(items["on_time_rate"]?.denominator, 1)
        XCTAssertEqual(items["evaluation_rate"]?.value, 100)
        XCTAssertEqual(items["satisfaction_rate"]?.numerator, 1)

        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, 8)
    }

    func testRolesAndScope() async throws {
        let citizen = try await citizenToken()
        let (_, d) = try await create(citizen, input())
        let id = d!.id
        // Another citizen does not even learn that it exists.
        let other = try await citizenToken("13755556666")
        var res = try await send(.GET, "/api/v1/requests/\(id)", token: other)
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.GET, "/api/v1/requests", token: other)
        XCTAssertEqual(try res.content.decode(Paged<RequestViews.Row>.self).total, 0)
        // The applicant may not accept their own request.
        res = try await act(citizen, id, "accept")
        XCTAssertEqual(res.status, .forbidden)
        // A lawyer sees nothing not assigned to their firm.
        res = try await send(.GET, "/api/v1/requests/\(id)", token: try await token("lawyer"))
        XCTAssertEqual(res.status, .notFound)
        // The county admin of this county sees it; a leader sees it and may not act.
        res = try await send(.GET, "/api/v1/requests/\(id)", token: try await token("county-admin"))
        XCTAssertEqual(res.status, .ok)
        res = try await act(try await token("leader"), id, "accept")
        XCTAssertEqual(res.status, .forbidden)
        // Citizens may not search by phone number.
        res = try await send(.GET, "/api/v1/requests?mobile=13800000000", token: citizen)
        XCTAssertEqual(res.status, .forbidden)
    }

    func testRejectTransferAndTakeBack() async throws {
        let citizen = try await citizenToken()
        let op = try await token("operator")
        var (_, d) = try await create(citizen, input())
        var res = try await act(op, d!.id, "reject")
        XCTAssertEqual(try errorBody(res).fields["reason"], "请填写不予受理的理由")
        res = try await act(op, d!.id, "reject", .init(reason: "不属于法律服务事项，已告知向住建部门反映"))
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).rejectReason, "不属于法律服务事项，已告知向住建部门反映")

        (_, d) = try await create(citizen, input(category: "traffic"))
        _ = try await act(op, d!.id, "accept")
        res = try await act(op, d!.id, "transfer", .init(reason: "涉及交通事故现场处置", target: "110", reference: "110-20260302-88"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).transferTarget, "110")
        res = try await act(op, d!.id, "take-back", .init(note: "110 已处置完毕，转回跟进赔偿咨询"))
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).status, "accepted")
    }

    func testBadRatingOpensAFollowUpForTheCounty() async throws {
        let citizen = try await citizenToken()
        let op = try await token("operator")
        let (_, d) = try await create(citizen, input())
        _ = try await act(op, d!.id, "accept")
        _ = try await act(op, d!.id, "conclude", .init(outcome: "answered", summary: "电话解答"))
        let res = try await send(.POST, "/api/v1/requests/\(d!.id)/evaluation", token: citizen, json: RequestActions.EvaluationInput(rating: 1, comment: "没解决问题"))
        XCTAssertEqual(res.status, .ok)
        let notes = try await send(.GET, "/api/v1/notifications", token: try await token("county-admin"))
        let page = try notes.content.decode(Paged<Notifications.Item>.self)
        XCTAssertEqual(page.total, 1)
        XCTAssertTrue(page.items[0].text.contains("差评待整改"))
    }

    func testOverdueGoesToTheInstitutionThenTheCounty() async throws {
        let clerk = try await token("clerk")
        let (_, d) = try await create(clerk, input(mobile: "13912345678", id: "11010519491231002X"))
        // Due Monday 9 March. On Tuesday 10 March it is overdue; on Wednesday 11 March the county hears of it.
        app.clock.set(monday.addingTimeInterval(8 * 86_400))
        let clerkAgain = try await token("clerk")
        var raised = try await Notifications.scanOverdue(app: app)
        XCTAssertEqual(raised, 1)
        let again = try await Notifications.scanOverdue(app: app)
        XCTAssertEqual(again, 0, "told once")
        let list = try await send(.GET, "/api/v1/requests?overdue=true", token: clerkAgain)
        XCTAssertEqual(try list.content.decode(Paged<RequestViews.Row>.self).items.map(\.id), [d!.id])
        app.clock.set(monday.addingTimeInterval(9 * 86_400))
        raised = try await Notifications.scanOverdue(app: app)
        XCTAssertEqual(raised, 1)
        let notes = try await send(.GET, "/api/v1/notifications", token: try await token("county-admin"))
        let texts = try notes.content.decode(Paged<Notifications.Item>.self).items.map(\.text)
        XCTAssertEqual(texts.count, 2, "no institution admin here, so the county hears both times")
        XCTAssertTrue(texts[0].contains("县级督办"))
    }

    func testLedgerNamesTheAlteredAndTheRemovedEvent() async throws {
        let citizen = try await citizenToken()
        let op = try await token("operator")
        for category in ["labor", "traffic", "land"] {
            let (_, d) = try await create(citizen, input(category: category))
            _ = try await act(op, d!.id, "accept")
        }
        let intact = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(intact.problem)
        try await sql.raw("UPDATE request_events SET note = '被改过' WHERE seq = 3").run()
        var result = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertTrue(result.problem?.contains("第 3 条事件") ?? false, result.problem ?? "")
        XCTAssertTrue(result.problem?.contains("篡改") ?? false)
        XCTAssertEqual(result.checked, 2)

        try await sql.raw("DELETE FROM request_events WHERE seq = 3").run()
        result = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertTrue(result.problem?.contains("缺少第 3 条事件") ?? false, result.problem ?? "")
    }

    func testLedgerNoticesTheLastEventRemoved() async throws {
        let (_, _) = try await create(try await citizenToken(), input())
        try await sql.raw("DELETE FROM request_events WHERE seq = 1").run()
        let result = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNotNil(result.problem)
    }

    func testPublicLookupByNumberAndMobile() async throws {
        let (_, d) = try await create(try await citizenToken(), input())
        var res = try await send(.GET, "/api/v1/requests/lookup?number=\(d!.number)&mobile=13800000000")
        XCTAssertEqual(res.status, .ok)
        let view = try res.content.decode(Dispatch.PublicView.self)
        XCTAssertEqual(view.statusName, "待受理")
        XCTAssertFalse(res.body.string.contains("拖欠"), "the public view shows progress, not content")
        res = try await send(.GET, "/api/v1/requests/lookup?number=\(d!.number)&mobile=13900000000")
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.GET, "/api/v1/requests/lookup?number=\(d!.number)")
        XCTAssertEqual(res.status, .unprocessableEntity)
    }

    func testDueSoonAndOverdueViews() async throws {
        let clerk = try await token("clerk")
        let (_, d) = try await create(clerk, input(mobile: "13600000020", id: "11010519491231002X"))
        // Due Monday 9 March; on Thursday 5 March it is two working days away.
        app.clock.set(monday.addingTimeInterval(3 * 86_400))
        let t = try await token("clerk")
        var res = try await send(.GET, "/api/v1/requests?dueSoon=true", token: t)
        XCTAssertEqual(try res.content.decode(Paged<RequestViews.Row>.self).items.map(\.id), [d!.id])
        res = try await send(.GET, "/api/v1/requests?overdue=true", token: t)
        XCTAssertEqual(try res.content.decode(Paged<RequestViews.Row>.self).total, 0)
        app.clock.set(monday)
    }

    func testDuplicatesAreFoundBeforeSaving() async throws {
        let op = try await token("operator")
        _ = try await create(op, input(mobile: "13622223333"))
        var res = try await send(.GET, "/api/v1/requests/duplicates?mobile=13622223333&category=labor", token: op)
        XCTAssertEqual(try res.content.decode([RequestViews.Row].self).count, 1)
        res = try await send(.GET, "/api/v1/requests/duplicates?mobile=13622223333&category=land", token: op)
        XCTAssertEqual(try res.content.decode([RequestViews.Row].self).count, 0)
        // Recent means the last 30 days: a month and a day later the same caller is no longer warned about it.
        app.clock.set(app.clock.now.addingTimeInterval(31 * 86_400))
        res = try await send(.GET, "/api/v1/requests/duplicates?mobile=13622223333&category=labor", token: try await token("operator"))
        XCTAssertEqual(try res.content.decode([RequestViews.Row].self).count, 0)
    }

    func testBulkAssign() async throws {
        let clerk = try await token("clerk")
        var ids: [UUID] = []
        for mobile in ["13600000001", "13600000002"] {
            let (_, d) = try await create(clerk, input(mobile: mobile, id: "11010519491231002X"))
            ids.append(d!.id)
        }
        let (_, concluded) = try await create(clerk, input(mobile: "13600000003", id: "11010519491231002X", answer: "已解答"))
        let lawyer = city.accounts.first { $0.username == "lawyer" }!
        let res = try await send(.POST, "/api/v1/requests/bulk-assign", token: clerk,
                                 json: RequestController.BulkAssignInput(requestIds: ids + [concluded!.id], practitionerId: lawyer.practitionerID))
        let result = try res.content.decode(RequestController.BulkResult.self)
        XCTAssertEqual(Set(result.assigned), Set(ids))
        XCTAssertEqual(result.failed.map(\.code), ["invalid_transition"])
    }

    func testMattersEnteredForACallerShowUpInTheirPortal() async throws {
        let op = try await token("operator")
        // Before the caller has an account…
        let (_, early) = try await create(op, input(mobile: "13744445555", answer: "已解答"))
        let citizen = try await citizenToken("13744445555")
        // …and after.
        let (_, later) = try await create(op, input(category: "land", mobile: "13744445555"))
        let res = try await send(.GET, "/api/v1/requests", token: citizen)
        XCTAssertEqual(Set(try res.content.decode(Paged<RequestViews.Row>.self).items.map(\.id)), [early!.id, later!.id])
        let rated = try await send(.POST, "/api/v1/requests/\(early!.id)/evaluation", token: citizen, json: RequestActions.EvaluationInput(rating: 4))
        XCTAssertEqual(rated.status, .ok)
    }

    func testAutomaticAssignmentWhenTheCityTurnsItOn() async throws {
        let admin = try await token("admin")
        let res = try await send(.PUT, "/api/v1/deadline-rules/consultation", token: admin,
                                 json: Catalog.RulesInput(acceptDays: 1, acceptUnit: "working_days", concludeDays: 5, concludeUnit: "working_days", autoAssign: "best"))
        XCTAssertEqual(res.status, .ok)
        let (_, d) = try await create(try await token("clerk"), input(mobile: "13600000010", id: "11010519491231002X"))
        XCTAssertEqual(d?.status, "assigned")
        XCTAssertNotNil(d?.practitionerId)
        XCTAssertTrue(d?.timeline.last?.note?.contains("自动分派（最佳匹配）") ?? false)
    }

    func testAssigningTheWrongKindOfPractitionerIsRefused() async throws {
        let clerk = try await token("clerk")
        let (_, d) = try await create(clerk, input(mobile: "13600000009", id: "11010519491231002X"))
        let notary = city.practitioners.first { $0.type == .notary }!
        let res = try await act(clerk, d!.id, "assign", .init(practitionerId: notary.id))
        XCTAssertEqual(try errorBody(res).fields["practitionerId"], "公证员不能承办法律咨询事项")
    }

    func testAnItemHandledInPersonOnlyIsNotAppliedForOnlineAndCountsAgainstOnlineAcceptance() async throws {
        // Anyone following the link is told where to go and when, before being asked to sign in.
        var res = try await send(.GET, "/apply/appraisal.clinical")
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertTrue(res.headers.first(name: .location)?.hasPrefix("/services/appraisal.clinical?flash=") == true)
        res = try await send(.GET, "/services/appraisal.clinical")
        XCTAssertTrue(res.body.string.contains("请到以下窗口办理"))
        let appraisers = city.institutions.filter { $0.type == .appraisalInstitution }
        XCTAssertFalse(appraisers.isEmpty)
        for a in appraisers { XCTAssertTrue(res.body.string.contains(a.name), a.name) }
        XCTAssertTrue(res.body.string.contains(appraisers[0].openingHours))

        // The API refuses the citizen with the place; the hotline and the window still register such an item.
        var body = input(matter: "judicial_appraisal", category: "personal_injury")
        body.itemCode = "appraisal.clinical"
        let (refused, _) = try await create(try await citizenToken(), body)
        XCTAssertEqual(refused.status, .unprocessableEntity)
        XCTAssertTrue(try errorBody(refused).fields["itemCode"]?.contains("需到现场办理") == true, refused.body.string)
        let (taken, _) = try await create(try await token("operator"), body)
        XCTAssertEqual(taken.status, .created, taken.body.string)

        // 所有法律服务事项网上受理: the items handled in person only are the shortfalls, and opening them online closes the gap.
        let admin = try await token("admin")
        func figure() async throws -> IndicatorRegistry.Result {
            let res = try await send(.GET, "/api/v1/indicators?region=\(DemoCity.cityCode.rawValue)&year=2026", token: admin)
            return try XCTUnwrap(try res.content.decode(IndicatorController.Report.self).items.first { $0.id == "online_acceptance_rate" })
        }
        let items = try await Catalog.items(on: sql)
        let offline = items.filter { !$0.online }
        var rate = try await figure()
        XCTAssertEqual(rate.numerator, items.count - offline.count)
        XCTAssertEqual(rate.denominator, items.count)
        XCTAssertEqual(rate.met, false)
        XCTAssertEqual(Set(rate.shortfalls.map(\.code)), Set(offline.map(\.code)))
        XCTAssertEqual(rate.shortfalls.first { $0.code == "appraisal.clinical" }?.href, "/admin/catalog/appraisal.clinical")
        for item in offline {
            res = try await send(.PUT, "/api/v1/catalog/\(item.code)", token: admin, json: Catalog.ItemInput(
                name: item.name, conditions: item.conditions, materials: item.materials, steps: item.steps, fee: item.fee,
                timeLimit: item.timeLimit, location: item.location, online: true))
            XCTAssertEqual(res.status, .ok, res.body.string)
        }
        rate = try await figure()
        XCTAssertEqual(rate.value, 100)
        XCTAssertEqual(rate.met, true)
        XCTAssertEqual(rate.targetSource, "plan")
        let (now, _) = try await create(try await citizenToken(), body)
        XCTAssertEqual(now.status, .created, now.body.string)

        // Legal aid has one application, with the statement of means and the pledge, whichever guide one starts from.
        for (code, path) in [("legal_aid.civil", "/legal-aid/apply"), ("legal_aid.criminal", "/legal-aid/apply?kind=criminal")] {
            res = try await send(.GET, "/apply/\(code)")
            XCTAssertEqual(res.status, .seeOther, code)
            XCTAssertEqual(res.headers.first(name: .location), path)
        }
    }

    /// Issue #20, item 3: places are named by their path, typed or chosen; two villages of one name are told apart.
    func testPlacesAreChosenByTheirNamesNeverByCode() async throws {
        let admin = try await token("admin")
        let village = try XCTUnwrap(city.regions.first { $0.level == .village })
        let town = try XCTUnwrap(city.regions.first { $0.code == village.code.parent })
        let county = try XCTUnwrap(city.regions.first { $0.code == town.code.parent })
        let path = "\(county.name) · \(town.name) · \(village.name)"
        var res = try await send(.GET, "/api/v1/regions?q=\(village.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: admin)
        let rows = try res.content.decode(Paged<RegionController.Row>.self).items
        XCTAssertEqual(rows.first { $0.code == village.code.rawValue }?.path, path)

        // A second village of the same name in another town: the name alone is ambiguous, the path is not.
        let otherTown = try XCTUnwrap(city.regions.first { $0.level == .town && $0.code != town.code && $0.code.parent == county.code })
        let twinCode = String(otherTown.code.rawValue.prefix(9)) + "998"
        res = try await send(.POST, "/api/v1/regions", token: admin, json: RegionController.Input(code: twinCode, name: village.name, level: "village", parentCode: otherTown.code.rawValue, population: 800))
        XCTAssertEqual(res.status, .created, res.body.string)
        let citizen = try await citizenToken()
        var body = input()
        body.regionCode = village.name
        var (refused, _) = try await create(citizen, body)
        XCTAssertTrue(try errorBody(refused).fields["regionCode"]?.contains("请从列表中选择") == true, refused.body.string)
        body.regionCode = "不存在的村"
        (refused, _) = try await create(citizen, body)
        XCTAssertNotNil(try errorBody(refused).fields["regionCode"])
        body.regionCode = path
        var (made, detail) = try await create(citizen, body)
        XCTAssertEqual(made.status, .created, made.body.string)
        XCTAssertEqual(detail?.regionCode, village.code.rawValue)
        body.regionCode = "\(otherTown.name) · \(village.name)"
        (made, detail) = try await create(citizen, body)
        XCTAssertEqual(detail?.regionCode, twinCode, "the town tells the twins apart")

        // The form offers paths and shows one after an error, never the code.
        var browser = BrowserSession(self)
        _ = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        let form = try await browser.get("/apply/consultation.general")
        XCTAssertTrue(form.body.string.contains("<option value=\"\(path)\">"), "the list offers the path")
        let page = try await browser.post("/apply/consultation.general", [("category", "labor"), ("description", ""), ("name", "王秀英"),
                                                                          ("mobile", DemoCity.citizenMobile), ("regionCode", village.code.rawValue)])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("value=\"\(path)\""), "a code sent back is shown as its path")
        XCTAssertFalse(page.body.string.contains("value=\"\(village.code.rawValue)\""))
    }

    /// Issue #20, item 4: every step that changes what the citizen should expect tells them, in `/my` and by SMS.
    func testTheCitizenIsToldAtEveryStep() async throws {
        let citizen = try await citizenToken()
        var body = input()
        body.itemCode = "consultation.general"
        let (_, made) = try await create(citizen, body)
        let r = try XCTUnwrap(made)
        func told() async throws -> [String] {
            let res = try await send(.GET, "/api/v1/notifications?per=100", token: citizen)
            return try res.content.decode(Paged<Notifications.Item>.self).items.filter { $0.requestId == r.id }.map(\.text)
        }
        func texts() async throws -> [String] {
            try await SmsMessage.query(on: app.db).sort(\.$createdAt).all().map { try app.personalData.open($0.text) }.filter { $0.contains(r.number) }
        }
        var seen = try await told()
        XCTAssertEqual(seen.count, 1)
        XCTAssertTrue(seen[0].contains("\(r.number) 已提交") && seen[0].contains("所需材料"), seen[0])
        let clerk = try await token("county-admin")
        let accepted = try await act(clerk, r.id, "accept")
        XCTAssertEqual(accepted.status, .ok, accepted.body.string)
        seen = try await told()
        XCTAssertTrue(seen.contains { $0.contains("\(r.number) 已受理") }, "\(seen)")
        let lawyer = city.practitioners.first { $0.type == .lawyer && $0.region.rawValue.hasPrefix(county(0).code.scopePrefix) }!
        let assigned = try await act(clerk, r.id, "assign", .init(practitionerId: lawyer.id))
        XCTAssertEqual(assigned.status, .ok, assigned.body.string)
        seen = try await told()
        XCTAssertTrue(seen.contains { $0.contains("已交由\(lawyer.name)承办") }, "\(seen)")
        let sms = try await texts()
        XCTAssertEqual(sms.count, 3, "\(sms)")
        XCTAssertTrue(sms.allSatisfy { $0.hasPrefix("【") })
    }

    /// Issue #20, item 5: a receipt the person can keep or print, online and at the window.
    func testEverySubmittedMatterGivesAReceipt() async throws {
        var body = input()
        body.itemCode = "consultation.general"
        let (_, made) = try await create(try await citizenToken(), body)
        let r = try XCTUnwrap(made)
        var browser = BrowserSession(self)
        _ = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        var page = try await browser.get("/my/\(r.number)/receipt")
        XCTAssertEqual(page.status, .ok)
        for text in ["受理回执", r.number, "受理期限", "\(r.acceptDue!) 前", "拨打 12348", "data-print"] {
            XCTAssertTrue(page.body.string.contains(text), text)
        }
        let detail = try await browser.get("/my/\(r.number)")
        XCTAssertTrue(detail.body.string.contains("/my/\(r.number)/receipt"))
        page = try await browser.get("/my")
        XCTAssertTrue(page.body.string.contains("最新消息") && page.body.string.contains("\(r.number) 已提交"), "the messages show on 我的事项")
        // At the window, the clerk prints it from the work page.
        var clerk = BrowserSession(self)
        try await clerk.signIn("county-admin")
        page = try await clerk.get("/work/\(r.id)/receipt")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains(r.number))
        // Without signing in, the citizen's sign-in comes first.
        var anonymous = BrowserSession(self)
        let asked = try await anonymous.get("/my/\(r.number)/receipt")
        XCTAssertEqual(asked.status, .seeOther)
        XCTAssertTrue(asked.headers.first(name: .location)?.hasPrefix("/login/citizen?next=") == true)
    }

    /// Issue #20, items 7 and 11: the outcomes offered fit the matter; a refused conclusion keeps the chosen outcome
    /// and the text typed.
    func testConclusionOffersOutcomesThatFitTheMatterAndKeepsWhatWasTyped() async throws {
        let op = try await token("operator")
        var body = input()
        body.accept = true
        let (_, made) = try await create(op, body)
        let r = try XCTUnwrap(made)
        var res = try await act(op, r.id, "conclude", .init(outcome: "settled", summary: "调解成功"))
        XCTAssertEqual(try errorBody(res).fields["outcome"], "“调解成功”不适用于法律咨询事项")
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let page = try await browser.get("/work/\(r.id)")
        XCTAssertTrue(page.body.string.contains("<option value=\"answered\" selected>已解答</option>"))
        XCTAssertFalse(page.body.string.contains("value=\"settled\""), "no 调解成功 for a consultation")
        let refused = try await browser.post("/work/\(r.id)/conclude", [("outcome", "withdrawn"), ("summary", "")])
        XCTAssertEqual(refused.status, .unprocessableEntity)
        XCTAssertTrue(refused.body.string.contains("<option value=\"withdrawn\" selected>"), "the chosen outcome stays")
        XCTAssertTrue(refused.body.string.contains("aria-invalid=\"true\" aria-describedby=\"summary-error\""))
        XCTAssertTrue(refused.body.string.contains("<a href=\"#summary\">办理情况："), "the summary links to the field")
        let typed = try await browser.post("/work/\(r.id)/conclude", [("outcome", "settled"), ("summary", "已电话解答劳动仲裁时效")])
        XCTAssertEqual(typed.status, .unprocessableEntity)
        XCTAssertTrue(typed.body.string.contains(">已电话解答劳动仲裁时效</textarea>"), "the text stays")
        res = try await act(op, r.id, "conclude", .init(summary: "已解答"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).outcome, "answered", "the matter's first outcome by default")
    }

    /// Issue #20, item 10: the assigned practitioner hears of it (in-app with a count beside 提醒, SMS to their mobile),
    /// and only they (recorded each time) read the applicant's full number.
    func testTheAssignedPractitionerIsToldAndMayReachTheApplicant() async throws {
        let op = try await token("operator"), lawyerToken = try await token("lawyer")
        let lawyer = city.accounts.first { $0.username == "lawyer" }!
        let account = try await Account.query(on: app.db).filter(\.$username == "lawyer").first()!
        account.mobileCipher = try app.personalData.encrypt("13911112222")
        try await account.save(on: app.db)
        var body = input(mobile: "13755556666")
        body.accept = true
        let (_, made) = try await create(op, body)
        let r = try XCTUnwrap(made)
        var res = try await send(.POST, "/api/v1/requests/\(r.id)/contact", token: lawyerToken)
        XCTAssertEqual(res.status, .notFound, "not theirs yet: outside their scope")
        res = try await act(op, r.id, "assign", .init(practitionerId: lawyer.practitionerID))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/notifications", token: lawyerToken)
        let told = try res.content.decode(Paged<Notifications.Item>.self).items
        XCTAssertTrue(told.contains { $0.text.hasPrefix("新分派：事项 \(r.number)") && $0.requestId == r.id }, "\(told.map(\.text))")
        let sms = try await SmsMessage.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash("13911112222")).all()
        XCTAssertTrue(try sms.contains { try app.personalData.open($0.text).contains("新分派：事项 \(r.number)") })
        var browser = BrowserSession(self)
        try await browser.signIn("lawyer")
        let queue = try await browser.get("/work")
        XCTAssertTrue(queue.body.string.contains("提醒（1）"), "the unread count beside 提醒")
        XCTAssertFalse(queue.body.string.contains("href=\"/admin/indicators\""), "a practitioner's navigation shows only their work")

        // The full number: to the handler, on the timeline; never to others.
        res = try await send(.POST, "/api/v1/requests/\(r.id)/contact", token: op)
        XCTAssertEqual(res.status, .forbidden)
        XCTAssertTrue(try errorBody(res).message.contains("12348"))
        res = try await send(.POST, "/api/v1/requests/\(r.id)/contact", token: lawyerToken)
        XCTAssertEqual(try res.content.decode(RequestActions.Contact.self).mobile, "13755556666")
        let page = try await browser.post("/work/\(r.id)/contact", [])
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("tel:13755556666"))
        let detail = try await send(.GET, "/api/v1/requests/\(r.id)", token: op).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.timeline.filter { $0.action == "view_contact" }.count, 2)
        XCTAssertEqual(detail.applicant.mobile, "137****6666", "views stay masked")
    }

    /// Issue #20, item 9: a repeat call about an open matter is added to it (催办), from the API and from the console.
    func testARepeatCallUrgesTheOpenMatterInsteadOfMakingANewOne() async throws {
        let op = try await token("operator")
        let lawyer = city.accounts.first { $0.username == "lawyer" }!
        var body = input(mobile: "13766667777")
        body.accept = true
        let (_, made) = try await create(op, body)
        let r = try XCTUnwrap(made)
        _ = try await act(op, r.id, "assign", .init(practitionerId: lawyer.practitionerID))
        var res = try await send(.POST, "/api/v1/requests/\(r.id)/urge", token: op, json: ["note": "申请人询问何时联系"])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let d = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(d.timeline.last?.action, "urge")
        XCTAssertEqual(d.timeline.last?.actionName, "催办")
        XCTAssertEqual(d.status, "assigned", "urging changes no status")
        let told = try await send(.GET, "/api/v1/notifications", token: try await token("lawyer")).content.decode(Paged<Notifications.Item>.self)
        XCTAssertTrue(told.items.contains { $0.text.hasPrefix("催办：事项 \(r.number)") })
        res = try await send(.POST, "/api/v1/requests/\(r.id)/urge", token: try await citizenToken())
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/requests/\(r.id)/urge", token: op, json: ["note": String(repeating: "催", count: 501)])
        XCTAssertNotNil(try errorBody(res).fields["note"])

        // At the console: the number and the category show the open matter with a button that urges it.
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let console = try await browser.post("/hotline", [("action", "lookup"), ("mobile", "13766667777"), ("category", "labor")])
        XCTAssertEqual(console.status, .ok)
        XCTAssertTrue(console.body.string.contains("name=\"urge\" value=\"\(r.id)\""))
        let urged = try await browser.post("/hotline", [("urge", r.id.uuidString), ("mobile", "13766667777"), ("description", "第三次来电催问")])
        XCTAssertEqual(urged.status, .seeOther)
        let events = try await send(.GET, "/api/v1/requests/\(r.id)", token: op).content.decode(RequestViews.Detail.self).timeline
        XCTAssertEqual(events.filter { $0.action == "urge" }.last?.note, "申请人催办：第三次来电催问")
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 1, "no new matter")

        // A concluded matter is not urged: the caller's new ask is a new matter.
        _ = try await act(op, r.id, "conclude", .init(summary: "已解答"))
        res = try await send(.POST, "/api/v1/requests/\(r.id)/urge", token: op)
        XCTAssertEqual(res.status, .conflict)
    }

    /// Issue #20, item 11: a wrong category is corrected with the change on the timeline.
    func testAWrongCategoryIsCorrectedOnTheTimeline() async throws {
        let clerk = try await token("clerk")
        let (_, made) = try await create(clerk, input(id: "11010519491231002X"))
        let r = try XCTUnwrap(made)
        var res = try await send(.POST, "/api/v1/requests/\(r.id)/category", token: clerk, json: ["category": "labor"])
        XCTAssertEqual(try errorBody(res).fields["category"], "类别未改变")
        res = try await send(.POST, "/api/v1/requests/\(r.id)/category", token: clerk, json: ["category": "astrology"])
        XCTAssertNotNil(try errorBody(res).fields["category"])
        res = try await send(.POST, "/api/v1/requests/\(r.id)/category", token: clerk, json: ["category": "neighbourhood", "reason": "实为宅基地相邻纠纷"])
        let d = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(d.category, "neighbourhood")
        XCTAssertEqual(d.categoryName, "邻里纠纷")
        XCTAssertEqual(d.timeline.last?.note, "类别由“劳动保障”更正为“邻里纠纷”：实为宅基地相邻纠纷")
        res = try await send(.POST, "/api/v1/requests/\(r.id)/category", token: try await token("leader"), json: ["category": "labor"])
        XCTAssertEqual(res.status, .forbidden)
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        let page = try await browser.post("/work/\(r.id)/category", [("category", "neighbourhood"), ("reason", "再次核对")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("类别未改变") && page.body.string.contains("value=\"再次核对\""))
        // A refused reason shows in its own form only (reject, suspend and transfer all send `reason`).
        let transfer = try await browser.post("/work/\(r.id)/transfer", [("target", "12345"), ("reason", "")])
        XCTAssertEqual(transfer.status, .unprocessableEntity)
        XCTAssertTrue(transfer.body.string.contains("<a href=\"#transfer-reason\">转办理由："))
        XCTAssertTrue(transfer.body.string.contains("aria-describedby=\"transfer-reason-error\""))
        XCTAssertFalse(transfer.body.string.contains("category-reason-error"))
    }

    /// Issue #20, item 10: scores separate people and say how ties were broken; staff find anyone eligible by name.
    func testCandidatesAreSeparatedAndSearchableByName() async throws {
        let clerk = try await token("clerk")
        let (_, made) = try await create(clerk, input(id: "11010519491231002X"))
        let r = try XCTUnwrap(made)
        var res = try await send(.GET, "/api/v1/requests/\(r.id)/candidates", token: clerk)
        let all = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertGreaterThan(all.count, 1)
        for (above, below) in zip(all, all.dropFirst()) {
            XCTAssertGreaterThanOrEqual(above.score, below.score)
            if above.score == below.score { XCTAssertEqual(below.tieBreak?.hasPrefix("与\(above.name)同分"), true) } else { XCTAssertNil(below.tieBreak) }
        }
        let someone = all.last!
        res = try await send(.GET, "/api/v1/requests/\(r.id)/candidates?q=\(someone.name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)", token: clerk)
        let found = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertTrue(found.contains { $0.practitionerId == someone.practitionerId })
        XCTAssertTrue(found.allSatisfy { $0.name.contains(someone.name) })
        res = try await send(.GET, "/api/v1/requests/\(r.id)/candidates?q=%25", token: clerk)
        XCTAssertEqual(try res.content.decode([Dispatch.Candidate].self).count, 0, "a % is a character, not a wildcard")
        res = try await send(.GET, "/api/v1/requests/\(r.id)/candidates?q=\(String(repeating: "a", count: 41))", token: clerk)
        XCTAssertNotNil(try errorBody(res).fields["q"])
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        let page = try await browser.get("/work/\(r.id)?who=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA%E4%BA%BA")
        XCTAssertTrue(page.body.string.contains("没有姓名或执业证号含“没有这个人”的可承办人员"))
    }
}

final class CatalogAndCalendarTests: AppTestCase {
    func testCatalogIsPublicAndEditableByTheCity() async throws {
        var res = try await send(.GET, "/api/v1/catalog")
        XCTAssertEqual(res.status, .ok)
        let entries = try res.content.decode([Catalog.MatterTypeEntry].self)
        XCTAssertTrue(entries.contains { $0.matterType == "notarization" && $0.items.contains { $0.name == "出生公证" } })
        var item = try await send(.GET, "/api/v1/catalog/notarization.birth").content.decode(Catalog.Item.self)
        item.fee = "免费（试行）"
        res = try await send(.PUT, "/api/v1/catalog/notarization.birth", token: try await token("county-admin"), json: item)
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.PUT, "/api/v1/catalog/notarization.birth", token: try await token("admin"), json: item)
        XCTAssertEqual(try res.content.decode(Catalog.Item.self).fee, "免费（试行）")
        item.steps = ""
        res = try await send(.PUT, "/api/v1/catalog/notarization.birth", token: try await token("admin"), json: item)
        XCTAssertNotNil(try errorBody(res).fields["steps"])
    }

    func testDeadlineRulesAreEditable() async throws {
        let admin = try await token("admin")
        var res = try await send(.PUT, "/api/v1/deadline-rules/mediation", token: admin,
                                 json: Catalog.RulesInput(acceptDays: 2, acceptUnit: "working_days", concludeDays: 45, concludeUnit: "calendar_days", autoAssign: "off"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/deadline-rules", token: admin)
        XCTAssertEqual(try res.content.decode([Catalog.Rules].self).first { $0.matterType == "mediation" }?.concludeDays, 45)
        res = try await send(.PUT, "/api/v1/deadline-rules/mediation", token: admin,
                             json: Catalog.RulesInput(acceptDays: 2, acceptUnit: "weeks", concludeDays: 0, concludeUnit: "calendar_days"))
        let fields = try errorBody(res).fields
        XCTAssertNotNil(fields["acceptUnit"])
        XCTAssertNotNil(fields["concludeDays"])
    }

    func testDueDatesAndNextYearsCalendar() async throws {
        let admin = try await token("admin")
        var res = try await send(.GET, "/api/v1/calendar/due?from=2026-09-30&workingDays=1", token: admin)
        XCTAssertEqual(try res.content.decode(CalendarController.DueView.self).due, "2026-10-08")
        res = try await send(.GET, "/api/v1/calendar/2027", token: admin)
        XCTAssertEqual(res.status, .notFound)
        let bad = CalendarStore.YearInput(source: "国务院办公厅关于2027年部分节假日安排的通知", holidays: [CivilDate("2027-01-01")!],
                                          makeupWorkdays: [CivilDate("2027-01-04")!])
        res = try await send(.PUT, "/api/v1/calendar/2027", token: admin, json: bad)
        XCTAssertTrue(try errorBody(res).fields["makeupWorkdays"]?.contains("无需调休") ?? false)
        let good = CalendarStore.YearInput(source: "国务院办公厅关于2027年部分节假日安排的通知", holidays: [CivilDate("2027-01-01")!],
                                           makeupWorkdays: [CivilDate("2027-01-02")!])
        res = try await send(.PUT, "/api/v1/calendar/2027", token: admin, json: good)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/calendar/due?from=2026-12-31&workingDays=1", token: admin)
        let due = try res.content.decode(CalendarController.DueView.self)
        XCTAssertEqual(due.due, "2027-01-02", "the make-up Saturday counts, the holiday does not")
        XCTAssertTrue(due.calendarKnown)
    }
}
