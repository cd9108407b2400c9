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
        self.init(page: (try? request.query.get(Int.self, at: "page")) ?? 1, per: (try? request.query.get(Int.self, at: "per")) ?? 20)
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
