import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 转办对接 (issue #23, item 3): a matter our staff transfer to 12345 or 110 goes to that system through the client
/// registry (a system with the `receive:<target>` scope and a transfer address), signed and retried like a work
/// order's notices, in order with them. The other system answers — accepted, with its own reference, or refused with
/// its reason — and the answer is kept on the request; a refused transfer comes back to our queue (收回, status
/// accepted) and whoever transferred it is told.
enum OutboundTransfers {
    static let schema = "outbound_transfers"
    static let eventNames = ["transfer.accepted": "对方接收转办"]

    enum State: String, CaseIterable {
        case sent, accepted, refused
        var chineseName: String {
            switch self {
            case .sent: "已推送，待对方答复"
            case .accepted: "对方已接收"
            case .refused: "对方已退回"
            }
        }
    }

    struct Receiver: Decodable { var id: UUID; var name: String; var transferUrl: String }

    /// The one active system that receives transfers to `target`.
    static func receiver(of target: TransferTarget, on db: any SQLDatabase) async throws -> Receiver? {
        try await db.raw("""
            SELECT id, name, transfer_url FROM system_clients
            WHERE active = \(bind: true) AND transfer_url IS NOT NULL AND scopes LIKE \(bind: DelimitedList.pattern(ClientScope.receive(target).rawValue))
            ORDER BY created_at LIMIT 1
            """).first(decoding: Receiver.self, keyDecodingStrategy: .snakeCase)
    }

    /// What the receiving system is sent: the matter, the person (it is to contact them), why, and where to answer.
    struct Notice: Content {
        var kind = "transfer"
        /// In order with any other message about this request to the same system.
        var sequence = 0
        var number: String
        var target: String
        var matterType: String
        var matterTypeName: String
        var category: String
        var categoryName: String
        var description: String
        var applicantName: String
        var applicantMobile: String
        var regionCode: String
        var reason: String
        var transferredAt: Date
        /// `POST` here with the system's token: `{"accepted": true|false, "reference", "reason"}`.
        var answerPath: String
    }

    /// Queued in the transfer's own write, when a system receives transfers to its target (otherwise the reference
    /// typed by the operator is all there is, as before).
    static func statusChanged(_ r: ServiceRequest, action: RequestAction, note: String?, writer w: Ledger.Writer, by actor: Principal,
                              app: Application, at now: Date) async throws {
        guard action == .transfer, let target = TransferTarget(rawValue: r.transferTarget ?? ""), ClientScope.receiveTargets.contains(target)
        else { return }
        let sql = w.db as! any SQLDatabase
        guard let receiver = try await receiver(of: target, on: sql) else { return }
        let protector = app.personalData
        let matter = MatterType(rawValue: r.matterType)
        let notice = Notice(number: r.number, target: target.rawValue, matterType: r.matterType, matterTypeName: matter?.chineseName ?? r.matterType,
                            category: r.category, categoryName: PLSDomain.Category(rawValue: r.category)?.chineseName ?? r.category,
                            description: try protector.open(r.description), applicantName: try protector.open(r.applicantName),
                            applicantMobile: try protector.decrypt(r.applicantMobileCipher), regionCode: r.regionCode,
                            reason: String((note ?? "").prefix(600)), transferredAt: now, answerPath: "/api/v1/transfers/\(r.number)/answer")
        try await WorkOrders.queue(request: r.id!, client: receiver.id, url: receiver.transferUrl, app: app, on: sql, at: now) { sequence in
            var n = notice
            n.sequence = sequence
            return n
        }
        try await sql.insert(into: schema)
            .columns("id", "request_id", "client_id", "target", "state", "sent_at", "sent_by")
            .values(SQLBind(UUID()), SQLBind(r.id!), SQLBind(receiver.id), SQLBind(target.rawValue), SQLBind(State.sent.rawValue), SQLBind(now), SQLBind(actor.accountID))
            .run()
    }

    struct AnswerInput: Content { var accepted: Bool?; var reference: String?; var reason: String? }
    struct Answer: Content { var number: String; var state: String; var stateName: String; var status: String; var statusName: String }

    /// The receiving system's answer to a transfer it was sent; answered once.
    static func answer(number: String, _ input: AnswerInput, by p: Principal, app: Application) async throws -> Answer {
        guard let grant = p.client else { throw AppError(.forbidden, "forbidden", "仅供接收转办的对接系统答复") }
        var errors = FieldErrors()
        if input.accepted == nil { errors.add("accepted", "请答复是否接收（accepted: true 或 false）") }
        let reference = errors.optional(input.reference, "reference", "对方工单号", maxLength: 60)
        let reason = input.accepted == false ? errors.required(input.reason, "reason", "退回理由", maxLength: 500)
            : errors.optional(input.reason, "reason", "说明", maxLength: 500)
        try errors.throwIfAny()
        guard !number.isEmpty, number.count <= 40 else { throw AppError.notFound("转办事项") }
        let sql = app.db as! any SQLDatabase
        struct T: Decodable { var id: UUID; var requestId: UUID; var target: String; var state: String; var sentBy: UUID? }
        let find: SQLQueryString = """
            SELECT t.id, t.request_id, t.target, t.state, t.sent_by FROM outbound_transfers t JOIN service_requests r ON r.id = t.request_id
            WHERE r.number = \(bind: number) AND t.client_id = \(bind: grant.clientID) ORDER BY t.sent_at DESC LIMIT 1
            """
        guard let t = try await sql.raw(find).first(decoding: T.self, keyDecodingStrategy: .snakeCase),
              let target = TransferTarget(rawValue: t.target), grant.allows(.receive(target)) else { throw AppError.notFound("转给贵系统的该事项") }
        guard t.state == State.sent.rawValue else { throw AppError.conflict("already_answered", "该转办已答复（\(State(rawValue: t.state)?.chineseName ?? t.state)）") }
        let accepted = input.accepted!
        let now = app.clock.now
        let r = try await app.ledger.write(on: app.db) { w -> ServiceRequest in
            let tx = w.db as! any SQLDatabase
            let claimed = try await tx.raw("""
                UPDATE outbound_transfers SET state = \(bind: (accepted ? State.accepted : .refused).rawValue), their_reference = \(bind: reference),
                       reason = \(bind: try app.personalData.seal(ifAny: reason)), answered_at = \(bind: now)
                WHERE id = \(bind: t.id) AND state = \(bind: State.sent.rawValue) RETURNING id
                """).all()
            guard !claimed.isEmpty else { throw AppError.conflict("already_answered", "该转办已答复") }
            let r = try await RequestViews.find(t.requestId.uuidString, scope: .everything, on: w.db)
            if accepted {
                guard r.requestStatus == .transferred else { return r }
                if let reference { r.transferReference = reference }
                r.updatedAt = now
                try await w.save(r)
                w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName, action: "transfer.accepted",
                                     fromStatus: r.status, toStatus: r.status,
                                     note: "\(target.chineseName)已接收" + (reference.map { "（对方工单号 \($0)）" } ?? "") + (reason.map { "：\($0)" } ?? "")))
            } else if r.requestStatus == .transferred {
                // Back in our queue: the matter is ours again, and whoever sent it is told why.
                try await RequestActions.apply(.takeBack, to: r, input: .init(note: "\(target.chineseName)退回：\(reason!)"), by: p, writer: w, app: app, now: now)
                let told = t.sentBy.map { [$0] } ?? []
                try await Notifications.notify(accounts: told, request: r.id, text: "事项 \(r.number) 被\(target.chineseName)退回：\(reason!)。已回到待办，请另行处理。",
                                               now: now, on: tx)
            }
            return r
        }
        let state: State = accepted ? .accepted : .refused
        return Answer(number: r.number, state: state.rawValue, stateName: state.chineseName, status: r.status,
                      statusName: r.requestStatus.chineseName)
    }

    /// The transfers of a request, for its page.
    struct Line: Content { var target: String; var targetName: String; var system: String; var state: String; var stateName: String
                           var reference: String?; var reason: String?; var sentAt: Date; var answeredAt: Date? }

    static func lines(of request: UUID, app: Application, on db: any SQLDatabase) async throws -> [Line] {
        struct R: Decodable { var target: String; var name: String; var state: String; var theirReference: String?; var reason: String?
                              var sentAt: Date; var answeredAt: Date? }
        return try await db.raw("""
            SELECT t.target, c.name, t.state, t.their_reference, t.reason, t.sent_at, t.answered_at FROM outbound_transfers t
            JOIN system_clients c ON c.id = t.client_id WHERE t.request_id = \(bind: request) ORDER BY t.sent_at LIMIT 20
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Line(target: $0.target, targetName: TransferTarget(rawValue: $0.target)?.chineseName ?? $0.target, system: $0.name, state: $0.state,
                 stateName: State(rawValue: $0.state)?.chineseName ?? $0.state, reference: $0.theirReference,
                 reason: try app.personalData.open($0.reason), sentAt: $0.sentAt, answeredAt: $0.answeredAt)
        }
    }
}

/// Where transferred matters go (a system's address), and each transfer with the other side's answer.
struct M049CreateOutboundTransfers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SystemClients.schema).field("transfer_url", .string).update()
        try await database.schema(OutboundTransfers.schema)
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("client_id", .uuid, .required, .references(SystemClients.schema, "id"))
            .field("target", .string, .required)
            .field("state", .string, .required)
            .field("sent_at", .datetime, .required)
            .field("sent_by", .uuid)
            .field("their_reference", .string)
            .field("reason", .string)
            .field("answered_at", .datetime)
            .create()
        try await (database as! any SQLDatabase).create(index: "outbound_transfers_request_idx").on(OutboundTransfers.schema)
            .column("request_id").column("sent_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OutboundTransfers.schema).delete()
        try await database.schema(SystemClients.schema).deleteField("transfer_url").update()
    }
}
