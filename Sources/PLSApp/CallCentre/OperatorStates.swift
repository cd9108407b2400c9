import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 坐席状态 (issue #23, item 2): each operator's state and since when, set by the exchange's events (a call answered,
/// ended) and by the operator on the console; the wallboard counts them and the exchange may read them to route calls.
enum OperatorStates {
    static let schema = "operator_states"

    struct Line: Content {
        var username: String
        var name: String
        var state: String
        var stateName: String
        var since: Date
        /// Minutes in this state, for the wallboard.
        var minutes: Int
    }

    /// Sets an operator's state (an upsert: an operator without a row is offline).
    static func set(_ account: UUID, to state: OperatorState, at now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO operator_states (account_id, state, since) VALUES (\(bind: account), \(bind: state.rawValue), \(bind: now))
            ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, since = excluded.since
            """).run()
    }

    struct Input: Content { var state: String? }

    /// The operator's own choice on the console; a call in progress is the exchange's to end.
    static func choose(_ input: Input, by p: Principal, app: Application) async throws -> Line {
        guard p.role == .hotlineOperator, p.client == nil else { throw AppError(.forbidden, "forbidden", "仅 12348 坐席设置自己的状态") }
        var errors = FieldErrors()
        let state = errors.choice(input.state, "state", "坐席状态", as: OperatorState.self)
        if let state, !OperatorState.chosen.contains(state) { errors.add("state", "“通话中”由话务系统根据来电自动设置") }
        try errors.throwIfAny()
        let db = app.db as! any SQLDatabase
        try await set(p.accountID, to: state!, at: app.clock.now, on: db)
        return try await list(app: app, on: db, only: p.accountID).first!
    }

    /// The hotline's operators with their states (those never signed in as offline), the longest in a state first within each.
    static func list(app: Application, on db: any SQLDatabase, only account: UUID? = nil) async throws -> [Line] {
        struct R: Decodable { var id: UUID; var username: String; var displayName: String; var state: String?; var since: Date? }
        var query: SQLQueryString = """
            SELECT a.id, a.username, a.display_name, s.state, s.since FROM accounts a LEFT JOIN operator_states s ON s.account_id = a.id
            WHERE a.role = \(bind: Role.hotlineOperator.rawValue) AND a.active = \(bind: true) AND a.username NOT LIKE 'system:%'
            """
        if let account { query = query + " AND a.id = \(bind: account)" }
        let now = app.clock.now
        // By state in the order the wallboard lists them, the longest in it first.
        return try await db.raw(query + " ORDER BY a.username LIMIT 500").all(decoding: R.self, keyDecodingStrategy: .snakeCase).map { r in
            let state = r.state.flatMap(OperatorState.init(rawValue:)) ?? .offline
            let since = r.since ?? now
            return (OperatorState.allCases.firstIndex(of: state) ?? 0,
                    Line(username: r.username, name: r.displayName, state: state.rawValue, stateName: state.chineseName, since: since,
                         minutes: max(0, Int(now.timeIntervalSince(since) / 60))))
        }.sorted { ($0.0, $0.1.since) < ($1.0, $1.1.since) }.map(\.1)
    }

    /// The console's bar: the operator's state and the ones they may choose.
    struct Bar: Encodable { var state: String; var stateName: String; var since: String; var choices: [SelectOption] }

    static func bar(for p: Principal, app: Application, on db: any SQLDatabase) async throws -> Bar? {
        guard p.role == .hotlineOperator, p.client == nil, let me = try await list(app: app, on: db, only: p.accountID).first else { return nil }
        return Bar(state: me.state, stateName: me.stateName, since: String(DateFormatter.chinaTime.string(from: me.since).suffix(5)),
                   choices: OperatorState.chosen.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == me.state) })
    }
}

/// Each operator's state, one row per operator.
struct M050CreateOperatorStates: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(OperatorStates.schema)
            .field("account_id", .uuid, .identifier(auto: false), .references(Account.schema, "id"))
            .field("state", .string, .required)
            .field("since", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OperatorStates.schema).delete()
    }
}
