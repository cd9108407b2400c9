import XCTVapor
import SQLKit
import PLSDomain
import Spreadsheets
@testable import PLSApp

/// Village legal advisers through the real routes: assignment, the phone log, the quantified view,
/// spreadsheet import (all or nothing) and export, turning a visit into a request, and scope.
final class GrassrootsTests: AppTestCase {
    /// Monday 23 November 2026, 10:00 in Beijing.
    static let monday = Date(timeIntervalSince1970: 1_795_399_200)
    override var loadedOn: Date? { Self.monday }

    var adviserAccount: DemoCity.Account { city.accounts.first { $0.username == "adviser" }! }

    func myVillages(_ token: String) async throws -> [VillageAdvisers.AdviserSummary.Village] {
        let res = try await send(.GET, "/api/v1/village-advisers/advisers/\(adviserAccount.practitionerID!)", token: token)
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(VillageAdvisers.AdviserSummary.self).villages
    }

    func villageFigure(_ code: String, token: String) async throws -> VillageAdvisers.VillageFigure? {
        let res = try await send(.GET, "/api/v1/village-advisers/villages?region=\(code)", token: token)
        return try res.content.decode(Paged<VillageAdvisers.VillageFigure>.self).items.first
    }

    func testTheAdviserLogsAndTheCountySeesTheHoursMove() async throws {
        let adviser = try await token("adviser")
        let villages = try await myVillages(adviser)
        XCTAssertFalse(villages.isEmpty)
        let village = villages[0]
        let county = try await token("county-admin")
        let before = try await villageFigure(village.code, token: county)
        var res = try await send(.POST, "/api/v1/village-advisers/services", token: adviser, json: VillageAdvisers.ServiceInput(
            practitionerId: nil, regionCode: village.code, servedOn: "2026-11-23", hours: 2.5, kind: "consultation", items: 3, people: 6, notes: "土地承包合同咨询"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let logged = try res.content.decode(VillageAdvisers.Service.self)
        let after = try await villageFigure(village.code, token: county)
        XCTAssertEqual(after?.hours ?? 0, (before?.hours ?? 0) + 2.5, accuracy: 0.05)
        XCTAssertEqual(after?.items, (before?.items ?? 0) + 3)

        // Each fault named; a village not theirs refused.
        res = try await send(.POST, "/api/v1/village-advisers/services", token: adviser, json: VillageAdvisers.ServiceInput(
            practitionerId: nil, regionCode: village.code, servedOn: "2026-12-01", hours: 0.2, kind: "chat", items: 0, people: 1, notes: nil))
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["servedOn", "hours", "kind", "items"])
        let other = city.regions.first { $0.level == .village && !villages.map(\.code).contains($0.code.rawValue) }!
        res = try await send(.POST, "/api/v1/village-advisers/services", token: adviser, json: VillageAdvisers.ServiceInput(
            practitionerId: nil, regionCode: other.code.rawValue, servedOn: nil, hours: 1, kind: "publicity", items: 1, people: 20, notes: nil))
        XCTAssertTrue(try errorBody(res).fields["regionCode"]?.contains("未受聘") == true)

        // A consultation met on the visit becomes a request in one step, once.
        // Without the person, nobody could call them back: refused, nothing made.
        res = try await send(.POST, "/api/v1/village-advisers/services/\(logged.id)/request", token: adviser, json: ["description": "村民咨询土地承包合同纠纷，需进一步解答"])
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["personName", "personMobile"])
        res = try await send(.POST, "/api/v1/village-advisers/services/\(logged.id)/request", token: adviser,
                             json: ["description": "村民咨询土地承包合同纠纷，需进一步解答", "name": "李秀英", "mobile": "13912345678", "category": "land"])
        XCTAssertEqual(res.status, .created, res.body.string)
        let request = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(request.matterType, "consultation")
        XCTAssertEqual(request.regionCode, village.code)
        XCTAssertEqual(request.channel, "village_adviser", "carried on by the adviser, not referred by a court")
        XCTAssertEqual(request.category, "land")
        XCTAssertEqual(request.applicant.name, "李秀英")
        XCTAssertEqual(request.applicant.mobile, "139****5678")
        res = try await send(.POST, "/api/v1/village-advisers/services/\(logged.id)/request", token: adviser)
        XCTAssertEqual(res.status, .conflict)
        res = try await send(.POST, "/api/v1/village-advisers/services/\(logged.id)/request", token: try await token("leader"))
        XCTAssertEqual(res.status, .forbidden, "leaders watch; they do not open work")

        // The adviser's own list; another adviser's log is not theirs to see.
        res = try await send(.GET, "/api/v1/village-advisers/services", token: adviser)
        let mine = try res.content.decode(Paged<VillageAdvisers.Service>.self)
        XCTAssertTrue(mine.items.allSatisfy { $0.practitionerId == adviserAccount.practitionerID })
        res = try await send(.GET, "/api/v1/village-advisers/advisers/\(city.accounts.first { $0.username == "lawyer" }!.practitionerID!)", token: adviser)
        XCTAssertEqual(res.status, .notFound)
    }

