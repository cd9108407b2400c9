import Vapor

/// The API's query parameters checked against what `openapi.json` declares for the route, before the handler
/// runs: a number out of its range, a word outside its list or a boolean that is neither `true` nor `false` is
/// the caller's mistake and gets 422 naming the parameter, instead of being ignored or clamped in silence.
/// The document is the contract a department system codes against, so the check and the document cannot drift.
/// Parameters the document does not name pass through (the handler decides what to do with them).
struct QueryValidationMiddleware: AsyncMiddleware {
    enum Rule: Sendable, Equatable {
        case integer(min: Int?, max: Int?)
        case boolean
        case oneOf(Set<String>)
        case text(maxLength: Int?)
    }

    /// "GET api/v1/requests/*" → parameter name → rule.
    let rules: [String: [String: Rule]]

    init(rules: [String: [String: Rule]]) { self.rules = rules }

    /// Reads the query parameters of every operation in an OpenAPI document.
    init(openAPI data: Data) throws {
        guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let paths = doc["paths"] as? [String: Any] else { throw AppError(.internalServerError, "openapi", "openapi.json 无 paths") }
        var rules: [String: [String: Rule]] = [:]
        for (path, value) in paths {
            guard let item = value as? [String: Any] else { continue }
            let shared = item["parameters"] as? [[String: Any]] ?? []
            for (method, op) in item {
                guard let op = op as? [String: Any], ["get", "post", "put", "delete", "patch"].contains(method) else { continue }
                var byName: [String: Rule] = [:]
                for p in shared + (op["parameters"] as? [[String: Any]] ?? []) where p["in"] as? String == "query" {
                    guard let name = p["name"] as? String, let schema = p["schema"] as? [String: Any] else { continue }
                    byName[name] = Self.rule(schema)
                }
                if !byName.isEmpty { rules[Self.key(method.uppercased(), path.split(separator: "/").map(String.init))] = byName }
            }
        }
        self.rules = rules
    }

    private static func rule(_ schema: [String: Any]) -> Rule {
        if let values = schema["enum"] as? [String] { return .oneOf(Set(values)) }
        switch schema["type"] as? String {
        case "integer": return .integer(min: schema["minimum"] as? Int, max: schema["maximum"] as? Int)
        case "boolean": return .boolean
        default: return .text(maxLength: schema["maxLength"] as? Int)
        }
    }

    /// Path parameters compare as `*`, whatever each side calls them.
    static func key(_ method: String, _ components: [String]) -> String {
        method + " " + components.map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "*" : $0 }.joined(separator: "/")
    }

    /// The most any query parameter may hold: a search word or an id, never a document.
    static let longestValue = 200

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let route = request.route, request.url.query != nil,
           let expected = rules[Self.key(request.method.rawValue, route.path.map(\.description))] {
            try Self.check(request, against: expected)
        }
        return try await next.respond(to: request)
    }

    static func check(_ request: Request, against expected: [String: Rule]) throws {
        var errors = FieldErrors()
        for (name, rule) in expected {
            guard let value = request.queryValue(name) else { continue }
            if let problem = problem(with: value, rule) { errors.add(name, problem) }
        }
        try errors.throwIfAny()
    }

    static func problem(with value: String, _ rule: Rule) -> String? {
        switch rule {
        case .integer(let min, let max):
            guard let n = Int(value) else { return "应为整数" }
            if let min, n < min { return "不能小于 \(min)" }
            if let max, n > max { return "不能大于 \(max)" }
        case .boolean:
            if value != "true" && value != "false" { return "应为 true 或 false" }
        case .oneOf(let values):
            if !value.isEmpty && !values.contains(value) { return "取值无效" }
        case .text(let maxLength):
            if value.count > (maxLength ?? longestValue) { return "不能超过 \(maxLength ?? longestValue) 个字" }
            if value.containsControlCharacters { return "不能含有控制字符" }
        }
        return nil
    }
}
