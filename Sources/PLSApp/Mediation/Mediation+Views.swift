import Vapor
import Fluent
import SQLKit
import PLSDomain

extension MediationCases {
    struct Party: Content { var side: String; var sideName: String; var kind: String; var name: String; var mobile: String? }
    struct Session: Content { var heldOn: String; var mediatorName: String; var attendees: String; var record: String }
    struct Obligation: Content { var id: UUID; var description: String; var dueOn: String; var status: String; var statusName: String; var overdue: Bool }
    struct Visit: Content { var visitedOn: String; var status: String; var statusName: String; var note: String?; var byName: String }

    /// What a mediation case shows beside its request.
    struct View: Content {
        var source: String
        var sourceName: String
        var listeningPointName: String?
        var committeeName: String?
        var amount: Double?
        var amountText: String?
        var peopleInvolved: Int
        var mass: Bool
        var consent: String
        var consentName: String
        var advice: String?
        var parties: [Party]
        var sessions: [Session]
        var outcome: String?
        var outcomeName: String?
        var closedOn: String?
        var agreementForm: String?
        var agreementFormName: String?
        var agreementFacts: String?
        var agreementTerms: String?
        var agreementEffectiveOn: String?
        var obligations: [Obligation]
        /// The agreement as a whole: fulfilled only when every obligation is.
        var fulfilment: String?
        var fulfilmentName: String?
        var visits: [Visit]
        var confirmationDue: String?
        var confirmationOpen: Bool
        var confirmationAppliedOn: String?
        var courtName: String?
        var courtDecisionName: String?
        var courtDecidedOn: String?
        /// The steps the viewer may take now (`consent`, `session`, …).
        var steps: [String]
        var printable: Bool
    }

    static func view(_ c: MediationCase, of r: ServiceRequest, for p: Principal?, today: CivilDate, protector: PersonalDataProtector,
                     on db: any SQLDatabase) async throws -> View {
        let id = r.id!
        struct Names: Decodable { var committeeName: String?; var pointName: String? }
        let names = try await db.raw("""
            SELECT (SELECT name FROM institutions WHERE id = \(bind: c.committeeID)) AS committee_name,
                   (SELECT name FROM listening_points WHERE id = \(bind: c.listeningPointID)) AS point_name
            """).first(decoding: Names.self, keyDecodingStrategy: .snakeCase)
        struct P: Decodable { var side: String; var kind: String; var name: String; var mobileMasked: String? }
        let parties = try await db.raw("""
            SELECT side, kind, name, mobile_masked FROM mediation_parties WHERE request_id = \(bind: id) ORDER BY sort
            """).all(decoding: P.self, keyDecodingStrategy: .snakeCase)
        let sessions = try await db.raw("""
            SELECT held_on, mediator_name, attendees, record FROM mediation_sessions WHERE request_id = \(bind: id) ORDER BY held_on, created_at
            """).all(decoding: Session.self, keyDecodingStrategy: .snakeCase)
        struct O: Decodable { var id: UUID; var description: String; var dueOn: String; var status: String }
        let obligations = try await db.raw("""
            SELECT id, description, due_on, status FROM mediation_obligations WHERE request_id = \(bind: id) ORDER BY sort
            """).all(decoding: O.self, keyDecodingStrategy: .snakeCase)
        struct V: Decodable { var visitedOn: String; var status: String; var note: String?; var byName: String }
        let visits = try await db.raw("""
            SELECT visited_on, status, note, by_name FROM mediation_visits WHERE request_id = \(bind: id) ORDER BY visited_on, created_at
            """).all(decoding: V.self, keyDecodingStrategy: .snakeCase)
        let consentName = ["pending": "待征询", "given": "同意调解", "refused": "拒绝调解"][c.consent] ?? c.consent
        return View(
            source: c.source, sourceName: MediationSource(rawValue: c.source)?.chineseName ?? c.source,
            listeningPointName: names?.pointName, committeeName: names?.committeeName,
            amount: c.amount.map(Money.toYuan), amountText: c.amount.map(Money.yuan), peopleInvolved: c.peopleInvolved, mass: c.mass,
            consent: c.consent, consentName: consentName, advice: c.advice,
            parties: try parties.map { Party(side: $0.side, sideName: PartySide(rawValue: $0.side)?.chineseName ?? $0.side, kind: $0.kind, name: try protector.open($0.name),
                                         mobile: $0.mobileMasked) },
            sessions: try sessions.map { Session(heldOn: $0.heldOn, mediatorName: $0.mediatorName, attendees: try protector.open($0.attendees),
                                                 record: try protector.open($0.record)) }, outcome: c.outcome, outcomeName: c.outcome.flatMap(MediationOutcome.init)?.chineseName, closedOn: c.closedOn,
            agreementForm: c.agreementForm, agreementFormName: c.agreementForm.flatMap(AgreementForm.init)?.chineseName,
            agreementFacts: try protector.open(c.agreementFacts), agreementTerms: try protector.open(c.agreementTerms), agreementEffectiveOn: c.agreementEffectiveOn,
            obligations: try obligations.map { o in
                let status = FulfilmentStatus(rawValue: o.status) ?? .pending
                return Obligation(id: o.id, description: try protector.open(o.description), dueOn: o.dueOn, status: o.status, statusName: status.chineseName,
                                  overdue: status != .fulfilled && (CivilDate(o.dueOn).map { $0 < today } ?? false))
            },
            fulfilment: obligations.isEmpty ? nil : FulfilmentStatus.overall(obligations.map { FulfilmentStatus(rawValue: $0.status) ?? .pending }).rawValue,
            fulfilmentName: obligations.isEmpty ? nil : FulfilmentStatus.overall(obligations.map { FulfilmentStatus(rawValue: $0.status) ?? .pending }).chineseName,
            visits: try visits.map { Visit(visitedOn: $0.visitedOn, status: $0.status, statusName: FulfilmentStatus(rawValue: $0.status)?.chineseName ?? $0.status,
                                       note: try protector.open($0.note), byName: $0.byName) },
            confirmationDue: c.confirmationDue,
            confirmationOpen: c.confirmationAppliedOn == nil && (c.confirmationDue.flatMap(CivilDate.init).map { today <= $0 } ?? false),
            confirmationAppliedOn: c.confirmationAppliedOn, courtName: c.courtName,
            courtDecisionName: c.courtDecision.flatMap(CourtDecision.init)?.chineseName, courtDecidedOn: c.courtDecidedOn,
            steps: p.map { available(r, c, for: $0).map(\.rawValue) } ?? [],
            printable: c.agreementForm == AgreementForm.written.rawValue && c.outcome == MediationOutcome.success.rawValue)
    }
}
