import Testing
@testable import PLSDomain

@Suite("Village legal advisers: the 50-hour pace, log entries, spreadsheets")
struct GrassrootsRulesTests {
    func d(_ s: String) -> CivilDate { CivilDate(s)! }

    @Test("the pace of 50 hours a year, by the day", arguments: [
        ("2026-01-01", 50.0 / 365),
        ("2026-07-02", 50.0 * 183 / 365),
        ("2026-12-31", 50.0),
        ("2028-12-31", 50.0),          // a leap year ends on the target too
    ])
    func pace(day: String, expected: Double) {
        #expect(abs(AdviserTargets.pace(50, on: d(day)) - expected) < 1e-9)
    }

    @Test("behind the pace, with half hours judged to a tenth")
    func behind() {
        // 29 November: 333 days gone, the pace is 45.6 hours.
        #expect(AdviserTargets.isBehind(45.5, annual: 50, on: d("2026-11-29")))
        #expect(!AdviserTargets.isBehind(45.6, annual: 50, on: d("2026-11-29")))
        #expect(!AdviserTargets.isBehind(50, annual: 50, on: d("2026-12-31")))
        #expect(AdviserTargets.isBehind(49.5, annual: 50, on: d("2026-12-31")))
    }

    @Test("an entry is checked whole", arguments: [
        ("2026-11-29", 2.0, 1, 5, [AdviserServiceEntry.Problem]()),
        ("2026-11-30", 2.0, 1, 5, [.future]),
        ("2024-12-31", 2.0, 1, 5, [.tooOld]),
        ("2026-11-01", 0.25, 1, 5, [.hours]),
        ("2026-11-01", 1.2, 0, -1, [.hours, .items, .people]),
        ("2026-11-01", 12.5, 1, 0, [.hours]),
    ])
    func entry(day: String, hours: Double, items: Int, people: Int, problems: [AdviserServiceEntry.Problem]) {
        #expect(AdviserServiceEntry.problems(day: d(day), hours: hours, items: items, people: people, today: d("2026-11-29")) == problems)
    }

    @Test("a consultation or a dispute becomes a request; the rest stay in the log")
    func becomes() {
        #expect(AdviserServiceKind.consultation.becomes == .consultation)
        #expect(AdviserServiceKind.disputeResolution.becomes == .mediation)
        #expect(AdviserServiceKind.publicity.becomes == nil)
    }

    @Test("CSV as spreadsheets write it: quotes, commas, line breaks, a byte-order mark")
    func csv() {
        let rows = [["licence_number", "notes"], ["A1", "说明，含逗号"], ["A2", "他说\"好\"\n第二行"], ["A3", ""]]
        let text = CSVTable.encode(rows)
        #expect(text.hasPrefix("\u{FEFF}"))
        #expect(CSVTable.parse(text) == rows)
        #expect(CSVTable.parse("a,b\r\nc,d\r\n\r\n") == [["a", "b"], ["c", "d"]])
        #expect(CSVTable.parse("x,\"y,z\"") == [["x", "y,z"]])
        // A textarea's CRLF inside a note is quoted, so the row stays whole.
        #expect(CSVTable.parse(CSVTable.encode([["a", "line\r\nbreak"]])) == [["a", "line\r\nbreak"]])
        #expect(CSVTable.parse("a\n,,\nb", keepBlank: true) == [["a"], ["", "", ""], ["b"]])
        #expect(CSVTable.isBlank(["", " "]))
    }
}
