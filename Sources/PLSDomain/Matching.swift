/// Ranks the practitioners who may take a request. Every point comes with a reason a dispatcher can read.
public enum Matching {
    public struct Facts: Sendable {
        public var specialityMatches: Bool
        /// The practitioner serves the request's village, town or county.
        public var servesRegion: Bool
        /// Works in the same county (the nearest, when none serves the place itself).
        public var sameCounty: Bool
        public var openLoad: Int
        public var capacity: Int
        public var averageRating: Double?
        public var ratingCount: Int
        /// From the duty rota; nil until the centre keeps one.
        public var onDutyToday: Bool?

        public init(specialityMatches: Bool, servesRegion: Bool, sameCounty: Bool, openLoad: Int, capacity: Int,
                    averageRating: Double?, ratingCount: Int, onDutyToday: Bool?) {
            self.specialityMatches = specialityMatches
            self.servesRegion = servesRegion
            self.sameCounty = sameCounty
            self.openLoad = openLoad
            self.capacity = capacity
            self.averageRating = averageRating
            self.ratingCount = ratingCount
            self.onDutyToday = onDutyToday
        }
    }

    public struct Score: Equatable, Sendable {
        public var value: Double
        public var reasons: [String]
        public var overCapacity: Bool
    }

    public static func score(_ f: Facts) -> Score {
        var value = 0.0, reasons: [String] = []
        if f.specialityMatches { value += 40; reasons.append("专长与纠纷类别一致（+40）") }
        if f.servesRegion { value += 25; reasons.append("服务该村（社区）或所在镇、县（+25）") }
        else if f.sameCounty { value += 10; reasons.append("同一县（区），距离较近（+10）") }
        let capacity = max(1, f.capacity)
        let free = max(0, 1 - Double(f.openLoad) / Double(capacity))
        let loadPoints = (20 * free).rounded()
        value += loadPoints
        reasons.append("在办 \(f.openLoad) / 可承办 \(capacity) 件（+\(Int(loadPoints))）")
        // With few ratings the average says little: pull it toward neutral (3).
        let average = f.averageRating ?? 3
        let weight = Double(min(f.ratingCount, 10)) / 10
        let rating = 3 + (average - 3) * weight
        let ratingPoints = (10 * (rating - 1) / 4).rounded()
        value += ratingPoints
        reasons.append(f.ratingCount == 0 ? "暂无评价（+\(Int(ratingPoints))）"
                       : "评价均分 \(String(format: "%.1f", average))，共 \(f.ratingCount) 条（+\(Int(ratingPoints))）")
        if f.onDutyToday == true { value += 5; reasons.append("今日值班（+5）") }
        let over = f.openLoad >= capacity
        // A full practitioner cannot take more: below anyone who has room.
        if over { value -= 60; reasons.append("已满负荷（−60）") }
        return Score(value: value, reasons: reasons, overCapacity: over)
    }
}
