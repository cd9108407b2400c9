import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Evaluation: the rectification of bad ratings (queue, steps, appeals), for the API and the pages.
    func evaluation() {
        let rectifications = api.grouped("rectifications")
        rectifications.get(use: RectificationController.apiList)
        rectifications.get(":id", use: RectificationController.apiGet)
        for step in RectificationStep.allCases {
            rectifications.post(":id", PathComponent(stringLiteral: step.rawValue)) { try await RectificationController.apiStep($0, step) }
        }
        web.get("rectifications", use: RectificationPages.queue)
        web.get("rectifications", ":id", use: RectificationPages.detail)
        web.post("rectifications", ":id", ":step", use: RectificationPages.step)
        web.post("my", ":number", "rectification", use: RectificationPages.citizenRating)
    }
}

enum RectificationController {
    static func filter(_ req: Request) throws -> Rectifications.Filter {
        var f = Rectifications.Filter()
        if let raw = try? req.query.get(String.self, at: "request"), !raw.isEmpty {
            guard let id = UUID(uuidString: raw) else { throw AppError.validation(["request": "事项标识格式不正确"]) }
            f.request = id
        }
        if let raw = try? req.query.get(String.self, at: "status"), !raw.isEmpty {
            if raw == "open" {
                f.open = true
            } else {
                guard let s = RectificationStatus(rawValue: raw) else { throw AppError.validation(["status": "状态不正确"]) }
                f.status = s
            }
        }
        return f
    }

    static func apiList(_ req: Request) async throws -> Paged<Rectifications.View> {
        let p = try req.principal()
        return try await Rectifications.list(try filter(req), scope: p.scope, page: try PageRequest(from: req), protector: req.personalData,
                                             today: req.today, by: p, on: req.sql)
    }

    static func id(_ req: Request) throws -> UUID { try req.uuid("id", notFound: "整改记录") }

    static func apiGet(_ req: Request) async throws -> Rectifications.View {
        let p = try req.principal()
        let x = try await Rectifications.find(try id(req), on: req.sql)
        guard Rectifications.visible(x, to: p) else { throw AppError.notFound("整改记录") }
        return try Rectifications.view(x, for: p, protector: req.personalData, today: req.today)
    }

    static func apiStep(_ req: Request, _ step: RectificationStep) async throws -> Rectifications.View {
        let p = try req.principal()
        let input = try req.content.decode(Rectifications.StepInput.self)
        let x = try await Rectifications.take(step, on: try id(req), input, by: p, app: req.application)
        return try Rectifications.view(x, for: p, protector: req.personalData, today: req.today)
    }
}

enum RectificationPages {
    static func mayOpenQueue(_ p: Principal) -> Bool {
        [.institutionAdmin, .countyAdmin, .cityAdmin, .leader, .auditor].contains(p.role) || (p.role == .windowClerk && p.institutionID != nil)
    }

