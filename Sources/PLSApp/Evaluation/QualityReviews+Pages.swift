import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Case-file reviews: drawing the sample, scoring on the checklist, the anonymised export, the checklists.
    func qualityReviews() {
        let group = api.grouped("quality-reviews")
        group.post("samples", use: QualityReviewController.apiDraw)
        group.get(use: QualityReviewController.apiList)
        group.get("export.xlsx") { try await QualityReviewController.export($0, .xlsx) }
        group.get("checklists", ":matterType", use: QualityReviewController.apiChecklist)
        group.put("checklists", ":matterType", use: QualityReviewController.apiSetChecklist)
        group.get(":id", use: QualityReviewController.apiGet)
        group.post(":id", "score", use: QualityReviewController.apiScore)
        group.post(":id", "rectify", use: QualityReviewController.apiRectify)
        web.get("quality-reviews", use: QualityReviewController.page)
        web.post("quality-reviews", "samples", use: QualityReviewController.drawFromPage)
        web.get("quality-reviews", "export.xlsx") { try await QualityReviewController.export($0, .xlsx) }
        web.get("quality-reviews", ":id", use: QualityReviewController.detail)
        web.post("quality-reviews", ":id", "score", use: QualityReviewController.scoreFromPage)
        web.post("quality-reviews", ":id", "rectify", use: QualityReviewController.rectifyFromPage)
    }
}

enum QualityReviewController {
    static func id(_ req: Request) throws -> UUID { try req.uuid("id", notFound: "评查记录") }

    static func matter(_ req: Request) throws -> MatterType {
        guard let m = req.parameters.get("matterType").flatMap(MatterType.init(rawValue:)) else { throw AppError.notFound("事项类型") }
        return m
    }

    static func filters(_ req: Request) throws -> (String?, String?) {
        let period = (try? req.query.get(String.self, at: "period")).flatMap { $0.isEmpty ? nil : $0 }
        if let period, CivilDate.month(period) == nil { throw AppError.validation(["period": "评查期间为月份，格式 YYYY-MM"]) }
        let status = (try? req.query.get(String.self, at: "status")).flatMap { $0.isEmpty ? nil : $0 }
        if let status, QualityReviews.Status(rawValue: status) == nil {
            throw AppError.validation(["status": "状态为 " + QualityReviews.Status.allCases.map(\.rawValue).joined(separator: "、") + " 之一"])
        }
        return (period, status)
    }

    static func apiDraw(_ req: Request) async throws -> QualityReviews.DrawResult {
        try await QualityReviews.draw(try req.content.decode(QualityReviews.DrawInput.self), by: try req.staff(), app: req.application)
    }

    static func apiList(_ req: Request) async throws -> Paged<QualityReviews.Row> {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        let (period, status) = try filters(req)
        return try await QualityReviews.list(period: period, status: status, scope: QualityReviews.scope(p), page: try PageRequest(from: req), on: req.sql)
    }

    static func apiGet(_ req: Request) async throws -> QualityReviews.Detail {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        return try await QualityReviews.find(try id(req), for: p, protector: req.personalData, on: req.sql)
    }

    static func apiScore(_ req: Request) async throws -> QualityReviews.Detail {
        try await QualityReviews.score(try id(req), try req.content.decode(QualityReviews.ScoreInput.self), by: try req.staff(), app: req.application)
    }

    static func apiRectify(_ req: Request) async throws -> QualityReviews.Detail {
        try await QualityReviews.rectify(try id(req), try req.content.decode(QualityReviews.RectifyInput.self), by: try req.staff(), app: req.application)
    }

    static func export(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        return try await QualityReviews.export(period: try? req.query.get(String.self, at: "period"), scope: QualityReviews.scope(p), format: format, on: req.readSQL)
    }

    static func apiChecklist(_ req: Request) async throws -> [ReviewItem] {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        return try await QualityReviews.checklist(try matter(req), on: req.sql)
    }

