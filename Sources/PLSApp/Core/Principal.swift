import Vapor
import Fluent
import SQLKit
import PLSDomain

/// The signed-in account as the rest of the app sees it: who, in which role, and what they may see.
struct Principal: Authenticatable, Sendable {
    var accountID: UUID
    var displayName: String
    var role: Role
    var region: DivisionCode?
    var institutionID: UUID?
    var practitionerID: UUID?
    /// Set when a department's system calls with its token (`SystemClients`): only its scopes' routes are open to it.
    var client: SystemClients.Grant? = nil

    var scope: DataScope {
        DataScope.of(role: role, accountID: accountID, region: region, institutionID: institutionID)
    }

}

extension Principal {
    init?(_ account: Account) {
        guard let id = account.id, let role = Role(rawValue: account.role), account.active else { return nil }
        accountID = id
        displayName = account.displayName
        self.role = role
        region = DivisionCode(account.regionCode)
        institutionID = account.institutionID
        practitionerID = account.practitionerID
    }

    /// The same person acting as the intake desk of an area (a committee taking a dispute in, an adviser
    /// carrying a visit on): a window clerk's powers, bounded to that region.
    func asIntakeDesk(region: DivisionCode?, institution: UUID?) -> Principal {
        Principal(accountID: accountID, displayName: displayName, role: .windowClerk, region: region, institutionID: institution, practitionerID: nil)
    }

    /// 403 unless `allowed`.
    func require(_ allowed: Bool) throws {
        if !allowed { throw AppError.forbidden }
    }
}

extension Request {
    /// The signed-in account, or 401 (API) / a redirect to the sign-in page (browser).
    func principal() throws -> Principal {
        guard let p = auth.get(Principal.self) else { throw AppError.unauthenticated }
        return p
    }

    /// Staff only: citizens and anonymous visitors are turned away.
    func staff() throws -> Principal {
        let p = try principal()
        try p.require(p.role.isStaff)
        return p
    }

    /// The city's settings (calendar, time limits, guides): the city's administrators change them; county
    /// administrators and the read-only roles look.
    func settingsReader() throws -> Principal {
        let p = try staff()
        try p.require(p.role == .cityAdmin || p.role.isReadOnly || p.role == .countyAdmin)
        return p
    }
}

/// `Authorization: Bearer …` for the API. Tokens are stored as digests and expire. One query finds the
/// token and its account together, and what it found is kept for a few seconds (`TokenCache`): every API
/// call needs it, and the query was one more round trip to the database on every one.
struct BearerPrincipalAuthenticator: AsyncBearerAuthenticator {
    struct Row: Decodable {
        var id: UUID
        var displayName: String
        var role: String
        var regionCode: String
        var institutionId: UUID?
        var practitionerId: UUID?
        var expiresAt: Date
        var clientId: UUID?
        var clientScopes: String?
        var clientRateLimit: Int?
    }

    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        let digest = Tokens.digest(bearer.token)
        let cache = request.application.tokenCache
        let now = request.now
        if let held = cache.principal(for: digest, now: now) {
            request.auth.login(held)
            return
        }
        // SQL text: SQLKit's builder quoted each identifier at a cost comparable to the query's.
        guard let row = try await request.sql.raw("""
            SELECT a.id, a.display_name, a.role, a.region_code, a.institution_id, a.practitioner_id, t.expires_at,
                   c.id AS client_id, c.scopes AS client_scopes, c.rate_limit AS client_rate_limit
            FROM api_tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN system_clients c ON c.account_id = a.id
            WHERE t.token_hash = \(bind: digest) AND t.expires_at > \(bind: now) AND a.active = \(bind: true)
            """).first(decoding: Row.self, keyDecodingStrategy: .snakeCase),
              let role = Role(rawValue: row.role) else { return }
        var principal = Principal(accountID: row.id, displayName: row.displayName, role: role, region: DivisionCode(row.regionCode),
                                  institutionID: row.institutionId, practitionerID: row.practitionerId)
        if let client = row.clientId {
            principal.client = SystemClients.grant(scopes: row.clientScopes ?? "", id: client, rateLimit: row.clientRateLimit ?? SystemClients.defaultRateLimit)
        }
        cache.store(principal, for: digest, expiresAt: row.expiresAt)
        request.auth.login(principal)
    }
}

