import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Monthly scorecards of those who serve (issue #22, item 3): institutions, practitioners, and the window or hotline
/// seat whose staff concluded the matter; each with its ratings of the month, satisfaction and bad ratings rectified
/// on time, ranked (`RatingRanking`), the bottom marked and a unit at the bottom two months running due a talk.
/// Ratings withdrawn on appeal count for nobody.
enum RatingRankings {
    enum Of: String, CaseIterable, Sendable, ChineseNamed {
        case institution, practitioner, post
        var chineseName: String {
            switch self {
            case .institution: "机构"
            case .practitioner: "法律服务人员"
            case .post: "窗口、热线坐席"
            }
        }
    }

    struct Item: Content {
        var id: String
        var name: String
        var rank: Int
        var rated: Int
        var satisfied: Int
        var satisfaction: Double?
        var bad: Int
        var rectifiedOnTime: Int
        var bottom: Bool
        /// At the bottom last month too: the practice of 约谈.
        var bottomTwoMonths: Bool
        /// Institutions: the month's case-file review scores (percent of the checklist's points, on average).
        var reviewScore: Double?
        /// Practitioners: the month's public-interest service, in hours.
        var publicInterestHours: Double?
    }

    struct Report: Content { var month: String; var of: String; var ofName: String; var items: [Item] }

    static func lines(_ of: Of, from start: CivilDate, to end: CivilDate, scope: DataScope,
                      on db: any SQLDatabase) async throws -> [(line: RatingLine, name: String)] {
        // The concluding staff member (the last conclusion, if it was reopened), and their institution.
        let concluder = { (column: String, roles: String) in
            """
            (SELECT \(column) FROM request_events e JOIN accounts a ON a.id = e.actor_account_id
             WHERE e.request_id = r.id AND e.action = 'conclude'\(roles) ORDER BY e.seq DESC LIMIT 1)
            """
        }
        let unit: String
        let names: String
        switch of {
        // The handling institution: the one assigned, else the one whose window answered on the spot (as a rectification's).
        case .institution: unit = "COALESCE(r.institution_id, \(concluder("a.institution_id", "")))"; names = Institution.schema
        case .practitioner: unit = "r.practitioner_id"; names = Practitioner.schema
        case .post: unit = concluder("e.actor_account_id", " AND a.role IN ('window_clerk', 'hotline_operator')"); names = Account.schema
        }
        var conditions: [SQLQueryString] = ["r.rated_at >= \(bind: start.startInChina)", "r.rated_at < \(bind: end.startInChina)",
                                            "(x.status IS NULL OR x.status <> \(bind: RectificationStatus.withdrawn.rawValue))"]
        if let c = scope.condition(ScopeColumns(region: "r.region_code", institution: "r.institution_id", owner: nil)) { conditions.append(c) }
        struct Row: Decodable { var unit: UUID?; var rated: Int; var satisfied: Int; var bad: Int; var rectifiedOnTime: Int }
        let rows = try await db.raw("""
            SELECT t.unit, COUNT(*) AS rated,
                   CAST(SUM(CASE WHEN t.rating >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS satisfied,
                   CAST(SUM(CASE WHEN t.rating <= 2 THEN 1 ELSE 0 END) AS BIGINT) AS bad,
                   CAST(SUM(CASE WHEN t.replied_on IS NOT NULL AND t.replied_on <= t.rectify_due THEN 1 ELSE 0 END) AS BIGINT) AS rectified_on_time
            FROM (SELECT \(unsafeRaw: unit) AS unit, r.rating, x.replied_on, x.rectify_due
                  FROM service_requests r LEFT JOIN rectifications x ON x.request_id = r.id
                  WHERE
            """ + " " + conditions.joined(separator: " AND ") + ") t WHERE t.unit IS NOT NULL GROUP BY t.unit")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        var named: [UUID: String] = [:]
        let ids = rows.compactMap(\.unit)
        if !ids.isEmpty {
            struct N: Decodable { var id: UUID; var name: String }
            let column = of == .post ? "display_name" : "name"
            for n in try await db.raw("SELECT id, \(ident: column) AS name FROM \(ident: names) WHERE id IN (\(binds: ids))").all(decoding: N.self) {
                named[n.id] = n.name
            }
        }
        return rows.compactMap { r in
            guard let id = r.unit else { return nil }
            return (RatingLine(id: id.uuidString, rated: r.rated, satisfied: r.satisfied, bad: r.bad, rectifiedOnTime: r.rectifiedOnTime),
                    named[id] ?? "")
        }
    }

    static func report(_ of: Of, month raw: String, scope: DataScope, on db: any SQLDatabase) async throws -> Report {
        guard let (start, end) = CivilDate.month(raw) else { throw AppError.validation(["month": "月份格式为 YYYY-MM"]) }
        let this = try await lines(of, from: start, to: end, scope: scope, on: db)
        let before = RatingRanking.rank(try await lines(of, from: start.previousMonthStart, to: start, scope: scope, on: db).map(\.line))
        let bottomBefore = Set(before.filter(\.bottom).map(\.line.id))
        let names = Dictionary(this.map { ($0.line.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        struct Extra: Decodable { var id: UUID; var value: Double? }
        var extra: [String: Double] = [:]
        let ids = this.compactMap { UUID(uuidString: $0.line.id) }
        if !ids.isEmpty, of == .institution {
            for e in try await db.raw("""
                SELECT institution_id AS id, AVG(CAST(total AS DOUBLE PRECISION) * 100 / max_total) AS value FROM quality_reviews
                WHERE period = \(bind: raw) AND status <> 'pending' AND max_total > 0 AND institution_id IN (\(binds: ids)) GROUP BY institution_id
                """).all(decoding: Extra.self) { extra[e.id.uuidString] = e.value }
        } else if !ids.isEmpty, of == .practitioner {
            for e in try await db.raw("""
                SELECT practitioner_id AS id, SUM(hours) AS value FROM public_interest_services
                WHERE served_on >= \(bind: start.description) AND served_on < \(bind: end.description) AND practitioner_id IN (\(binds: ids))
                GROUP BY practitioner_id
                """).all(decoding: Extra.self) { extra[e.id.uuidString] = e.value }
        }
        let items = RatingRanking.rank(this.map(\.line)).map { r in
            Item(id: r.line.id, name: names[r.line.id] ?? "", rank: r.rank, rated: r.line.rated, satisfied: r.line.satisfied,
                 satisfaction: r.line.satisfaction.map { ($0 * 10).rounded() / 10 }, bad: r.line.bad, rectifiedOnTime: r.line.rectifiedOnTime,
                 bottom: r.bottom, bottomTwoMonths: r.bottom && bottomBefore.contains(r.line.id),
                 reviewScore: of == .institution ? extra[r.line.id].map { ($0 * 10).rounded() / 10 } : nil,
                 publicInterestHours: of == .practitioner ? (extra[r.line.id] ?? 0) : nil)
        }
        return Report(month: raw, of: of.rawValue, ofName: of.chineseName, items: items)
    }

    // MARK: API and pages

    static func mayRead(_ p: Principal) -> Bool { [.institutionAdmin, .countyAdmin, .cityAdmin, .leader, .auditor].contains(p.role) }

    static func query(_ req: Request) throws -> (Of, String) {
        let raw = (try? req.query.get(String.self, at: "of")) ?? Of.institution.rawValue
        guard let of = Of(rawValue: raw.isEmpty ? Of.institution.rawValue : raw) else { throw AppError.validation(["of": "排名对象为 institution、practitioner 或 post"]) }
        let month = (try? req.query.get(String.self, at: "month")).flatMap { $0.isEmpty ? nil : $0 } ?? req.today.previousMonthStart.monthKey
        return (of, month)
    }

    static func apiReport(_ req: Request) async throws -> Report {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (of, month) = try query(req)
        return try await report(of, month: month, scope: p.scope, on: req.sql)
    }

    static func export(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let r = try await apiReport(req)
        var rows = [["名次", r.ofName, "评价数", "满意数", "满意率（%）", "差评数", "差评按时整改数", "案卷评查得分", "公益服务（小时）", "末位", "连续两月末位"]]
        for i in r.items {
            rows.append([String(i.rank), i.name, String(i.rated), String(i.satisfied), i.satisfaction.map { String($0) } ?? "", String(i.bad),
                         String(i.rectifiedOnTime), i.reviewScore.map { String($0) } ?? "", i.publicInterestHours.map { String($0) } ?? "",
                         i.bottom ? "是" : "", i.bottomTwoMonths ? "是" : ""])
        }
        return try SheetFile.response(rows, numeric: [0, 2, 3, 4, 5, 6, 7, 8], name: "ratings-\(r.of)-\(r.month)", format: format)
    }

    static func page(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(mayRead(p))
        let (of, month) = try query(req)
        let r = try await report(of, month: month, scope: p.scope, on: req.sql)
        struct Context: Encodable {
            var page: PageMeta; var report: Report; var kinds: [SelectOption]; var month: String; var of: String; var empty: Bool
        }
        return try await req.view.render("evaluation/rankings", Context(
            page: req.pageMeta(title: "好差评排名 \(month)"), report: r,
            kinds: Of.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0 == of) }, month: month, of: of.rawValue,
            empty: r.items.isEmpty))
    }
}

extension RouteGroups {
    func ratingRankings() {
        api.get("evaluation", "rankings", use: RatingRankings.apiReport)
        web.get("rankings", use: RatingRankings.page)
        web.get("rankings", "export.csv") { try await RatingRankings.export($0, .csv) }
        web.get("rankings", "export.xlsx") { try await RatingRankings.export($0, .xlsx) }
    }
}

/// Ratings are read by the month they were given in.
struct M038IndexRatedAt: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(index: "sr_rated_at_idx").on(ServiceRequest.schema).column("rated_at").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "sr_rated_at_idx").run()
    }
}