    func testImportIsAllOrNothingAndExportReimports() async throws {
        let county = try await token("county-admin")
        let villages = try await myVillages(county)
        let licence = try await sql.select().column("licence_number").from(Practitioner.schema).where("id", .equal, SQLBind(adviserAccount.practitionerID!))
            .first(decodingColumn: "licence_number", as: String.self)!
        let good = "licence_number,village_code,served_on,hours,kind,items,people,notes\n"
            + "\(licence),\(villages[0].code),2026-11-20,3,publicity,2,40,\"法治讲座，村民 40 人, 发放资料\"\n"
        let bad = good + "\(licence),\(villages[0].code),2026-13-01,3,publicity,2,40,\n" + ",,,,,,,\n" + "NOPE,\(villages[0].code),2026-11-20,1,publicity,1,1,\n"
        let count = { () async throws -> Int in
            try await self.sql.raw("SELECT COUNT(*) AS n FROM adviser_services").first(decodingColumn: "n", as: Int.self) ?? 0
        }
        let before = try await count()
        var res = try await send(.POST, "/api/v1/village-advisers/services/import", token: county, headers: ["Content-Type": "text/csv"], body: bad)
        XCTAssertEqual(res.status, .unprocessableEntity)
        let error = try errorBody(res)
        XCTAssertEqual(error.code, "import_rejected")
        XCTAssertEqual(Set(error.fields.keys), ["line 3", "line 5"], "an empty spreadsheet row is skipped, the numbering kept")
        XCTAssertTrue(error.fields["line 5"]?.contains("NOPE") == true)
        var gbk = HTTPHeaders()
        gbk.contentType = HTTPMediaType(type: "text", subType: "csv")
        let notUTF8 = try await app.testable().sendRequest(.POST, "/api/v1/village-advisers/services/import", headers: gbk,
                                                           body: ByteBuffer(bytes: [0xD5, 0xC5, 0xC8, 0xFD, 0x2C, 0xFF])) { req async throws in
            req.headers.bearerAuthorization = BearerAuthorization(token: county)
        }
        XCTAssertEqual(notUTF8.status, .unprocessableEntity)
        XCTAssertTrue(try errorBody(notUTF8).fields["file"]?.contains("UTF-8") == true)
        let afterBad = try await count()
        XCTAssertEqual(afterBad, before, "nothing imported")
        res = try await send(.POST, "/api/v1/village-advisers/services/import", token: county, headers: ["Content-Type": "text/csv"], body: good)
        XCTAssertEqual(res.status, .created, res.body.string)
        let afterGood = try await count()
        XCTAssertEqual(afterGood, before + 1)

        // The export opens in Excel (a byte-order mark) and imports back unchanged.
        res = try await send(.GET, "/api/v1/village-advisers/services/export.csv?region=\(villages[0].code)", token: county)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(res.body.getBytes(at: 0, length: 3), [0xEF, 0xBB, 0xBF], "UTF-8 with a byte-order mark, for Excel")
        XCTAssertTrue(res.body.string.contains("licence_number,village_code"))
        XCTAssertTrue(res.body.string.contains("\"法治讲座，村民 40 人, 发放资料\""), "a comma in the notes is quoted")
        let exported = CSVTable.parse(res.body.string)
        XCTAssertEqual(exported.first, VillageAdvisers.columns)
        XCTAssertTrue(exported.contains([licence, villages[0].code, "2026-11-20", "3", "publicity", "2", "40", "法治讲座，村民 40 人, 发放资料"]))
        XCTAssertEqual(CSVTable.parse(CSVTable.encode(exported)), exported)
        // The exported file imports as it is: every row passes the same checks.
        let back = try await send(.POST, "/api/v1/village-advisers/services/import", token: county, headers: ["Content-Type": "text/csv"],
                                  body: String(decoding: res.body.readableBytesView, as: UTF8.self))
        XCTAssertEqual(back.status, .created, back.body.string)
        XCTAssertEqual(try back.content.decode(VillageAdvisers.ImportResult.self).imported, exported.count - 1)

        // As a workbook, hours, items and people are numbers Excel adds up, and the file imports back.
        res = try await send(.GET, "/api/v1/village-advisers/services/export.xlsx?region=\(villages[0].code)", token: county)
        XCTAssertEqual(res.status, .ok)
        let workbook = Data(res.body.readableBytesView)
        let sheet = try XLSX.read(workbook)
        XCTAssertEqual(sheet.first, VillageAdvisers.columns)
        XCTAssertEqual(Set(sheet.dropFirst()), Set(exported.dropFirst()), "the same rows (each twice now that the CSV came back in)")
        let beforeXLSX = try await count()
        let fromExcel = try await upload(workbook, as: XLSX.contentType, to: "/api/v1/village-advisers/services/import", token: county)
        XCTAssertEqual(fromExcel.status, .created, fromExcel.body.string)
        let afterXLSX = try await count()
        XCTAssertEqual(afterXLSX, beforeXLSX + sheet.count - 1)
    }

