import XCTVapor
import SQLKit
import PLSDomain
import Spreadsheets
@testable import PLSApp

/// The rule-of-law rosters through the real routes: entries checked per kind, coverage indicators that move,
/// all-or-nothing import, export that imports back, and the county's scope.
final class RosterTests: AppTestCase {
    func indicator(_ id: String) async throws -> IndicatorRegistry.Result {
        let res = try await send(.GET, "/api/v1/indicators?region=\(DemoCity.cityCode.rawValue)&year=2026", token: try await token("admin"))
        return try XCTUnwrap(try res.content.decode(IndicatorController.Report.self).items.first { $0.id == id })
    }

    func testLegalUnderstandersMoveTheirCoverage() async throws {
        let admin = try await token("admin")
        let before = try await indicator("legal_understander_coverage")
        XCTAssertEqual(before.denominator, city.regions.filter { $0.level == .naturalVillage }.count)
        XCTAssertEqual(before.met, false, "the demo city leaves some natural villages short")
        // A natural village with only two understanders gets its third.
        let short = try await sql.raw("""
            SELECT region_code FROM grassroots_rosters WHERE kind = 'legal_understander' AND end_on IS NULL GROUP BY region_code HAVING COUNT(*) < 3
            """).first(decodingColumn: "region_code", as: String.self)
        let code = try XCTUnwrap(short)
        var res = try await send(.POST, "/api/v1/rosters/legal_understander", token: admin, json: ["regionCode": code, "name": "王秀英"])
        XCTAssertEqual(res.status, .created, res.body.string)
        let after = try await indicator("legal_understander_coverage")
        XCTAssertEqual(after.numerator, (before.numerator ?? 0) + 1)

        // Each kind hangs on its own kind of place.
        let village = city.regions.first { $0.level == .village && $0.kind == .community }!
        res = try await send(.POST, "/api/v1/rosters/legal_understander", token: admin, json: ["regionCode": village.code.rawValue, "name": "李"])
        XCTAssertEqual(try errorBody(res).fields["regionCode"], "请填写自然村代码")
        res = try await send(.POST, "/api/v1/rosters/rule_of_law_leader", token: admin, json: ["regionCode": village.code.rawValue, "name": "李"])
        XCTAssertTrue(try errorBody(res).fields["regionCode"]?.contains("行政村") == true)
        res = try await send(.POST, "/api/v1/rosters/school_counsellor", token: admin, json: ["institutionId": UUID().uuidString, "name": "李"])
        XCTAssertNotNil(try errorBody(res).fields["institutionId"])
        res = try await send(.POST, "/api/v1/rosters/no_such_roster", token: admin, json: ["name": "李"])
        XCTAssertEqual(res.status, .notFound)

        // A county admin keeps to their county; a lawyer does not edit rosters.
        let elsewhere = city.regions.first { $0.level == .naturalVillage && !$0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }!
        res = try await send(.POST, "/api/v1/rosters/legal_understander", token: try await token("county-admin"), json: ["regionCode": elsewhere.code.rawValue, "name": "张"])
        XCTAssertNotNil(try errorBody(res).fields["regionCode"])
        res = try await send(.POST, "/api/v1/rosters/legal_understander", token: try await token("lawyer"), json: ["regionCode": code, "name": "张"])
        XCTAssertEqual(res.status, .forbidden)
    }

    func testSchoolsAndGovernmentBodiesAndTheirSpreadsheets() async throws {
        let admin = try await token("admin")
        let school = city.institutions.first { $0.type == .school }!
        let body = city.institutions.first { $0.type == .governmentBody }!
        let naturalVillage = city.regions.first { $0.level == .naturalVillage }!
        // One good row and one bad one: nothing imported, the bad row named.
        let bad = "place,name,detail,partner,start_on\n\(naturalVillage.code.rawValue),赵明,,,2026-01-05\n\(school.id.uuidString),钱亮,,,2026-01-05\n"
        let count = { () async throws -> Int in try await self.sql.raw("SELECT COUNT(*) AS n FROM grassroots_rosters").first(decodingColumn: "n", as: Int.self) ?? 0 }
        let before = try await count()
        var res = try await send(.POST, "/api/v1/rosters/legal_understander/import", token: admin, headers: ["Content-Type": "text/csv"], body: bad)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Array(try errorBody(res).fields.keys), ["line 3"])
        let unchanged = try await count()
        XCTAssertEqual(unchanged, before)

