import XCTest
@testable import SQLKit
@testable import PLSApp

/// Our fast key conversion must name exactly the columns SQLKit's own would.
final class SnakeCaseTests: XCTestCase {
    func testSameColumnsAsSQLKit() {
        var keys = ["id", "number", "regionCode", "applicantMobileMasked", "applicantIDMasked", "practitionerId", "atMillis", "sha256",
                    "prevHash", "URL", "myURLProperty", "a", "aB", "ABc", "x1Y2", "institutionName", "overdue", "concludeDue", "photoIDs", "HTTPStatus"]
        // And a few thousand made up of the pieces property names are made of.
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "b", "Id", "ID", "URL", "x", "Y", "1", "2", "name", "Name", "HTTP", "s", "Z"]
        for _ in 0..<3_000 { keys.append((0..<Int.random(in: 1...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()) }
        for key in keys {
            XCTAssertEqual(SnakeCase.convert(key), key.convertedToSnakeCase, key)
        }
        XCTAssertEqual(SnakeCase.convert("applicantMobileMasked"), "applicant_mobile_masked")
    }
}

/// The read-only request loader must see every field as Fluent does.
final class ReadingRequestTests: AppTestCase {
    func testForReadingMatchesFluent() async throws {
        // A year of generated requests: every state, with ratings, ID numbers, transfers and due dates among them.
        _ = try await DemoRequests.generate(count: 300, app: app, on: app.db)
        let ids = try await sql.raw("SELECT id FROM service_requests ORDER BY rating DESC, status LIMIT 60").all().map { try $0.decode(column: "id", as: UUID.self) }
        XCTAssertFalse(ids.isEmpty)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for id in ids {
            let fluent = try await RequestViews.find(id.uuidString, scope: .everything, on: app.db)
            let fast = try await RequestViews.findForReading(id.uuidString, scope: .everything, on: sql)
            XCTAssertEqual(String(decoding: try encoder.encode(fast), as: UTF8.self), String(decoding: try encoder.encode(fluent), as: UTF8.self))
            let byNumber = try await RequestViews.findForReading(fluent.number, scope: .everything, on: sql)
            XCTAssertEqual(byNumber.id, id)
        }
        do {
            _ = try await RequestViews.findForReading(UUID().uuidString, scope: .everything, on: sql)
            XCTFail("a request that does not exist")
        } catch let e as AppError { XCTAssertEqual(e.status, .notFound) }
    }
}
