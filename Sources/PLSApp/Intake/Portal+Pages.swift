import Vapor
import SQLKit
import PLSDomain

/// The citizen portal: the catalog with its service guides, applying, my requests, rating, and the public lookup.
enum PortalPages {
    struct CatalogContext: Encodable {
        struct Group: Encodable { var name: String; var matterType: String; var items: [Catalog.Item] }
        var page: PageMeta
        var groups: [Group]
    }

    static func catalog(_ req: Request) async throws -> View {
        let items = try await Catalog.items(on: req.sql)
        let groups = MatterType.allCases.compactMap { t -> CatalogContext.Group? in
            let own = items.filter { $0.matterType == t.rawValue }
            return own.isEmpty ? nil : .init(name: t.chineseName, matterType: t.rawValue, items: own)
        }
        return try await req.view.render("portal/catalog", CatalogContext(page: req.pageMeta(title: "办事指南"), groups: groups))
    }

    struct GuideContext: Encodable {
        var page: PageMeta
        var item: Catalog.Item
        var matterName: String
        var rule: String
        /// Where to go, with address, telephone and hours: every guide shows them, an in-person-only one first.
        var windows: [InstitutionController.Row]
    }

    static func guide(_ req: Request) async throws -> View {
        guard let item = try await Catalog.item(req.parameters.get("code") ?? "", on: req.sql), item.active else { throw AppError.notFound("服务事项") }
        let type = MatterType(rawValue: item.matterType) ?? .consultation
        let rules = try await Catalog.rules(type, on: req.sql)
        return try await req.view.render("portal/guide", GuideContext(
            page: req.pageMeta(title: item.name), item: item, matterName: type.chineseName,
            rule: "受理 \(rules.accept.chineseDescription)内，办结 \(rules.conclude.chineseDescription)内（节假日顺延）",
            windows: try await windows(for: type, on: req.sql)))
    }

    /// The institutions whose windows take the matter, the city's first, then by county (at most 30: a guide, not a directory).
    static func windows(for type: MatterType, on db: any SQLDatabase) async throws -> [InstitutionController.Row] {
        var rows: [InstitutionController.Row] = []
        for t in type.windows where rows.count < 30 {
            var filter = InstitutionController.Filter()
            filter.type = t
            rows += try await InstitutionController.list(filter, scope: .everything, page: PageRequest(page: 1, per: 30 - rows.count), on: db).items
        }
        return rows
    }

    /// An item handled in person only is not applied for online, whoever asks: the guide says where to go and when.
    /// An item whose capability has its own application page is applied for there.
    static func leadElsewhere(_ item: Catalog.Item, _ req: Request) -> Response? {
        if !item.online {
            return req.redirect(to: "/services/\(item.code)", flash: "“\(item.name)”需到现场办理，请按下方地点和办公时间前往")
        }
        if let path = MatterType(rawValue: item.matterType).flatMap(MatterCases.forMatter)?.applicationPath(for: item.code) {
            return req.redirect(to: path)
        }
        return nil
    }

    struct ApplyContext: Encodable {
        var page: PageMeta
        var item: Catalog.Item
        var v: [String: String]
        var errors: [String: String]
        var error: String?
        var errorLinks: [ErrorLink]
        var categories: [SelectOption]
        var groups: [SelectOption]
        var regions: [SelectOption]
        var formToken: String
    }

    static func citizen(_ req: Request) throws -> Principal {
        let p = try req.principal()
        if p.role != .citizen { throw AppError(.forbidden, "forbidden", "网上申请请使用群众账号；工作人员请在热线或窗口登记") }
        return p
    }

    static func applyForm(_ req: Request) async throws -> Response {
        guard let item = try await Catalog.item(req.parameters.get("code") ?? "", on: req.sql), item.active else { throw AppError.notFound("服务事项") }
        if let refused = leadElsewhere(item, req) { return refused }
        let p = try citizen(req)
        var v = ["name": "", "mobile": ""]
        if let account = try await Account.find(p.accountID, on: req.db), let cipher = account.mobileCipher {
            v["mobile"] = (try? req.personalData.decrypt(cipher)) ?? ""
        }
        return try await render(req, item: item, v: v, groups: [], error: nil)
    }

