import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Public-interest service: the practitioners' log and the totals against the annual hours.
    func publicInterest() {
        let group = api.grouped("public-interest")
        group.post(use: PublicInterestController.apiLog)
        group.get(use: PublicInterestController.apiEntries)
        group.get("totals", use: PublicInterestController.apiTotals)
        web.get("public-interest", use: PublicInterestController.page)
        web.post("public-interest", use: PublicInterestController.submit)
    }
}

enum PublicInterestController {
    static func year(_ req: Request) throws -> Int {
        guard let raw = try? req.query.get(String.self, at: "year"), !raw.isEmpty else { return req.today.year }
        guard let y = Int(raw), (2000...2100).contains(y) else { throw AppError.validation(["year": "年份应为 2000–2100"]) }
        return y
    }

    static func practitioner(_ req: Request) throws -> UUID? {
        guard let raw = try? req.query.get(String.self, at: "practitioner"), !raw.isEmpty else { return nil }
        guard let id = UUID(uuidString: raw) else { throw AppError.validation(["practitioner": "人员标识格式不正确"]) }
        return id
    }

    static func mayRead(_ p: Principal) -> Bool {
        [.practitioner, .institutionAdmin, .countyAdmin, .cityAdmin, .leader, .auditor].contains(p.role)
    }

    /// A practitioner sees their own; the others their scope.
    static func scope(_ p: Principal) -> (DataScope, UUID?) {
        p.role == .practitioner ? (p.scope, p.practitionerID) : (p.scope, nil)
    }

    static func apiLog(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let entry = try await PublicInterest.log(try req.content.decode(PublicInterest.Input.self), by: p, app: req.application)
        let response = try await entry.encodeResponse(for: req)
        response.status = .created
        return response
    }

    static func apiEntries(_ req: Request) async throws -> Paged<PublicInterest.Entry> {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (scope, own) = scope(p)
        return try await PublicInterest.entries(practitioner: own ?? (try practitioner(req)), year: try year(req), scope: scope,
                                                page: try PageRequest(from: req), protector: req.personalData, on: req.sql)
    }

    static func apiTotals(_ req: Request) async throws -> Paged<PublicInterest.Total> {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (scope, own) = scope(p)
        return try await PublicInterest.totals(year: try year(req), scope: scope, practitioner: own ?? (try practitioner(req)),
                                               page: try PageRequest(from: req), annualHours: req.city.publicInterestHours, on: req.sql)
    }

    struct Context: Encodable {
        var page: PageMeta
        var year: Int
        var annualHours: Int
        var canLog: Bool
        var own: PublicInterest.Total?
        var kinds: [SelectOption]
        var today: String
        var entries: TableView
        var totals: TableView?
        var error: String?
        var errors: [String: String]
        var errorLinks: [ErrorLink]
        var kept: [String: String]
    }

    static func page(_ req: Request) async throws -> Response { try await page(req, error: nil) }

    static func page(_ req: Request, error: AppError?) async throws -> Response {
        let p = try req.staff()
        try p.require(mayRead(p))
        let year = try year(req), (scope, own) = scope(p), annual = req.city.publicInterestHours
        let pageRequest = try PageRequest(from: req)
        let entries = try await PublicInterest.entries(practitioner: own, year: year, scope: scope, page: pageRequest, protector: req.personalData, on: req.sql)
        let entryTable = TableView(columns: ["日期", "人员", "类型", "时长（小时）", "服务内容"], rows: entries.items.map { e in
            [Cell(text: e.servedOn), Cell(text: e.practitionerName), Cell(text: e.kindName), Cell(text: String(e.hours)), Cell(text: e.description)]
        }, total: entries.total, page: pageRequest, request: req)
        var ownTotal: PublicInterest.Total?
        var totalsTable: TableView?
        if let own {
            ownTotal = try await PublicInterest.totals(year: year, scope: scope, practitioner: own, page: .init(), annualHours: annual, on: req.sql).items.first
        } else {
            let totals = try await PublicInterest.totals(year: year, scope: scope, page: pageRequest, annualHours: annual, on: req.sql)
            totalsTable = TableView(columns: ["人员", "类别", "机构", "公益服务", "驻村服务", "合计（小时）", "法律援助案件", "年度要求"], rows: totals.items.map { t in
                [Cell(text: t.name), Cell(text: t.typeName), Cell(text: t.institutionName ?? ""), Cell(text: String(t.serviceHours)),
                 Cell(text: String(t.adviserHours)), Cell(text: String(t.totalHours)), Cell(text: String(t.aidCases)),
                 Cell(text: t.met ? "已达到" : "未达到 \(annual) 小时", badge: t.met ? "ok" : "warn")]
            }, total: totals.total, page: pageRequest, request: req)
        }
        var kept: [String: String] = [:]
        if error != nil { for f in ["kind", "servedOn", "hours", "description"] { kept[f] = req.formValue(f) } }
        let fields = [("kind", "pi-kind", "服务类型"), ("servedOn", "pi-day", "服务日期"), ("hours", "pi-hours", "时长"), ("description", "pi-description", "服务内容"),
                      ("practitionerId", "pi-kind", "人员")].map { (key: $0.0, id: $0.1, label: $0.2) }
        let ctx = Context(page: req.pageMeta(title: "公益法律服务"), year: year, annualHours: annual, canLog: p.role == .practitioner, own: ownTotal,
                          kinds: PublicInterestKind.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == kept["kind"]) },
                          today: req.today.description, entries: entryTable, totals: totalsTable, error: error?.message, errors: error?.fields ?? [:],
                          errorLinks: ErrorLink.links(error?.fields ?? [:], fields), kept: kept)
        let response = try await req.view.render("evaluation/public-interest", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    /// A practitioner logs a service from the page.
    static func submit(_ req: Request) async throws -> Response {
        let p = try req.staff()
        do {
            _ = try await PublicInterest.log(.init(practitionerId: nil, kind: req.formValue("kind"), servedOn: req.formValue("servedOn"),
                                                   hours: req.formValue("hours").flatMap { Double($0.prefix(8)) }, description: req.formValue("description")),
                                             by: p, app: req.application)
            return req.redirect(to: "/public-interest", flash: "已登记公益法律服务")
        } catch let e as AppError where e.status.code < 500 {
            return try await page(req, error: e)
        }
    }
}
