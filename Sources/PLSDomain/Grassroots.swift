// Grassroots legal services: village legal advisers' quantified service (实施方案 三(三)、四(九)).

/// What an adviser did on a visit.
public enum AdviserServiceKind: String, ChineseNamed, Codable {
    case consultation
    case legalOpinion = "legal_opinion"
    case publicity
    case documentDrafting = "document_drafting"
    case disputeResolution = "dispute_resolution"
    case petitionAssistance = "petition_assistance"

    public var chineseName: String {
        switch self {
        case .consultation: "法律咨询"
        case .legalOpinion: "出具法律意见"
        case .publicity: "法治宣传"
        case .documentDrafting: "代写法律文书"
        case .disputeResolution: "参与矛盾纠纷化解"
        case .petitionAssistance: "协助信访接待"
        }
    }

    /// A consultation or a dispute can become a service request in one step.
    public var becomes: MatterType? {
        switch self {
        case .consultation: .consultation
        case .disputeResolution: .mediation
        default: nil
        }
    }
}

/// The plan's figures for village advisers.
public enum AdviserTargets {
    /// Every village and community is served at least 50 hours a year.
    public static let hoursPerVillage = 50.0
    /// The city's advisers deliver at least 17,000 services a year.
    public static let itemsPerYear = 17_000

    /// The share of a yearly target due by `day` at an even pace (1 January counts as one day gone).
    public static func pace(_ annual: Double, on day: CivilDate) -> Double {
        let first = CivilDate(CivilDate.pad(day.year, 4) + "-01-01")!
        let days = CivilDate.isLeap(day.year) ? 366.0 : 365.0
        return annual * Double(day.dayNumber - first.dayNumber + 1) / days
    }

    /// Behind when the year's total so far is below the pace; rounded to a tenth of an hour so that
    /// logged half hours are not judged by floating point dust.
    public static func isBehind(_ actual: Double, annual: Double, on day: CivilDate) -> Bool {
        (actual * 10).rounded() < (pace(annual, on: day) * 10).rounded(.down)
    }

    /// A part of the city's yearly total for a county or town: the plan sets the total for the city only,
    /// so each part carries the share of its villages and communities, rounded up so the parts cover the whole.
    public static func share(of total: Int, villages: Int, ofCity cityVillages: Int) -> Int {
        guard cityVillages > 0, villages > 0 else { return 0 }
        return min(total, (total * villages + cityVillages - 1) / cityVillages)
    }
}

/// One line of the service log, as entered on a phone or imported from a county's spreadsheet.
public struct AdviserServiceEntry: Equatable, Sendable {
    public var day: CivilDate
    public var hours: Double
    public var kind: AdviserServiceKind
    public var items: Int
    public var people: Int

    public init(day: CivilDate, hours: Double, kind: AdviserServiceKind, items: Int, people: Int) {
        self.day = day
        self.hours = hours
        self.kind = kind
        self.items = items
        self.people = people
    }

    public enum Problem: Equatable, Sendable {
        case future, tooOld, hours, items, people
        public var field: String {
            switch self {
            case .future, .tooOld: "servedOn"
            case .hours: "hours"
            case .items: "items"
            case .people: "people"
            }
        }
        public var message: String {
            switch self {
            case .future: "服务日期不能晚于今天"
            case .tooOld: "只能登记今年和去年的服务"
            case .hours: "服务时长应在 0.5–12 小时之间，以半小时计"
            case .items: "服务件数应为 1–500"
            case .people: "服务人数应为 0–10000"
            }
        }
    }

    /// Everything wrong with an entry, each once.
    public static func problems(day: CivilDate, hours: Double, items: Int, people: Int, today: CivilDate) -> [Problem] {
        var result: [Problem] = []
        if day > today { result.append(.future) } else if day.year < today.year - 1 { result.append(.tooOld) }
        if !(0.5...12).contains(hours) || (hours * 2).rounded() != hours * 2 { result.append(.hours) }
        if !(1...500).contains(items) { result.append(.items) }
        if !(0...10_000).contains(people) { result.append(.people) }
        return result
    }
}
