import XCTVapor
import PLSDomain
import SQLKit
import Fluent
@testable import PLSApp

final class LedgerFormatTests: XCTestCase {
    let id = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!

    func event(actor: String, note: String?) -> LedgerEvent {
        LedgerEvent(requestID: id, atMillis: 1_772_416_800_000, actorID: nil, actorName: actor, action: "accept",
                    fromStatus: "submitted", toStatus: "accepted", note: note)
    }

    /// A separator inside a field cannot make two different events hash alike.
    func testFieldsCannotBleedIntoEachOther() {
        let a = HashChain.canonical(seq: 1, prev: HashChain.genesis, event(actor: "张三|accept", note: nil))
        let b = HashChain.canonical(seq: 1, prev: HashChain.genesis, event(actor: "张三", note: "accept"))
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.contains("张三\\|accept"))
        XCTAssertEqual(HashChain.canonical(seq: 1, prev: "p", event(actor: "a\\", note: nil)).components(separatedBy: "a\\\\").count, 2)
    }

    /// The hash is SHA-256 in lower-case hex: the format verify and every stored event rely on.
    func testHashFormat() {
        XCTAssertEqual(HashChain.hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(HashChain.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
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
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
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
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
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
        let eventsBefore = try await Ledger.verify(on: sql, protector: app.personalData).checked
        let first = try await intake(1)
        let ours = app.ledger
        // The other process, with a connection of its own: it reads the head and the counter afresh.
        let other = Ledger(databases: app.databases, sqliteFile: usesPostgres ? nil : app.settings.sqliteFile)
        app.ledger = other
        let second = try await intake(2)
        app.ledger = ours
        await other.shutdown()
        let third = try await intake(3)
        if !usesPostgres {
            XCTAssertEqual(other.counts, .init(oneStepBatches: 1, transactionBatches: 0),
                           "a fresh process reads the stored head (the intake and the applicant's notice in one step)")
            XCTAssertEqual(ours.counts.batchesRunAgain, 1, "ours found the head moved, and ran the batch again in a transaction")
        }
        let sequences = [first, second, third].map { Int($0.number.suffix(6))! }
        XCTAssertEqual(sequences, [sequences[0], sequences[0] + 1, sequences[0] + 2], "numbers continue across processes")
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + 3)
        let day = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: app.today.description)")
            .first(decodingColumn: "last", as: Int.self)
        XCTAssertEqual(day, sequences[2], "the day's counter follows the requests")
    }

    /// PostgreSQL: the first numbers of a day given out by two processes at once. Ours waits for the head's lock while the
    /// other creates the day's counter; that row is not in our statement's snapshot, and is read after the lock, so our
    /// number follows the other's instead of giving it out again.
    func testADaysCounterCreatedByAnotherProcessWhileWeWaitedForTheHeadIsNumberedAfter() async throws {
        try XCTSkipUnless(usesPostgres, "SQLite writes one process at a time")
        let day = "2031-01-02"
        let ledger = app.ledger
        let db = app.db
        let waiting = try await db.transaction { tx -> Task<Int, any Error> in
            // The other process: holds the head's lock and creates the day's counter, and commits once our write waits.
            let other = tx as! any SQLDatabase
            try await other.raw("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1").run()
            try await other.raw("INSERT INTO request_day_counters (day, last) VALUES (\(bind: day), 41)").run()
            let ours = Task { try await ledger.write(on: db, numbersOn: day) { w in try await w.nextSequence(on: day) } }
            try await Task.sleep(for: .milliseconds(500))
            return ours
        }
        let number = try await waiting.value
        XCTAssertEqual(number, 42, "the number after the other process's")
        let stored = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: day)").first(decodingColumn: "last", as: Int.self)
        XCTAssertEqual(stored, 42)
    }

    /// A batch's rows go to SQLite as cells, through SQLiteNIO (`BulkRows`, a batch in a transaction) or through the
    /// ledger's own connection (a batch whose writes only held rows), and come back column by column (`ColumnReader`): every
    /// kind of cell must come back as the row held it (dates to the microsecond, as SQLiteNIO rounds them when it reads
    /// them, and as Fluent reads them too; text with quotes, backslashes, control characters, characters beyond the BMP,
    /// an empty text that must not become NULL; flags, integers and nulls), and the chain must stay whole.
    func testABatchStoresEveryCellAsTheRequestHeldIt() async throws {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        // Held, then written by the ledger's own connection; and held, then read back by the write itself (which has the
        // batch open its transaction and write them through SQLiteNIO first).
        for (n, readsBack) in [false, true].enumerated() {
            let created = Date(timeIntervalSince1970: 1_764_892_800.123_456_7 + Double(n))
            let id = TimeOrderedID.make(millis: created.millis)
            // Built inside the write, as a write's body must (it may run twice); and once more to compare with.
            @Sendable func make() -> ServiceRequest {
                let r = ServiceRequest.heldForTest(id: id, number: "FW2026120499900\(n)", region: village, at: created)
                r.description = "引号\"、反斜杠\\、换行\n与制表\t，还有𠀀和🙂"
                r.applicantName = "王\u{0001}秀英"
                r.status = "concluded"
                r.concludedOnTime = false
                r.rating = 4
                r.ratedAt = Date(timeIntervalSince1970: 1_764_900_000.987_654_3)
                r.updatedAt = created.addingTimeInterval(0.000_1)
                return r
            }
            let r = make()
            let eventsBefore = try await Ledger.verify(on: sql, protector: app.personalData).checked
            let countsBefore = app.ledger.counts
            let seen = try await app.ledger.write(on: app.db) { w -> Int in
                try await w.save(make())
                w.append(LedgerEvent(requestID: id, atMillis: created.millis, actorID: nil, actorName: "测试\"|\\", action: "submit",
                                     fromStatus: nil, toStatus: "submitted", note: nil))
                guard readsBack else { return 1 }
                return try await (w.db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM service_requests WHERE id = \(bind: id)")
                    .first(decodingColumn: "n", as: Int.self) ?? 0
            }
            XCTAssertEqual(seen, 1, "a write sees the rows it held")
            if !usesPostgres {
                XCTAssertEqual(app.ledger.counts.oneStepBatches - countsBefore.oneStepBatches, readsBack ? 0 : 1)
                XCTAssertEqual(app.ledger.counts.transactionBatches - countsBefore.transactionBatches, readsBack ? 1 : 0)
            }
            XCTAssertEqual(app.ledger.counts.batchesRunAgain, countsBefore.batchesRunAgain)
            let back = try await RequestViews.find(r.id!.uuidString, scope: .everything, on: app.db)
            XCTAssertEqual(back.description, r.description)
            XCTAssertEqual(back.applicantName, r.applicantName)
            XCTAssertEqual(back.priorityGroupsText, "", "an empty text stays empty, not NULL")
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
            XCTAssertEqual(fluent?.priorityGroupsText, "")
            let verify = try await Ledger.verify(on: sql, protector: app.personalData)
            XCTAssertNil(verify.problem)
            XCTAssertEqual(verify.checked, eventsBefore + 1)
            let timeline = try await RequestViews.timeline(r.id!, protector: app.personalData, on: sql)
            XCTAssertEqual(timeline.map(\.actor), ["测试\"|\\"])
        }
    }

    /// A write that holds more rows than one PostgreSQL statement takes binds for (65,535): the flush, one statement for
    /// a batch's rows on PostgreSQL (`PostgresCombinedWrite`), sends them as several in the batch's transaction; every row
    /// is written, with the chain and the head.
    func testAWriteHoldingMoreRowsThanOneStatementTakesIsWrittenWhole() async throws {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let n = 2_000
        XCTAssertGreaterThan(n * (ServiceRequest.insertColumns.count + Ledger.eventColumns.count), PostgresCombinedWrite.maxBinds)
        let eventsBefore = try await Ledger.verify(on: sql, protector: app.personalData).checked
        let now = Date()
        try await app.ledger.write(on: app.db) { w in
            for i in 0..<n {
                let r = ServiceRequest.heldForTest(id: UUID(), number: "FB20261204" + String(100_000 + i), region: village, at: now)
                try await w.save(r)
                w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: nil, actorName: "测试", action: "submit",
                                     fromStatus: nil, toStatus: "submitted", note: nil))
            }
        }
        let stored = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests WHERE number LIKE 'FB20261204%'")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(stored, n)
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + n, "every event, and the head after the last")
    }

    /// Plain intakes, accepted at once or not, with an idempotency key or without, are written by the ledger's own
    /// connection (SQLite): no batch of them has to run again in a transaction. A mistake that made them would cost
    /// only speed, which no other test sees.
    func testPlainIntakesAreWrittenInOneStepByTheLedgersOwnConnection() async throws {
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let before = app.ledger.counts
        let eventsBefore = try await Ledger.verify(on: sql, protector: app.personalData).checked
        var numbers: [String] = []
        for i in 0..<4 {
            let input = Intake.Input(matterType: "consultation", category: "labor", description: "一步写入 \(i)",
                                     applicant: .init(name: "测试\(i)", mobile: "1361234100\(i)"), regionCode: village, accept: i % 2 == 0)
            let headers: HTTPHeaders = i == 3 ? ["Idempotency-Key": "one-step"] : [:]
            for attempt in 0..<(i == 3 ? 2 : 1) {
                let res = try await send(.POST, "/api/v1/requests", token: op, json: input, headers: headers)
                XCTAssertEqual(res.status, attempt == 0 ? .created : .ok, res.body.string)
                let detail = try res.content.decode(RequestViews.Detail.self)
                XCTAssertEqual(detail.status, i % 2 == 0 ? "accepted" : "submitted")
                if attempt == 0 { numbers.append(detail.number) }
            }
        }
        let after = app.ledger.counts
        XCTAssertEqual(after.oneStepBatches - before.oneStepBatches, usesPostgres ? 0 : 5, "four intakes and one retry")
        if !usesPostgres {
            // The applicant's notice (SMS and in-app) is held with the intake's rows: still one step, no transaction.
            XCTAssertEqual(after.transactionBatches - before.transactionBatches, 0, "the notices keep the intakes one step")
        }
        XCTAssertEqual(after.batchesRunAgain, before.batchesRunAgain)
        let sequences = numbers.map { Int($0.suffix(6))! }
        XCTAssertEqual(sequences, (0..<4).map { sequences[0] + $0 }, "numbers follow one another")
        // Counted by the applicants' mobiles (descriptions are sealed at rest).
        let hashes = (0..<4).map { app.personalData.lookupHash("1361234100\($0)") }
        let stored = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests WHERE applicant_mobile_hash IN (\(binds: hashes))")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(stored, 4, "the retry with the same key made no second request")
        let messages = try await sql.raw("SELECT COUNT(*) AS n FROM sms_messages WHERE mobile_hash IN (\(binds: hashes))")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(messages, 4, "each applicant is told once, in the intake's write (not again on the retry)")
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + 2 + 1 + 2 + 1, "accepted intakes have two events")
        let day = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: app.today.description)")
            .first(decodingColumn: "last", as: Int.self)
        XCTAssertEqual(day, sequences[3], "the day's counter follows the requests")
    }

    /// Writes that share a batch: a later one that reads what an earlier one held sees it (the held rows are written
    /// first, in the batch's transaction). No caller declares what its write reads; a wrong declaration used to let the
    /// later write read the table without the held row.
    func testAWriteSeesTheRowsAnEarlierWriteOfItsBatchHeld() async throws {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let now = app.clock.now
        let id = TimeOrderedID.make(millis: now.millis)
        @Sendable func make() -> ServiceRequest {
            let r = ServiceRequest()
            r.id = id
            r.number = "FW2026120499990"
            r.matterType = "consultation"; r.category = "labor"; r.channel = "web"; r.description = "同批"; r.applicantName = "同批"
            r.applicantMobileHash = "h"; r.applicantMobileCipher = "c"; r.applicantMobileMasked = "139****5678"; r.priorityGroupsText = ""
            r.regionCode = village; r.status = "submitted"; r.overdueLevel = 0; r.createdAt = now; r.updatedAt = now
            return r
        }
        let ledger = app.ledger, db = app.db
        // The first write holds the committer while the other two arrive: those two share the next batch, in order.
        async let first: Void = ledger.write(on: db) { _ in try await Task.sleep(for: .milliseconds(300)) }
        try await Task.sleep(for: .milliseconds(100))
        async let holds: Void = ledger.write(on: db) { w in
            try await w.save(make())
            w.append(LedgerEvent(requestID: id, atMillis: 1, actorID: nil, actorName: "测试", action: "submit", fromStatus: nil,
                                 toStatus: "submitted", note: nil))
        }
        try await Task.sleep(for: .milliseconds(50))
        async let reads: Int = ledger.write(on: db) { w in
            try await (w.db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM service_requests WHERE id = \(bind: id)")
                .first(decodingColumn: "n", as: Int.self) ?? 0
        }
        _ = try await first
        _ = try await holds
        let seen = try await reads
        XCTAssertEqual(seen, 1)
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
    }

    /// A write that writes through the database opens the batch's transaction right there: its statement is not
    /// committed on its own, nothing runs twice, and it is written once, with its events.
    func testAWriteThatWritesThroughTheDatabaseOpensTheBatchsTransaction() async throws {
        let request = try await send(.POST, "/api/v1/requests", token: try await token("operator"), json: Intake.Input(
            matterType: "consultation", category: "labor", description: "只读视图", applicant: .init(name: "测试", mobile: "13612342000"),
            regionCode: city.regions.first { $0.level == .village }!.code.rawValue)).content.decode(RequestViews.Detail.self)
        let before = app.ledger.counts
        let eventsBefore = try await Ledger.verify(on: sql, protector: app.personalData).checked
        try await app.ledger.write(on: app.db) { w in
            try await (w.db as! any SQLDatabase).raw("INSERT INTO request_day_counters (day, last) VALUES ('1999-01-01', 7)").run()
            w.append(LedgerEvent(requestID: request.id, atMillis: 1, actorID: nil, actorName: "测试", action: "notify",
                                 fromStatus: nil, toStatus: "accepted", note: "写入"))
        }
        if !usesPostgres { XCTAssertEqual(app.ledger.counts.transactionBatches - before.transactionBatches, 1) }
        XCTAssertEqual(app.ledger.counts.batchesRunAgain, before.batchesRunAgain)
        let rows = try await sql.raw("SELECT last FROM request_day_counters WHERE day = '1999-01-01'").all()
        XCTAssertEqual(rows.count, 1)
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
        XCTAssertEqual(verify.checked, eventsBefore + 1)
    }

    /// The ledger's own connection keeps all of a transaction or none of it, its commits are seen by SQLiteNIO's
    /// connections, and once closed it refuses transactions instead of opening the file again.
    func testTheLedgersOwnConnectionKeepsAllOfATransactionOrNothing() async throws {
        try XCTSkipIf(usesPostgres, "the ledger's own connection is SQLite's")
        let writer = DirectSQLiteWriter(path: app.settings.sqliteFile)
        let insert = "INSERT INTO request_day_counters (day, last) VALUES (?, ?)"
        do {
            try await writer.transaction { tx in
                try tx.run(insert, [BulkCell("2000-01-01"), BulkCell(1)])
                try tx.run(insert, [BulkCell("2000-01-01"), BulkCell(2)])  // the day is the primary key
            }
            XCTFail("a taken key was written")
        } catch let failure as DirectSQLiteWriter.Failure {
            XCTAssertTrue(failure.message.contains("UNIQUE"), failure.description)
        }
        let kept = try await sql.raw("SELECT COUNT(*) AS n FROM request_day_counters WHERE day = '2000-01-01'").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(kept, 0, "the first insert was rolled back with the failing one")
        struct Refused: Error {}
        do {
            try await writer.transaction { tx in
                try tx.run(insert, [BulkCell("2000-01-03"), BulkCell(3)])
                throw Refused()
            }
            XCTFail("the body's error was not thrown")
        } catch is Refused {}
        try await writer.transaction { tx in try tx.run(insert, [BulkCell("2000-01-02"), BulkCell(5)]) }
        let rows = try await sql.raw("SELECT day, last FROM request_day_counters WHERE day >= '2000-01-01' AND day < '2000-02-01'").all()
        XCTAssertEqual(try rows.map { try $0.decode(column: "day", as: String.self) }, ["2000-01-02"])
        let first = try await writer.transaction { tx in
            try tx.first("SELECT day, last, NULL AS absent, 1.5 AS half FROM request_day_counters WHERE day = ?", [BulkCell("2000-01-02")])
        }
        XCTAssertEqual(first, [.text("2000-01-02"), .integer(5), .null, .float(1.5)])
        let none = try await writer.transaction { tx in try tx.first("SELECT day FROM request_day_counters WHERE day = '1900-01-01'") }
        XCTAssertNil(none)
        await writer.close()
        do {
            try await writer.transaction { tx in try tx.run(insert, [BulkCell("2000-01-04"), BulkCell(4)]) }
            XCTFail("a closed connection wrote")
        } catch let failure as DirectSQLiteWriter.Failure {
            XCTAssertEqual(failure.code, 21)
        }
    }

    /// What a write's statement counts as: a plain read of other tables leaves the batch holding (written in one step);
    /// a write of any kind (Fluent or SQL, a `WITH` that may end in one) or a read of a table the batch holds rows for
    /// opens its transaction. SQLite: on PostgreSQL every batch is a transaction.
    func testWhatAStatementCountsAsDecidesTheBatch() async throws {
        try XCTSkipIf(usesPostgres, "on PostgreSQL every batch is a transaction")
        XCTAssertTrue(Ledger.Batch.readsHeld("SELECT * FROM service_requests r"))
        XCTAssertTrue(Ledger.Batch.readsHeld("SELECT 1 FROM \"idempotency_keys\" WHERE x"))
        XCTAssertFalse(Ledger.Batch.readsHeld("SELECT * FROM service_requests_archive"))
        XCTAssertFalse(Ledger.Batch.readsHeld("SELECT * FROM regions"))
        let region = try await Region.query(on: app.db).first()!
        let name = region.name
        let statements: [(String, Bool, @Sendable (any Database) async throws -> Void)] = [
            ("a Fluent read", false, { db in _ = try await Region.query(on: db).count() }),
            ("a plain SELECT", false, { db in _ = try await (db as! any SQLDatabase).raw("  select COUNT(*) AS n FROM regions").all() }),
            ("a Fluent save", true, { db in region.name = name; try await region.save(on: db) }),
            ("an UPDATE", true, { db in try await (db as! any SQLDatabase).raw("UPDATE regions SET name = name WHERE code = \(bind: region.id!)").run() }),
            ("a WITH", true, { db in _ = try await (db as! any SQLDatabase).raw("WITH x AS (SELECT 1 AS n) SELECT n FROM x").all() }),
            ("a read of held rows", true, { db in _ = try await (db as! any SQLDatabase).raw("SELECT COUNT(*) FROM service_requests").all() }),
        ]
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        for (n, (label, opens, statement)) in statements.enumerated() {
            let before = app.ledger.counts
            let now = app.clock.now
            try await app.ledger.write(on: app.db) { w in
                // A held row first, so that a read of its table has something to see.
                let r = ServiceRequest()
                r.id = TimeOrderedID.make(millis: now.millis + Int64(n))
                r.number = "FW202612049998\(n)"
                r.matterType = "consultation"; r.category = "labor"; r.channel = "web"; r.description = "语句"; r.applicantName = "语句"
                r.applicantMobileHash = "h"; r.applicantMobileCipher = "c"; r.applicantMobileMasked = "139****5678"; r.priorityGroupsText = ""
                r.regionCode = village; r.status = "submitted"; r.overdueLevel = 0; r.createdAt = now; r.updatedAt = now
                try await w.save(r)
                try await statement(w.db)
            }
            let after = app.ledger.counts
            XCTAssertEqual(after.transactionBatches - before.transactionBatches, opens ? 1 : 0, label)
            XCTAssertEqual(after.oneStepBatches - before.oneStepBatches, opens ? 0 : 1, label)
            XCTAssertEqual(after.batchesRunAgain, before.batchesRunAgain, label)
        }
        let verify = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verify.problem)
    }
}

extension ServiceRequest {
    /// A submitted consultation as a ledger write holds it, with every required column set.
    static func heldForTest(id: UUID, number: String, region: String, at created: Date) -> ServiceRequest {
        let r = ServiceRequest()
        r.id = id
        r.number = number
        r.matterType = "consultation"
        r.category = "labor"
        r.channel = "web"
        r.description = "测试"
        r.applicantName = "测试"
        r.applicantMobileHash = "h"
        r.applicantMobileCipher = "c"
        r.applicantMobileMasked = "139****5678"
        r.priorityGroupsText = ""
        r.regionCode = region
        r.status = "submitted"
        r.overdueLevel = 0
        r.createdAt = created
        r.updatedAt = created
        return r
    }
}
