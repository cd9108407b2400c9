import Foundation
import NIOConcurrencyHelpers

/// A small in-process cache whose entries expire after `lifetime` of monotonic time. For facts every request
/// reads and that rarely change (who holds a token, a region's name): this process drops an entry the moment
/// it changes them; another process sharing the database sees the change within `lifetime`.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry { var value: Value; var stored: ContinuousClock.Instant }
    private let entries = NIOLockedValueBox<[Key: Entry]>([:])
    let lifetime: Duration
    /// A bound on memory: past it the cache starts again empty (cheaper than tracking use, and rare).
    let capacity: Int

    init(lifetime: Duration, capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func value(for key: Key) -> Value? {
        let now = ContinuousClock.now
        return entries.withLockedValue { e in
            guard let entry = e[key] else { return nil }
            if now - entry.stored >= lifetime {
                e[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func store(_ value: Value, for key: Key) {
        let now = ContinuousClock.now
        entries.withLockedValue { e in
            if e.count >= capacity { e.removeAll() }
            e[key] = Entry(value: value, stored: now)
        }
    }

    func remove(_ key: Key) {
        _ = entries.withLockedValue { $0.removeValue(forKey: key) }
    }

    func removeAll(where shouldRemove: (Value) -> Bool) {
        entries.withLockedValue { e in e = e.filter { !shouldRemove($0.value.value) } }
    }

    func removeAll() {
        entries.withLockedValue { $0.removeAll() }
    }
}
