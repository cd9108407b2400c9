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
