import Foundation
import Fluent
import SQLKit

extension MediationCase {
    /// The case of a request read with SQLKit, column by column: every view of a mediation request reads it,
    /// and Fluent's reflection over its twenty-one fields was a fifth of that page's work. Saveable with Fluent
    /// as one it had read itself; a test compares it with Fluent's read field by field.
    static func read(_ requestID: UUID, on db: any SQLDatabase) async throws -> MediationCase? {
        guard let row = try await db.raw("SELECT * FROM mediation_cases WHERE request_id = \(bind: requestID)").first() else { return nil }
        let c = MediationCase()
        c.id = try row.decode(column: "request_id", as: UUID.self)
        c.committeeID = try row.decode(column: "committee_id", as: UUID?.self)
        c.source = try row.decode(column: "source", as: String.self)
        c.listeningPointID = try row.decode(column: "listening_point_id", as: UUID?.self)
        c.amount = try row.decode(column: "amount", as: Int?.self)
        c.peopleInvolved = try row.decode(column: "people_involved", as: Int.self)
        c.mass = try row.decode(column: "mass", as: Bool.self)
        c.consent = try row.decode(column: "consent", as: String.self)
        c.advice = try row.decode(column: "advice", as: String?.self)
        c.outcome = try row.decode(column: "outcome", as: String?.self)
        c.closedOn = try row.decode(column: "closed_on", as: String?.self)
        c.agreementForm = try row.decode(column: "agreement_form", as: String?.self)
        c.agreementFacts = try row.decode(column: "agreement_facts", as: String?.self)
        c.agreementTerms = try row.decode(column: "agreement_terms", as: String?.self)
        c.agreementEffectiveOn = try row.decode(column: "agreement_effective_on", as: String?.self)
        c.confirmationDue = try row.decode(column: "confirmation_due", as: String?.self)
        c.confirmationAppliedOn = try row.decode(column: "confirmation_applied_on", as: String?.self)
        c.courtName = try row.decode(column: "court_name", as: String?.self)
        c.courtDecision = try row.decode(column: "court_decision", as: String?.self)
        c.courtDecidedOn = try row.decode(column: "court_decided_on", as: String?.self)
        c.createdAt = try row.decode(column: "created_at", as: Date.self)
        c.$id.exists = true
        return c
    }
}
