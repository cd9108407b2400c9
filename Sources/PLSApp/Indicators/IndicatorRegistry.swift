import Vapor
import SQLKit
import PLSDomain

/// The region and period one indicator is computed for.
struct IndicatorScope: Sendable {
    var region: DivisionCode
    var year: Int
    /// From the app's clock: what has fallen due by now.
    var today: CivilDate
    /// The target in force for the indicator being computed (an administrator's, else the registered one).
    var target: Double = 0

    var firstDay: String { CivilDate.pad(year, 4) + "-01-01" }
    var lastDay: String { CivilDate.pad(year, 4) + "-12-31" }
    /// How many leading digits name the units one level down (counties of a city, towns of a county…).
    var unitWidth: Int { region.level == .city ? 6 : (region.level == .county ? 9 : 12) }
}

/// A rate per unit one level down, added up for the region: the shape of every rate indicator.
enum UnitRates {
    struct Row: Decodable { var unit: String; var num: Int; var den: Int }

    /// The region's figure from its units', and the units below target, worst first, with their names.
    static func outcome(_ units: [Row], target: Double, comparator: IndicatorComparator = .atLeast,
                        on db: any SQLDatabase) async throws -> IndicatorOutcome {
        let num = units.reduce(0) { $0 + $1.num }, den = units.reduce(0) { $0 + $1.den }
        let short = units.filter { $0.den > 0 && !comparator.isMet(value: Double($0.num) * 100 / Double($0.den), target: target) }
            .sorted { Double($0.num) / Double($0.den) < Double($1.num) / Double($1.den) }
        let codes = short.map { $0.unit + String(repeating: "0", count: max(0, 12 - $0.unit.count)) }
        var names: [String: String] = [:]
        if !codes.isEmpty {
            struct N: Decodable { var code: String; var name: String }
            for n in try await db.select().columns("code", "name").from("regions").where("code", .in, SQLBind.group(codes)).all(decoding: N.self) {
                names[n.code] = n.name
            }
        }
        let list = codes.prefix(IndicatorRegistry.shortfallLimit).map { ShortfallUnit(code: $0, name: names[$0] ?? $0) }
        return IndicatorOutcome(figure: .ratio(num, of: den), shortfalls: Array(list), shortfallCount: short.count)
    }
}

/// A unit (a county, a town, a village…) that falls short of an indicator.
struct ShortfallUnit: Content, Equatable {
    var code: String
    var name: String
    /// Where the shortfall is fixed, when it is not a region (a service item handled in person only).
    var href: String? = nil
}

struct IndicatorOutcome: Sendable {
    var figure: IndicatorFigure
    /// The first units that fall short (at most `IndicatorRegistry.shortfallLimit`).
    var shortfalls: [ShortfallUnit]
    var shortfallCount: Int
    /// The target for this region when it is not the registered one: a county's share of a city-wide total.
    var target: Double? = nil
}

/// Where an indicator's target comes from, shown beside it so that nobody takes the bureau's number for the plan's.
enum IndicatorTargetSource: String, Sendable, Codable {
    /// The plan sets this number (100% coverage, 75% of aid cases by lawyers, 50 hours, 17,000 items …).
    case plan
    /// The plan asks for steady improvement (稳步提升) and sets no number: met when the value is above last year's at
    /// the same point (`IndicatorSeries.lastYear`); until last year's month is kept, the bureau's interim value stands in.
    case rising
    /// The plan names the aim but no number: the bureau's own target.
    case bureau
    /// A law sets the requirement (a committee's make-up, 人民调解法 art. 8): every unit must meet it.
    case law

    var chineseName: String {
        switch self {
        case .plan: "实施方案规定的目标"
        case .rising: "实施方案要求稳步提升，未定具体数值；暂以本局设定值衡量"
        case .bureau: "本局设定的目标（实施方案未规定具体数值）"
        case .law: "法律规定的要求"
        }
    }
}

