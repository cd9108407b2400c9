import Testing
import Foundation
@testable import PLSDomain

@Suite("UUID text without sprintf")
struct UUIDTextTests {
    @Test("writes what Foundation writes, in either case, and reads it back")
    func roundTrip() {
        var rng = SeededGenerator(seed: 7)
        for n in 0..<5_000 {
            let id = n == 0 ? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                : n == 1 ? UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
                : TimeOrderedID.make(millis: Int64(n) * 1_000_003, using: &rng)
            #expect(UUIDText.string(id) == id.uuidString)
            #expect(UUIDText.string(id, uppercase: false) == id.uuidString.lowercased())
            #expect(UUIDText.parse(id.uuidString) == id)
            #expect(UUIDText.parse(id.uuidString.lowercased()) == id)
        }
        #expect(UUIDText.string(UUID(uuidString: "019CAC46-157B-7ABC-8DEF-0123456789AB")!) == "019CAC46-157B-7ABC-8DEF-0123456789AB")
    }

    @Test("anything but 36 characters with hyphens in their places is not a UUID, as for Foundation")
    func rejects() {
        let bad = ["", "019CAC46157B7ABC8DEF0123456789AB", "019CAC46-157B-7ABC-8DEF-0123456789A", "019CAC46-157B-7ABC-8DEF-0123456789ABC",
                   "019CAC46-157B-7ABC-8DEF-0123456789AG", "019CAC46-157B-7ABC-8DEF+0123456789AB", "019CAC4-6157B-7ABC-8DEF-0123456789AB",
                   "019CAC46-157B-7ABC-8DEF-0123456789A ", "０19CAC46-157B-7ABC-8DEF-0123456789A", "{19CAC46-157B-7ABC-8DEF-0123456789AB}"]
        for text in bad {
            #expect(UUIDText.parse(text) == nil, "\(text)")
            #expect(UUID(uuidString: text) == nil, "Foundation agrees: \(text)")
        }
    }
}
