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

/// Comma-separated values as spreadsheets write them (RFC 4180): quoted fields may hold commas, quotes
/// and line breaks. Exports start with a byte-order mark so that Excel reads the Chinese as UTF-8.
public enum CSVTable {
    /// A row of nothing but empty cells.
    public static func isBlank(_ row: [String]) -> Bool { row.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }

    /// The records of the text. Blank records are dropped unless `keepBlank`, which keeps record numbers
    /// matching the lines a spreadsheet user sees.
    public static func parse(_ text: String, keepBlank: Bool = false) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, i = text.startIndex
        var t = text
        if t.hasPrefix("\u{FEFF}") { t.removeFirst(); i = t.startIndex }
        while i < t.endIndex {
            let c = t[i]
            if quoted {
                if c == "\"" {
                    let next = t.index(after: i)
                    if next < t.endIndex, t[next] == "\"" { field.append("\""); i = next } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else {
                switch c {
                case "\"": quoted = true
                case ",": row.append(field); field = ""
                case "\n", "\r\n", "\r":
                    row.append(field); field = ""
                    rows.append(row); row = []
                default: field.append(c)
                }
            }
            i = t.index(after: i)
        }
        if !field.isEmpty || !row.isEmpty || quoted { row.append(field); rows.append(row) }
        return keepBlank ? rows : rows.filter { !isBlank($0) }
    }

    public static func encode(_ rows: [[String]]) -> String {
        "\u{FEFF}" + rows.map { $0.map(quote).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    static func quote(_ s: String) -> String {
        // "\r\n" is one Character in Swift: test for any line break, not for "\n" alone.
        s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
