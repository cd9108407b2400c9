import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 服务一次、评价一次 for those who did not rate (issue #22, item 2): a service concluded three days ago and still not
/// rated gets one SMS invitation with its signed link; a hotline caller is called back instead, from the operators'
/// follow-up list. Nobody is invited twice: an invitation is a row keyed by the request, claimed before it is sent.
enum RatingInvitations {
    static let afterDays = 3
    /// Only services concluded in the week before that: a first start, or a server stopped for a while, never invites
    /// a year of people at once.
    static let windowDays = 7

    @discardableResult
    static func send(app: Application, limit: Int = 200) async throws -> Int {
        let db = app.db as! any SQLDatabase
        let today = app.today, now = app.clock.now
        let latest = today.adding(days: -afterDays).description, earliest = today.adding(days: -(afterDays + windowDays)).description
        let due = try await db.raw("""
            SELECT r.id FROM service_requests r
            WHERE r.status = \(bind: RequestStatus.concluded.rawValue) AND r.concluded_on >= \(bind: earliest) AND r.concluded_on <= \(bind: latest)
              AND r.rating IS NULL AND r.channel <> \(bind: RequestChannel.hotline.rawValue)
              AND NOT EXISTS (SELECT 1 FROM rating_invitations i WHERE i.request_id = r.id)
            ORDER BY r.concluded_on LIMIT \(bind: limit)
            """).all(decodingColumn: "id", as: UUID.self)
        var sent = 0
        for id in due {
            let invited = try await app.db.atomic { tx -> Bool in
                let sql = tx as! any SQLDatabase
                // The claim: a second process (or a second run) finds the row there and leaves it.
                let claimed = try await sql.raw("""
                    INSERT INTO rating_invitations (request_id, invited_at) VALUES (\(bind: id), \(bind: now))
                    ON CONFLICT (request_id) DO NOTHING RETURNING request_id
                    """).all()
                guard !claimed.isEmpty else { return false }
                let r = try await RequestViews.find(id.uuidString, scope: .everything, on: tx)
                guard r.rating == nil else { return false }
                try await Notifications.tellApplicant(r, "您的事项 \(r.number) 已办结，欢迎对本次服务评价（只需一次）：" + RatingLink.url(for: id, app: app),
                                                      app: app, on: tx, at: now)
                return true
            }
            if invited { sent += 1 }
        }
        return sent
    }

    /// Hotline callers whose matter is concluded and not rated, newest first: the operators' follow-up calls.
    static func followUps(page: PageRequest, today: CivilDate, protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> Paged<RequestViews.Row> {
        var filter = RequestViews.Filter()
        filter.status = .concluded
        filter.channel = .hotline
        let clause = RequestViews.whereClause(filter, scope: .everything, today: today) + " AND r.rating IS NULL"
        let total = try await db.raw("SELECT COUNT(*) AS n FROM service_requests r" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await ColumnRows.all(RequestViews.selectFrom(today: today) + clause
                                             + " ORDER BY r.concluded_on DESC, r.created_at DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))",
                                             on: db) { try RequestViews.row(try RequestViews.stored($0), today: today, protector: protector) }
        return Paged(items: items, total: total, page: page.page, per: page.per)
    }

    static func mayFollowUp(_ p: Principal) -> Bool { [.hotlineOperator, .cityAdmin].contains(p.role) }

    static func apiFollowUps(_ req: Request) async throws -> Paged<RequestViews.Row> {
        let p = try req.staff()
        try p.require(mayFollowUp(p))
        return try await followUps(page: try PageRequest(from: req), today: req.today, protector: req.personalData, on: req.sql)
    }

    static func followUpPage(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(mayFollowUp(p))
        let page = try PageRequest(from: req)
        let result = try await followUps(page: page, today: req.today, protector: req.personalData, on: req.sql)
        let f = DateFormatter.chinaTime
        let table = TableView(columns: ["事项编号", "事项", "来电人", "来电时间"], rows: result.items.map { r in
            [Cell(text: r.number, href: "/work/\(r.id)#evaluation"), Cell(text: r.matterTypeName + " · " + r.categoryName),
             Cell(text: r.applicantName + " " + r.applicantMobile), Cell(text: f.string(from: r.createdAt))]
        }, total: result.total, page: page, request: req)
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "回访评价"), heading: "回访评价：已办结未评价的热线来电", filters: [], table: table, actions: []))
    }
}

/// One row per invitation sent: what makes "never twice" hold across runs and processes.
struct M032CreateRatingInvitations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("rating_invitations")
            .field("request_id", .uuid, .identifier(auto: false), .references(ServiceRequest.schema, "id", onDelete: .cascade))
            .field("invited_at", .datetime, .required)
            .create()
        // The invitation scan reads concluded requests by the day they were concluded.
        try await (database as! any SQLDatabase).create(index: "sr_concluded_idx").on(ServiceRequest.schema).column("status").column("concluded_on").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "sr_concluded_idx").run()
        try await database.schema("rating_invitations").delete()
    }
}
