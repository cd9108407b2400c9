import SQLKit

/// `column LIKE ? ESCAPE '\'` with the searched text escaped: a `%` or `_` someone types is a character to find,
/// not a wildcard (a search for "%" must not list everything).
struct SQLLike: SQLExpression {
    let column: any SQLExpression
    let pattern: String

    static func contains(_ column: any SQLExpression, _ text: String) -> SQLLike { SQLLike(column: column, pattern: "%" + escape(text) + "%") }
    static func startsWith(_ column: any SQLExpression, _ text: String) -> SQLLike { SQLLike(column: column, pattern: escape(text) + "%") }

    static func escape(_ text: String) -> String {
        // By scalar: a `%` followed by a combining mark is one Character, and must still be escaped.
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if u == "\\" || u == "%" || u == "_" { out.append("\\") }
            out.append(u)
        }
        return String(out)
    }

    func serialize(to serializer: inout SQLSerializer) {
        column.serialize(to: &serializer)
        serializer.write(" LIKE ")
        SQLBind(pattern).serialize(to: &serializer)
        serializer.write(" ESCAPE '\\'")
    }
}
