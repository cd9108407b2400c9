// Legal aid on the Legal Aid Law of the PRC (法律援助法, in force 2022-01-01). Article numbers
// are those of that law unless a rule says otherwise.

/// A civil or administrative matter within the scope of legal aid. The scope is data (the city may
/// add matters, art. 31 (9)); these are the defaults.
public struct AidMatter: Equatable, Sendable, Codable {
    /// Art. 24: a suspect or defendant without counsel, for economic hardship or another reason, may apply.
    public static let criminalDefence = AidMatter(id: "criminal_defence", name: "刑事辩护", basis: "法律援助法第二十四条")

    public var id: String
    public var name: String
    /// Where it comes from, e.g. "法律援助法第三十一条第（一）项".
    public var basis: String
    /// The claims of art. 42 (3) this matter can carry: a migrant worker is exempt from the means check only when
    /// the claim they bring is one of them (a traffic-accident claim under `personal_injury` is means-tested).
    public var migrantWorkerClaims: [MigrantWorkerClaim]

    public init(id: String, name: String, basis: String, migrantWorkerClaims: [MigrantWorkerClaim] = []) {
        self.id = id
        self.name = name
        self.basis = basis
        self.migrantWorkerClaims = migrantWorkerClaims
    }

    public static let defaults: [AidMatter] = [
        // Art. 31 (1)–(8).
        .init(id: "state_compensation", name: "依法请求国家赔偿", basis: "法律援助法第三十一条第（一）项"),
        .init(id: "social_insurance_or_assistance", name: "请求给予社会保险待遇或者社会救助", basis: "法律援助法第三十一条第（二）项"),
        .init(id: "survivor_pension", name: "请求发给抚恤金", basis: "法律援助法第三十一条第（三）项"),
        .init(id: "support_payment", name: "请求给付赡养费、抚养费、扶养费", basis: "法律援助法第三十一条第（四）项"),
        .init(id: "labor_relationship_or_pay", name: "请求确认劳动关系或者支付劳动报酬", basis: "法律援助法第三十一条第（五）项",
              migrantWorkerClaims: [.laborPay]),
        .init(id: "legal_capacity", name: "请求认定公民无民事行为能力或者限制民事行为能力", basis: "法律援助法第三十一条第（六）项"),
        .init(id: "personal_injury", name: "请求工伤事故、交通事故、食品药品安全事故、医疗事故人身损害赔偿",
              basis: "法律援助法第三十一条第（七）项", migrantWorkerClaims: [.workInjury]),
        .init(id: "environmental_damage", name: "请求环境污染、生态破坏损害赔偿", basis: "法律援助法第三十一条第（八）项"),
        // The city's additions under art. 31 (9), from the plan: 扩大法律援助覆盖面.
        // (Criminal applications, art. 24, are a kind of case rather than a matter of this list: see `criminalDefence`.)
        .init(id: "labor_social_security", name: "劳动保障", basis: "实施方案：扩大民生领域法律援助事项范围",
              migrantWorkerClaims: [.laborPay, .workInjury]),
        .init(id: "marriage_family", name: "婚姻家庭", basis: "实施方案：扩大民生领域法律援助事项范围"),
        .init(id: "food_drug", name: "食品药品", basis: "实施方案：扩大民生领域法律援助事项范围"),
        .init(id: "education_medical", name: "教育医疗", basis: "实施方案：扩大民生领域法律援助事项范围"),
        .init(id: "environmental_pollution", name: "环境污染", basis: "实施方案：扩大民生领域法律援助事项范围"),
    ]
}

/// The two claims for which art. 42 (3) spares a migrant worker the means check: "申请支付劳动报酬或者请求工伤事故人身损害赔偿".
/// A claim narrows a matter (confirming a labour relationship, or a traffic accident, are matters of the same list
/// that are means-tested).
public enum MigrantWorkerClaim: String, ChineseNamed, Codable {
    case laborPay = "labor_pay"
    case workInjury = "work_injury"

    public var chineseName: String {
        switch self {
        case .laborPay: "申请支付劳动报酬"
        case .workInjury: "请求工伤事故人身损害赔偿"
        }
    }
}

