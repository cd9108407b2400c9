import Vapor
import NIOCore
import Fluent
import SQLKit
import PLSDomain

/// In-app notifications (with SMS through the gateway where the account has a mobile number),
/// and the scan that raises overdue requests to the institution and then the county.
enum Notifications {
    struct Item: Content { var id: UUID; var requestId: UUID?; var text: String; var createdAt: Date; var read: Bool }

    static func notify(accounts: [UUID], request: UUID?, text: String, now: Date, on db: any SQLDatabase) async throws {
        guard !accounts.isEmpty else { return }
        var insert = db.insert(into: "notifications").columns("id", "account_id", "request_id", "text", "created_at")
        for a in accounts { insert = insert.values(SQLBind(UUID()), SQLBind(a), SQLBind(request), SQLBind(text), SQLBind(now)) }
        try await insert.run()
    }

    static func accounts(role: Role, institution: UUID? = nil, regionPrefix: String? = nil, on db: any SQLDatabase) async throws -> [UUID] {
        try await accounts(roles: [role], institution: institution, regionPrefix: regionPrefix, on: db)
    }

    static func accounts(roles: [Role], institution: UUID? = nil, regionPrefix: String? = nil, on db: any SQLDatabase) async throws -> [UUID] {
        var q = db.select().column("id").from(Account.schema).where("role", .in, SQLBind.group(roles.map(\.rawValue))).where("active", .equal, true)
            // A department system's service account reads no notices.
            .where { $0.where("username", .is, SQLLiteral.null).orWhere("username", .notLike, SQLBind("system:%")) }
        if let institution { q = q.where("institution_id", .equal, SQLBind(institution)) }
        if let regionPrefix { q = q.where("region_code", .like, regionPrefix + "%") }
        return try await q.all(decodingColumn: "id", as: UUID.self)
    }

    static func countyPrefix(_ regionCode: String) -> String {
        DivisionCode(regionCode).flatMap { $0.ancestor(at: .county) ?? $0 }?.scopePrefix ?? regionCode
    }

    /// The institution's admins; without an institution (or without admins), the county's.
    static func notifyInstitutionOrCounty(_ r: ServiceRequest, text: String, now: Date, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        var targets: [UUID] = []
        if let i = r.institutionID { targets = try await accounts(role: .institutionAdmin, institution: i, on: sql) }
        if targets.isEmpty { targets = try await accounts(role: .countyAdmin, regionPrefix: countyPrefix(r.regionCode), on: sql) }
        try await notify(accounts: targets, request: r.id, text: text, now: now, on: sql)
    }

    /// Tells the person served what changed and what to expect next: in their matters (`/my`, the notifications
    /// API) when they have an account, and by SMS to the applicant's mobile, in the write's transaction.
    static func tellApplicant(_ r: ServiceRequest, _ text: String, app: Application, on db: any Database, at now: Date) async throws {
        if let account = r.citizenAccountID {
            try await notify(accounts: [account], request: r.id, text: text, now: now, on: db as! any SQLDatabase)
        }
        if let mobile = MobileNumber((try? app.personalData.decrypt(r.applicantMobileCipher)) ?? "") {
            try await app.sendSMS(to: mobile, text, on: db, at: now)
        }
    }

    /// The same, its rows held with the ledger write's other new rows: an intake with its notice stays a one-step write.
    static func tellApplicant(_ r: ServiceRequest, _ text: String, app: Application, writer w: Ledger.Writer, at now: Date) async throws {
        if let account = r.citizenAccountID {
            try await w.insert(into: "notifications", columns: ["id", "account_id", "request_id", "text", "created_at"],
                               [BulkCell(UUID()), BulkCell(account), BulkCell(r.id), BulkCell(text), BulkCell(now)])
        }
        if let mobile = MobileNumber((try? app.personalData.decrypt(r.applicantMobileCipher)) ?? "") {
            try await app.sendSMS(to: mobile, text, writer: w, at: now)
        }
    }

    /// An SMS to each of `accounts` that has a mobile number on file (queued in the write's transaction).
    static func sms(accounts: [UUID], text: String, app: Application, on db: any Database, at now: Date) async throws {
        for account in try await Account.query(on: db).filter(\.$id ~~ accounts).all() {
            if let cipher = account.mobileCipher, let mobile = MobileNumber((try? app.personalData.decrypt(cipher)) ?? "") {
                try await app.sendSMS(to: mobile, text, on: db, at: now)
            }
        }
    }

