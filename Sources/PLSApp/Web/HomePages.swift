import Vapor
import Fluent
import SQLKit
import PLSDomain

/// The public face of the platform: home page, elder-friendly switch, the demo SMS outbox.
enum HomePages {
    struct ServiceEntry: Encodable { var title: String; var text: String; var icon: String; var href: String = "/services" }
    struct Centre: Encodable { var name: String; var address: String; var phone: String; var hours: String }
    struct Stat: Encodable { var label: String; var value: Int }

    struct Context: Encodable {
        var page: PageMeta
        var services: [ServiceEntry]
        var centres: [Centre]
        var stats: [Stat]
    }

    static let services: [ServiceEntry] = [
        .init(title: "法律咨询", text: "拨打 12348 或在线留言，专业人员解答法律问题", icon: "问"),
        .init(title: "法律援助", text: "经济困难群众和特殊群体可申请免费法律服务，一分钟自助预审", icon: "援", href: "/legal-aid"),
        .init(title: "人民调解", text: "邻里、家庭、劳动等矛盾纠纷，免费调解", icon: "调"),
        .init(title: "公证服务", text: "出生、亲属关系、学历、涉外等公证办理指南", icon: "证"),
        .init(title: "司法鉴定", text: "法医临床、交通事故、医疗损害等鉴定", icon: "鉴"),
        .init(title: "仲裁", text: "合同纠纷、财产权益纠纷，含网上仲裁", icon: "裁"),
    ]

    static func home(_ req: Request) async throws -> View {
        let db = req.sql
        struct CountRow: Decodable { var type: String; var n: Int }
        let counts = try await db.select().column("type").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(Institution.schema).where("active", .equal, true).groupBy("type")
            .all(decoding: CountRow.self)
        func count(_ t: InstitutionType) -> Int { counts.first { $0.type == t.rawValue }?.n ?? 0 }
        let practitioners = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(Practitioner.schema).where("status", .equal, PractitionerStatus.practising.rawValue)
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let centres = try await InstitutionController.list(
            { var f = InstitutionController.Filter(); f.type = .publicLegalServiceCentre; return f }(),
            scope: .everything, page: PageRequest(page: 1, per: 10), on: db)
        let context = Context(
            page: req.pageMeta(title: "首页"),
            services: services,
            centres: centres.items.map { .init(name: $0.name, address: $0.address, phone: $0.phone, hours: $0.openingHours) },
            stats: [
                .init(label: "公共法律服务中心、站、室", value: count(.publicLegalServiceCentre) + count(.publicLegalServiceStation) + count(.publicLegalServiceRoom)),
                .init(label: "律师事务所", value: count(.lawFirm)),
                .init(label: "人民调解委员会", value: count(.mediationCommittee)),
                .init(label: "在册法律服务人员", value: practitioners),
            ])
        return try await req.view.render("home", context)
    }

    struct ElderForm: Content { var next: String? }

    /// Switches the elder-friendly mode (larger type, higher contrast) and remembers it for a year.
    static func toggleElder(_ req: Request) async throws -> Response {
        let form = try? req.content.decode(ElderForm.self)
        let on = req.cookies[Request.elderCookie]?.string != "1"
        let response = req.redirect(to: safeNext(form?.next) ?? "/")
        response.cookies[Request.elderCookie] = HTTPCookies.Value(string: on ? "1" : "0", maxAge: 365 * 24 * 3600, path: "/",
                                                                    isHTTPOnly: false, sameSite: .lax)
        return response
    }

