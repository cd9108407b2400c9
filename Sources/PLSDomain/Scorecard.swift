/// Monthly rankings of those who serve, by the ratings of the people served (好差评: 排名通报, 末位约谈): each unit's
/// ratings, satisfaction and bad ratings rectified on time; ranked by satisfaction, then by how many rated; the bottom
/// of the ranking is marked, and a unit at the bottom two months running is due a talk (约谈).
public struct RatingLine: Sendable, Equatable {
    public var id: String
    public var rated: Int
    public var satisfied: Int
    public var bad: Int
    public var rectifiedOnTime: Int

    public init(id: String, rated: Int, satisfied: Int, bad: Int, rectifiedOnTime: Int) {
        self.id = id
        self.rated = rated
        self.satisfied = satisfied
        self.bad = bad
        self.rectifiedOnTime = rectifiedOnTime
    }

    /// Percent satisfied of those rated; nil without ratings.
    public var satisfaction: Double? { rated == 0 ? nil : Double(satisfied) * 100 / Double(rated) }
}

public struct RankedLine: Sendable, Equatable {
    public var line: RatingLine
    public var rank: Int
    /// In the bottom tenth (at least one) of those with enough ratings to be ranked fairly.
    public var bottom: Bool
}

public enum RatingRanking {
    /// Fewer ratings than this say too little to put anyone at the bottom.
    public static let minimumRated = 3

    public static func rank(_ lines: [RatingLine]) -> [RankedLine] {
        let sorted = lines.sorted { a, b in
            let sa = a.satisfaction ?? -1, sb = b.satisfaction ?? -1
            if sa != sb { return sa > sb }
            if a.rated != b.rated { return a.rated > b.rated }
            return a.id < b.id
        }
        let eligible = sorted.filter { $0.rated >= minimumRated }
        let bottomCount = eligible.isEmpty ? 0 : max(1, eligible.count / 10)
        // Only when there is someone to compare with: a unit alone is not at the bottom of anything.
        let bottomIDs = eligible.count < 2 ? [] : Set(eligible.suffix(bottomCount).map(\.id))
        var ranked: [RankedLine] = []
        for (i, line) in sorted.enumerated() {
            // Equal satisfaction and equal counts share a rank.
            let rank = i > 0 && sorted[i - 1].satisfaction == line.satisfaction && sorted[i - 1].rated == line.rated ? ranked[i - 1].rank : i + 1
            ranked.append(RankedLine(line: line, rank: rank, bottom: bottomIDs.contains(line.id)))
        }
        return ranked
    }
}
