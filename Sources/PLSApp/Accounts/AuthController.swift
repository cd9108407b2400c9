import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Sign-in: staff by username and password, citizens by mobile and an SMS code or password.
struct AuthController {
    /// What a citizen signed up by SMS is called until they give their name.
    static let placeholderNamePrefix = "用户"

    static let tokenLifetime: TimeInterval = 12 * 60 * 60
    static let codeLifetime: TimeInterval = 5 * 60
    static let codeResendInterval: TimeInterval = 60
    static let codeMaxAttempts = 5
    /// Codes one number may be sent in 24 hours.
    static let codesPerDay = 10

    static let passwordCost = 10
    /// Verified against when the account does not exist, so timing does not tell which usernames exist.
    static let dummyHash = (try? Bcrypt.hash("pls-no-such-account", cost: passwordCost)) ?? ""

    static let badCredentials = AppError(.unauthorized, "invalid_credentials", "用户名或密码错误")

    /// Checks a staff member's password, counting failures toward the lock-out of this name from this address.
    /// An unknown name is counted and answered exactly as a wrong password, and takes as long.
    static func authenticateStaff(username: String, password: String, address: String, app: Application, on db: any Database) async throws -> Account {
        let name = username.trimmingCharacters(in: .whitespaces).lowercased()
        let account = try await Account.query(on: db).filter(\.$username == name).first().flatMap { $0.role == Role.citizen.rawValue ? nil : $0 }
        let key = SignInAttempts.key("staff", name, address: address, account: account?.id, personalData: app.personalData)
        return try await checkPassword(account, password, key: key, on: db, now: app.clock.now)
    }

    /// One try reserved before the (slow) hash is compared; a missing account is hashed against a dummy.
    private static func checkPassword(_ account: Account?, _ password: String, key: SignInAttempts.Key, on db: any Database, now: Date) async throws -> Account {
        let sql = db as! any SQLDatabase
        let reserved = try await SignInAttempts.reserve(key, on: sql, now: now)
        guard let account, let hash = account.passwordHash, (try? Bcrypt.verify(password, created: hash)) == true else {
            if account?.passwordHash == nil { _ = try? Bcrypt.verify(password, created: dummyHash) }
            if let until = try await SignInAttempts.failed(key, reserved: reserved, on: sql, now: now) {
                throw SignInAttempts.lockedError(until: until, now: now)
            }
            throw badCredentials
        }
        try await SignInAttempts.succeeded(key, on: sql)
        // Told only to whoever knows the password.
        guard account.active else { throw AppError(.forbidden, "account_inactive", "该账号已停用，请联系管理员") }
        return account
    }

    static func parseMobile(_ raw: String?) throws -> MobileNumber {
        guard let mobile = MobileNumber(raw ?? "") else {
            throw AppError.validation(["mobile": "请输入正确的 11 位手机号码"])
        }
        return mobile
    }

    /// Sends a sign-in code. One code a minute per number.
    static func sendCode(to mobile: MobileNumber, app: Application, on db: any Database) async throws {
        let now = app.clock.now
        let hash = app.personalData.lookupHash(mobile.digits)
        if let last = try await OneTimeCode.query(on: db).filter(\.$mobileHash == hash).sort(\.$createdAt, .descending).first(),
           now.timeIntervalSince(last.createdAt) < codeResendInterval {
            let wait = Int(codeResendInterval - now.timeIntervalSince(last.createdAt)) + 1
            throw AppError(.tooManyRequests, "code_too_soon", "验证码已发送，请 \(wait) 秒后再试", fields: ["mobile": "请稍后再获取验证码"])
        }
        let dayAgo = now.addingTimeInterval(-24 * 60 * 60)
        let today = try await OneTimeCode.query(on: db).filter(\.$mobileHash == hash).filter(\.$createdAt > dayAgo).count()
        if today >= codesPerDay {
            var e = AppError(.tooManyRequests, "code_daily_limit", "该号码今日获取验证码次数已达上限，请明天再试", fields: ["mobile": "今日获取次数已达上限"])
            e.retryAfter = 3600
            throw e
        }
        let code = Tokens.numericCode()
        try await db.atomic { tx in
            let otc = OneTimeCode()
            otc.mobileHash = hash
            otc.codeHash = Tokens.digest(hash + code)
            otc.expiresAt = now.addingTimeInterval(codeLifetime)
            otc.attempts = 0
            otc.consumed = false
            otc.createdAt = now
            try await otc.create(on: tx)
            try await app.sendSMS(to: mobile, "您的登录验证码为 \(code)，5 分钟内有效。如非本人操作请忽略。", on: tx, at: now)
        }
    }

