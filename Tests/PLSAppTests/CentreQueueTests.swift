import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #23, item 1: tickets at a centre's entrance, the groups the plan names served first, called to a window by the
/// centre's own clerks, the hall screen showing numbers and windows only.
final class CentreQueueTests: AppTestCase {
    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026, 10:00
    }

    /// The city's public legal service centre, where the demo clerk sits.
    var centre: UUID { city.accounts.first { $0.username == "clerk" }!.institutionID! }

    func ticket(_ matter: String, priority: AnyEncodable? = nil) async throws -> CentreQueue.Ticket {
        var body: [String: AnyEncodable] = ["matterType": AnyEncodable(matter)]
        if let priority { body["priority"] = priority }
        let res = try await send(.POST, "/api/v1/centres/\(centre)/tickets", json: body)
        XCTAssertEqual(res.status, .created, res.body.string)
        return try res.content.decode(CentreQueue.Ticket.self)
    }

    func testTicketsAreCalledPriorityFirstByTheCentresOwnClerks() async throws {
        let type = try await sql.raw("SELECT type FROM institutions WHERE id = \(bind: centre)").first(decodingColumn: "type", as: String.self)
        XCTAssertEqual(type, "public_legal_service_centre")
        let a = try await ticket("consultation")
        XCTAssertEqual(a.number, "A001")
        XCTAssertEqual(a.ahead, 0)
        let elderly = try await ticket("consultation", priority: AnyEncodable("elderly"))
        XCTAssertEqual(elderly.number, "A002")
        XCTAssertEqual(elderly.priorityGroupName, "老年人")
        XCTAssertEqual(elderly.ahead, 1)
        let c = try await ticket("mediation", priority: AnyEncodable(false))
        XCTAssertEqual(c.number, "C003")
        var res = try await send(.POST, "/api/v1/centres/\(centre)/tickets", json: ["matterType": "x"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.POST, "/api/v1/centres/\(UUID())/tickets", json: ["matterType": "consultation"])
        XCTAssertEqual(res.status, .notFound)
        // A legal aid centre is not a walk-in centre's queue.
        let aidCentre = city.accounts.first { $0.username == "aid" }!.institutionID!
        res = try await send(.POST, "/api/v1/centres/\(aidCentre)/tickets", json: ["matterType": "consultation"])
        XCTAssertEqual(res.status, .notFound)

        // Only the centre's own clerks call.
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: try await token("aid"), json: ["window": "3"])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", json: ["window": "3"])
        XCTAssertEqual(res.status, .unauthorized)
        let clerk = try await token("clerk")
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": ""])
        XCTAssertEqual(res.status, .unprocessableEntity)
        // A window serving mediation only calls the mediation ticket, though others came first.
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": AnyEncodable("9"), "matters": AnyEncodable(["x"])])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk,
                             json: ["window": AnyEncodable("9"), "matters": AnyEncodable(["notarization"])])
        XCTAssertEqual(try errorBody(res).code, "queue_empty")
        var called: [String] = []
        for _ in 0..<3 {
            res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": "3"])
            XCTAssertEqual(res.status, .ok, res.body.string)
            called.append(try res.content.decode(CentreQueue.Ticket.self).number)
        }
        XCTAssertEqual(called, ["A002", "A001", "C003"], "the elderly visitor first, then in the order they came")
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": "3"])
        XCTAssertEqual(try errorBody(res).code, "queue_empty")

        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/\(elderly.id)/served", token: clerk)
        XCTAssertEqual(try res.content.decode(CentreQueue.Ticket.self).status, "served")
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/\(elderly.id)/served", token: clerk)
        XCTAssertEqual(res.status, .conflict)
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/\(a.id)/no-show", token: clerk)
        XCTAssertEqual(try res.content.decode(CentreQueue.Ticket.self).status, "no_show")

        // The hall screen: numbers and windows, for anyone in the hall.
        res = try await send(.GET, "/api/v1/centres/\(centre)/queue")
        XCTAssertEqual(res.status, .ok)
        let board = try res.content.decode(CentreQueue.Board.self)
        XCTAssertEqual(board.called.map(\.number).sorted(), ["A002", "C003"])
        XCTAssertEqual(board.servedCount, 1)
        XCTAssertEqual(board.waitingCount, 0)
        XCTAssertFalse(res.body.string.contains("老年人"), "which group a visitor was served first for is not shown to the hall")
    }

    func testTheKioskTheClerksPageAndTheHallScreen() async throws {
        var kiosk = BrowserSession(self)
        var page = try await kiosk.get("/centres/\(centre)/kiosk")
        XCTAssertEqual(page.status, .ok)
        page = try await kiosk.post("/centres/\(centre)/kiosk", [("matterType", "legal_aid"), ("priority", "disabled")])
        XCTAssertEqual(page.status, .created, page.body.string)
        XCTAssertTrue(page.body.string.contains("B001") && page.body.string.contains("残疾人"))
        page = try await kiosk.post("/centres/\(centre)/kiosk", [("matterType", "")])
        XCTAssertEqual(page.status, .unprocessableEntity)

        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        page = try await clerk.get("/window")
        XCTAssertTrue(page.body.string.contains("href=\"/queue\""))
        page = try await clerk.get("/queue")
        XCTAssertEqual(page.headers.first(name: .location), "/centres/\(centre)/queue")
        page = try await clerk.get("/centres/\(centre)/queue")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("B001"))
        page = try await clerk.post("/centres/\(centre)/queue/call", [("window", "5")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        page = try await clerk.get(try XCTUnwrap(page.headers.first(name: .location)))
        XCTAssertTrue(page.body.string.contains("请 B001 号到 5 号窗口"), "told where to send the visitor")
        page = try await clerk.post("/centres/\(centre)/queue/call", [("window", "5")])
        XCTAssertEqual(page.status, .conflict)
        XCTAssertTrue(page.body.string.contains("当前没有等候的号"))
        page = try await kiosk.get("/centres/\(centre)/hall")
        XCTAssertTrue(page.body.string.contains("B001") && page.body.string.contains("请到 5 号窗口"))
        var other = BrowserSession(self)
        try await other.signIn("aid")
        page = try await other.get("/centres/\(centre)/queue")
        XCTAssertEqual(page.status, .forbidden)
    }

    /// 应驻尽驻: the city's centre hosts every function the plan names, a county's those a county has; the coverage
    /// indicator counts the centres that do, and names the units that fall short.
    func testStationedFunctionsAndTheirCoverage() async throws {
        let admin = try await token("admin")
        var res = try await send(.GET, "/api/v1/centres/\(centre)/stations", token: admin)
        XCTAssertEqual(res.status, .ok, res.body.string)
        var view = try res.content.decode(CentreStations.View.self)
        XCTAssertEqual(view.level, "city")
        XCTAssertEqual(view.missing.count, 9, "nothing hosted yet")
        res = try await send(.PUT, "/api/v1/centres/\(centre)/stations", token: try await token("county-admin"),
                             json: ["stations": [["function": "legal_aid", "mode": "window"]]])
        XCTAssertEqual(res.status, .forbidden, "the city's centre is the city's to keep")
        res = try await send(.PUT, "/api/v1/centres/\(centre)/stations", token: admin,
                             json: ["stations": [["function": "legal_aid", "mode": "window"], ["function": "legal_aid", "mode": "rota"]]])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.PUT, "/api/v1/centres/\(centre)/stations", token: admin, json: ["stations": [["function": "x", "mode": "window"]]])
        XCTAssertEqual(res.status, .unprocessableEntity)
        let all = StationedFunction.allCases.map { ["function": $0.rawValue, "mode": $0 == .examination ? "guidance" : "window"] }
        res = try await send(.PUT, "/api/v1/centres/\(centre)/stations", token: admin, json: ["stations": all])
        XCTAssertEqual(res.status, .ok, res.body.string)
        view = try res.content.decode(CentreStations.View.self)
        XCTAssertEqual(view.missing, [])
        XCTAssertEqual(view.stations.first { $0.function == "examination" }?.modeName, "服务指引")
        // A county's centre with legal aid and mediation only: short.
        let countyCentre = try await sql.raw("""
            SELECT id FROM institutions WHERE type = 'public_legal_service_centre' AND region_code = \(bind: county(0).code.rawValue)
            """).first(decodingColumn: "id", as: UUID.self)
        let cc = try XCTUnwrap(countyCentre)
        res = try await send(.PUT, "/api/v1/centres/\(cc)/stations", token: try await token("county-admin"),
                             json: ["stations": [["function": "legal_aid", "mode": "window"], ["function": "mediation", "mode": "rota"]]])
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(CentreStations.View.self).missing, ["法律咨询", "法治宣传教育", "律师", "公证"])
        res = try await send(.GET, "/api/v1/indicators?region=\(city.rootCode.rawValue)&year=2026", token: admin)
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let coverage = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "centre_stationing_coverage" })
        XCTAssertEqual(coverage.numerator, 1, "the city's centre")
        XCTAssertEqual(coverage.denominator, city.regions.filter { $0.level == .county }.count + 1)
        XCTAssertTrue(coverage.shortfalls.contains { $0.code == county(0).code.rawValue })
        // The county's page: what is missing, and the form.
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        var page = try await browser.get("/centres/\(cc)/stations")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("尚缺：法律咨询、法治宣传教育、律师、公证"))
        page = try await browser.post("/centres/\(cc)/stations", [("mode_legal_aid", "window"), ("mode_mediation", "rota"), ("mode_consultation", "window"),
                                                                  ("mode_publicity", "guidance"), ("mode_lawyer", "rota"), ("note_lawyer", "各律所轮值"),
                                                                  ("mode_notarization", "online")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        page = try await browser.get("/centres/\(cc)/stations")
        XCTAssertFalse(page.body.string.contains("尚缺"))
        XCTAssertTrue(page.body.string.contains("各律所轮值"))
    }
}
