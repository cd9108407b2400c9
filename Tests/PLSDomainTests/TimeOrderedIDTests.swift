import Testing
import Foundation
@testable import PLSDomain

@Suite("Time-ordered identifiers (UUID version 7, RFC 9562)")
struct TimeOrderedIDTests {
    @Test("version 7, the RFC variant, and the milliseconds read back")
    func layout() throws {
        let millis: Int64 = 1_772_416_800_123
        let id = TimeOrderedID.make(millis: millis)
        let text = id.uuidString
        #expect(Array(text)[14] == "7", "the version nibble")
        #expect("89AB".contains(Array(text)[19]), "the variant bits 10")
        #expect(TimeOrderedID.millis(of: id) == millis)
        // The first 48 bits are the milliseconds in hex: 019CAC46-157B for this instant.
        #expect(text.hasPrefix(String(format: "%08llX-%04llX", millis >> 16, millis & 0xFFFF)))
        #expect(TimeOrderedID.millis(of: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!) == nil)
    }

    @Test("later identifiers sort after earlier ones, as bytes and as stored text")
    func order() {
        var rng = SystemRandomNumberGenerator()
        var previous = TimeOrderedID.make(millis: 1_700_000_000_000, using: &rng)
        for step in 1...2_000 {
            let next = TimeOrderedID.make(millis: 1_700_000_000_000 + Int64(step) * 37, using: &rng)
            #expect(previous.uuidString < next.uuidString)
            #expect(withUnsafeBytes(of: previous.uuid) { a in withUnsafeBytes(of: next.uuid) { b in a.lexicographicallyPrecedes(b) } })
            previous = next
        }
    }

    @Test("the random bits differ within one millisecond")
    func unique() {
        let ids = (0..<1_000).map { _ in TimeOrderedID.make(millis: 1_700_000_000_000) }
        #expect(Set(ids).count == ids.count)
    }
}
