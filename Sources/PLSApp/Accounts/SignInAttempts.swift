import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Failed sign-ins, counted per account (or the name typed, when there is no such account) *and* address, in the
/// database, so that every process sharing it counts the same tries. A try is reserved by one conditional update
/// before the password is checked: a burst of parallel guesses gets no more tries than the limit, and the right
/// password after a lock is refused too. Keyed per address, so an attacker locks out only themselves: nobody can
/// lock the administrator out of their own desk by typing wrong passwords elsewhere. Repeated locks grow longer.
/// Names and addresses are stored as keyed hashes only.
enum SignInAttempts {
    static let throttle = LoginThrottle()

    struct Key {
        /// Whose attempts: `staff|username`, `citizen|mobile hash`, `password|account id`.
        var subject: String
        var key: String
        /// The account, when the name is one: administrators see its locks and clear them.
        var account: UUID?
    }

    static func key(_ kind: String, _ name: String, address: String, account: UUID?, personalData: PersonalDataProtector) -> Key {
        let subject = personalData.lookupHash(kind + "|" + name)
        return Key(subject: subject, key: personalData.lookupHash(subject + "|" + address), account: account)
    }

    struct Reserved: Decodable { var failures: Int; var lockCount: Int }

    /// A try is answered (failed or succeeded) within seconds; a count left full longer than this was left by one that
    /// never was (an error between the reservation and the answer), and does not lock the key for ever.
    static let staleAfter: TimeInterval = 5 * 60

    static let locked = AppError(.tooManyRequests, "account_locked", "登录失败次数过多，账号已临时锁定，请稍后再试")

    static func lockedError(until: Date?, now: Date) -> AppError {
        var e = locked
        if let until {
            let minutes = max(1, Int((until.timeIntervalSince(now) / 60).rounded(.up)))
            e.message = "登录失败次数过多，已临时锁定，请 \(minutes) 分钟后再试"
            e.retryAfter = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        }
        return e
    }

    /// Takes one try, or throws 429 while the key is locked or its tries are all in flight.
    static func reserve(_ key: Key, on db: any SQLDatabase, now: Date) async throws -> Reserved {
        try await db.raw("""
            INSERT INTO sign_in_attempts (attempt_key, subject, account_id, failures, lock_count, updated_at)
            VALUES (\(bind: key.key), \(bind: key.subject), \(bind: key.account), 0, 0, \(bind: now)) ON CONFLICT (attempt_key) DO NOTHING
            """).run()
        // A lock that has run out opens the key again with a fresh count (the lock count stays, so the next lock is longer),
        // and so does a full count nobody locked for a while (the try that reached it was never answered: an error).
        let stale = now.addingTimeInterval(-staleAfter)
        if let row = try await db.raw("""
            UPDATE sign_in_attempts SET
              failures = CASE WHEN (locked_until IS NOT NULL AND locked_until <= \(bind: now))
                                OR (locked_until IS NULL AND updated_at <= \(bind: stale)) THEN 1 ELSE failures + 1 END,
              locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= \(bind: now) THEN NULL ELSE locked_until END,
              updated_at = \(bind: now)
            WHERE attempt_key = \(bind: key.key)
              AND (locked_until IS NULL OR locked_until <= \(bind: now))
              AND (failures < \(bind: throttle.maxFailures) OR locked_until IS NOT NULL OR updated_at <= \(bind: stale))
            RETURNING failures, lock_count
            """).first(decoding: Reserved.self, keyDecodingStrategy: .snakeCase) {
            return row
        }
        struct Lock: Decodable { var lockedUntil: Date? }
        let until = try await db.raw("SELECT locked_until FROM sign_in_attempts WHERE attempt_key = \(bind: key.key)")
            .first(decoding: Lock.self, keyDecodingStrategy: .snakeCase)?.lockedUntil
        throw lockedError(until: until, now: now)
    }

    /// After a wrong password: the try that reached the limit locks the key (only one of a burst matches).
    /// Returns the lock's end when this failure locked it.
    @discardableResult
    static func failed(_ key: Key, reserved: Reserved, on db: any SQLDatabase, now: Date) async throws -> Date? {
        guard reserved.failures >= throttle.maxFailures else { return nil }
        let until = now.addingTimeInterval(throttle.lockDuration(afterLocks: reserved.lockCount))
        struct Locked: Decodable { var lockCount: Int }
        let locked = try await db.raw("""
            UPDATE sign_in_attempts SET locked_until = \(bind: until), lock_count = lock_count + 1, updated_at = \(bind: now)
            WHERE attempt_key = \(bind: key.key) AND locked_until IS NULL AND failures >= \(bind: throttle.maxFailures)
            RETURNING lock_count
            """).first(decoding: Locked.self, keyDecodingStrategy: .snakeCase)
        return locked == nil ? nil : until
    }

    /// After the right password: the key starts again from nothing.
    static func succeeded(_ key: Key, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM sign_in_attempts WHERE attempt_key = \(bind: key.key)").run()
    }

    /// An administrator unlocking an account (a new password, reactivation) clears it from every address.
    static func clear(account: UUID, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM sign_in_attempts WHERE account_id = \(bind: account)").run()
    }
}

struct M022CreateSignInAttempts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("sign_in_attempts")
            .field("attempt_key", .string, .identifier(auto: false))
            .field("subject", .string, .required)
            .field("account_id", .uuid)
            .field("failures", .int, .required)
            .field("lock_count", .int, .required)
            .field("locked_until", .datetime)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "sign_in_attempts_account_idx").on("sign_in_attempts").column("account_id").run()
        // A password change or reset ends every other session and token: sessions signed in before it are refused.
        try await database.schema(Account.schema).field("credentials_changed_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Account.schema).deleteField("credentials_changed_at").update()
        try await database.schema("sign_in_attempts").delete()
    }
}