    /// Overdue: first the institution's admins; a working day later, the county's admins too.
    /// Each step is taken once per request (the row's overdue level moves only forward), so
    /// several processes may run the scan without notifying twice.
    @discardableResult
    static func scanOverdue(app: Application, limit: Int = 500) async throws -> Int {
        let db = app.db as! any SQLDatabase
        let today = app.today
        let now = app.clock.now
        let calendar = app.workingCalendar
        let yesterdayWorking = { () -> CivilDate in
            var d = today.adding(days: -1)
            while !calendar.isWorkingDay(d) { d = d.adding(days: -1) }
            return d
        }()
        struct Row: Decodable { var id: UUID; var number: String; var regionCode: String; var institutionId: UUID?; var overdueLevel: Int; var concludeDue: String }
        let open = RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)
        let rows = try await db.select().columns("id", "number", "region_code", "institution_id", "overdue_level", "conclude_due")
            .from(ServiceRequest.schema).where("status", .in, open).where("conclude_due", .lessThan, today.description)
            .where("overdue_level", .lessThan, 2).orderBy("conclude_due").limit(limit)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        var raised = 0
        for r in rows {
            // Escalate to the county once a full working day has passed since the institution was told.
            let level = r.overdueLevel == 0 ? 1 : (r.concludeDue < yesterdayWorking.description ? 2 : 1)
            guard level > r.overdueLevel else { continue }
            try await app.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                let moved = try await sql.raw("UPDATE service_requests SET overdue_level = \(bind: level) WHERE id = \(bind: r.id) AND overdue_level = \(bind: r.overdueLevel) RETURNING id")
                    .all()
                guard !moved.isEmpty else { return }
                let county = countyPrefix(r.regionCode)
                var targets: [UUID] = []
                if level == 1, let i = r.institutionId { targets = try await accounts(role: .institutionAdmin, institution: i, on: sql) }
                if level == 2 || targets.isEmpty { targets += try await accounts(role: .countyAdmin, regionPrefix: county, on: sql) }
                try await notify(accounts: targets, request: r.id,
                                 text: "超期提醒：事项 \(r.number) 应于 \(r.concludeDue) 前办结，已超期" + (level == 2 ? "（已超过一个工作日，请县级督办）" : ""),
                                 now: now, on: sql)
                try await sms(accounts: targets, text: "事项 \(r.number) 已超期，请登录平台处理。", app: app, on: tx, at: now)
            }
            raised += 1
        }
        return raised
    }

    static func apiList(_ req: Request) async throws -> Paged<Item> {
        let p = try req.principal()
        let page = try PageRequest(from: req)
        struct Row: Decodable { var id: UUID; var requestId: UUID?; var text: String; var createdAt: Date; var readAt: Date? }
        let db = req.sql
        let total = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notifications")
            .where("account_id", .equal, SQLBind(p.accountID)).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.select().columns("id", "request_id", "text", "created_at", "read_at").from("notifications")
            .where("account_id", .equal, SQLBind(p.accountID)).orderBy("created_at", .descending).limit(page.per).offset(page.offset)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map { Item(id: $0.id, requestId: $0.requestId, text: $0.text, createdAt: $0.createdAt, read: $0.readAt != nil) },
                     total: total, page: page.page, per: page.per)
    }

    static func apiMarkRead(_ req: Request) async throws -> HTTPStatus {
        let p = try req.principal()
        let id = try req.uuid("id")
        let rows = try await req.sql.raw("UPDATE notifications SET read_at = \(bind: req.now) WHERE id = \(bind: id) AND account_id = \(bind: p.accountID) RETURNING id").all()
        if rows.isEmpty { throw AppError.notFound("提醒") }
        return .noContent
    }
}

extension RepeatingJob {
    /// The overdue scan, the deadline watch and each matter case's reminders, every few minutes.
    static func overdueScan(every interval: TimeAmount) -> RepeatingJob {
        RepeatingJob(name: "overdue", initialDelay: .seconds(30), interval: interval) { app in
            do { try await Notifications.scanOverdue(app: app) } catch { app.logger.report(error: error) }
            do { try await Deadlines.scan(app: app) } catch { app.logger.report(error: error) }
            do { try await RatingInvitations.send(app: app) } catch { app.logger.report(error: error) }
            for c in MatterCases.registered {
                do { try await c.remind(app: app) } catch { app.logger.report(error: error) }
            }
        }
    }
}
