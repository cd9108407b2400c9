import SQLKit
import PLSDomain
import Foundation

/// Where a table keeps the facts a scope is decided on. The one place that turns a
/// `DataScope` into SQL: every list goes through `scoped(_:_:)`, every lookup through `includes`.
struct ScopeColumns: Sendable {
    /// A column, optionally qualified by a table alias: `"i.region_code"`.
    var region: String?
    var institution: String?
    var owner: String?
}

private func scopeColumn(_ qualified: String) -> SQLColumn {
    let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
    return parts.count == 2 ? SQLColumn(parts[1], table: parts[0]) : SQLColumn(qualified)
}

extension Principal {
    /// The region prefix a staff member's area lists cover: their scope's, or for those bound to an
    /// institution the region of their account (a committee sees its own area, not the city's).
    var areaPrefix: String {
        switch scope {
        case .everything: return ""
        case .region(let code): return code.scopePrefix
        case .institution, .own: return region?.scopePrefix ?? "-"
        }
    }
}

extension SQLSelectBuilder {
    func scoped(_ scope: DataScope, _ columns: ScopeColumns) -> Self {
        switch scope {
        case .everything:
            return self
        case .region(let code):
            guard let name = columns.region else { return self.where(SQLRaw("1 = 0")) }
            return self.where(scopeColumn(name), .like, SQLBind(code.scopePrefix + "%"))
        case .institution(let id):
            guard let name = columns.institution else { return self.where(SQLRaw("1 = 0")) }
            return self.where(scopeColumn(name), .equal, SQLBind(id))
        case .own(let id):
            guard let name = columns.owner else { return self.where(SQLRaw("1 = 0")) }
            return self.where(scopeColumn(name), .equal, SQLBind(id))
        }
    }
}

extension DataScope {
    /// Whether a region code (as stored) lies inside this scope. A scope bound to an
    /// institution or a person covers no region on its own.
    func includes(regionCode: String) -> Bool {
        guard let code = DivisionCode(regionCode) else { return false }
        return includes(region: code, institution: nil)
    }
}