    /// The institution's queue of bad ratings to call back and rectify; for a county, its appeals too.
    static func queue(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(mayOpenQueue(p))
        let page = try PageRequest(from: req)
        var filter = try RectificationController.filter(req)
        let raw = (try? req.query.get(String.self, at: "status")) ?? "open"
        if raw == "open" { filter.open = true }
        let result = try await Rectifications.list(filter, scope: p.scope, page: page, protector: req.personalData, today: req.today, by: p, on: req.sql)
        let table = TableView(columns: ["事项编号", "评价", "状态", "回访期限", "整改期限", "承办机构"], rows: result.items.map { x in
            [Cell(text: x.number, href: "/rectifications/\(x.id)"), Cell(text: x.ratingName, badge: "warn"),
             Cell(text: x.statusName + (x.overdue ? "（已超期）" : ""), badge: x.overdue ? "danger" : nil),
             Cell(text: x.callbackDue), Cell(text: x.rectifyDue), Cell(text: x.institutionName ?? x.regionName)]
        }, total: result.total, page: page, request: req)
        var options = [SelectOption(value: "open", label: "待办（未办结）", selected: raw == "open"),
                       SelectOption(value: "", label: "全部", selected: raw.isEmpty)]
        options += RectificationStatus.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == raw) }
        let status = FormField(name: "status", label: "状态", kind: .select, value: raw, options: options)
        let heading = p.role == .countyAdmin ? "差评整改与申诉复核" : "差评整改"
        return try await req.view.render("admin/list", ListPage(page: req.pageMeta(title: heading), heading: heading, filters: [status],
                                                                table: table, actions: []))
    }

    struct DetailContext: Encodable {
        var page: PageMeta
        var x: Rectifications.View
        var can: [String: Bool]
        var error: String?
        var errors: [String: String]
        var errorLinks: [ErrorLink]
        var kept: [String: String]
        var appealKinds: [SelectOption]
        var ratings: [SelectOption]
    }

    /// The fields of the step forms, for the error summary (key, element id, label).
    static let fields: [(key: String, id: String, label: String)] = [
        ("reached", "rc-reached", "是否联系上"), ("attempts", "rc-attempts", "联系次数"), ("note", "rc-note", "回访情况"),
        ("verification", "rc-verification", "核实情况"), ("measures", "rc-measures", "整改措施"), ("reply", "rc-reply", "答复内容"),
        ("kind", "rc-kind", "申诉理由类型"), ("reason", "rc-reason", "理由"), ("upheld", "rc-upheld", "复核结论"), ("rating", "rc-rating", "评价"),
    ]

    static func detail(_ req: Request) async throws -> Response { try await detail(req, error: nil) }

    static func detail(_ req: Request, error: AppError?) async throws -> Response {
        let p = try req.staff()
        let x = try await Rectifications.find(try RectificationController.id(req), on: req.sql)
        guard Rectifications.visible(x, to: p) else { throw AppError.notFound("整改记录") }
        let v = try Rectifications.view(x, for: p, protector: req.personalData, today: req.today)
        var kept: [String: String] = [:]
        if error != nil {
            for f in ["note", "attempts", "verification", "measures", "reply", "kind", "reason", "comment"] { kept[f] = req.formValue(f) }
        }
        let ctx = DetailContext(
            page: req.pageMeta(title: "差评整改 \(v.number)"), x: v,
            can: Dictionary(uniqueKeysWithValues: v.steps.map { ($0 == "appeal-decision" ? "appealDecision" : $0, true) }),
            error: error?.message, errors: error?.fields ?? [:], errorLinks: ErrorLink.links(error?.fields ?? [:], fields), kept: kept,
            appealKinds: RatingAppealKind.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == kept["kind"]) },
            ratings: Rating.allCases.reversed().map { SelectOption(value: String($0.rawValue), label: $0.chineseName, selected: false) })
        let response = try await req.view.render("evaluation/rectification", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    /// One form per step; a refused step shows the page again with what was typed and why.
    static func step(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try RectificationController.id(req)
        guard let step = req.parameters.get("step").flatMap(RectificationStep.init(rawValue:)) else { throw AppError.notFound("操作") }
        do {
            _ = try await Rectifications.take(step, on: id, formInput(req), by: p, app: req.application)
            return req.redirect(to: "/rectifications/\(id)", flash: "已\(step.chineseName)")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await detail(req, error: e)
        }
    }

    static func formInput(_ req: Request) -> Rectifications.StepInput {
        func flag(_ name: String) -> Bool? { req.formValue(name).flatMap { $0 == "1" ? true : $0 == "0" ? false : nil } }
        return Rectifications.StepInput(
            reached: flag("reached"), attempts: req.formValue("attempts").flatMap { Int($0.prefix(4)) }, note: req.formValue("note"),
            verification: req.formValue("verification"), measures: req.formValue("measures"), reply: req.formValue("reply"),
            kind: req.formValue("kind"), reason: req.formValue("reason"), upheld: flag("upheld"),
            rating: req.formValue("rating").flatMap { Int($0.prefix(2)) }, comment: req.formValue("comment"))
    }

    /// The person served rates the rectification from their matter's page.
    static func citizenRating(_ req: Request) async throws -> Response {
        let p = try req.principal()
        guard p.role == .citizen else { throw AppError.forbidden }
        let number = req.parameters.get("number") ?? ""
        let r = try await RequestViews.find(number, scope: p.scope, on: req.db)
        guard let x = try await Rectifications.find(request: r.id!, on: req.sql) else { throw AppError.notFound("整改记录") }
        do {
            _ = try await Rectifications.take(.evaluation, on: x.id, formInput(req), by: p, app: req.application)
            return req.redirect(to: "/my/\(r.number)#rectification", flash: "感谢您对整改结果的评价")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return req.redirect(to: "/my/\(r.number)#rectification", flash: e.message)
        }
    }
}
