import XCTest
@testable import SQLKit
@testable import PLSApp

/// Our fast key conversion must name exactly the columns SQLKit's own would.
final class SnakeCaseTests: XCTestCase {
    func testSameColumnsAsSQLKit() {
        var keys = ["id", "number", "regionCode", "applicantMobileMasked", "applicantIDMasked", "practitionerId", "atMillis", "sha256",
                    "prevHash", "URL", "myURLProperty", "a", "aB", "ABc", "x1Y2", "institutionName", "overdue", "concludeDue", "photoIDs", "HTTPStatus"]
        // And a few thousand made up of the pieces property names are made of.
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "b", "Id", "ID", "URL", "x", "Y", "1", "2", "name", "Name", "HTTP", "s", "Z"]
        for _ in 0..<3_000 { keys.append((0..<Int.random(in: 1...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()) }
        for key in keys {
            XCTAssertEqual(SnakeCase.convert(key), key.convertedToSnakeCase, key)
        }
        XCTAssertEqual(SnakeCase.convert("applicantMobileMasked"), "applicant_mobile_masked")
    }
}
