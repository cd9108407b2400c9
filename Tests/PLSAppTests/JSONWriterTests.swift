import XCTest
import Vapor
import SQLKit
@testable import PLSApp
import PLSDomain

/// The hand-written JSON of the request list and of one request must mean exactly what JSONEncoder's does.
final class JSONWriterTests: AppTestCase {
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    private func parsed(_ bytes: some Sequence<UInt8>) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as! NSObject
    }

    private func assertSameJSON<T: JSONWritable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        var json = JSONWriter()
        try value.write(to: &json)
        let mine = try parsed(json.bytes), theirs = try parsed(try encoder.encode(value))
        XCTAssertEqual(mine, theirs, String(decoding: json.bytes, as: UTF8.self), file: file, line: line)
    }

    func testListAndDetailMatchJSONEncoder() async throws {
        _ = try await DemoRequests.generate(count: 300, app: app, on: app.db)
        let page = try await RequestViews.list(.init(), scope: .everything, page: PageRequest(page: 1, per: 100), today: app.today, protector: app.personalData, on: sql)
        XCTAssertEqual(page.items.count, 100)
        try assertSameJSON(page)
        // One of each matter type and status: legal aid and mediation carry their case, others leave it out.
        var firstOfKind: [String: UUID] = [:]
        for row in try await sql.raw("SELECT id, matter_type, status FROM service_requests ORDER BY number").all() {
            let kind = try row.decode(column: "matter_type", as: String.self) + "/" + row.decode(column: "status", as: String.self)
            if firstOfKind[kind] == nil { firstOfKind[kind] = try row.decode(column: "id", as: UUID.self) }
        }
        let ids = Array(firstOfKind.values)
        XCTAssertGreaterThan(ids.count, 10)
        let operatorToken = try await token("operator")
        var sectionKeys: Set<String> = []
        for id in ids {
            let r = try await RequestViews.find(id.uuidString, scope: .everything, on: app.db)
            let detail = try await RequestViews.detail(r, for: nil, app: app, on: sql)
            try assertSameJSON(detail)
            sectionKeys.formUnion(detail.sections.map { "\($0.key)" })
            // And through the route, as a department system reads it.
            let res = try await send(.GET, "/api/v1/requests/\(id)", token: operatorToken)
            XCTAssertEqual(res.status, .ok)
            XCTAssertEqual(res.headers.contentType, .json)
            let body = try parsed(Array(res.body.readableBytesView)) as! NSDictionary
            XCTAssertEqual(body["id"] as? String, id.uuidString)
        }
        // The matter cases' sections were among them, written the same both ways.
        XCTAssertTrue(sectionKeys.isSuperset(of: ["legalAid", "mediation"]), "\(sectionKeys)")
    }

    func testStringsAndDates() throws {
        struct Sample: JSONWritable {
            var text: String
            var at: Date
            var missing: String?
            func write(to json: inout JSONWriter) {
                json.object { $0.field("text", text); $0.field("at", at); $0.field("missing", missing) }
            }
        }
        let awkward = "引号\"、反斜杠\\、换行\n回车\r制表\t响铃\u{07}、斜杠/ 与 emoji 👩‍⚖️"
        for seconds in [0, 1_780_000_000.9996, 951_782_400.5, 4_102_444_799.999, 1_709_164_800] as [Double] {
            try assertSameJSON(Sample(text: awkward, at: Date(timeIntervalSince1970: seconds)))
        }
        // Text that needs no escape is copied whole.
        for plain in ["王秀英 👩‍⚖️ 无需转义", "", "~ DEL\u{7F} é"] {
            try assertSameJSON(Sample(text: plain, at: Date(timeIntervalSince1970: 0)))
        }
        var json = JSONWriter()
        Sample(text: "a", at: Date(timeIntervalSince1970: 951_782_400), missing: nil).write(to: &json)
        XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), #"{"text":"a","at":"2000-02-29T00:00:00Z"}"#)
    }
}
