import Vapor
import NIOConcurrencyHelpers

/// The platform's sense of "now". Nothing reads the wall clock directly, so tests can set the date.
public final class AppClock: Sendable {
    private let fixed = NIOLockedValueBox<Date?>(nil)
    public init() {}
    public var now: Date { fixed.withLockedValue { $0 } ?? Date() }
    /// Freeze time at `date` (tests), or `nil` to follow the wall clock again.
    public func set(_ date: Date?) { fixed.withLockedValue { $0 = date } }
}

extension Application {
    private struct ClockKey: StorageKey { typealias Value = AppClock }
    public var clock: AppClock {
        if let c = storage[ClockKey.self] { return c }
        let c = AppClock()
        storage[ClockKey.self] = c
        return c
    }
}

extension Request {
    var now: Date { application.clock.now }
}

extension Date {
    /// Milliseconds since 1970: how the ledger stores and hashes an event's time, the same on both databases.
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
