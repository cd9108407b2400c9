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

/// The request row read and written with plain SQL must hold exactly what Fluent reads and writes.
final class RequestStoreTests: AppTestCase {
    private func json(_ r: ServiceRequest) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(r), as: UTF8.self)
    }

    func testReadMatchesFluent() async throws {
        // A year of generated requests: every state, with ratings, ID numbers, transfers and due dates among them.
        _ = try await DemoRequests.generate(count: 300, app: app, on: app.db)
        let ids = try await sql.raw("SELECT id FROM service_requests ORDER BY rating DESC, status LIMIT 60").all().map { try $0.decode(column: "id", as: UUID.self) }
        XCTAssertFalse(ids.isEmpty)
        for id in ids {
            let found = try await ServiceRequest.find(id, on: app.db)
            let fluent = try XCTUnwrap(found)
            let read = try await RequestViews.find(id.uuidString, scope: .everything, on: app.db)
            XCTAssertEqual(try json(read), try json(fluent))
            let byNumber = try await RequestViews.find(fluent.number, scope: .everything, on: app.db)
            XCTAssertEqual(byNumber.id, id)
        }
        do {
            _ = try await RequestViews.find(UUID().uuidString, scope: .everything, on: app.db)
            XCTFail("a request that does not exist")
        } catch let e as AppError { XCTAssertEqual(e.status, .notFound) }
    }

    func testRowWritesMatchFluent() async throws {
        _ = try await DemoRequests.generate(count: 40, app: app, on: app.db)
        // A template with every optional column filled, written as a new request.
        let ratedRow = try await sql.raw("SELECT id FROM service_requests WHERE rating IS NOT NULL LIMIT 1").first()
        let rated = try XCTUnwrap(ratedRow).decode(column: "id", as: UUID.self)
        let r = try await RequestViews.find(rated.uuidString, scope: .everything, on: app.db)
        r.id = UUID()
        r.number = "BENCH-1"
        r.itemCode = "notarization.kinship"
        r.applicantIDHash = "h"; r.applicantIDCipher = "c"; r.applicantIDMasked = "3501**********1234"
        r.applicantBirthDate = "1980-01-02"; r.applicantSex = "female"; r.suspendedOn = "2026-01-05"
        r.transferTarget = "court"; r.transferReference = "T-1"; r.externalReference = "E-1"; r.rejectReason = "无"
        r.createdAt = Date(timeIntervalSince1970: 1_780_000_000)
        r.updatedAt = Date(timeIntervalSince1970: 1_780_000_123.5)
        try await r.insertRow(on: sql)
        let insertedRow = try await ServiceRequest.find(r.id!, on: app.db)
        let inserted = try XCTUnwrap(insertedRow)
        XCTAssertEqual(try json(inserted), try json(r))

        // Every column written back, nulls included; the number and the time of intake kept.
        r.number = "CHANGED"
        r.status = "in_progress"; r.rating = nil; r.ratingComment = nil; r.ratedAt = nil; r.concludedOnTime = false
        r.practitionerID = nil; r.institutionID = nil; r.overdueLevel = 2
        try await r.updateRow(on: sql)
        let updatedRow = try await ServiceRequest.find(r.id!, on: app.db)
        let updated = try XCTUnwrap(updatedRow)
        r.number = "BENCH-1"
        XCTAssertEqual(try json(updated), try json(r))

        // A request read with SQL saves with Fluent as an update, not a second insert.
        let again = try await RequestViews.find(r.id!.uuidString, scope: .everything, on: app.db)
        again.summary = "经 Fluent 保存"
        try await again.save(on: app.db)
        let savedRow = try await ServiceRequest.find(r.id!, on: app.db)
        let saved = try XCTUnwrap(savedRow)
        XCTAssertEqual(saved.summary, "经 Fluent 保存")
        XCTAssertEqual(saved.status, "in_progress")
    }
}
