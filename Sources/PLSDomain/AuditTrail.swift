import Foundation

/// One administrative act as the audit log keeps it: who, when, from where, what was done to what, and the thing
/// before and after (JSON as the API shows it; nil for a creation's before or a removal's after).
public struct AuditEntry: Sendable, Equatable {
    public var atMillis: Int64
    public var actorID: UUID?
    public var actorName: String
    public var address: String
    public var action: String
    public var target: String
    public var before: String?
    public var after: String?

    public init(atMillis: Int64, actorID: UUID?, actorName: String, address: String, action: String, target: String,
                before: String?, after: String?) {
        self.atMillis = atMillis; self.actorID = actorID; self.actorName = actorName; self.address = address
        self.action = action; self.target = target; self.before = before; self.after = after
    }
}

/// The audit log's own hash chain, built as the timeline's (`HashChain`): each entry carries the hash of the one
/// before, so an entry altered or removed breaks the chain where it happened.
public enum AuditChain {
    public static func canonical(seq: Int64, prev: String, _ e: AuditEntry) -> String {
        [String(seq), prev, String(e.atMillis), e.actorID.map { UUIDText.string($0, uppercase: false) } ?? "", e.actorName, e.address,
         e.action, e.target, e.before ?? "", e.after ?? ""].map(HashChain.escape).joined(separator: "|")
    }

    public static func hash(seq: Int64, prev: String, _ e: AuditEntry) -> String { HashChain.hash(canonical(seq: seq, prev: prev, e)) }

    /// The first break in stored entries read in order, in Chinese; nil when the chain holds.
    public static func firstProblem(_ entries: [(seq: Int64, prev: String, hash: String, entry: AuditEntry)]) -> String? {
        var expected: Int64 = 1, prev = HashChain.genesis
        for e in entries {
            if e.seq != expected { return "审计日志缺少第 \(expected) 条：已被删除" }
            if e.prev != prev { return "审计日志第 \(e.seq) 条的前序哈希不符：前面的记录被改动或删除" }
            if hash(seq: e.seq, prev: e.prev, e.entry) != e.hash { return "审计日志第 \(e.seq) 条已被篡改" }
            prev = e.hash
            expected += 1
        }
        return nil
    }
}
