import XCTest
@testable import PLSApp

final class LedgerFormatTests: XCTestCase {
    let id = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!

    func event(actor: String, note: String?) -> LedgerEvent {
        LedgerEvent(requestID: id, atMillis: 1_772_416_800_000, actorID: nil, actorName: actor, action: "accept",
                    fromStatus: "submitted", toStatus: "accepted", note: note)
    }

    /// A separator inside a field cannot make two different events hash alike.
    func testFieldsCannotBleedIntoEachOther() {
        let a = Ledger.canonical(seq: 1, prev: Ledger.genesis, event(actor: "张三|accept", note: nil))
        let b = Ledger.canonical(seq: 1, prev: Ledger.genesis, event(actor: "张三", note: "accept"))
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.contains("张三\\|accept"))
        XCTAssertEqual(Ledger.canonical(seq: 1, prev: "p", event(actor: "a\\", note: nil)).components(separatedBy: "a\\\\").count, 2)
    }

    /// The hash is SHA-256 in lower-case hex: the format verify and every stored event rely on.
    func testHashFormat() {
        XCTAssertEqual(Ledger.hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Ledger.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
