import Vapor
import SQLKit
import PLSDomain

/// Village legal advisers' pages: the adviser's phone log, and the county's view of every village's hours.
enum GrassrootsPages {
    /// "3" rather than "3.0", "2.5" as it is.

    // MARK: The adviser's log (a phone page)

    struct LogContext: Encodable {
        var page: PageMeta
        var villages: [SelectOption]
        var kinds: [SelectOption]
        var hours: [SelectOption]
        var today: String
        var summary: VillageAdvisers.AdviserSummary?
        var recent: [VillageAdvisers.Service]
        var error: String?
        var errors: [String: String]
        var v: [String: String]
        var hasVillages: Bool
        var categories: [SelectOption]
        var errorLinks: [ErrorLink]
    }

    static func logPage(_ req: Request, error: AppError? = nil, v: [String: String] = [:]) async throws -> Response {
        let p = try req.staff()
        guard let me = p.practitionerID else { throw AppError(.forbidden, "forbidden", "只有法律顾问本人可以在此登记服务；工作人员请在“法律顾问”页面导入") }
        let summary = try await VillageAdvisers.adviser(me, today: req.today, on: req.sql)
        let recent = try await VillageAdvisers.services(filter: "WHERE s.practitioner_id = \(bind: me)", page: PageRequest(page: 1, per: 10), on: req.sql).items
        let ctx = LogContext(
            page: req.pageMeta(title: "驻村服务登记"),
            villages: summary.villages.filter(\.current).map { SelectOption(value: $0.code, label: $0.name, selected: $0.code == v["regionCode"]) },
            kinds: AdviserServiceKind.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == (v["kind"] ?? "consultation")) },
            hours: stride(from: 0.5, through: 8, by: 0.5).map { h in
                let s = h == h.rounded() ? String(Int(h)) : String(h)
                return SelectOption(value: s, label: s + " 小时", selected: s == (v["hours"] ?? "2"))
            },
            today: req.today.description, summary: summary, recent: recent, error: error?.message, errors: error?.fields ?? [:], v: v,
            hasVillages: summary.villages.contains(where: \.current),
            categories: [SelectOption(value: "", label: "请选择", selected: (v["category"] ?? "").isEmpty)]
                + PLSDomain.Category.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == v["category"]) },
            errorLinks: ErrorLink.links(error?.fields ?? [:], [
                ("regionCode", "regionCode", "服务村（社区）"), ("servedOn", "servedOn", "日期"), ("hours", "hours", "时长"), ("kind", "kind", "服务类型"),
                ("items", "items", "件数"), ("people", "people", "服务人数"), ("photos", "photos", "现场照片"),
                ("personName", "personName", "当事人姓名"), ("personMobile", "personMobile", "当事人手机号码"), ("category", "category", "类别"),
            ]))
        let response = try await req.view.render("grassroots/log", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func log(_ req: Request) async throws -> Response { try await logPage(req) }

    static func submit(_ req: Request) async throws -> Response {
        let p = try req.staff()
        // The form carries photos: received to disk, then read.
        let form = try await req.receiveForm(limit: VillageAdvisers.uploadLimit)
        defer { form.discard() }
        var v: [String: String] = [:]
        for k in ["regionCode", "servedOn", "hours", "kind", "items", "people", "notes", "personName", "personMobile", "category"] { v[k] = form.text(k) ?? "" }
        var numbers = FieldErrors()
        if let raw = v["items"]?.nilIfEmpty, Int(raw) == nil { numbers.add("items", "服务件数应为整数") }
        if let raw = v["people"]?.nilIfEmpty, Int(raw) == nil { numbers.add("people", "服务人数应为整数") }
        let carryOn = form.texts("toRequest").contains("1")
        if carryOn { v["toRequest"] = "1" }
        // Checked before anything is saved, so that a failed carry-on never leaves hours logged twice.
        let carry = VillageAdvisers.Carry(description: v["notes"], name: v["personName"], mobile: v["personMobile"], category: v["category"])
        if carryOn {
            let kind = AdviserServiceKind(rawValue: v["kind"] ?? "")
            if kind?.becomes == nil { numbers.add("kind", "只有法律咨询和矛盾纠纷可以转为事项") }
            for (field, message) in VillageAdvisers.checkCarry(carry, kind: kind) { numbers.add(field, message) }
        }
        if !numbers.fields.isEmpty { return try await logPage(req, error: AppError.validation(numbers.fields), v: v) }
        let photos = try await form.bytes(of: "photos", app: req.application)
        do {
            let s = try await VillageAdvisers.log(.init(practitionerId: nil, regionCode: v["regionCode"], servedOn: v["servedOn"],
                                                        hours: v["hours"].flatMap(Double.init), kind: v["kind"], items: v["items"].flatMap(Int.init) ?? 1,
                                                        people: v["people"].flatMap(Int.init) ?? 0, notes: v["notes"]),
                                                  photos: photos, by: p, today: req.today, now: req.now, app: req.application)
            if carryOn {
                do {
                    let r = try await VillageAdvisers.toRequest(s.id, carry, by: p, app: req.application)
                    return req.redirect(to: "/adviser", flash: "已登记 \(s.hours.shortText) 小时服务，并转为事项 \(r.number)")
                } catch let e as AppError {
                    return req.redirect(to: "/adviser", flash: "已登记 \(s.hours.shortText) 小时服务；转为事项未成功：\(e.message)")
                }
            }
            return req.redirect(to: "/adviser", flash: "已登记 \(s.regionName) \(s.hours.shortText) 小时服务")
        } catch let e as AppError where [.unprocessableEntity, .conflict].contains(e.status) {
            return try await logPage(req, error: e, v: v)
        }
    }

    // MARK: The county's view

    struct VillagesContext: Encodable {
        var page: PageMeta
        var table: TableView
        var behindOnly: Bool
        var pace: String
        var monthly: [VillageAdvisers.MonthlyRow]
        var canImport: Bool
        var importResult: VillageAdvisers.ImportResult?
        var importError: String?
        var columns: String
    }

    static func villagesPage(_ req: Request, importResult: VillageAdvisers.ImportResult? = nil, importError: String? = nil) async throws -> Response {
        let p = try req.staff()
        let behind = (try? req.query.get(String.self, at: "behind")) == "1"
        let page = try PageRequest(from: req)
        let result = try await VillageAdvisers.villages(prefix: p.areaPrefix, today: req.today, behindOnly: behind, page: page, on: req.sql)
        let table = TableView(columns: ["村（社区）", "法律顾问", "今年服务时长", "服务件数", "状态"], rows: result.items.map { v in
            [Cell(text: v.name), Cell(text: v.adviserNames, href: v.adviserId.map { "/grassroots/advisers/\($0)" }), Cell(text: "\(v.hours.shortText) 小时"), Cell(text: "\(v.items) 件"),
             Cell(text: v.met ? "已满 50 小时" : (v.behind ? "落后进度" : "符合进度"), badge: v.met ? "ok" : (v.behind ? "warn" : "muted"))]
        }, total: result.total, page: page, request: req)
        let pace = AdviserTargets.pace(AdviserTargets.hoursPerVillage, on: req.today)
        let response = try await req.view.render("grassroots/villages", VillagesContext(
            page: req.pageMeta(title: "村（居）法律顾问"), table: table, behindOnly: behind, pace: String(format: "%.1f", pace),
            monthly: try await VillageAdvisers.monthly(year: req.today.year, month: req.today.month, prefix: p.areaPrefix, on: req.sql),
            canImport: [.cityAdmin, .countyAdmin, .windowClerk].contains(p.role), importResult: importResult, importError: importError,
            columns: VillageAdvisers.columns.joined(separator: ","))).encodeResponse(for: req)
        if importError != nil { response.status = .unprocessableEntity }
        return response
    }

    static func villages(_ req: Request) async throws -> Response { try await villagesPage(req) }

    struct AdviserContext: Encodable {
        var page: PageMeta
        var summary: VillageAdvisers.AdviserSummary
        var hours: String
        /// The adviser's villages (named `table` for the shared table partial).
        var table: TableView
        var recent: [VillageAdvisers.Service]
        var photoBase: String
    }

    /// One adviser as the county sees them: their villages against 50 hours and the pace, and their latest visits.
    static func adviser(_ req: Request) async throws -> View {
        let p = try req.staff()
        let id = try req.uuid("practitionerId")
        if p.role == .practitioner, p.practitionerID != id { throw AppError.notFound("人员") }
        _ = try await PractitionerController.find(id, scope: p.role == .practitioner ? .everything : p.scope, on: req.sql)
        let summary = try await VillageAdvisers.adviser(id, today: req.today, on: req.sql)
        let villages = TableView(columns: ["村（社区）", "今年服务时长", "服务件数", "状态"], rows: summary.villages.map { v in
            [Cell(text: v.name + (v.current ? "" : "（已离任）")), Cell(text: "\(v.hours.shortText) / 50 小时"), Cell(text: "\(v.items) 件"),
             Cell(text: v.hours >= AdviserTargets.hoursPerVillage ? "已满 50 小时" : (v.behind ? "落后进度（应达 \(v.pace.shortText)）" : "符合进度"),
                  badge: v.hours >= AdviserTargets.hoursPerVillage ? "ok" : (v.behind ? "warn" : "muted"))]
        }, request: req)
        let recent = try await VillageAdvisers.services(filter: VillageAdvisers.scopeFilter(p) + " AND s.practitioner_id = \(bind: id)",
                                                        page: PageRequest(page: 1, per: 20), on: req.sql).items
        return try await req.view.render("grassroots/adviser", AdviserContext(
            page: req.pageMeta(title: summary.name), summary: summary, hours: summary.hours.shortText, table: villages, recent: recent,
            photoBase: "/adviser/services"))
    }

    static func importFile(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try req.limit(.importFile, key: p.accountID.uuidString)
        let result: VillageAdvisers.ImportResult
        do {
            result = try await VillageAdvisers.importServices(try await req.receivedFile(limit: SheetFile.uploadLimit)?.data, by: p, today: req.today, now: req.now, app: req.application)
        } catch let e as AppError where [.unprocessableEntity, .payloadTooLarge, .badRequest].contains(e.status) {
            return try await villagesPage(req, importError: e.fields["file"] ?? e.message)
        }
        if result.errors.isEmpty { return req.redirect(to: "/grassroots", flash: "已导入 \(result.imported) 条服务记录") }
        return try await villagesPage(req, importResult: result, importError: "有 \(result.errors.count) 行不符合要求，未导入任何数据，请修改后重新导入")
    }

    static func export(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let p = try req.staff()
        return try SheetFile.response(
            try await VillageAdvisers.exportServices(filter: VillageAdvisers.scopeFilter(p) + " AND s.served_on >= \(bind: "\(req.today.year)-01-01")", on: req.readSQL),
            numeric: VillageAdvisers.numericColumns, name: "village-adviser-services-\(req.today.year)", format: format)
    }
}