    /// The city edits a checklist; reviews already scored keep the one they were scored on.
    static func apiSetChecklist(_ req: Request) async throws -> [ReviewItem] {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let matter = try matter(req)
        struct Input: Content { var items: [ReviewItem]? }
        let items = try req.content.decode(Input.self).items ?? []
        guard (1...30).contains(items.count), items.allSatisfy({ (1...100).contains($0.points) && !$0.text.trimmingCharacters(in: .whitespaces).isEmpty && $0.text.count <= 200 }) else {
            throw AppError.validation(["items": "评查清单应有 1–30 项，每项写明内容（不超过 200 字）和 1–100 分"])
        }
        let json = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
        let actor = req.auditActor, protector = req.personalData, now = req.now
        try await req.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("DELETE FROM review_checklists WHERE matter_type = \(bind: matter.rawValue)").run()
            try await sql.raw("INSERT INTO review_checklists (matter_type, items, updated_at) VALUES (\(bind: matter.rawValue), \(bind: json), \(bind: now))").run()
            try await AuditLog.record("quality_review.checklist", target: "\(matter.chineseName)评查清单", after: items.map { "\($0.text)（\($0.points) 分）" },
                                      by: actor, protector: protector, on: sql, at: now)
        }
        return items
    }

    // MARK: Pages

    struct ListContext: Encodable {
        var page: PageMeta; var table: TableView; var period: String; var statuses: [SelectOption]; var canDraw: Bool; var drawn: String?; var error: String?
    }

    static func page(_ req: Request) async throws -> View { try await page(req, drawn: nil, error: nil) }

    static func badge(_ status: String) -> String {
        switch QualityReviews.Status(rawValue: status) {
        case .reviewed?, .rectified?: "ok"
        case .rectifying?: "warn"
        default: "muted"
        }
    }

    static func page(_ req: Request, drawn: String?, error: String?) async throws -> View {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        let (period, status) = try filters(req)
        let pageRequest = try PageRequest(from: req)
        let result = try await QualityReviews.list(period: period, status: status, scope: QualityReviews.scope(p), page: pageRequest, on: req.sql)
        let table = TableView(columns: ["期间", "事项编号", "事项类型", "机构", "状态", "得分"], rows: result.items.map { r in
            [Cell(text: r.period), Cell(text: r.number, href: "/quality-reviews/\(r.id)"), Cell(text: r.matterTypeName), Cell(text: r.institutionName),
             Cell(text: r.statusName, badge: badge(r.status)),
             Cell(text: r.total.map { "\($0)/\(r.maxTotal ?? 100)" + (r.gradeName.map { "（\($0)）" } ?? "") } ?? "")]
        }, total: result.total, page: pageRequest, request: req)
        return try await req.view.render("evaluation/quality-reviews", ListContext(
            page: req.pageMeta(title: "案卷评查"), table: table,
            period: period ?? req.today.previousMonthStart.monthKey,
            statuses: QualityReviews.Status.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == status) },
            canDraw: QualityReviews.mayReview(p), drawn: drawn, error: error))
    }

    static func drawFromPage(_ req: Request) async throws -> Response {
        let p = try req.staff()
        do {
            let share = req.formValue("share").flatMap { Double($0.prefix(6)) }.map { $0 / 100 }
            let r = try await QualityReviews.draw(.init(period: req.formValue("period"), share: share), by: p, app: req.application)
            return req.redirect(to: "/quality-reviews?period=\(r.period)", flash: "已抽取 \(r.drawn) 件（共 \(r.candidates) 件办结案卷，比例 \(r.share * 100)%）")
        } catch let e as AppError where e.status.code < 500 {
            let response = try await page(req, drawn: nil, error: e.fields.values.first ?? e.message).encodeResponse(for: req)
            response.status = e.status
            return response
        }
    }

    struct DetailContext: Encodable {
        var page: PageMeta; var d: QualityReviews.Detail; var lines: [Line]; var canScore: Bool; var error: String?; var comment: String
        var rectification: String
        /// The institution's form to report its rectification, with what was typed.
        var canRectify: Bool; var report: String
        /// The form shown without inputs to change (scored already, or read by someone who does not score).
        var readonly: Bool
        struct Line: Encodable { var index: Int; var text: String; var points: Int; var score: String }
    }

    static func detail(_ req: Request) async throws -> Response { try await detail(req, error: nil) }

    static func detail(_ req: Request, error: AppError?) async throws -> Response {
        let p = try req.staff()
        try p.require(QualityReviews.mayRead(p))
        let d = try await QualityReviews.find(try id(req), for: p, protector: req.personalData, on: req.sql)
        let typed = error == nil ? nil : req.formValue("scores")
        let typedScores = typed?.split(separator: ",").map(String.init)
        let lines = d.items.enumerated().map { i, item in
            DetailContext.Line(index: i, text: item.text, points: item.points,
                               score: d.scores.flatMap { i < $0.count ? String($0[i]) : nil } ?? req.formValue("score\(i)") ?? typedScores.flatMap { i < $0.count ? $0[i] : nil } ?? "")
        }
        let canScore = QualityReviews.mayReview(p) && d.review.status == QualityReviews.Status.pending.rawValue
        let canRectify = QualityReviews.mayRectify(p, institution: d.review.institutionId) && d.review.status == QualityReviews.Status.rectifying.rawValue
        let response = try await req.view.render("evaluation/quality-review", DetailContext(
            page: req.pageMeta(title: "案卷评查 \(d.review.number)"), d: d, lines: lines,
            canScore: canScore, error: error.map { $0.fields.values.first ?? $0.message },
            comment: d.comment ?? req.formValue("comment") ?? "", rectification: d.rectification ?? req.formValue("rectification") ?? "",
            canRectify: canRectify, report: req.formValue("report") ?? "", readonly: !canScore)).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func scoreFromPage(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try id(req)
        do {
            let d = try await QualityReviews.find(id, for: p, protector: req.personalData, on: req.sql)
            // A score left empty is not a zero: it is missing.
            let raw = (0..<d.items.count).map { req.formValue("score\($0)")?.trimmingCharacters(in: .whitespaces) ?? "" }
            let scores = raw.compactMap { Int($0.prefix(4)) }
            _ = try await QualityReviews.score(id, .init(scores: scores.count == raw.count ? scores : [], comment: req.formValue("comment"),
                                                         rectification: req.formValue("rectification")), by: p, app: req.application)
            return req.redirect(to: "/quality-reviews/\(id)", flash: "已保存评查结果")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await detail(req, error: e)
        }
    }

    static func rectifyFromPage(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try id(req)
        do {
            _ = try await QualityReviews.rectify(id, .init(report: req.formValue("report")), by: p, app: req.application)
            return req.redirect(to: "/quality-reviews/\(id)", flash: "已报告整改情况")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await detail(req, error: e)
        }
    }
}