/// Facts about the applicant that lift or ease the means test, each proved by documents.
public enum AidStatus: String, ChineseNamed, Codable {
    // Art. 32: no economic-hardship condition at all.
    case heroesMartyrsRelative = "heroes_martyrs_relative"
    case goodSamaritan = "good_samaritan"
    case acquittedOnRetrial = "acquitted_on_retrial"
    case abuseVictim = "abuse_abandonment_domestic_violence_victim"
    // Art. 42: hardship presumed, the means are not checked.
    case minorWithoutIncome = "minor_without_income"
    case elderlyWithoutIncome = "elderly_without_income"
    case disabledWithoutIncome = "disabled_without_income"
    case socialAssistanceRecipient = "social_assistance_recipient"
    case judicialAssistanceRecipient = "judicial_assistance_recipient"
    case specialCareRecipient = "special_care_recipient"
    case migrantWorker = "migrant_worker"

    public var chineseName: String {
        switch self {
        case .heroesMartyrsRelative: "英雄烈士近亲属为维护英雄烈士的人格权益"
        case .goodSamaritan: "因见义勇为行为主张相关民事权益"
        case .acquittedOnRetrial: "再审改判无罪请求国家赔偿"
        case .abuseVictim: "遭受虐待、遗弃或者家庭暴力的受害人主张相关权益"
        case .minorWithoutIncome: "无固定生活来源的未成年人"
        case .elderlyWithoutIncome: "无固定生活来源的老年人"
        case .disabledWithoutIncome: "无固定生活来源的残疾人"
        case .socialAssistanceRecipient: "社会救助对象"
        case .judicialAssistanceRecipient: "司法救助对象"
        case .specialCareRecipient: "优抚对象"
        case .migrantWorker: "申请支付劳动报酬或者请求工伤事故人身损害赔偿的进城务工人员"
        }
    }

    /// Art. 32: the economic-hardship condition does not apply.
    public var liftsMeansTest: Bool { [.heroesMartyrsRelative, .goodSamaritan, .acquittedOnRetrial, .abuseVictim].contains(self) }

    /// Art. 32 (3) is about state compensation only; the other cases of art. 32 are claims of their own kind.
    public func lifts(for matter: AidMatter?) -> Bool {
        self != .acquittedOnRetrial || matter?.id == "state_compensation"
    }

    public var article: String {
        switch self {
        case .heroesMartyrsRelative: "第三十二条第（一）项"
        case .goodSamaritan: "第三十二条第（二）项"
        case .acquittedOnRetrial: "第三十二条第（三）项"
        case .abuseVictim: "第三十二条第（四）项"
        case .minorWithoutIncome, .elderlyWithoutIncome, .disabledWithoutIncome: "第四十二条第（一）项"
        case .socialAssistanceRecipient, .judicialAssistanceRecipient, .specialCareRecipient: "第四十二条第（二）项"
        case .migrantWorker: "第四十二条第（三）项"
        }
    }

    /// The priority group of the plan a status puts the applicant in, for the lists.
    public var priorityGroup: PriorityGroup? {
        switch self {
        case .minorWithoutIncome: .minor
        case .elderlyWithoutIncome: .elderly
        case .disabledWithoutIncome: .disabled
        case .socialAssistanceRecipient: .lowIncome
        case .specialCareRecipient: .entitledGroup
        case .migrantWorker: .migrantWorker
        default: nil
        }
    }
}

/// Money in fen (分), so thresholds and incomes compare exactly.
public typealias Fen = Int

public extension Fen {
    /// Yuan with two decimals to fen, or nil when negative or absurd.
    static func fromYuan(_ yuan: Double) -> Fen? {
        guard yuan.isFinite, yuan >= 0, yuan < 1e10 else { return nil }
        return Fen((yuan * 100).rounded())
    }
}

/// 经济困难标准: the county's minimum living allowance times a multiple (the plan: never below 2).
public struct HardshipThreshold: Equatable, Sendable {
    public static let minimumMultiple = 2.0
    public var minimumLivingAllowance: Fen
    public var multiple: Double

    public init(minimumLivingAllowance: Fen, multiple: Double = minimumMultiple) {
        self.minimumLivingAllowance = minimumLivingAllowance
        self.multiple = multiple
    }

    /// Monthly income per head at or below which a household is in hardship.
    public var perHead: Fen { Fen((Double(minimumLivingAllowance) * multiple).rounded()) }

