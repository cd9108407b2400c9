import Vapor
import Fluent
import PLSDomain

/// 法律援助案件: the legal aid detail of one `legal_aid` service request. The request keeps the lifecycle
/// (received → decided → designated → in progress → closed); this row keeps what the law adds to it.
final class LegalAidCase: Model, @unchecked Sendable {
    static let schema = "legal_aid_cases"

    @ID(custom: "request_id", generatedBy: .user) var id: UUID?
    @Field(key: "kind") var kind: String
    @OptionalField(key: "centre_id") var centreID: UUID?
    @OptionalField(key: "aid_matter") var aidMatter: String?
    @OptionalField(key: "household_size") var householdSize: Int?
    @OptionalField(key: "household_income") var householdIncome: Int?
    @Field(key: "statuses") var statusesText: String
    /// A migrant worker's claim under art. 42 (3) (`MigrantWorkerClaim`), as applied for; nil when none was stated.
    @OptionalField(key: "migrant_worker_claim") var migrantWorkerClaim: String?
    @OptionalField(key: "means_test") var meansTest: String?
    @OptionalField(key: "threshold") var threshold: Int?
    @OptionalField(key: "eligible_at_intake") var eligibleAtIntake: Bool?
    /// Art. 41: the applicant's written statement of their means.
    @Field(key: "pledge") var pledge: Bool
    @Field(key: "received_on") var receivedOn: String
    @Field(key: "paused_calendar_days") var pausedCalendarDays: Int
    @Field(key: "paused_working_days") var pausedWorkingDays: Int
    @OptionalField(key: "materials_requested_on") var materialsRequestedOn: String?
    @OptionalField(key: "missing_materials") var missingMaterials: String?
    @OptionalField(key: "decision") var decision: String?
    @OptionalField(key: "decided_on") var decidedOn: String?
    @OptionalField(key: "decision_reason") var decisionReason: String?
    @OptionalField(key: "provisional_ground") var provisionalGround: String?
    @OptionalField(key: "designation_due") var designationDue: String?
    /// Set when an upheld complaint orders another designee (art. 56); cleared by the replacement.
    @OptionalField(key: "replacement_due") var replacementDue: String?
    @OptionalField(key: "designated_on") var designatedOn: String?
    @OptionalField(key: "designee_type") var designeeType: String?
    @OptionalField(key: "objection_on") var objectionOn: String?
    @OptionalField(key: "objection_text") var objectionText: String?
    @OptionalField(key: "review_due") var reviewDue: String?
    @OptionalField(key: "review_result") var reviewResult: String?
    @OptionalField(key: "review_reason") var reviewReason: String?
    @OptionalField(key: "reviewed_on") var reviewedOn: String?
    @OptionalField(key: "termination_ground") var terminationGround: String?
    @OptionalField(key: "stage") var stage: String?
    @OptionalField(key: "closing_report") var closingReport: String?
    @OptionalField(key: "closed_on") var closedOn: String?
    @OptionalField(key: "subsidy") var subsidy: Int?
    @OptionalField(key: "notifying_organ") var notifyingOrgan: String?
    @OptionalField(key: "organ_name") var organName: String?
    @OptionalField(key: "letter_number") var letterNumber: String?
    @OptionalField(key: "charge") var charge: String?
    @OptionalField(key: "detention_place") var detentionPlace: String?
    @OptionalField(key: "notice_reason") var noticeReason: String?
    /// The notifying organ's case officer, for the letter back: encrypted, shown masked.
    @OptionalField(key: "contact_cipher") var contactCipher: String?
    @OptionalField(key: "contact_masked") var contactMasked: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(requestID: UUID, kind: AidCaseKind, receivedOn: CivilDate, now: Date) {
        id = requestID
        self.kind = kind.rawValue
        statusesText = ""
        pledge = false
        self.receivedOn = receivedOn.description
        pausedCalendarDays = 0
        pausedWorkingDays = 0
        createdAt = now
    }

    var caseKind: AidCaseKind { AidCaseKind(rawValue: kind) ?? .civil }
    var statuses: [AidStatus] { DelimitedList.decode(statusesText).compactMap(AidStatus.init) }
    var pause: DeadlineRule.Pause { .init(calendarDays: pausedCalendarDays, workingDays: pausedWorkingDays) }
    var reason: NotifiedDefenceReason? { noticeReason.flatMap(NotifiedDefenceReason.init) }
    /// A notified defence (art. 25, 36): no application, no means test, a lawyer within 3 days.
    var isNotified: Bool { notifyingOrgan != nil }
}
