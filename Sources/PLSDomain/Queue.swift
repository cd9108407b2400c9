/// 取号叫号 at a walk-in centre: a ticket per visitor at the entrance, by matter, the elderly, the disabled and the other
/// groups the plan names served first; each window calls the next.
public enum QueueTicket {
    /// The letter a ticket's number starts with, by matter, so the hall screen tells queues apart at a glance.
    public static func letter(for matter: MatterType) -> String {
        switch matter {
        case .consultation: "A"
        case .legalAid: "B"
        case .mediation: "C"
        case .notarization: "D"
        case .judicialAppraisal: "E"
        case .arbitration: "F"
        case .villageAdviser, .legalPublicity, .complaint: "G"
        }
    }

    /// "A007": the letter and the day's sequence of that centre, three digits (four past 999).
    public static func number(matter: MatterType, sequence: Int) -> String {
        let digits = String(max(0, sequence))
        return letter(for: matter) + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// A ticket waiting to be called.
    public struct Waiting: Sendable, Equatable {
        public var id: String
        public var priority: Bool
        /// Seconds since some fixed instant (when it was issued).
        public var issuedAt: Double
        public var matter: MatterType
        /// The day's number, for tickets issued in the same instant.
        public var sequence: Int
        /// Checked in for an appointment: served before walk-ins (after the groups served first).
        public var appointment: Bool

        public init(id: String, priority: Bool, issuedAt: Double, matter: MatterType, sequence: Int = 0, appointment: Bool = false) {
            self.id = id
            self.priority = priority
            self.issuedAt = issuedAt
            self.matter = matter
            self.sequence = sequence
            self.appointment = appointment
        }
    }

    /// The next to call at a window serving `matters` (all when empty): priority first, then appointments, then the
    /// longest waiting.
    public static func next(_ waiting: [Waiting], serving matters: Set<MatterType> = []) -> Waiting? {
        waiting.filter { matters.isEmpty || matters.contains($0.matter) }
            .min { a, b in
                if a.priority != b.priority { return a.priority }
                if a.appointment != b.appointment { return a.appointment }
                if a.issuedAt != b.issuedAt { return a.issuedAt < b.issuedAt }
                return a.sequence != b.sequence ? a.sequence < b.sequence : a.id < b.id
            }
    }
}