    /// Income at the threshold is within it; compared without division so no rounding decides a case.
    public func covers(householdIncome: Fen, householdSize: Int) -> Bool {
        precondition(householdSize > 0)
        return householdIncome <= perHead * householdSize
    }
}

public enum MeansTest: String, Sendable, Codable {
    case passed, failed, exempt
    case notRequired = "not_required"

    public var chineseName: String {
        switch self {
        case .passed: "符合经济困难标准"
        case .failed: "不符合经济困难标准"
        case .exempt: "免予核查经济困难状况"
        case .notRequired: "不受经济困难条件限制"
        }
    }
}

public struct AidReason: Equatable, Sendable, Codable {
    public var article: String
    public var text: String
    public init(_ article: String, _ text: String) {
        self.article = article
        self.text = text
    }
}

/// The answer of the eligibility pre-check and the record kept with an application.
public struct AidEligibility: Equatable, Sendable {
    public var eligible: Bool
    public var meansTest: MeansTest
    public var threshold: Fen?
    public var reasons: [AidReason]
}

public enum LegalAidRules {
    /// Whether the household's figures are needed: not when art. 32 lifts the condition or art. 42 exempts the check.
    /// `claim`: a migrant worker's claim under art. 42 (3), which must be one the matter carries.
    public static func needsMeans(matter: AidMatter?, statuses: Set<AidStatus>, claim: MigrantWorkerClaim? = nil) -> Bool {
        meansRelief(matter: matter, statuses: statuses, claim: claim) == nil
    }

    /// Whether a migrant worker's claim exempts them: the claim is stated and the matter carries it.
    static func migrantClaimExempts(_ matter: AidMatter?, _ claim: MigrantWorkerClaim?) -> Bool {
        guard let claim, let matter else { return false }
        return matter.migrantWorkerClaims.contains(claim)
    }

    /// Art. 32 first (no condition at all), then art. 42 (presumed in hardship); nil when the means are tested.
    static func meansRelief(matter: AidMatter?, statuses: Set<AidStatus>, claim: MigrantWorkerClaim?) -> (MeansTest, [AidReason])? {
        let lifting = AidStatus.allCases.filter { statuses.contains($0) && $0.liftsMeansTest && $0.lifts(for: matter) }
        if !lifting.isEmpty {
            return (.notRequired, lifting.map { AidReason("法律援助法" + $0.article, "\($0.chineseName)，申请法律援助不受经济困难条件的限制") })
        }
        var exempting = AidStatus.allCases.filter { statuses.contains($0) && !$0.liftsMeansTest }
        // Art. 42 (3) exempts migrant workers only for a claim for pay or work-injury compensation.
        if exempting.contains(.migrantWorker), !migrantClaimExempts(matter, claim) {
            exempting.removeAll { $0 == .migrantWorker }
        }
        if !exempting.isEmpty {
            return (.exempt, exempting.map { s in
                let who = s == .migrantWorker ? "\(claim!.chineseName)的进城务工人员" : s.chineseName
                return AidReason("法律援助法" + s.article, "\(who)，有材料证明的，免予核查经济困难状况")
            })
        }
        return nil
    }