    /// Signs a citizen in by code (registering them on first sign-in) or by password.
    static func authenticateCitizen(mobile: MobileNumber, code: String?, password: String?, address: String, app: Application, on db: any Database) async throws -> Account {
        let now = app.clock.now
        let hash = app.personalData.lookupHash(mobile.digits)
        let existing = try await Account.query(on: db).filter(\.$mobileHash == hash).first()
        if let password, !password.isEmpty, code?.isEmpty ?? true {
            let key = SignInAttempts.key("citizen", hash, address: address, account: existing?.id, personalData: app.personalData)
            do { return try await checkPassword(existing, password, key: key, on: db, now: now) }
            catch let e as AppError where e.code == "invalid_credentials" { throw AppError(.unauthorized, "invalid_credentials", "手机号或密码错误") }
        }
        guard let code = code?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
            throw AppError.validation(["code": "请输入短信验证码"])
        }
        guard let otc = try await OneTimeCode.query(on: db).filter(\.$mobileHash == hash).filter(\.$consumed == false)
            .sort(\.$createdAt, .descending).first(), otc.expiresAt > now else {
            throw AppError(.unauthorized, "invalid_code", "验证码已失效，请重新获取", fields: ["code": "验证码已失效"])
        }
        // The guess is counted before it is compared, by one conditional update: a burst gets no more than the limit.
        let sql = db as! any SQLDatabase
        struct Counted: Decodable { var attempts: Int }
        guard try await sql.raw("""
            UPDATE one_time_codes SET attempts = attempts + 1
            WHERE id = \(bind: otc.id!) AND consumed = \(bind: false) AND attempts < \(bind: codeMaxAttempts)
            RETURNING attempts
            """).first(decoding: Counted.self) != nil else {
            throw AppError(.tooManyRequests, "code_attempts", "验证码输错次数过多，请重新获取", fields: ["code": "请重新获取验证码"])
        }
        guard Tokens.same(otc.codeHash, Tokens.digest(hash + code)) else {
            throw AppError(.unauthorized, "invalid_code", "验证码不正确", fields: ["code": "验证码不正确"])
        }
        return try await db.atomic { tx in
            // Used once: of two requests with the same right code, only one consumes it.
            guard try await (tx as! any SQLDatabase).raw("""
                UPDATE one_time_codes SET consumed = \(bind: true) WHERE id = \(bind: otc.id!) AND consumed = \(bind: false) RETURNING id
                """).first() != nil else {
                throw AppError(.unauthorized, "invalid_code", "验证码已失效，请重新获取", fields: ["code": "验证码已失效"])
            }
            if let account = existing {
                guard account.active else { throw AppError(.forbidden, "account_inactive", "该账号已停用") }
                return account
            }
            let account = Account()
            account.mobileHash = hash
            account.mobileCipher = try app.personalData.encrypt(mobile.digits)
            account.mobileMasked = mobile.masked
            account.displayName = placeholderNamePrefix + mobile.digits.suffix(4)
            account.role = Role.citizen.rawValue
            // A citizen belongs to the city as a whole (their matters carry their own places).
            guard let city = app.city.code else {
                throw AppError(.serviceUnavailable, "not_set_up", "平台尚未完成设置（未导入行政区划），暂不能注册")
            }
            account.regionCode = city.rawValue
            account.failedLogins = 0
            account.active = true
            try await account.create(on: tx)
            // Matters the hotline or a window entered for this number before are now theirs to follow.
            try await (tx as! any SQLDatabase).update(ServiceRequest.schema).set("citizen_account_id", to: SQLBind(account.id!))
                .where("applicant_mobile_hash", .equal, SQLBind(hash)).where("citizen_account_id", .is, SQLLiteral.null).run()
            return account
        }
    }

    static func issueToken(for account: Account, on db: any Database, now: Date) async throws -> (String, Date) {
        let token = Tokens.random()
        let expires = now.addingTimeInterval(tokenLifetime)
        try await ApiToken(accountID: account.id!, tokenHash: Tokens.digest(token), expiresAt: expires).create(on: db)
        return (token, expires)
    }
}

