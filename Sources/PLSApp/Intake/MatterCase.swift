import Vapor
import Fluent
import SQLKit
import PLSDomain

/// What intake needs from a capability whose matter carries a case of its own (法律援助案件, 调解案件, and to come
/// rectification, complaints, calls, notarization …). Intake, Core, the shared pages and templates ask
/// `MatterCases` and never name a capability; a capability implements this once, in its own folder, and is listed in
/// `MatterCases.registered` (configure.swift). Every requirement has a default that does nothing, so a case
/// implements only what it changes.
protocol MatterCase: Sendable {
    /// The matter whose requests carry this case.
    var matter: MatterType { get }

    // MARK: Intake
    /// Staff's intake accepts the request at once (false: the case's own decision accepts it, as legal aid's does).
    var acceptedOnIntake: Bool { get }
    /// The window must check the applicant's ID number (false: the parties identify themselves to the case's handlers).
    var windowChecksIdentity: Bool { get }
    /// Opens the case inside the intake's write, once the request's row is saved (`db` is the write's transaction).
    func open(for r: ServiceRequest, itemCode: String?, category: PLSDomain.Category, app: Application, on db: any Database) async throws

    // MARK: The general actions
    /// Refuses a general action that the case's own steps replace, naming the step (nil: the action may go ahead).
    func refusal(of action: RequestAction, on r: ServiceRequest, on db: any Database) async throws -> AppError?
    /// Whether the detail offers a general action on a request that has this case open.
    func offers(_ action: RequestAction) -> Bool
    /// Follows a general action applied to its request, inside the same write.
    func follow(_ action: RequestAction, _ r: ServiceRequest, input: RequestActions.Input, today: CivilDate, app: Application,
                on db: any Database) async throws
    /// The names of the events the case writes to the timeline (`action` → 中文).
    var eventNames: [String: String] { get }

    // MARK: Designation
    /// Who may be designated for the request, when the case narrows the general rule (nil: the general rule).
    func candidateRule(for r: ServiceRequest, today: CivilDate, on db: any SQLDatabase) async throws -> CandidateRule?

    // MARK: What a request shows
    /// Sections of a request's detail (JSON and pages), each under its own key. Asked for every request, not only
    /// this matter's: a case may add to others (legal aid's fee reduction on notarization). Empty when none.
    func sections(of r: ServiceRequest, for p: Principal?, app: Application, on db: any SQLDatabase) async throws -> [CaseSection]
    /// The case's parts of the staff work page (`work/detail`), rendered from its own templates.
    func workPage(_ page: CasePageInput, req: Request) async throws -> CasePageParts
    /// The case's part of the citizen's page (`portal/detail`), rendered from its own template.
    func portalPage(_ page: CasePageInput, req: Request) async throws -> String?

    // MARK: Deadlines and figures
    /// The case watches its request's acceptance itself (legal aid: the decision, whose clock stops for material).
    var watchesItsOwnAcceptance: Bool { get }
    /// The case's own steps that are past due, as SQL conditions on the request `r` and its case's row `c` (tested only
    /// on this matter's requests): the queue flags them as it flags a late conclusion. The same steps as `deadlines`
    /// escalates. Nil: the case has none.
    func overdueSteps(today: CivilDate) -> OverdueSteps?
    /// How the case names a status where the general name would mislead (legal aid: 已受理 after a grant reads
    /// 已决定给予法律援助); nil keeps the general name.
    func statusName(_ status: RequestStatus) -> String?
    /// What the applicant is told, in the case's own words, when a step changes what they should expect
    /// (`.submit`: the intake itself; legal aid speaks of its decision, not of acceptance); nil keeps the general words.
    func applicantNotice(_ action: RequestAction, _ r: ServiceRequest, reason: String?) -> String?
    /// The capability's own application page for a catalog item, when it asks more than the general form
    /// (legal aid: the statement of means and the pledge). `/apply/:code` leads there: one route, one set of data.
    func applicationPath(for itemCode: String) -> String?
    /// Where the clerks of an institution of this type start their day, when the case keeps its own desk
    /// (the legal aid centre's clerks decide and designate there, not at a general window).
    func desk(forInstitutionType type: InstitutionType) -> String?
    /// The case's steps due by `horizon` and not yet told at their last level (`Deadlines.notFinished`), for the
    /// deadline watch (`Deadlines.scan`): reminded before, told after, escalated to the county.
    func deadlines(dueBy horizon: CivilDate, today: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline]
    /// The case's own reminders, run by the overdue scanner with its scan.
    func remind(app: Application) async throws
    /// The running figures the case's tables keep (refilled by `pls indicators refill`).
    var runningFigures: [RunningFigure] { get }
}

