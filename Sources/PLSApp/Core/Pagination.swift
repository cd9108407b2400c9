import Vapor

/// `?page=&per=`: every list is paged; `per` is capped so no request can ask for the whole table.
struct PageRequest: Sendable {
    /// Far past any real list, and small enough that `offset` cannot overflow (an overflow ends the process).
    static let maxPage = 100_000
    static let maxPer = 100

    var page: Int
    var per: Int
    var offset: Int { (page - 1) * per }

    init(page: Int = 1, per: Int = 20) {
        self.page = min(max(1, page), Self.maxPage)
        self.per = min(max(1, per), Self.maxPer)
    }

    /// A page asked for outside its range is the caller's mistake: 422 naming the parameter, never clamped silently.
    init(from request: Request) throws {
        var errors = FieldErrors()
        let page = Self.parse(request.queryValue("page"), "page", 1...Self.maxPage, default: 1, &errors)
        let per = Self.parse(request.queryValue("per"), "per", 1...Self.maxPer, default: 20, &errors)
        try errors.throwIfAny()
        self.init(page: page, per: per)
    }

    private static func parse(_ raw: String?, _ name: String, _ range: ClosedRange<Int>, default value: Int,
                              _ errors: inout FieldErrors) -> Int {
        guard let raw, !raw.isEmpty else { return value }
        guard let n = Int(raw), range.contains(n) else {
            errors.add(name, "应为 \(range.lowerBound) 到 \(range.upperBound) 之间的整数")
            return value
        }
        return n
    }
}

/// The shape of every list endpoint: `{"items": [...], "total": N, "page", "per"}`.
struct Paged<Item: Content>: Content {
    var items: [Item]
    var total: Int
    var page: Int
    var per: Int

    var pageCount: Int { max(1, (total + per - 1) / per) }
}

extension Request {
    private struct QueryValuesKey: StorageKey { typealias Value = [String: String] }

    /// A plain query parameter (the first of its name), from the query string parsed once per request:
    /// `query.get(_:at:)` decodes the whole string again for every key it is asked.
    func queryValue(_ key: String) -> String? {
        if let cached = storage[QueryValuesKey.self] { return cached[key] }
        var values: [String: String] = [:]
        for pair in (url.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ s: Substring) -> String {
                // Most names and values are plain words: only one with an escape or a '+' goes through Foundation.
                guard s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(s) }
                return String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            let name = decoded(parts[0])
            if values[name] == nil { values[name] = parts.count > 1 ? decoded(parts[1]) : "" }
        }
        storage[QueryValuesKey.self] = values
        return values[key]
    }
}
