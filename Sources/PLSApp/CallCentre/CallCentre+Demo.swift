import Vapor
import SQLKit
import PLSDomain

/// Today's calls at the demo hotline and tickets at the demo city's centre, through the real handlers (as the
/// exchange and the kiosk would send them): the wallboard, the callback list and the hall screen have something to show.
enum PlatformsDemo {
    static func seed(app: Application) async throws {
        let now = app.clock.now
        var rng = SeededGenerator(seed: 12_348_023)
        // Calls over the last three hours: most answered within seconds, a few let go, two messages; ratings after.
        for n in 0..<36 {
            let rang = now.addingTimeInterval(-Double(10_800 - n * 290))
            let id = "DEMO-\(CivilDate(now).description)-\(n)"
            let caller = "139" + String(format: "%08d", (n &* 7_919) % 100_000_000)
            _ = try await Calls.handle(.init(callId: id, event: CallEvent.ring.rawValue, caller: caller, queue: "12348", at: rang), app: app)
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 8 {
                _ = try await Calls.handle(.init(callId: id, event: CallEvent.hangup.rawValue, at: rang.addingTimeInterval(40)), app: app)
                continue
            }
            if roll < 12 {
                _ = try await Calls.handle(.init(callId: id, event: CallEvent.voicemail.rawValue, at: rang.addingTimeInterval(30), recording: "rec-\(n).wav"), app: app)
                continue
            }
            let wait = Double(Int.random(in: 3...35, using: &rng))
            _ = try await Calls.handle(.init(callId: id, event: CallEvent.answer.rawValue, operator: "operator", at: rang.addingTimeInterval(wait)), app: app)
            _ = try await Calls.handle(.init(callId: id, event: CallEvent.hangup.rawValue, at: rang.addingTimeInterval(wait + 240)), app: app)
            if roll < 70 {
                let digit = roll < 16 ? 2 : (roll < 30 ? 4 : 5)
                _ = try await Calls.handle(.init(callId: id, event: CallEvent.rating.rawValue, at: rang.addingTimeInterval(wait + 250), digit: digit), app: app)
            }
        }
        // The city centre's morning: tickets of every matter, some priority, the first ones called and served.
        struct C: Decodable { var institutionId: UUID? }
        guard let centre = try await (app.db as! any SQLDatabase).raw("SELECT institution_id FROM accounts WHERE username = 'clerk'")
            .first(decoding: C.self, keyDecodingStrategy: .snakeCase)?.institutionId else { return }
        let matters: [MatterType] = [.consultation, .consultation, .legalAid, .mediation, .notarization, .consultation, .judicialAppraisal, .legalAid]
        for (i, m) in (matters + matters).enumerated() {
            _ = try await CentreQueue.issue(at: centre, .init(matterType: m.rawValue, priority: i % 5 == 3 ? .group(PriorityGroup.elderly.rawValue) : nil),
                                            app: app)
        }
        let clerk = Principal(accountID: try await (app.db as! any SQLDatabase).raw("SELECT id FROM accounts WHERE username = 'clerk'")
                                .first(decodingColumn: "id", as: UUID.self) ?? UUID(),
                              displayName: "窗口", role: .windowClerk, region: nil, institutionID: centre, practitionerID: nil)
        // The city's centre hosts every function; the counties' all but notarization (a shortfall to show).
        let sql = app.db as! any SQLDatabase
        struct Centre: Decodable { var id: UUID; var regionCode: String }
        let centres = try await sql.raw("""
            SELECT i.id, i.region_code FROM institutions i JOIN regions g ON g.code = i.region_code
            WHERE i.type = 'public_legal_service_centre' AND g.level IN ('city', 'county')
            """).all(decoding: Centre.self, keyDecodingStrategy: .snakeCase)
        for c in centres {
            let functions = c.id == centre ? StationedFunction.allCases : StationedFunction.required(at: .county).filter { $0 != .notarization }
            for f in functions {
                try await sql.insert(into: CentreStations.schema).columns("centre_id", "function", "mode", "note", "updated_at")
                    .values(SQLBind(c.id), SQLBind(f.rawValue), SQLBind((f == .lawyer ? StationingMode.rota : .window).rawValue),
                            SQLBind(f == .lawyer ? "律师事务所轮流值班" : nil), SQLBind(now)).run()
            }
        }
        // Its windows, and the clerk on duty at the first all week.
        let admin = Principal(accountID: try await sql.raw("SELECT id FROM accounts WHERE username = 'admin'").first(decodingColumn: "id", as: UUID.self) ?? UUID(),
                              displayName: "管理员", role: .cityAdmin, region: app.city.code, institutionID: nil, practitionerID: nil)
        let system = AuditLog.Actor(id: nil, name: "演示数据", address: "local")
        var firstWindow: UUID?
        for (number, matters) in [("1", [MatterType.consultation, .legalAid]), ("2", [.mediation, .notarization, .consultation]),
                                  ("3", [.consultation, .judicialAppraisal, .arbitration, .legalAid])] {
            let w = try await CentreSetup.saveWindow(at: centre, .init(number: number, matters: matters.map(\.rawValue)), by: admin, app: app, actor: system)
            firstWindow = firstWindow ?? w.id
        }
        let week = (0..<7).map { CivilDate(now).adding(days: $0) }.filter { app.workingCalendar.isWorkingDay($0) }
        try await CentreSetup.saveRota(at: centre, .init(duties: week.map { .init(windowId: firstWindow!, day: $0.description, accountId: clerk.accountID, name: nil) }),
                                       by: admin, app: app, actor: system)
        for window in ["1", "2", "3", "1", "2", "3"] {
            let t = try await CentreQueue.callNext(at: centre, .init(window: window), by: clerk, app: app)
            if window != "3" { _ = try await CentreQueue.finish(t.id, at: centre, served: true, by: clerk, app: app) }
        }
        // The demo citizen's appointment on the next working day, and one a caller booked on the hotline.
        let next = app.workingCalendar.nextWorkingDay(onOrAfter: CivilDate(now).adding(days: 1)).description
        if let citizen = try await sql.raw("SELECT id FROM accounts WHERE role = 'citizen' ORDER BY created_at LIMIT 1").first(decodingColumn: "id", as: UUID.self) {
            let p = Principal(accountID: citizen, displayName: "群众", role: .citizen, region: app.city.code, institutionID: nil, practitionerID: nil)
            _ = try await Appointments.book(at: centre, .init(matterType: MatterType.legalAid.rawValue, day: next, slot: "09:00", name: "王秀英",
                                                              mobile: DemoCity.citizenMobile), by: p, app: app)
        }
        if let op = try await sql.raw("SELECT id FROM accounts WHERE username = 'operator'").first(decodingColumn: "id", as: UUID.self) {
            let p = Principal(accountID: op, displayName: "坐席", role: .hotlineOperator, region: app.city.code, institutionID: nil, practitionerID: nil)
            _ = try await Appointments.book(at: centre, .init(matterType: MatterType.mediation.rawValue, day: next, slot: "10:00", name: "赵建国",
                                                              mobile: "13955570321"), by: p, app: app)
            // The operator is at the console; this month's quality sample is drawn and one call scored.
            try await OperatorStates.set(op, to: .available, at: now, on: sql)
            try await CallQualityChecks.draw(month: nil, app: app)
            if let check = try await sql.raw("SELECT id FROM call_quality_checks ORDER BY created_at LIMIT 1").first(decodingColumn: "id", as: UUID.self) {
                _ = try await CallQualityChecks.score(check, .init(greeting: 20, accuracy: 35, attitude: 20, closure: 15, comment: "解答准确，结束语可更完整"),
                                                      by: admin, app: app)
            }
        }
    }

