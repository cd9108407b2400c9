import XCTest
import Foundation

/// The matter-case seam holds: intake, core and the indicators, and the shared templates, never name a capability.
/// A capability plugs in through `MatterCase` (registered in configure.swift) and keeps its code, pages and templates at
/// home; a new one must not need edits to the shared code for what the seam already carries.
final class SeamTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Capability folders of the app and their rules' files in the domain module.
    private static let capabilities = ["Sources/PLSApp/LegalAid", "Sources/PLSApp/Mediation", "Sources/PLSApp/Grassroots"]
    private static let capabilityRules = ["Sources/PLSDomain/LegalAid.swift", "Sources/PLSDomain/Mediation.swift",
                                          "Sources/PLSDomain/Grassroots.swift", "Sources/PLSDomain/Rosters.swift"]
    private static let shared = ["Sources/PLSApp/Intake", "Sources/PLSApp/Core", "Sources/PLSApp/Indicators", "Sources/PLSApp/Web"]
    private static let capabilityTemplates = ["legal-aid", "mediation", "grassroots"]

    private func swiftFiles(under relative: String) throws -> [URL] {
        let url = Self.root.appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return [] }
        if !isDirectory.boolValue { return [url] }
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil).filter { $0.pathExtension == "swift" }
    }

    /// Top-level types a capability declares (nested ones are reached through these).
    private func capabilityTypes() throws -> Set<String> {
        let declaration = try NSRegularExpression(pattern: #"^(?:public |internal |final )*(?:struct|enum|class|protocol|actor|typealias)\s+([A-Z][A-Za-z0-9_]*)"#,
                                                  options: [.anchorsMatchLines])
        var names: Set<String> = []
        for file in try (Self.capabilities + Self.capabilityRules).flatMap(swiftFiles(under:)) {
            let text = try String(contentsOf: file, encoding: .utf8)
            for m in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                names.insert(String(text[Range(m.range(at: 1), in: text)!]))
            }
        }
        return names
    }

    func testSharedCodeNamesNoCapabilityType() throws {
        let types = try capabilityTypes()
        // The scan finds what it must: the cases' own types are among them.
        XCTAssertTrue(types.isSuperset(of: ["LegalAidCases", "LegalAidCase", "MediationCases", "MediationCase", "AidCaseKind", "LegalAidMatterCase"]), "\(types.sorted())")
        let word = try NSRegularExpression(pattern: #"\b[A-Z][A-Za-z0-9_]*\b"#)
        var found: [String] = []
        for file in try Self.shared.flatMap(swiftFiles(under:)) {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (i, line) in lines.enumerated() {
                // Comments may say what a rule is for; code may not name it.
                let code = line.components(separatedBy: "//").first ?? ""
                for m in word.matches(in: code, range: NSRange(code.startIndex..., in: code)) {
                    let name = String(code[Range(m.range, in: code)!])
                    if types.contains(name) { found.append("\(file.lastPathComponent):\(i + 1) \(name)") }
                }
            }
        }
        XCTAssertEqual(found, [], "shared code names a capability: ask `MatterCases` instead")
    }

    func testSharedTemplatesIncludeNoCapabilityTemplateOrSection() throws {
        let views = Self.root.appendingPathComponent("Resources/Views")
        let enumerator = FileManager.default.enumerator(at: views, includingPropertiesForKeys: nil)!
        var shared: [URL] = []
        for case let url as URL in enumerator where url.pathExtension == "leaf" {
            let folder = url.deletingLastPathComponent().lastPathComponent
            if !Self.capabilityTemplates.contains(folder) { shared.append(url) }
        }
        XCTAssertGreaterThan(shared.count, 10)
        // The keys under which the cases add their sections to a request's detail.
        let sectionKey = try NSRegularExpression(pattern: #"CaseSection\(key: "([A-Za-z]+)""#)
        var keys: Set<String> = []
        for file in try Self.capabilities.flatMap(swiftFiles(under:)) {
            let text = try String(contentsOf: file, encoding: .utf8)
            for m in sectionKey.matches(in: text, range: NSRange(text.startIndex..., in: text)) { keys.insert(String(text[Range(m.range(at: 1), in: text)!])) }
        }
        XCTAssertTrue(keys.isSuperset(of: ["legalAid", "mediation", "feeReduction"]), "\(keys)")
        var found: [String] = []
        for file in shared {
            let text = try String(contentsOf: file, encoding: .utf8)
            for folder in Self.capabilityTemplates where text.contains("#extend(\"\(folder)/") { found.append("\(file.lastPathComponent): \(folder)/") }
            for key in keys where text.range(of: #"\b\#(key)\b"#, options: .regularExpression) != nil { found.append("\(file.lastPathComponent): \(key)") }
        }
        XCTAssertEqual(found, [], "a shared template names a capability: render the case's part through `MatterCase`")
    }
}