    /// The pre-check. `scope` is the city's active list of matters; `threshold` the applicant's county's.
    /// Household figures must be given whenever `needsMeans` says so.
    public static func eligibility(matterID: String, scope: [AidMatter], statuses: Set<AidStatus>, claim: MigrantWorkerClaim? = nil,
                                   threshold: HardshipThreshold?, householdSize: Int?, householdIncome: Fen?) -> AidEligibility {
        let matter = scope.first { $0.id == matterID }
        var reasons: [AidReason] = []
        let relief = meansRelief(matter: matter, statuses: statuses, claim: claim)
        if statuses.contains(.acquittedOnRetrial), !AidStatus.acquittedOnRetrial.lifts(for: matter) {
            reasons.append(AidReason("法律援助法第三十二条第（三）项", "再审改判无罪的，仅在请求国家赔偿时不受经济困难条件限制"))
        }
        if statuses.contains(.migrantWorker), !migrantClaimExempts(matter, claim) {
            reasons.append(AidReason("法律援助法第四十二条第（三）项", "进城务工人员仅在请求支付劳动报酬或者工伤事故人身损害赔偿时免予核查经济困难状况"))
        }
        let inScope: Bool
        if let matter {
            inScope = true
            reasons.insert(AidReason(matter.basis, "“\(matter.name)”属于法律援助事项范围"), at: 0)
        } else if let relief, relief.0 == .notRequired {
            // The cases of art. 32 are themselves matters for legal aid, whatever list they fall outside.
            inScope = true
        } else {
            inScope = false
            reasons.insert(AidReason("法律援助法第三十一条", "所申请事项不属于法律援助事项范围，可通过法律咨询、人民调解等途径解决"), at: 0)
        }
        if let relief {
            return AidEligibility(eligible: inScope, meansTest: relief.0, threshold: threshold?.perHead, reasons: reasons + relief.1)
        }
        guard let threshold, let size = householdSize, size > 0, let income = householdIncome else {
            // The caller validates the figures; reaching here without them is a failed test, never a pass.
            return AidEligibility(eligible: false, meansTest: .failed, threshold: threshold?.perHead,
                                  reasons: reasons + [AidReason("法律援助法第三十四条", "缺少家庭人口或收入，无法认定经济困难状况")])
        }
        let perHead = threshold.perHead
        let passed = threshold.covers(householdIncome: income, householdSize: size)
        let text = "家庭月人均收入 \(Money.yuan(Fen((Double(income) / Double(size)).rounded()))) 元，"
            + (passed ? "不高于" : "高于") + "经济困难标准 \(Money.yuan(perHead)) 元（最低生活保障标准 \(Money.yuan(threshold.minimumLivingAllowance)) 元的 \(Money.multiple(threshold.multiple)) 倍）"
        reasons.append(AidReason("法律援助法第三十四条", text))
        return AidEligibility(eligible: inScope && passed, meansTest: passed ? .passed : .failed, threshold: perHead, reasons: reasons)
    }
}

public enum Money {
    /// "1,560.00" without grouping: "1560.00"; whole yuan print without decimals.
    public static func yuan(_ fen: Fen) -> String {
        let sign = fen < 0 ? "-" : ""
        let v = abs(fen)
        return v % 100 == 0 ? "\(sign)\(v / 100)" : "\(sign)\(v / 100).\(CivilDate.pad(v % 100, 2))"
    }

    public static func multiple(_ m: Double) -> String {
        m == m.rounded() ? String(Int(m)) : String(m)
    }

    public static func toYuan(_ fen: Fen) -> Double { Double(fen) / 100 }
}

/// Art. 44: aid given before the review is finished.
public enum ProvisionalGround: String, ChineseNamed, Codable {
    case limitationNear = "limitation_near"
    case urgentMeasures = "urgent_measures"
    case other

    public var chineseName: String {
        switch self {
        case .limitationNear: "距法定时效或者期限届满不足七日，需要及时提起诉讼或者申请仲裁、行政复议"
        case .urgentMeasures: "需要立即申请财产保全、证据保全或者先予执行"
        case .other: "法律、法规、规章规定的其他情形"
        }
    }
    public var article: String {
        switch self {
        case .limitationNear: "法律援助法第四十四条第（一）项"
        case .urgentMeasures: "法律援助法第四十四条第（二）项"
        case .other: "法律援助法第四十四条第（三）项"
        }
    }
}

/// Art. 48: grounds on which the centre ends the aid.
public enum TerminationGround: String, ChineseNamed, Codable {
    case obtainedByDeception = "obtained_by_deception"
    case concealedFacts = "concealed_facts"
    case unlawfulUse = "unlawful_use"
    case meansChanged = "means_changed"
    case caseEnded = "case_ended"
    case ownCounsel = "own_counsel"
    case recipientRequest = "recipient_request"
    case other

    public var chineseName: String {
        switch self {
        case .obtainedByDeception: "受援人以欺骗或者其他不正当手段获得法律援助"
        case .concealedFacts: "受援人故意隐瞒与案件有关的重要事实或者提供虚假证据"
        case .unlawfulUse: "受援人利用法律援助从事违法活动"
        case .meansChanged: "受援人的经济状况发生变化，不再符合法律援助条件"
        case .caseEnded: "案件终止审理或者已经被撤销"
        case .ownCounsel: "受援人自行委托律师或者其他代理人"
        case .recipientRequest: "受援人有正当理由要求终止法律援助"
        case .other: "法律法规规定的其他情形"
        }
    }
    public var article: String {
        let items = ["一", "二", "三", "四", "五", "六", "七", "八"]
        return "法律援助法第四十八条第（\(items[Self.allCases.firstIndex(of: self)!])）项"
    }
}