    /// The demo's telephone exchange, with credentials anyone running the demo knows (like its accounts' password), for
    /// `pls demo calls`.
    static let exchangeClientID = "pls-demo-exchange"
    static let exchangeSecret = DemoCity.password + "-exchange"

    static func registerDemoExchange(app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        try await app.cityStore.reload(from: sql)
        let admin = Principal(accountID: try await sql.raw("SELECT id FROM accounts WHERE username = 'admin'").first(decodingColumn: "id", as: UUID.self) ?? UUID(),
                              displayName: "管理员", role: .cityAdmin, region: app.city.code, institutionID: nil, practitionerID: nil)
        let created = try await SystemClients.register(.init(name: "12348 呼叫中心交换机（演示）", scopes: [ClientScope.telephony.rawValue], rateLimit: 100_000),
                                                       by: admin, app: app, actor: AuditLog.Actor(id: nil, name: "演示数据", address: "local"))
        try await (app.db as! any SQLDatabase).update(SystemClients.schema).set("client_id", to: exchangeClientID)
            .set("secret_digest", to: Tokens.digest(exchangeSecret)).set("secret_sealed", to: try app.personalData.seal(exchangeSecret))
            .where("id", .equal, created.id).run()
    }
}

/// `pls demo calls`: a day of the exchange's events replayed against a running server, as the telephone exchange would
/// send them (ring, answer, hang-up, messages, keypad ratings), several calls at once; prints the events per second.
struct DemoCallsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "url", help: "The server (default http://127.0.0.1:8080)")
        var url: String?
        @Option(name: "calls", help: "How many calls (default 400)")
        var calls: Int?
        @Option(name: "concurrency", help: "Calls in progress at once (default 16)")
        var concurrency: Int?
        @Option(name: "client-id", help: "The exchange's client id (default the demo's)")
        var clientID: String?
        @Option(name: "client-secret", help: "Its secret (default the demo's)")
        var clientSecret: String?
    }
    var help: String { "Replay a day of 12348 call events against a running server" }

    struct Event: Encodable { var callId: String; var event: String; var caller: String?; var queue = "12348"; var `operator`: String?; var at: Date; var digit: Int? }

    /// A day's calls: most answered within seconds by the operators on duty, some let go, some messages, ratings after.
    static func day(calls n: Int, operators: [String], now: Date, seed: UInt64) -> [[Event]] {
        var rng = SeededGenerator(seed: seed)
        let start = max(CivilDate(now).startInChina, now.addingTimeInterval(-8 * 3_600))
        let span = max(60, now.timeIntervalSince(start) - 600)
        let run = String(Int(now.timeIntervalSince1970))
        return (0..<n).map { i in
            let id = "REPLAY-\(run)-\(i)"
            let rang = start.addingTimeInterval(span * Double(i) / Double(max(1, n)))
            let caller = "13" + String(Int.random(in: 0...9, using: &rng)) + String(format: "%08d", Int.random(in: 0..<100_000_000, using: &rng))
            var events = [Event(callId: id, event: "ring", caller: caller, operator: nil, at: rang, digit: nil)]
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 5 || operators.isEmpty {
                events.append(.init(callId: id, event: "hangup", caller: nil, operator: nil, at: rang.addingTimeInterval(45), digit: nil))
            } else if roll < 9 {
                events.append(.init(callId: id, event: "voicemail", caller: nil, operator: nil, at: rang.addingTimeInterval(30), digit: nil))
            } else {
                let op = operators[Int.random(in: 0..<operators.count, using: &rng)]
                let wait = Double(Int.random(in: 2...30, using: &rng))
                events.append(.init(callId: id, event: "answer", caller: nil, operator: op, at: rang.addingTimeInterval(wait), digit: nil))
                events.append(.init(callId: id, event: "hangup", caller: nil, operator: nil, at: rang.addingTimeInterval(wait + 180), digit: nil))
                if roll < 60 {
                    events.append(.init(callId: id, event: "rating", caller: nil, operator: nil, at: rang.addingTimeInterval(wait + 190),
                                        digit: roll < 13 ? 2 : (roll < 25 ? 4 : 5)))
                }
            }
            return events
        }
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let base = (signature.url ?? "http://127.0.0.1:8080").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let n = signature.calls ?? 400, concurrency = signature.concurrency ?? 16
        guard (1...100_000).contains(n), (1...256).contains(concurrency) else {
            context.console.error("--calls 应为 1–100000，--concurrency 应为 1–256")
            throw ExitCode(1)
        }
        let client = context.application.client
        let token: String
        do {
            let res = try await client.post(URI(string: base + "/api/v1/oauth/token")) {
                try $0.content.encode(["grant_type": "client_credentials", "client_id": signature.clientID ?? PlatformsDemo.exchangeClientID,
                                       "client_secret": signature.clientSecret ?? PlatformsDemo.exchangeSecret], as: .urlEncodedForm)
            }
            guard res.status == .ok else { throw AppError(.unauthorized, "invalid_client", "换取令牌失败（\(res.status.code)）：请检查 --client-id 和 --client-secret") }
            token = try res.content.decode(SystemClients.TokenAnswer.self).access_token
        } catch let e as AppError {
            context.console.error(e.message)
            throw ExitCode(1)
        } catch {
            context.console.error("无法连接 \(base)：请先运行 pls serve")
            throw ExitCode(1)
        }
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        let operators = (try? await client.get(URI(string: base + "/api/v1/operators"), headers: headers).content.decode([OperatorStates.Line].self))?
            .map(\.username) ?? []
        let calls = Self.day(calls: n, operators: operators, now: Date(), seed: UInt64(n))
        let total = calls.reduce(0) { $0 + $1.count }
        let started = Date()
        // Each call's events in order; several calls at once, as an exchange with many lines sends them.
        let (failed, firstFailure) = try await withThrowingTaskGroup(of: (Int, String?).self) { group -> (Int, String?) in
            var next = 0, failures = 0, first: String?
            func start() {
                guard next < calls.count else { return }
                let events = calls[next]
                next += 1
                group.addTask { [app = context.application, headers, base] in
                    let client = app.client
                    let encoder = JSONEncoder()
                    encoder.dateEncodingStrategy = .iso8601
                    var bad = 0, why: String?
                    for e in events {
                        let res = try? await client.post(URI(string: base + "/api/v1/telephony/events"), headers: headers) {
                            $0.headers.contentType = .json
                            $0.body = ByteBuffer(data: try encoder.encode(e))
                        }
                        if res?.status != .accepted {
                            bad += 1
                            why = why ?? res.map { "\($0.status.code) \($0.body.map { String(buffer: $0) }?.prefix(200) ?? "")" } ?? "无应答"
                        }
                    }
                    return (bad, why)
                }
            }
            for _ in 0..<concurrency { start() }
            while let (bad, why) = try await group.next() {
                failures += bad
                first = first ?? why
                start()
            }
            return (failures, first)
        }
        let seconds = Date().timeIntervalSince(started)
        context.console.success("已重放 \(n) 个来电的 \(total) 个话务事件，用时 \(String(format: "%.1f", seconds)) 秒，"
                                + "每秒 \(Int(Double(total) / max(seconds, 0.001))) 个；失败 \(failed) 个")
        if failed > 0 {
            context.console.error("首个失败：\(firstFailure ?? "")")
            throw ExitCode(1)
        }
    }
}