        res = try await send(.POST, "/api/v1/rosters/school_counsellor", token: admin, json: ["institutionId": school.id.uuidString, "name": "孙丽", "detail": "城关派出所"])
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await send(.POST, "/api/v1/rosters/government_adviser", token: admin, json: ["institutionId": body.id.uuidString, "name": "周律师", "detail": "个人"])
        XCTAssertEqual(res.status, .created, res.body.string)
        let schools = try await indicator("school_counsellor_coverage")
        XCTAssertEqual(schools.denominator, city.institutions.filter { $0.type == .school }.count)
        let bodies = try await indicator("government_adviser_coverage")
        XCTAssertEqual(bodies.denominator, city.institutions.filter { $0.type == .governmentBody }.count,
                       "the demo city's bodies are all ones the plan names: committees, governments, enforcement departments")

        // The export imports back as it is.
        res = try await send(.GET, "/api/v1/rosters/school_counsellor/export.csv", token: admin)
        XCTAssertEqual(res.body.getBytes(at: 0, length: 3), [0xEF, 0xBB, 0xBF])
        let exported = CSVTable.parse(String(decoding: res.body.readableBytesView, as: UTF8.self))
        XCTAssertEqual(exported.first, Rosters.columns)
        XCTAssertTrue(exported.contains([school.id.uuidString, "孙丽", "城关派出所", "", CivilDate(app.clock.now).description]))
        let back = try await send(.POST, "/api/v1/rosters/school_counsellor/import", token: admin, headers: ["Content-Type": "text/csv"],
                                  body: String(decoding: res.body.readableBytesView, as: UTF8.self))
        XCTAssertEqual(back.status, .created, back.body.string)
        XCTAssertEqual(try back.content.decode(VillageAdvisers.ImportResult.self).imported, exported.count - 1)

