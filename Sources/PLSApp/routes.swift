import Vapor
import SQLKit
import PLSDomain

/// Every route of the platform, grouped by capability. The API lives under /api/v1 with bearer
/// tokens; pages use the browser session and carry CSRF tokens on their forms.
func routes(_ app: Application) throws {
    app.get("healthz") { _ in ["status": "ok"] }
    app.get("readyz") { req async throws -> [String: String] in
        do {
            try await req.sql.raw("SELECT 1").run()
        } catch {
            throw AppError(.serviceUnavailable, "database_unavailable", "数据库不可用")
        }
        return ["status": "ready"]
    }

    // MARK: API
    let api = app.grouped("api", "v1").grouped(BearerPrincipalAuthenticator())

    let auth = api.grouped("auth")
    auth.post("login", use: AuthController.apiLogin)
    auth.post("sms-code", use: AuthController.apiSendCode)
    auth.post("citizen-login", use: AuthController.apiCitizenLogin)
    auth.post("logout", use: AuthController.apiLogout)
    api.get("me", use: AuthController.apiMe)
    api.post("me", "password", use: AuthController.apiChangePassword)

    let regions = api.grouped("regions")
    regions.get(use: RegionController.apiList)
    regions.post(use: RegionController.apiCreate)
    regions.on(.POST, "import", body: .collect(maxSize: "20mb"), use: RegionController.apiImport)
    regions.get(":code", use: RegionController.apiGet)
    regions.put(":code", use: RegionController.apiUpdate)
    regions.post(":code", "deactivate", use: RegionController.apiDeactivate)

    let institutions = api.grouped("institutions")
    institutions.get(use: InstitutionController.apiList)
    institutions.post(use: InstitutionController.apiCreate)
    institutions.get(":id", use: InstitutionController.apiGet)
    institutions.put(":id", use: InstitutionController.apiUpdate)
    institutions.post(":id", "deactivate", use: InstitutionController.apiDeactivate)

    let practitioners = api.grouped("practitioners")
    practitioners.get(use: PractitionerController.apiList)
    practitioners.post(use: PractitionerController.apiCreate)
    practitioners.get(":id", use: PractitionerController.apiGet)
    practitioners.put(":id", use: PractitionerController.apiUpdate)
    practitioners.post(":id", "deactivate", use: PractitionerController.apiDeactivate)

    let accounts = api.grouped("accounts")
    accounts.get(use: AccountController.apiList)
    accounts.post(use: AccountController.apiCreate)
    accounts.get(":id", use: AccountController.apiGet)
    accounts.put(":id", use: AccountController.apiUpdate)
    accounts.post(":id", "deactivate", use: AccountController.apiDeactivate)

    api.get("indicators", use: IndicatorController.apiList)

    let requests = api.grouped("requests")
    requests.post(use: RequestController.apiCreate)
    requests.get(use: RequestController.apiList)
    requests.get("lookup", use: RequestController.apiLookup)
    requests.get("duplicates", use: RequestController.apiDuplicates)
    requests.post("bulk-assign", use: RequestController.apiBulkAssign)
    requests.get(":id", use: RequestController.apiGet)
    requests.get(":id", "candidates", use: RequestController.apiCandidates)
    for action in [RequestAction.accept, .reject, .assign, .start, .suspend, .resume, .transfer, .takeBack, .conclude] {
        requests.post(":id", PathComponent(stringLiteral: action.rawValue.replacingOccurrences(of: "_", with: "-")),
                      use: RequestController.action(action))
    }
    requests.post(":id", "evaluation", use: RequestController.apiEvaluate)
    requests.on(.POST, ":id", "attachments", body: .collect(maxSize: "11mb"), use: Attachments.apiUpload)
    requests.get(":id", "attachments", use: Attachments.apiList)
    requests.get(":id", "attachments", ":attachment", use: Attachments.apiDownload)

    api.get("catalog", use: Catalog.apiList)
    api.get("catalog", ":code", use: Catalog.apiGet)
    api.put("catalog", ":code", use: Catalog.apiUpdate)
    api.get("deadline-rules", use: Catalog.apiRules)
    api.put("deadline-rules", ":matterType", use: Catalog.apiUpdateRules)
    api.get("calendar", "due", use: CalendarController.apiDue)
    api.get("calendar", ":year", use: CalendarController.apiGet)
    api.put("calendar", ":year", use: CalendarController.apiPut)
    api.get("notifications", use: Notifications.apiList)
    api.post("notifications", ":id", "read", use: Notifications.apiMarkRead)

    // MARK: Pages
    let web = app.grouped(app.sessions.middleware, SessionPrincipalAuthenticator(), CSRFMiddleware())
    web.get(use: HomePages.home)
    web.post("preferences", "elder", use: HomePages.toggleElder)
    web.get("demo", "outbox", use: HomePages.outbox)

    web.get("login", use: LoginPages.staffForm)
    web.post("login", use: LoginPages.staffSubmit)
    web.get("login", "citizen", use: LoginPages.citizenForm)
    web.post("login", "citizen", use: LoginPages.citizenSubmit)
    web.post("logout", use: LoginPages.logout)
    web.get("account", "password", use: LoginPages.passwordForm)
    web.post("account", "password", use: LoginPages.passwordSubmit)

    web.get("services", use: PortalPages.catalog)
    web.get("services", ":code", use: PortalPages.guide)
    web.get("apply", ":code", use: PortalPages.applyForm)
    web.post("apply", ":code", use: PortalPages.apply)
    web.get("my", use: PortalPages.mine)
    web.get("my", ":number", use: PortalPages.myDetailPage)
    web.post("my", ":number", "evaluation", use: PortalPages.rate)
    web.on(.POST, "my", ":number", "attachments", body: .collect(maxSize: "11mb"), use: AttachmentPages.uploadFromPortal)
    web.get("my", ":number", "attachments", ":attachment", use: AttachmentPages.downloadFromPortal)
    web.get("lookup", use: PortalPages.lookup)
    web.get("rate", ":token", use: PortalPages.rateLinkPage)
    web.post("rate", ":token", use: PortalPages.rateLinkSubmit)

    web.get("work", use: WorkPages.queue)
    web.post("work", "bulk-assign", use: WorkPages.bulkAssign)
    web.get("work", ":id", use: WorkPages.detailPage)
    web.on(.POST, "work", ":id", "attachments", body: .collect(maxSize: "11mb"), use: AttachmentPages.uploadFromWork)
    web.get("work", ":id", "attachments", ":attachment", use: AttachmentPages.downloadFromWork)
    web.post("work", ":id", ":action", use: WorkPages.act)
    web.get("hotline", use: WorkPages.hotline)
    web.post("hotline", use: WorkPages.hotlineSubmit)
    web.get("window", use: WorkPages.window)
    web.post("window", use: WorkPages.windowSubmit)
    web.get("notifications", use: WorkPages.notifications)

    let admin = web.grouped("admin")
    admin.get(use: AdminPages.dashboard)
    admin.get("indicators", use: AdminPages.indicators)
    admin.get("calendar", use: SettingsPages.calendar)
    admin.get("calendar", ":year", use: SettingsPages.yearForm)
    admin.post("calendar", ":year", use: SettingsPages.saveYear)
    admin.get("catalog", use: SettingsPages.catalog)
    admin.get("catalog", ":code", use: SettingsPages.guideForm)
    admin.post("catalog", ":code", use: SettingsPages.saveGuide)
    admin.get("rules", use: SettingsPages.rulesPage)
    admin.post("rules", ":matterType", use: SettingsPages.saveRules)

    admin.get("regions", use: RegionPages.list)
    admin.get("regions", "new", use: RegionPages.newForm)
    admin.post("regions", "new", use: RegionPages.create)
    admin.get("regions", ":code", use: RegionPages.detail)
    admin.get("regions", ":code", "edit", use: RegionPages.editForm)
    admin.post("regions", ":code", "edit", use: RegionPages.update)
    admin.post("regions", ":code", "deactivate", use: RegionPages.deactivate)

    admin.get("institutions", use: InstitutionPages.list)
    admin.get("institutions", "new", use: InstitutionPages.newForm)
    admin.post("institutions", "new", use: InstitutionPages.create)
    admin.get("institutions", ":id", use: InstitutionPages.detail)
    admin.get("institutions", ":id", "edit", use: InstitutionPages.editForm)
    admin.post("institutions", ":id", "edit", use: InstitutionPages.update)
    admin.post("institutions", ":id", "deactivate", use: InstitutionPages.deactivate)

    admin.get("practitioners", use: PractitionerPages.list)
    admin.get("practitioners", "new", use: PractitionerPages.newForm)
    admin.post("practitioners", "new", use: PractitionerPages.create)
    admin.get("practitioners", ":id", use: PractitionerPages.detail)
    admin.get("practitioners", ":id", "edit", use: PractitionerPages.editForm)
    admin.post("practitioners", ":id", "edit", use: PractitionerPages.update)
    admin.post("practitioners", ":id", "deactivate", use: PractitionerPages.deactivate)

    admin.get("accounts", use: AccountPages.list)
    admin.get("accounts", "new", use: AccountPages.newForm)
    admin.post("accounts", "new", use: AccountPages.create)
    admin.get("accounts", ":id", use: AccountPages.detail)
    admin.get("accounts", ":id", "edit", use: AccountPages.editForm)
    admin.post("accounts", ":id", "edit", use: AccountPages.update)
    admin.post("accounts", ":id", "deactivate", use: AccountPages.deactivate)
}
