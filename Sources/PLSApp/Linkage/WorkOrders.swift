import Vapor
import Fluent
import SQLKit
import Crypto
import NIOCore
import PLSDomain

/// 工单对接 (issue #23, item 3): a work order another department's system submits (12345, 110, a court) keeps the
/// sender's reference, its deadline and where to tell it; every status change of the request goes back to the sender,
/// in order, signed with the client's secret (`X-PLS-Signature`, hex HMAC-SHA256 of the body), retried with backoff
/// until acknowledged, with a delivery log and a resend. The sender may also ask for the status by its reference.
enum WorkOrders {
    static let linkSchema = "work_order_links"
    static let callbackSchema = "work_order_callbacks"

    /// The sender's part of a submission, checked before anything is written.
    struct Link: Sendable {
        var reference: String
        var due: CivilDate?
        var callbackURL: String?
    }

    /// Checks what a system adds to `POST /api/v1/requests`: its reference (required: it is how the sender knows the
    /// order), its deadline, and an https (or loopback) address to be told at.
    static func link(from input: Intake.Input, grant: SystemClients.Grant) throws -> Link {
        var errors = FieldErrors()
        let reference = errors.required(input.externalRef ?? input.externalReference, "externalRef", "对方工单号", maxLength: 60)
        let due = input.externalDue.flatMap { $0.isEmpty ? nil : $0 }.map { CivilDate(String($0.prefix(10))) }
        if let due, due == nil { errors.add("externalDue", "对方办理期限格式为 YYYY-MM-DD") }
        let callback = input.callbackUrl.flatMap { $0.isEmpty ? nil : $0 }
        if let callback, !acceptable(callbackURL: callback) {
            errors.add("callbackUrl", "回调地址应为 https 地址（本机测试可用 http://127.0.0.1），不超过 500 个字符")
        }
        let channel = input.channel.flatMap(RequestChannel.init(rawValue:))
        if channel == nil || !grant.allows(.submit(channel!)) {
            errors.add("channel", "该对接系统可提交的渠道：" + grant.scopes.compactMap { if case .submit(let c) = $0 { c.rawValue } else { nil } }.joined(separator: "、"))
        }
        try errors.throwIfAny()
        return Link(reference: reference, due: due ?? nil, callbackURL: callback)
    }

    static func acceptable(callbackURL: String) -> Bool {
        guard callbackURL.count <= 500, let url = URL(string: callbackURL), let host = url.host, !host.isEmpty else { return false }
        switch url.scheme {
        case "https": return true
        case "http": return host == "127.0.0.1" || host == "localhost" || host == "::1"
        default: return false
        }
    }

    /// The link, held with the intake's rows (the order and its link are one write).
    static func hold(_ link: Link, for r: ServiceRequest, client: UUID, writer w: Ledger.Writer, at now: Date) async throws {
        try await w.insert(into: linkSchema, columns: ["request_id", "client_id", "reference", "due_on", "callback_url", "created_at"],
                           [BulkCell(r.id!), BulkCell(client), BulkCell(link.reference), BulkCell(link.due?.description), BulkCell(link.callbackURL),
                            BulkCell(now)])
    }

    // MARK: Telling the sender

    /// What the sender is told on each change.
    struct Notice: Content {
        var reference: String
        var number: String
        var sequence: Int
        var event: String
        var status: String
        var statusName: String
        var at: Date
        /// The answer when concluded, the reason when refused, the note of other steps.
        var text: String?
    }

