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
}
