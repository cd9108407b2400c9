import Vapor
import Fluent
import SQLKit
import Crypto
import NIOCore
import PLSDomain

/// SMS leave through an outbox: a message is a row of `sms_messages`, written in the transaction of the action that
/// causes it (so a rolled-back action sends nothing), and delivered after commit by `SmsOutbox.deliverDue` through the
/// configured provider, retried with backoff until the provider accepts it. Each message keeps its id across retries,
/// so a provider that was told twice (the process stopped between its answer and our record) can drop the duplicate.
protocol SmsProvider: Sendable {
    var name: String { get }
    func deliver(id: UUID, to mobile: MobileNumber, text: String) async throws
}

/// A provider's refusal: `retryable` for timeouts, 5xx and rate limits; not for a number or template it rejects.
struct SmsNotAccepted: Error, CustomStringConvertible {
    var reason: String
    var retryable: Bool
    var description: String { reason }
}

/// Demo and tests: the message stays in the outbox table (the demo's `/demo/outbox` shows it); the log gets the
/// masked number only.
struct LogOnlySmsProvider: SmsProvider {
    let logger: Logger
    var name: String { "log" }
    func deliver(id: UUID, to mobile: MobileNumber, text: String) async throws {
        logger.info("SMS \(id) to \(mobile.masked) recorded (log-only provider)")
    }
}

/// A provincial government SMS platform, or any gateway that takes a webhook: `POST` JSON `{"id","mobile","text"}`
/// with `X-PLS-Signature: <hex HMAC-SHA256 of the body, keyed with the shared secret>`; any 2xx acknowledges.
struct WebhookSmsProvider: SmsProvider {
    let url: URI
    let secret: SymmetricKey
    let client: any Client
    /// A provider that does not answer within this is tried again later (the delivery loop never hangs on it).
    var timeout: TimeAmount = .seconds(10)
    var name: String { "webhook" }

    struct Body: Content { var id: String; var mobile: String; var text: String }

    static func signature(of body: Data, secret: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: secret).map { String(format: "%02x", $0) }.joined()
    }

    func deliver(id: UUID, to mobile: MobileNumber, text: String) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(Body(id: id.uuidString.lowercased(), mobile: mobile.digits, text: text))
        var headers = HTTPHeaders()
        headers.contentType = .json
        headers.add(name: "X-PLS-Signature", value: Self.signature(of: body, secret: secret))
        let response: ClientResponse
        do {
            response = try await client.post(url, headers: headers) { [timeout] in $0.body = ByteBuffer(data: body); $0.timeout = timeout }.get()
        } catch {
            throw SmsNotAccepted(reason: "网关不可达：\(type(of: error))", retryable: true)
        }
        guard (200..<300).contains(response.status.code) else {
            // 4xx other than a rate limit is a refusal of this message; anything else may pass later.
            let retryable = response.status.code >= 500 || response.status == .tooManyRequests || response.status == .requestTimeout
            throw SmsNotAccepted(reason: "网关答复 \(response.status.code)", retryable: retryable)
        }
    }
}

/// Alibaba Cloud SMS (`SendSms`, API version 2017-05-25, RPC signature version 1.0 with HMAC-SHA1): the most used by
/// government platforms. The signature (SignName) and one approved template whose only parameter carries the text.
struct AliyunSmsProvider: SmsProvider {
    let accessKeyId: String
    let accessKeySecret: String
    let signName: String
    let templateCode: String
    let templateParameter: String
    let endpoint: URI
    let client: any Client
    var timeout: TimeAmount = .seconds(10)
    var name: String { "aliyun" }

    /// RFC 3986 percent-encoding as the RPC signature requires (space as %20, `~` kept).
    static func encode(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The signed parameters of one request: sorted, `METHOD&%2F&` + the encoded canonical query, HMAC-SHA1 keyed
    /// with the secret and `&`, base64.
    static func signed(_ parameters: [String: String], secret: String, method: String = "POST") -> [String: String] {
        let canonical = parameters.sorted { $0.key < $1.key }.map { encode($0.key) + "=" + encode($0.value) }.joined(separator: "&")
        let stringToSign = method + "&" + encode("/") + "&" + encode(canonical)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(stringToSign.utf8), using: SymmetricKey(data: Data((secret + "&").utf8)))
        var out = parameters
        out["Signature"] = Data(mac).base64EncodedString()
        return out
    }

