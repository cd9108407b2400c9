import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 案卷评查 (issue #22, item 5): each month's closed cases of each institution sampled by a recorded rule
/// (`QualitySample`), scored by the county or city bureau on the matter type's checklist (`ReviewChecklist`, editable),
/// the result sent to the institution and kept in its credit record; a case graded below 良好 rectified by the institution
/// within the city's rectification limit (watched like every deadline); an anonymised export for a third-party assessor.
extension ReviewItem: Content {}

enum QualityReviews {
    static let schema = "quality_reviews"

    enum Status: String, CaseIterable, Sendable {
        case pending, reviewed, rectifying, rectified

        var chineseName: String {
            switch self {
            case .pending: "待评查"
            case .reviewed: "已评查"
            case .rectifying: "整改中"
            case .rectified: "已整改"
            }
        }
    }

    struct Row: Content {
        var id: UUID
        var period: String
        var requestId: UUID
        var number: String
        var matterType: String
        var matterTypeName: String
        var institutionId: UUID
        var institutionName: String
        var regionCode: String
        var status: String
        var statusName: String
        var total: Int?
        var maxTotal: Int?
        var reviewedOn: String?
        var reviewerName: String?
        /// 优秀, 良好, 合格 or 不合格, once scored.
        var gradeName: String?
        var rectifyDue: String?
        var rectifiedOn: String?
    }

    struct Detail: Content {
        var review: Row
        var items: [ReviewItem]
        var scores: [Int]?
        var comment: String?
        /// What the reviewer asked the institution to put right, and what it reported.
        var rectification: String?
        var rectificationReport: String?
        var seed: String
        var share: Double
    }

    struct DrawInput: Content { var period: String?; var share: Double? }
    struct DrawResult: Content { var period: String; var seed: String; var share: Double; var drawn: Int; var candidates: Int }
    struct ScoreInput: Content { var scores: [Int]?; var comment: String?; var rectification: String? }
    struct RectifyInput: Content { var report: String? }

    static func mayReview(_ p: Principal) -> Bool { p.role == .countyAdmin || p.role == .cityAdmin }
    static func mayRead(_ p: Principal) -> Bool { mayReview(p) || [.institutionAdmin, .windowClerk, .leader, .auditor].contains(p.role) }
    /// The reviewed institution's own staff rectify (a legal aid centre's clerks among them).
    static func mayRectify(_ p: Principal, institution: UUID) -> Bool {
        [.institutionAdmin, .windowClerk].contains(p.role) && p.institutionID == institution
    }
    /// What `p` sees: a window clerk only their own institution's reviews (their region holds other institutions').
    static func scope(_ p: Principal) -> DataScope {
        p.role == .windowClerk ? (p.institutionID.map { .institution($0) } ?? .own(p.accountID)) : p.scope
    }

    static let select = """
        SELECT q.id, q.period, q.request_id, r.number, q.matter_type, q.institution_id, i.name AS institution_name, q.region_code, q.status,
               q.total, q.max_total, q.reviewed_on, q.reviewer_name, q.items, q.scores, q.comment, q.seed, q.share,
               q.rectification, q.rectify_due, q.rectification_report, q.rectified_on
        FROM quality_reviews q JOIN service_requests r ON r.id = q.request_id JOIN institutions i ON i.id = q.institution_id
        """
    struct Stored: Decodable {
        var id: UUID; var period: String; var requestId: UUID; var number: String; var matterType: String; var institutionId: UUID
        var institutionName: String; var regionCode: String; var status: String; var total: Int?; var maxTotal: Int?; var reviewedOn: String?
        var reviewerName: String?; var items: String?; var scores: String?; var comment: String?; var seed: String; var share: Double
        var rectification: String?; var rectifyDue: String?; var rectificationReport: String?; var rectifiedOn: String?
    }

    static func row(_ s: Stored) -> Row {
        Row(id: s.id, period: s.period, requestId: s.requestId, number: s.number, matterType: s.matterType,
            matterTypeName: MatterType(rawValue: s.matterType)?.chineseName ?? s.matterType, institutionId: s.institutionId,
            institutionName: s.institutionName, regionCode: s.regionCode, status: s.status,
            statusName: Status(rawValue: s.status)?.chineseName ?? s.status,
            total: s.total, maxTotal: s.maxTotal, reviewedOn: s.reviewedOn, reviewerName: s.reviewerName,
            gradeName: s.total.map { ReviewGrade.of(total: $0, max: s.maxTotal ?? 0).chineseName }, rectifyDue: s.rectifyDue, rectifiedOn: s.rectifiedOn)
    }

    static let scopeColumns = ScopeColumns(region: "q.region_code", institution: "q.institution_id", owner: nil)

    // MARK: Checklists

    static func checklist(_ matter: MatterType, on db: any SQLDatabase) async throws -> [ReviewItem] {
        if let stored = try await db.raw("SELECT items FROM review_checklists WHERE matter_type = \(bind: matter.rawValue)").first(decodingColumn: "items", as: String.self),
           let items = try? JSONDecoder().decode([ReviewItem].self, from: Data(stored.utf8)), !items.isEmpty {
            return items
        }
        return ReviewChecklist.defaults(for: matter)
    }

    // MARK: Drawing

    static func period(_ raw: String?) throws -> (String, CivilDate, CivilDate) {
        guard let raw, let (start, end) = CivilDate.month(raw) else { throw AppError.validation(["period": "评查期间为月份，格式 YYYY-MM"]) }
        return (raw, start, end)
    }

    /// Draws the period's sample for every institution in the caller's area; a period drawn again adds nothing (the
    /// rule gives the same cases).
    static func draw(_ input: DrawInput, by p: Principal, app: Application) async throws -> DrawResult {
        guard mayReview(p) else { throw AppError(.forbidden, "forbidden", "评查由县（区）、市司法局组织") }
        let (name, start, end) = try period(input.period)
        let share = input.share ?? QualitySample.defaultShare
        guard share > 0, share <= 1 else { throw AppError.validation(["share": "抽查比例应在 0–1 之间，如 0.05"]) }
        let sql = app.db as! any SQLDatabase
        struct Candidate: Decodable { var id: UUID; var institutionId: UUID; var regionCode: String; var matterType: String }
        var query: SQLQueryString = """
            SELECT r.id, r.institution_id, r.region_code, r.matter_type FROM service_requests r
            WHERE r.status = \(bind: RequestStatus.concluded.rawValue) AND r.institution_id IS NOT NULL
              AND r.concluded_on >= \(bind: start.description) AND r.concluded_on < \(bind: end.description)
            """
        if let c = p.scope.condition(ScopeColumns(region: "r.region_code", institution: "r.institution_id", owner: nil)) { query = query + " AND " + c }
        let candidates = try await sql.raw(query).all(decoding: Candidate.self, keyDecodingStrategy: .snakeCase)
        let seed = "案卷评查 \(name) 比例 \(share)"
        let byInstitution = Dictionary(grouping: candidates, by: \.institutionId)
        var chosen: [Candidate] = []
        for (_, cases) in byInstitution {
            let ids = Set(QualitySample.draw(cases.map(\.id.uuidString), share: share, seed: seed))
            chosen += cases.filter { ids.contains($0.id.uuidString) }
        }
        let now = app.clock.now, sample = chosen
        let drawn = try await app.db.atomic { tx -> Int in
            let db = tx as! any SQLDatabase
            var drawn = 0
            for c in sample {
                let inserted = try await db.raw("""
                    INSERT INTO quality_reviews (id, period, seed, share, request_id, institution_id, region_code, matter_type, status, drawn_by, created_at)
                    VALUES (\(bind: UUID()), \(bind: name), \(bind: seed), \(bind: share), \(bind: c.id), \(bind: c.institutionId), \(bind: c.regionCode),
                            \(bind: c.matterType), 'pending', \(bind: p.accountID), \(bind: now))
                    ON CONFLICT (request_id) DO NOTHING RETURNING id
                    """).all()
                drawn += inserted.count
            }
            return drawn
        }
        return DrawResult(period: name, seed: seed, share: share, drawn: drawn, candidates: candidates.count)
    }

    // MARK: Reading and scoring

    static func list(period: String?, status: String?, scope: DataScope, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Row> {
        var conditions: [SQLQueryString] = []
        if let c = scope.condition(scopeColumns) { conditions.append(c) }
        if let period { conditions.append("q.period = \(bind: period)") }
        if let status { conditions.append("q.status = \(bind: status)") }
        let clause: SQLQueryString = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM quality_reviews q" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw(SQLQueryString(select) + clause
                                    + " ORDER BY q.period DESC, i.name, r.number LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map(row), total: total, page: page.page, per: page.per)
    }

    static func find(_ id: UUID, for p: Principal, protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> Detail {
        guard let s = try await db.raw(SQLQueryString(select) + " WHERE q.id = \(bind: id)").first(decoding: Stored.self, keyDecodingStrategy: .snakeCase),
              scope(p).includes(region: DivisionCode(s.regionCode), institution: s.institutionId) else { throw AppError.notFound("评查记录") }
        let kept = try s.items.flatMap { try JSONDecoder().decode([ReviewItem].self, from: Data($0.utf8)) }
        let items = if let kept { kept } else { try await checklist(MatterType(rawValue: s.matterType) ?? .consultation, on: db) }
        return Detail(review: row(s), items: items, scores: s.scores.map { $0.split(separator: ",").compactMap { Int($0) } },
                      comment: try protector.open(s.comment), rectification: try protector.open(s.rectification),
                      rectificationReport: try protector.open(s.rectificationReport), seed: s.seed, share: s.share)
    }

    /// Scores a sampled case on its checklist (kept with the scores, so a later edit of the checklist changes nothing
    /// here); the institution is told and the result enters its credit record (for staff). Below 良好 the reviewer says
    /// what is to be put right (at any grade they may), and the institution has the city's rectification limit to do it.
    static func score(_ id: UUID, _ input: ScoreInput, by p: Principal, app: Application) async throws -> Detail {
        guard mayReview(p) else { throw AppError(.forbidden, "forbidden", "评查由县（区）、市司法局组织") }
        let sql = app.db as! any SQLDatabase
        let before = try await find(id, for: p, protector: app.personalData, on: sql)
        guard before.review.status == Status.pending.rawValue else { throw AppError.conflict("already_reviewed", "该案卷已评查") }
        var errors = FieldErrors()
        let scores = input.scores ?? []
        if let problem = ReviewChecklist.problems(scores: scores, items: before.items) { errors.add("scores", problem) }
        let comment = errors.optional(input.comment, "comment", "评查意见", maxLength: 2000)
        let rectification = errors.optional(input.rectification, "rectification", "整改要求", maxLength: 2000)
        let total = scores.reduce(0, +), max = before.items.reduce(0) { $0 + $1.points }
        let grade = ReviewGrade.of(total: total, max: max)
        if errors.fields.isEmpty, grade.needsRectification, rectification == nil {
            errors.add("rectification", "得分 \(total)/\(max)，评为“\(grade.chineseName)”，请写明整改要求")
        }
        try errors.throwIfAny()
        let items = String(decoding: try JSONEncoder().encode(before.items), as: UTF8.self)
        let now = app.clock.now, today = app.today
        let rectifyDue = rectification == nil ? nil : Rectifications.rules(app).rectifyDue(ratedOn: today, on: app.workingCalendar)
        try await app.db.atomic { tx in
            let db = tx as! any SQLDatabase
            try await db.update(schema).set("status", to: (rectification == nil ? Status.reviewed : .rectifying).rawValue)
                .set("scores", to: scores.map(String.init).joined(separator: ","))
                .set("items", to: items).set("total", to: total).set("max_total", to: max)
                .set("comment", to: SQLBind(try app.personalData.seal(ifAny: comment))).set("reviewed_on", to: today.description)
                .set("rectification", to: SQLBind(try app.personalData.seal(ifAny: rectification)))
                .set("rectify_due", to: SQLBind(rectifyDue?.description))
                .set("reviewer_id", to: p.accountID).set("reviewer_name", to: p.displayName)
                .where("id", .equal, id).where("status", .equal, Status.pending.rawValue).run()
            let staff = try await Notifications.accounts(roles: [.institutionAdmin, .windowClerk], institution: before.review.institutionId, on: db)
            var text = "案卷评查结果：事项 \(before.review.number) 得分 \(total)/\(max)（\(grade.chineseName)）" + (comment.map { "。\($0)" } ?? "")
            if let rectification, let rectifyDue { text += "。整改要求：\(rectification)。请于 \(rectifyDue) 前整改并报告" }
            try await Notifications.notify(accounts: staff, request: before.review.requestId, text: text, now: now, on: db)
            try await CreditRecords.add(subject: .institution, id: before.review.institutionId, kind: .qualityReview,
                                        title: "案卷评查 \(before.review.period)：事项 \(before.review.number) 得分 \(total)/\(max)（\(grade.chineseName)）",
                                        documentNumber: nil, decidedOn: today, publicUntil: nil, source: id, by: p, on: db, at: now)
        }
        return try await find(id, for: p, protector: app.personalData, on: sql)
    }

    /// The institution reports what it put right; the reviewer is told.
    static func rectify(_ id: UUID, _ input: RectifyInput, by p: Principal, app: Application) async throws -> Detail {
        let sql = app.db as! any SQLDatabase
        let before = try await find(id, for: p, protector: app.personalData, on: sql)
        guard mayRectify(p, institution: before.review.institutionId) else { throw AppError(.forbidden, "forbidden", "整改由被评查机构报告") }
        guard before.review.status == Status.rectifying.rawValue else { throw AppError.conflict("not_rectifying", "该案卷没有待完成的整改") }
        var errors = FieldErrors()
        let report = errors.required(input.report, "report", "整改情况", maxLength: 2000)
        try errors.throwIfAny()
        let now = app.clock.now, today = app.today
        try await app.db.atomic { tx in
            let db = tx as! any SQLDatabase
            try await db.update(schema).set("status", to: Status.rectified.rawValue).set("rectified_on", to: today.description)
                .set("rectification_report", to: try app.personalData.seal(report))
                .where("id", .equal, id).where("status", .equal, Status.rectifying.rawValue).run()
            let reviewer = try await db.raw("SELECT reviewer_id FROM quality_reviews WHERE id = \(bind: id)").first(decodingColumn: "reviewer_id", as: UUID?.self) ?? nil
            let late = before.review.rectifyDue.flatMap(CivilDate.init).map { today > $0 } ?? false
            try await Notifications.notify(accounts: reviewer.map { [$0] } ?? [], request: before.review.requestId,
                                           text: "案卷评查整改已报告：事项 \(before.review.number)（\(before.review.institutionName)）" + (late ? "，已超过整改期限" : ""),
                                           now: now, on: db)
        }
        return try await find(id, for: p, protector: app.personalData, on: sql)
    }

    /// The institution's rectification after a review, reminded before its limit and escalated to the county after.
    static func deadlines(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct R: Decodable { var id: UUID; var requestId: UUID; var number: String; var regionCode: String; var institutionId: UUID; var due: String }
        let step = "review.rectify"
        let rows = try await db.raw("""
            SELECT q.id, q.request_id, r.number, q.region_code, q.institution_id, q.rectify_due AS due
            FROM quality_reviews q JOIN service_requests r ON r.id = q.request_id
            WHERE q.status = \(bind: Status.rectifying.rawValue) AND q.rectify_due <= \(bind: horizon.description) AND
            """ + " " + Deadlines.notFinished(subject: "q.id", step: step, due: "q.rectify_due") + " ORDER BY due LIMIT 500")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return rows.compactMap { q in
            CivilDate(q.due).map {
                WatchedDeadline(subjectID: q.id, requestID: q.requestId, number: q.number, regionCode: q.regionCode, step: step,
                                name: "案卷评查整改", due: $0, institutionID: q.institutionId)
            }
        }
    }

    /// For a third-party assessor: the sample without anything that names or reaches a person (no names, numbers,
    /// descriptions, summaries), each case by its position in the sample.
    static func export(period raw: String?, scope: DataScope, format: SheetFile.Format, on db: any SQLDatabase) async throws -> Response {
        let (name, _, _) = try period(raw)
        struct R: Decodable { var matterType: String; var category: String; var concludedOn: String?; var outcome: String?; var countyName: String?
                              var institutionType: String; var status: String; var total: Int?; var maxTotal: Int? }
        var query: SQLQueryString = """
            SELECT r.matter_type, r.category, r.concluded_on, r.outcome, i.type AS institution_type, q.status, q.total, q.max_total,
                   (SELECT g.name FROM regions g WHERE g.code = SUBSTR(q.region_code, 1, 6) || '000000') AS county_name
            FROM quality_reviews q JOIN service_requests r ON r.id = q.request_id JOIN institutions i ON i.id = q.institution_id
            WHERE q.period = \(bind: name)
            """
        if let c = scope.condition(scopeColumns) { query = query + " AND " + c }
        let rows = try await db.raw(query + " ORDER BY q.id").all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        var sheet = [["序号", "事项类型", "类别", "办结日期", "办理结果", "县（区）", "机构类型", "评查状态", "得分", "满分"]]
        for (i, r) in rows.enumerated() {
            sheet.append([String(i + 1), MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType,
                          PLSDomain.Category(rawValue: r.category)?.chineseName ?? r.category, r.concludedOn ?? "",
                          r.outcome.flatMap { RequestActions.outcomes[$0] } ?? "", r.countyName ?? "",
                          InstitutionType(rawValue: r.institutionType)?.chineseName ?? r.institutionType,
                          Status(rawValue: r.status)?.chineseName ?? r.status, r.total.map(String.init) ?? "", r.maxTotal.map(String.init) ?? ""])
        }
        return try SheetFile.response(sheet, numeric: [0, 8, 9], name: "quality-review-\(name)", format: format)
    }
}

/// The sampled cases with their scores, and the city's checklists.
struct M039CreateQualityReviews: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(QualityReviews.schema)
            .id()
            .field("period", .string, .required)
            .field("seed", .string, .required)
            .field("share", .double, .required)
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id", onDelete: .cascade))
            .field("institution_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("region_code", .string, .required)
            .field("matter_type", .string, .required)
            .field("status", .string, .required)
            .field("items", .string)
            .field("scores", .string)
            .field("total", .int)
            .field("max_total", .int)
            .field("comment", .string)
            .field("reviewed_on", .string)
            .field("reviewer_id", .uuid)
            .field("reviewer_name", .string)
            .field("drawn_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "request_id")
            .create()
        try await database.schema("review_checklists")
            .field("matter_type", .string, .identifier(auto: false))
            .field("items", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await (database as! any SQLDatabase).create(index: "qr_period_idx").on(QualityReviews.schema).column("period").column("region_code").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("review_checklists").delete()
        try await database.schema(QualityReviews.schema).delete()
    }
}

/// A case graded below 良好 is rectified: what the reviewer asked, by when, and what the institution reported.
struct M041AddReviewRectification: AsyncMigration {
    func prepare(on database: any Database) async throws {
        for field in ["rectification", "rectify_due", "rectification_report", "rectified_on"] {
            try await database.schema(QualityReviews.schema).field(.definition(name: .key(FieldKey(stringLiteral: field)), dataType: .string, constraints: [])).update()
        }
        try await (database as! any SQLDatabase).create(index: "qr_rectify_idx").on(QualityReviews.schema).column("status").column("rectify_due").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "qr_rectify_idx").run()
        for field in ["rectification", "rectify_due", "rectification_report", "rectified_on"] {
            try await database.schema(QualityReviews.schema).deleteField(FieldKey(stringLiteral: field)).update()
        }
    }
}