        // The same as an Excel workbook: it opens, holds the same rows, and imports back.
        res = try await send(.GET, "/api/v1/rosters/school_counsellor/export.xlsx", token: admin)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(res.headers.contentType?.serialize(), XLSX.contentType)
        XCTAssertTrue(res.headers.first(name: .contentDisposition)?.contains("school_counsellor.xlsx") == true)
        let workbook = Data(res.body.readableBytesView)
        let sheet = try XLSX.read(workbook)
        // The CSV was imported back once, so every row now stands twice.
        XCTAssertEqual(sheet.first, Rosters.columns)
        XCTAssertEqual(Set(sheet.dropFirst()), Set(exported.dropFirst()))
        XCTAssertEqual(sheet.count - 1, 2 * (exported.count - 1))
        let beforeXLSX = try await count()
        let fromExcel = try await upload(workbook, as: XLSX.contentType, to: "/api/v1/rosters/school_counsellor/import", token: admin)
        XCTAssertEqual(fromExcel.status, .created, fromExcel.body.string)
        let afterXLSX = try await count()
        XCTAssertEqual(afterXLSX, beforeXLSX + sheet.count - 1)
        // A workbook with a bad row imports nothing and names the row as Excel numbers it.
        let badBook = try XLSX.write(sheet: "s", rows: [Rosters.columns.map { .text($0) }, [.text(naturalVillage.code.rawValue), .text("赵明")],
                                                        [.text(school.id.uuidString), .text("")]])
        let rejected = try await upload(badBook, as: XLSX.contentType, to: "/api/v1/rosters/legal_understander/import", token: admin)
        XCTAssertEqual(rejected.status, .unprocessableEntity)
        XCTAssertEqual(Array(try errorBody(rejected).fields.keys), ["line 3"])
        let afterRejected = try await count()
        XCTAssertEqual(afterRejected, afterXLSX)
        // A zip that is not a workbook is told apart from a CSV.
        let notABook = try await upload([0x50, 0x4B, 0x03, 0x04, 0, 0], as: XLSX.contentType, to: "/api/v1/rosters/legal_understander/import", token: admin)
        XCTAssertEqual(notABook.status, .unprocessableEntity)
        XCTAssertTrue(try errorBody(notABook).fields["file"]?.contains(".xlsx") == true)
    }

    func testGovernmentBodiesAreMarkedByKindAndWhetherThePlanExpectsAnAdviser() async throws {
        let admin = try await token("admin")
        let before = try await indicator("government_adviser_coverage")
        // A department without heavy enforcement duties is registered but not expected to retain an adviser.
        var res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "government_body", name: "示范市档案馆", regionCode: DemoCity.cityCode.rawValue, address: "示范市人民路2号", phone: "0550-1234500",
            bodyKind: "department", enforcementHeavy: false))
        XCTAssertEqual(res.status, .created, res.body.string)
        var body = try res.content.decode(InstitutionController.Row.self)
        XCTAssertEqual(body.adviserExpected, false)
        var now = try await indicator("government_adviser_coverage")
        XCTAssertEqual(now.denominator, before.denominator)
        // Marked as a department with heavy enforcement duties, it counts, and falls short until it has one.
        res = try await send(.PUT, "/api/v1/institutions/\(body.id)", token: admin, json: InstitutionController.Input(
            type: "government_body", name: "示范市应急管理局", regionCode: DemoCity.cityCode.rawValue, address: "示范市人民路2号", phone: "0550-1234500",
            bodyKind: "department", enforcementHeavy: true))
        body = try res.content.decode(InstitutionController.Row.self)
        XCTAssertEqual(body.adviserExpected, true)
        now = try await indicator("government_adviser_coverage")
        XCTAssertEqual(now.denominator, (before.denominator ?? 0) + 1)
        XCTAssertEqual(now.numerator, before.numerator)
        // A body's kind is required; a town's department is not one the plan names.
        res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "government_body", name: "某机关", regionCode: DemoCity.cityCode.rawValue, address: "示范市人民路3号", phone: "0550-1234501"))
        XCTAssertNotNil(try errorBody(res).fields["bodyKind"])
        let town = city.regions.first { $0.level == .town }!
        res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "government_body", name: "\(town.name)城管中队", regionCode: town.code.rawValue, address: "镇政府院内", phone: "0550-1234502",
            bodyKind: "department", enforcementHeavy: true))
        XCTAssertEqual(try res.content.decode(InstitutionController.Row.self).adviserExpected, false)
        let listed = try await send(.GET, "/api/v1/institutions?type=government_body&adviserExpected=false", token: admin)
        XCTAssertEqual(Set(try listed.content.decode(Paged<InstitutionController.Row>.self).items.map(\.name)), ["\(town.name)城管中队"])
    }

    func testBodiesRegisteredBeforeKindsAreMarkedFromTheirNames() async throws {
        // The migration reverts cleanly and, run on bodies without marks, marks them as the demo city's own rule does.
        // One connection: another SQLite connection's cached schema would still show the dropped columns.
        try await app.db.withConnection { db in
            try await M016MarkGovernmentBodies().revert(on: db)
            try await M016MarkGovernmentBodies().prepare(on: db)
        }
        struct B: Decodable { var id: UUID; var bodyKind: String?; var enforcementHeavy: Bool?; var adviserExpected: Bool? }
        let rows = try await sql.raw("SELECT id, body_kind, enforcement_heavy, adviser_expected FROM institutions WHERE type = 'government_body'")
            .all(decoding: B.self, keyDecodingStrategy: .convertFromSnakeCase)
        let demo = Dictionary(uniqueKeysWithValues: city.institutions.filter { $0.type == .governmentBody }.map { ($0.id, $0) })
        XCTAssertEqual(rows.count, demo.count)
        for r in rows {
            let d = try XCTUnwrap(demo[r.id])
            XCTAssertEqual(r.bodyKind, d.bodyKind?.rawValue, d.name)
            XCTAssertEqual(r.enforcementHeavy, d.enforcementHeavy, d.name)
            XCTAssertEqual(r.adviserExpected, true, d.name)
        }
        XCTAssertTrue(rows.contains { $0.bodyKind == "party_committee" } && rows.contains { $0.bodyKind == "government" })
    }

    func testSchoolsAreMarkedByKindAndOnlyCentralAndCityLevelSchoolsCountForACounsellor() async throws {
        let admin = try await token("admin")
        let before = try await indicator("school_counsellor_coverage")
        let village = city.regions.first { $0.level == .village }!
        // A village school, its kind left to the name: registered, but not one the plan names (二(四)).
        var res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "school", name: "\(village.name)小学", regionCode: village.code.rawValue, address: "村委会旁", phone: "0550-1234600"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let villageSchool = try res.content.decode(InstitutionController.Row.self)
        XCTAssertEqual(villageSchool.schoolKind, "other")
        var now = try await indicator("school_counsellor_coverage")
        XCTAssertEqual(now.denominator, before.denominator)
        // Marked a central school, it counts and falls short until it has a counsellor.
        res = try await send(.PUT, "/api/v1/institutions/\(villageSchool.id)", token: admin, json: InstitutionController.Input(
            type: "school", name: "\(village.name)小学", regionCode: village.code.rawValue, address: "村委会旁", phone: "0550-1234600",
            schoolKind: "central"))
        XCTAssertEqual(try res.content.decode(InstitutionController.Row.self).schoolKind, "central")
        now = try await indicator("school_counsellor_coverage")
        XCTAssertEqual(now.denominator, (before.denominator ?? 0) + 1)
        XCTAssertEqual(now.numerator, before.numerator)
        // An unknown kind is named; other institutions carry none.
        res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "school", name: "某学校", regionCode: village.code.rawValue, address: "村里", phone: "0550-1234601", schoolKind: "key_school"))
        XCTAssertEqual(try errorBody(res).fields["schoolKind"], "学校类别取值无效")
        res = try await send(.POST, "/api/v1/institutions", token: admin, json: InstitutionController.Input(
            type: "law_firm", name: "某律师事务所", regionCode: village.code.rawValue, address: "村里", phone: "0550-1234602", schoolKind: "central"))
        XCTAssertNil(try res.content.decode(InstitutionController.Row.self).schoolKind)
        let listed = try await send(.GET, "/api/v1/institutions?type=school&schoolKind=central&q=\(village.name)", token: admin)
        XCTAssertEqual(try listed.content.decode(Paged<InstitutionController.Row>.self).items.map(\.id), [villageSchool.id])
        // The page says what the kind means for the plan.
        var browser = BrowserSession(self)
        try await browser.signIn("admin")
        let page = try await browser.get("/admin/institutions/\(villageSchool.id)")
        XCTAssertTrue(page.body.string.contains("中心校（实施方案要求配备法治辅导员"), page.body.string)

        // Schools registered before kinds were kept are marked from their names and regions as the demo's loader marks them.
        try await app.db.withConnection { db in
            try await M027MarkSchoolKinds().revert(on: db)
            try await M027MarkSchoolKinds().prepare(on: db)
        }
        struct S: Decodable { var id: UUID; var schoolKind: String? }
        let rows = try await sql.raw("SELECT id, school_kind FROM institutions WHERE type = 'school'")
            .all(decoding: S.self, keyDecodingStrategy: .convertFromSnakeCase)
        let demo = Dictionary(uniqueKeysWithValues: city.institutions.filter { $0.type == .school }.map { ($0.id, $0) })
        for r in rows where r.id != villageSchool.id {
            let d = try XCTUnwrap(demo[r.id])
            XCTAssertEqual(r.schoolKind, Schools.suggestedKind(name: d.name, level: d.region.level).rawValue, d.name)
        }
        XCTAssertEqual(rows.first { $0.id == villageSchool.id }?.schoolKind, "other", "marked from the name again")
        XCTAssertTrue(rows.contains { $0.schoolKind == "city_level" } && rows.contains { $0.schoolKind == "central" })
    }

    func testTrainingPagesTakeASignInSheet() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        var res = try await browser.post("/trainings", [("title", "人民调解业务培训"), ("heldOn", "2026-11-20"), ("hours", "abc"), ("audience", "人民调解员")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("学时应在 0.5–80 之间"))
        res = try await browser.post("/trainings", [("title", "人民调解业务培训"), ("heldOn", "2026-11-20"), ("hours", "2"), ("audience", "人民调解员"),
                                                    ("regionCode", county(0).code.rawValue)])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        let path = try XCTUnwrap(res.headers.first(name: .location)?.split(separator: "?").first.map(String.init))
        let mediators = city.practitioners.filter { $0.type == .mediator }.prefix(2)
        let lines = mediators.map { "\($0.licenceNumber) 85" }.joined(separator: "\n") + "\nNOPE 70\n\(mediators.first!.licenceNumber) 优"
        res = try await browser.post(path + "/attendance", [("lines", lines)])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("第 3 行：执业证号或账号“NOPE”不存在"))
        XCTAssertTrue(res.body.string.contains("第 4 行：成绩“优”不是数字"))
        let none = try await sql.raw("SELECT COUNT(*) AS n FROM training_attendance a JOIN training_sessions t ON t.id = a.session_id WHERE t.title = '人民调解业务培训'")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(none, 0, "a sheet with a bad line saves nobody")
        // Staff sign in with their username; a practitioner's account name is not a staff username.
        res = try await browser.post(path + "/attendance", [("lines", mediators.map { "\($0.licenceNumber)，85" }.joined(separator: "\n") + "\noperator 58\nclerk 缺席")])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        let page = try await browser.get(path)
        XCTAssertTrue(page.body.string.contains(mediators.first!.name))
        let operatorName = city.accounts.first { $0.username == "operator" }!.displayName
        XCTAssertTrue(page.body.string.contains(operatorName))
        let figures = try await send(.GET, "/api/v1/trainings", token: try await token("county-admin"))
        let session = try XCTUnwrap(try figures.content.decode(Paged<Training.Session>.self).items.first { $0.title == "人民调解业务培训" })
        XCTAssertEqual([session.invited, session.attended, session.passed], [4, 3, 2], "two mediators and the operator came; the operator scored 58")
        res = try await browser.post(path + "/attendance", [("lines", "lawyer 90")])
        XCTAssertTrue(res.body.string.contains("执业证号或账号“lawyer”不存在"), "a practitioner signs in with the licence number")
        // Another county's session is not the county admin's to see.
        let made = try await send(.POST, "/api/v1/trainings", token: try await token("admin"),
                                  json: Training.SessionInput(title: "外县培训", heldOn: "2026-11-02", regionCode: county(1).code.rawValue, hours: 2, audience: "律师"))
        XCTAssertEqual(made.status, .created, made.body.string)
        let elsewhere = try made.content.decode(Training.Session.self)
        let hidden = try await browser.get("/trainings/\(elsewhere.id)")
        XCTAssertEqual(hidden.status, .notFound)
    }

    func testTheRosterPage() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        for kind in RosterKind.allCases {
            let page = try await browser.get("/rosters?kind=\(kind.rawValue)")
            XCTAssertEqual(page.status, .ok, kind.rawValue)
        }
        let natural = city.regions.first { $0.level == .naturalVillage && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }!
        var res = try await browser.post("/rosters/legal_understander", [("regionCode", natural.code.rawValue), ("name", "钱学明")])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        res = try await browser.post("/rosters/legal_understander", [("regionCode", "123"), ("name", "")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("请填写自然村代码"))
        let csv = try await browser.get("/rosters/legal_understander/export.csv")
        XCTAssertTrue(csv.body.string.contains("钱学明"))
        let xlsx = try await browser.get("/rosters/legal_understander/export.xlsx")
        XCTAssertTrue(try XLSX.read(Data(xlsx.body.readableBytesView)).contains { $0.contains("钱学明") })
    }

    func testTrainingAttendanceAndAdvisersWork() async throws {
        let bureau = try await token("county-admin")
        var res = try await send(.POST, "/api/v1/trainings", token: bureau, json: ["title": AnyEncodable("人民调解员业务培训"), "heldOn": AnyEncodable("2026-11-20"),
                                                                              "hours": AnyEncodable(6.0), "audience": AnyEncodable("人民调解员")])
        XCTAssertEqual(res.status, .created, res.body.string)
        let session = try res.content.decode(Training.Session.self)
        XCTAssertEqual(session.regionCode, county(0).code.rawValue)
        let mediators = city.practitioners.filter { $0.type == .mediator && $0.region.rawValue.hasPrefix(county(0).code.scopePrefix) }.prefix(3).map(\.id)
        res = try await send(.POST, "/api/v1/trainings/\(session.id)/attendance", token: bureau, json: Training.AttendanceInput(attendees: [
            .init(practitionerId: mediators[0], attended: true, score: 92), .init(practitionerId: mediators[1], attended: true, score: 55),
            .init(practitionerId: mediators[2], attended: false, score: 70),
        ]))
        XCTAssertEqual(try errorBody(res).fields.keys.first, "attendees[2].score", "an absentee has no score")
        res = try await send(.POST, "/api/v1/trainings/\(session.id)/attendance", token: bureau, json: Training.AttendanceInput(attendees: [
            .init(practitionerId: mediators[0], attended: true, score: 92), .init(practitionerId: mediators[1], attended: true, score: 55),
            .init(practitionerId: mediators[2], attended: false, score: nil),
        ]))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let recorded = try res.content.decode(Training.Session.self)
        XCTAssertEqual([recorded.invited, recorded.attended, recorded.passed], [3, 2, 1])
        XCTAssertEqual(recorded.averageScore, 73.5)
        res = try await send(.POST, "/api/v1/trainings", token: try await token("lawyer"), json: ["title": "x"])
        XCTAssertEqual(res.status, .forbidden)

        // A government body's adviser keeps a record of work.
        let adviser = try await sql.raw("""
            SELECT id FROM grassroots_rosters WHERE kind = 'government_adviser' AND region_code LIKE \(bind: county(0).code.scopePrefix + "%")
            """).first(decodingColumn: "id", as: UUID.self)
        let id = try XCTUnwrap(adviser)
        res = try await send(.POST, "/api/v1/rosters/government_adviser/\(id)/work", token: bureau,
                             json: ["kind": "normative_document_review", "subject": "《城关区农村人居环境整治实施办法》合法性审核", "doneOn": "2026-11-18"])
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await send(.GET, "/api/v1/rosters/government_adviser/\(id)/work", token: bureau)
        XCTAssertEqual(try res.content.decode([AdviserWork.Record].self).first?.kindName, "规范性文件合法性审核")
        res = try await send(.POST, "/api/v1/rosters/government_adviser/\(id)/work", token: bureau, json: ["kind": "gossip", "subject": ""])
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["kind", "subject"])
    }
}