/// Art. 25: why a court, procuratorate or public security organ must notify the centre.
public enum NotifiedDefenceReason: String, ChineseNamed, Codable {
    case minor
    case sensoryDisability = "sensory_disability"
    case diminishedCapacity = "diminished_capacity"
    case lifeOrDeath = "life_or_death"
    case deathPenaltyReview = "death_penalty_review"
    case trialInAbsentia = "trial_in_absentia"
    case other

    public var chineseName: String {
        switch self {
        case .minor: "未成年人"
        case .sensoryDisability: "视力、听力、言语残疾人"
        case .diminishedCapacity: "不能完全辨认自己行为的成年人"
        case .lifeOrDeath: "可能被判处无期徒刑、死刑的人"
        case .deathPenaltyReview: "申请法律援助的死刑复核案件被告人"
        case .trialInAbsentia: "缺席审判案件的被告人"
        case .other: "法律法规规定的其他人员"
        }
    }
    public var article: String {
        let items = ["一", "二", "三", "四", "五", "六", "七"]
        return "法律援助法第二十五条第一款第（\(items[Self.allCases.firstIndex(of: self)!])）项"
    }

    /// Art. 26: these defendants get a lawyer with at least three years of relevant practice.
    public var requiresSeniorLawyer: Bool { self == .lifeOrDeath || self == .deathPenaltyReview }

    public var priorityGroup: PriorityGroup? {
        switch self {
        case .minor: .minor
        case .sensoryDisability, .diminishedCapacity: .disabled
        default: nil
        }
    }
}

public enum NotifyingOrgan: String, ChineseNamed, Codable {
    case court, procuratorate
    case publicSecurity = "public_security"
    public var chineseName: String {
        switch self {
        case .court: "人民法院"
        case .procuratorate: "人民检察院"
        case .publicSecurity: "公安机关"
        }
    }
}

/// The kinds of legal aid case and their stages: the keys of the case subsidy table.
public enum AidCaseKind: String, ChineseNamed, Codable {
    case civil, administrative, criminal
    public var chineseName: String {
        switch self {
        case .civil: "民事"
        case .administrative: "行政"
        case .criminal: "刑事"
        }
    }
    public var stages: [AidStage] {
        switch self {
        case .civil: [.nonLitigation, .arbitration, .firstInstance, .secondInstance, .retrial]
        case .administrative: [.nonLitigation, .firstInstance, .secondInstance, .retrial]
        case .criminal: [.investigation, .prosecution, .firstInstance, .secondInstance, .deathPenaltyReview, .retrial]
        }
    }
}

public enum AidStage: String, ChineseNamed, Codable {
    case nonLitigation = "non_litigation"
    case arbitration
    case investigation, prosecution
    case firstInstance = "first_instance"
    case secondInstance = "second_instance"
    case retrial
    case deathPenaltyReview = "death_penalty_review"
    public var chineseName: String {
        switch self {
        case .nonLitigation: "非诉讼"
        case .arbitration: "仲裁"
        case .investigation: "侦查阶段"
        case .prosecution: "审查起诉阶段"
        case .firstInstance: "一审"
        case .secondInstance: "二审"
        case .retrial: "再审"
        case .deathPenaltyReview: "死刑复核"
        }
    }
}

/// 办案补贴: the rate for the case's kind and the stage it reached; a terminated case is paid for
/// the work done, half the rate (the usual rule of the provinces' subsidy measures).
public struct SubsidyRate: Equatable, Sendable, Codable {
    public var kind: AidCaseKind
    public var stage: AidStage
    public var amount: Fen
    public init(kind: AidCaseKind, stage: AidStage, amount: Fen) {
        self.kind = kind
        self.stage = stage
        self.amount = amount
    }

