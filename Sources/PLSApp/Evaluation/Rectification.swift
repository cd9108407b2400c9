import Vapor
import Fluent
import SQLKit
import PLSDomain

extension RectificationStatus: ChineseNamed {}

/// 差评整改 (issue #22, item 1): a bad rating opens a rectification for the handling institution in the rating's own
/// write; the institution calls the person back, verifies, rectifies, replies; the person rates the rectification
/// once. The institution may appeal a rating as mistaken or malicious, and the county decides. Each step is an event
/// on the request's timeline (the tamper-evident record), and the watch over deadlines reminds and escalates.
enum Rectifications {
    static let schema = "rectifications"

    /// A rectification as stored (texts sealed).
    struct Stored: Decodable, Sendable {
        var id: UUID
        var requestId: UUID
        var institutionId: UUID?
        var regionCode: String
        var rating: Int
        var ratedOn: String
        var status: String
        var callbackDue: String
        var rectifyDue: String
        var callbackAttempts: Int
        var callbackReached: Bool?
        var callbackOn: String?
        var callbackNote: String?
        var verification: String?
        var measures: String?
        var rectifiedOn: String?
        var reply: String?
        var repliedOn: String?
        var appealKind: String?
        var appealReason: String?
        var appealedOn: String?
        var appealDue: String?
        var appealFromStatus: String?
        var appealUpheld: Bool?
        var appealDecisionReason: String?
        var appealDecidedOn: String?
        var followUpRating: Int?
        var followUpComment: String?
        var followUpOn: String?
        // Joined for views.
        var number: String?
        var citizenAccountId: UUID?
        var institutionName: String?
        var regionName: String?

        var state: RectificationStatus { RectificationStatus(rawValue: status) ?? .awaitingCallback }
    }

    /// What the API and pages show; `steps` are the ones the caller may take now.
    struct View: Content {
        var id: UUID
        var requestId: UUID
        var number: String
        var status: String
        var statusName: String
        var rating: Int
        var ratingName: String
        var ratedOn: String
        var institutionId: UUID?
        var institutionName: String?
        var regionCode: String
        var regionName: String
        var callbackDue: String
        var rectifyDue: String
        var overdue: Bool
        var callbackAttempts: Int
        var callbackReached: Bool?
        var callbackOn: String?
        var callbackNote: String?
        var verification: String?
        var measures: String?
        var rectifiedOn: String?
        var reply: String?
        var repliedOn: String?
        var appealKind: String?
        var appealKindName: String?
        var appealReason: String?
        var appealedOn: String?
        var appealDue: String?
        var appealUpheld: Bool?
        var appealDecisionReason: String?
        var appealDecidedOn: String?
        var followUpRating: Int?
        var followUpRatingName: String?
        var followUpComment: String?
        var followUpOn: String?
        var steps: [String]
    }

    static let select = """
        SELECT x.*, r.number, r.citizen_account_id, i.name AS institution_name, g.name AS region_name
        FROM rectifications x JOIN service_requests r ON r.id = x.request_id
        LEFT JOIN institutions i ON i.id = x.institution_id LEFT JOIN regions g ON g.code = x.region_code
        """

    static let scopeColumns = ScopeColumns(region: "x.region_code", institution: "x.institution_id", owner: "r.citizen_account_id")

    /// The timeline's names of the steps it records on the rated request.
    static let eventNames = ["rectification.open": "差评整改", "rectification.callback": "差评回访", "rectification.rectify": "核实整改",
                             "rectification.reply": "整改答复", "rectification.appeal": "差评申诉", "rectification.appeal-decision": "申诉复核",
                             "rectification.evaluation": "整改复评"]

    // MARK: Opening

    /// The city's time limits (`CityIdentity`), the appeal's 5 working days fixed.
    static func rules(_ app: Application) -> RectificationRules {
        let city = app.city
        return RectificationRules(callbackDays: city.callbackDays, rectifyDays: city.rectificationDays,
                                  appealDecisionDays: RectificationRules.standard.appealDecisionDays)
    }