    func deliver(id: UUID, to mobile: MobileNumber, text: String) async throws {
        // The provider adds the signature from SignName: the text goes without our 【…】.
        var content = text
        if content.hasPrefix("【"), let end = content.firstIndex(of: "】") { content = String(content[content.index(after: end)...]) }
        let parameters: [String: String] = [
            "AccessKeyId": accessKeyId, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": mobile.digits, "RegionId": "cn-hangzhou",
            "SignName": signName, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": id.uuidString.lowercased(), "SignatureVersion": "1.0",
            "TemplateCode": templateCode, "TemplateParam": String(decoding: try JSONEncoder().encode([templateParameter: content]), as: UTF8.self),
            // The wall clock, not the app's: the provider refuses a request whose time is far from its own.
            "Timestamp": ISO8601DateFormatter().string(from: Date()), "Version": "2017-05-25", "OutId": id.uuidString.lowercased(),
        ]
        let form = Self.signed(parameters, secret: accessKeySecret).sorted { $0.key < $1.key }
            .map { Self.encode($0.key) + "=" + Self.encode($0.value) }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        let response: ClientResponse
        do {
            response = try await client.post(endpoint, headers: headers) { [timeout] in $0.body = ByteBuffer(string: form); $0.timeout = timeout }.get()
        } catch {
            throw SmsNotAccepted(reason: "阿里云短信不可达：\(type(of: error))", retryable: true)
        }
        struct Answer: Decodable { var Code: String?; var Message: String? }
        let answer = response.body.flatMap { try? JSONDecoder().decode(Answer.self, from: Data(buffer: $0)) }
        guard response.status == .ok, answer?.Code == "OK" else {
            let code = answer?.Code ?? "HTTP \(response.status.code)"
            // Flow control and the service's own trouble pass; a bad number, signature or template does not.
            let retryable = response.status.code >= 500 || code.hasPrefix("isv.BUSINESS_LIMIT_CONTROL") || code == "isp.SYSTEM_ERROR"
                || code == "Throttling" || code.hasPrefix("HTTP")
            throw SmsNotAccepted(reason: "阿里云短信未受理：\(code) \(answer?.Message ?? "")", retryable: retryable)
        }
    }
}

enum SmsOutbox {
    /// Writes the message to the outbox in the caller's transaction; delivery follows the commit.
    static func enqueue(to mobile: MobileNumber, text: String, app: Application, on db: any Database, at now: Date) async throws {
        try await BulkRows.insert(SmsMessage.schema, columns, [try row(to: mobile, text: text, app: app, at: now)][...], on: db as! any SQLDatabase)
    }

    /// Held with the ledger write's other new rows (`Ledger.Writer.insert(into:)`), written with them.
    static func enqueue(to mobile: MobileNumber, text: String, app: Application, writer w: Ledger.Writer, at now: Date) async throws {
        try await w.insert(into: SmsMessage.schema, columns: columns, try row(to: mobile, text: text, app: app, at: now))
    }

    static let columns = ["id", "mobile_masked", "mobile_hash", "mobile_cipher", "text", "created_at", "status", "attempts",
                          "next_attempt_at", "sent_at"]

    private static func row(to mobile: MobileNumber, text: String, app: Application, at now: Date) throws -> [BulkCell] {
        // The log-only provider has nowhere to deliver to: the row is the message, recorded as it is written.
        let recordedOnly = app.smsProvider is LogOnlySmsProvider
        // Codes, names and links in the text: sealed at rest like any personal data.
        return [BulkCell(UUID()), BulkCell(mobile.masked), BulkCell(app.personalData.lookupHash(mobile.digits)),
                BulkCell(try app.personalData.encrypt(mobile.digits)), BulkCell(try app.personalData.seal(text)), BulkCell(now),
                BulkCell((recordedOnly ? Status.sent : Status.pending).rawValue), BulkCell(0), BulkCell(now),
                BulkCell(recordedOnly ? now : nil)]
    }

