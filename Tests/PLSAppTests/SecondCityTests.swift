import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Issue #21, item 1: the main journeys on a city whose codes and name share nothing with the demo's (南岭市,
/// 5301…), loaded as data with the demo off. Whatever still assumed 示范市 fails here.
final class SecondCityTests: AppTestCase {
    static let nanling = DemoCity(scale: .small).relocated(toCityPrefix: "5301", name: "南岭市")
    override var city: DemoCity { Self.nanling }
    override var usesDemoCity: Bool { false }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func testTheCityIsReadFromItsRegions() async throws {
        XCTAssertEqual(app.city.code?.rawValue, "530100000000")
        XCTAssertEqual(app.city.name, "南岭市")
        XCTAssertEqual(app.city.smsSignature, "【南岭市公共法律服务】")
        var res = try await send(.GET, "/api/v1/city")
        XCTAssertEqual(try res.content.decode(CityIdentity.self).title, "南岭市公共法律服务网")
        let page = try await send(.GET, "/")
        XCTAssertTrue(page.body.string.contains("南岭市公共法律服务网"))
        XCTAssertFalse(page.body.string.contains("示范市"), "no demo name and no demo banner")

        // The city administrator sets the SMS signature; a malformed one is refused; others may not.
        res = try await send(.PUT, "/api/v1/city", token: try await token("county-admin"), json: ["smsSignature": "【南岭司法】"])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.PUT, "/api/v1/city", token: try await token("admin"), json: ["smsSignature": "南岭司法"])
        XCTAssertNotNil(try errorBody(res).fields["smsSignature"])
        res = try await send(.PUT, "/api/v1/city", token: try await token("admin"), json: ["smsSignature": "【南岭司法】", "title": "南岭法律服务网"])
        XCTAssertEqual(try res.content.decode(CityIdentity.self).smsSignature, "【南岭司法】")
        XCTAssertEqual(app.city.title, "南岭法律服务网")
    }

    func testACitizenSignsUpAndEveryChannelTakesMatters() async throws {
        // Sign-up by SMS code: the message carries the city's signature, the account belongs to the city.
        let mobile = "13912340000"
        var res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        XCTAssertEqual(res.status, .accepted, res.body.string)
        let text = try app.personalData.open(try await SmsMessage.query(on: app.db).sort(\.$createdAt, .descending).first()!.text)
        XCTAssertTrue(text.hasPrefix("【南岭市公共法律服务】"), text)
        res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": String(text.filter(\.isNumber).prefix(6))])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let citizen = try res.content.decode(AuthController.TokenResponse.self).token
        let account = try await Account.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash(mobile)).first()
        XCTAssertEqual(account?.regionCode, "530100000000")

        func input(_ mobile: String, id: String? = nil) -> Intake.Input {
            Intake.Input(matterType: "consultation", itemCode: nil, category: "labor", channel: nil, description: "公司拖欠工资三个月",
                         applicant: .init(name: "李秀英", mobile: mobile, idNumber: id), priorityGroups: nil,
                         regionCode: village.code.rawValue, externalReference: nil, accept: nil, answer: nil)
        }
        res = try await send(.POST, "/api/v1/requests", token: citizen, json: input(mobile))
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await send(.POST, "/api/v1/requests", token: try await token("operator"), json: input("13912340001"))
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await send(.POST, "/api/v1/requests", token: try await token("clerk"), json: input("13912340002", id: "11010519491231002X"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let atWindow = try res.content.decode(RequestViews.Detail.self)
        XCTAssertTrue(atWindow.regionName.contains(village.name))

        // Dispatch: candidates from the county and the city's own institutions, then the assigned lawyer is told by SMS.
        res = try await send(.GET, "/api/v1/requests/\(atWindow.id)/candidates", token: try await token("clerk"))
        let candidates = try res.content.decode([Dispatch.Candidate].self)
        XCTAssertFalse(candidates.isEmpty)
        res = try await send(.POST, "/api/v1/requests/\(atWindow.id)/assign", token: try await token("clerk"),
                             json: RequestActions.Input(practitionerId: candidates[0].practitionerId))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let texts = try await SmsMessage.query(on: app.db).all().map { try app.personalData.open($0.text) }
        XCTAssertTrue(texts.allSatisfy { $0.hasPrefix("【南岭市公共法律服务】") }, "\(texts)")
        XCTAssertFalse(texts.contains { $0.contains("示范市") })
    }

    func testALegalAidCaseWithItsPrintedNoticeAndAMediationCase() async throws {
        let res0 = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        let citizen = try res0.content.decode(AuthController.TokenResponse.self).token
        var res = try await send(.POST, "/api/v1/legal-aid/applications", token: citizen, json: LegalAidCases.ApplicationInput(
            matter: "labor_relationship_or_pay", kind: nil, category: nil, description: "建筑公司拖欠工资八个月",
            applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile, idNumber: "11010519491231002X"), regionCode: village.code.rawValue,
            householdSize: 3, householdMonthlyIncome: 1000, statuses: [], pledge: true, priorityGroups: nil, channel: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try res.content.decode(LegalAidController.CaseDetail.self)
        XCTAssertTrue(c.legalAid.centreName?.contains("法律援助中心") == true, "the county's centre found without the demo's codes")
        let aid = try await token("aid")
        res = try await send(.POST, "/api/v1/legal-aid/cases/\(c.request.id)/decision", token: aid, json: LegalAidCases.StepInput(grant: true, reason: "符合经济困难标准"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var browser = BrowserSession(self)
        try await browser.signIn("aid")
        let notice = try await browser.get("/legal-aid/cases/\(c.request.id)/notices/grant")
        XCTAssertEqual(notice.status, .ok)
        let countyName = self.county(0).name
        XCTAssertTrue(notice.body.string.contains("\(CityIdentity.shortName(countyName))援〔"), "the centre's place names the document number")
        XCTAssertFalse(notice.body.string.contains("示范市"))
        // A centre sets its own prefix.
        let centreRegion = self.county(0).code
        let centre = city.institutions.first { $0.type == .legalAidCentre && $0.region == centreRegion }!
        var admin = BrowserSession(self)
        try await admin.signIn("admin")
        let edited = try await admin.post("/admin/institutions/\(centre.id)/edit", [
            ("type", "legal_aid_centre"), ("name", centre.name), ("regionCode", centre.region.rawValue), ("address", centre.address),
            ("phone", centre.phone), ("openingHours", centre.openingHours), ("documentPrefix", "岭法")])
        XCTAssertEqual(edited.status, .seeOther, edited.body.string)
        let renumbered = try await browser.get("/legal-aid/cases/\(c.request.id)/notices/grant").body.string
        XCTAssertTrue(renumbered.contains("岭法援〔"), "the centre's own prefix")

        // A mediation case at a village of the city.
        res = try await send(.POST, "/api/v1/mediation/cases", token: try await token("admin"), json: MediationCases.CaseInput(
            source: "application", listeningPointId: nil, committeeId: nil, category: "neighbourhood",
            description: "两户因排水沟发生争执", regionCode: village.code.rawValue,
            parties: [.init(side: "applicant", kind: "person", name: "张桂芳", mobile: "13900000021"),
                      .init(side: "respondent", kind: "person", name: "李建国", mobile: nil)],
            amount: nil, peopleInvolved: nil, channel: nil, externalReference: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
    }

    func testIndicatorsWithTheCountySwitcher() async throws {
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/indicators", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let report = try res.content.decode(IndicatorController.Report.self)
        XCTAssertFalse(report.items.isEmpty)
        res = try await send(.GET, "/api/v1/indicators?region=\(county(1).code.rawValue)", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let page = try await browser.get("/admin/indicators")
        XCTAssertEqual(page.status, .ok)
        for c in city.regions.filter({ $0.level == .county }) {
            XCTAssertTrue(page.body.string.contains("<option value=\"\(c.code.rawValue)\""), "the switcher offers \(c.name)")
        }
        XCTAssertTrue(page.body.string.contains("南岭市"))
        let dashboard = try await browser.get("/admin")
        XCTAssertEqual(dashboard.status, .ok)
        let regionsPage = try await browser.get("/admin/regions")
        XCTAssertEqual(regionsPage.status, .ok)
    }
}

/// Issue #21, item 1: outside the demo's own files, the code never names the demo city.
final class NoDemoCityInTheCodeTests: XCTestCase {
    func testOnlyTheDemoNamesTheDemoCity() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources/PLSApp")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        XCTAssertGreaterThan(files.count, 50)
        var offenders: [String] = []
        for file in files {
            let path = file.path.replacingOccurrences(of: sources.path + "/", with: "")
            // The demo's folder and each capability's demo data (`X+Demo.swift`) are where the demo city belongs.
            if path.hasPrefix("Demo/") || path.hasSuffix("+Demo.swift") { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            // `DemoCity` as a name of its own (`holdsDemoCity` asks whether a database is the demo's, which is no assumption).
            if text.range(of: #"(?<![A-Za-z])DemoCity\b"#, options: .regularExpression) != nil { offenders.append("\(path): DemoCity") }
            for needle in ["示范市", "349900"] where text.contains(needle) { offenders.append("\(path): \(needle)") }
        }
        XCTAssertEqual(offenders, [])
    }
}
