// Grassroots rule-of-law rosters (实施方案 三(四)、三(六)、五(十一)): who and what each place has.

/// What a roster entry hangs on.
public enum RosterPlace: Sendable {
    case naturalVillage
    /// An administrative village or community.
    case village
    /// A rural administrative village (not a community).
    case ruralVillage
    case institution(InstitutionType)
}

public enum RosterKind: String, ChineseNamed, Codable {
    case legalUnderstander = "legal_understander"
    case ruleOfLawLeader = "rule_of_law_leader"
    case cultureSite = "culture_site"
    case demonstrationVillage = "demonstration_village"
    case schoolVicePrincipal = "school_vice_principal"
    case schoolCounsellor = "school_counsellor"
    case firmSchoolPairing = "firm_school_pairing"
    case governmentAdviser = "government_adviser"
    case publicLawyer = "public_lawyer"

    public var chineseName: String {
        switch self {
        case .legalUnderstander: "法律明白人"
        case .ruleOfLawLeader: "法治带头人"
        case .cultureSite: "法治文化阵地"
        case .demonstrationVillage: "民主法治示范村（社区）"
        case .schoolVicePrincipal: "法治副校长"
        case .schoolCounsellor: "法治辅导员"
        case .firmSchoolPairing: "律师事务所结对学校"
        case .governmentAdviser: "党政机关法律顾问"
        case .publicLawyer: "公职律师"
        }
    }

    public var place: RosterPlace {
        switch self {
        case .legalUnderstander: .naturalVillage
        case .ruleOfLawLeader: .ruralVillage
        case .cultureSite, .demonstrationVillage: .village
        case .schoolVicePrincipal, .schoolCounsellor, .firmSchoolPairing: .institution(.school)
        case .governmentAdviser, .publicLawyer: .institution(.governmentBody)
        }
    }

    /// What the `name` column holds, and what `detail` holds if anything.
    public var nameLabel: String {
        switch self {
        case .cultureSite: "阵地名称"
        case .demonstrationVillage: "命名称号"
        case .firmSchoolPairing: "律师事务所"
        default: "姓名"
        }
    }

    public var detailLabel: String? {
        switch self {
        case .cultureSite: "提供的内容（如法治广场、法治书屋、宣传栏）"
        case .demonstrationVillage: "命名年份与级别"
        case .governmentAdviser: "聘任方式（个人或共享）"
        case .schoolVicePrincipal, .schoolCounsellor: "工作单位"
        default: nil
        }
    }

    /// The plan's floor per unit, where the plan sets one.
    public var minimumPerUnit: Int? {
        switch self {
        case .legalUnderstander: 3
        case .ruleOfLawLeader: 2
        case .cultureSite, .schoolCounsellor, .governmentAdviser: 1
        default: nil
        }
    }
}
