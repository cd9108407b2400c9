/// 预约: a walk-in centre's opening hours on working days (a morning and an afternoon session), cut into slots each
/// taking a few visitors; the portal and the hotline book a slot, and the visitor checks in on arrival.
public struct CentreHours: Sendable, Equatable {
    /// Minutes after midnight: [start, end) of each session, in order.
    public var sessions: [ClosedRange<Int>]
    public var slotMinutes: Int
    public var slotCapacity: Int
    /// What the centre promises a visitor waits at most, in minutes (its target for the share served within it).
    public var waitTargetMinutes: Int

    public static let standard = CentreHours(sessions: [510...720, 840...1050], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20)
    public static let slotRange = 10...120
    public static let capacityRange = 1...50
    public static let waitTargetRange = 5...120

    public init(sessions: [ClosedRange<Int>], slotMinutes: Int, slotCapacity: Int, waitTargetMinutes: Int) {
        self.sessions = sessions
        self.slotMinutes = slotMinutes
        self.slotCapacity = slotCapacity
        self.waitTargetMinutes = waitTargetMinutes
    }

    /// "08:30" → 510; nil unless a time of day.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...23).contains(h), (0...59).contains(m) else { return nil }
        return h * 60 + m
    }

    public static func text(_ minutes: Int) -> String {
        let h = max(0, minutes) / 60, m = max(0, minutes) % 60
        return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    public enum Problem: Error, Equatable { case session, order, slot, capacity, waitTarget }

    /// Checks hours as a centre sets them: each session starts before it ends, sessions do not overlap, slots and
    /// capacity within bounds.
    public static func make(sessions raw: [(String, String)], slotMinutes: Int, slotCapacity: Int, waitTargetMinutes: Int) -> Result<CentreHours, Problem> {
        var sessions: [ClosedRange<Int>] = []
        for (a, b) in raw {
            guard let start = minutes(a), let end = minutes(b), start < end else { return .failure(.session) }
            if let last = sessions.last, start < last.upperBound { return .failure(.order) }
            sessions.append(start...end)
        }
        guard !sessions.isEmpty else { return .failure(.session) }
        guard slotRange.contains(slotMinutes) else { return .failure(.slot) }
        guard capacityRange.contains(slotCapacity) else { return .failure(.capacity) }
        guard waitTargetRange.contains(waitTargetMinutes) else { return .failure(.waitTarget) }
        return .success(CentreHours(sessions: sessions, slotMinutes: slotMinutes, slotCapacity: slotCapacity, waitTargetMinutes: waitTargetMinutes))
    }

    /// The day's slots: whole slots inside each session (a session's tail shorter than a slot is not offered).
    public var slots: [ClosedRange<Int>] {
        sessions.flatMap { s -> [ClosedRange<Int>] in
            stride(from: s.lowerBound, through: s.upperBound - slotMinutes, by: slotMinutes).map { $0...($0 + slotMinutes) }
        }
    }

    public func isSlot(_ start: Int) -> Bool { slots.contains { $0.lowerBound == start } }
}

public enum AppointmentRules {
    /// How far ahead a slot may be booked, in days.
    public static let bookableDays = 14
    /// A visitor may check in from this many minutes before the slot until it ends.
    public static let earlyCheckInMinutes = 30

    public enum CheckIn: Equatable { case allowed, tooEarly, tooLate }

    /// Whether a visitor arriving at `now` (minutes after midnight, the slot's day) may check in for `slot`.
    public static func checkIn(at now: Int, slot: ClosedRange<Int>) -> CheckIn {
        if now < slot.lowerBound - earlyCheckInMinutes { return .tooEarly }
        if now > slot.upperBound { return .tooLate }
        return .allowed
    }
}