// MARK: - API

extension AuthController {
    struct LoginInput: Content { var username: String?; var password: String? }
    struct CitizenLoginInput: Content { var mobile: String?; var code: String?; var password: String? }
    struct CodeInput: Content { var mobile: String? }

    struct TokenResponse: Content {
        var token: String
        var tokenType = "Bearer"
        var expiresAt: Date
        var account: MeResponse
    }

    struct MeResponse: Content {
        struct Ref: Content { var id: String; var name: String }
        var id: UUID
        var displayName: String
        var role: String
        var roleName: String
        var region: Ref?
        var institution: Ref?
        var practitioner: Ref?
        var mobile: String?
    }

    static func me(_ account: Account, on db: any SQLDatabase) async throws -> MeResponse {
        let role = Role(rawValue: account.role) ?? .citizen
        let region = try await RegionController.find(account.regionCode, on: db)
        var institution: MeResponse.Ref?
        if let id = account.institutionID, let row = try? await InstitutionController.find(id, scope: .everything, on: db) {
            institution = .init(id: id.uuidString, name: row.name)
        }
        var practitioner: MeResponse.Ref?
        if let id = account.practitionerID, let row = try? await PractitionerController.find(id, scope: .everything, on: db) {
            practitioner = .init(id: id.uuidString, name: row.name)
        }
        return MeResponse(id: account.id!, displayName: account.displayName, role: role.rawValue, roleName: role.chineseName,
                          region: region.map { .init(id: $0.code, name: $0.name) }, institution: institution,
                          practitioner: practitioner, mobile: account.mobileMasked)
    }

    static func apiLogin(_ req: Request) async throws -> TokenResponse {
        let input = try req.content.decode(LoginInput.self)
        var errors = FieldErrors()
        let username = errors.required(input.username, "username", "用户名")
        let password = errors.required(input.password, "password", "密码")
        try errors.throwIfAny()
        try req.limit(.signIn)
        let account = try await authenticateStaff(username: username, password: password, address: req.clientAddress, app: req.application, on: req.db)
        let (token, expires) = try await issueToken(for: account, on: req.db, now: req.now)
        return TokenResponse(token: token, expiresAt: expires, account: try await me(account, on: req.sql))
    }

    struct CodeSent: Content { var sent: Bool; var expiresInSeconds: Int; var resendAfterSeconds: Int }

    static func apiSendCode(_ req: Request) async throws -> Response {
        let input = try req.content.decode(CodeInput.self)
        let mobile = try parseMobile(input.mobile)
        try req.limitCodes()
        try await sendCode(to: mobile, app: req.application, on: req.db)
        return try Response(status: .accepted).encodeJSON(CodeSent(sent: true, expiresInSeconds: Int(codeLifetime), resendAfterSeconds: Int(codeResendInterval)))
    }

