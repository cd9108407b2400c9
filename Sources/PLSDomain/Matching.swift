/// Ranks the practitioners who may take a request. Every point comes with a reason a dispatcher can read,
/// and people with the same score are ordered by a rule the list states.
public enum Matching {
    /// How near the practitioner's service area is to the request's place: the village itself beats its town,
    /// the town its county, and the county someone who merely works in it.
    public enum Place: Sendable, Equatable {
        case village, town, county, sameCounty, elsewhere

        var points: Double {
            switch self { case .village: 25; case .town: 20; case .county: 15; case .sameCounty: 10; case .elsewhere: 0 }
        }
        var reason: String {
            switch self {
            case .village: "服务该村（社区）"
            case .town: "服务所在乡镇（街道）"
            case .county: "服务所在县（区）"
            case .sameCounty: "同一县（区）执业，距离较近"
            case .elsewhere: "市级机构，服务全市"
            }
        }
    }

    public struct Facts: Sendable {
        /// How many specialities the practitioner lists, when the request's category is one of them (nil when it is
        /// not): one who does only this is the closer match.
        public var specialityCount: Int?
        public var place: Place
        public var openLoad: Int
        public var capacity: Int
        public var averageRating: Double?
        public var ratingCount: Int
        /// Requests assigned to them in the last 30 days: work is shared round, not heaped on the best.
        public var recentAssignments: Int
        /// From the duty rota; nil until the centre keeps one.
        public var onDutyToday: Bool?

        public init(specialityCount: Int?, place: Place, openLoad: Int, capacity: Int, averageRating: Double?, ratingCount: Int,
                    recentAssignments: Int = 0, onDutyToday: Bool?) {
            self.specialityCount = specialityCount
            self.place = place
            self.openLoad = openLoad
            self.capacity = capacity
            self.averageRating = averageRating
            self.ratingCount = ratingCount
            self.recentAssignments = recentAssignments
            self.onDutyToday = onDutyToday
        }
    }

    public struct Score: Equatable, Sendable {
        /// To one decimal, as shown.
        public var value: Double
        public var reasons: [String]
        public var overCapacity: Bool
    }

    static func tenth(_ x: Double) -> Double { (x * 10).rounded() / 10 }
    static func points(_ x: Double) -> String {
        let t = tenth(x)
        let text = t == t.rounded() ? String(Int(t)) : String(t)
        return t < 0 ? "−" + text.dropFirst() : "+" + text
    }

    public static func score(_ f: Facts) -> Score {
        var value = 0.0, reasons: [String] = []
        func add(_ p: Double, _ why: String) { value += p; reasons.append("\(why)（\(points(p))）") }
        if let n = f.specialityCount {
            let count = max(1, n)
            add(tenth(30 + 10 / Double(count)), count == 1 ? "专攻该纠纷类别" : "专长包括该纠纷类别（共 \(count) 项专长）")
        }
        if f.place != .elsewhere { add(f.place.points, f.place.reason) }
        let capacity = max(1, f.capacity)
        let open = max(0, f.openLoad)
        let free = max(0, 1 - Double(open) / Double(capacity))
        add(tenth(20 * free), "在办 \(open) / 可承办 \(capacity) 件")
        // With few ratings the average says little: pull it toward neutral (3).
        let average = min(5, max(1, f.averageRating ?? 3))
        let weight = Double(min(max(0, f.ratingCount), 10)) / 10
        let rating = 3 + (average - 3) * weight
        add(tenth(10 * (rating - 1) / 4), f.ratingCount <= 0 ? "暂无评价，按中等计"
            : "评价均分 \(tenth(average))，共 \(f.ratingCount) 条")
        let recent = max(0, f.recentAssignments)
        if recent > 0 { add(-min(5, 0.5 * Double(recent)), "近 30 日已分派 \(recent) 件") }
        if f.onDutyToday == true { add(5, "今日值班") }
        let over = open >= capacity
        // A full practitioner cannot take more: below anyone who has room.
        if over { add(-60, "已满负荷") }
        return Score(value: tenth(value), reasons: reasons, overCapacity: over)
    }

    /// One candidate as the ranking sees it.
    public struct Entry: Sendable {
        public var score: Double
        public var openLoad: Int
        public var recentAssignments: Int
        public var name: String
        public init(score: Double, openLoad: Int, recentAssignments: Int, name: String) {
            self.score = score; self.openLoad = openLoad; self.recentAssignments = recentAssignments; self.name = name
        }
    }

    /// The order of the candidates, best first, and for each one level with the one above it what put it below:
    /// fewer open matters first, then fewer assigned lately, then by name.
    public static func rank(_ entries: [Entry]) -> [(index: Int, tieBreak: String?)] {
        let order = entries.indices.sorted { a, b in
            let x = entries[a], y = entries[b]
            if x.score != y.score { return x.score > y.score }
            if x.openLoad != y.openLoad { return x.openLoad < y.openLoad }
            if x.recentAssignments != y.recentAssignments { return x.recentAssignments < y.recentAssignments }
            return x.name < y.name
        }
        return order.enumerated().map { position, i in
            guard position > 0 else { return (i, nil) }
            let above = entries[order[position - 1]], me = entries[i]
            guard above.score == me.score else { return (i, nil) }
            let why = above.openLoad != me.openLoad ? "在办件数较少者优先"
                : above.recentAssignments != me.recentAssignments ? "近 30 日分派较少者优先" : "按姓名排序"
            return (i, "与\(above.name)同分，\(why)")
        }
    }
}
