import Vapor
import SQLKit
import PLSDomain

/// The platform's shell (health, home, sign-in, the workbench) and each capability's routes, which live in its folder
/// (`X+Routes.swift`). The API lives under /api/v1 with bearer tokens; pages use the browser session and carry CSRF
/// tokens on their forms.
func routes(_ app: Application) throws {
    app.get("healthz") { _ in ["status": "ok"] }
    app.get("readyz") { req async throws -> [String: String] in
        do {
            try await req.sql.raw("SELECT 1").run()
        } catch {
            throw AppError(.serviceUnavailable, "database_unavailable", "数据库不可用")
        }
        var answer = ["status": "ready"]
        // Ready, but a deadline this year or next would ignore holidays: said here for whoever watches the service.
        if let warning = req.application.calendarWarning { answer["calendar"] = warning }
        // Analytics read from the primary while the replica lags or is away: ready all the same.
        if let replica = req.application.readReplica { answer["readReplica"] = replica.current.state.rawValue }
        return answer
    }

    app.get("metrics", use: MetricsEndpoint.serve)
    // A department system's token opens only what its scopes name (`SystemClientGuard`).
    let api = app.grouped("api", "v1").grouped(BearerPrincipalAuthenticator(), SystemClientGuard())

    let web = app.grouped(app.sessions.middleware, SessionPrincipalAuthenticator(), CSRFMiddleware())
    web.get(use: HomePages.home)
    web.post("preferences", "elder", use: HomePages.toggleElder)
    web.get("demo", "outbox", use: HomePages.outbox)

    web.get("login", use: LoginPages.staffForm)
    web.post("login", use: LoginPages.staffSubmit)
    web.get("login", "citizen", use: LoginPages.citizenForm)
    web.get("accessibility", use: SitePages.accessibility)
    web.get("search", use: SitePages.search)
    web.post("login", "citizen", use: LoginPages.citizenSubmit)
    web.post("logout", use: LoginPages.logout)
    web.get("account", "password", use: LoginPages.passwordForm)
    web.post("account", "password", use: LoginPages.passwordSubmit)

    let admin = web.grouped("admin")
    admin.get(use: AdminPages.dashboard)
    api.get("audit-log", use: AuditLog.apiList)
    admin.get("audit", use: AuditLog.page)
    admin.get("audit.csv", use: AuditLog.csv)

    // MARK: Capabilities (one line each)
    let groups = RouteGroups(api: api, web: web, admin: admin)
    groups.accounts()
    groups.registry()
    groups.calendar()
    groups.intake()
    groups.indicators()
    groups.legalAid()
    groups.mediation()
    groups.grassroots()
    groups.evaluation()
    groups.complaints()
    groups.publicInterest()
    groups.ratingRankings()
    groups.qualityReviews()
    groups.linkage()
    groups.callCentre()
    groups.callQuality()
    groups.centreArrangements()
    groups.centres()
    groups.leadersView()
}

/// The three groups a capability adds its routes to: the API (bearer tokens), the pages (session and CSRF) and the
/// administrators' pages under /admin.
struct RouteGroups {
    let api: any RoutesBuilder
    let web: any RoutesBuilder
    let admin: any RoutesBuilder
}
