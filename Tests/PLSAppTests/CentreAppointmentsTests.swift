import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #23, item 1: a centre's windows, hours and duty rota; appointments booked from the portal and on a 12348 call
/// in the slots the centre sets, checked in at the kiosk and called before walk-ins; the waits the indicators count.
final class CentreAppointmentsTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    let monday = Date(timeIntervalSince1970: 1_772_416_800)
    /// Tuesday 3 March 2026 at hh:mm in Beijing.
    func tuesday(_ h: Int, _ m: Int) -> Date { monday.addingTimeInterval(Double((24 + h - 10) * 3_600 + m * 60)) }

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    var centre: UUID { city.accounts.first { $0.username == "clerk" }!.institutionID! }
    func accountID(_ username: String) async throws -> UUID {
        try await sql.raw("SELECT id FROM accounts WHERE username = \(bind: username)").first(decodingColumn: "id", as: UUID.self)!
    }

    func citizenToken() async throws -> String {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    func book(_ token: String, slot: String, matter: String = "legal_aid", name: String = "王秀英", mobile: String = DemoCity.citizenMobile,
              call: UUID? = nil, status: HTTPStatus = .created) async throws -> Appointments.Appointment? {
        var body: [String: AnyEncodable] = ["matterType": AnyEncodable(matter), "day": AnyEncodable("2026-03-03"), "slot": AnyEncodable(slot),
                                            "name": AnyEncodable(name), "mobile": AnyEncodable(mobile)]
        if let call { body["callId"] = AnyEncodable(call) }
        let res = try await send(.POST, "/api/v1/centres/\(centre)/appointments", token: token, json: body)
        XCTAssertEqual(res.status, status, res.body.string)
        return res.status == .created ? try res.content.decode(Appointments.Appointment.self) : nil
    }

    func testTheCentreSetsWindowsHoursAndRotaAndAnAppointmentIsCalledBeforeWalkIns() async throws {
        var admin = try await token("admin"), clerk = try await token("clerk")
        // Windows: the centre's own clerk may not arrange them; the bureau does.
        var res = try await send(.POST, "/api/v1/centres/\(centre)/windows", token: clerk, json: ["number": AnyEncodable("1"), "matters": AnyEncodable(["legal_aid"])])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/centres/\(centre)/windows", token: admin, json: ["number": AnyEncodable("1"), "matters": AnyEncodable([String]())])
        XCTAssertNotNil(try errorBody(res).fields["matters"])
        res = try await send(.POST, "/api/v1/centres/\(centre)/windows", token: admin, json: ["number": AnyEncodable("1"), "matters": AnyEncodable(["legal_aid", "mediation"])])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let window = try res.content.decode(CentreSetup.Window.self)
        // Hours: one morning session of 30-minute slots for one visitor each, a 10-minute wait promised.
        res = try await send(.PUT, "/api/v1/centres/\(centre)/hours", token: admin, json: [
            "sessions": AnyEncodable([["start": "12:00", "end": "09:00"]]), "slotMinutes": AnyEncodable(30), "slotCapacity": AnyEncodable(1),
            "waitTargetMinutes": AnyEncodable(10)])
        XCTAssertNotNil(try errorBody(res).fields["sessions"])
        res = try await send(.PUT, "/api/v1/centres/\(centre)/hours", token: admin, json: [
            "sessions": AnyEncodable([["start": "09:00", "end": "12:00"]]), "slotMinutes": AnyEncodable(30), "slotCapacity": AnyEncodable(1),
            "waitTargetMinutes": AnyEncodable(10)])
        XCTAssertEqual(res.status, .ok, res.body.string)
        // The rota: only the centre's own staff.
        let operatorID = try await accountID("operator"), clerkID = try await accountID("clerk")
        res = try await send(.PUT, "/api/v1/centres/\(centre)/rota", token: admin, json: ["duties": [["windowId": window.id.uuidString, "day": "2026-03-03", "accountId": operatorID.uuidString]]])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.PUT, "/api/v1/centres/\(centre)/rota", token: admin, json: ["duties": [["windowId": window.id.uuidString, "day": "2026-03-03", "accountId": clerkID.uuidString]]])
        XCTAssertEqual(res.status, .noContent, res.body.string)

        // Slots: six on Tuesday morning; none on a Saturday.
        res = try await send(.GET, "/api/v1/centres/\(centre)/slots?day=2026-03-03")
        let slots = try res.content.decode([Appointments.Slot].self)
        XCTAssertEqual(slots.map(\.start), ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"])
        res = try await send(.GET, "/api/v1/centres/\(centre)/slots?day=2026-03-07")
        XCTAssertNotNil(try errorBody(res).fields["day"])

        // The citizen books legal aid at 09:00 and gets the code by SMS; the slot is then full, and one a day is theirs.
        var citizen = try await citizenToken()
        let first = try await book(citizen, slot: "09:00")
        let booked = try XCTUnwrap(first)
        XCTAssertEqual(booked.code.count, 6)
        let sms = try await SmsMessage.query(on: app.db).sort(\.$createdAt, .descending).first()
        XCTAssertTrue(try app.personalData.open(try XCTUnwrap(sms).text).contains(booked.code))
        var op = try await token("operator")
        _ = try await book(op, slot: "09:00", name: "赵大", mobile: "13955571234", status: .conflict)
        _ = try await book(citizen, slot: "09:30", status: .conflict)
        _ = try await book(citizen, slot: "09:15", status: .unprocessableEntity)

        // On a call: the operator books mediation for the caller at 09:30.
        let exchange = try await exchangeToken()
        for (event, extra) in [("ring", ["caller": "13955571234", "operator": "operator"]), ("answer", ["operator": "operator"])] {
            var body: [String: String] = ["callId": "AP-1", "event": event]
            body.merge(extra) { a, _ in a }
            res = try await send(.POST, "/api/v1/telephony/events", token: exchange, json: body)
            XCTAssertEqual(res.status, .accepted, res.body.string)
        }
        let call = try await sql.raw("SELECT id FROM calls WHERE call_id = 'AP-1'").first(decodingColumn: "id", as: UUID.self)
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        var page = try await browser.get("/appointments?centre=\(centre)&day=2026-03-03&call=\(call!)")
        XCTAssertTrue(page.body.string.contains("已约满") && page.body.string.contains("13955571234"), "the caller's number from the call")
        page = try await browser.post("/appointments", [("centre", centre.uuidString), ("day", "2026-03-03"), ("slot", "09:30"), ("matterType", "mediation"),
                                                        ("name", "赵大"), ("mobile", "13955571234"), ("callId", call!.uuidString)])
        XCTAssertEqual(page.status, .created, page.body.string)
        XCTAssertTrue(page.body.string.contains("预约成功"))
        let onCall = try await sql.raw("SELECT booked_via, call_id FROM appointments WHERE mobile_masked = '139****1234'").first()
        XCTAssertEqual(try onCall?.decode(column: "booked_via", as: String.self), "hotline")
        XCTAssertEqual(try onCall?.decode(column: "call_id", as: UUID?.self), call)

        // Tuesday: a walk-in takes a legal aid ticket at 08:10; the citizen checks in too early, then in time.
        app.clock.set(tuesday(8, 10))
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets", json: ["matterType": "legal_aid"])
        let walkIn = try res.content.decode(CentreQueue.Ticket.self)
        app.clock.set(tuesday(8, 20))
        res = try await send(.POST, "/api/v1/centres/\(centre)/appointments/check-in", json: ["code": booked.code])
        XCTAssertEqual(try errorBody(res).code, "too_early")
        res = try await send(.POST, "/api/v1/centres/\(centre)/appointments/check-in", json: ["code": "000000" == booked.code ? "000001" : "000000"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        app.clock.set(tuesday(8, 45))
        res = try await send(.POST, "/api/v1/centres/\(centre)/appointments/check-in", json: ["code": booked.code])
        XCTAssertEqual(res.status, .created, res.body.string)
        let checkedIn = try res.content.decode(CentreQueue.Ticket.self)
        XCTAssertTrue(checkedIn.appointment)
        res = try await send(.POST, "/api/v1/centres/\(centre)/appointments/check-in", json: ["code": booked.code])
        XCTAssertEqual(res.status, .conflict, "checked in once")

        // Window 1 (legal aid and mediation, by its registration) calls the appointment before the earlier walk-in.
        // (A day later on the test clock: signed in afresh.)
        app.clock.set(tuesday(8, 50))
        clerk = try await token("clerk"); admin = try await token("admin"); op = try await token("operator"); citizen = try await citizenToken()
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": "1"])
        XCTAssertEqual(try res.content.decode(CentreQueue.Ticket.self).id, checkedIn.id)
        app.clock.set(tuesday(9, 5))
        res = try await send(.POST, "/api/v1/centres/\(centre)/tickets/call", token: clerk, json: ["window": "1"])
        XCTAssertEqual(try res.content.decode(CentreQueue.Ticket.self).id, walkIn.id)
        // Waits: 5 minutes (within the 10 promised) and 55 (not): half within target; on average 30 minutes.
        res = try await send(.GET, "/api/v1/indicators?region=\(city.rootCode.rawValue)&year=2026", token: admin)
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let items = try res.content.decode(List.self).items
        let within = try XCTUnwrap(items.first { $0.id == "centre_wait_within_target_rate" })
        XCTAssertEqual([within.numerator, within.denominator], [1, 2])
        XCTAssertEqual(items.first { $0.id == "centre_average_wait_minutes" }?.value, 30)

        // The clerk's page lists the day's appointments; the rota shows who sits at window 1.
        var clerkPage = BrowserSession(self)
        try await clerkPage.signIn("clerk")
        page = try await clerkPage.get("/centres/\(centre)/queue")
        XCTAssertTrue(page.body.string.contains("今日预约（2）") && page.body.string.contains("已签到"))
        let desk = try await CentreSetup.windows(of: centre, day: app.today, on: sql)
        XCTAssertEqual(desk.first?.onDuty, city.accounts.first { $0.username == "clerk" }?.displayName)

        // The citizen sees and may cancel their own; another may not.
        let mine = try await send(.GET, "/api/v1/appointments", token: citizen).content.decode([Appointments.Appointment].self)
        XCTAssertEqual(mine.map { $0.statusName }, ["已签到"])
        let hotlineBooked = try await sql.raw("SELECT id FROM appointments WHERE booked_via = 'hotline'").first(decodingColumn: "id", as: UUID.self)
        res = try await send(.POST, "/api/v1/appointments/\(hotlineBooked!)/cancel", token: citizen)
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.POST, "/api/v1/appointments/\(hotlineBooked!)/cancel", token: op)
        XCTAssertEqual(res.status, .ok, res.body.string)

        // The bureau's setup page.
        var setup = BrowserSession(self)
        try await setup.signIn("admin")
        page = try await setup.get("/centres/\(centre)/setup?week=2026-03-02")
        XCTAssertTrue(page.body.string.contains("值班表") && page.body.string.contains("3月3日 周二"))
        page = try await setup.post("/centres/\(centre)/setup/rota", [("week", "2026-03-02"), ("duty_\(window.id)_2026-03-04", clerkID.uuidString)])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        let count = try await sql.raw("SELECT COUNT(*) AS n FROM window_duties").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(count, 2)
    }

    func exchangeToken() async throws -> String {
        let res = try await send(.POST, "/api/v1/system-clients", token: try await token("admin"), json: ["name": AnyEncodable("交换机"), "scopes": AnyEncodable(["telephony"])])
        struct C: Decodable { var clientId: String; var clientSecret: String }
        let c = try res.content.decode(C.self)
        let t = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": c.clientSecret])
        return try t.content.decode(SystemClients.TokenAnswer.self).access_token
    }
}
