import Vapor
import Fluent
import SQLKit
import PLSDomain

/// `pls demo generate --requests N`: a realistic year of history for the benchmark — channels, categories,
/// states, timelines on the hash chain, ratings and the running indicator figures — written in large batches.
/// One run of the generator; a class so that its running state can be carried into transactions.
final class DemoRequests: @unchecked Sendable {
    struct Summary { var requests: Int; var events: Int; var seconds: Double }

    private struct Practitioners {
        /// county prefix → matter type → practitioner ids and their institutions
        var byCounty: [String: [MatterType: [(UUID, UUID, String)]]] = [:]
    }

    static func generate(count: Int, app: Application, on database: any Database) async throws -> Summary {
        try await DemoRequests().run(count: count, app: app, on: database)
    }

    private var rng = SeededGenerator(seed: 12348)
    private var seq: Int64 = 0
    private var prev = HashChain.genesis
    private var dayCounters: [String: Int] = [:]
    private var stats: [String: (Int, Int, Int, Int)] = [:]
    private var requestRows: [[BulkCell]] = []
    private var eventRows: [[BulkCell]] = []
    private var caseRows: [[BulkCell]] = []
    private var mediationRows: [[BulkCell]] = []
    static let mediationColumns = ["request_id", "source", "people_involved", "mass", "consent", "outcome", "closed_on", "agreement_form",
                                   "agreement_effective_on", "created_at"]
    static let caseColumns = ["request_id", "kind", "aid_matter", "statuses", "means_test", "eligible_at_intake", "pledge", "received_on",
                              "paused_calendar_days", "paused_working_days", "decision", "decided_on", "designation_due", "designated_on",
                              "designee_type", "created_at", "centre_id"]
    private var events = 0

