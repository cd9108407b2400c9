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

extension DataScope {
    /// The scope as one SQL condition on `columns`; nil for a scope that sees everything.
    func condition(_ columns: ScopeColumns) -> SQLQueryString? {
        func on(_ column: String?, _ test: (String) -> SQLQueryString) -> SQLQueryString { column.map(test) ?? "1 = 0" }
        switch self {
        case .everything: return nil
        case .region(let code): return on(columns.region) { "\(unsafeRaw: $0) LIKE \(bind: code.scopePrefix + "%")" }
        case .institution(let id): return on(columns.institution) { "\(unsafeRaw: $0) = \(bind: id)" }
        case .own(let id): return on(columns.owner) { "\(unsafeRaw: $0) = \(bind: id)" }
        }
    }
}

extension SQLSelectBuilder {
    func scoped(_ scope: DataScope, _ columns: ScopeColumns) -> Self {
        scope.condition(columns).map { self.where($0) } ?? self
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
