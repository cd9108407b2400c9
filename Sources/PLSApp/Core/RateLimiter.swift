import Vapor
import NIOConcurrencyHelpers

extension Request {
    /// Who is calling, as an address: the peer, or, behind a proxy named in `PLS_TRUSTED_PROXIES`, the last address
    /// it forwarded for. A header from anyone else is not believed (it would let a caller pick its own address).
    var clientAddress: String {
        let peer = remoteAddress?.ipAddress ?? "unknown"
        let trusted = application.settings.trustedProxies
        // Every header line, in order: a proxy that adds a line of its own instead of appending leaves the caller's first.
        let forwarded = headers["X-Forwarded-For"].joined(separator: ",")
        guard trusted.contains(peer), !forwarded.isEmpty else { return Self.counted(peer) }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return Self.counted(hops.last(where: { !trusted.contains($0) }) ?? peer)
    }

    /// An address as limits count it: an IPv6 caller by its /64 network (one subscriber is given a whole /64 and could
    /// otherwise take a fresh address for every try); an IPv4-mapped IPv6 address as the IPv4 one.
    static func counted(_ address: String) -> String {
        guard address.contains(":") else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// A caller on this machine, not relayed by a proxy: the only one the demo outbox is shown to.
    var isLocalCaller: Bool {
        // A proxy on this machine is not a local caller: the visitor behind it is anyone.
        guard let peer = remoteAddress?.ipAddress, Settings.isLoopback(peer), !application.settings.trustedProxies.contains(peer) else { return false }
        return !["X-Forwarded-For", "Forwarded", "X-Real-IP"].contains { headers.first(name: $0) != nil }
    }
}

/// Limits on anonymous and costly endpoints, per address (and per account or number where the caller names one):
/// a fixed window per key, counted in this process. A limit hit is 429 with `Retry-After`. Attempts that must hold
/// across processes (failed sign-ins, code guesses) are counted in the database as well; these limits only keep a
/// flood from one address cheap.
final class RateLimiter: Sendable {
    struct Limit: Sendable {
        var count: Int
        var window: Duration
    }

    /// The endpoints that are limited, and how much each allows an address.
    enum Bucket: String, Sendable, CaseIterable {
        case signIn, smsCode, smsCodeGlobal, lookup, eligibility, rating, importFile
    }

    private struct Window { var start: ContinuousClock.Instant; var used: Int }
    private let windows = NIOLockedValueBox<[String: Window]>([:])
    private let limits: [Bucket: Limit]
    /// A bound on memory under a flood of addresses: past it the oldest half of the windows is dropped.
    private let capacity = 200_000

    init(limits: [Bucket: Limit] = RateLimiter.defaults) { self.limits = limits }

    static let defaults: [Bucket: Limit] = [
        .signIn: .init(count: 20, window: .seconds(60)),
        .smsCode: .init(count: 5, window: .seconds(600)),
        .smsCodeGlobal: .init(count: 120, window: .seconds(60)),
        .lookup: .init(count: 10, window: .seconds(60)),
        .eligibility: .init(count: 60, window: .seconds(60)),
        .rating: .init(count: 20, window: .seconds(60)),
        .importFile: .init(count: 20, window: .seconds(60)),
    ]

    /// Counts one use of `bucket` by `key`; throws 429 with the seconds to wait once the window is used up.
    func hit(_ bucket: Bucket, _ key: String) throws {
        guard let limit = limits[bucket] else { return }
        try hit(key: bucket.rawValue + "|" + key, limit: limit)
    }

    /// The same for a limit of the caller's own (a department system's, set when it was registered).
    func hit(key id: String, limit: Limit) throws {
        let now = ContinuousClock.now
        let wait: Duration? = windows.withLockedValue { w in
            if w.count >= capacity {
                let cutoff = now - limit.window
                w = w.filter { $0.value.start > cutoff }
                if w.count >= capacity { w.removeAll() }
            }
            var window = w[id] ?? Window(start: now, used: 0)
            if now - window.start >= limit.window { window = Window(start: now, used: 0) }
            guard window.used < limit.count else { return limit.window - (now - window.start) }
            window.used += 1
            w[id] = window
            return nil
        }
        if let wait { throw RateLimiter.tooMany(retryAfter: wait) }
    }

    static func tooMany(retryAfter wait: Duration) -> AppError {
        let seconds = max(1, Int(wait.components.seconds) + 1)
        var e = AppError(.tooManyRequests, "rate_limited", "操作过于频繁，请 \(seconds) 秒后再试")
        e.retryAfter = seconds
        return e
    }
}

extension Application {
    private struct RateLimiterKey: StorageKey { typealias Value = RateLimiter }
    var rateLimiter: RateLimiter {
        get {
            guard let r = storage[RateLimiterKey.self] else { fatalError("configure(_:) sets the rate limiter") }
            return r
        }
        set { storage[RateLimiterKey.self] = newValue }
    }
}

extension Request {
    /// Counts this call against `bucket` for the caller's address.
    func limit(_ bucket: RateLimiter.Bucket, key: String? = nil) throws {
        try application.rateLimiter.hit(bucket, key ?? clientAddress)
    }
}