    public static let defaults: [SubsidyRate] = {
        let yuan: [(AidCaseKind, AidStage, Int)] = [
            (.civil, .nonLitigation, 800), (.civil, .arbitration, 1500), (.civil, .firstInstance, 2000),
            (.civil, .secondInstance, 1500), (.civil, .retrial, 1500),
            (.administrative, .nonLitigation, 800), (.administrative, .firstInstance, 2200),
            (.administrative, .secondInstance, 1600), (.administrative, .retrial, 1600),
            (.criminal, .investigation, 1000), (.criminal, .prosecution, 1000), (.criminal, .firstInstance, 2000),
            (.criminal, .secondInstance, 1500), (.criminal, .deathPenaltyReview, 3000), (.criminal, .retrial, 1500),
        ]
        return yuan.map { SubsidyRate(kind: $0.0, stage: $0.1, amount: $0.2 * 100) }
    }()

    public static func subsidy(kind: AidCaseKind, stage: AidStage, terminated: Bool, rates: [SubsidyRate]) -> Fen? {
        guard let rate = rates.first(where: { $0.kind == kind && $0.stage == stage }) else { return nil }
        return terminated ? rate.amount / 2 : rate.amount
    }
}

/// The time limits of legal aid, each an editable deadline rule.
public enum AidDeadline: String, ChineseNamed, Codable {
    /// Art. 43: decide within 7 days of receiving the application.
    case decision
    /// Art. 43: designate within 3 days of the decision to grant.
    case designation
    /// Art. 36: designate within 3 days of receiving a notice from a court, procuratorate or public security organ.
    case notifiedDesignation = "notified_designation"
    /// Art. 49: the justice bureau reviews an objection within 5 days.
    case objectionReview = "objection_review"

    public var chineseName: String {
        switch self {
        case .decision: "审查决定（第四十三条）"
        case .designation: "决定给予后指派（第四十三条）"
        case .notifiedDesignation: "收到通知辩护后指派（第三十六条）"
        case .objectionReview: "司法行政部门审查异议（第四十九条）"
        }
    }

    /// The law counts days; a last day on a rest day moves to the next working day.
    public var defaultRule: DeadlineRule {
        switch self {
        case .decision: DeadlineRule(days: 7, unit: .calendarDays)
        case .designation, .notifiedDesignation: DeadlineRule(days: 3, unit: .calendarDays)
        case .objectionReview: DeadlineRule(days: 5, unit: .calendarDays)
        }
    }
}

/// Art. 26: relevant practice of at least three full years by `today`.
public enum Seniority {
    public static let seniorYears = 3

    public static func years(since start: CivilDate, on today: CivilDate) -> Int {
        var years = today.year - start.year
        if (today.month, today.day) < (start.month, start.day) { years -= 1 }
        return max(0, years)
    }

    /// The latest start of practice that is senior on `today` (29 February falls back to the 28th).
    public static func latestSeniorStart(on today: CivilDate) -> CivilDate {
        var day = today.day
        while true {
            let s = CivilDate.pad(today.year - seniorYears, 4) + "-" + CivilDate.pad(today.month, 2) + "-" + CivilDate.pad(day, 2)
            if let d = CivilDate(s) { return d }
            day -= 1
        }
    }

    public static func isSenior(since start: CivilDate?, on today: CivilDate) -> Bool {
        guard let start else { return false }
        return years(since: start, on: today) >= seniorYears
    }
}

/// 值班律师法律帮助 (art. 30; plea leniency under 刑事诉讼法 art. 174).
public enum DutyAssistanceKind: String, ChineseNamed, Codable {
    case consultation
    case procedureAdvice = "procedure_advice"
    case compulsoryMeasureChange = "compulsory_measure_change"
    case caseOpinion = "case_opinion"
    case pleaSigning = "plea_signing"
    public var chineseName: String {
        switch self {
        case .consultation: "法律咨询"
        case .procedureAdvice: "程序选择建议"
        case .compulsoryMeasureChange: "申请变更强制措施"
        case .caseOpinion: "对案件处理提出意见"
        case .pleaSigning: "认罪认罚具结书签署在场"
        }
    }
}

public enum DutyStationKind: String, ChineseNamed, Codable {
    case court, procuratorate
    case detentionCentre = "detention_centre"
    public var chineseName: String {
        switch self {
        case .court: "人民法院"
        case .procuratorate: "人民检察院"
        case .detentionCentre: "看守所"
        }
    }
}
