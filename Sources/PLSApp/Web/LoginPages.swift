import Vapor
import Fluent
import PLSDomain

/// Sign-in pages: staff by username and password; citizens by mobile with an SMS code or password.
enum LoginPages {
    struct StaffContext: Encodable {
        var page: PageMeta
        var username: String
        var next: String
        var error: String?
        var fields: [String: String]
    }

    struct StaffForm: Content { var username: String?; var password: String?; var next: String? }

    static func staffForm(_ req: Request) async throws -> View {
        try await req.view.render("login", StaffContext(page: req.pageMeta(title: "工作人员登录"), username: "",
                                                         next: HomePages.safeNext(try? req.query.get(String.self, at: "next")) ?? "",
                                                         error: nil, fields: [:]))
    }

    static func staffSubmit(_ req: Request) async throws -> Response {
        let form = try req.content.decode(StaffForm.self)
        do {
            var errors = FieldErrors()
            let username = errors.required(form.username, "username", "用户名")
            let password = errors.required(form.password, "password", "密码")
            try errors.throwIfAny()
            try req.limit(.signIn)
            let account = try await AuthController.authenticateStaff(username: username, password: password, address: req.clientAddress,
                                                                     app: req.application, on: req.db)
            await req.signIn(account)
            if let next = HomePages.safeNext(form.next) { return req.redirect(to: next) }
            guard let p = Principal(account) else { return req.redirect(to: "/admin") }
            return req.redirect(to: try await HomePages.landing(for: p, on: req.sql))
        } catch let e as AppError {
            let view = try await req.view.render("login", StaffContext(page: req.pageMeta(title: "工作人员登录"), username: form.username ?? "",
                                                                       next: HomePages.safeNext(form.next) ?? "", error: e.message, fields: e.fields))
            let response = try await view.encodeResponse(for: req)
            response.status = [.unprocessableEntity, .tooManyRequests].contains(e.status) ? e.status : .unauthorized
            if let wait = e.retryAfter { response.headers.replaceOrAdd(name: .retryAfter, value: String(wait)) }
            return response
        }
    }

    struct CitizenContext: Encodable {
        var page: PageMeta
        var mobile: String
        var error: String?
        var notice: String?
        var fields: [String: String]
        var demoOutbox: Bool
        /// Where to return after signing in (kept through sending the code).
        var next: String
    }

    struct CitizenForm: Content { var mobile: String?; var code: String?; var password: String?; var action: String?; var next: String? }

    static func citizenForm(_ req: Request) async throws -> View {
        try await req.view.render("login-citizen", CitizenContext(page: req.pageMeta(title: "群众登录"), mobile: "", error: nil, notice: nil,
                                                                   fields: [:], demoOutbox: req.showsDemoOutbox,
                                                                   next: HomePages.safeNext(try? req.query.get(String.self, at: "next")) ?? ""))
    }

    static func citizenSubmit(_ req: Request) async throws -> Response {
        let form = try req.content.decode(CitizenForm.self)
        func render(_ status: HTTPStatus, error: String? = nil, notice: String? = nil, fields: [String: String] = [:]) async throws -> Response {
            let view = try await req.view.render("login-citizen", CitizenContext(
                page: req.pageMeta(title: "群众登录"), mobile: form.mobile ?? "", error: error, notice: notice, fields: fields,
                demoOutbox: req.showsDemoOutbox, next: HomePages.safeNext(form.next) ?? ""))
            let response = try await view.encodeResponse(for: req)
            response.status = status
            return response
        }
        do {
            let mobile = try AuthController.parseMobile(form.mobile)
            if form.action == "send" {
                try req.limitCodes()
                try await AuthController.sendCode(to: mobile, app: req.application, on: req.db)
                return try await render(.ok, notice: "验证码已发送至 \(mobile.masked)，5 分钟内有效")
            }
            try req.limit(.signIn)
            let account = try await AuthController.authenticateCitizen(mobile: mobile, code: form.code, password: form.password,
                                                                       address: req.clientAddress, app: req.application, on: req.db)
            await req.signIn(account)
            return req.redirect(to: HomePages.safeNext(form.next) ?? "/", flash: "登录成功")
        } catch let e as AppError {
            let response = try await render(e.status, error: e.message, fields: e.fields)
            if let wait = e.retryAfter { response.headers.replaceOrAdd(name: .retryAfter, value: String(wait)) }
            return response
        }
    }

    static func logout(_ req: Request) async throws -> Response {
        req.auth.logout(Principal.self)
        req.session.destroy()
        return req.redirect(to: "/")
    }

    static let passwordFields = [
        FormField(name: "currentPassword", label: "当前密码", kind: .password, hint: "通过短信验证码注册、尚未设置密码的群众可留空"),
        FormField(name: "newPassword", label: "新密码", kind: .password, required: true, hint: "至少 8 位，须同时包含字母和数字"),
    ]

    static func passwordForm(_ req: Request) async throws -> Response {
        _ = try req.principal()
        return try await req.renderForm(title: "修改密码", action: "/account/password", fields: passwordFields, submit: "保存新密码", cancel: "/")
    }

    static func passwordSubmit(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let input = AuthController.PasswordInput(currentPassword: req.formValue("currentPassword"), newPassword: req.formValue("newPassword"))
        do {
            try await AuthController.changePassword(input, for: p, keepingToken: nil, address: req.clientAddress, app: req.application, on: req.db)
            await req.signIn(p.accountID)
            return req.redirect(to: p.role.isStaff ? "/admin" : "/", flash: "密码已修改")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "修改密码", action: "/account/password", fields: passwordFields, submit: "保存新密码",
                                            cancel: "/", error: e)
        }
    }
}

extension Request {
    /// The browser session belongs to `account` from now: the time is kept so that a later password change ends it.
    func signIn(_ account: Account) async { if let id = account.id { await signIn(id) } }

    func signIn(_ id: UUID) async {
        // A new session id at every sign-in, the old one deleted: an id planted in the browser beforehand (session
        // fixation) never becomes a signed-in session.
        if let old = session.id {
            session.id = nil
            try? await application.sessions.driver.deleteSession(old, for: self).get()
        }
        session.data[SessionPrincipalAuthenticator.key] = id.uuidString
        session.data[SessionPrincipalAuthenticator.signedInAtKey] = String(SessionPrincipalAuthenticator.milliseconds(application.clock.now))
    }

    /// The demo outbox (sign-in codes of every number) is offered only to a demo served to this machine.
    var showsDemoOutbox: Bool { application.settings.demo && isLocalCaller }
}
