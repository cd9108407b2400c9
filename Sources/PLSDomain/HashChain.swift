import Foundation
import Crypto

/// One event of a request's timeline, as the tamper-evident record (区块链+) hashes it.
public struct LedgerEvent: Sendable, Equatable {
    public var requestID: UUID
    public var atMillis: Int64
    public var actorID: UUID?
    public var actorName: String
    public var action: String
    public var fromStatus: String?
    public var toStatus: String
    public var note: String?
    /// The note is the platform's own fixed wording ("经网上登记"), no one's words: stored in clear, where every other
    /// note is sealed. Not hashed (the hash covers the note itself).
    public var noteIsFixedWording: Bool

    public init(requestID: UUID, atMillis: Int64, actorID: UUID?, actorName: String, action: String, fromStatus: String?,
                toStatus: String, note: String?, noteIsFixedWording: Bool = false) {
        self.requestID = requestID
        self.atMillis = atMillis
        self.actorID = actorID
        self.actorName = actorName
        self.action = action
        self.fromStatus = fromStatus
        self.toStatus = toStatus
        self.note = note
        self.noteIsFixedWording = noteIsFixedWording
    }
}

/// The hash chain across every timeline event of the platform: each event carries the hash of the one before it,
/// so that an altered or removed event breaks the chain where it happened. Pure: storing it is the ledger's job.
public enum HashChain {
    public static let genesis = String(repeating: "0", count: 64)

    /// What is hashed: every field that a reader of the timeline relies on, in a fixed order.
    public static func canonical(seq: Int64, prev: String, _ e: LedgerEvent) -> String {
        [String(seq), prev, UUIDText.string(e.requestID, uppercase: false), String(e.atMillis),
         e.actorID.map { UUIDText.string($0, uppercase: false) } ?? "",
         e.actorName, e.action, e.fromStatus ?? "", e.toStatus, e.note ?? ""]
            .map(escape).joined(separator: "|")
    }

    /// The separator and the escape character are escaped; most fields have neither, and skip the work.
    static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\\") }) else { return field }
        return field.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// SHA-256 of the canonical form, in lower-case hex.
    public static func hash(_ canonical: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in SHA256.hash(data: Array(canonical.utf8)) {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Walks stored events in the order of their sequence numbers; the first problem, in Chinese, is the answer.
    public struct Verifier: Sendable {
        public private(set) var checked = 0
        public private(set) var expectedSeq: Int64 = 1
        private var prev = HashChain.genesis

        public init() {}

        /// The next stored event; `label` names it for a person ("第 12 条事件（事项 FW…）").
        public mutating func check(seq: Int64, prevHash: String, hash: String, event: LedgerEvent, label: String) -> String? {
            if seq != expectedSeq { return "缺少第 \(expectedSeq) 条事件：已被删除" }
            if prevHash != prev { return "\(label)的前序哈希与上一条不符：前面的事件被改动或删除" }
            if HashChain.hash(HashChain.canonical(seq: seq, prev: prevHash, event)) != hash { return "\(label)已被篡改：内容与哈希不符" }
            prev = hash
            expectedSeq += 1
            checked += 1
            return nil
        }

        /// After the last event: the stored head must name it, else events at the end were removed or changed.
        public func checkHead(lastSeq: Int64, lastHash: String) -> String? {
            guard lastSeq != Int64(checked) || lastHash != prev else { return nil }
            return "账本末尾应为第 \(lastSeq) 条事件，实际只有 \(checked) 条：末尾的事件已被删除或改动"
        }
    }
}
