import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #22, item 5: a recorded, repeatable sample of each institution's closed cases, scored on the checklist, sent to
/// the institution and its credit record; an export without personal data; the coverage indicator.
final class QualityReviewTests: AppTestCase {
    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026
    }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func concluded(_ n: Int, clerk: String) async throws -> UUID {
        var res = try await send(.POST, "/api/v1/requests", token: clerk, json: Intake.Input(
            matterType: "consultation", itemCode: nil, category: "labor", channel: nil, description: "劳动合同纠纷咨询 \(n)",
            applicant: .init(name: "王秀英", mobile: "1395559\(String(format: "%04d", n))", idNumber: "11010519491231002X"), priorityGroups: nil,
            regionCode: village.code.rawValue, externalReference: nil, accept: true, answer: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
        let r = try res.content.decode(RequestViews.Detail.self)
        // Handled by an institution: assigned to the centre, then concluded.
        let institution = city.accounts.first { $0.username == "clerk" }!.institutionID!
        try await sql.raw("UPDATE service_requests SET institution_id = \(bind: institution) WHERE id = \(bind: r.id)").run()
        res = try await send(.POST, "/api/v1/requests/\(r.id)/conclude", token: clerk, json: RequestActions.Input(outcome: "answered", summary: "已解答"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        return r.id
    }

    func testASampleIsDrawnByItsRuleScoredOnTheChecklistAndExportedWithoutPersonalData() async throws {
        let clerk = try await token("clerk")
        for n in 0..<30 { _ = try await concluded(n, clerk: clerk) }
        let countyAdmin = try await token("county-admin")
        var res = try await send(.POST, "/api/v1/quality-reviews/samples", token: clerk, json: ["period": "2026-03"])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/quality-reviews/samples", token: countyAdmin, json: ["period": "2026-3"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.POST, "/api/v1/quality-reviews/samples", token: countyAdmin, json: ["period": "2026-03"])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let drawn = try res.content.decode(QualityReviews.DrawResult.self)
        XCTAssertEqual(drawn.candidates, 30)
        XCTAssertEqual(drawn.drawn, 2, "5% of 30, rounded up")
        // Drawn again, the same rule gives the same cases: nothing is added.
        res = try await send(.POST, "/api/v1/quality-reviews/samples", token: countyAdmin, json: ["period": "2026-03"])
        XCTAssertEqual(try res.content.decode(QualityReviews.DrawResult.self).drawn, 0)
        let list = try await send(.GET, "/api/v1/quality-reviews?period=2026-03", token: countyAdmin).content.decode(Paged<QualityReviews.Row>.self)
        XCTAssertEqual(list.total, 2)
        let concludedIDs = try await sql.raw("SELECT id FROM service_requests WHERE status = 'concluded'").all(decodingColumn: "id", as: UUID.self)
        let expected = QualitySample.draw(concludedIDs.map { $0.uuidString }, share: 0.05, seed: drawn.seed)
        XCTAssertEqual(Set(list.items.map { $0.requestId.uuidString }), Set(expected), "anyone can redraw it from the recorded seed")

        let id = list.items[0].id
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/score", token: countyAdmin, json: QualityReviews.ScoreInput(scores: [25, 30, 20, 20]))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["scores"], "第 2 项的分数应为 0–25")
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/score", token: countyAdmin, json: QualityReviews.ScoreInput(scores: [25, 20, 20, 15], comment: "答复依据未注明法条"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let scored = try res.content.decode(QualityReviews.Detail.self)
        XCTAssertEqual(scored.review.total, 80)
        XCTAssertEqual(scored.review.maxTotal, 100)
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/score", token: countyAdmin, json: QualityReviews.ScoreInput(scores: [25, 25, 25, 25]))
        XCTAssertEqual(res.status, .conflict, "scored once")
        // The institution is told; the result is in its credit record, for staff only.
        let told = try await sql.raw("SELECT text FROM notifications WHERE text LIKE '案卷评查结果%'").all(decodingColumn: "text", as: String.self)
        XCTAssertEqual(told.count, 1)
        let credit = try await sql.raw("SELECT kind FROM credit_records").all(decodingColumn: "kind", as: String.self)
        XCTAssertEqual(credit, ["quality_review"])

        // A checklist edited later leaves the scored review as it was scored.
        res = try await send(.PUT, "/api/v1/quality-reviews/checklists/consultation", token: try await token("admin"),
                             json: ["items": [ReviewItem(text: "答复准确", points: 50), ReviewItem(text: "按时办结", points: 50)]])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let again = try await send(.GET, "/api/v1/quality-reviews/\(id)", token: countyAdmin).content.decode(QualityReviews.Detail.self)
        XCTAssertEqual(again.items.count, 4)
        let other = try await send(.GET, "/api/v1/quality-reviews/\(list.items[1].id)", token: countyAdmin).content.decode(QualityReviews.Detail.self)
        XCTAssertEqual(other.items.map { $0.text }, ["答复准确", "按时办结"])

        // The export for a third-party assessor names nobody.
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        let export = try await browser.get("/quality-reviews/export.xlsx?period=2026-03")
        XCTAssertEqual(export.status, .ok)
        let rows = try SheetFile.rows(export.body, width: 10)
        XCTAssertEqual(rows.count, 3, "a header and the two cases")
        let text = rows.flatMap { $0 }.joined(separator: " ")
        XCTAssertFalse(text.contains("王秀英") || text.contains("1395559") || text.contains("劳动合同纠纷咨询") || text.contains("FW"), text)
        XCTAssertTrue(text.contains("法律咨询"))

        // The coverage indicator counts the reviewed case against the concluded ones.
        res = try await send(.GET, "/api/v1/indicators?region=\(county(0).code.rawValue)&year=2026", token: countyAdmin)
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let coverage = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "quality_review_coverage" })
        XCTAssertEqual(coverage.numerator, 1)
        XCTAssertEqual(coverage.denominator, 30)

        // The reviewer's page: the checklist on a tablet, a missing score refused with what was typed kept.
        var page = try await browser.get("/quality-reviews/\(list.items[1].id)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("答复准确"))
        page = try await browser.post("/quality-reviews/\(list.items[1].id)/score", [("score0", "40"), ("score1", ""), ("comment", "需补充")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("value=\"40\"") && page.body.string.contains("需补充"))
    }

    /// A case graded below 良好 is rectified: the reviewer must say what to put right, the institution's own staff report
    /// it within the city's limit (reminded, then escalated), and the reviewer hears of it.
    func testACaseBelowGoodIsRectifiedByTheInstitutionWithinTheLimit() async throws {
        let clerk = try await token("clerk")
        for n in 0..<3 { _ = try await concluded(n, clerk: clerk) }
        let countyAdmin = try await token("county-admin")
        var res = try await send(.POST, "/api/v1/quality-reviews/samples", token: countyAdmin, json: ["period": AnyEncodable("2026-03"), "share": AnyEncodable(1.0)])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let list = try await send(.GET, "/api/v1/quality-reviews?period=2026-03", token: countyAdmin).content.decode(Paged<QualityReviews.Row>.self)
        let id = try XCTUnwrap(list.items.first).id
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/score", token: countyAdmin, json: QualityReviews.ScoreInput(scores: [20, 15, 20, 15]))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["rectification"], "得分 70/100，评为“合格”，请写明整改要求")
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/score", token: countyAdmin,
                             json: QualityReviews.ScoreInput(scores: [20, 15, 20, 15], rectification: "补正答复依据，建立办结前复核"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var d = try res.content.decode(QualityReviews.Detail.self)
        XCTAssertEqual(d.review.status, "rectifying")
        XCTAssertEqual(d.review.gradeName, "合格")
        XCTAssertEqual(d.review.rectifyDue, "2026-03-23", "fifteen working days from Monday 2 March")
        // Scored, it counts as reviewed, whatever the rectification's state.
        res = try await send(.GET, "/api/v1/indicators?region=\(county(0).code.rawValue)&year=2026", token: countyAdmin)
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let coverage = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "quality_review_coverage" })
        XCTAssertEqual(coverage.numerator, 1)

        // Someone else's clerk (the county's legal aid centre) neither sees nor rectifies it; the reviewer does not rectify.
        res = try await send(.GET, "/api/v1/quality-reviews/\(id)", token: try await token("aid"))
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/rectify", token: countyAdmin, json: ["report": "x"])
        XCTAssertEqual(res.status, .forbidden)

        // Past the limit: the institution is told, then the county.
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800 + 24 * 86_400))  // Thursday 26 March
        try await Deadlines.scan(app: app)
        let levels = try await sql.raw("SELECT level FROM deadline_notices WHERE subject_id = \(bind: id) AND step = 'review.rectify' ORDER BY level")
            .all(decodingColumn: "level", as: Int.self)
        XCTAssertEqual(levels, [DeadlineStage.dueSoon, .overdue, .escalated].map(\.rawValue))

        // The institution's clerk reports on the review page; an empty report is refused with the page kept.
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        var page = try await browser.get("/quality-reviews/\(id)")
        XCTAssertTrue(page.body.string.contains("报告整改情况") && page.body.string.contains("补正答复依据"))
        page = try await browser.post("/quality-reviews/\(id)/rectify", [("report", " ")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("请填写整改情况"))
        page = try await browser.post("/quality-reviews/\(id)/rectify", [("report", "已补正答复依据，并建立办结前复核制度")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        d = try await send(.GET, "/api/v1/quality-reviews/\(id)", token: try await token("county-admin")).content.decode(QualityReviews.Detail.self)
        XCTAssertEqual(d.review.status, "rectified")
        XCTAssertEqual(d.review.rectifiedOn, "2026-03-26")
        XCTAssertEqual(d.rectificationReport, "已补正答复依据，并建立办结前复核制度")
        let told = try await sql.raw("SELECT text FROM notifications WHERE text LIKE '案卷评查整改已报告%'").all(decodingColumn: "text", as: String.self)
        XCTAssertEqual(told.count, 1)
        XCTAssertTrue(told[0].hasSuffix("已超过整改期限"), told[0])
        res = try await send(.POST, "/api/v1/quality-reviews/\(id)/rectify", token: try await token("clerk"), json: ["report": "again"])
        XCTAssertEqual(res.status, .conflict)
    }
}
