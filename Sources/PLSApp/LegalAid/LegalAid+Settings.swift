import Vapor
import SQLKit
import Fluent
import PLSDomain

/// What the city sets for legal aid: the scope of matters, each county's hardship threshold, the time
/// limits, the case subsidy table and the roster of those who take aid cases.
enum LegalAidSettings {
    // MARK: Scope (art. 31 and the city's additions)

    struct MatterRow: Content {
        var id: String
        var name: String
        var basis: String
        /// Whether a migrant worker's claim under this matter can be exempt (kept for clients of the first version).
        var migrantWorkerClaim: Bool
        /// The claims of art. 42 (3) this matter can carry (`labor_pay`, `work_injury`).
        var migrantWorkerClaims: [String]
        var active: Bool
    }

    static func matters(includeInactive: Bool = false, on db: any SQLDatabase) async throws -> [MatterRow] {
        struct Row: Decodable { var id: String; var name: String; var basis: String; var migrantWorkerClaims: String; var active: Bool }
        var q = db.select().columns("id", "name", "basis", "migrant_worker_claims", "active").from("legal_aid_matters")
        if !includeInactive { q = q.where("active", .equal, SQLBind(true)) }
        return try await q.orderBy("sort").all(decoding: Row.self, keyDecodingStrategy: .snakeCase).map { r in
            let claims = DelimitedList.decode(r.migrantWorkerClaims).filter { MigrantWorkerClaim(rawValue: $0) != nil }
            return MatterRow(id: r.id, name: r.name, basis: r.basis, migrantWorkerClaim: !claims.isEmpty, migrantWorkerClaims: claims, active: r.active)
        }
    }

    static func scope(on db: any SQLDatabase) async throws -> [AidMatter] {
        try await matters(on: db).map {
            AidMatter(id: $0.id, name: $0.name, basis: $0.basis, migrantWorkerClaims: $0.migrantWorkerClaims.compactMap(MigrantWorkerClaim.init))
        }
    }

    /// `migrantWorkerClaims` lists the claims of art. 42 (3) the matter carries; the older yes/no
    /// (`migrantWorkerClaim`) stands for both when the list is not given.
    struct MatterInput: Content {
        var name: String?; var basis: String?; var migrantWorkerClaim: Bool?; var migrantWorkerClaims: [String]?; var active: Bool?
    }

