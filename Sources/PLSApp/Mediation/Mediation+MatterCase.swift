import Vapor
import Fluent
import SQLKit
import PLSDomain

/// People's mediation on the matter-case seam: what intake, the request's detail and its pages need from a mediation case.
struct MediationMatterCase: MatterCase {
    var matter: MatterType { .mediation }
    /// The parties (people or organisations) identify themselves to the committee, not at the intake window.
    var windowChecksIdentity: Bool { false }
    var eventNames: [String: String] { MediationCases.eventNames }
    var runningFigures: [RunningFigure] { [.mediationSuccess] }

    func open(for r: ServiceRequest, itemCode: String?, category: PLSDomain.Category, app: Application, on db: any Database) async throws {
        try await MediationCases.newApplicationCase(for: r, app: app, on: db)
    }

    /// A case is concluded by its outcome step (agreement, failure or termination), never by the general action.
    func refusal(of action: RequestAction, on r: ServiceRequest, on db: any Database) async throws -> AppError? {
        guard let step = MediationCases.step(replacing: action), try await MediationCase.find(r.id, on: db) != nil else { return nil }
        return AppError.conflict("use_mediation_step", "调解案件请通过“\(step.chineseName)”办理（/api/v1/mediation/cases/{id}/\(step.rawValue)）")
    }

    func offers(_ action: RequestAction) -> Bool { action != .conclude }

    func follow(_ action: RequestAction, _ r: ServiceRequest, input: RequestActions.Input, today: CivilDate, app: Application,
                on db: any Database) async throws {
        try await MediationCases.follow(action, r, on: db)
    }

    func sections(of r: ServiceRequest, for p: Principal?, app: Application, on db: any SQLDatabase) async throws -> [CaseSection] {
        guard r.matterType == MatterType.mediation.rawValue, let c = try await MediationCase.read(r.id!, on: db) else { return [] }
        return [CaseSection(key: "mediation", value: try await MediationCases.view(c, of: r, for: p, today: app.today, protector: app.personalData, on: db))]
    }

    func workPage(_ page: CasePageInput, req: Request) async throws -> CasePageParts {
        guard let m = page.section(MediationCases.View.self) else { return CasePageParts() }
        return CasePageParts(
            panel: try await req.renderPart("mediation/panel", CasePartContext<MediationCases.View, Bool>(page, m)),
            forms: try await req.renderPart("mediation/forms", CasePartContext(page, m, forms: MediationPages.forms(m, req: req))))
    }

    func remind(app: Application) async throws {
        try await MediationCases.remindOverdueObligations(app: app)
    }
}

extension RequestViews.Detail {
    /// The mediation case of a mediation request (调解案件).
    var mediation: MediationCases.View? { sections.lazy.compactMap { $0.value as? MediationCases.View }.first }
}

extension MediationMatterCase {
    /// Before the agreement's performance dates (the visit reminder follows them up after) and before the 30 days for
    /// judicial confirmation run out (人民调解法 art. 33: the parties' choice, so the committee is reminded to tell
    /// them, and nobody is told it is overdue).
    func deadlines(dueBy horizon: CivilDate, today: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct Row: Decodable { var id: UUID; var number: String; var regionCode: String; var institutionId: UUID?; var due: String }
        let confirmations = try await db.raw("""
            SELECT r.id, r.number, r.region_code, r.institution_id, c.confirmation_due AS due
            FROM mediation_cases c JOIN service_requests r ON r.id = c.request_id
            WHERE c.confirmation_due IS NOT NULL AND c.confirmation_applied_on IS NULL
              AND c.confirmation_due >= \(bind: today.description) AND c.confirmation_due <= \(bind: horizon.description) AND
            """ + " " + Deadlines.notFinished(subject: "r.id", step: "mediation.confirmation", due: "c.confirmation_due", escalates: false)
            + " LIMIT 500").all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        let obligations = try await db.raw("""
            SELECT r.id, r.number, r.region_code, r.institution_id, MIN(o.due_on) AS due
            FROM mediation_obligations o JOIN service_requests r ON r.id = o.request_id
            WHERE o.status IN (\(binds: [FulfilmentStatus.pending.rawValue, FulfilmentStatus.partlyFulfilled.rawValue]))
              AND o.due_on >= \(bind: today.description) AND o.due_on <= \(bind: horizon.description) AND
            """ + " " + Deadlines.notFinished(subject: "r.id", step: "mediation.obligation", due: "o.due_on", escalates: false)
            + " GROUP BY r.id, r.number, r.region_code, r.institution_id LIMIT 500").all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        func watched(_ rows: [Row], _ step: String, _ name: String) -> [WatchedDeadline] {
            rows.compactMap { r in
                CivilDate(r.due).map {
                    WatchedDeadline(requestID: r.id, number: r.number, regionCode: r.regionCode, step: step, name: name, due: $0,
                                    institutionID: r.institutionId, escalates: false)
                }
            }
        }
        return watched(confirmations, "mediation.confirmation", "告知当事人可申请司法确认（人民调解法第三十三条，协议生效之日起 30 日内）")
            + watched(obligations, "mediation.obligation", "调解协议约定的履行期限")
    }
}