    static func apiCitizenLogin(_ req: Request) async throws -> TokenResponse {
        let input = try req.content.decode(CitizenLoginInput.self)
        let mobile = try parseMobile(input.mobile)
        try req.limit(.signIn)
        let account = try await authenticateCitizen(mobile: mobile, code: input.code, password: input.password, address: req.clientAddress,
                                                    app: req.application, on: req.db)
        let (token, expires) = try await issueToken(for: account, on: req.db, now: req.now)
        return TokenResponse(token: token, expiresAt: expires, account: try await me(account, on: req.sql))
    }

    static func apiLogout(_ req: Request) async throws -> HTTPStatus {
        _ = try req.principal()
        if let bearer = req.headers.bearerAuthorization {
            try await ApiToken.query(on: req.db).filter(\.$tokenHash == Tokens.digest(bearer.token)).delete()
            req.application.tokenCache.revoke(digest: Tokens.digest(bearer.token))
        }
        return .noContent
    }

    static func apiMe(_ req: Request) async throws -> MeResponse {
        let p = try req.principal()
        guard let account = try await Account.find(p.accountID, on: req.db) else { throw AppError.unauthenticated }
        return try await me(account, on: req.sql)
    }
}

// MARK: - Password change

extension AuthController {
    struct PasswordInput: Content { var currentPassword: String?; var newPassword: String? }

    /// Anyone signed in may change their own password. Citizens who registered by SMS have none
    /// yet and set one without the current password; everyone else must give theirs, and wrong ones are
    /// counted as failed sign-ins are. A change ends every other session and token of the account.
    static func changePassword(_ input: PasswordInput, for principal: Principal, keepingToken current: String?, address: String,
                               app: Application, on db: any Database) async throws {
        let now = app.clock.now
        guard let account = try await Account.find(principal.accountID, on: db) else { throw AppError.unauthenticated }
        var errors = FieldErrors()
        let new = input.newPassword ?? ""
        AccountController.validatePassword(new, &errors, field: "newPassword")
        if let hash = account.passwordHash {
            let current = input.currentPassword ?? ""
            if current.isEmpty { errors.add("currentPassword", "请输入当前密码") }
            else {
                let key = SignInAttempts.key("password", principal.accountID.uuidString, address: address, account: principal.accountID,
                                             personalData: app.personalData)
                let sql = db as! any SQLDatabase
                let reserved = try await SignInAttempts.reserve(key, on: sql, now: now)
                if (try? Bcrypt.verify(current, created: hash)) != true {
                    if let until = try await SignInAttempts.failed(key, reserved: reserved, on: sql, now: now) {
                        throw SignInAttempts.lockedError(until: until, now: now)
                    }
                    errors.add("currentPassword", "当前密码不正确")
                } else {
                    try await SignInAttempts.succeeded(key, on: sql)
                }
            }
            if !current.isEmpty, current == new { errors.add("newPassword", "新密码不能与当前密码相同") }
        }
        try errors.throwIfAny()
        account.passwordHash = try Bcrypt.hash(new, cost: passwordCost)
        account.credentialsChangedAt = now
        try await db.atomic { tx in
            try await account.save(on: tx)
            var others = ApiToken.query(on: tx).filter(\.$accountID == principal.accountID)
            if let current { others = others.filter(\.$tokenHash != Tokens.digest(current)) }
            try await others.delete()
        }
    }

    static func apiChangePassword(_ req: Request) async throws -> HTTPStatus {
        let p = try req.principal()
        try await changePassword(try req.content.decode(PasswordInput.self), for: p, keepingToken: req.headers.bearerAuthorization?.token,
                                 address: req.clientAddress, app: req.application, on: req.db)
        return .noContent
    }
}

extension Request {
    /// Sign-in codes: per address, and for the whole platform (an SMS costs money and reaches a person).
    func limitCodes() throws {
        try limit(.smsCode)
        try limit(.smsCodeGlobal, key: "all")
    }
}
