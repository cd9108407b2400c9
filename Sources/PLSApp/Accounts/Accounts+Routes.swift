import Vapor
import PLSDomain

extension RouteGroups {
    /// Signing in through the API, one's own account, and the administrators' account pages.
    func accounts() {
        let auth = api.grouped("auth")
        auth.post("login", use: AuthController.apiLogin)
        auth.post("sms-code", use: AuthController.apiSendCode)
        auth.post("citizen-login", use: AuthController.apiCitizenLogin)
        auth.post("logout", use: AuthController.apiLogout)
        api.get("me", use: AuthController.apiMe)
        api.post("me", "password", use: AuthController.apiChangePassword)
        let accounts = api.grouped("accounts")
        accounts.get(use: AccountController.apiList)
        accounts.post(use: AccountController.apiCreate)
        accounts.get(":id", use: AccountController.apiGet)
        accounts.put(":id", use: AccountController.apiUpdate)
        accounts.post(":id", "deactivate", use: AccountController.apiDeactivate)
        api.get("sms-outbox", use: SmsOutbox.apiList)
        admin.get("sms", use: SmsOutbox.page)
        admin.get("accounts", use: AccountPages.list)
        admin.get("accounts", "new", use: AccountPages.newForm)
        admin.post("accounts", "new", use: AccountPages.create)
        admin.get("accounts", ":id", use: AccountPages.detail)
        admin.get("accounts", ":id", "edit", use: AccountPages.editForm)
        admin.post("accounts", ":id", "edit", use: AccountPages.update)
        admin.post("accounts", ":id", "deactivate", use: AccountPages.deactivate)
    }
}
