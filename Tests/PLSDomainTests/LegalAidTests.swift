import Testing
import Foundation
@testable import PLSDomain

/// The eligibility rules of the Legal Aid Law, one case per rule, each asserting outcome and reason.
@Suite("Legal aid eligibility (法律援助法 arts. 31, 32, 34, 42)")
struct LegalAidEligibilityTests {
    // A county whose minimum living allowance is 780 yuan: the threshold is 1,560 yuan a head.
    static let threshold = HardshipThreshold(minimumLivingAllowance: 78_000, multiple: 2.0)
    static let scope = AidMatter.defaults

    func check(_ matter: String, _ statuses: Set<AidStatus> = [], claim: MigrantWorkerClaim? = nil, size: Int? = 3,
               income: Double? = 3000) -> AidEligibility {
        LegalAidRules.eligibility(matterID: matter, scope: Self.scope, statuses: statuses, claim: claim, threshold: Self.threshold,
                                  householdSize: size, householdIncome: income.flatMap(Fen.fromYuan))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var matter: String
        var statuses: Set<AidStatus>
        /// A migrant worker's claim (art. 42 (3)), when one is stated.
        var claim: MigrantWorkerClaim? = nil
        var size: Int?
        var income: Double?
        var eligible: Bool
        var means: MeansTest
        /// The article the deciding reason cites.
        var article: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Art. 31 with art. 34: a household of 3 at 1,560 a head is within; a fen more is not.
        Case(name: "wages claim, income exactly at the threshold", matter: "labor_relationship_or_pay", statuses: [], size: 3, income: 4680,
             eligible: true, means: .passed, article: "法律援助法第三十四条"),
        Case(name: "wages claim, one fen over the threshold", matter: "labor_relationship_or_pay", statuses: [], size: 3, income: 4680.01,
             eligible: false, means: .failed, article: "法律援助法第三十四条"),
        Case(name: "support payment, one-person household well below", matter: "support_payment", statuses: [], size: 1, income: 900,
             eligible: true, means: .passed, article: "法律援助法第三十四条"),
        Case(name: "state compensation, no income", matter: "state_compensation", statuses: [], size: 4, income: 0,
             eligible: true, means: .passed, article: "法律援助法第三十四条"),
        Case(name: "traffic accident injury, well-off household", matter: "personal_injury", statuses: [], size: 2, income: 12000,
             eligible: false, means: .failed, article: "法律援助法第三十四条"),
        // The plan's additions to the scope.
        Case(name: "marriage and family (the city's addition)", matter: "marriage_family", statuses: [], size: 2, income: 2000,
             eligible: true, means: .passed, article: "法律援助法第三十四条"),
        // Outside the scope: not an error, a reasoned no.
        Case(name: "a contract debt is outside art. 31", matter: "contract_debt", statuses: [], size: 2, income: 100,
             eligible: false, means: .passed, article: "法律援助法第三十一条"),
        // Art. 32: no economic-hardship condition at all.
        Case(name: "domestic violence victim, high income", matter: "marriage_family", statuses: [.abuseVictim], size: 1, income: 20000,
             eligible: true, means: .notRequired, article: "法律援助法第三十二条第（四）项"),
        Case(name: "good samaritan claiming civil rights", matter: "personal_injury", statuses: [.goodSamaritan], size: nil, income: nil,
             eligible: true, means: .notRequired, article: "法律援助法第三十二条第（二）项"),
        Case(name: "acquitted on retrial claiming compensation", matter: "state_compensation", statuses: [.acquittedOnRetrial], size: nil, income: nil,
             eligible: true, means: .notRequired, article: "法律援助法第三十二条第（三）项"),
        Case(name: "a martyr's close relative, matter outside the list", matter: "hero_reputation", statuses: [.heroesMartyrsRelative],
             size: nil, income: nil, eligible: true, means: .notRequired, article: "法律援助法第三十二条第（一）项"),
        Case(name: "acquitted on retrial, but a support claim: the means are tested", matter: "support_payment", statuses: [.acquittedOnRetrial],
             size: 2, income: 9000, eligible: false, means: .failed, article: "法律援助法第三十二条第（三）项"),
        // Art. 42: the means are not checked, on proof of status.
        Case(name: "elderly person without fixed income", matter: "support_payment", statuses: [.elderlyWithoutIncome], size: nil, income: nil,
             eligible: true, means: .exempt, article: "法律援助法第四十二条第（一）项"),
        Case(name: "minor without income", matter: "support_payment", statuses: [.minorWithoutIncome], size: nil, income: nil,
             eligible: true, means: .exempt, article: "法律援助法第四十二条第（一）项"),
        Case(name: "disabled person without income", matter: "personal_injury", statuses: [.disabledWithoutIncome], size: nil, income: nil,
             eligible: true, means: .exempt, article: "法律援助法第四十二条第（一）项"),
        Case(name: "social assistance recipient", matter: "social_insurance_or_assistance", statuses: [.socialAssistanceRecipient],
             size: nil, income: nil, eligible: true, means: .exempt, article: "法律援助法第四十二条第（二）项"),
        Case(name: "judicial assistance recipient", matter: "personal_injury", statuses: [.judicialAssistanceRecipient],
             size: nil, income: nil, eligible: true, means: .exempt, article: "法律援助法第四十二条第（二）项"),
        Case(name: "special care recipient", matter: "survivor_pension", statuses: [.specialCareRecipient], size: nil, income: nil,
             eligible: true, means: .exempt, article: "法律援助法第四十二条第（二）项"),
        // Art. 42 (3): "申请支付劳动报酬或者请求工伤事故人身损害赔偿的进城务工人员" — the claim, not the matter.
        Case(name: "migrant worker claiming wages", matter: "labor_relationship_or_pay", statuses: [.migrantWorker], claim: .laborPay,
             size: nil, income: nil, eligible: true, means: .exempt, article: "法律援助法第四十二条第（三）项"),
        Case(name: "migrant worker claiming work-injury compensation", matter: "personal_injury", statuses: [.migrantWorker], claim: .workInjury,
             size: nil, income: nil, eligible: true, means: .exempt, article: "法律援助法第四十二条第（三）项"),
        Case(name: "migrant worker's traffic-accident claim is means-tested", matter: "personal_injury", statuses: [.migrantWorker],
             size: 2, income: 12000, eligible: false, means: .failed, article: "法律援助法第三十四条"),
        Case(name: "migrant worker confirming a labour relationship is means-tested", matter: "labor_relationship_or_pay",
             statuses: [.migrantWorker], size: 3, income: 3000, eligible: true, means: .passed, article: "法律援助法第三十四条"),
        Case(name: "a work-injury claim does not widen the wages matter", matter: "labor_relationship_or_pay", statuses: [.migrantWorker],
             claim: .workInjury, size: 2, income: 12000, eligible: false, means: .failed, article: "法律援助法第四十二条第（三）项"),
        Case(name: "the city's labour-security matter carries both claims", matter: "labor_social_security", statuses: [.migrantWorker],
             claim: .workInjury, size: nil, income: nil, eligible: true, means: .exempt, article: "法律援助法第四十二条第（三）项"),
        Case(name: "a claim without the migrant-worker status exempts nobody", matter: "labor_relationship_or_pay", statuses: [],
             claim: .laborPay, size: 2, income: 12000, eligible: false, means: .failed, article: "法律援助法第三十四条"),
        // A migrant worker in a family dispute is tested like anyone else.
        Case(name: "migrant worker in a support dispute, over the threshold", matter: "support_payment", statuses: [.migrantWorker],
             size: 2, income: 5000, eligible: false, means: .failed, article: "法律援助法第三十四条"),
        // An exemption does not widen the scope.
        Case(name: "elderly person with a matter outside the scope", matter: "contract_debt", statuses: [.elderlyWithoutIncome],
             size: nil, income: nil, eligible: false, means: .exempt, article: "法律援助法第三十一条"),
    ]

