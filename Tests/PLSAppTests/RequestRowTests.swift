import XCTVapor
import Fluent
import SQLKit
@testable import PLSApp

/// The request row is spelled out in several places for speed (the Fluent model, the migration, the insert columns and
/// cells, the column reader). These tests fail when one of them misses or misplaces a column.
final class RequestRowTests: AppTestCase {
    /// Records which columns a reader asks for, answering each with a placeholder.
    private final class RecordingReader: ColumnReader, @unchecked Sendable {
        var asked: [String] = []
        func text(_ c: String) throws -> String { asked.append(c); return "" }
        func optionalText(_ c: String) throws -> String? { asked.append(c); return nil }
        func uuid(_ c: String) throws -> UUID { asked.append(c); return UUID() }
        func optionalUUID(_ c: String) throws -> UUID? { asked.append(c); return nil }
        func date(_ c: String) throws -> Date { asked.append(c); return Date() }
        func optionalDate(_ c: String) throws -> Date? { asked.append(c); return nil }
        func int(_ c: String) throws -> Int { asked.append(c); return 0 }
        func optionalInt(_ c: String) throws -> Int? { asked.append(c); return nil }
        func int64(_ c: String) throws -> Int64 { asked.append(c); return 0 }
        func optionalBool(_ c: String) throws -> Bool? { asked.append(c); return nil }
    }

    func testEveryPlaceNamesTheSameColumns() async throws {
        let stored: [String]
        if app.settings.usesEmbeddedDatabase {
            stored = try await sql.raw("SELECT name FROM pragma_table_info('service_requests')").all(decodingColumn: "name", as: String.self)
        } else {
            stored = try await sql.raw("""
                SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'service_requests'
                """).all(decodingColumn: "column_name", as: String.self)
        }
        let inserted = ServiceRequest.insertColumns
        XCTAssertEqual(Set(inserted).count, inserted.count, "a column inserted twice")
        XCTAssertEqual(Set(inserted), Set(stored), "the insert columns are the table's")
        XCTAssertEqual(Set(ServiceRequest.keys.map(\.description)), Set(stored), "the Fluent model's fields are the table's")
        let reader = RecordingReader()
        _ = try ServiceRequest.read(reader)
        XCTAssertEqual(Set(reader.asked), Set(stored), "the column reader reads every column")
        let r = try await sample()
        XCTAssertEqual(r.insertCells.count, inserted.count, "a cell for each insert column")
    }

    /// A request with a different value in every column (references to rows the demo has).
    private func sample(_ n: Int = 1) async throws -> ServiceRequest {
        struct Refs: Decodable { var region: String; var account: UUID; var institution: UUID; var practitioner: UUID }
        let refs = try await sql.raw("""
            SELECT (SELECT code FROM regions ORDER BY code LIMIT 1) AS region, (SELECT id FROM accounts ORDER BY id LIMIT 1) AS account,
                   (SELECT id FROM institutions ORDER BY id LIMIT 1) AS institution, (SELECT id FROM practitioners ORDER BY id LIMIT 1) AS practitioner
            """).first(decoding: Refs.self)!
        let at = Date(timeIntervalSince1970: TimeInterval(1_790_000_000 + n * 1000))
        let r = ServiceRequest()
        r.id = UUID()
        r.number = "ROW\(n)-number"; r.matterType = "m\(n)"; r.itemCode = "ic\(n)"; r.category = "c\(n)"; r.channel = "ch\(n)"
        r.description = "d\(n)"; r.applicantName = "an\(n)"; r.applicantMobileHash = "mh\(n)"; r.applicantMobileCipher = "mc\(n)"
        r.applicantMobileMasked = "mm\(n)"; r.applicantIDHash = "ih\(n)"; r.applicantIDCipher = "icp\(n)"; r.applicantIDMasked = "im\(n)"
        r.applicantBirthDate = "bd\(n)"; r.applicantSex = "sx\(n)"; r.priorityGroupsText = "pg\(n)"; r.regionCode = refs.region
        r.citizenAccountID = refs.account; r.enteredBy = refs.account; r.institutionID = refs.institution; r.practitionerID = refs.practitioner
        r.status = "st\(n)"; r.acceptDue = "ad\(n)"; r.concludeDue = "cd\(n)"; r.suspendedOn = "so\(n)"; r.transferTarget = "tt\(n)"
        r.transferReference = "tr\(n)"; r.externalReference = "er\(n)"; r.rejectReason = "rr\(n)"; r.outcome = "oc\(n)"; r.summary = "su\(n)"
        r.concludedOn = "co\(n)"; r.concludedOnTime = n % 2 == 1; r.rating = n; r.ratingComment = "rc\(n)"; r.ratedAt = at
        r.overdueLevel = n + 1; r.createdAt = at.addingTimeInterval(1); r.updatedAt = at.addingTimeInterval(2)
        return r
    }

    private func json(_ r: ServiceRequest) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(r)) as! [String: Any]
        return object.mapValues { "\($0)" }
    }

    /// Written by the plain-SQL path, read by Fluent and by the column reader: every value where it belongs.
    func testARowWrittenAndUpdatedByHandReadsBackTheSame() async throws {
        let r = try await sample(1)
        try await r.insertRow(on: sql)
        let found = try await ServiceRequest.find(r.id, on: app.db)
        let viaFluent = try XCTUnwrap(found)
        XCTAssertEqual(try json(viaFluent), try json(r))
        var viaReader = try await ColumnRows.all("SELECT * FROM service_requests WHERE id = \(bind: r.id!)", on: sql) { try ServiceRequest.read($0) }
        XCTAssertEqual(try json(viaReader[0]), try json(r))
        // Every column changed but the two that never change (the number and the time of intake).
        let changed = try await sample(2)
        changed.id = r.id
        changed.$id.exists = true
        changed.number = r.number
        changed.createdAt = r.createdAt
        try await changed.updateRow(on: sql)
        viaReader = try await ColumnRows.all("SELECT * FROM service_requests WHERE id = \(bind: r.id!)", on: sql) { try ServiceRequest.read($0) }
        XCTAssertEqual(try json(viaReader[0]), try json(changed))
    }
}
