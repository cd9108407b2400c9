import Testing
import Foundation
@testable import PLSDomain

@Suite("The hash chain of the tamper-evident record")
struct HashChainTests {
    private func event(_ n: Int, note: String? = nil) -> LedgerEvent {
        LedgerEvent(requestID: UUID(uuidString: "01A20621-AD00-7054-98EA-CDB1593D24C7")!, atMillis: 1_772_416_800_000 + Int64(n),
                    actorID: nil, actorName: "窗口\(n)", action: "accept", fromStatus: "submitted", toStatus: "accepted", note: note)
    }

    /// A chain of `count` events as the ledger stores them: (seq, prev, hash, event).
    private func chain(_ count: Int) -> [(seq: Int64, prev: String, hash: String, event: LedgerEvent)] {
        var prev = HashChain.genesis
        return (1...count).map { n in
            let e = event(n, note: "第\(n)步")
            let h = HashChain.hash(HashChain.canonical(seq: Int64(n), prev: prev, e))
            defer { prev = h }
            return (Int64(n), prev, h, e)
        }
    }

    private func verify(_ rows: [(seq: Int64, prev: String, hash: String, event: LedgerEvent)], head: (Int64, String)) -> String? {
        var v = HashChain.Verifier()
        for r in rows {
            if let problem = v.check(seq: r.seq, prevHash: r.prev, hash: r.hash, event: r.event, label: "第 \(r.seq) 条事件") { return problem }
        }
        return v.checkHead(lastSeq: head.0, lastHash: head.1)
    }

    @Test func sha256AsLowerCaseHex() {
        #expect(HashChain.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(HashChain.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func fieldsCannotBeShiftedAcrossTheSeparator() {
        var a = event(1), b = event(1)
        a.actorName = "张三|accept"; a.note = nil
        b.actorName = "张三"; b.note = "accept"
        #expect(HashChain.canonical(seq: 1, prev: HashChain.genesis, a) != HashChain.canonical(seq: 1, prev: HashChain.genesis, b))
    }

    @Test func aWholeChainVerifies() {
        let rows = chain(3)
        #expect(verify(rows, head: (3, rows[2].hash)) == nil)
    }

    @Test func anAlteredNoteIsFoundWhereItIs() {
        var rows = chain(3)
        rows[1].event.note = "第2步（改）"
        #expect(verify(rows, head: (3, rows[2].hash)) == "第 2 条事件已被篡改：内容与哈希不符")
    }

    @Test func aRemovedEventIsFound() {
        var rows = chain(3)
        rows.remove(at: 1)
        #expect(verify(rows, head: (3, rows[1].hash)) == "缺少第 2 条事件：已被删除")
    }

    @Test func anEventRehashedAfterAChangeBreaksTheNextLink() {
        var rows = chain(3)
        rows[1].event.note = "改"
        rows[1].hash = HashChain.hash(HashChain.canonical(seq: 2, prev: rows[1].prev, rows[1].event))
        #expect(verify(rows, head: (3, rows[2].hash)) == "第 3 条事件的前序哈希与上一条不符：前面的事件被改动或删除")
    }

    @Test func removedEventsAtTheEndAreFoundByTheHead() {
        let rows = chain(3)
        #expect(verify(Array(rows.prefix(2)), head: (3, rows[2].hash)) == "账本末尾应为第 3 条事件，实际只有 2 条：末尾的事件已被删除或改动")
    }
}
