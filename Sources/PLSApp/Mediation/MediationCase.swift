import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 调解案件: the mediation detail of one `mediation` service request.
final class MediationCase: Model, @unchecked Sendable {
    static let schema = "mediation_cases"

    @ID(custom: "request_id", generatedBy: .user) var id: UUID?
    @OptionalField(key: "committee_id") var committeeID: UUID?
    @Field(key: "source") var source: String
    @OptionalField(key: "listening_point_id") var listeningPointID: UUID?
    @OptionalField(key: "amount") var amount: Int?
    @Field(key: "people_involved") var peopleInvolved: Int
    @Field(key: "mass") var mass: Bool
    /// Art. 17: `pending`, `given` or `refused`.
    @Field(key: "consent") var consent: String
    @OptionalField(key: "advice") var advice: String?
    @OptionalField(key: "outcome") var outcome: String?
    @OptionalField(key: "closed_on") var closedOn: String?
    @OptionalField(key: "agreement_form") var agreementForm: String?
    @OptionalField(key: "agreement_facts") var agreementFacts: String?
    @OptionalField(key: "agreement_terms") var agreementTerms: String?
    @OptionalField(key: "agreement_effective_on") var agreementEffectiveOn: String?
    @OptionalField(key: "confirmation_due") var confirmationDue: String?
    @OptionalField(key: "confirmation_applied_on") var confirmationAppliedOn: String?
    @OptionalField(key: "court_name") var courtName: String?
    @OptionalField(key: "court_decision") var courtDecision: String?
    @OptionalField(key: "court_decided_on") var courtDecidedOn: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// The thresholds the city sets for mediation: what makes a dispute a mass one, and a hotspot.
enum MediationSettings {
    static let defaults: [(String, Double)] = [
        ("mass_people", 10), ("mass_amount_yuan", 500_000), ("hotspot_multiple", 2), ("hotspot_minimum", 3),
    ]

    static func all(on db: any SQLDatabase) async throws -> [String: Double] {
        struct R: Decodable { var key: String; var value: Double }
        var result = Dictionary(uniqueKeysWithValues: defaults)
        for r in try await db.select().columns("key", "value").from("mediation_settings").all(decoding: R.self) { result[r.key] = r.value }
        return result
    }
}