extension MatterCase {
    func overdueSteps(today: CivilDate) -> OverdueSteps? { nil }
    func statusName(_ status: RequestStatus) -> String? { nil }
    func applicantNotice(_ action: RequestAction, _ r: ServiceRequest, reason: String?) -> String? { nil }
    func applicationPath(for itemCode: String) -> String? { nil }
    func desk(forInstitutionType type: InstitutionType) -> String? { nil }
    var acceptedOnIntake: Bool { true }
    var windowChecksIdentity: Bool { true }
    func open(for r: ServiceRequest, itemCode: String?, category: PLSDomain.Category, app: Application, on db: any Database) async throws {}
    func refusal(of action: RequestAction, on r: ServiceRequest, on db: any Database) async throws -> AppError? { nil }
    func offers(_ action: RequestAction) -> Bool { true }
    func follow(_ action: RequestAction, _ r: ServiceRequest, input: RequestActions.Input, today: CivilDate, app: Application,
                on db: any Database) async throws {}
    var eventNames: [String: String] { [:] }
    func candidateRule(for r: ServiceRequest, today: CivilDate, on db: any SQLDatabase) async throws -> CandidateRule? { nil }
    func sections(of r: ServiceRequest, for p: Principal?, app: Application, on db: any SQLDatabase) async throws -> [CaseSection] { [] }
    func workPage(_ page: CasePageInput, req: Request) async throws -> CasePageParts { CasePageParts() }
    func portalPage(_ page: CasePageInput, req: Request) async throws -> String? { nil }
    var watchesItsOwnAcceptance: Bool { false }
    func deadlines(dueBy horizon: CivilDate, today: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] { [] }
    func remind(app: Application) async throws {}
    var runningFigures: [RunningFigure] { [] }
}

/// One part of a request's detail that a case adds, under its key (`legalAid`, `mediation`, …).
struct CaseSection: Sendable {
    /// A name in code, never from input (it becomes a JSON key as written).
    var key: StaticString
    var value: any Encodable & Sendable
}

/// A narrower pool of practitioners for a designation: the types allowed (nil: the matter's) and a condition on
/// the practitioner row aliased `p`.
struct CandidateRule: Sendable {
    var practitionerTypes: [PractitionerType]?
    var condition: SQLQueryString
}

/// What a case's page parts are rendered from.
struct CasePageInput: Sendable {
    var page: PageMeta
    var detail: RequestViews.Detail
    var request: ServiceRequest
    var error: AppError?

    /// The section of this type that the case added, if any.
    func section<T>(_ type: T.Type) -> T? { detail.sections.lazy.compactMap { $0.value as? T }.first }
}

/// HTML for the work page's slots: a notice at the top, a panel under the request, step forms before the general ones.
struct CasePageParts: Sendable {
    var notice: String?
    var panel: String?
    var forms: String?
}

/// The registered matter cases (`registered` is in configure.swift, one line per capability).
enum MatterCases {
    static func forMatter(_ matter: MatterType) -> (any MatterCase)? { registered.first { $0.matter == matter } }
    static func forMatter(_ raw: String) -> (any MatterCase)? { MatterType(rawValue: raw).flatMap(forMatter) }

    static let eventNames: [String: String] = registered.reduce(into: [:]) { names, c in names.merge(c.eventNames) { a, _ in a } }

    static var runningFigures: [RunningFigure] { registered.flatMap(\.runningFigures) }

    static func sections(of r: ServiceRequest, for p: Principal?, app: Application, on db: any SQLDatabase) async throws -> [CaseSection] {
        var all: [CaseSection] = []
        for c in registered { all += try await c.sections(of: r, for: p, app: app, on: db) }
        return all
    }
}

/// What a case's templates see: the page (its CSRF token), the request, the case's section (`c`), its step forms'
/// data (`forms`) and the failed step's field errors.
struct CasePartContext<Section: Encodable, Forms: Encodable>: Encodable {
    var page: PageMeta
    var d: RequestViews.Detail
    var c: Section
    var forms: Forms?
    var errors: [String: String]

    init(_ input: CasePageInput, _ c: Section, forms: Forms? = nil) {
        page = input.page; d = input.detail; self.c = c; self.forms = forms; errors = input.error?.fields ?? [:]
    }
}

extension Request {
    /// A case's template rendered to HTML for a slot of a shared page (`#unsafeHTML` there: Leaf escaped it here).
    func renderPart<Context: Encodable>(_ template: String, _ context: Context) async throws -> String {
        let view = try await self.view.render(template, context)
        return String(buffer: view.data)
    }
}

/// A case's steps that can fall past due, in the order the queue names the first of them.
struct OverdueSteps: Sendable {
    /// The case's table, one row per request (`request_id`), which the steps' conditions read as `c`. Read once per
    /// request, not once per step: PostgreSQL planned each step's own `EXISTS` twice (row by row and hashed), which was
    /// most of the time it took to plan the request list.
    var table: String
    var steps: [OverdueStep]
}

/// A step of a case that can fall past due: its name in the queue ("审查决定") and when it has.
struct OverdueStep: Sendable {
    var name: String
    var condition: SQLQueryString
    /// For a step that can fall due on a request no longer open (a legal-aid objection after a refusal): a query of the
    /// ids of the requests it may find, read through an index, so that the overdue list never reads all requests.
    /// Nil: the step's condition holds only for open requests.
    var beyondOpen: SQLQueryString? = nil
}

extension MatterCases {
    /// A status as the matter's case names it.
    static func statusName(_ status: RequestStatus, matter: String) -> String {
        MatterType(rawValue: matter).flatMap(forMatter)?.statusName(status) ?? status.chineseName
    }
}
