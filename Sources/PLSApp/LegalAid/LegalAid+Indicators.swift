import Vapor
import SQLKit
import PLSDomain

/// The plan's legal aid targets, per region and year, and the monthly counts the dashboard shows.
enum LegalAidIndicators {
    private static func rate(_ id: String, _ name: String, target: Double, basis: String, source: IndicatorTargetSource = .plan, counted: String,
                             query: @escaping @Sendable (IndicatorScope) -> SQLQueryString) -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "legal_aid", unit: .percent, target: target, comparator: .atLeast, basis: basis,
                            targetSource: source, counted: counted, sampled: true) { scope, db in
            let units = try await db.raw(query(scope)).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: scope.target, on: db)
        }
    }

    /// A statutory step of the cases in the year (`inYear` between the year's first and last day), counted once it is
    /// done or has fallen due, on time when done by its due day. The steps done come from their running figure
    /// (`figure`, kept by M036's triggers); those not done and past due are read from the cases, found by the empty
    /// column. Column names are ours, never input.
    private static func stepOnTime(_ id: String, _ name: String, basis: String, source: IndicatorTargetSource = .law, counted: String,
                                   figure: RunningFigure, done: String, due: String, inYear: String, only: String = "1 = 1",
                                   notWaiting: String = "1 = 1") -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "legal_aid", unit: .percent, target: 100, comparator: .atLeast, basis: basis,
                            targetSource: source, counted: counted, sampled: true) { s, db in
            let doneUnits = try await figure.units(s, on: db)
            let late = try await db.raw("""
                SELECT SUBSTR(r.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den, CAST(0 AS BIGINT) AS num
                FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
                WHERE \(unsafeRaw: done) IS NULL AND \(unsafeRaw: only) AND \(unsafeRaw: due) IS NOT NULL AND \(unsafeRaw: due) < \(bind: s.today.description)
                  AND \(unsafeRaw: notWaiting) AND r.region_code LIKE \(bind: s.region.scopePrefix + "%")
                  AND \(unsafeRaw: inYear) >= \(bind: s.firstDay) AND \(unsafeRaw: inYear) <= \(bind: s.lastDay)
                GROUP BY SUBSTR(r.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            var units: [String: UnitRates.Row] = [:]
            for u in doneUnits + late {
                units[u.unit, default: .init(unit: u.unit, num: 0, den: 0)].num += u.num
                units[u.unit, default: .init(unit: u.unit, num: 0, den: 0)].den += u.den
            }
            return try await UnitRates.outcome(units.values.sorted { $0.unit < $1.unit }, target: s.target, on: db)
        }
    }

    static let all: [IndicatorDefinition] = [
        // Suspects and defendants without counsel reported at the stations, and those a duty lawyer helped.
        rate("duty_lawyer_coverage", "值班律师法律帮助覆盖率", target: 100,
             basis: "实施方案二（四）：对没有辩护人的犯罪嫌疑人、被告人，值班律师提供法律帮助的覆盖率达 100%（法律援助法第三十条）",
             counted: "名没有辩护人的犯罪嫌疑人、被告人获得帮助") { s in
            """
            SELECT SUBSTR(d.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                   CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM duty_assistances a WHERE a.person_id = d.id) THEN 1 ELSE 0 END) AS BIGINT) AS num
            FROM duty_persons d
            WHERE d.region_code LIKE \(bind: s.region.scopePrefix + "%") AND d.registered_on >= \(bind: s.firstDay) AND d.registered_on <= \(bind: s.lastDay)
            GROUP BY SUBSTR(d.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
            """
        },
        // Notices whose designation is done or has fallen due; on time when designated by the due day.
        stepOnTime("notified_defence_designation_rate", "通知辩护按时指派率",
                   basis: "实施方案二（四）：符合通知辩护条件的，指派律师辩护的比例达 100%（法律援助法第三十六条：收到通知后三日内指派律师）",
                   source: .plan, counted: "件通知辩护按时指派", figure: .notifiedDesignationOnTime, done: "c.designated_on", due: "c.designation_due", inYear: "c.received_on",
                   only: "c.notifying_organ IS NOT NULL"),
        // The statutory steps of every application, each on time or not (the steps the deadline watch escalates).
        // Decisions on applications received in the year; the due day moves with the clock's pause for missing
        // material, and an application waiting for material is not late.
        stepOnTime("aid_decision_on_time_rate", "法律援助按时审查决定率",
                   basis: "法律援助法第四十三条：收到申请之日起七日内作出是否给予法律援助的决定",
                   counted: "件按时作出决定", figure: .decisionOnTime, done: "c.decided_on", due: "r.accept_due", inYear: "c.received_on",
                   only: "c.organ_name IS NULL", notWaiting: "c.materials_requested_on IS NULL"),
        // Every designation (granted applications and notices alike) due in the year.
        stepOnTime("aid_designation_on_time_rate", "法律援助按时指派率",
                   basis: "法律援助法第四十三条、第三十六条：决定给予法律援助或收到通知之日起三日内指派",
                   counted: "件按时指派", figure: .designationOnTime, done: "c.designated_on", due: "c.designation_due", inYear: "c.designation_due"),
        // Objections due for review in the year, on time by the fifth day.
        stepOnTime("aid_objection_review_on_time_rate", "法律援助异议按时审查率",
                   basis: "法律援助法第四十九条：司法行政部门自收到异议之日起五日内审查",
                   counted: "件异议按时审查", figure: .reviewOnTime, done: "c.reviewed_on", due: "c.review_due", inYear: "c.review_due"),
        // Cases designated in the year, and those designated to a lawyer: from the running figures the database
        // keeps as cases are designated (`RunningFigure.lawyerShare`).
        IndicatorDefinition(id: "lawyer_share_of_aid_cases", name: "律师承办法律援助案件占比", capability: "legal_aid", unit: .percent,
                            target: 75, comparator: .atLeast, basis: "实施方案二（四）：律师承办法律援助案件量占总量的 75% 以上",
                            counted: "件由律师承办", sampled: true) { s, db in
            try await UnitRates.outcome(try await RunningFigure.lawyerShare.units(s, on: db), target: s.target, on: db)
        },
    ]

    // MARK: Monthly counts

    struct Count: Content { var key: String; var name: String; var count: Int }
    struct Month: Content { var month: Int; var applications: Int; var granted: Int; var refused: Int; var notices: Int; var dutyAssistances: Int }
    struct Statistics: Content {
        var region: String
        var year: Int
        var months: [Month]
        var byMatter: [Count]
        var byCounty: [Count]
        var byPriorityGroup: [Count]
    }

    static func statistics(region: DivisionCode, year: Int, on db: any SQLDatabase) async throws -> Statistics {
        let prefix = region.scopePrefix + "%"
        let first = CivilDate.pad(year, 4) + "-01-01", last = CivilDate.pad(year, 4) + "-12-31"
        struct M: Decodable { var month: String; var applications: Int; var granted: Int; var refused: Int; var notices: Int }
        let cases = try await db.raw("""
            SELECT SUBSTR(c.received_on, 6, 2) AS month,
                   CAST(SUM(CASE WHEN c.notifying_organ IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS applications,
                   CAST(SUM(CASE WHEN c.notifying_organ IS NULL AND c.decision = 'granted' THEN 1 ELSE 0 END) AS BIGINT) AS granted,
                   CAST(SUM(CASE WHEN c.decision = 'refused' THEN 1 ELSE 0 END) AS BIGINT) AS refused,
                   CAST(SUM(CASE WHEN c.notifying_organ IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS notices
            FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
            WHERE r.region_code LIKE \(bind: prefix) AND c.received_on >= \(bind: first) AND c.received_on <= \(bind: last)
            GROUP BY SUBSTR(c.received_on, 6, 2)
            """).all(decoding: M.self)
        struct D: Decodable { var month: String; var n: Int }
        let duty = try await db.raw("""
            SELECT SUBSTR(a.day, 6, 2) AS month, COUNT(*) AS n FROM duty_assistances a JOIN duty_persons d ON d.id = a.person_id
            WHERE d.region_code LIKE \(bind: prefix) AND a.day >= \(bind: first) AND a.day <= \(bind: last) GROUP BY SUBSTR(a.day, 6, 2)
            """).all(decoding: D.self)
        let months = (1...12).map { m -> Month in
            let key = CivilDate.pad(m, 2)
            let c = cases.first { $0.month == key }
            return Month(month: m, applications: c?.applications ?? 0, granted: c?.granted ?? 0, refused: c?.refused ?? 0,
                         notices: c?.notices ?? 0, dutyAssistances: duty.first { $0.month == key }?.n ?? 0)
        }
        struct G: Decodable { var key: String?; var name: String?; var n: Int }
        let byMatter = try await db.raw("""
            SELECT COALESCE(c.aid_matter, c.kind) AS key, m.name AS name, COUNT(*) AS n FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
            LEFT JOIN legal_aid_matters m ON m.id = c.aid_matter
            WHERE r.region_code LIKE \(bind: prefix) AND c.received_on >= \(bind: first) AND c.received_on <= \(bind: last)
            GROUP BY COALESCE(c.aid_matter, c.kind), m.name ORDER BY n DESC
            """).all(decoding: G.self).map { g in
                let key = g.key ?? "other"
                let name = g.name ?? [AidMatter.criminalDefence.id: "刑事辩护（申请）", "criminal": "刑事（通知辩护）", "civil": "民事（未注明事项）",
                                      "administrative": "行政（未注明事项）"][key] ?? "其他事项"
                return Count(key: key, name: name, count: g.n)
            }
        let byCounty = try await db.raw("""
            SELECT g.code AS key, g.name AS name, COUNT(*) AS n FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
            JOIN regions g ON g.code = SUBSTR(r.region_code, 1, 6) || '000000'
            WHERE r.region_code LIKE \(bind: prefix) AND c.received_on >= \(bind: first) AND c.received_on <= \(bind: last)
            GROUP BY g.code, g.name ORDER BY g.code
            """).all(decoding: G.self).map { Count(key: $0.key ?? "", name: $0.name ?? "", count: $0.n) }
        struct P: Decodable { var priorityGroups: String }
        let groups = try await db.raw("""
            SELECT r.priority_groups FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
            WHERE r.region_code LIKE \(bind: prefix) AND c.received_on >= \(bind: first) AND c.received_on <= \(bind: last)
              AND r.priority_groups <> ''
            """).all(decoding: P.self, keyDecodingStrategy: .snakeCase)
        var tally: [String: Int] = [:]
        for g in groups { for item in DelimitedList.decode(g.priorityGroups) { tally[item, default: 0] += 1 } }
        let byGroup = PriorityGroup.allCases.compactMap { g in tally[g.rawValue].map { Count(key: g.rawValue, name: g.chineseName, count: $0) } }
        return Statistics(region: region.rawValue, year: year, months: months, byMatter: byMatter, byCounty: byCounty, byPriorityGroup: byGroup)
    }
}

extension RunningFigure {
    /// Designations that went to lawyers, per region and year of designation (M020's triggers keep it).
    // The steps done on time (`LegalAidIndicators.stepOnTime`), as M036 keeps them; `r.` is the case's request.
    static let notifiedDesignationOnTime = RunningFigure(
        name: "aid_notified_designation_on_time", table: "legal_aid_cases",
        counts: "X.designated_on IS NOT NULL AND X.designation_due IS NOT NULL AND X.notifying_organ IS NOT NULL",
        numerator: "CASE WHEN X.designated_on <= X.designation_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.received_on, 1, 4) AS INTEGER)")
    static let decisionOnTime = RunningFigure(
        name: "aid_decision_on_time", table: "legal_aid_cases", counts: "X.decided_on IS NOT NULL AND X.organ_name IS NULL AND r.accept_due IS NOT NULL",
        numerator: "CASE WHEN X.decided_on <= r.accept_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.received_on, 1, 4) AS INTEGER)")
    static let designationOnTime = RunningFigure(
        name: "aid_designation_on_time", table: "legal_aid_cases", counts: "X.designated_on IS NOT NULL AND X.designation_due IS NOT NULL",
        numerator: "CASE WHEN X.designated_on <= X.designation_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.designation_due, 1, 4) AS INTEGER)")
    static let reviewOnTime = RunningFigure(
        name: "aid_review_on_time", table: "legal_aid_cases", counts: "X.reviewed_on IS NOT NULL AND X.review_due IS NOT NULL",
        numerator: "CASE WHEN X.reviewed_on <= X.review_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.review_due, 1, 4) AS INTEGER)")

    static let lawyerShare = RunningFigure(
        name: "lawyer_share", table: "legal_aid_cases", counts: "X.designated_on IS NOT NULL",
        numerator: "CASE WHEN X.designee_type = 'lawyer' THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.designated_on, 1, 4) AS INTEGER)")
}
