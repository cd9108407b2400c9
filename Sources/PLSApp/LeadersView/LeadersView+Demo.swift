import Vapor
import SQLKit
import PLSDomain

/// The demo city's leaders' view: this month's figures as they are, the months before the platform (last year and this
/// year so far) made up around them — a little lower the further back, so that the 稳步提升 targets show a rise — the
/// months' requests counted from the generated history, the bureau's workforce targets, and last month's reports.
enum LeadersDemo {
    static func seed(app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        let this = CivilDate(year: app.today.year, month: app.today.month, day: 1) ?? app.today
        try await IndicatorSeries.record(month: this, app: app)
        let current = try await sql.select().columns("indicator", "region_code", "month", "value", "num", "den", "target", "met", "shortfall_count",
                                                     "shortfalls", "recorded_at")
            .from(IndicatorSeries.schema).where("month", .equal, this.monthKey)
            .all(decoding: IndicatorSeries.Stored.self, keyDecodingStrategy: .convertFromSnakeCase)
        let defs = Dictionary(uniqueKeysWithValues: app.indicators.definitions.map { ($0.id, $0) })
        var month = CivilDate(year: this.year - 1, month: 1, day: 1) ?? this
        var rows: [IndicatorSeries.Stored] = []
        var months: [CivilDate] = []
        while month < this {
            months.append(month)
            let back = (this.year - month.year) * 12 + this.month - month.month
            for r in current {
                guard let d = defs[r.indicator] else { continue }
                var generator = SeededGenerator(seed: QualitySample.fnv1a("\(r.indicator)|\(r.regionCode)|\(month.monthKey)"))
                let noise = Double.random(in: -1...1, using: &generator)
                // The share of the year gone by at the month's end, for counts that add up over the year.
                let share = Double(month.month) / Double(month.year == this.year ? this.month : 12)
                var value = r.value
                switch d.unit {
                // Rates over cases wander; a coverage of units (a count of counties, towns) stays where it is.
                case .percent: value = d.sampled ? r.value.map { max(0, min(100, $0 - Double(back) * 0.25 + noise * 1.5)) } : r.value
                case .count, .hours: value = r.value.map { ($0 * share * (month.year == this.year ? 1 : 0.9) * (1 + noise * 0.05)).rounded() }
                case .minutes: value = r.value.map { max(0, $0 + noise * 2) }
                }
                value = value.map { ($0 * 10).rounded() / 10 }
                let den = r.den.map { Int((Double($0) * share).rounded()) }
                let num = d.unit == .percent ? den.flatMap { n in value.map { Int(($0 / 100 * Double(n)).rounded()) } } : r.num
                rows.append(IndicatorSeries.Stored(indicator: r.indicator, regionCode: r.regionCode, month: month.monthKey, value: value, num: num,
                                                   den: den, target: r.target, met: value.map { d.comparator.isMet(value: $0, target: r.target) },
                                                   shortfallCount: r.shortfallCount, shortfalls: r.shortfalls, recordedAt: month.nextMonthStart.startInChina.addingTimeInterval(-60)))
            }
            month = month.nextMonthStart
        }
        var counts: [(String, [IndicatorSeries.MonthCount])] = []
        for m in months { counts.append((m.monthKey, try await IndicatorSeries.monthCounts(m, on: sql))) }
        let monthCounts = counts
        let chunks = stride(from: 0, to: rows.count, by: 100).map { Array(rows[$0..<min($0 + 100, rows.count)]) }
        try await app.ledger.write(on: app.db) { w in
            let db = w.db as! any SQLDatabase
            for chunk in chunks { try await IndicatorSeries.upsert(chunk, on: db) }
            for (key, list) in monthCounts where !list.isEmpty {
                var insert = db.insert(into: "request_months").columns("region_code", "month", "matter_type", "channel", "received")
                for c in list { insert = insert.values(SQLBind(c.unit), SQLBind(key), SQLBind(c.matterType), SQLBind(c.channel), SQLBind(c.n)) }
                try await insert.run()
            }
            // The city's scorecard: the plan's main figures, 100 points in all.
            for (indicator, weight, rule) in [("town_station_coverage", 10.0, "met"), ("mediation_committee_coverage", 10, "met"),
                                              ("village_adviser_coverage", 15, "met"), ("on_time_rate", 15, "proportional"),
                                              ("satisfaction_rate", 15, "proportional"), ("mediation_success_rate", 10, "proportional"),
                                              ("lawyer_share_of_aid_cases", 10, "proportional"), ("online_acceptance_rate", 10, "proportional"),
                                              ("hotline_answer_rate", 5, "met")] {
                try await db.insert(into: "scorecard_items").columns("indicator", "weight", "rule")
                    .values(SQLBind(indicator), SQLBind(weight), SQLBind(rule)).run()
            }
            // The bureau's workforce ratios (per 10,000 residents).
            for (type, per10k) in [("lawyer", 3.0), ("notary", 0.2), ("legal_aid_officer", 0.2), ("appraiser", 0.3), ("mediator", 8.0)] {
                try await db.insert(into: "workforce_targets").columns("practitioner_type", "per10k").values(SQLBind(type), SQLBind(per10k)).run()
            }
        }
        try await MonthlyReports.generateDue(app)
    }
}
