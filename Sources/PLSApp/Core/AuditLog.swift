import Vapor
import Fluent
import SQLKit
import PLSDomain

/// The audit log of administrative acts: changes to accounts and roles, thresholds, targets, time limits, the
/// calendar, the catalog, adviser assignments and rosters, and every reading of a person's full number. Append-only,
/// each entry in its own hash chain (`AuditChain`), written in the transaction of the act it records; readable by
/// the auditor and the city administrator.
enum AuditLog {
    /// Who acted: the account and the address it came from (`Request.clientAddress`), or the command line.
    struct Actor: Sendable {
        var id: UUID?
        var name: String
        var address: String
        static let commandLine = Actor(id: nil, name: "命令行", address: "local")
    }

    static func encode(_ value: (any Encodable)?) -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(AnyEncodable(value))).map { String(decoding: $0, as: UTF8.self) }
    }

    struct AnyEncodable: Encodable {
        let value: any Encodable
        init(_ value: any Encodable) { self.value = value }
        func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
    }

    /// Appends one entry, in the caller's transaction (or one of its own). The head row is locked by its update until
    /// the transaction ends, so entries from several processes take their numbers one after another.
    static func record(_ action: String, target: String, before: (any Encodable)? = nil, after: (any Encodable)? = nil,
                       by actor: Actor, protector: PersonalDataProtector, on db: any SQLDatabase, at now: Date) async throws {
        let entry = AuditEntry(atMillis: now.millis, actorID: actor.id, actorName: actor.name, address: actor.address, action: action,
                               target: target, before: encode(before), after: encode(after))
        if let database = db as? any Database, !database.inTransaction {
            try await database.atomic { tx in try await append(entry, protector: protector, on: tx as! any SQLDatabase) }
        } else {
            try await append(entry, protector: protector, on: db)
        }
    }

    private static func append(_ entry: AuditEntry, protector: PersonalDataProtector, on db: any SQLDatabase) async throws {
        let actor = entry
        let action = entry.action, target = entry.target
        struct Head: Decodable { var lastSeq: Int64; var lastHash: String }
        guard let head = try await db.raw("UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash")
            .first(decoding: Head.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError(.internalServerError, "audit_head_missing", "审计日志未初始化")
        }
        let hash = AuditChain.hash(seq: head.lastSeq, prev: head.lastHash, entry)
        // Names, numbers and addresses in the documents: sealed at rest like any personal data (the hash covers them as written).
        try await db.insert(into: "audit_log")
            .columns("seq", "at_ms", "actor_id", "actor_name", "address", "action", "target", "before_text", "after_text", "prev_hash", "hash")
            .values(SQLBind(head.lastSeq), SQLBind(entry.atMillis), SQLBind(actor.actorID), SQLBind(actor.actorName), SQLBind(try protector.seal(actor.address)),
                    SQLBind(action), SQLBind(target), SQLBind(try protector.seal(ifAny: entry.before)), SQLBind(try protector.seal(ifAny: entry.after)),
                    SQLBind(head.lastHash), SQLBind(hash))
            .run()
        try await db.raw("UPDATE audit_head SET last_hash = \(bind: hash) WHERE id = 1").run()
    }

    struct Item: Content {
        var seq: Int64
        var at: Date
        var actor: String
        var address: String
        var action: String
        var actionName: String
        var target: String
        var before: String?
        var after: String?
    }

    static let actionNames: [String: String] = [
        "account.create": "新建账号", "account.update": "修改账号", "account.deactivate": "停用账号",
        "legal_aid.threshold": "修改经济困难标准", "indicator.target": "修改指标目标", "catalog.rules": "修改办理时限",
        "catalog.item": "修改办事指南", "calendar.year": "修改节假日安排", "adviser.assign": "聘任村（居）法律顾问",
        "adviser.end": "解聘村（居）法律顾问", "roster.add": "加入名册", "roster.import": "导入名册", "roster.end": "移出名册", "city.settings": "修改城市设置",
        "personal_data.read": "查看完整个人信息", "credit.add": "录入信用记录", "credit.document": "上传信用记录文书",
        "quality_review.checklist": "修改评查清单", "system_client.create": "登记对接系统", "system_client.rotate": "更换对接系统密钥",
        "system_client.deactivate": "停用对接系统", "system_client.activate": "启用对接系统", "centre.stations": "修改中心进驻职能",
    ]

    struct Filter {
        var action: String?
        var actor: String?
        init(from req: Request) throws {
            action = (try? req.query.get(String.self, at: "action"))?.nilIfEmpty
            actor = (try? req.query.get(String.self, at: "actor"))?.nilIfEmpty
            if let a = action, actionNames[a] == nil { throw AppError.validation(["action": "操作类型无效"]) }
            if let a = actor, a.count > 40 { throw AppError.validation(["actor": "操作人不超过 40 个字"]) }
        }
        init() {}
    }

    static func list(_ f: Filter, page: PageRequest, protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> Paged<Item> {
        var condition: SQLQueryString = "1 = 1"
        if let a = f.action { condition = condition + " AND action = \(bind: a)" }
        if let a = f.actor { condition = condition + " AND actor_name LIKE \(bind: "%" + SQLLike.escape(a) + "%") ESCAPE '\\'" }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM audit_log WHERE " + condition).first(decodingColumn: "n", as: Int.self) ?? 0
        struct Row: Decodable { var seq: Int64; var atMs: Int64; var actorName: String; var address: String; var action: String; var target: String; var beforeText: String?; var afterText: String? }
        let rows = try await db.raw("SELECT seq, at_ms, actor_name, address, action, target, before_text, after_text FROM audit_log WHERE "
                                    + condition + " ORDER BY seq DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: try rows.map {
            Item(seq: $0.seq, at: Date(timeIntervalSince1970: Double($0.atMs) / 1000), actor: $0.actorName, address: try protector.open($0.address),
                 action: $0.action, actionName: actionNames[$0.action] ?? $0.action, target: $0.target,
                 before: try protector.open($0.beforeText), after: try protector.open($0.afterText))
        }, total: total, page: page.page, per: page.per)
    }

    static func readers(_ p: Principal) throws { try p.require([.auditor, .cityAdmin].contains(p.role)) }

    static func apiList(_ req: Request) async throws -> Paged<Item> {
        let p = try req.principal()
        try readers(p)
        return try await list(try Filter(from: req), page: try PageRequest(from: req), protector: req.personalData, on: req.sql)
    }

    static func page(_ req: Request) async throws -> View {
        let p = try req.staff()
        try readers(p)
        let filter = try Filter(from: req)
        let page = try PageRequest(from: req)
        let result = try await list(filter, page: page, protector: req.personalData, on: req.sql)
        let f = DateFormatter.chinaTime
        let table = TableView(columns: ["时间", "操作人", "来源地址", "操作", "对象", "修改前", "修改后"], rows: result.items.map {
            [Cell(text: f.string(from: $0.at)), Cell(text: $0.actor), Cell(text: $0.address), Cell(text: $0.actionName), Cell(text: $0.target),
             Cell(text: $0.before ?? "—"), Cell(text: $0.after ?? "—")]
        }, total: result.total, page: page, request: req)
        var action = FormField(name: "action", label: "操作", kind: .select)
        action.options = [SelectOption(value: "", label: "全部", selected: filter.action == nil)]
            + actionNames.sorted { $0.key < $1.key }.map { SelectOption(value: $0.key, label: $0.value, selected: $0.key == filter.action) }
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "审计日志"), heading: "审计日志",
            filters: [action, FormField(name: "actor", label: "操作人", value: filter.actor ?? "")], table: table,
            actions: [ActionButton(label: "导出（CSV）", href: "/admin/audit.csv" + (req.url.query.map { "?" + $0 } ?? ""))]))
    }

    /// The filtered log as CSV (up to 10,000 entries, newest first).
    static func csv(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try readers(p)
        let result = try await list(try Filter(from: req), page: PageRequest(page: 1, per: 10_000), protector: req.personalData, on: req.sql)
        let f = DateFormatter.chinaTime
        func field(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var text = "\u{FEFF}序号,时间,操作人,来源地址,操作,对象,修改前,修改后\r\n"
        for i in result.items {
            text += [String(i.seq), f.string(from: i.at), i.actor, i.address, i.actionName, i.target, i.before ?? "", i.after ?? ""].map(field)
                .joined(separator: ",") + "\r\n"
        }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.contentDisposition = .init(.attachment, filename: "audit-log.csv")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }

    /// Walks the chain (`pls ledger verify` checks it too).
    static func verify(protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> (checked: Int, problem: String?) {
        struct Row: Decodable { var seq: Int64; var atMs: Int64; var actorId: UUID?; var actorName: String; var address: String; var action: String; var target: String; var beforeText: String?; var afterText: String?; var prevHash: String; var hash: String }
        let rows = try await db.raw("SELECT * FROM audit_log ORDER BY seq").all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        let entries = try rows.map { r in
            (seq: r.seq, prev: r.prevHash, hash: r.hash, entry: AuditEntry(
                atMillis: r.atMs, actorID: r.actorId, actorName: r.actorName, address: try protector.open(r.address), action: r.action,
                target: r.target, before: try protector.open(r.beforeText), after: try protector.open(r.afterText)))
        }
        if let problem = AuditChain.firstProblem(entries) { return (rows.count, problem) }
        struct Head: Decodable { var lastSeq: Int64; var lastHash: String }
        let head = try await db.raw("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").first(decoding: Head.self, keyDecodingStrategy: .snakeCase)
        if let head, head.lastSeq != Int64(rows.count) || head.lastHash != (rows.last?.hash ?? HashChain.genesis) {
            return (rows.count, "审计日志末尾应为第 \(head.lastSeq) 条，实际只有 \(rows.count) 条：末尾的记录已被删除或改动")
        }
        return (rows.count, nil)
    }
}

extension Request {
    /// The signed-in account as the audit log names it, with the address it came from.
    var auditActor: AuditLog.Actor {
        let p = auth.get(Principal.self)
        return AuditLog.Actor(id: p?.accountID, name: p?.displayName ?? "未登录", address: clientAddress)
    }
}

struct M031CreateAuditLog: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("audit_log")
            .field("seq", .int64, .identifier(auto: false))
            .field("at_ms", .int64, .required)
            .field("actor_id", .uuid)
            .field("actor_name", .string, .required)
            .field("address", .string, .required)
            .field("action", .string, .required)
            .field("target", .string, .required)
            .field("before_text", .string)
            .field("after_text", .string)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        try await database.schema("audit_head")
            .field("id", .int, .identifier(auto: false))
            .field("last_seq", .int64, .required)
            .field("last_hash", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.insert(into: "audit_head").columns("id", "last_seq", "last_hash").values(SQLBind(1), SQLBind(Int64(0)), SQLBind(HashChain.genesis)).run()
        try await sql.create(index: "audit_log_action_idx").on("audit_log").column("action").column("seq").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("audit_head").delete()
        try await database.schema("audit_log").delete()
    }
}
