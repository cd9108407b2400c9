import XCTVapor
import PLSDomain
@testable import PLSApp

final class PractitionerTests: AppTestCase {
    func testListFiltersBySpecialityAndType() async throws {
        let token = try await token("admin")
        let res = try await send(.GET, "/api/v1/practitioners?type=lawyer&speciality=labor&per=100", token: token)
        let page = try res.content.decode(Paged<PractitionerController.Row>.self)
        let expected = city.practitioners.filter { $0.type == .lawyer && $0.specialities.contains(.labor) }.count
        XCTAssertEqual(page.total, expected)
        XCTAssertTrue(page.items.allSatisfy { $0.specialities.contains("labor") && $0.type == "lawyer" })
    }

    func testLawyerSeesOnlyColleagues() async throws {
        let lawyer = city.accounts.first { $0.username == "lawyer" }!
        let res = try await send(.GET, "/api/v1/practitioners?per=100", token: try await token("lawyer"))
        let page = try res.content.decode(Paged<PractitionerController.Row>.self)
        XCTAssertEqual(page.total, city.practitioners.filter { $0.institutionID == lawyer.institutionID }.count)
        let outsider = city.practitioners.first { $0.institutionID != lawyer.institutionID }!
        let lookup = try await send(.GET, "/api/v1/practitioners/\(outsider.id)", token: try await token("lawyer"))
        XCTAssertEqual(lookup.status, .notFound)
    }

    func testCreateUpdateAndLeave() async throws {
        let token = try await token("admin")
        let firm = city.institutions.first { $0.type == .lawFirm }!
        var input = PractitionerController.Input(type: "lawyer", name: "周律师", gender: "female", licenceNumber: "13499202020000001",
                                                 institutionId: firm.id, specialities: ["labor", "marriage_family"], regionsServed: nil, status: nil)
        var res = try await send(.POST, "/api/v1/practitioners", token: token, json: input)
        XCTAssertEqual(res.status, .created, res.body.string)
        let row = try res.content.decode(PractitionerController.Row.self)
        XCTAssertEqual(row.regionCode, firm.region.rawValue, "a practitioner works where their institution is")
        XCTAssertEqual(row.regionsServed, [firm.region.rawValue])
        XCTAssertEqual(row.status, "practising")

        res = try await send(.POST, "/api/v1/practitioners", token: token, json: input)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["licenceNumber"])

        input.specialities = ["labor", "astrology"]
        input.name = "周某某"
        res = try await send(.PUT, "/api/v1/practitioners/\(row.id)", token: token, json: input)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["specialities"])

        input.specialities = ["traffic"]
        res = try await send(.PUT, "/api/v1/practitioners/\(row.id)", token: token, json: input)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(try res.content.decode(PractitionerController.Row.self).specialities, ["traffic"])

        res = try await send(.POST, "/api/v1/practitioners/\(row.id)/deactivate", token: token)
        XCTAssertEqual(try res.content.decode(PractitionerController.Row.self).status, "left")
    }

    func testCountyAdminCannotPlacePractitionerInAnotherCounty() async throws {
        let other = city.institutions.first { $0.type == .lawFirm && $0.region.rawValue.hasPrefix(county(1).code.scopePrefix) }!
        let input = PractitionerController.Input(type: "lawyer", name: "吴律师", gender: nil, licenceNumber: "13499202020000002",
                                                 institutionId: other.id, specialities: [], regionsServed: nil, status: nil)
        let res = try await send(.POST, "/api/v1/practitioners", token: try await token("county-admin"), json: input)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["institutionId"])
    }

    func testPractitionersCannotEditRegistry() async throws {
        let res = try await send(.POST, "/api/v1/practitioners", token: try await token("mediator"),
                                 json: PractitionerController.Input(type: "mediator", name: "x", licenceNumber: "1"))
        XCTAssertEqual(res.status, .forbidden)
    }
}
