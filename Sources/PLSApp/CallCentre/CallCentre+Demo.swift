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
        for window in ["1", "2", "3", "1", "2", "3"] {
            let t = try await CentreQueue.callNext(at: centre, .init(window: window), by: clerk, app: app)
            if window != "3" { _ = try await CentreQueue.finish(t.id, at: centre, served: true, by: clerk, app: app) }
        }
    }
}