    @Test("each rule decides its case", arguments: cases)
    func decides(_ c: Case) {
        let e = check(c.matter, c.statuses, claim: c.claim, size: c.size, income: c.income)
        #expect(e.eligible == c.eligible)
        #expect(e.meansTest == c.means)
        #expect(e.reasons.contains { $0.article == c.article }, "reasons: \(e.reasons)")
        #expect(e.threshold == 156_000)
    }

    @Test("art. 32 comes before art. 42, and both before the means")
    func order() {
        let both = check("support_payment", [.abuseVictim, .elderlyWithoutIncome], size: nil, income: nil)
        #expect(both.meansTest == .notRequired)
        #expect(!LegalAidRules.needsMeans(matter: Self.scope[3], statuses: [.elderlyWithoutIncome]))
        #expect(LegalAidRules.needsMeans(matter: Self.scope[3], statuses: [.migrantWorker]))
        #expect(LegalAidRules.needsMeans(matter: Self.scope[4], statuses: [.migrantWorker]), "no claim stated")
        #expect(!LegalAidRules.needsMeans(matter: Self.scope[4], statuses: [.migrantWorker], claim: .laborPay))
        #expect(LegalAidRules.needsMeans(matter: Self.scope[6], statuses: [.migrantWorker], claim: .laborPay), "not a claim of personal injury")
        #expect(!LegalAidRules.needsMeans(matter: Self.scope[6], statuses: [.migrantWorker], claim: .workInjury))
    }

    @Test("the threshold: allowance times the multiple, compared without rounding")
    func threshold() {
        #expect(HardshipThreshold(minimumLivingAllowance: 78_050, multiple: 2.5).perHead == 195_125)
        let t = HardshipThreshold(minimumLivingAllowance: 70_000)
        #expect(t.multiple == 2.0)
        #expect(t.covers(householdIncome: 420_000, householdSize: 3))
        #expect(!t.covers(householdIncome: 420_001, householdSize: 3))
        #expect(Fen.fromYuan(4680.01) == 468_001)
        #expect(Fen.fromYuan(-1) == nil)
        #expect(Money.yuan(156_000) == "1560")
        #expect(Money.yuan(195_125) == "1951.25")
    }