/// One indicator of the plan: its id, Chinese name, target and the query that computes it.
/// Each capability registers its own; the endpoint and dashboard show whatever is registered.
struct IndicatorDefinition: Sendable {
    var id: String
    var name: String
    var capability: String
    var unit: IndicatorUnit
    var target: Double
    var comparator: IndicatorComparator
    /// Where the indicator comes from in the plan, shown beside it.
    var basis: String
    /// Whether the plan sets the target's number (`IndicatorTargetSource`).
    var targetSource: IndicatorTargetSource = .plan
    /// What the numerator counts, as the dashboard words it after "n / m".
    var counted: String = "个单位达到要求"
    /// A rate over cases (on time, rated, successful), not a count of every unit: few cases make it unreliable.
    var sampled = false
    var compute: @Sendable (IndicatorScope, any SQLDatabase) async throws -> IndicatorOutcome
    /// The records behind a shortfall in a small region (a county's, a town's, a village's): the requests concluded
    /// late, the villages without an adviser, the committees breaking the rules — each linked to where it is fixed.
    var records: (@Sendable (IndicatorScope, any SQLDatabase) async throws -> [ShortfallUnit])? = nil
}

final class IndicatorRegistry: Sendable {
    static let shortfallLimit = 50
    let definitions: [IndicatorDefinition]

    init(_ definitions: [IndicatorDefinition]) {
        var seen = Set<String>()
        for d in definitions { precondition(seen.insert(d.id).inserted, "indicator \(d.id) registered twice") }
        self.definitions = definitions
    }

    struct Result: Content {
        var id: String
        var name: String
        var capability: String
        var unit: String
        /// Null when there is nothing to measure; `met` is then null too.
        var value: Double?
        var target: Double
        var comparator: String
        var met: Bool?
        var numerator: Int?
        var denominator: Int?
        var basis: String
        /// `plan`, `rising` or `bureau`; a plan's target an administrator changed is the bureau's.
        var targetSource: String
        var targetSourceName: String
        var counted: String
        var shortfalls: [ShortfallUnit]
        var shortfallCount: Int
        /// A rate over fewer than `IndicatorFigure.smallSample` cases, shown with a warning.
        var smallSample: Bool

        // `value` and `met` are written as null when there is no figure, so that a department system reads
        // "no data" rather than guessing from a missing key.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(name, forKey: .name); try c.encode(capability, forKey: .capability)
            try c.encode(unit, forKey: .unit); try c.encode(value, forKey: .value); try c.encode(target, forKey: .target)
            try c.encode(comparator, forKey: .comparator); try c.encode(met, forKey: .met)
            try c.encodeIfPresent(numerator, forKey: .numerator); try c.encodeIfPresent(denominator, forKey: .denominator)
            try c.encode(basis, forKey: .basis); try c.encode(targetSource, forKey: .targetSource)
            try c.encode(targetSourceName, forKey: .targetSourceName); try c.encode(counted, forKey: .counted)
            try c.encode(shortfalls, forKey: .shortfalls); try c.encode(shortfallCount, forKey: .shortfallCount)
            try c.encode(smallSample, forKey: .smallSample)
        }
    }

    /// Targets administrators have set in place of the registered ones.
    static func targets(on db: any SQLDatabase) async throws -> [String: Double] {
        struct T: Decodable { var id: String; var target: Double }
        return Dictionary(uniqueKeysWithValues: try await db.select().columns("id", "target").from("indicator_targets").all(decoding: T.self)
            .map { ($0.id, $0.target) })
    }

    /// Every indicator for the scope; one that takes longer than `slow` is logged, so that a query gone slow on a
    /// large database is named rather than guessed at.
    /// `only`: the one indicator asked for (a drill-down computes it for each unit).
    /// `targets`: those already read (a drill-down computes one indicator for many units).
    func compute(_ scope: IndicatorScope, only: String? = nil, targets known: [String: Double]? = nil, on db: any SQLDatabase,
                 logger: Logger? = nil, slow: Duration = .milliseconds(100)) async throws -> [Result] {
        var targets = known ?? [:]
        if known == nil { targets = try await Self.targets(on: db) }
        let chosen = definitions.filter { only == nil || $0.id == only }
        // A few at a time: on PostgreSQL each indicator's statements are planned and run by a backend of its own, so the
        // board uses both cores (measured at a million requests: every indicator one after another took 303 ms).
        return try await chosen.concurrentMap(width: 4) { [targets] d in
            try await Self.result(d, scope, targets: targets, on: db, logger: logger, slow: slow)
        }
    }

    private static func result(_ definition: IndicatorDefinition, _ scope: IndicatorScope, targets: [String: Double], on db: any SQLDatabase,
                               logger: Logger?, slow: Duration) async throws -> Result {
        var d = definition
        if let set = targets[d.id], set != d.target {
            d.target = set
            if d.targetSource == .plan { d.targetSource = .bureau }
        }
        var scope = scope
        scope.target = d.target
        let started = ContinuousClock.now
        let outcome = try await d.compute(scope, db)
        let took = ContinuousClock.now - started
        if took > slow { logger?.warning("indicator \(d.id) for \(scope.region.rawValue) took \(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000) ms") }
        var target = outcome.target ?? d.target
        var met = outcome.figure.meets(target, d.comparator)
        var sourceName = d.targetSource == .bureau && targets[d.id] != nil ? "本局调整的目标" : d.targetSource.chineseName
        // 稳步提升: once last year's figure at the same point is kept, it is the mark to rise above.
        if d.targetSource == .rising, let last = try await IndicatorSeries.lastYear(d.id, scope: scope, on: db) {
            target = last
            met = outcome.figure.value.map { RisingTarget.isMet(value: $0, lastYear: last) }
            sourceName = "实施方案要求稳步提升：高于去年同期（" + String(format: "%.1f", last) + (d.unit == .percent ? "%" : "") + "）即达标"
        }
        return Result(id: d.id, name: d.name, capability: d.capability, unit: d.unit.rawValue,
                      value: outcome.figure.rounded, target: target, comparator: d.comparator.rawValue,
                      met: met,
                      numerator: outcome.figure.numerator, denominator: outcome.figure.denominator,
                      basis: d.basis, targetSource: d.targetSource.rawValue,
                      targetSourceName: sourceName,
                      counted: d.counted, shortfalls: outcome.shortfalls, shortfallCount: outcome.shortfallCount,
                      smallSample: d.sampled && outcome.figure.isSmallSample)
    }
}

