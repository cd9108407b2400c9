import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 实体平台的取号叫号 (issue #23, item 1): a ticket at a centre's entrance, by matter, the groups the plan names first;
/// a clerk calls the next from the window; the hall screen shows who is called where; waiting and service times kept.
enum CentreQueue {
    static let schema = "queue_tickets"

    /// The centres that take tickets: the public legal service centres, stations and rooms of the registry.
    static let centreTypes: [InstitutionType] = [.publicLegalServiceCentre, .publicLegalServiceStation, .publicLegalServiceRoom]

    enum Status: String, CaseIterable { case waiting, called, served, noShow = "no_show" }

    struct Ticket: Content {
        var id: UUID
        var number: String
        var matterType: String
        var matterTypeName: String
        var priority: Bool
        var priorityGroupName: String?
        var status: String
        var issuedAt: Date
        var calledAt: Date?
        var window: String?
        var servedAt: Date?
        /// Ahead of it in the same centre's queue when it was issued (what the visitor is told).
        var ahead: Int?
        /// Issued on checking in for an appointment.
        var appointment: Bool = false
    }

    struct TicketInput: Content {
        var matterType: String?
        /// A group the plan serves first (`elderly`, `disabled` …), or `true` for priority without naming one.
        var priority: PriorityInput?
    }

    /// `priority` as a department system or a kiosk sends it: a boolean or a group.
    enum PriorityInput: Codable, Sendable {
        case flag(Bool)
        case group(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) } else { self = .group(try c.decode(String.self)) }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self { case .flag(let b): try c.encode(b); case .group(let g): try c.encode(g) }
        }
    }

    /// `matters`: what the window serves (all when empty): it calls only those tickets.
    struct CallInput: Content { var window: String?; var matters: [String]? }

    static func centre(_ id: UUID, on db: any SQLDatabase) async throws -> (name: String, region: String) {
        struct C: Decodable { var name: String; var regionCode: String; var type: String; var active: Bool }
        guard let c = try await db.raw("SELECT name, region_code, type, active FROM institutions WHERE id = \(bind: id)")
            .first(decoding: C.self, keyDecodingStrategy: .snakeCase), c.active,
              let type = InstitutionType(rawValue: c.type), centreTypes.contains(type) else { throw AppError.notFound("服务中心") }
        return (c.name, c.regionCode)
    }

    /// A ticket: numbered by the centre's day, the waiting count ahead of it told.
    static func issue(at centre: UUID, _ input: TicketInput, appointment: UUID? = nil, app: Application,
                      alsoIn extra: (@Sendable (any SQLDatabase, UUID) async throws -> Void)? = nil) async throws -> Ticket {
        let db = app.db as! any SQLDatabase
        _ = try await self.centre(centre, on: db)
        var errors = FieldErrors()
        let matter = errors.choice(input.matterType, "matterType", "办理事项", as: MatterType.self)
        var group: PriorityGroup?
        var priority = false
        switch input.priority {
        case .flag(let b)?: priority = b
        case .group(let g)?:
            if g.isEmpty || g == "none" { break }
            guard let pg = PriorityGroup(rawValue: g) else { errors.add("priority", "优先群体取值无效"); break }
            group = pg
            priority = true
        case nil: break
        }
        try errors.throwIfAny()
        let now = app.clock.now, today = app.today.description
        let id = UUID()
        // Two tickets at the same instant take the same next number; the second is numbered again.
        for attempt in 0..<5 {
            do {
                return try await issueOnce(id: id, centre: centre, matter: matter!, priority: priority, group: group, appointment: appointment, today: today,
                                           now: now, app: app, alsoIn: extra)
            }
            catch let e as any DatabaseError where e.isConstraintFailure && attempt < 4 { continue }
        }
        throw AppError.conflict("queue_busy", "取号繁忙，请重试")
    }

    private static func issueOnce(id: UUID, centre: UUID, matter: MatterType, priority: Bool, group: PriorityGroup?, appointment: UUID?, today: String,
                                  now: Date, app: Application, alsoIn extra: (@Sendable (any SQLDatabase, UUID) async throws -> Void)?) async throws -> Ticket {
        try await app.db.atomic { tx -> Ticket in
            let sql = tx as! any SQLDatabase
            let last = try await sql.raw("SELECT MAX(sequence) AS n FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today)")
                .first(decodingColumn: "n", as: Int?.self) ?? nil
            let sequence = (last ?? 0) + 1
            let number = QueueTicket.number(matter: matter, sequence: sequence)
            let ahead = try await sql.raw("""
                SELECT COUNT(*) AS n FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today) AND status = 'waiting'
                """).first(decodingColumn: "n", as: Int.self) ?? 0
            try await sql.raw("""
                INSERT INTO queue_tickets (id, centre_id, day, sequence, number, matter_type, priority, priority_group, status, issued_at, appointment_id)
                VALUES (\(bind: id), \(bind: centre), \(bind: today), \(bind: sequence), \(bind: number), \(bind: matter.rawValue), \(bind: priority),
                        \(bind: group?.rawValue), 'waiting', \(bind: now), \(bind: appointment))
                """).run()
            try await extra?(sql, id)
            return Ticket(id: id, number: number, matterType: matter.rawValue, matterTypeName: matter.chineseName, priority: priority,
                          priorityGroupName: group?.chineseName, status: Status.waiting.rawValue, issuedAt: now, calledAt: nil, window: nil,
                          servedAt: nil, ahead: ahead, appointment: appointment != nil)
        }
    }

    /// Who works a centre's queue: its own staff (the window clerks stationed there), and the county or city bureau.
    static func mayWork(_ p: Principal, centre: UUID, region: String) -> Bool {
        guard p.client == nil else { return false }
        if p.role == .windowClerk || p.role == .institutionAdmin { return p.institutionID == centre }
        return p.role == .cityAdmin || (p.role == .countyAdmin && p.scope.includes(regionCode: region))
    }

    /// The window calls the next: priority first, then the longest waiting; claimed in one statement, so two windows
    /// never call the same ticket.
    static func callNext(at centre: UUID, _ input: CallInput, by p: Principal, app: Application) async throws -> Ticket {
        let db = app.db as! any SQLDatabase
        let c = try await self.centre(centre, on: db)
        guard mayWork(p, centre: centre, region: c.region) else { throw AppError(.forbidden, "forbidden", "只有本中心的窗口人员可以叫号") }
        var errors = FieldErrors()
        let window = errors.required(input.window, "window", "窗口号", maxLength: 10)
        var serving = Set<MatterType>()
        for raw in (input.matters ?? []).prefix(20) {
            if let m = MatterType(rawValue: raw) { serving.insert(m) } else { errors.add("matters", "办理事项取值无效") }
        }
        try errors.throwIfAny()
        let today = app.today.description, now = app.clock.now
        // A window in the centre's registry serves its registered matters unless the clerk chose others.
        if serving.isEmpty, let registered = try await CentreSetup.windows(of: centre, day: app.today, activeOnly: true, on: db).first(where: { $0.number == window }) {
            serving = Set(registered.matters.compactMap(MatterType.init(rawValue:)))
        }
        for _ in 0..<5 {
            struct W: Decodable { var id: UUID; var priority: Bool; var issuedAt: Date; var matterType: String; var sequence: Int; var appointmentId: UUID? }
            let waiting = try await db.raw("""
                SELECT id, priority, issued_at, matter_type, sequence, appointment_id FROM queue_tickets
                WHERE centre_id = \(bind: centre) AND day = \(bind: today) AND status = 'waiting'
                ORDER BY priority DESC, CASE WHEN appointment_id IS NULL THEN 1 ELSE 0 END, issued_at, sequence LIMIT 500
                """).all(decoding: W.self, keyDecodingStrategy: .snakeCase)
            let candidates = waiting.map { QueueTicket.Waiting(id: $0.id.uuidString, priority: $0.priority, issuedAt: $0.issuedAt.timeIntervalSince1970,
                                                               matter: MatterType(rawValue: $0.matterType) ?? .consultation, sequence: $0.sequence,
                                                               appointment: $0.appointmentId != nil) }
            guard let next = QueueTicket.next(candidates, serving: serving), let id = UUID(uuidString: next.id),
                  let issued = waiting.first(where: { $0.id == id })?.issuedAt else {
                throw AppError.conflict("queue_empty", serving.isEmpty ? "当前没有等候的号" : "本窗口办理的事项当前没有等候的号")
            }
            let claimed = try await db.raw("""
                UPDATE queue_tickets SET status = 'called', called_at = \(bind: now), window_number = \(bind: window), called_by = \(bind: p.accountID),
                       wait_seconds = \(bind: max(0, Int(now.timeIntervalSince(issued))))
                WHERE id = \(bind: id) AND status = 'waiting' RETURNING id
                """).all()
            if !claimed.isEmpty { return try await find(id, on: db) }
        }
        throw AppError.conflict("queue_busy", "叫号繁忙，请重试")
    }

    /// Served, or not there when called (过号).
    static func finish(_ ticket: UUID, at centre: UUID, served: Bool, by p: Principal, app: Application) async throws -> Ticket {
        let db = app.db as! any SQLDatabase
        let c = try await self.centre(centre, on: db)
        guard mayWork(p, centre: centre, region: c.region) else { throw AppError(.forbidden, "forbidden", "只有本中心的窗口人员可以办理") }
        let done = try await db.raw("""
            UPDATE queue_tickets SET status = \(bind: served ? Status.served.rawValue : Status.noShow.rawValue), served_at = \(bind: app.clock.now)
            WHERE id = \(bind: ticket) AND centre_id = \(bind: centre) AND status = 'called' RETURNING id
            """).all()
        guard !done.isEmpty else {
            _ = try await find(ticket, on: db)
            throw AppError.conflict("not_called", "该号尚未叫到或已办理")
        }
        return try await find(ticket, on: db)
    }

    static let columns = "id, number, matter_type, priority, priority_group, status, issued_at, called_at, window_number, served_at, appointment_id"
    struct Stored: Decodable {
        var id: UUID; var number: String; var matterType: String; var priority: Bool; var priorityGroup: String?; var status: String
        var issuedAt: Date; var calledAt: Date?; var windowNumber: String?; var servedAt: Date?; var appointmentId: UUID?
    }

    static func ticket(_ s: Stored) -> Ticket {
        Ticket(id: s.id, number: s.number, matterType: s.matterType, matterTypeName: MatterType(rawValue: s.matterType)?.chineseName ?? s.matterType,
               priority: s.priority, priorityGroupName: s.priorityGroup.flatMap(PriorityGroup.init(rawValue:))?.chineseName, status: s.status,
               issuedAt: s.issuedAt, calledAt: s.calledAt, window: s.windowNumber, servedAt: s.servedAt, ahead: nil, appointment: s.appointmentId != nil)
    }

    static func find(_ id: UUID, on db: any SQLDatabase) async throws -> Ticket {
        guard let s = try await db.raw("SELECT \(unsafeRaw: columns) FROM queue_tickets WHERE id = \(bind: id)")
            .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("号") }
        return ticket(s)
    }

    /// The hall screen's and the clerk's view of today: who was called last, who waits, and the day's waiting times.
    struct Board: Content {
        var centreName: String
        var called: [Ticket]
        var waiting: [Ticket]
        var waitingCount: Int
        var servedCount: Int
        var averageWaitMinutes: Int?
    }

    /// `forHall`: what anyone in the hall may see, the numbers and windows; which group a ticket was served first for
    /// (残疾人, 老年人) stays with the staff.
    static func board(_ centre: UUID, forHall: Bool = false, app: Application) async throws -> Board {
        let db = app.db as! any SQLDatabase
        let c = try await self.centre(centre, on: db)
        let today = app.today.description
        let called = try await db.raw("""
            SELECT \(unsafeRaw: columns) FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today) AND status IN ('called', 'served')
            ORDER BY called_at DESC LIMIT 8
            """).all(decoding: Stored.self, keyDecodingStrategy: .snakeCase).map(ticket)
        let waiting = try await db.raw("""
            SELECT \(unsafeRaw: columns) FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today) AND status = 'waiting'
            ORDER BY priority DESC, CASE WHEN appointment_id IS NULL THEN 1 ELSE 0 END, issued_at, sequence LIMIT 50
            """).all(decoding: Stored.self, keyDecodingStrategy: .snakeCase).map(ticket)
        struct T: Decodable { var issuedAt: Date; var calledAt: Date }
        let waits = try await db.raw("""
            SELECT issued_at, called_at FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today) AND called_at IS NOT NULL LIMIT 5000
            """).all(decoding: T.self, keyDecodingStrategy: .snakeCase).map { max(0, $0.calledAt.timeIntervalSince($0.issuedAt)) }
        struct Counts: Decodable { var waiting: Int?; var served: Int? }
        let counts = try await db.raw("""
            SELECT CAST(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS BIGINT) AS waiting,
                   CAST(SUM(CASE WHEN status = 'served' THEN 1 ELSE 0 END) AS BIGINT) AS served
            FROM queue_tickets WHERE centre_id = \(bind: centre) AND day = \(bind: today)
            """).first(decoding: Counts.self)
        func hallView(_ t: Ticket) -> Ticket { var t = t; t.priorityGroupName = nil; return t }
        return Board(centreName: c.name, called: forHall ? called.map(hallView) : called, waiting: forHall ? [] : waiting,
                     waitingCount: counts?.waiting ?? 0, servedCount: counts?.served ?? 0,
                     averageWaitMinutes: waits.isEmpty ? nil : Int((waits.reduce(0, +) / Double(waits.count) / 60).rounded()))
    }
}

/// The tickets of each centre's days.
struct M047CreateQueueTickets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CentreQueue.schema)
            .id()
            .field("centre_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("day", .string, .required)
            .field("sequence", .int, .required)
            .field("number", .string, .required)
            .field("matter_type", .string, .required)
            .field("priority", .bool, .required)
            .field("priority_group", .string)
            .field("status", .string, .required)
            .field("issued_at", .datetime, .required)
            .field("called_at", .datetime)
            // Not "window": a reserved word in PostgreSQL.
            .field("window_number", .string)
            .field("called_by", .uuid)
            .field("served_at", .datetime)
            .unique(on: "centre_id", "day", "sequence")
            .create()
        try await (database as! any SQLDatabase).create(index: "queue_tickets_waiting_idx").on(CentreQueue.schema)
            .column("centre_id").column("day").column("status").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(CentreQueue.schema).delete()
    }
}