    enum Status: String { case pending, sending, sent, failed }

    /// After this many attempts (about a day of backoff) a message is given up and shown as failed.
    static let maxAttempts = 12

    /// Seconds before attempt `n + 1`: 10 s, 20 s, 40 s … at most an hour.
    static func backoff(afterAttempts n: Int) -> Double { min(3_600, 10 * pow(2, Double(max(0, n - 1)))) }

    /// Delivers what is due, each message claimed first (several processes may run this), and returns how many were
    /// accepted. A claim that outlived its process (stopped mid-send) falls due again, under the same id.
    @discardableResult
    static func deliverDue(app: Application, limit: Int = 200) async throws -> Int {
        let db = app.db as! any SQLDatabase
        let now = app.clock.now
        struct Row: Decodable { var id: UUID; var mobileCipher: String?; var text: String; var attempts: Int? }
        let rows = try await db.select().columns("id", "mobile_cipher", "text", "attempts").from(SmsMessage.schema)
            .where { $0.where("status", .equal, Status.pending.rawValue).orWhere("status", .equal, Status.sending.rawValue) }
            .where("next_attempt_at", .lessThanOrEqual, SQLBind(now)).orderBy("next_attempt_at").limit(limit)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        var accepted = 0
        for row in rows {
            // The claim: a lease of a minute, taken by one process only.
            let claimed = try await db.raw("""
                UPDATE sms_messages SET status = \(bind: Status.sending.rawValue), next_attempt_at = \(bind: now.addingTimeInterval(60))
                WHERE id = \(bind: row.id) AND status IN (\(bind: Status.pending.rawValue), \(bind: Status.sending.rawValue))
                  AND next_attempt_at <= \(bind: now) RETURNING id
                """).all()
            guard !claimed.isEmpty else { continue }
            let attempts = (row.attempts ?? 0) + 1
            do {
                guard let cipher = row.mobileCipher, let mobile = MobileNumber(try app.personalData.decrypt(cipher)) else {
                    throw SmsNotAccepted(reason: "号码无法读取", retryable: false)
                }
                try await app.smsProvider.deliver(id: row.id, to: mobile, text: try app.personalData.open(row.text))
                try await db.update(SmsMessage.schema).set("status", to: Status.sent.rawValue).set("attempts", to: attempts)
                    .set("sent_at", to: SQLBind(app.clock.now)).set("last_error", to: SQLLiteral.null).where("id", .equal, row.id).run()
                accepted += 1
            } catch {
                let refusal = error as? SmsNotAccepted ?? SmsNotAccepted(reason: "\(type(of: error))", retryable: true)
                let givenUp = !refusal.retryable || attempts >= maxAttempts
                try await db.update(SmsMessage.schema)
                    .set("status", to: givenUp ? Status.failed.rawValue : Status.pending.rawValue).set("attempts", to: attempts)
                    .set("last_error", to: String(refusal.reason.prefix(200)))
                    .set("next_attempt_at", to: SQLBind(now.addingTimeInterval(backoff(afterAttempts: attempts)))).where("id", .equal, row.id).run()
                app.logger.warning("SMS \(row.id) not accepted (attempt \(attempts)\(givenUp ? ", given up" : "")): \(refusal.reason)")
            }
        }
        return accepted
    }