    /// Only paths on this site: never an open redirect.
    /// Where each role starts its day: the operator on the call console, a clerk on their matter case's desk (`MatterCase.desk`),
    /// another window's clerk at the window, a village adviser on the visit log, a practitioner on their queue;
    /// administrators, leaders and auditors on the dashboard.
    static func landing(for p: Principal, on db: any SQLDatabase) async throws -> String {
        switch p.role {
        case .hotlineOperator: return "/hotline"
        case .windowClerk:
            guard let id = p.institutionID else { return "/window" }
            guard let type = try await db.select().column("type").from(Institution.schema).where("id", .equal, id)
                .first(decodingColumn: "type", as: String.self).flatMap(InstitutionType.init(rawValue:)) else { return "/window" }
            return MatterCases.registered.lazy.compactMap { $0.desk(forInstitutionType: type) }.first ?? "/window"
        case .practitioner:
            guard let id = p.practitionerID else { return "/work" }
            let advises = try await db.select().column("id").from("adviser_assignments").where("practitioner_id", .equal, id)
                .where("end_on", .is, SQLLiteral.null).limit(1).all().isEmpty == false
            return advises ? "/adviser" : "/work"
        default: return "/admin"
        }
    }

    /// The pages a citizen signs in for: their matters, applying, legal aid's application.
    static func isCitizenPage(_ path: String) -> Bool {
        path == "/my" || path.hasPrefix("/my/") || path.hasPrefix("/apply/") || path.hasPrefix("/legal-aid/apply")
    }

    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return nil }
        return next
    }

    struct OutboxContext: Encodable {
        struct Message: Encodable { var mobile: String; var text: String; var at: String }
        var page: PageMeta
        var messages: [Message]
    }

    /// Demo only: the messages the log-only SMS gateway would have sent.
    static func outbox(_ req: Request) async throws -> View {
        // Sign-in codes and rating links of every number: only for a demo, only to a caller on this machine.
        guard req.showsDemoOutbox else { throw AppError.notFound("页面") }
        let messages = try await SmsMessage.query(on: req.db).sort(\.$createdAt, .descending).limit(20).all()
        let formatter = DateFormatter.chinaTime
        return try await req.view.render("outbox", OutboxContext(
            page: req.pageMeta(title: "演示短信发件箱"),
            messages: try messages.map { .init(mobile: $0.mobileMasked, text: try req.personalData.open($0.text), at: formatter.string(from: $0.createdAt)) }))
    }
}

/// 无障碍声明 and 站内搜索: what a government website carries besides its services (政府网站发展指引).
enum SitePages {
    static func accessibility(_ req: Request) async throws -> View {
        struct Context: Encodable { var page: PageMeta }
        return try await req.view.render("accessibility", Context(page: req.pageMeta(title: "无障碍声明")))
    }

    struct Result: Encodable { var title: String; var href: String; var summary: String }

    /// The public pages, by what they are for, searched with the service guides.
    static let pages: [(title: String, href: String, words: String)] = [
        ("法律援助自助预审", "/legal-aid", "法律援助 免费 律师 经济困难 预审 农民工 讨薪 工伤"),
        ("办事指南", "/services", "办事 指南 材料 流程 收费 时限 地点"),
        ("进度查询", "/lookup", "进度 查询 事项编号 办理"),
        ("群众登录", "/login/citizen", "登录 注册 验证码 手机"),
        ("无障碍声明", "/accessibility", "无障碍 长者模式 老年人 纠错"),
    ]

    static func search(_ req: Request) async throws -> View {
        struct Context: Encodable { var page: PageMeta; var q: String; var results: [Result] }
        let q = String(((try? req.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(40))
        var results: [Result] = []
        if !q.isEmpty {
            let words = q.split(whereSeparator: \.isWhitespace).map(String.init)
            func matches(_ text: String) -> Bool { words.allSatisfy { text.localizedCaseInsensitiveContains($0) } }
            for item in try await Catalog.items(on: req.sql)
            where matches(item.name + item.conditions + item.materials + item.steps + item.location) {
                results.append(Result(title: item.name, href: "/services/\(item.code)", summary: "办理条件：" + item.conditions))
            }
            for page in pages where matches(page.title + page.words) {
                results.append(Result(title: page.title, href: page.href, summary: page.words))
            }
        }
        return try await req.view.render("search", Context(page: req.pageMeta(title: "站内搜索"), q: q, results: results))
    }
}