    static func render(_ req: Request, item: Catalog.Item, v: [String: String], groups: [String], error: AppError?) async throws -> Response {
        var v = v
        v["regionCode"] = try await RegionNames.label(v["regionCode"], on: req.sql)
        let ctx = ApplyContext(page: req.pageMeta(title: "申请：\(item.name)"), item: item, v: v,
                               errors: error.map(RequestForm.pageFields) ?? [:], error: error?.message,
                               errorLinks: ErrorLink.links(error.map(RequestForm.pageFields) ?? [:], RequestForm.summaryFields),
                               categories: RequestForm.categoryOptions(v["category"]), groups: RequestForm.groupOptions(groups),
                               regions: try await RequestForm.regionOptions(on: req.sql),
                               formToken: req.formValue("formToken")?.nilIfEmpty ?? Tokens.random(bytes: 12))
        let response = try await req.view.render("portal/apply", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func apply(_ req: Request) async throws -> Response {
        let p = try citizen(req)
        guard let item = try await Catalog.item(req.parameters.get("code") ?? "", on: req.sql), item.active else { throw AppError.notFound("服务事项") }
        if let refused = leadElsewhere(item, req) { return refused }
        var values = RequestForm.read(req)
        values.v["matterType"] = item.matterType
        values.v["itemCode"] = item.code
        values.v["channel"] = req.headers.first(name: .userAgent).map { $0.contains("Mobile") } == true ? RequestChannel.mobile.rawValue : RequestChannel.web.rawValue
        do {
            let valid = try await Intake.validate(RequestForm.input(values, answer: false), by: p, today: req.today, regions: req.application.regionDirectory, on: req.sql)
            // The form's own token makes a double click one request.
            let key = req.formValue("formToken")?.nilIfEmpty
            let created = try await Intake.create(valid, by: p, idempotencyKey: key, app: req.application, on: req.db)
            return req.redirect(to: "/my/\(created.request.number)", flash: "已提交，事项编号 \(created.request.number)，请留意办理进度")
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .forbidden {
            return try await render(req, item: item, v: values.v, groups: values.groups, error: e)
        }
    }

    struct MyContext: Encodable {
        struct Message: Encodable { var at: String; var text: String; var href: String?; var unread: Bool }
        var page: PageMeta
        var table: TableView
        /// What the platform told them lately (submission, acceptance, who handles it, decisions …).
        var messages: [Message]
        /// Their complaints, newest first (`Complaints`).
        struct Complaint: Encodable { var number: String; var href: String; var status: String; var on: String }
        var complaints: [Complaint]
    }

    static func mine(_ req: Request) async throws -> View {
        let p = try req.principal()
        let page = try PageRequest(from: req)
        let result = try await RequestViews.list(.init(), scope: p.scope, page: page, today: req.today, protector: req.personalData, on: req.sql)
        let f = DateFormatter.chinaTime
        let table = TableView(columns: ["事项编号", "事项", "状态", "提交时间"], rows: result.items.map { r in
            [Cell(text: r.number, href: p.role == .citizen ? "/my/\(r.number)" : "/work/\(r.id)"), Cell(text: r.matterTypeName + " · " + r.categoryName),
             Cell(text: r.statusName, badge: r.status == "concluded" ? "ok" : (r.overdue ? "warn" : "muted")), Cell(text: String(f.string(from: r.createdAt).prefix(16)))]
        }, total: result.total, page: page, request: req)
        struct N: Decodable { var text: String; var createdAt: Date; var readAt: Date?; var number: String? }
        let notes = try await req.sql.raw("""
            SELECT n.text, n.created_at, n.read_at, r.number FROM notifications n LEFT JOIN service_requests r ON r.id = n.request_id
            WHERE n.account_id = \(bind: p.accountID) ORDER BY n.created_at DESC LIMIT 10
            """).all(decoding: N.self, keyDecodingStrategy: .snakeCase)
        let messages = notes.map {
            MyContext.Message(at: String(f.string(from: $0.createdAt).prefix(16)), text: $0.text,
                              href: p.role == .citizen ? $0.number.map { "/my/\($0)" } : nil, unread: $0.readAt == nil)
        }
        let complaints = try await Complaints.list(status: nil, open: false, for: p, page: PageRequest(page: 1, per: 10), on: req.sql).rows
            .map { MyContext.Complaint(number: $0.number, href: "/complaints/\($0.id)", status: $0.state.chineseName, on: $0.registeredOn) }
        return try await req.view.render("portal/mine", MyContext(page: req.pageMeta(title: "我的事项"), table: table, messages: messages,
                                                                  complaints: complaints))
    }

    struct ReceiptContext: Encodable {
        struct Row: Encodable { var label: String; var value: String }
        var issuer: String
        var number: String
        var rows: [Row]
        var follow: [String]
        var back: String
        var date: String
    }

    /// 受理回执: what the person keeps or prints, online or at the window — the number, the deadlines, what to
    /// bring and how to follow it. The citizen reads their own; staff read those in their scope.
    static func receipt(_ req: Request) async throws -> View {
        let p = try req.principal()
        let key = req.parameters.get("number") ?? req.parameters.get("id") ?? ""
        let r = try await RequestViews.find(key, scope: p.scope, on: req.db)
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        var item: Catalog.Item?
        if let code = d.itemCode { item = try await Catalog.item(code, on: req.sql) }
        let f = DateFormatter.chinaTime
        var rows: [ReceiptContext.Row] = [
            .init(label: "事项", value: d.matterTypeName + " · " + (item?.name ?? d.categoryName)),
            .init(label: "申请人", value: d.applicant.name + "（" + d.applicant.mobile + "）"),
            .init(label: "所在地", value: d.regionName),
            .init(label: "提交时间", value: String(f.string(from: d.createdAt).prefix(16)) + "，经" + d.channelName),
            .init(label: "当前状态", value: d.statusName),
        ]
        if let due = d.acceptDue, r.requestStatus == .submitted { rows.append(.init(label: "受理期限", value: "\(due) 前（节假日顺延）")) }
        if let due = d.concludeDue { rows.append(.init(label: "办结期限", value: "\(due) 前（节假日顺延）")) }
        if let who = d.practitionerName ?? d.institutionName { rows.append(.init(label: "承办", value: who)) }
        if let materials = item?.materials, materials != "无" { rows.append(.init(label: "所需材料", value: materials)) }
        let meta = req.pageMeta(title: "受理回执")
        return try await req.view.render("portal/receipt", ReceiptContext(
            issuer: meta.cityName + "公共法律服务平台", number: d.number, rows: rows,
            follow: ["登录平台，在“我的事项”中查看（网上申请的）", "在平台首页“进度查询”中输入事项编号和手机号码",
                     "拨打 12348 公共法律服务热线，报事项编号查询"],
            back: p.role == .citizen ? "/my/\(d.number)" : "/work/\(d.id)", date: req.today.chineseText))
    }

    struct DetailContext: Encodable {
        var page: PageMeta
        var d: RequestViews.Detail
        var timeline: [TimelineItem]
        var canRate: Bool
        var ratings: [SelectOption]
        var error: String?
        var created: String
        var attachments: [AttachmentView]
        var hasAttachments: Bool
        var canUpload: Bool
        /// The matter cases' parts of the page (HTML from their own templates).
        var caseParts: [String]
        /// What was done about a bad rating, and the person's one rating of it.
        var rectification: Rectifications.View?
    }

    static func myDetail(_ req: Request, error: AppError? = nil) async throws -> Response {
        let p = try req.principal()
        let r = try await RequestViews.find(req.parameters.get("number") ?? "", scope: p.scope, on: req.db)
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        let files = try await Attachments.list(r.id!, on: req.sql)
        let input = CasePageInput(page: req.pageMeta(title: "事项 \(d.number)"), detail: d, request: r, error: error)
        var parts: [String] = []
        for c in MatterCases.registered { if let part = try await c.portalPage(input, req: req) { parts.append(part) } }
        let ctx = DetailContext(page: input.page, d: d, timeline: TimelineItem.from(d.timeline, showActor: false),
                                canRate: d.actions.contains("evaluate"),
                                ratings: Rating.allCases.reversed().map { SelectOption(value: String($0.rawValue), label: $0.chineseName, selected: false) },
                                error: error?.message, created: DateFormatter.chinaTime.string(from: d.createdAt),
                                attachments: AttachmentView.list(files, base: "/my/\(d.number)"), hasAttachments: !files.isEmpty,
                                canUpload: Attachments.mayUpload(r, p), caseParts: parts,
                                rectification: try await (r.rating ?? 5) <= 2 ? Rectifications.find(request: r.id!, on: req.sql)
                                    .map { try Rectifications.view($0, for: p, protector: req.personalData, today: req.today) } : nil)
        let response = try await req.view.render("portal/detail", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func myDetailPage(_ req: Request) async throws -> Response { try await myDetail(req) }

    static func rate(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let number = req.parameters.get("number") ?? ""
        do {
            _ = try await RequestActions.evaluate(number, .init(rating: req.formValue("rating").flatMap(Int.init), comment: req.formValue("comment")),
                                                  by: p, app: req.application)
            return req.redirect(to: "/my/\(number)", flash: "感谢您的评价")
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            return try await myDetail(req, error: e)
        }
    }

    struct LookupContext: Encodable {
        var page: PageMeta
        var number: String
        var mobile: String
        var result: Dispatch.PublicView?
        var steps: [TimelineItem]
        var error: String?
    }

    static func lookup(_ req: Request) async throws -> Response {
        let number = (try? req.query.get(String.self, at: "number")) ?? ""
        let mobile = (try? req.query.get(String.self, at: "mobile")) ?? ""
        var ctx = LookupContext(page: req.pageMeta(title: "办理进度查询"), number: number, mobile: mobile, result: nil, steps: [], error: nil)
        var status: HTTPStatus = .ok
        if !number.isEmpty || !mobile.isEmpty {
            do {
                guard let m = MobileNumber(mobile) else { throw AppError.validation(["mobile": "请输入申请时填写的手机号码"], message: "请输入申请时填写的手机号码") }
                try req.limitLookup(number: number)
                let view = try await Dispatch.lookup(number: number, mobile: m, app: req.application)
                ctx.result = view
                let f = DateFormatter.chinaTime
                ctx.steps = view.steps.map { TimelineItem(at: f.string(from: $0.at), actor: nil, action: $0.actionName, status: $0.statusName, note: nil) }
            } catch let e as AppError {
                ctx.error = e.message
                status = e.status
            }
        }
        let response = try await req.view.render("portal/lookup", ctx).encodeResponse(for: req)
        response.status = status
        return response
    }
}

// MARK: - Rating from the SMS link

extension PortalPages {
    struct RateLinkContext: Encodable {
        var page: PageMeta
        var number: String
        var matterName: String
        var summary: String?
        var token: String
        var ratings: [SelectOption]
        var done: Bool
        var error: String?
    }

    static func rateLink(_ req: Request, error: AppError? = nil, done: Bool = false) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        guard let id = RatingLink.requestID(from: token, app: req.application),
              let r = try await ServiceRequest.find(id, on: req.db) else { throw AppError(.notFound, "not_found", "评价链接无效，请核对短信中的链接") }
        let ctx = RateLinkContext(page: req.pageMeta(title: "服务评价"), number: r.number,
                                  matterName: MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType, summary: try req.application.personalData.open(r.summary), token: token,
                                  ratings: Rating.allCases.reversed().map { SelectOption(value: String($0.rawValue), label: $0.chineseName, selected: false) },
                                  done: done || r.rating != nil, error: error?.message)
        let response = try await req.view.render("portal/rate", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func rateLinkPage(_ req: Request) async throws -> Response { try await rateLink(req) }

    static func rateLinkSubmit(_ req: Request) async throws -> Response {
        try req.limit(.rating)
        guard let id = RatingLink.requestID(from: req.parameters.get("token") ?? "", app: req.application) else {
            throw AppError(.notFound, "not_found", "评价链接无效，请核对短信中的链接")
        }
        do {
            _ = try await RequestActions.evaluate(byLink: id, .init(rating: req.formValue("rating").flatMap(Int.init), comment: req.formValue("comment")),
                                                  app: req.application)
            return try await rateLink(req, done: true)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            return try await rateLink(req, error: e)
        }
    }
}
