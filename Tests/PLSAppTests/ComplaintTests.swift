import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Issue #22, items 4 and 6: complaints handled by the supervising county within their limits, decided in writing; an
/// upheld one goes into the credit record, which the public looks up by name or licence (public entries only).
final class ComplaintTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    let monday = Date(timeIntervalSince1970: 1_772_416_800)
    func day(_ n: Int) -> Date { monday.addingTimeInterval(Double(n) * 86_400) }

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    /// The demo lawyer: a practitioner of a firm in the first county.
    var lawyer: DemoCity.Account { city.accounts.first { $0.username == "lawyer" }! }

    func complaint(_ body: [String: AnyEncodable], token: String) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/complaints", token: token, json: body)
    }

    func step(_ id: UUID, _ name: String, _ body: [String: AnyEncodable], token: String) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/complaints/\(id)/\(name)", token: token, json: body)
    }

    func testAComplaintIsRegisteredWithItsLimitsAndDecidedByTheCountyInWriting() async throws {
        let op = try await token("operator")
        var res = try await complaint(["kind": .init("conduct"), "content": .init("")], token: op)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["content", "name", "mobile", "institutionId"])
        res = try await complaint(["kind": .init("conduct"), "practitionerId": .init(lawyer.practitionerID!), "name": .init("赵大明"),
                                   "mobile": .init("13955570001"), "content": .init("律师收费后未按约定出庭")], token: op)
        XCTAssertEqual(res.status, .created, res.body.string)
        var c = try res.content.decode(Complaints.View.self)
        XCTAssertEqual(c.channel, "hotline")
        XCTAssertEqual(c.status, "registered")
        XCTAssertEqual(c.acceptDue, "2026-03-16", "ten working days")
        XCTAssertEqual(c.complainantMobile, "139****0001")
        XCTAssertTrue(c.number.hasPrefix("TS20260302-"))
        // The contract: GET carries both limits.
        let county = try await token("county-admin")
        res = try await send(.GET, "/api/v1/complaints/\(c.id)", token: county)
        XCTAssertEqual(res.status, .ok)
        let json = try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as? [String: Any]
        XCTAssertEqual(json?["acceptDue"] as? String, "2026-03-16")
        XCTAssertNotNil(json?["decisionDue"] as? String)
        // Only the supervising county handles it; the operator who registered it does not decide.
        res = try await step(c.id, "accept", [:], token: op)
        XCTAssertEqual(res.status, .forbidden)
        res = try await step(c.id, "decide", ["upheld": .init(true), "finding": .init("x")], token: county)
        XCTAssertEqual(res.status, .conflict, "accept first")

        // Missing material stops the acceptance clock, once.
        res = try await step(c.id, "request-material", ["note": .init("委托合同复印件")], token: county)
        XCTAssertEqual(try res.content.decode(Complaints.View.self).status, "awaiting_material")
        res = try await step(c.id, "request-material", ["note": .init("again")], token: county)
        XCTAssertEqual(res.status, .conflict)
        app.clock.set(day(3))
        let county2 = try await token("county-admin")
        res = try await step(c.id, "material-received", [:], token: county2)
        c = try res.content.decode(Complaints.View.self)
        XCTAssertEqual(c.acceptDue, "2026-03-19", "three working days (3, 4 and 5 March) added")
        res = try await step(c.id, "accept", [:], token: county2)
        c = try res.content.decode(Complaints.View.self)
        XCTAssertEqual(c.status, "investigating")
        XCTAssertEqual(c.decisionDue, "2026-05-06", "sixty days from 5 March is 4 May, in the May Day holiday: the 6th")
        res = try await step(c.id, "statement", ["party": .init("respondent"), "text": .init("因法院改期未能出庭，已告知当事人")], token: county2)
        XCTAssertEqual(try res.content.decode(Complaints.View.self).statements.map(\.partyName), ["被投诉人"])
        res = try await step(c.id, "extend", ["reason": .init("需调取法院庭审记录")], token: county2)
        XCTAssertEqual(try res.content.decode(Complaints.View.self).decisionDue, "2026-06-03")
        res = try await step(c.id, "extend", ["reason": .init("again")], token: county2)
        XCTAssertEqual(res.status, .conflict, "one extension")
        res = try await step(c.id, "decide", ["upheld": .init(true), "finding": .init("经查，律师未按约定出庭，责令退还部分费用并予以批评教育")], token: county2)
        c = try res.content.decode(Complaints.View.self)
        XCTAssertEqual(c.status, "decided")
        XCTAssertEqual(c.upheld, true)
        // Told in writing: an SMS, and the letter page to print.
        let texts = try await SmsMessage.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash("13955570001")).all()
            .map { try app.personalData.open($0.text) }
        XCTAssertTrue(texts.contains { $0.contains(c.number) && $0.contains("投诉成立") }, "\(texts)")
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        let letter = try await browser.get("/complaints/\(c.id)/letter")
        XCTAssertEqual(letter.status, .ok)
        XCTAssertTrue(letter.body.string.contains("投诉处理告知书") && letter.body.string.contains("赵大明") && letter.body.string.contains("责令退还部分费用"))

        // The upheld complaint is in the lawyer's credit record: staff see it, the public does not (not a published kind).
        let staffView = try await send(.GET, "/api/v1/credit?q=\(lawyer.displayName.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                                       token: try await token("admin")).content.decode(CreditController.Lookup.self)
        XCTAssertEqual(staffView.items.map(\.kind), ["upheld_complaint"])
        let publicView = try await send(.GET, "/api/v1/credit?q=\(lawyer.displayName.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            .content.decode(CreditController.Lookup.self)
        XCTAssertEqual(publicView.total, 0)
    }

    /// A complaint about an institution, with no matter of the complainant's behind it, is watched like a request's steps:
    /// the county is reminded before the acceptance limit and told again after it, once per level however often the
    /// watch runs.
    func testTheAcceptanceLimitOfAComplaintWithoutAMatterIsWatched() async throws {
        let institution = try await sql.raw("SELECT institution_id FROM practitioners WHERE id = \(bind: lawyer.practitionerID!)")
            .first(decodingColumn: "institution_id", as: UUID.self)!
        let res = try await complaint(["kind": .init("conduct"), "institutionId": .init(institution), "name": .init("钱多多"),
                                       "mobile": .init("13955570002"), "content": .init("前台人员态度恶劣")], token: try await token("operator"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try res.content.decode(Complaints.View.self)
        XCTAssertEqual(c.acceptDue, "2026-03-16")
        func levels() async throws -> [Int] {
            try await sql.raw("SELECT level FROM deadline_notices WHERE subject_id = \(bind: c.id) AND step = 'complaint.accept' ORDER BY level")
                .all(decodingColumn: "level", as: Int.self)
        }
        app.clock.set(day(13))  // Sunday 15 March: due on the next working day
        try await Deadlines.scan(app: app)
        var told = try await levels()
        XCTAssertEqual(told, [DeadlineStage.dueSoon.rawValue])
        app.clock.set(day(16))  // Wednesday 18 March: two working days past
        try await Deadlines.scan(app: app)
        try await Deadlines.scan(app: app)
        told = try await levels()
        XCTAssertEqual(told, [DeadlineStage.dueSoon, .overdue, .escalated].map(\.rawValue), "each level once")
        let countyAdmin = try XCTUnwrap(city.accounts.first { $0.username == "county-admin" })
        let texts = try await sql.raw("SELECT n.text FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE a.username = \(bind: countyAdmin.username)")
            .all(decodingColumn: "text", as: String.self).filter { $0.contains(c.number) }
        XCTAssertTrue(texts.contains { $0.hasPrefix("到期提醒：投诉 \(c.number)") && $0.contains("投诉受理") }, "\(texts)")
        XCTAssertTrue(texts.contains { $0.hasPrefix("超期督办：投诉 \(c.number)") }, "\(texts)")
        XCTAssertEqual(texts.filter { $0.contains("“投诉受理”") }.count, 2, "reminded, then escalated (the county takes the step itself): \(texts)")
    }

    func testTheCreditLookupShowsPublishedEntriesForTheirPeriodOnly() async throws {
        let admin = try await token("admin")
        let licence = try await sql.raw("SELECT licence_number FROM practitioners WHERE id = \(bind: lawyer.practitionerID!)")
            .first(decodingColumn: "licence_number", as: String.self)!
        for (kind, title, until) in [("commendation", "全市优秀律师", "2027-03-01"), ("professional_sanction", "通报批评", "2026-03-01"),
                                     ("administrative_penalty", "警告", "")] {
            let res = try await send(.POST, "/api/v1/credit", token: admin, json: [
                "subject": AnyEncodable("practitioner"), "subjectId": AnyEncodable(lawyer.practitionerID!), "kind": AnyEncodable(kind),
                "title": AnyEncodable(title), "documentNumber": AnyEncodable("示司罚〔2026〕1号"), "decidedOn": AnyEncodable("2026-01-10"),
                "publicUntil": AnyEncodable(until)])
            XCTAssertEqual(res.status, .created, res.body.string)
        }
        let bad = try await send(.POST, "/api/v1/credit", token: try await token("clerk"), json: ["subject": AnyEncodable("practitioner")])
        XCTAssertEqual(bad.status, .forbidden)
        // Anonymous, by licence number: the commendation in its period; the sanction's period ended yesterday; the
        // penalty was never published.
        var res = try await send(.GET, "/api/v1/credit?q=\(licence)")
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(CreditController.Lookup.self).items.map(\.title), ["全市优秀律师"])
        res = try await send(.GET, "/api/v1/credit?q=\(licence)", token: try await token("auditor"))
        XCTAssertEqual(try res.content.decode(CreditController.Lookup.self).total, 3)
        res = try await send(.GET, "/api/v1/credit?q=")
        XCTAssertEqual(res.status, .unprocessableEntity)
        // The public page.
        var browser = BrowserSession(self)
        let page = try await browser.get("/credit?q=\(licence)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("全市优秀律师"))
        XCTAssertFalse(page.body.string.contains("通报批评"))
    }

    func testTheBureauEntersARecordOnTheLookupPageWithItsDocument() async throws {
        let licence = try await sql.raw("SELECT licence_number FROM practitioners WHERE id = \(bind: lawyer.practitionerID!)")
            .first(decodingColumn: "licence_number", as: String.self)!
        let pdf = Array("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        var page = try await browser.get("/credit")
        XCTAssertTrue(page.body.string.contains("录入信用记录") && page.body.string.contains("enctype=\"multipart/form-data\""))
        page = try await browser.postMultipart("/credit", [("subject", licence), ("kind", "commendation"), ("title", ""), ("decidedOn", "2026-02-01"),
                                                           ("publicUntil", "2027-02-01")], files: [])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("2027-02-01"), "what was typed is kept")
        // A file that is not a document is refused, and nothing is written.
        page = try await browser.postMultipart("/credit", [("subject", licence), ("kind", "commendation"), ("title", "优秀公益律师"), ("decidedOn", "2026-02-01")],
                                               files: [("document", "决定.pdf", Array("<html>".utf8))])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("文书只能是 PDF、JPG 或 PNG 文件") && page.body.string.contains("优秀公益律师"))
        var count = try await sql.raw("SELECT COUNT(*) AS n FROM credit_records").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(count, 0)
        page = try await browser.postMultipart("/credit", [("subject", licence), ("kind", "commendation"), ("title", "优秀公益律师"),
                                                           ("documentNumber", "示司〔2026〕3号"), ("decidedOn", "2026-02-01"), ("publicUntil", "2027-02-01")],
                                               files: [("document", "表彰决定.pdf", pdf)])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        let lookup = try await send(.GET, "/api/v1/credit?q=\(licence)").content.decode(CreditController.Lookup.self)
        XCTAssertEqual(lookup.items.map(\.title), ["优秀公益律师"])
        let url = try XCTUnwrap(lookup.items.first?.documentUrl)
        // The public reads the published document.
        var anonymous = BrowserSession(self)
        var file = try await anonymous.get(url)
        XCTAssertEqual(file.status, .ok)
        XCTAssertEqual(file.headers.contentType, .pdf)
        XCTAssertEqual(Array(file.body.readableBytesView), pdf)

        // An unpublished penalty, its document attached by the API afterwards: staff only.
        let admin = try await token("admin")
        var res = try await send(.POST, "/api/v1/credit", token: admin, json: [
            "subject": AnyEncodable("practitioner"), "subjectId": AnyEncodable(lawyer.practitionerID!), "kind": AnyEncodable("administrative_penalty"),
            "title": AnyEncodable("警告"), "decidedOn": AnyEncodable("2026-02-10")])
        XCTAssertEqual(res.status, .created, res.body.string)
        struct Created: Decodable { var id: UUID }
        let penalty = try res.content.decode(Created.self).id
        res = try await upload(Array("not a pdf".utf8), as: "text/plain", to: "/api/v1/credit/\(penalty)/document", token: admin)
        XCTAssertEqual(res.status.code / 100, 4)
        res = try await app.testable().sendRequest(.POST, "/api/v1/credit/\(penalty)/document",
                                                   headers: ["Content-Type": "multipart/form-data; boundary=b1"],
                                                   body: ByteBuffer(string: "--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"警告.pdf\"\r\n\r\n"
                                                                    + String(decoding: pdf, as: UTF8.self) + "\r\n--b1--\r\n")) { req async throws in
            req.headers.bearerAuthorization = BearerAuthorization(token: admin)
        }
        XCTAssertEqual(res.status, .created, res.body.string)
        file = try await anonymous.get("/credit/\(penalty)/document")
        XCTAssertEqual(file.status, .notFound, "not published")
        file = try await browser.get("/credit/\(penalty)/document")
        XCTAssertEqual(file.status, .ok)
        count = try await sql.raw("SELECT COUNT(*) AS n FROM credit_records WHERE document_sha256 IS NOT NULL").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(count, 2)

        // Nobody else enters records.
        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        page = try await clerk.get("/credit")
        XCTAssertFalse(page.body.string.contains("录入信用记录"))
        page = try await clerk.postMultipart("/credit", [("subject", licence), ("kind", "commendation"), ("title", "x"), ("decidedOn", "2026-02-01")], files: [])
        XCTAssertEqual(page.status, .forbidden)
        res = try await upload(pdf, as: "application/pdf", to: "/api/v1/credit/\(penalty)/document", token: try await token("clerk"))
        XCTAssertEqual(res.status, .forbidden)
    }

    func testACitizenComplainsOnlineAndSeesOnlyTheirOwn() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/login/citizen")
        _ = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        var page = try await browser.get("/complaints/new")
        XCTAssertEqual(page.status, .ok)
        XCTAssertFalse(page.body.string.contains("投诉人手机号码"), "the person's own number, verified at sign-in")
        page = try await browser.post("/complaints/new", [("kind", "service"), ("respondent", "不存在的机构"), ("content", "服务态度差")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("未找到“不存在的机构”") && page.body.string.contains("服务态度差"), "the message, and what was typed kept")
        let licence = try await sql.raw("SELECT licence_number FROM practitioners WHERE id = \(bind: lawyer.practitionerID!)")
            .first(decodingColumn: "licence_number", as: String.self)!
        page = try await browser.post("/complaints/new", [("kind", "service"), ("respondent", licence), ("content", "服务态度差")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        let location = page.headers.first(name: .location) ?? ""
        page = try await browser.get(String(location.split(separator: "?").first ?? ""))
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains(lawyer.displayName))
        XCTAssertFalse(page.body.string.contains("cp-finding"), "no step forms for the complainant")
        // Another citizen, or a practitioner elsewhere, sees none of it.
        let other = try await send(.GET, "/api/v1/complaints", token: try await token("adviser"))
        XCTAssertEqual(try other.content.decode(Paged<Complaints.View>.self).total, 0)
    }
}