    /// Queued in the write that changed the status (a request without a link costs one indexed look-up, skipped for
    /// the channels no system sends on).
    static func statusChanged(_ r: ServiceRequest, action: RequestAction, to status: RequestStatus, note: String?,
                              writer w: Ledger.Writer, app: Application, at now: Date) async throws {
        guard let channel = RequestChannel(rawValue: r.channel), ClientScope.submitChannels.contains(channel), r.externalReference != nil else { return }
        let sql = w.db as! any SQLDatabase
        struct L: Decodable { var clientId: UUID; var reference: String; var callbackUrl: String? }
        guard let link = try await sql.raw("SELECT client_id, reference, callback_url FROM work_order_links WHERE request_id = \(bind: r.id!)")
            .first(decoding: L.self, keyDecodingStrategy: .snakeCase), let url = link.callbackUrl else { return }
        try await queue(request: r.id!, client: link.clientId, url: url, app: app, on: sql, at: now) { sequence in
            Notice(reference: link.reference, number: r.number, sequence: sequence, event: action.rawValue, status: status.rawValue,
                   statusName: status.chineseName, at: now, text: note.map { String($0.prefix(2000)) })
        }
    }

    /// Queues a signed message to a system, after the request's earlier ones (the same order whatever it is: a status
    /// notice to a sender, a transfer to a receiver); the body is sealed at rest, it carries personal data.
    static func queue<Body: Encodable>(request: UUID, client: UUID, url: String, app: Application, on sql: any SQLDatabase, at now: Date,
                                       _ body: (Int) -> Body) async throws {
        let last = try await sql.raw("SELECT MAX(sequence) AS n FROM work_order_callbacks WHERE request_id = \(bind: request)")
            .first(decodingColumn: "n", as: Int?.self) ?? nil
        let sequence = (last ?? 0) + 1
        let text = String(decoding: try encoder.encode(body(sequence)), as: UTF8.self)
        try await sql.insert(into: callbackSchema)
            .columns("id", "request_id", "client_id", "sequence", "url", "body", "status", "attempts", "next_attempt_at", "created_at")
            .values(SQLBind(UUID()), SQLBind(request), SQLBind(client), SQLBind(sequence), SQLBind(url), SQLBind(try app.personalData.seal(text)),
                    SQLBind(Delivery.pending.rawValue), SQLBind(0), SQLBind(now), SQLBind(now))
            .run()
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    enum Delivery: String { case pending, sending, delivered, failed }

    /// The same signature the SMS webhook carries (one way to sign what we send out).
    static func signature(of body: Data, secret: String) -> String {
        WebhookSmsProvider.signature(of: body, secret: SymmetricKey(data: Data(secret.utf8)))
    }

    /// Sends what is due: per request only its earliest notice not yet acknowledged (order kept), each claimed with a
    /// lease first (several processes may run this). Returns how many were acknowledged.
    @discardableResult
    static func deliverDue(app: Application, limit: Int = 100, timeout: TimeAmount = .seconds(10)) async throws -> Int {
        let db = app.db as! any SQLDatabase
        let now = app.clock.now
        struct Row: Decodable { var id: UUID; var clientId: UUID; var url: String; var body: String; var attempts: Int }
        let rows = try await db.raw("""
            SELECT d.id, d.client_id, d.url, d.body, d.attempts FROM work_order_callbacks d
            WHERE d.status IN (\(bind: Delivery.pending.rawValue), \(bind: Delivery.sending.rawValue)) AND d.next_attempt_at <= \(bind: now)
              AND NOT EXISTS (SELECT 1 FROM work_order_callbacks e WHERE e.request_id = d.request_id AND e.sequence < d.sequence
                              AND e.status <> \(bind: Delivery.delivered.rawValue))
            ORDER BY d.next_attempt_at LIMIT \(unsafeRaw: String(limit))
            """).all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        var acknowledged = 0
        for row in rows {
            let claimed = try await db.raw("""
                UPDATE work_order_callbacks SET status = \(bind: Delivery.sending.rawValue), next_attempt_at = \(bind: now.addingTimeInterval(60))
                WHERE id = \(bind: row.id) AND status IN (\(bind: Delivery.pending.rawValue), \(bind: Delivery.sending.rawValue))
                  AND next_attempt_at <= \(bind: now) RETURNING id
                """).all()
            guard !claimed.isEmpty else { continue }
            let attempts = row.attempts + 1
            var answered: Int?
            var failure: String?
            do {
                guard let secret = try await SystemClients.secret(of: row.clientId, app: app, on: db) else { throw Abort(.gone) }
                let body = Data(try app.personalData.open(row.body).utf8)
                var headers = HTTPHeaders()
                headers.contentType = .json
                headers.add(name: "X-PLS-Signature", value: signature(of: body, secret: secret))
                let response = try await app.client.post(URI(string: row.url), headers: headers) {
                    $0.body = ByteBuffer(data: body)
                    $0.timeout = timeout
                }.get()
                answered = Int(response.status.code)
                if !(200..<300).contains(response.status.code) { failure = "对方答复 \(response.status.code)" }
            } catch {
                failure = "对方不可达：\(type(of: error))"
            }
            if failure == nil {
                try await db.update(callbackSchema).set("status", to: Delivery.delivered.rawValue).set("attempts", to: attempts)
                    .set("last_status", to: SQLBind(answered)).set("last_error", to: SQLLiteral.null).set("delivered_at", to: SQLBind(app.clock.now))
                    .where("id", .equal, row.id).run()
                acknowledged += 1
            } else {
                let givenUp = attempts >= CallbackSchedule.maxAttempts
                try await db.update(callbackSchema)
                    .set("status", to: (givenUp ? Delivery.failed : .pending).rawValue).set("attempts", to: attempts)
                    .set("last_status", to: SQLBind(answered)).set("last_error", to: String(failure!.prefix(200)))
                    .set("next_attempt_at", to: SQLBind(now.addingTimeInterval(CallbackSchedule.backoff(afterAttempts: attempts))))
                    .where("id", .equal, row.id).run()
                app.logger.warning("work order callback \(row.id) not acknowledged (attempt \(attempts)\(givenUp ? ", given up" : "")): \(failure!)")
            }
        }
        return acknowledged
    }

    /// A notice given up on goes again (and the ones after it, which waited for it).
    static func resend(_ id: UUID, by p: Principal, app: Application) async throws {
        guard SystemClients.mayManage(p) else { throw AppError(.forbidden, "forbidden", "由市级管理员重新推送") }
        let updated = try await (app.db as! any SQLDatabase).raw("""
            UPDATE work_order_callbacks SET status = \(bind: Delivery.pending.rawValue), attempts = 0, next_attempt_at = \(bind: app.clock.now)
            WHERE id = \(bind: id) AND status = \(bind: Delivery.failed.rawValue) RETURNING id
            """).all()
        guard !updated.isEmpty else { throw AppError.conflict("not_failed", "只有推送失败的通知可以重新推送") }
    }

    struct DeliveryRow: Content {
        var id: UUID; var number: String; var reference: String; var sequence: Int; var status: String; var attempts: Int
        var lastStatus: Int?; var lastError: String?; var createdAt: Date; var deliveredAt: Date?
    }

    static func deliveries(of client: UUID, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<DeliveryRow> {
        let total = try await db.raw("SELECT COUNT(*) AS n FROM work_order_callbacks WHERE client_id = \(bind: client)").first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await db.raw("""
            SELECT d.id, r.number, COALESCE(l.reference, r.number) AS reference, d.sequence, d.status, d.attempts, d.last_status, d.last_error, d.created_at, d.delivered_at
            FROM work_order_callbacks d JOIN service_requests r ON r.id = d.request_id LEFT JOIN work_order_links l ON l.request_id = d.request_id
            WHERE d.client_id = \(bind: client) ORDER BY d.created_at DESC, d.sequence DESC
            LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))
            """).all(decoding: DeliveryRow.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: items, total: total, page: page.page, per: page.per)
    }

    // MARK: The sender asks

    struct Status: Content {
        var reference: String
        var number: String
        var status: String
        var statusName: String
        var externalDue: String?
        var concludedOn: String?
        var reply: String?
        var updatedAt: Date
    }

    /// The status of an order the asking system sent, by its own reference; another system's orders are not found.
    static func status(reference: String, grant: SystemClients.Grant, app: Application) async throws -> Status {
        guard !reference.isEmpty, reference.count <= 60 else { throw AppError.notFound("工单") }
        struct R: Decodable { var reference: String; var number: String; var status: String; var dueOn: String?; var concludedOn: String?
                              var summary: String?; var rejectReason: String?; var updatedAt: Date }
        guard let r = try await (app.db as! any SQLDatabase).raw("""
            SELECT l.reference, r.number, r.status, l.due_on, r.concluded_on, r.summary, r.reject_reason, r.updated_at
            FROM work_order_links l JOIN service_requests r ON r.id = l.request_id
            WHERE l.client_id = \(bind: grant.clientID) AND l.reference = \(bind: reference)
            """).first(decoding: R.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("工单") }
        let status = RequestStatus(rawValue: r.status)
        return Status(reference: r.reference, number: r.number, status: r.status, statusName: status?.chineseName ?? r.status, externalDue: r.dueOn,
                      concludedOn: r.concludedOn, reply: try app.personalData.open(r.summary ?? r.rejectReason), updatedAt: r.updatedAt)
    }
}

extension WorkOrders {
    /// The sender's own deadline (externalDue) for orders still open with us: whoever handles it is reminded the working
    /// day before and told when it passes, then the county (the order is promised to another department).
    static func deadlines(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct R: Decodable { var id: UUID; var number: String; var regionCode: String; var institutionId: UUID?; var dueOn: String }
        let open = RequestStatus.open.map(\.rawValue)
        let rows = try await db.raw("""
            SELECT r.id, r.number, r.region_code, r.institution_id, l.due_on FROM work_order_links l JOIN service_requests r ON r.id = l.request_id
            WHERE l.due_on IS NOT NULL AND l.due_on <= \(bind: horizon.description) AND r.status IN (\(binds: open)) AND
            """ + " " + Deadlines.notFinished(subject: "r.id", step: "work_order.due", due: "l.due_on") + " ORDER BY l.due_on LIMIT 500")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return rows.compactMap { r in
            CivilDate(r.dueOn).map {
                WatchedDeadline(requestID: r.id, number: r.number, regionCode: r.regionCode, step: "work_order.due", name: "来文单位办理期限",
                                due: $0, institutionID: r.institutionId)
            }
        }
    }
}

extension RepeatingJob {
    /// Tells senders of work orders every two seconds.
    static let workOrderCallbacks = RepeatingJob(name: "work-order-callbacks", initialDelay: .seconds(2), interval: .seconds(2)) { app in
        do { try await WorkOrders.deliverDue(app: app) } catch { app.logger.report(error: error) }
    }
}

/// The link from a request to the order it came as, and the notices to its sender.
struct M045CreateWorkOrderLinks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(WorkOrders.linkSchema)
            .field("request_id", .uuid, .identifier(auto: false), .references(ServiceRequest.schema, "id"))
            .field("client_id", .uuid, .required, .references(SystemClients.schema, "id"))
            .field("reference", .string, .required)
            .field("due_on", .string)
            .field("callback_url", .string)
            .field("created_at", .datetime, .required)
            .unique(on: "client_id", "reference")
            .create()
        try await database.schema(WorkOrders.callbackSchema)
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("client_id", .uuid, .required, .references(SystemClients.schema, "id"))
            .field("sequence", .int, .required)
            .field("url", .string, .required)
            .field("body", .string, .required)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("last_status", .int)
            .field("last_error", .string)
            .field("created_at", .datetime, .required)
            .field("delivered_at", .datetime)
            .unique(on: "request_id", "sequence")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "work_order_callbacks_due_idx").on(WorkOrders.callbackSchema).column("status").column("next_attempt_at").run()
        try await sql.create(index: "work_order_callbacks_client_idx").on(WorkOrders.callbackSchema).column("client_id").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(WorkOrders.callbackSchema).delete()
        try await database.schema(WorkOrders.linkSchema).delete()
    }
}
