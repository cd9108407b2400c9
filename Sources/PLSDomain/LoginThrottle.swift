import Foundation

/// Lock-out after repeated failed sign-ins, so that a password cannot be guessed online.
public struct LoginThrottle: Sendable {
    public var maxFailures: Int
    public var lockDuration: TimeInterval

    public init(maxFailures: Int = 5, lockDuration: TimeInterval = 15 * 60) {
        self.maxFailures = maxFailures
        self.lockDuration = lockDuration
    }

    public struct State: Equatable, Sendable {
        public var failures: Int
        public var lockedUntil: Date?
        public init(failures: Int, lockedUntil: Date?) {
            self.failures = failures
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, at now: Date) -> Bool {
        state.lockedUntil.map { now < $0 } ?? false
    }

    /// The state after a failed attempt: the `maxFailures`-th failure in a row locks the account.
    public func afterFailure(_ state: State, at now: Date) -> State {
        let failures = (state.lockedUntil.map { now >= $0 } ?? false) ? 1 : state.failures + 1
        return State(failures: failures, lockedUntil: failures >= maxFailures ? now.addingTimeInterval(lockDuration) : nil)
    }

    public func afterSuccess() -> State { State(failures: 0, lockedUntil: nil) }

    /// The longest a lock lasts, however often it repeats.
    public static let longestLock: TimeInterval = 24 * 60 * 60

    /// How long the next lock lasts after `locks` earlier ones on the same key: doubling each time, so a patient
    /// attacker gets ever fewer tries a day, up to one lock a day.
    public func lockDuration(afterLocks locks: Int) -> TimeInterval {
        let n = min(max(0, locks), 16)
        return min(lockDuration * Double(1 << n), Self.longestLock)
    }
}
