import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 系统对接 (issue #23, item 3): the department systems the city lets in — 12345, the 110 command centre, a court's
/// 诉调对接 system, the telephone exchange. The city administrator registers one with its scopes and is shown its secret
/// once; the system exchanges the secret for a token of an hour (OAuth 2.0 client credentials) and may call only what
/// its scopes name (`SystemClientGuard`), within its own rate limit, every call logged.
///
/// Each client acts through a service account of its own (`system:<clientId>`, no password): the timeline names it as
/// the actor, and the request machinery that expects an account works unchanged.
enum SystemClients {
    static let schema = "system_clients"
    /// Tokens last an hour; the system asks again with its secret.
    static let tokenLifetime: TimeInterval = 3_600
    static let defaultRateLimit = 600
    static let rateLimitRange = 10...100_000

    /// What a client's token carries into a request: who, what it may do, how often.
    struct Grant: Sendable, Equatable {
        var clientID: UUID
        var scopes: [ClientScope]
        var ratePerMinute: Int

        func allows(_ scope: ClientScope) -> Bool { scopes.contains(scope) }
    }

    struct Row: Content {
        var id: UUID
        var clientId: String
        var name: String
        var scopes: [String]
        var scopeNames: [String]
        var rateLimit: Int
        var active: Bool
        var createdAt: Date
        var rotatedAt: Date?
        var lastCallAt: Date?
        /// The same in Beijing time, for the page.
        var lastCallText: String?
        /// Where the matters transferred to it are sent (a system with a `receive:` scope).
        var transferUrl: String?
    }

    struct CreateInput: Content { var name: String?; var scopes: [String]?; var rateLimit: Int?; var transferUrl: String? }
    /// The secret, shown once (on creation and on each rotation).
    struct Credentials: Content { var id: UUID; var clientId: String; var clientSecret: String; var name: String }

    static func mayManage(_ p: Principal) -> Bool { p.role == .cityAdmin && p.client == nil }

    static func grant(scopes raw: String, id: UUID, rateLimit: Int) -> Grant {
        Grant(clientID: id, scopes: DelimitedList.decode(raw).compactMap(ClientScope.init(rawValue:)), ratePerMinute: rateLimit)
    }

    // MARK: Registering and rotating

    static func register(_ input: CreateInput, by p: Principal, app: Application, actor: AuditLog.Actor) async throws -> Credentials {
        guard mayManage(p) else { throw AppError(.forbidden, "forbidden", "系统对接由市级管理员登记") }
        var errors = FieldErrors()
        let name = errors.required(input.name, "name", "系统名称", maxLength: 60)
        var parsed: [ClientScope] = []
        switch ClientScope.parse(input.scopes ?? []) {
        case .success(let s): parsed = s
        case .failure(let e): errors.add("scopes", e.message)
        }
        let scopes = parsed
        let rate = input.rateLimit ?? defaultRateLimit
        if !rateLimitRange.contains(rate) { errors.add("rateLimit", "每分钟调用上限应为 \(rateLimitRange.lowerBound)–\(rateLimitRange.upperBound)") }
        let transferURL = input.transferUrl?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let receiving = scopes.compactMap { if case .receive(let t) = $0 { t } else { nil } }
        if !receiving.isEmpty, transferURL == nil { errors.add("transferUrl", "接收转办的系统须填写转办推送地址") }
        if let transferURL, !WorkOrders.acceptable(callbackURL: transferURL) {
            errors.add("transferUrl", "转办推送地址应为 https 地址（本机测试可用 http://127.0.0.1），不超过 500 个字符")
        }
        // One system per target: a transfer to 12345 goes to exactly one place.
        for target in receiving {
            if let taken = try await OutboundTransfers.receiver(of: target, on: app.db as! any SQLDatabase) {
                errors.add("scopes", "已有系统“\(taken.name)”接收转至\(target.chineseName)的事项，请先停用它")
            }
        }
        try errors.throwIfAny()
        guard let city = app.city.code else { throw AppError.conflict("no_city", "请先导入行政区划（pls setup）") }
        let id = UUID()
        let clientID = "pls-" + String(Tokens.random(bytes: 9).lowercased().filter { $0.isLetter || $0.isNumber }.prefix(12))
        let secret = Tokens.random()
        let now = app.clock.now
        let sealed = try app.personalData.seal(secret)
        // Never used to sign in: the account only carries the client's acts (no password).
        let account = Account()
        account.username = "system:" + clientID
        account.displayName = name
        account.role = Role.hotlineOperator.rawValue
        account.regionCode = city.rawValue
        account.active = true
        account.failedLogins = 0
        try await app.db.atomic { tx in
            try await account.create(on: tx)
            let sql = tx as! any SQLDatabase
            try await sql.insert(into: schema)
                .columns("id", "client_id", "name", "scopes", "secret_digest", "secret_sealed", "account_id", "rate_limit", "active", "created_at", "created_by",
                         "transfer_url")
                .values(SQLBind(id), SQLBind(clientID), SQLBind(name), SQLBind(DelimitedList.encode(scopes.map(\.rawValue))),
                        SQLBind(Tokens.digest(secret)), SQLBind(sealed), SQLBind(account.id!), SQLBind(rate), SQLBind(true), SQLBind(now), SQLBind(p.accountID),
                        SQLBind(transferURL))
                .run()
            try await AuditLog.record("system_client.create", target: name, after: ["clientId": clientID, "scopes": scopes.map(\.rawValue).joined(separator: ","),
                                                                                    "rateLimit": String(rate), "transferUrl": transferURL ?? ""],
                                      by: actor, protector: app.personalData, on: sql, at: now)
        }
        return Credentials(id: id, clientId: clientID, clientSecret: secret, name: name)
    }

    /// A new secret; the old one and every token issued with it stop working at once.
    static func rotate(_ id: UUID, by p: Principal, app: Application, actor: AuditLog.Actor) async throws -> Credentials {
        guard mayManage(p) else { throw AppError(.forbidden, "forbidden", "系统对接由市级管理员管理") }
        let stored = try await find(id, on: app.db as! any SQLDatabase)
        let secret = Tokens.random()
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update(schema).set("secret_digest", to: Tokens.digest(secret)).set("secret_sealed", to: try app.personalData.seal(secret))
                .set("rotated_at", to: SQLBind(now)).where("id", .equal, id).run()
            try await sql.delete(from: "api_tokens").where("account_id", .equal, SQLBind(stored.accountId)).run()
            try await AuditLog.record("system_client.rotate", target: stored.name, after: ["clientId": stored.clientId], by: actor,
                                      protector: app.personalData, on: sql, at: now)
        }
        app.tokenCache.revokeAll(of: stored.accountId)
        return Credentials(id: id, clientId: stored.clientId, clientSecret: secret, name: stored.name)
    }

    /// Turned off (or on again): an inactive client's tokens stop working and it cannot get new ones.
    static func setActive(_ id: UUID, _ active: Bool, by p: Principal, app: Application, actor: AuditLog.Actor) async throws {
        guard mayManage(p) else { throw AppError(.forbidden, "forbidden", "系统对接由市级管理员管理") }
        let stored = try await find(id, on: app.db as! any SQLDatabase)
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update(schema).set("active", to: active).where("id", .equal, id).run()
            try await sql.update(Account.schema).set("active", to: active).where("id", .equal, SQLBind(stored.accountId)).run()
            if !active { try await sql.delete(from: "api_tokens").where("account_id", .equal, SQLBind(stored.accountId)).run() }
            try await AuditLog.record(active ? "system_client.activate" : "system_client.deactivate", target: stored.name,
                                      after: ["clientId": stored.clientId], by: actor, protector: app.personalData, on: sql, at: now)
        }
        app.tokenCache.revokeAll(of: stored.accountId)
    }

    struct Stored: Decodable {
        var id: UUID; var clientId: String; var name: String; var scopes: String; var secretDigest: String; var secretSealed: String
        var accountId: UUID; var rateLimit: Int; var active: Bool; var createdAt: Date; var rotatedAt: Date?
    }

    static let columns = "id, client_id, name, scopes, secret_digest, secret_sealed, account_id, rate_limit, active, created_at, rotated_at"

    static func find(_ id: UUID, on db: any SQLDatabase) async throws -> Stored {
        guard let s = try await db.raw("SELECT \(unsafeRaw: columns) FROM system_clients WHERE id = \(bind: id)")
            .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("对接系统") }
        return s
    }

    static func list(on db: any SQLDatabase) async throws -> [Row] {
        struct R: Decodable { var id: UUID; var clientId: String; var name: String; var scopes: String; var rateLimit: Int; var active: Bool
                              var createdAt: Date; var rotatedAt: Date?; var lastCallAt: Date?; var transferUrl: String? }
        return try await db.raw("""
            SELECT c.id, c.client_id, c.name, c.scopes, c.rate_limit, c.active, c.created_at, c.rotated_at, c.transfer_url,
                   (SELECT MAX(l.at) FROM system_client_calls l WHERE l.client_id = c.id) AS last_call_at
            FROM system_clients c ORDER BY c.created_at LIMIT 200
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map { r in
            let scopes = DelimitedList.decode(r.scopes)
            return Row(id: r.id, clientId: r.clientId, name: r.name, scopes: scopes,
                       scopeNames: scopes.compactMap { ClientScope(rawValue: $0)?.chineseName }, rateLimit: r.rateLimit, active: r.active,
                       createdAt: r.createdAt, rotatedAt: r.rotatedAt, lastCallAt: r.lastCallAt,
                       lastCallText: r.lastCallAt.map { DateFormatter.chinaTime.string(from: $0) }, transferUrl: r.transferUrl)
        }
    }

    /// The secret that signs what is sent to the client (`X-PLS-Signature`).
    static func secret(of client: UUID, app: Application, on db: any SQLDatabase) async throws -> String? {
        guard let sealed = try await db.raw("SELECT secret_sealed FROM system_clients WHERE id = \(bind: client)")
            .first(decodingColumn: "secret_sealed", as: String.self) else { return nil }
        let secret: String = try app.personalData.open(sealed)
        return secret
    }

    // MARK: Tokens

    struct TokenInput: Content {
        var grant_type: String?
        var client_id: String?
        var client_secret: String?
    }

    struct TokenAnswer: Content {
        var access_token: String
        var token_type = "Bearer"
        var expires_in: Int
        var scope: String
    }

    /// OAuth 2.0 client credentials (RFC 6749 §4.4): the id and secret in the form or JSON, or as HTTP Basic.
    static func token(_ req: Request) async throws -> TokenAnswer {
        try req.limit(.signIn)
        let input = try req.content.decode(TokenInput.self)
        var id = input.client_id, secret = input.client_secret
        if let basic = req.headers.basicAuthorization { id = basic.username; secret = basic.password }
        guard input.grant_type == "client_credentials" else {
            throw AppError(.badRequest, "unsupported_grant_type", "grant_type 应为 client_credentials")
        }
        guard let id, !id.isEmpty, id.count <= 40, let secret, !secret.isEmpty, secret.count <= 100 else {
            throw AppError(.unauthorized, "invalid_client", "client_id 或 client_secret 不正确")
        }
        struct C: Decodable { var secretDigest: String; var accountId: UUID; var scopes: String; var active: Bool }
        let found = try await req.sql.raw("SELECT secret_digest, account_id, scopes, active FROM system_clients WHERE client_id = \(bind: id)")
            .first(decoding: C.self, keyDecodingStrategy: .snakeCase)
        guard let c = found, Tokens.same(c.secretDigest, Tokens.digest(secret)) else {
            throw AppError(.unauthorized, "invalid_client", "client_id 或 client_secret 不正确")
        }
        guard c.active else { throw AppError(.unauthorized, "invalid_client", "该对接系统已停用") }
        let token = Tokens.random()
        try await ApiToken(accountID: c.accountId, tokenHash: Tokens.digest(token), expiresAt: req.now.addingTimeInterval(tokenLifetime)).create(on: req.db)
        return TokenAnswer(access_token: token, expires_in: Int(tokenLifetime), scope: DelimitedList.decode(c.scopes).joined(separator: " "))
    }

    // MARK: The call log

    struct Call: Content { var at: Date; var method: String; var path: String; var status: Int }

    static func calls(of client: UUID, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Call> {
        let total = try await db.raw("SELECT COUNT(*) AS n FROM system_client_calls WHERE client_id = \(bind: client)").first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await db.raw("""
            SELECT at, method, path, status FROM system_client_calls WHERE client_id = \(bind: client)
            ORDER BY at DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))
            """).all(decoding: Call.self)
        return Paged(items: items, total: total, page: page.page, per: page.per)
    }
}

/// Lets a client's token do only what its scopes name, within its rate limit, and logs each of its calls. Staff and
/// citizens pass untouched.
struct SystemClientGuard: AsyncMiddleware {
    /// The routes each scope opens, by method and path pattern (`:id` for a parameter).
    static let routes: [(ClientScope?, HTTPMethod, String)] = [
        (nil, .GET, "api/v1/me"),
        (.readSubmitted, .GET, "api/v1/work-orders/:reference"),
        (.telephony, .POST, "api/v1/telephony/events"),
        (.telephony, .GET, "api/v1/operators"),
    ] + ClientScope.submitChannels.map { (.submit($0), .POST, "api/v1/requests") }
      + ClientScope.receiveTargets.map { (.receive($0), .POST, "api/v1/transfers/:number/answer") }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let grant = request.auth.get(Principal.self)?.client else { return try await next.respond(to: request) }
        let pattern = request.route?.path.map { "\($0)" }.joined(separator: "/") ?? ""
        let allowed = Self.routes.contains { scope, method, path in
            method == request.method && path == pattern && (scope == nil || grant.allows(scope!))
        }
        do {
            guard allowed else { throw AppError(.forbidden, "scope_denied", "该对接系统未获授权调用此接口") }
            try request.application.rateLimiter.hit(key: "client|" + grant.clientID.uuidString,
                                                    limit: .init(count: grant.ratePerMinute, window: .seconds(60)))
            let response = try await next.respond(to: request)
            try? await log(grant, request, status: Int(response.status.code))
            return response
        } catch {
            let status = (error as? AppError)?.status.code ?? (error as? any AbortError)?.status.code ?? 500
            try? await log(grant, request, status: Int(status))
            throw error
        }
    }

    /// Through the one writing connection: a system calls many times at once, and on the embedded database concurrent
    /// writes on pooled connections wait on each other (group commit writes them together).
    private func log(_ grant: SystemClients.Grant, _ request: Request, status: Int) async throws {
        let at = request.now, method = request.method.rawValue, path = String(request.url.path.prefix(200))
        try await request.application.ledger.write(on: request.db) { w in
            try await (w.db as! any SQLDatabase).insert(into: "system_client_calls").columns("client_id", "at", "method", "path", "status")
                .values(SQLBind(grant.clientID), SQLBind(at), SQLBind(method), SQLBind(path), SQLBind(status)).run()
        }
    }
}

/// The registered systems, their secrets (a digest to check, sealed to sign callbacks with), and their call log.
struct M044CreateSystemClients: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SystemClients.schema)
            .id()
            .field("client_id", .string, .required)
            .field("name", .string, .required)
            .field("scopes", .string, .required)
            .field("secret_digest", .string, .required)
            .field("secret_sealed", .string, .required)
            .field("account_id", .uuid, .required, .references(Account.schema, "id"))
            .field("rate_limit", .int, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("created_by", .uuid, .required)
            .field("rotated_at", .datetime)
            .unique(on: "client_id")
            .unique(on: "account_id")
            .create()
        try await database.schema("system_client_calls")
            .field("client_id", .uuid, .required, .references(SystemClients.schema, "id"))
            .field("at", .datetime, .required)
            .field("method", .string, .required)
            .field("path", .string, .required)
            .field("status", .int, .required)
            .create()
        try await (database as! any SQLDatabase).create(index: "system_client_calls_idx").on("system_client_calls").column("client_id").column("at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("system_client_calls").delete()
        try await database.schema(SystemClients.schema).delete()
    }
}