    /// The provider chosen by `PLS_SMS_PROVIDER` (log, webhook, aliyun) with its settings; a missing one refuses to start.
    static func provider(from env: [String: String], app: Application) throws -> any SmsProvider {
        func need(_ key: String) throws -> String {
            guard let v = env[key], !v.isEmpty else {
                throw AppError(.internalServerError, "sms_config", "短信配置不完整：缺少 \(key)（PLS_SMS_PROVIDER=\(env["PLS_SMS_PROVIDER"] ?? "")）")
            }
            return v
        }
        switch env["PLS_SMS_PROVIDER"].flatMap({ $0.isEmpty ? nil : $0 }) ?? "log" {
        case "log":
            return LogOnlySmsProvider(logger: app.logger)
        case "webhook":
            return WebhookSmsProvider(url: URI(string: try need("PLS_SMS_WEBHOOK_URL")),
                                      secret: SymmetricKey(data: Data(try need("PLS_SMS_WEBHOOK_SECRET").utf8)), client: app.client)
        case "aliyun":
            return AliyunSmsProvider(accessKeyId: try need("PLS_SMS_ALIYUN_ACCESS_KEY_ID"), accessKeySecret: try need("PLS_SMS_ALIYUN_ACCESS_KEY_SECRET"),
                                     signName: try need("PLS_SMS_ALIYUN_SIGN_NAME"), templateCode: try need("PLS_SMS_ALIYUN_TEMPLATE_CODE"),
                                     templateParameter: env["PLS_SMS_ALIYUN_TEMPLATE_PARAM"] ?? "content",
                                     endpoint: URI(string: env["PLS_SMS_ALIYUN_ENDPOINT"] ?? "https://dysmsapi.aliyuncs.com/"), client: app.client)
        case let other:
            throw AppError(.internalServerError, "sms_config", "PLS_SMS_PROVIDER=\(other) 无效：可选 log、webhook、aliyun")
        }
    }
}

extension RepeatingJob {
    /// Delivers the outbox every two seconds.
    static let smsDelivery = RepeatingJob(name: "sms", initialDelay: .seconds(1), interval: .seconds(2)) { app in
        do { try await SmsOutbox.deliverDue(app: app) } catch { app.logger.report(error: error) }
    }
}

extension Application {
    /// Sends `text` signed with the city's sender signature (【…】, `CityIdentity.smsSignature`), which every
    /// provider requires and which the code never spells: into the outbox, in the caller's transaction.
    func sendSMS(to mobile: MobileNumber, _ text: String, on db: any Database, at now: Date) async throws {
        try await SmsOutbox.enqueue(to: mobile, text: city.smsSignature + text, app: self, on: db, at: now)
    }

    func sendSMS(to mobile: MobileNumber, _ text: String, writer w: Ledger.Writer, at now: Date) async throws {
        try await SmsOutbox.enqueue(to: mobile, text: city.smsSignature + text, app: self, writer: w, at: now)
    }

    private struct SmsProviderKey: StorageKey { typealias Value = any SmsProvider }
    var smsProvider: any SmsProvider {
        get { storage[SmsProviderKey.self] ?? LogOnlySmsProvider(logger: logger) }
        set { storage[SmsProviderKey.self] = newValue }
    }
}

/// The outbox's delivery columns.
struct M030AddSmsOutbox: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one at a time.
        for (column, type) in [("mobile_cipher", DatabaseSchema.DataType.string), ("status", .string), ("attempts", .int),
                               ("next_attempt_at", .datetime), ("sent_at", .datetime), ("last_error", .string)] {
            try await database.schema(SmsMessage.schema).field(.definition(name: .key(FieldKey(stringLiteral: column)), dataType: type, constraints: []))
                .update()
        }
        let sql = database as! any SQLDatabase
        // What the log-only gateway recorded before the outbox existed was never to be sent.
        try await sql.update(SmsMessage.schema).set("status", to: SmsOutbox.Status.sent.rawValue).set("attempts", to: 0).run()
        try await sql.create(index: "sms_messages_due_idx").on(SmsMessage.schema).column("status").column("next_attempt_at").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "sms_messages_due_idx").run()
        for column in ["last_error", "sent_at", "next_attempt_at", "attempts", "status", "mobile_cipher"] {
            try await sql.raw("ALTER TABLE \(ident: SmsMessage.schema) DROP COLUMN \(ident: column)").run()
        }
    }
}
