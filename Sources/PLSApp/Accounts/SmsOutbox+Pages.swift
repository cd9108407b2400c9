import Vapor
import SQLKit
import PLSDomain

/// How the outbox stands, for the city's administrators and auditors: each message's masked number, status, attempts
/// and last refusal (never its text, which may hold a sign-in code).
extension SmsOutbox {
    struct Item: Content {
        var id: UUID
        var mobile: String
        var status: String
        var statusName: String
        var attempts: Int
        var lastError: String?
        var createdAt: Date
        var sentAt: Date?
    }

    static func statusName(_ raw: String?) -> String {
        switch Status(rawValue: raw ?? "") {
        case .pending?: "待发送"
        case .sending?: "发送中"
        case .sent?: "已送达网关"
        case .failed?: "发送失败"
        case nil: "—"
        }
    }

    static func list(status: Status?, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Item> {
        var count = db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(SmsMessage.schema)
        var rows = db.select().columns("id", "mobile_masked", "status", "attempts", "last_error", "created_at", "sent_at").from(SmsMessage.schema)
        if let status {
            count = count.where("status", .equal, status.rawValue)
            rows = rows.where("status", .equal, status.rawValue)
        }
        struct Row: Decodable { var id: UUID; var mobileMasked: String; var status: String?; var attempts: Int?; var lastError: String?; var createdAt: Date; var sentAt: Date? }
        let total = try await count.first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await rows.orderBy("created_at", .descending).limit(page.per).offset(page.offset)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: items.map { Item(id: $0.id, mobile: $0.mobileMasked, status: $0.status ?? "", statusName: statusName($0.status),
                                             attempts: $0.attempts ?? 0, lastError: $0.lastError, createdAt: $0.createdAt, sentAt: $0.sentAt) },
                     total: total, page: page.page, per: page.per)
    }

    static func readers(_ p: Principal) throws {
        try p.require([.cityAdmin, .auditor].contains(p.role))
    }

    static func filter(_ req: Request) throws -> Status? {
        guard let raw = (try? req.query.get(String.self, at: "status"))?.nilIfEmpty else { return nil }
        guard let s = Status(rawValue: raw) else { throw AppError.validation(["status": "状态应为 pending、sending、sent 或 failed"]) }
        return s
    }

    static func apiList(_ req: Request) async throws -> Paged<Item> {
        let p = try req.staff()
        try readers(p)
        return try await list(status: try filter(req), page: try PageRequest(from: req), on: req.sql)
    }

    static func page(_ req: Request) async throws -> View {
        let p = try req.staff()
        try readers(p)
        let status = try filter(req)
        let page = try PageRequest(from: req)
        let result = try await list(status: status, page: page, on: req.sql)
        let f = DateFormatter.chinaTime
        let table = TableView(columns: ["号码", "状态", "尝试次数", "最近一次未受理原因", "写入时间", "送达网关时间"], rows: result.items.map {
            [Cell(text: $0.mobile), Cell(text: $0.statusName, badge: $0.status == "failed" ? "warn" : ($0.status == "sent" ? "ok" : "muted")),
             Cell(text: String($0.attempts)), Cell(text: $0.lastError ?? "—"), Cell(text: f.string(from: $0.createdAt)),
             Cell(text: $0.sentAt.map(f.string(from:)) ?? "—")]
        }, total: result.total, page: page, request: req)
        var statusField = FormField(name: "status", label: "状态", kind: .select)
        statusField.options = [SelectOption(value: "", label: "全部", selected: status == nil)]
            + [Status.pending, .sending, .sent, .failed].map { SelectOption(value: $0.rawValue, label: statusName($0.rawValue), selected: $0 == status) }
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "短信发送"), heading: "短信发送（\(req.application.smsProvider.name == "log" ? "仅记录，未接入短信网关" : "网关：\(req.application.smsProvider.name)")）",
            filters: [statusField], table: table, actions: []))
    }
}