    /// Opens the rectification of a bad rating, in the rating's write, and tells the institution (or the county).
    /// `ratedOn`: the day of the rating (today, but for the demo's history).
    static func open(for r: ServiceRequest, rating: Rating, writer w: Ledger.Writer, app: Application, at now: Date,
                     ratedOn: CivilDate? = nil) async throws {
        let sql = w.db as! any SQLDatabase
        let today = ratedOn ?? CivilDate(now), calendar = app.workingCalendar, rules = rules(app)
        let callbackDue = rules.callbackDue(ratedOn: today, on: calendar), rectifyDue = rules.rectifyDue(ratedOn: today, on: calendar)
        // Answered on the spot at a window, a matter has no assigned institution: the one whose staff concluded it served.
        var institution = r.institutionID
        if institution == nil {
            institution = try await sql.raw("""
                SELECT a.institution_id FROM request_events e JOIN accounts a ON a.id = e.actor_account_id
                WHERE e.request_id = \(bind: r.id!) AND e.action = \(bind: RequestAction.conclude.rawValue) ORDER BY e.seq DESC LIMIT 1
                """).first(decodingColumn: "institution_id", as: UUID?.self) ?? nil
        }
        try await sql.insert(into: schema)
            .columns("id", "request_id", "institution_id", "region_code", "rating", "rated_on", "status", "callback_due", "rectify_due",
                     "callback_attempts", "created_at", "updated_at")
            .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(institution), SQLBind(r.regionCode), SQLBind(rating.rawValue),
                    SQLBind(today.description), SQLBind(RectificationStatus.awaitingCallback.rawValue), SQLBind(callbackDue.description),
                    SQLBind(rectifyDue.description), SQLBind(0), SQLBind(now), SQLBind(now))
            .run()
        w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: nil, actorName: "系统", action: "rectification.open",
                             fromStatus: r.status, toStatus: r.status,
                             note: "差评整改：\(callbackDue) 前回访，\(rectifyDue) 前整改并答复", noteIsFixedWording: true))
        try await notifyHandlers(institution: institution, regionCode: r.regionCode, request: r.id,
                                 text: "差评待整改：事项 \(r.number) 收到“\(rating.chineseName)”评价，请于 \(callbackDue) 前回访、\(rectifyDue) 前整改并答复",
                                 now: now, on: sql)
    }

    /// Those who take the steps (`mayHandle`): the institution's administrators and window staff; without any, the county's.
    static func notifyHandlers(institution: UUID?, regionCode: String, request: UUID?, text: String, now: Date, on sql: any SQLDatabase) async throws {
        var targets: [UUID] = []
        if let institution { targets = try await Notifications.accounts(roles: [.institutionAdmin, .windowClerk], institution: institution, on: sql) }
        if targets.isEmpty {
            targets = try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(regionCode), on: sql)
        }
        try await Notifications.notify(accounts: targets, request: request, text: text, now: now, on: sql)
    }

    // MARK: Reading

    static func find(_ id: UUID, on db: any SQLDatabase) async throws -> Stored {
        guard let row = try await db.raw(SQLQueryString(select) + " WHERE x.id = \(bind: id)")
            .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("整改记录") }
        return row
    }

    /// The rectification of a request, if its rating opened one.
    static func find(request id: UUID, on db: any SQLDatabase) async throws -> Stored? {
        try await db.raw(SQLQueryString(select) + " WHERE x.request_id = \(bind: id)").first(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
    }

    /// Who may see it: the scope's rule (a citizen their own; an institution its own; a county its own).
    static func visible(_ x: Stored, to p: Principal) -> Bool {
        switch p.scope {
        case .own(let account): return x.citizenAccountId == account
        default: return p.scope.includes(region: DivisionCode(x.regionCode), institution: x.institutionId)
        }
    }

    struct Filter: Sendable {
        var request: UUID?
        var status: RectificationStatus?
        var open = false
    }

    static func list(_ filter: Filter, scope: DataScope, page: PageRequest, protector: PersonalDataProtector, today: CivilDate,
                     by p: Principal, on db: any SQLDatabase) async throws -> Paged<View> {
        var conditions: [SQLQueryString] = []
        if let c = scope.condition(scopeColumns) { conditions.append(c) }
        if let request = filter.request { conditions.append("x.request_id = \(bind: request)") }
        if let status = filter.status { conditions.append("x.status = \(bind: status.rawValue)") }
        if filter.open { conditions.append("x.status NOT IN (\(binds: [RectificationStatus.closed.rawValue, RectificationStatus.withdrawn.rawValue]))") }
        let clause: SQLQueryString = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM rectifications x JOIN service_requests r ON r.id = x.request_id" + clause)
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw(SQLQueryString(select) + clause
                                    + " ORDER BY x.rated_on DESC, x.id LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: try rows.map { try view($0, for: p, protector: protector, today: today) }, total: total, page: page.page, per: page.per)
    }

    static func view(_ x: Stored, for p: Principal, protector: PersonalDataProtector, today: CivilDate) throws -> View {
        let state = x.state
        let due = state == .awaitingCallback ? x.callbackDue : x.rectifyDue
        let overdue = [.awaitingCallback, .rectifying, .rectified].contains(state) && due < today.description
        return View(
            id: x.id, requestId: x.requestId, number: x.number ?? "", status: x.status, statusName: state.chineseName, rating: x.rating,
            ratingName: Rating(rawValue: x.rating)?.chineseName ?? "", ratedOn: x.ratedOn, institutionId: x.institutionId,
            institutionName: x.institutionName, regionCode: x.regionCode, regionName: x.regionName ?? x.regionCode,
            callbackDue: x.callbackDue, rectifyDue: x.rectifyDue, overdue: overdue,
            callbackAttempts: x.callbackAttempts, callbackReached: x.callbackReached, callbackOn: x.callbackOn,
            callbackNote: try protector.open(x.callbackNote), verification: try protector.open(x.verification),
            measures: try protector.open(x.measures), rectifiedOn: x.rectifiedOn, reply: try protector.open(x.reply), repliedOn: x.repliedOn,
            appealKind: x.appealKind, appealKindName: x.appealKind.flatMap(RatingAppealKind.init(rawValue:))?.chineseName,
            appealReason: try protector.open(x.appealReason), appealedOn: x.appealedOn, appealDue: x.appealDue, appealUpheld: x.appealUpheld,
            appealDecisionReason: try protector.open(x.appealDecisionReason), appealDecidedOn: x.appealDecidedOn,
            followUpRating: x.followUpRating, followUpRatingName: x.followUpRating.flatMap(Rating.init(rawValue:))?.chineseName,
            followUpComment: try protector.open(x.followUpComment), followUpOn: x.followUpOn,
            steps: RectificationStep.allCases.filter { may($0, x, p) && RectificationFlow.next($0, from: state, reached: true,
                                                                                                   appealed: x.appealedOn != nil).isSuccess }
                .map(\.rawValue))
    }

    // MARK: Who takes which step

    /// The handling institution's administrators and window staff take the steps; a rating of a matter no institution
    /// handled is the county's. The city's administrators may stand in for either.
    static func mayHandle(_ x: Stored, _ p: Principal) -> Bool {
        if p.role == .cityAdmin { return true }
        if let i = x.institutionId { return [.institutionAdmin, .windowClerk].contains(p.role) && p.institutionID == i }
        return p.role == .countyAdmin && p.scope.includes(regionCode: x.regionCode)
    }

    static func may(_ step: RectificationStep, _ x: Stored, _ p: Principal) -> Bool {
        switch step {
        case .callback, .rectify, .reply: return mayHandle(x, p)
        case .appeal: return x.institutionId != nil && p.role == .institutionAdmin && p.institutionID == x.institutionId
        case .appealDecision: return p.role == .cityAdmin || (p.role == .countyAdmin && p.scope.includes(regionCode: x.regionCode))
        // The person served, signed in, or an operator recording it on a follow-up call.
        case .evaluation: return (p.role == .citizen && x.citizenAccountId == p.accountID) || p.role == .hotlineOperator
        }
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
