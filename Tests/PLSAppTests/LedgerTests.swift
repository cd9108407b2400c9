import XCTVapor
import PLSDomain
@testable import PLSApp

final class LedgerFormatTests: XCTestCase {
    let id = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!

    func event(actor: String, note: String?) -> LedgerEvent {
        LedgerEvent(requestID: id, atMillis: 1_772_416_800_000, actorID: nil, actorName: actor, action: "accept",
                    fromStatus: "submitted", toStatus: "accepted", note: note)
    }

    /// A separator inside a field cannot make two different events hash alike.
    func testFieldsCannotBleedIntoEachOther() {
        let a = Ledger.canonical(seq: 1, prev: Ledger.genesis, event(actor: "张三|accept", note: nil))
        let b = Ledger.canonical(seq: 1, prev: Ledger.genesis, event(actor: "张三", note: "accept"))
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.contains("张三\\|accept"))
        XCTAssertEqual(Ledger.canonical(seq: 1, prev: "p", event(actor: "a\\", note: nil)).components(separatedBy: "a\\\\").count, 2)
    }

    /// The hash is SHA-256 in lower-case hex: the format verify and every stored event rely on.
    func testHashFormat() {
        XCTAssertEqual(Ledger.hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Ledger.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// Writes that share one commit keep their own outcome, and the chain stays whole.
final class GroupCommitTests: AppTestCase {
    func testConcurrentWritesAndAFailingOneShareTheChain() async throws {
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        func body(_ i: Int) -> Intake.Input {
            Intake.Input(matterType: "consultation", category: "labor", description: "并发登记 \(i)",
                         applicant: .init(name: "测试\(i)", mobile: "1361234\(String(format: "%04d", i))"), regionCode: village, accept: false)
        }
        let first = try await send(.POST, "/api/v1/requests", token: op, json: body(0)).content.decode(RequestViews.Detail.self)
        let app = self.app!
        let headers: HTTPHeaders = ["Authorization": "Bearer \(op)"]
        let inputs = (1...12).map(body)
        let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
            for input in inputs {
                group.addTask {
                    try await app.testable().sendRequest(.POST, "/api/v1/requests", headers: headers) { req async throws in
                        try req.content.encode(input, as: .json)
                    }.status
                }
            }
            // Two clerks accept the same request at once: one wins, the other is told it is already accepted.
            for _ in 0..<2 {
                group.addTask {
                    try await app.testable().sendRequest(.POST, "/api/v1/requests/\(first.id)/accept", headers: headers) { _ async throws in }.status
                }
            }
            var all: [HTTPStatus] = []
            for try await s in group { all.append(s) }
            return all
        }
        XCTAssertEqual(statuses.filter { $0 == .created }.count, 12)
        XCTAssertEqual(statuses.filter { $0 == .ok }.count, 1)
        XCTAssertEqual(statuses.filter { $0 == .conflict }.count, 1)
        let verify = try await Ledger.verify(on: sql)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, 1 + 12 + 1)
        let numbers = try await ServiceRequest.query(on: app.db).all().map(\.number)
        XCTAssertEqual(Set(numbers).count, 13, "every request its own number")
    }

    func testAFailingWriteInABatchUndoesOnlyItself() async throws {
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let input = Intake.Input(matterType: "consultation", category: "labor", description: "账本批量写入",
                                 applicant: .init(name: "测试", mobile: "13612340000"), regionCode: village, accept: false)
        let request = try await send(.POST, "/api/v1/requests", token: op, json: input).content.decode(RequestViews.Detail.self)
        struct Refused: Error {}
        let app = self.app!
        // Twenty writes queued at once share batches; the seventh appends an event and then fails.
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<20 {
                group.addTask {
                    do {
                        try await app.ledger.write(on: app.db) { w in
                            w.append(LedgerEvent(requestID: request.id, atMillis: Int64(i), actorID: nil, actorName: "测试", action: "notify",
                                                       fromStatus: nil, toStatus: "submitted", note: "第 \(i) 次"))
                            if i == 7 { throw Refused() }
                        }
                        return (i, true)
                    } catch { return (i, false) }
                }
            }
            var all: [Int: Bool] = [:]
            for await (i, ok) in group { all[i] = ok }
            return all
        }
        XCTAssertEqual(outcomes.filter { !$0.value }.map(\.key), [7])
        let notes = try await sql.raw("SELECT note FROM request_events WHERE action = 'notify' ORDER BY seq").all()
            .map { try $0.decode(column: "note", as: String.self) }
        XCTAssertEqual(notes.count, 19)
        XCTAssertFalse(notes.contains("第 7 次"))
        let verify = try await Ledger.verify(on: sql)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, 1 + 19)
    }

    /// A batch starts from the head and the day's number its own last commit left (SQLite); another process
    /// (here: a second ledger, as a second `pls serve` or a CLI command would have) may have moved both since.
    func testWritesContinueAfterAnotherProcessMovedTheChainAndTheNumbers() async throws {
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        func intake(_ i: Int) async throws -> RequestViews.Detail {
            let input = Intake.Input(matterType: "consultation", category: "labor", description: "另一进程 \(i)",
                                     applicant: .init(name: "测试\(i)", mobile: "1361234000\(i)"), regionCode: village, accept: false)
            let res = try await send(.POST, "/api/v1/requests", token: op, json: input)
            XCTAssertEqual(res.status, .created, res.body.string)
            return try res.content.decode(RequestViews.Detail.self)
        }
        let eventsBefore = try await Ledger.verify(on: sql).checked
        let first = try await intake(1)
        let ours = app.ledger
        app.ledger = Ledger(databases: app.databases)  // the other process: it reads the head and the counter afresh
        let second = try await intake(2)
        app.ledger = ours
        let third = try await intake(3)
        let sequences = [first, second, third].map { Int($0.number.suffix(6))! }
        XCTAssertEqual(sequences, [sequences[0], sequences[0] + 1, sequences[0] + 2], "numbers continue across processes")
        let verify = try await Ledger.verify(on: sql)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + 3)
        let day = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: app.today.description)")
            .first(decodingColumn: "last", as: Int.self)
        XCTAssertEqual(day, sequences[2], "the day's counter follows the requests")
    }

    /// A batch's rows go to SQLite as cells (`BulkRows`) and come back column by column (`ColumnReader`): every kind
    /// of cell must come back as the row held it (dates to the microsecond, as SQLiteNIO rounds them when it reads
    /// them, and as Fluent reads them too; text with quotes, backslashes, control characters
    /// and characters beyond the BMP, flags, integers and nulls), and the chain must stay whole.
    func testABatchStoresEveryCellAsTheRequestHeldIt() async throws {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let created = Date(timeIntervalSince1970: 1_764_892_800.123_456_7)
        let r = ServiceRequest()
        r.id = TimeOrderedID.make(millis: created.millis)
        r.number = "FW20261204999001"
        r.matterType = "consultation"
        r.category = "labor"
        r.channel = "web"
        r.description = "引号\"、反斜杠\\、换行\n与制表\t，还有𠀀和🙂"
        r.applicantName = "王\u{0001}秀英"
        r.applicantMobileHash = "h"
        r.applicantMobileCipher = "c"
        r.applicantMobileMasked = "139****5678"
        r.priorityGroupsText = ""
        r.regionCode = village
        r.status = "concluded"
        r.concludedOnTime = false
        r.rating = 4
        r.ratedAt = Date(timeIntervalSince1970: 1_764_900_000.987_654_3)
        r.overdueLevel = 0
        r.createdAt = created
        r.updatedAt = created.addingTimeInterval(0.000_1)
        let eventsBefore = try await Ledger.verify(on: sql).checked
        try await app.ledger.write(on: app.db, appendOnly: true) { w in
            try await w.save(r)
            w.append(LedgerEvent(requestID: r.id!, atMillis: created.millis, actorID: nil, actorName: "测试\"|\\", action: "submit",
                                 fromStatus: nil, toStatus: "submitted", note: nil))
        }
        let back = try await RequestViews.find(r.id!.uuidString, scope: .everything, on: app.db)
        XCTAssertEqual(back.description, r.description)
        XCTAssertEqual(back.applicantName, r.applicantName)
        XCTAssertEqual(back.createdAt.timeIntervalSince1970, r.createdAt.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertEqual(back.updatedAt.timeIntervalSince1970, r.updatedAt.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertEqual(back.ratedAt!.timeIntervalSince1970, r.ratedAt!.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertNotEqual(back.updatedAt, back.createdAt, "a tenth of a millisecond apart stays apart")
        XCTAssertEqual(back.concludedOnTime, false)
        XCTAssertEqual(back.rating, 4)
        XCTAssertNil(back.itemCode)
        XCTAssertNil(back.citizenAccountID)
        let fluent = try await ServiceRequest.find(r.id, on: app.db)
        XCTAssertEqual(fluent?.createdAt, back.createdAt, "Fluent reads it the same")
        let verify = try await Ledger.verify(on: sql)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + 1)
        let timeline = try await RequestViews.timeline(r.id!, on: sql)
        XCTAssertEqual(timeline.map(\.actor), ["测试\"|\\"])
    }
}