    /// A multipart body with one `file` part per file, as a phone's browser sends it.
    func multipart(_ files: [[UInt8]], name: String = "file[]", token: String, to path: String) async throws -> XCTHTTPResponse {
        var body = ByteBuffer()
        for (i, bytes) in files.enumerated() {
            body.writeString("--pls-boundary\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"visit\(i).jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
            body.writeBytes(bytes)
            body.writeString("\r\n")
        }
        body.writeString("--pls-boundary--\r\n")
        return try await app.testable().sendRequest(.POST, path, headers: ["Content-Type": "multipart/form-data; boundary=pls-boundary"], body: body) { req async throws in
            req.headers.bearerAuthorization = BearerAuthorization(token: token)
        }
    }

    func testPhotosOfAVisit() async throws {
        let adviser = try await token("adviser")
        let village = try await myVillages(adviser)[0]
        var res = try await send(.POST, "/api/v1/village-advisers/services", token: adviser,
                                 json: VillageAdvisers.ServiceInput(regionCode: village.code, servedOn: "2026-11-20", hours: 2, kind: "publicity", items: 1, people: 30))
        XCTAssertEqual(res.status, .created, res.body.string)
        let service = try res.content.decode(VillageAdvisers.Service.self)
        XCTAssertEqual(service.photoIds, [])
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 64)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 1, count: 32)
        let path = "/api/v1/village-advisers/services/\(service.id)/photos"
        res = try await multipart([jpeg, png], token: adviser, to: path)
        XCTAssertEqual(res.status, .created, res.body.string)
        let withPhotos = try res.content.decode(VillageAdvisers.Service.self)
        XCTAssertEqual(withPhotos.photoIds.count, 2)
        // Not a photo, or a fourth one: refused, and nothing stored.
        res = try await multipart([Array("%PDF-1.4".utf8)], token: adviser, to: path)
        XCTAssertEqual(try errorBody(res).fields["photos"], "第 1 个文件不是 JPG 或 PNG 照片")
        res = try await multipart([jpeg, jpeg], token: adviser, to: path)
        XCTAssertEqual(try errorBody(res).fields["photos"], "每条服务记录最多 3 张照片")
        var stored = try await sql.raw("SELECT COUNT(*) AS n FROM adviser_service_photos WHERE service_id = \(bind: service.id)").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(stored, 2)
        // One photo may come as a plain `file` part.
        res = try await multipart([jpeg], name: "file", token: adviser, to: path)
        XCTAssertEqual(try res.content.decode(VillageAdvisers.Service.self).photoIds.count, 3)
        stored = try await sql.raw("SELECT COUNT(*) AS n FROM adviser_service_photos WHERE service_id = \(bind: service.id)").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(stored, 3)
        // The photo as it was sent, to the adviser and the county; not to another county's staff.
        res = try await send(.GET, path + "/\(withPhotos.photoIds[0])", token: try await token("county-admin"))
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(Array(res.body.readableBytesView), jpeg)
        XCTAssertEqual(res.headers.contentType, .jpeg)
        let elsewhere = try await send(.GET, path + "/\(withPhotos.photoIds[1])", token: try await token("lawyer"))
        XCTAssertEqual(elsewhere.status, .notFound)
        let listed = try await send(.GET, "/api/v1/village-advisers/services?region=\(village.code)", token: adviser)
        let listedPhotos = try XCTUnwrap(try listed.content.decode(Paged<VillageAdvisers.Service>.self).items.first { $0.id == service.id }?.photoIds)
        XCTAssertEqual(listedPhotos.count, 3)
        XCTAssertTrue(Set(listedPhotos).isSuperset(of: withPhotos.photoIds))
    }

    func testCoverageHoursAndItemsAreIndicators() async throws {
        let admin = try await token("admin")
        let res = try await send(.GET, "/api/v1/indicators?region=\(DemoCity.cityCode.rawValue)&year=2026", token: admin)
        let items = Dictionary(uniqueKeysWithValues: try res.content.decode(IndicatorController.Report.self).items.map { ($0.id, $0) })
        let coverage = try XCTUnwrap(items["village_adviser_coverage"])
        let villages = city.regions.filter { $0.level == .village }.count
        XCTAssertEqual(coverage.denominator, villages)
        let assigned = try await sql.raw("SELECT COUNT(DISTINCT region_code) AS n FROM adviser_assignments").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(coverage.numerator, assigned)
        let hours = try XCTUnwrap(items["village_adviser_hours_met"])
        XCTAssertEqual(hours.denominator, villages)
        XCTAssertEqual(hours.met, false, "mid-year, not every village has its 50 hours")
        let total = try await sql.raw("SELECT CAST(SUM(items) AS BIGINT) AS n FROM adviser_services WHERE served_on >= '2026-01-01'").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(items["village_adviser_items"]?.value, Double(total ?? 0))
        XCTAssertEqual(items["village_adviser_items"]?.target, 17_000)
        // A county carries the share of its villages.
        let countyReport = try await send(.GET, "/api/v1/indicators?region=\(county(0).code.rawValue)&year=2026", token: admin)
        let countyItems = try XCTUnwrap(try countyReport.content.decode(IndicatorController.Report.self).items.first { $0.id == "village_adviser_items" })
        let countyVillages = city.regions.filter { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }.count
        XCTAssertEqual(countyItems.target, Double(AdviserTargets.share(of: 17_000, villages: countyVillages, ofCity: villages)))
        XCTAssertLessThan(countyItems.target, 17_000)

        // Assigning an adviser to a village without one moves coverage.
        let uncovered = try await sql.raw("""
            SELECT g.code FROM regions g WHERE g.level = 'village' AND NOT EXISTS (SELECT 1 FROM adviser_assignments a WHERE a.region_code = g.code)
            """).first(decodingColumn: "code", as: String.self)
        if let uncovered {
            let lawyer = city.accounts.first { $0.username == "lawyer" }!.practitionerID!
            let made = try await send(.POST, "/api/v1/village-advisers/assignments", token: admin,
                                      json: ["practitionerId": lawyer.uuidString, "regionCode": uncovered, "startOn": "2026-11-01"])
            XCTAssertEqual(made.status, .created, made.body.string)
            let again = try await send(.GET, "/api/v1/indicators?region=\(DemoCity.cityCode.rawValue)&year=2026", token: admin)
            let moved = try again.content.decode(IndicatorController.Report.self).items.first { $0.id == "village_adviser_coverage" }
            XCTAssertEqual(moved?.numerator, (coverage.numerator ?? 0) + 1)
        }
        // A county admin assigns only in their county.
        let elsewhere = city.regions.first { $0.level == .village && !$0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }!
        let refused = try await send(.POST, "/api/v1/village-advisers/assignments", token: try await token("county-admin"),
                                     json: ["practitionerId": adviserAccount.practitionerID!.uuidString, "regionCode": elsewhere.code.rawValue])
        XCTAssertEqual(try errorBody(refused).fields.keys.first, "regionCode")
    }

    func testThePagesForTheAdviserAndTheCounty() async throws {
        var adviser = BrowserSession(self)
        try await adviser.signIn("adviser")
        let page = try await adviser.get("/adviser")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("驻村服务登记"))
        let village = try await myVillages(try await token("adviser"))[0]
        var res = try await adviser.post("/adviser", [("regionCode", village.code), ("servedOn", "2026-11-23"), ("hours", "1.5"),
                                                      ("kind", "dispute_resolution"), ("items", "1"), ("people", "2"), ("notes", "宅基地边界纠纷"),
                                                      ("toRequest[]", "1")])
        // A dispute carried on needs the person and its category; the form comes back whole and nothing is logged.
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("纠纷须选择类别"))
        XCTAssertTrue(res.body.string.contains("宅基地边界纠纷"), "what was typed stays")
        res = try await adviser.post("/adviser", [("regionCode", village.code), ("servedOn", "2026-11-23"), ("hours", "1.5"),
                                                  ("kind", "dispute_resolution"), ("items", "1"), ("people", "2"), ("notes", "宅基地边界纠纷"),
                                                  ("toRequest[]", "1"), ("personName", "王建国"), ("personMobile", "13712345678"),
                                                  ("category", "neighbourhood")])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        XCTAssertTrue(res.headers.first(name: .location)?.contains("flash") == true)
        let mediation = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests WHERE matter_type = 'mediation' AND region_code = \(bind: village.code)")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(mediation, 1, "the dispute went on as a mediation case, once")
        let carried = try await sql.raw("SELECT category, channel FROM service_requests WHERE matter_type = 'mediation' AND region_code = \(bind: village.code)")
            .first()
        XCTAssertEqual(try carried?.decode(column: "category", as: String.self), "neighbourhood")
        XCTAssertEqual(try carried?.decode(column: "channel", as: String.self), "village_adviser")
        res = try await adviser.post("/adviser", [("regionCode", village.code), ("hours", "0.2"), ("kind", "publicity")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("服务时长应在 0.5–12 小时之间"))

        var county = BrowserSession(self)
        try await county.signIn("county-admin")
        let list = try await county.get("/grassroots?behind=1")
        XCTAssertEqual(list.status, .ok)
        XCTAssertTrue(list.body.string.contains("落后进度"))
        let csv = try await county.get("/grassroots/services.csv")
        XCTAssertEqual(csv.headers.contentType?.subType, "csv")

        // The county opens an adviser from the list: their villages and latest visits.
        let me = adviserAccount.practitionerID!
        let adviserPage = try await county.get("/grassroots/advisers/\(me)")
        XCTAssertEqual(adviserPage.status, .ok)
        XCTAssertTrue(adviserPage.body.string.contains(village.name))
        XCTAssertTrue(adviserPage.body.string.contains("宅基地边界纠纷"), "the visit logged above")
        let linked = try await county.get("/grassroots")
        XCTAssertTrue(linked.body.string.contains("/grassroots/advisers/"), "advisers' names open their page")
        // Another practitioner does not open it.
        var lawyer = BrowserSession(self)
        try await lawyer.signIn("lawyer")
        let refused = try await lawyer.get("/grassroots/advisers/\(me)")
        XCTAssertEqual(refused.status, .notFound)
    }
}