    @Test("a matter taken out of the city's scope is outside it")
    func editableScope() {
        let narrowed = Self.scope.filter { $0.id != "marriage_family" }
        let e = LegalAidRules.eligibility(matterID: "marriage_family", scope: narrowed, statuses: [], threshold: Self.threshold,
                                          householdSize: 1, householdIncome: 0)
        #expect(!e.eligible)
        #expect(e.reasons.first?.article == "法律援助法第三十一条")
    }
}

@Suite("Legal aid deadlines, designation and subsidies")
struct LegalAidProcedureTests {
    let calendar = DeadlineTests.calendar
    func d(_ s: String) -> CivilDate { CivilDate(s)! }

    @Test("art. 43: seven days to decide; a last day in a holiday moves to the next working day", arguments: [
        ("2026-11-23", "2026-11-30"),   // Monday → the next Monday
        ("2026-11-20", "2026-11-27"),   // Friday → Friday
        ("2026-09-24", "2026-10-08"),   // 1 Oct falls in National Day week: the 8th
        ("2026-02-10", "2026-02-24"),   // 17 Feb is the Spring Festival: 24th, first working day after it
        ("2026-04-29", "2026-05-06"),   // Labour Day holiday ends on the 5th
    ])
    func decision(received: String, due: String) {
        #expect(AidDeadline.decision.defaultRule.due(from: d(received), on: calendar) == d(due))
    }

    @Test("art. 36 and 43: three days to designate", arguments: [
        ("2026-11-26", "2026-11-30"),   // Thursday + 3 = Sunday → Monday
        ("2026-09-28", "2026-10-08"),   // 1 Oct → after the holiday
        ("2026-11-24", "2026-11-27"),
    ])
    func designation(decided: String, due: String) {
        #expect(AidDeadline.designation.defaultRule.due(from: d(decided), on: calendar) == d(due))
        #expect(AidDeadline.notifiedDesignation.defaultRule.due(from: d(decided), on: calendar) == d(due))
    }

    @Test("art. 43: time waiting for missing material is not counted")
    func pause() {
        let rule = AidDeadline.decision.defaultRule
        // Received Monday 2 Nov, material asked for on the 4th and brought on the 11th: seven days stood still.
        let paused = DeadlineRule.Pause.between(d("2026-11-04"), d("2026-11-11"), on: calendar)
        #expect(paused.calendarDays == 7)
        #expect(paused.workingDays == 5)
        #expect(rule.due(from: d("2026-11-02"), paused: paused, on: calendar) == d("2026-11-16"))
        let working = DeadlineRule(days: 7, unit: .workingDays)
        #expect(working.due(from: d("2026-11-02"), paused: paused, on: calendar) == d("2026-11-18"))
        #expect(rule.due(from: d("2026-11-02"), paused: .init(), on: calendar) == rule.due(from: d("2026-11-02"), on: calendar))
    }

    @Test("art. 26: three full years of practice for a possible life or death sentence")
    func seniority() {
        #expect(NotifiedDefenceReason.lifeOrDeath.requiresSeniorLawyer)
        #expect(NotifiedDefenceReason.deathPenaltyReview.requiresSeniorLawyer)
        #expect(!NotifiedDefenceReason.minor.requiresSeniorLawyer)
        #expect(Seniority.isSenior(since: d("2023-11-29"), on: d("2026-11-29")))
        #expect(!Seniority.isSenior(since: d("2023-11-30"), on: d("2026-11-29")))
        #expect(!Seniority.isSenior(since: nil, on: d("2026-11-29")))
        #expect(Seniority.years(since: d("2024-02-29"), on: d("2026-02-28")) == 1)
        for today in ["2026-11-29", "2028-02-29", "2026-03-31", "2027-03-01"] {
            let latest = Seniority.latestSeniorStart(on: d(today))
            #expect(Seniority.isSenior(since: latest, on: d(today)), "\(today)")
            #expect(!Seniority.isSenior(since: latest.adding(days: 1), on: d(today)), "\(today)")
        }
    }

    @Test("articles are named as the law numbers them")
    func articles() {
        #expect(NotifiedDefenceReason.trialInAbsentia.article == "法律援助法第二十五条第一款第（六）项")
        #expect(TerminationGround.ownCounsel.article == "法律援助法第四十八条第（六）项")
        #expect(TerminationGround.allCases.count == 8)
        #expect(AidStatus.migrantWorker.article == "第四十二条第（三）项")
    }

    @Test("subsidy by kind and stage; a terminated case is paid half")
    func subsidy() {
        let rates = SubsidyRate.defaults
        #expect(SubsidyRate.subsidy(kind: .civil, stage: .firstInstance, terminated: false, rates: rates) == 200_000)
        #expect(SubsidyRate.subsidy(kind: .criminal, stage: .deathPenaltyReview, terminated: true, rates: rates) == 150_000)
        #expect(SubsidyRate.subsidy(kind: .civil, stage: .investigation, terminated: false, rates: rates) == nil)
        for kind in AidCaseKind.allCases {
            for stage in kind.stages { #expect(SubsidyRate.subsidy(kind: kind, stage: stage, terminated: false, rates: rates) != nil) }
        }
    }
}
