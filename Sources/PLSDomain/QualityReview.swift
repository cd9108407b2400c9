/// 案卷评查: closed cases drawn by a recorded, repeatable rule and scored on a checklist per matter type.
public struct ReviewItem: Sendable, Equatable, Codable {
    public var text: String
    public var points: Int
    public init(text: String, points: Int) {
        self.text = text
        self.points = points
    }
}

public enum ReviewChecklist {
    /// The checklists a city starts with (editable). Legal aid's follows 法律援助法 arts. 57 and 59: the file reviewed,
    /// the hearing attended, the judicial organs' opinion sought, the recipient visited.
    public static func defaults(for matter: MatterType) -> [ReviewItem] {
        switch matter {
        case .legalAid:
            return [ReviewItem(text: "案卷检查：申请、审查、指派材料齐全，文书规范（第五十九条）", points: 25),
                    ReviewItem(text: "庭审旁听或办案过程：承办人员按规定会见、阅卷、出庭（第五十九条）", points: 25),
                    ReviewItem(text: "征询司法机关对承办人员的意见（第五十九条）", points: 25),
                    ReviewItem(text: "回访受援人：对服务满意，无违规收费（第五十九条）", points: 25)]
        case .mediation:
            return [ReviewItem(text: "受理登记和当事人意愿征询完整（人民调解法第十七条）", points: 25),
                    ReviewItem(text: "调解记录和协议书规范，内容合法（第二十八、二十九条）", points: 25),
                    ReviewItem(text: "调解期限和告知事项符合规定", points: 25),
                    ReviewItem(text: "回访协议履行情况", points: 25)]
        default:
            return [ReviewItem(text: "受理登记完整，材料齐全", points: 25),
                    ReviewItem(text: "按时办结，超期有说明", points: 25),
                    ReviewItem(text: "答复准确，依据充分", points: 25),
                    ReviewItem(text: "服务规范，当事人评价良好", points: 25)]
        }
    }

    /// What is wrong with scores given against `items`: one score per item, each from 0 to its points.
    public static func problems(scores: [Int], items: [ReviewItem]) -> String? {
        guard scores.count == items.count else { return "请为每一项评分（共 \(items.count) 项）" }
        for (i, (s, item)) in zip(scores, items).enumerated() where s < 0 || s > item.points {
            return "第 \(i + 1) 项的分数应为 0–\(item.points)"
        }
        return nil
    }
}

/// The grade of a scored case (优秀 90%, 良好 80%, 合格 60% of the checklist's points). A case below 良好 must be
/// rectified: the reviewer writes what is to be put right and the institution reports what it did.
public enum ReviewGrade: String, Sendable, CaseIterable {
    case excellent, good, pass, fail

    public static func of(total: Int, max: Int) -> ReviewGrade {
        guard max > 0 else { return .fail }
        // In whole points times ten, so that 89.9% is not rounded up into 优秀.
        let share = total * 1000 / max
        if share >= 900 { return .excellent }
        if share >= 800 { return .good }
        if share >= 600 { return .pass }
        return .fail
    }

    public var chineseName: String {
        switch self {
        case .excellent: "优秀"
        case .good: "良好"
        case .pass: "合格"
        case .fail: "不合格"
        }
    }

    public var needsRectification: Bool { self == .pass || self == .fail }
}

/// The sample: every closed case of the period and unit ordered by a hash of the recorded seed and its id, the first
/// share of them taken (at least one when there is any). The same seed and cases always give the same sample, so
/// anyone can check it was not chosen by hand.
public enum QualitySample {
    public static let defaultShare = 0.05

    public static func draw(_ ids: [String], share: Double, seed: String) -> [String] {
        guard !ids.isEmpty, share > 0 else { return [] }
        let count = min(ids.count, max(1, Int((Double(ids.count) * min(share, 1)).rounded(.up))))
        return ids.map { ($0, fnv1a(seed + "|" + $0)) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(count).map(\.0)
    }

    /// FNV-1a, 64 bits: simple, fixed, the same on every platform.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return hash
    }
}
