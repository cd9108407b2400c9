import Vapor
import Crypto

/// Configuration read once from the environment (architecture.md, Runtime).
public struct Settings: Sendable {
    public var databaseURL: String?
    public var dataDirectory: String
    public var demo: Bool
    /// The address citizens reach the platform at, for links sent by SMS.
    public var publicURL: String
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PLS_TRUSTED_PROXIES`, comma-separated addresses).
    public var trustedProxies: Set<String> = []
    /// Requests of history the demo city gets on its first start (`PLS_DEMO_HISTORY`, 0 for none): queues, ratings,
    /// loads and indicators then look like a city's, not an empty one's.
    public var demoHistory = 3_000
    /// Multiplies every rate limit (`PLS_RATE_LIMIT_SCALE`): for load tests and the test command, never below 1.
    public var rateLimitScale = 1
    /// What the footer of a government website carries (政府网站发展指引): the site identification code, the ICP and
    /// public security filing numbers, and where errors are reported (`PLS_SITE_CODE`, `PLS_ICP_NUMBER`,
    /// `PLS_PSB_NUMBER`, `PLS_CORRECTION_URL`). Unset, they are left out (the correction link goes to our own page).
    public var siteIdentity = SiteIdentity()
    /// Behind https: cookies are `Secure` and responses carry HSTS.
    public var secureTransport: Bool { publicURL.lowercased().hasPrefix("https://") }
    public var secretKey: SymmetricKey {
        didSet { personalData = PersonalDataProtector(secret: secretKey) }
    }
    /// Derived once from the secret key.
    public private(set) var personalData: PersonalDataProtector

    init(databaseURL: String?, dataDirectory: String, demo: Bool, secretKey: SymmetricKey, publicURL: String) {
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.demo = demo
        self.publicURL = publicURL
        self.secretKey = secretKey
        self.personalData = PersonalDataProtector(secret: secretKey)
    }

    /// A streaming replica of the PostgreSQL database that analytics, indicators and exports may read from
    /// (`DATABASE_READ_URL`); while it lags more than `readMaxLag` or cannot be reached they read from the primary.
    public var readDatabaseURL: String?
    /// How far behind the replica may be and still be read (`PLS_READ_MAX_LAG`, seconds, 1–600; 10 by default).
    public var readMaxLag: Int = 10
    /// PostgreSQL connections per event loop (one loop per core; `PLS_DB_CONNECTIONS_PER_CORE`, 1–32). Measured on
    /// 2 cores shared with PostgreSQL at a million requests (README, Speed): 1 a loop left the filtered list waiting
    /// for a connection; 4 kept both busy.
    public var connectionsPerLoop: Int = 4

    public var usesEmbeddedDatabase: Bool { databaseURL == nil }
    /// The embedded database's file.
    public var sqliteFile: String { dataDirectory + "/pls.sqlite" }

    static func load(from environment: Environment, logger: Logger) throws -> Settings {
        let url = Environment.get("DATABASE_URL").flatMap { $0.isEmpty ? nil : $0 }
        let dir = Environment.get("PLS_DATA_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? "data"
        // Without PLS_DEMO the demo city is loaded only for the embedded database served on loopback (a newcomer's
        // first command): a server other machines can reach never gets demo accounts or the SMS outbox by default.
        let demoSetting = Environment.get("PLS_DEMO").flatMap { $0.isEmpty ? nil : $0 }
        let demo = demoSetting.map { ["1", "true", "yes"].contains($0.lowercased()) }
            ?? (url == nil && Self.servesOnLoopbackOnly(environment.arguments))
        let key: SymmetricKey
        if let hex = Environment.get("PLS_SECRET_KEY"), !hex.isEmpty {
            key = try Self.key(fromHex: hex)
        } else if url == nil {
            key = try Self.generatedKey(in: dir, logger: logger)
        } else {
            throw AppError(.internalServerError, "missing_secret", "使用 PostgreSQL 时必须设置 PLS_SECRET_KEY（64 位十六进制）")
        }
        let publicURL = (Environment.get("PLS_PUBLIC_URL").flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080")
        var settings = Settings(databaseURL: url, dataDirectory: dir, demo: demo, secretKey: key,
                                publicURL: publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL)
        settings.rateLimitScale = min(max(1, Environment.get("PLS_RATE_LIMIT_SCALE").flatMap(Int.init) ?? 1), 10_000)
        settings.demoHistory = min(max(0, Environment.get("PLS_DEMO_HISTORY").flatMap(Int.init) ?? 3_000), 1_000_000)
        func text(_ key: String) -> String? { Environment.get(key).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        settings.siteIdentity = SiteIdentity(siteCode: text("PLS_SITE_CODE"), icpNumber: text("PLS_ICP_NUMBER"),
                                             psbNumber: text("PLS_PSB_NUMBER"), correctionURL: text("PLS_CORRECTION_URL") ?? "/accessibility#correction")
        settings.readDatabaseURL = url == nil ? nil : text("DATABASE_READ_URL")
        settings.readMaxLag = min(max(1, Environment.get("PLS_READ_MAX_LAG").flatMap(Int.init) ?? 10), 600)
        settings.connectionsPerLoop = min(max(1, Environment.get("PLS_DB_CONNECTIONS_PER_CORE").flatMap(Int.init) ?? 4), 32)
        settings.trustedProxies = Set((Environment.get("PLS_TRUSTED_PROXIES") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        return settings
    }

    /// The address `serve` listens on, from its arguments (Vapor's default is 127.0.0.1); any other command
    /// (migrate, demo generate…) listens on nothing.
    static func servesOnLoopbackOnly(_ arguments: [String]) -> Bool {
        let args = Array(arguments.dropFirst())
        guard args.first == nil || args.first == "serve" else { return true }
        if args.contains(where: { $0 == "--bind" || $0 == "-b" || $0.hasPrefix("--bind=") || $0 == "--unix-socket" }) { return false }
        var host = "127.0.0.1"
        for (i, a) in args.enumerated() {
            if (a == "--hostname" || a == "-H"), i + 1 < args.count { host = args[i + 1] }
            if a.hasPrefix("--hostname=") { host = String(a.dropFirst("--hostname=".count)) }
        }
        return isLoopback(host)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    static func key(fromHex hex: String) throws -> SymmetricKey {
        let chars = Array(hex.trimmingCharacters(in: .whitespacesAndNewlines))
        guard chars.count == 64 else {
            throw AppError(.internalServerError, "bad_secret", "PLS_SECRET_KEY 必须是 64 位十六进制（32 字节）")
        }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let b = UInt8(String(chars[i...i + 1]), radix: 16) else {
                throw AppError(.internalServerError, "bad_secret", "PLS_SECRET_KEY 必须是 64 位十六进制（32 字节）")
            }
            bytes.append(b)
        }
        return SymmetricKey(data: bytes)
    }

    /// The embedded default keeps its key beside its database, created on first start.
    private static func generatedKey(in dir: String, logger: Logger) throws -> SymmetricKey {
        let path = dir + "/secret.key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return try key(fromHex: text)
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        guard FileManager.default.createFile(atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AppError(.internalServerError, "secret_not_written", "无法写入密钥文件 \(path)")
        }
        logger.notice("Generated a new secret key in \(path)")
        return key
    }
}

extension Application {
    private struct SettingsKey: StorageKey { typealias Value = Settings }
    public var settings: Settings {
        get {
            guard let s = storage[SettingsKey.self] else { fatalError("configure(_:) sets the settings first") }
            return s
        }
        set { storage[SettingsKey.self] = newValue }
    }
}

/// The footer's identification of a government website.
public struct SiteIdentity: Sendable, Encodable {
    public var siteCode: String?
    public var icpNumber: String?
    public var psbNumber: String?
    public var correctionURL = "/accessibility#correction"
}
