import Vapor
import Fluent
import SQLKit
import PLSDomain

extension LegalAidCases {
    /// What a legal aid case shows beside its request: the means, the clock, the decision, the designation,
    /// the objection and the closing, named in Chinese, money in yuan.
    struct View: Content {
        var kind: String
        var kindName: String
        var centreName: String?
        var matter: String?
        var matterName: String?
        var householdSize: Int?
        var householdMonthlyIncome: Double?
        var statuses: [String]
        var statusNames: [String]
        var meansTest: String?
        var meansTestName: String?
        var threshold: Double?
        var eligibleAtIntake: Bool?
        var pledge: Bool
        var receivedOn: String
        var decisionDue: String?
        var decisionOverdue: Bool
        var materialsPending: Bool
        var materialsRequestedOn: String?
        var missingMaterials: [String]
        var decision: String?
        var decisionName: String?
        var decidedOn: String?
        var decisionReason: String?
        var provisional: Bool
        var provisionalGroundName: String?
        var designationDue: String?
        var designatedOn: String?
        var designationOnTime: Bool?
        var designeeTypeName: String?
        /// A replacement of the designee ordered on an upheld complaint (art. 56), until made.
        var replacementDue: String?
        var objectionOn: String?
        var objectionText: String?
        var reviewDue: String?
        var reviewResult: String?
        var reviewResultName: String?
        var reviewReason: String?
        var terminationGroundName: String?
        var stage: String?
        var stageName: String?
        var closingReport: String?
        var closedOn: String?
        var subsidy: Double?
        var notified: Bool
        var organName: String?
        var organ: String?
        var letterNumber: String?
        var charge: String?
        var detentionPlace: String?
        var noticeReason: String?
        var noticeReasonName: String?
        var requiresSeniorLawyer: Bool
        /// The notifying organ's case officer, masked.
        var organContact: String?
        /// Money as pages print it: "1560", "1951.25".
        var thresholdText: String?
        var householdMonthlyIncomeText: String?
        var subsidyText: String?
        /// The legal aid steps the viewer may take now (`missing-materials`, `decision`, …).
        var steps: [String]
        /// The printable notices this case has.
        var notices: [String]
    }