    /// A stated claim of art. 42 (3): one of the two, and one the matter carries (it narrows the matter).
    static func claim(_ raw: String?, matter: AidMatter?, _ errors: inout FieldErrors) -> MigrantWorkerClaim? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard let claim = MigrantWorkerClaim(rawValue: raw) else {
            errors.add("claim", "请求应为“申请支付劳动报酬”（labor_pay）或“请求工伤事故人身损害赔偿”（work_injury）")
            return nil
        }
        if let matter, !matter.migrantWorkerClaims.contains(claim) {
            errors.add("claim", "“\(claim.chineseName)”不属于“\(matter.name)”")
            return nil
        }
        return claim
    }

    static func saveMatter(_ id: String, _ input: MatterInput, on db: any SQLDatabase) async throws -> MatterRow {
        var errors = FieldErrors()
        if id.range(of: "^[a-z][a-z0-9_]{1,39}$", options: .regularExpression) == nil { errors.add("id", "事项编码应为小写字母、数字和下划线") }
        let name = errors.required(input.name, "name", "事项名称", maxLength: 80)
        let basis = errors.required(input.basis, "basis", "依据", maxLength: 120)
        var claims: [MigrantWorkerClaim] = input.migrantWorkerClaim == true ? MigrantWorkerClaim.allCases : []
        if let given = input.migrantWorkerClaims {
            claims = []
            for raw in given {
                if let c = MigrantWorkerClaim(rawValue: raw) { if !claims.contains(c) { claims.append(c) } }
                else { errors.add("migrantWorkerClaims", "请求“\(raw)”无效，应为 labor_pay 或 work_injury") }
            }
        }
        try errors.throwIfAny()
        let sort = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("legal_aid_matters")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        try await db.raw("""
            INSERT INTO legal_aid_matters (id, name, basis, migrant_worker_claim, migrant_worker_claims, active, sort)
            VALUES (\(bind: id), \(bind: name), \(bind: basis), \(bind: !claims.isEmpty), \(bind: DelimitedList.encode(claims.map(\.rawValue))),
                    \(bind: input.active ?? true), \(bind: sort))
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, basis = excluded.basis, migrant_worker_claim = excluded.migrant_worker_claim,
              migrant_worker_claims = excluded.migrant_worker_claims, active = excluded.active
            """).run()
        return try await matters(includeInactive: true, on: db).first { $0.id == id }!
    }

    // MARK: Hardship thresholds (art. 34; the plan: at least twice the minimum living allowance)

    struct ThresholdView: Content {
        var countyCode: String
        var countyName: String
        var minimumLivingAllowance: Double?
        var multiple: Double?
        /// Monthly income per head at or below which a household is in hardship.
        var threshold: Double?
        var updatedAt: Date?
        var minimumLivingAllowanceText: String?
        var thresholdText: String?
    }

    struct ThresholdInput: Content { var minimumLivingAllowance: Double?; var multiple: Double? }

    static func countyCode(of regionCode: String) -> String? {
        DivisionCode(regionCode).flatMap { $0.ancestor(at: .county) }?.rawValue
    }

    static func threshold(county: String, on db: any SQLDatabase) async throws -> HardshipThreshold? {
        struct T: Decodable { var minimumLivingAllowance: Int; var multiple: Double }
        return try await db.select().columns("minimum_living_allowance", "multiple").from("legal_aid_thresholds")
            .where("county_code", .equal, SQLBind(county)).first(decoding: T.self, keyDecodingStrategy: .snakeCase)
            .map { HardshipThreshold(minimumLivingAllowance: $0.minimumLivingAllowance, multiple: $0.multiple) }
    }

    /// Every county with its threshold (nil where none is set yet), so the gaps are visible.
    static func thresholds(prefix: String = "", on db: any SQLDatabase) async throws -> [ThresholdView] {
        struct R: Decodable { var code: String; var name: String; var minimumLivingAllowance: Int?; var multiple: Double?; var updatedAt: Date? }
        return try await db.raw("""
            SELECT g.code, g.name, t.minimum_living_allowance, t.multiple, t.updated_at FROM regions g
            LEFT JOIN legal_aid_thresholds t ON t.county_code = g.code
            WHERE g.level = \(bind: RegionLevel.county.rawValue) AND g.code LIKE \(bind: prefix + "%") ORDER BY g.code
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map { r in
            let t = r.minimumLivingAllowance.map { HardshipThreshold(minimumLivingAllowance: $0, multiple: r.multiple ?? 2) }
            return ThresholdView(countyCode: r.code, countyName: r.name, minimumLivingAllowance: t.map { Money.toYuan($0.minimumLivingAllowance) },
                                 multiple: t?.multiple, threshold: t.map { Money.toYuan($0.perHead) }, updatedAt: r.updatedAt,
                                 minimumLivingAllowanceText: t.map { Money.yuan($0.minimumLivingAllowance) }, thresholdText: t.map { Money.yuan($0.perHead) })
        }
    }

    static func saveThreshold(county: String, _ input: ThresholdInput, by p: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector,
                              now: Date, on db: any SQLDatabase) async throws -> ThresholdView {
        try p.require(p.role == .cityAdmin || p.role == .countyAdmin)
        guard let code = DivisionCode(county), code.level == .county,
              let region = try await RegionController.find(county, on: db) else { throw AppError.notFound("县（区）") }
        if case .region(let scope) = p.scope, !scope.contains(code) { throw AppError.notFound("县（区）") }
        var errors = FieldErrors()
        let allowance = input.minimumLivingAllowance.flatMap(Fen.fromYuan)
        if allowance == nil || allowance == 0 { errors.add("minimumLivingAllowance", "请填写大于 0 的最低生活保障标准（元/月）") }
        let multiple = input.multiple ?? HardshipThreshold.minimumMultiple
        if !multiple.isFinite || multiple < HardshipThreshold.minimumMultiple {
            errors.add("multiple", "倍数不得低于 2：实施方案要求经济困难标准不低于最低生活保障标准的 2 倍")
        } else if multiple > 10 {
            errors.add("multiple", "倍数不应超过 10")
        }
        try errors.throwIfAny()
        struct Stored: Codable { var minimumLivingAllowanceFen: Int64; var multiple: Double }
        let before = try await db.raw("SELECT minimum_living_allowance, multiple FROM legal_aid_thresholds WHERE county_code = \(bind: county)")
            .first().map { Stored(minimumLivingAllowanceFen: try $0.decode(column: "minimum_living_allowance", as: Int64.self),
                                  multiple: try $0.decode(column: "multiple", as: Double.self)) }
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("""
                INSERT INTO legal_aid_thresholds (county_code, minimum_living_allowance, multiple, updated_at)
                VALUES (\(bind: county), \(bind: allowance!), \(bind: multiple), \(bind: now))
                ON CONFLICT (county_code) DO UPDATE SET minimum_living_allowance = excluded.minimum_living_allowance,
                  multiple = excluded.multiple, updated_at = excluded.updated_at
                """).run()
            try await AuditLog.record("legal_aid.threshold", target: "\(region.name)经济困难标准", before: before,
                                      after: Stored(minimumLivingAllowanceFen: Int64(allowance!), multiple: multiple),
                                      by: actor, protector: protector, on: sql, at: now)
        }
        let t = HardshipThreshold(minimumLivingAllowance: allowance!, multiple: multiple)
        return ThresholdView(countyCode: county, countyName: region.name, minimumLivingAllowance: Money.toYuan(allowance!),
                             multiple: multiple, threshold: Money.toYuan(t.perHead), updatedAt: now,
                             minimumLivingAllowanceText: Money.yuan(allowance!), thresholdText: Money.yuan(t.perHead))
    }

    // MARK: Time limits

    struct RuleView: Content { var key: String; var name: String; var days: Int; var unit: String; var description: String }
    struct RuleInput: Content { var days: Int?; var unit: String? }

    static func rules(on db: any SQLDatabase) async throws -> [AidDeadline: DeadlineRule] {
        struct R: Decodable { var key: String; var days: Int; var unit: String }
        var result = Dictionary(uniqueKeysWithValues: AidDeadline.allCases.map { ($0, $0.defaultRule) })
        for r in try await db.select().columns("key", "days", "unit").from("legal_aid_rules").all(decoding: R.self) {
            if let k = AidDeadline(rawValue: r.key), let u = DeadlineRule.Unit(rawValue: r.unit) { result[k] = DeadlineRule(days: r.days, unit: u) }
        }
        return result
    }

    static func ruleViews(on db: any SQLDatabase) async throws -> [RuleView] {
        let all = try await rules(on: db)
        return AidDeadline.allCases.map { k in
            RuleView(key: k.rawValue, name: k.chineseName, days: all[k]!.days, unit: all[k]!.unit.rawValue, description: all[k]!.chineseDescription)
        }
    }

    static func saveRule(_ key: String, _ input: RuleInput, actor: AuditLog.Actor, protector: PersonalDataProtector, now: Date,
                         on db: any SQLDatabase) async throws -> RuleView {
        guard let k = AidDeadline(rawValue: key) else { throw AppError.notFound("时限") }
        var errors = FieldErrors()
        // The law's periods are the longest allowed; a city may only be quicker.
        if !(1...k.defaultRule.days).contains(input.days ?? 0) { errors.add("days", "天数应在 1–\(k.defaultRule.days) 之间（\(k.chineseName)）") }
        let unit = errors.choice(input.unit, "unit", "计算方式", as: DeadlineRule.Unit.self)
        try errors.throwIfAny()
        let before = try await ruleViews(on: db).first { $0.key == key }
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update("legal_aid_rules").set("days", to: SQLBind(input.days!)).set("unit", to: SQLBind(unit!.rawValue))
                .where("key", .equal, SQLBind(k.rawValue)).run()
            try await AuditLog.record("catalog.rules", target: "法律援助\(k.chineseName)时限", before: before,
                                      after: ["days": "\(input.days!)", "unit": unit!.rawValue], by: actor, protector: protector, on: sql, at: now)
        }
        return try await ruleViews(on: db).first { $0.key == key }!
    }

    // MARK: Case subsidies

    struct RateView: Content { var kind: String; var kindName: String; var stage: String; var stageName: String; var amount: Double; var amountText: String }
    struct RateInput: Content { var kind: String?; var stage: String?; var amount: Double? }

    static func rates(on db: any SQLDatabase) async throws -> [SubsidyRate] {
        struct R: Decodable { var kind: String; var stage: String; var amount: Int }
        return try await db.select().columns("kind", "stage", "amount").from("legal_aid_subsidy_rates").all(decoding: R.self).compactMap { r in
            guard let k = AidCaseKind(rawValue: r.kind), let s = AidStage(rawValue: r.stage) else { return nil }
            return SubsidyRate(kind: k, stage: s, amount: r.amount)
        }
    }

    static func rateViews(on db: any SQLDatabase) async throws -> [RateView] {
        let all = try await rates(on: db)
        return AidCaseKind.allCases.flatMap { k in k.stages.compactMap { s in
            all.first { $0.kind == k && $0.stage == s }.map {
                RateView(kind: k.rawValue, kindName: k.chineseName, stage: s.rawValue, stageName: s.chineseName, amount: Money.toYuan($0.amount),
                        amountText: Money.yuan($0.amount))
            }
        } }
    }

    static func saveRate(_ input: RateInput, on db: any SQLDatabase) async throws -> [RateView] {
        var errors = FieldErrors()
        let kind = errors.choice(input.kind, "kind", "案件类型", as: AidCaseKind.self)
        let stage = errors.choice(input.stage, "stage", "办理阶段", as: AidStage.self)
        if let kind, let stage, !kind.stages.contains(stage) { errors.add("stage", "\(kind.chineseName)案件没有“\(stage.chineseName)”阶段") }
        let amount = input.amount.flatMap(Fen.fromYuan)
        if amount == nil || amount! > 10_000_000 { errors.add("amount", "请填写 0–100000 元的补贴标准") }
        try errors.throwIfAny()
        try await db.raw("""
            INSERT INTO legal_aid_subsidy_rates (kind, stage, amount) VALUES (\(bind: kind!.rawValue), \(bind: stage!.rawValue), \(bind: amount!))
            ON CONFLICT (kind, stage) DO UPDATE SET amount = excluded.amount
            """).run()
        return try await rateViews(on: db)
    }

    // MARK: Roster (法律援助人员库)

    struct RosterEntry: Content {
        var practitionerId: UUID
        var name: String
        var type: String
        var typeName: String
        var institutionName: String
        var practiceSince: String?
        var yearsOfPractice: Int?
        var criminal: Bool
        var active: Bool
    }

    struct RosterInput: Content { var practiceSince: String?; var criminal: Bool?; var active: Bool? }

    static func roster(prefix: String, page: PageRequest, today: CivilDate, on db: any SQLDatabase) async throws -> Paged<RosterEntry> {
        struct R: Decodable {
            var practitionerId: UUID; var name: String; var type: String; var institutionName: String
            var practiceSince: String?; var criminal: Bool; var active: Bool
        }
        let from: SQLQueryString = """
            FROM legal_aid_roster l JOIN practitioners p ON p.id = l.practitioner_id JOIN institutions i ON i.id = p.institution_id
            WHERE p.region_code LIKE \(bind: prefix + "%")
            """
        let total = try await db.raw("SELECT COUNT(*) AS n " + from).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw("SELECT l.practitioner_id, p.name, p.type, i.name AS institution_name, l.practice_since, l.criminal, l.active "
                                    + from + " ORDER BY p.region_code, p.name LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map { r in
            RosterEntry(practitionerId: r.practitionerId, name: r.name, type: r.type, typeName: PractitionerType(rawValue: r.type)?.chineseName ?? r.type,
                        institutionName: r.institutionName, practiceSince: r.practiceSince,
                        yearsOfPractice: r.practiceSince.flatMap(CivilDate.init).map { Seniority.years(since: $0, on: today) },
                        criminal: r.criminal, active: r.active)
        }, total: total, page: page.page, per: page.per)
    }

    /// Those who may take aid cases: lawyers, legal aid officers and grassroots legal workers (art. 12–13, 16).
    static let rosterTypes: [PractitionerType] = [.lawyer, .legalAidOfficer, .grassrootsLegalWorker]

    static func saveRosterEntry(_ practitionerID: UUID, _ input: RosterInput, by p: Principal, today: CivilDate, now: Date,
                                on db: any SQLDatabase) async throws -> RosterEntry {
        // The bureau certifies who takes aid cases, not the firms themselves (arts. 25–26 rest on it).
        try p.require([.cityAdmin, .countyAdmin].contains(p.role))
        let prac = try await PractitionerController.find(practitionerID, scope: p.scope, on: db)
        var errors = FieldErrors()
        let type = PractitionerType(rawValue: prac.type)
        if type == nil || !rosterTypes.contains(type!) { errors.add("practitionerId", "只有律师、法律援助人员和基层法律服务工作者可以列入法律援助人员库") }
        var since: CivilDate?
        if let raw = input.practiceSince?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            since = CivilDate(raw)
            if since == nil || since! > today { errors.add("practiceSince", "执业起始日期应为今天或以前的日期（YYYY-MM-DD）") }
        }
        let criminal = input.criminal ?? false
        if criminal, type != .lawyer { errors.add("criminal", "刑事法律援助只能由律师承办（法律援助法第二十五条）") }
        try errors.throwIfAny()
        try await db.raw("""
            INSERT INTO legal_aid_roster (practitioner_id, practice_since, criminal, active, added_at)
            VALUES (\(bind: practitionerID), \(bind: since?.description), \(bind: criminal), \(bind: input.active ?? true), \(bind: now))
            ON CONFLICT (practitioner_id) DO UPDATE SET practice_since = excluded.practice_since, criminal = excluded.criminal,
              active = excluded.active
            """).run()
        return RosterEntry(practitionerId: practitionerID, name: prac.name, type: prac.type, typeName: type?.chineseName ?? prac.type,
                           institutionName: prac.institutionName, practiceSince: since?.description,
                           yearsOfPractice: since.map { Seniority.years(since: $0, on: today) }, criminal: criminal, active: input.active ?? true)
    }
}
