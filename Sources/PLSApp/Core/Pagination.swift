import Vapor

/// `?page=&per=`: every list is paged; `per` is capped so no request can ask for the whole table.
struct PageRequest: Sendable {
    var page: Int
    var per: Int
    var offset: Int { (page - 1) * per }

    init(page: Int = 1, per: Int = 20) {
        self.page = max(1, page)
        self.per = min(max(1, per), 100)
    }

    init(from request: Request) {
        self.init(page: request.queryValue("page").flatMap { Int($0) } ?? 1, per: request.queryValue("per").flatMap { Int($0) } ?? 20)
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