    static func view(_ c: LegalAidCase, of r: ServiceRequest, for p: Principal?, today: CivilDate, protector: PersonalDataProtector,
                     on db: any SQLDatabase) async throws -> View {
        struct Names: Decodable { var centreName: String?; var matterName: String? }
        let names = try await db.raw("""
            SELECT (SELECT name FROM institutions WHERE id = \(bind: c.centreID)) AS centre_name,
                   (SELECT name FROM legal_aid_matters WHERE id = \(bind: c.aidMatter)) AS matter_name
            """).first(decoding: Names.self, keyDecodingStrategy: .snakeCase)
        let status = r.requestStatus
        let pending = c.materialsRequestedOn != nil
        let decisionDue = c.isNotified ? nil : r.acceptDue
        var notices: [String] = []
        if c.missingMaterials != nil { notices.append("materials") }
        if c.decision == "granted" && !c.isNotified { notices.append("grant") }
        if c.decision == "refused" { notices.append("refusal") }
        if c.designatedOn != nil { notices.append("designation") }
        let onTime = c.designatedOn.flatMap { d in c.designationDue.map { d <= $0 } }
        return View(
            kind: c.kind, kindName: c.caseKind.chineseName, centreName: names?.centreName, matter: c.aidMatter,
            matterName: names?.matterName ?? (c.aidMatter == "other" ? "其他事项" : nil),
            householdSize: c.householdSize, householdMonthlyIncome: c.householdIncome.map(Money.toYuan),
            statuses: c.statuses.map(\.rawValue),
            statusNames: c.statuses.map { s in
                // The claim that made (or did not make) the migrant worker exempt, beside the status.
                guard s == .migrantWorker, let claim = c.migrantWorkerClaim.flatMap(MigrantWorkerClaim.init) else { return s.chineseName }
                return "进城务工人员（\(claim.chineseName)）"
            },
            meansTest: c.meansTest, meansTestName: c.meansTest.flatMap(MeansTest.init)?.chineseName, threshold: c.threshold.map(Money.toYuan),
            eligibleAtIntake: c.eligibleAtIntake, pledge: c.pledge, receivedOn: c.receivedOn, decisionDue: decisionDue,
            decisionOverdue: status == .submitted && !pending && (decisionDue.flatMap(CivilDate.init).map { $0 < today } ?? false),
            materialsPending: pending, materialsRequestedOn: c.materialsRequestedOn,
            missingMaterials: (c.missingMaterials ?? "").split(separator: "\n").map(String.init),
            decision: c.decision, decisionName: c.decision.map { $0 == "granted" ? (c.isNotified ? "通知辩护，应当指派" : "给予法律援助") : "不予法律援助" },
            decidedOn: c.decidedOn, decisionReason: try protector.open(c.decisionReason), provisional: c.provisionalGround != nil,
            provisionalGroundName: c.provisionalGround.flatMap(ProvisionalGround.init)?.chineseName,
            designationDue: c.designationDue, designatedOn: c.designatedOn, designationOnTime: onTime,
            designeeTypeName: c.designeeType.flatMap(PractitionerType.init)?.chineseName, replacementDue: c.replacementDue,
            objectionOn: c.objectionOn, objectionText: try protector.open(c.objectionText), reviewDue: c.reviewDue, reviewResult: c.reviewResult,
            reviewResultName: c.reviewResult.map { $0 == "upheld" ? "维持原决定" : "责令改正" }, reviewReason: try protector.open(c.reviewReason),
            terminationGroundName: c.terminationGround.flatMap(TerminationGround.init)?.chineseName,
            stage: c.stage, stageName: c.stage.flatMap(AidStage.init)?.chineseName, closingReport: try protector.open(c.closingReport), closedOn: c.closedOn,
            subsidy: c.subsidy.map(Money.toYuan), notified: c.isNotified, organName: c.organName, organ: c.notifyingOrgan,
            letterNumber: c.letterNumber, charge: c.charge, detentionPlace: c.detentionPlace, noticeReason: c.noticeReason,
            noticeReasonName: c.reason?.chineseName, requiresSeniorLawyer: c.reason?.requiresSeniorLawyer ?? false,
            organContact: c.contactMasked,
            thresholdText: c.threshold.map(Money.yuan), householdMonthlyIncomeText: c.householdIncome.map(Money.yuan),
            subsidyText: c.subsidy.map(Money.yuan),
            steps: p.map { available(r, c, for: $0).map(\.rawValue) } ?? [], notices: notices)
    }

    /// Art. 53: a notary office or appraisal institution waives or reduces its fee for a legal aid recipient.
    struct FeeReduction: Content {
        var aidNumber: String
        var basis: String
    }

    static func feeReduction(for r: ServiceRequest, on db: any SQLDatabase) async throws -> FeeReduction? {
        guard [MatterType.notarization.rawValue, MatterType.judicialAppraisal.rawValue].contains(r.matterType) else { return nil }
        func granted(_ column: String, _ hash: String) async throws -> String? {
            try await db.raw("""
                SELECT r.number FROM service_requests r JOIN legal_aid_cases c ON c.request_id = r.id
                WHERE r.\(unsafeRaw: column) = \(bind: hash) AND r.matter_type = \(bind: MatterType.legalAid.rawValue)
                  AND c.decision = \(bind: "granted") AND r.status IN (\(binds: [RequestStatus.accepted, .assigned, .inProgress, .suspended].map(\.rawValue)))
                ORDER BY r.created_at DESC LIMIT 1
                """).first(decodingColumn: "number", as: String.self)
        }
        // Aid that is running now; by ID number first, the surer match.
        var number: String?
        if let id = r.applicantIDHash { number = try await granted("applicant_id_hash", id) }
        if number == nil, !r.applicantMobileHash.isEmpty { number = try await granted("applicant_mobile_hash", r.applicantMobileHash) }
        return number.map {
            FeeReduction(aidNumber: $0, basis: "受援人（法律援助案件 \($0)）：依法律援助法第五十三条，公证机构、司法鉴定机构应当免收或者减收公证费、鉴定费")
        }
    }
}
