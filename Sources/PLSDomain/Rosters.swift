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

/// 党政机关的类别: the plan (三(六)) expects advisers by kind of body and by level.
public enum GovernmentBodyKind: String, ChineseNamed, Codable {
    /// 党委, 党工委.
    case partyCommittee = "party_committee"
    /// 政府, 街道办事处.
    case government
    /// 工作部门: a department of a city or county government.
    case department

    public var chineseName: String {
        switch self {
        case .partyCommittee: "党委（党工委）"
        case .government: "政府（办事处）"
        case .department: "工作部门"
        }
    }
}

public enum GovernmentBodies {
    /// The departments the plan names as having heavy enforcement duties (三(六)二), matched on their names.
    public static let namedEnforcementDepartments = ["市场监督管理", "城市管理", "税务", "住房", "自然资源和规划", "生态环境", "交通运输"]

    /// Whether the plan expects the body to retain a legal adviser: every party committee and government of the
    /// city, counties and towns (streets included); the city's and counties' departments with heavy enforcement duties.
    public static func expectsAdviser(kind: GovernmentBodyKind, level: RegionLevel, enforcementHeavy: Bool) -> Bool {
        switch kind {
        case .partyCommittee, .government: [.city, .county, .town].contains(level)
        case .department: enforcementHeavy && [.city, .county].contains(level)
        }
    }

    /// The kind a body's name suggests, for marking bodies registered before kinds were kept.
    public static func suggestedKind(name: String) -> GovernmentBodyKind {
        if name.hasPrefix("中共") || name.hasSuffix("党委") || name.hasSuffix("党工委") || name.hasSuffix("工作委员会") { return .partyCommittee }
        if name.hasSuffix("人民政府") || name.hasSuffix("办事处") || name.hasSuffix("管理委员会") { return .government }
        return .department
    }

    /// Whether the name is one of the departments the plan names.
    public static func isNamedEnforcementDepartment(name: String) -> Bool {
        namedEnforcementDepartments.contains { name.contains($0) }
    }
}

/// 学校的类别: the plan (二(四)) asks for rule-of-law counsellors at the city's central schools and city-level schools.
public enum SchoolKind: String, ChineseNamed, Codable {
    /// 中心校: a town's central primary or nine-year school.
    case central
    /// 市直校: a school run directly by the city.
    case cityLevel = "city_level"
    /// Every other school: village schools, county schools, private schools.
    case other

    public var chineseName: String {
        switch self {
        case .central: "中心校"
        case .cityLevel: "市直校"
        case .other: "其他学校"
        }
    }

    /// Whether the plan expects the school to have at least one rule-of-law counsellor (法治辅导员).
    public var expectsCounsellor: Bool { self != .other }
}

public enum Schools {
    /// The kind a school's name and region suggest, for schools registered without one: a school registered at the
    /// city itself is the city's; a name with 中心学校, 中心校 or 中心小学 is a town's central school.
    public static func suggestedKind(name: String, level: RegionLevel?) -> SchoolKind {
        if level == .city { return .cityLevel }
        if ["中心学校", "中心校", "中心小学"].contains(where: { name.contains($0) }) { return .central }
        return .other
    }
}
