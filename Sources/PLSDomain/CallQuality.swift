/// 话务质检: each month a share of each operator's answered calls (5% unless the city sets another, Anhui's 12348
/// promises at least 5%) is drawn at random and scored on a checklist; the operator may appeal a score once.
public enum CallQuality {
    /// The checklist: what a good 12348 call does, and what each part weighs (100 in all).
    public enum Item: String, CaseIterable, Sendable, Codable {
        case greeting, accuracy, attitude, closure

        public var chineseName: String {
            switch self {
            case .greeting: "规范用语（开头语、自报工号）"
            case .accuracy: "法律解答准确"
            case .attitude: "服务态度"
            case .closure: "结束语与事项办结"
            }
        }

        public var points: Int {
            switch self {
            case .greeting: 20
            case .accuracy: 40
            case .attitude: 20
            case .closure: 20
            }
        }
    }

    public static let defaultSharePercent = 5
    public static let shareRange = 1...100
    /// A call scoring below this fails the check.
    public static let passingScore = 80

    /// How many of `answered` calls a month's sample takes: the share, rounded up, so an operator who answered any call
    /// has at least one checked; never more than there are.
    public static func sampleSize(answered: Int, sharePercent: Int) -> Int {
        guard answered > 0 else { return 0 }
        let share = min(max(sharePercent, shareRange.lowerBound), shareRange.upperBound)
        return min(answered, (answered * share + 99) / 100)
    }

    /// Draws `count` of `candidates` at random; the seed (the month and the operator) makes the draw reproducible for
    /// the record, hashed as the case-file review's sample hashes its seed (`QualitySample.fnv1a`). None is drawn twice.
    public static func draw<T>(_ candidates: [T], count: Int, seed: String) -> [T] {
        guard count > 0, !candidates.isEmpty else { return [] }
        var generator = SeededGenerator(seed: QualitySample.fnv1a(seed))
        var pool = candidates
        pool.shuffle(using: &generator)
        return Array(pool.prefix(count))
    }

    public enum ScoreError: Error, Equatable {
        case missing(Item)
        case outOfRange(Item)
    }

    /// The total of a scored checklist, each item within 0 and its points.
    public static func total(_ scores: [Item: Int]) -> Result<Int, ScoreError> {
        var sum = 0
        for item in Item.allCases {
            guard let s = scores[item] else { return .failure(.missing(item)) }
            guard (0...item.points).contains(s) else { return .failure(.outOfRange(item)) }
            sum += s
        }
        return .success(sum)
    }
}