extension Application {
    private struct IndicatorsKey: StorageKey { typealias Value = IndicatorRegistry }
    var indicators: IndicatorRegistry {
        get { storage[IndicatorsKey.self] ?? IndicatorRegistry([]) }
        set { storage[IndicatorsKey.self] = newValue }
    }
}

/// Coverage: the share of units at some levels inside the region that have an active
/// institution of a type (e.g. every town has a station). One query for the count,
/// one for the units that fall short.
struct CoverageQuery: Sendable {
    var unitLevels: [RegionLevel]
    var institutionType: InstitutionType
    var committeeKinds: [MediationCommitteeKind] = []

    func run(_ scope: IndicatorScope, on db: any SQLDatabase) async throws -> IndicatorOutcome {
        let levels = unitLevels.map(\.rawValue)
        let prefix = scope.region.scopePrefix + "%"
        let kindFilter: SQLQueryString = committeeKinds.isEmpty ? "" : " AND i.committee_kind IN (\(binds: committeeKinds.map(\.rawValue)))"
        let covered: SQLQueryString = "EXISTS (SELECT 1 FROM institutions i WHERE i.region_code = r.code AND i.type = \(bind: institutionType.rawValue) AND i.active = \(bind: true)\(kindFilter))"
        let units: SQLQueryString = "FROM regions r WHERE r.active = \(bind: true) AND r.level IN (\(binds: levels)) AND r.code LIKE \(bind: prefix)"

        struct Counts: Decodable { var total: Int; var covered: Int }
        let counts = try await db.raw("SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN " + covered + " THEN 1 ELSE 0 END), 0) AS covered " + units)
            .first(decoding: Counts.self) ?? Counts(total: 0, covered: 0)
        let short = try await db.raw("SELECT r.code, r.name " + units + " AND NOT " + covered
                                     + " ORDER BY r.code LIMIT \(unsafeRaw: String(IndicatorRegistry.shortfallLimit))")
            .all(decoding: ShortfallUnit.self)
        return IndicatorOutcome(figure: .ratio(counts.covered, of: counts.total), shortfalls: short,
                                shortfallCount: counts.total - counts.covered)
    }
}