    private func run(count: Int, app: Application, on database: any Database) async throws -> Summary {
        let started = Date()
        let db = database as! any SQLDatabase
        if try await DemoLoader.isEmpty(database) {
            try await DemoLoader.load(DemoCity(scale: .full), app: app, on: database)
        }
        let existing = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(ServiceRequest.schema)
            .first(decodingColumn: "n", as: Int.self) ?? 0
        guard existing == 0 else { throw AppError.conflict("not_empty", "数据库中已有事项，请在新的数据目录中生成") }

        struct V: Decodable { var code: String }
        let villages = try await db.select().column("code").from(Region.schema).where("level", .equal, "village").orderBy("code")
            .all(decoding: V.self).map(\.code)
        struct P: Decodable { var id: UUID; var type: String; var institutionId: UUID; var regionCode: String; var name: String }
        let people = try await db.select().columns("id", "type", "institution_id", "region_code", "name").from(Practitioner.schema)
            .all(decoding: P.self, keyDecodingStrategy: .snakeCase)
        var pool = Practitioners()
        let typeOf = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0.type) })
        for p in people {
            let county = String(p.regionCode.prefix(6))
            for m in MatterType.allCases where m.practitionerTypes.contains(where: { $0.rawValue == p.type }) {
                pool.byCounty[county, default: [:]][m, default: []].append((p.id, p.institutionId, p.name))
                if p.regionCode == DemoCity.cityCode.rawValue {
                    for c in ["349901", "349902", "349921", "349922", "349923"] { pool.byCounty[c, default: [:]][m, default: []].append((p.id, p.institutionId, p.name)) }
                }
            }
        }
        // Each county's legal aid centre takes its applications (as `LegalAidCases` routes them).
        struct Centre: Decodable { var id: UUID; var regionCode: String }
        let centres = Dictionary(try await db.select().columns("id", "region_code").from(Institution.schema)
            .where("type", .equal, InstitutionType.legalAidCentre.rawValue).all(decoding: Centre.self, keyDecodingStrategy: .snakeCase)
            .map { (String($0.regionCode.prefix(6)), $0.id) }, uniquingKeysWith: { a, _ in a })
        let operatorID = try await db.select().column("id").from(Account.schema).where("username", .equal, "operator")
            .first(decodingColumn: "id", as: UUID.self)

        let calendar = app.workingCalendar
        let protector = app.personalData
        let now = app.clock.now
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        let yearMs: Int64 = 365 * 86_400_000
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
        let given = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌")
        // Names and descriptions are sealed as intake seals them; the few distinct ones once each (a ciphertext
        // reused across demo rows), since sealing a million of each took longer than writing them.
        var sealedNames: [String: String] = [:]
        for sn in surnames { for gn in given { sealedNames[String(sn) + String(gn)] = try protector.seal(String(sn) + String(gn)) } }
        var sealedDescriptions: [String: String] = [:]
        for c in PLSDomain.Category.allCases { for m in MatterType.allCases {
            let text = "（演示）\(c.chineseName)方面的\(m.chineseName)事项"
            sealedDescriptions[text] = try protector.seal(text)
        } }
        let channels: [(RequestChannel, Int)] = [(.web, 25), (.mobile, 20), (.hotline, 30), (.window, 15), (.transfer12345, 5), (.transfer110, 3), (.referral, 2)]
        let matters: [(MatterType, Int)] = [(.consultation, 55), (.mediation, 15), (.legalAid, 10), (.notarization, 8), (.judicialAppraisal, 3),
                                            (.arbitration, 2), (.villageAdviser, 4), (.legalPublicity, 2), (.complaint, 1)]
        let categories: [(PLSDomain.Category, Int)] = [(.labor, 20), (.marriageFamily, 18), (.contractDebt, 14), (.property, 8), (.traffic, 8), (.land, 7),
                                                       (.personalInjury, 6), (.consumer, 5), (.educationMedical, 4), (.foodDrug, 2), (.environment, 2),
                                                       (.tourism, 1), (.criminal, 2), (.administrative, 2), (.other, 1)]
        // One cipher per distinct mobile: encrypting a million numbers one by one is most of the work otherwise.
        var mobiles: [(hash: String, cipher: String, masked: String)] = []
        for i in 0..<min(count, 200_000) {
            let digits = "13" + String(format: "%09d", (i &* 7_919) % 1_000_000_000)
            mobiles.append((protector.lookupHash(digits), try protector.encrypt(digits), Masking.mobile(digits)))
        }
        let requestColumns = ["id", "number", "matter_type", "category", "channel", "description", "applicant_name", "applicant_mobile_hash",
                              "applicant_mobile_cipher", "applicant_mobile_masked", "priority_groups", "region_code", "entered_by", "institution_id",
                              "practitioner_id", "status", "accept_due", "conclude_due", "outcome", "summary", "concluded_on", "concluded_on_time",
                              "rating", "rating_comment", "rated_at", "overdue_level", "created_at", "updated_at"]
        let eventColumns = Ledger.eventColumns
        // Spread over the past year, oldest first, so numbers and the chain run forward in time.
        let offsets = (0..<count).map { _ in Int64.random(in: 0..<yearMs, using: &rng) }.sorted(by: >)


        // Built again once the rows are in; also when the load fails, so that the database keeps its indexes.
        let deferred = try await DeferredSchema.setAside([ServiceRequest.schema, "request_events", LegalAidCase.schema, MediationCase.schema],
                                                         on: database)
        do {
            var done = 0
            while done < count {
                let batchEnd = min(done + 50_000, count)
                let batchStart = done, mobiles = mobiles, pool = pool, sealedNames = sealedNames, sealedDescriptions = sealedDescriptions
                try await database.atomic { [self] tx in
                    let sql = tx as! any SQLDatabase
                    if sql.dialect.name == "sqlite" {
                        // A page cache large enough for the keys filled during the load: with SQLite's default 2 MB, most of
                        // the load was pages evicted and read back (measured: about half its time).
                        try await sql.raw("PRAGMA cache_size = -1048576").run()
                    }
                    // Each row of the batch, made off the event loop: the writes of the rows before it continue on
                    // the loop meanwhile (measured: made on the loop, the two took turns and the load used one core).
                    let makeRow: @Sendable (Int) -> Void = { [self] i in
                        let createdMs = nowMs - offsets[i]
                        let created = Date(timeIntervalSince1970: Double(createdMs) / 1000)
                        let day = CivilDate(created)
                        let n = (dayCounters[day.description] ?? 0) + 1
                        dayCounters[day.description] = n
                        // Time-ordered, as intake makes them: each insert lands at the end of the id indexes.
                        let id = TimeOrderedID.make(millis: createdMs)
                        let channel = weighted(channels)
                        let matter = weighted(matters)
                        let category = weighted(categories)
                        let region = villages[Int.random(in: 0..<villages.count, using: &rng)]
                        let mobile = mobiles[Int.random(in: 0..<mobiles.count, using: &rng)]
                        let name = String(surnames[Int.random(in: 0..<surnames.count, using: &rng)]) + String(given[Int.random(in: 0..<given.count, using: &rng)])
                        let rules = matter.defaultRules
                        let ageDays = Int(offsets[i] / 86_400_000)
                        let concludeDue = rules.conclude.due(from: day, on: calendar)
                        // Older requests are mostly concluded; recent ones are still moving.
                        var path: [RequestAction] = [.submit]
                        let roll = Int.random(in: 0..<100, using: &rng)
                        if roll < 3 { path.append(.reject) }
                        else if ageDays < 2 { if roll < 50 { path.append(.accept) } }
                        else {
                            path.append(.accept)
                            if matter == .consultation && channel == .hotline { path.append(.conclude) }
                            else if roll < 6 { path.append(.transfer) }
                            else {
                                path += [.assign, .start]
                                if roll % 11 == 0 { path += [.suspend, .resume] }
                                if ageDays > 10 || roll < 40 { path.append(.conclude) }
                            }
                        }
                        let candidates = pool.byCounty[String(region.prefix(6))]?[matter] ?? []
                        let assignee = candidates.isEmpty ? nil : candidates[Int.random(in: 0..<candidates.count, using: &rng)]
                        var status = RequestStatus.submitted
                        var t = createdMs
                        var concludedOn: String?, onTime: Bool?, rating: Int?, ratedAt: Date?
                        for action in path {
                            let from = action == .submit ? nil : status
                            if action != .submit {
                                status = RequestLifecycle.rules[action]!.to
                                t += Int64.random(in: 60_000...(action == .conclude ? 6 * 86_400_000 : 86_400_000), using: &rng)
                                t = min(t, nowMs - 1)
                            }
                            if action == .conclude {
                                let d = CivilDate(Date(timeIntervalSince1970: Double(t) / 1000))
                                concludedOn = d.description
                                onTime = d <= concludeDue
                            }
                            seq += 1
                            let e = LedgerEvent(requestID: id, atMillis: t, actorID: operatorID, actorName: action == .submit ? name : "12348 热线坐席",
                                                action: action.rawValue, fromStatus: from?.rawValue, toStatus: status.rawValue, note: nil)
                            let h = HashChain.hash(HashChain.canonical(seq: seq, prev: prev, e))
                            eventRows.append([BulkCell(seq), BulkCell(id), BulkCell(t), BulkCell(operatorID), BulkCell(e.actorName), BulkCell(e.action),
                                              BulkCell(e.fromStatus), BulkCell(e.toStatus), BulkCell(e.note), BulkCell(prev), BulkCell(h)])
                            prev = h
                            events += 1
                        }
                        if status == .concluded, Int.random(in: 0..<100, using: &rng) < 85 {
                            rating = weighted([(5, 62), (4, 25), (3, 8), (2, 3), (1, 2)])
                            ratedAt = Date(timeIntervalSince1970: Double(min(t + 3_600_000, nowMs)) / 1000)
                            seq += 1
                            let e = LedgerEvent(requestID: id, atMillis: Int64(ratedAt!.timeIntervalSince1970 * 1000), actorID: operatorID, actorName: name,
                                                action: "evaluate", fromStatus: status.rawValue, toStatus: status.rawValue, note: "申请人评价：\(Rating(rawValue: rating!)!.chineseName)")
                            let h = HashChain.hash(HashChain.canonical(seq: seq, prev: prev, e))
                            eventRows.append([BulkCell(seq), BulkCell(id), BulkCell(e.atMillis), BulkCell(operatorID), BulkCell(e.actorName), BulkCell(e.action),
                                              BulkCell(e.fromStatus), BulkCell(e.toStatus), BulkCell(e.note), BulkCell(prev), BulkCell(h)])
                            prev = h
                            events += 1
                        }
                        if let concludedOn, let year = Int(concludedOn.prefix(4)) {
                            let key = "\(region)|\(year)"
                            var s = stats[key] ?? (0, 0, 0, 0)
                            s.0 += 1; s.1 += onTime == true ? 1 : 0; s.2 += rating != nil ? 1 : 0; s.3 += (rating ?? 0) >= 4 ? 1 : 0
                            stats[key] = s
                        }
                        let assigned = [RequestStatus.assigned, .inProgress, .suspended, .concluded].contains(status) && !path.contains(.transfer) && path.contains(.assign)
                        requestRows.append([
                            BulkCell(id), BulkCell(RequestNumber.make(date: day, sequence: n)), BulkCell(matter.rawValue), BulkCell(category.rawValue),
                            BulkCell(channel.rawValue), BulkCell(sealedDescriptions["（演示）\(category.chineseName)方面的\(matter.chineseName)事项"] ?? ""), BulkCell(sealedNames[name] ?? ""),
                            BulkCell(mobile.hash), BulkCell(mobile.cipher), BulkCell(mobile.masked), BulkCell(""), BulkCell(region), BulkCell(operatorID),
                            BulkCell(assigned ? assignee?.1 : nil), BulkCell(assigned ? assignee?.0 : nil), BulkCell(status.rawValue),
                            BulkCell(rules.accept.due(from: day, on: calendar).description),
                            BulkCell(status == .submitted || status == .rejected ? nil : concludeDue.description),
                            BulkCell(status == .concluded ? "resolved" : nil), BulkCell(status == .concluded ? "（演示）已办结" : nil),
                            BulkCell(concludedOn), BulkCell(onTime), BulkCell(rating), BulkCell(rating.map { _ in "（演示）" }), BulkCell(ratedAt),
                            BulkCell(0), BulkCell(created), BulkCell(Date(timeIntervalSince1970: Double(t) / 1000)),
                        ])
                        if matter == .legalAid, path.count > 1 {
                            // The case row of each legal aid request: decided the day it was accepted, designated a day or so later.
                            let granted = path[1] == .accept
                            let designated = assigned ? day.adding(days: Int.random(in: 0...4, using: &rng)) : nil
                            caseRows.append([
                                BulkCell(id), BulkCell(AidCaseKind.civil.rawValue),
                                BulkCell(AidMatter.defaults[Int.random(in: 0..<AidMatter.defaults.count, using: &rng)].id), BulkCell(""),
                                BulkCell(MeansTest.passed.rawValue), BulkCell(granted), BulkCell(true), BulkCell(day.description), BulkCell(0), BulkCell(0),
                                BulkCell(granted ? "granted" : "refused"), BulkCell(day.description),
                                BulkCell(AidDeadline.designation.defaultRule.due(from: day, on: calendar).description),
                                BulkCell(designated?.description), BulkCell(assigned ? assignee.flatMap { typeOf[$0.0] } : nil), BulkCell(created),
                                BulkCell(centres[String(region.prefix(6))]),
                            ])
                        }
                        if matter == .mediation {
                            // The case row: consent once work started, most concluded cases settled in a written agreement.
                            let started = path.contains(.start)
                            let settled = concludedOn != nil && Int.random(in: 0..<100, using: &rng) < 85
                            let sources = MediationSource.allCases
                            mediationRows.append([
                                BulkCell(id), BulkCell(sources[Int.random(in: 0..<sources.count, using: &rng)].rawValue), BulkCell(2), BulkCell(false),
                                BulkCell(started ? "given" : "pending"),
                                BulkCell(concludedOn == nil ? nil : (settled ? MediationOutcome.success.rawValue : MediationOutcome.failure.rawValue)),
                                BulkCell(concludedOn), BulkCell(settled ? AgreementForm.written.rawValue : nil), BulkCell(settled ? concludedOn : nil), BulkCell(created),
                            ])
                        }
                    }
                    var next = batchStart
                    while next < batchEnd {
                        let rows = next..<min(next + 4_000, batchEnd)
                        await Self.offload { for i in rows { makeRow(i) } }
                        try await self.flush(sql, requestColumns, eventColumns)
                        next = rows.upperBound
                    }
                    try await self.writing?.value
                    self.writing = nil
                }
                done = batchEnd
            }
            try await database.atomic { [self] tx in
                let sql = tx as! any SQLDatabase
                let counters = Array(dayCounters)
                for chunk in stride(from: 0, to: counters.count, by: 500) {
                    var insert = sql.insert(into: "request_day_counters").columns("day", "last")
                    for (d, n) in counters[chunk..<min(chunk + 500, counters.count)] { insert = insert.values(SQLBind(d), SQLBind(n)) }
                    try await insert.run()
                }
                let rows = Array(stats)
                for chunk in stride(from: 0, to: rows.count, by: 500) {
                    for (key, s) in rows[chunk..<min(chunk + 500, rows.count)] {
                        let parts = key.split(separator: "|")
                        try await Stats.add(region: String(parts[0]), year: Int(parts[1])!, concluded: s.0, onTime: s.1, rated: s.2, satisfied: s.3, on: sql)
                    }
                }
                try await sql.update("ledger_head").set("last_seq", to: SQLBind(seq)).set("last_hash", to: SQLBind(prev)).where("id", .equal, SQLBind(1)).run()
            }
        } catch {
            try? await deferred.restore(on: database)
            throw error
        }
        try await deferred.restore(on: database)
        // Statistics for the planner, as after any bulk load.
        try await db.raw("ANALYZE").run()
        if db.dialect.name == "sqlite" {
            // Hand the server a database without a write-ahead log to copy back first (at a million requests,
            // a quarter of a gigabyte that the first commits after start would wait for).
            try await db.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
        }
        return Summary(requests: count, events: events, seconds: Date().timeIntervalSince(started))
    }

    private func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var x = Int.random(in: 0..<total, using: &rng)
        for (v, w) in items { if x < w { return v }; x -= w }
        return items[0].0
    }

    /// Runs `work` on a thread of its own and waits for it.
    private static func offload(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { work(); done.resume() }
        }
    }

    /// The rows written while the next ones are made: the database works on the thread pool while this
    /// generator's own work goes on (measured: the two took about equal time, one after the other before).
    private var writing: Task<Void, any Error>?

    /// Hands the rows made so far to the writer, once the rows before them are written (they refer to them).
    private func flush(_ db: any SQLDatabase, _ requestColumns: [String], _ eventColumns: [String]) async throws {
        let requests = requestRows, events = eventRows, cases = caseRows, mediation = mediationRows
        requestRows = []
        eventRows = []
        caseRows = []
        mediationRows = []
        try await writing?.value
        writing = Task {
            if db.dialect.name != "sqlite" {
                try await BulkRows.copy(ServiceRequest.schema, requestColumns, requests[...], on: db)
                try await BulkRows.copy("request_events", eventColumns, events[...], on: db)
                try await BulkRows.copy(LegalAidCase.schema, Self.caseColumns, cases[...], on: db)
                try await BulkRows.copy(MediationCase.schema, Self.mediationColumns, mediation[...], on: db)
                return
            }
            for chunk in stride(from: 0, to: requests.count, by: 400) {
                try await BulkRows.insert(ServiceRequest.schema, requestColumns, requests[chunk..<min(chunk + 400, requests.count)], on: db)
            }
            for chunk in stride(from: 0, to: events.count, by: 2_000) {
                try await BulkRows.insert("request_events", eventColumns, events[chunk..<min(chunk + 2_000, events.count)], on: db)
            }
            for chunk in stride(from: 0, to: cases.count, by: 400) {
                try await BulkRows.insert(LegalAidCase.schema, Self.caseColumns, cases[chunk..<min(chunk + 400, cases.count)], on: db)
            }
            for chunk in stride(from: 0, to: mediation.count, by: 400) {
                try await BulkRows.insert(MediationCase.schema, Self.mediationColumns, mediation[chunk..<min(chunk + 400, mediation.count)], on: db)
            }
        }
    }
}

/// `pls demo generate --requests N`
struct DemoCommand: AsyncCommandGroup {
    var commands: [String: any AnyAsyncCommand] = ["generate": DemoGenerateCommand(), "calls": DemoCallsCommand()]
    var help: String { "Demo data" }
}

struct DemoGenerateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "requests", help: "How many service requests (default 1,000,000)")
        var requests: Int?
    }
    var help: String { "Fill an empty database with a year of service requests" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let n = signature.requests ?? 1_000_000
        guard n > 0 else { context.console.error("--requests 须为正数"); throw ExitCode(1) }
        do {
            let s = try await DemoRequests.generate(count: n, app: context.application, on: context.application.db)
            context.console.success("已生成 \(s.requests) 件事项、\(s.events) 条时间线事件，用时 \(String(format: "%.1f", s.seconds)) 秒")
            // The leaders' view of that history: the months kept, last month's reports (as `serve` does for the demo).
            let started = ContinuousClock.now
            try await LeadersDemo.seed(app: context.application)
            context.console.info("已保存逐月指标和月报，用时 \((ContinuousClock.now - started).components.seconds) 秒")
        } catch let e as AppError {
            context.console.error(e.message)
            throw ExitCode(1)
        }
    }
}