/// Bearer tokens recently checked, by digest. This process drops a token when it is revoked (sign-out) and
/// every token of an account the moment the account is saved (deactivated, its role or area changed:
/// `Invalidation`); another process sees such a change within the lifetime, ten seconds.
final class TokenCache: Sendable {
    private struct Held { var principal: Principal; var expiresAt: Date }
    private let cache = ExpiringCache<String, Held>(lifetime: .seconds(10))

    func principal(for digest: String, now: Date) -> Principal? {
        guard let held = cache.value(for: digest), held.expiresAt > now else { return nil }
        return held.principal
    }

    func store(_ principal: Principal, for digest: String, expiresAt: Date) {
        cache.store(Held(principal: principal, expiresAt: expiresAt), for: digest)
    }

    func revoke(digest: String) { cache.remove(digest) }

    func revokeAll(of account: UUID) { cache.removeAll { $0.principal.accountID == account } }

    struct Invalidation: AsyncModelMiddleware {
        let cache: TokenCache

        func update(model: Account, on db: any Database, next: any AnyAsyncModelResponder) async throws {
            try await next.update(model, on: db)
            if let id = model.id { cache.revokeAll(of: id) }
        }

        func delete(model: Account, force: Bool, on db: any Database, next: any AnyAsyncModelResponder) async throws {
            try await next.delete(model, force: force, on: db)
            if let id = model.id { cache.revokeAll(of: id) }
        }
    }
}

extension Application {
    private struct TokenCacheKey: StorageKey { typealias Value = TokenCache }
    var tokenCache: TokenCache {
        get {
            guard let c = storage[TokenCacheKey.self] else { fatalError("configure(_:) sets the token cache") }
            return c
        }
        set { storage[TokenCacheKey.self] = newValue }
    }
}

/// The browser session stores the account id; the account is read again on each request,
/// so a deactivated account loses access at once.
struct SessionPrincipalAuthenticator: AsyncMiddleware {
    static let key = "account"
    static let signedInAtKey = "signed_in_at"

    /// Times of sign-in and of a password change compared in whole milliseconds (what every database keeps).
    static func milliseconds(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded(.down)
        return ms.isFinite && abs(ms) < 1e15 ? Int64(ms) : 0
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.hasSession, let raw = request.session.data[Self.key], let id = UUID(uuidString: raw),
           let account = try await Account.find(id, on: request.db) {
            // A password changed since this session signed in ends it (the change itself signs its own session in again).
            let signedInAt = request.session.data[Self.signedInAtKey].flatMap(Int64.init)
            let stale = account.credentialsChangedAt.map { changed in signedInAt.map { $0 < Self.milliseconds(changed) } ?? true } ?? false
            if !stale, let principal = Principal(account) {
                request.auth.login(principal)
                // The count beside 提醒 in a staff page's navigation (pages are GETs; a post answers with a redirect).
                if request.method == .GET, principal.role.isStaff {
                    request.storage[UnreadNotifications.self] = try await UnreadNotifications.count(principal.accountID, on: request.sql)
                }
            } else {
                request.session.destroy()
            }
        }
        return try await next.respond(to: request)
    }
}

/// Unread notifications of the signed-in account, counted up to 99 (the badge says "99+" beyond).
enum UnreadNotifications: StorageKey {
    typealias Value = Int

    static func count(_ account: UUID, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            SELECT COUNT(*) AS n FROM (SELECT 1 FROM notifications WHERE account_id = \(bind: account) AND read_at IS NULL LIMIT 100) AS u
            """).first(decodingColumn: "n", as: Int.self) ?? 0
    }
}
