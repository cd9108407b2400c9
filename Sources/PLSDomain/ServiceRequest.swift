/// 事项类型.
public enum MatterType: String, ChineseNamed, Codable {
    case consultation
    case legalAid = "legal_aid"
    case mediation, notarization
    case judicialAppraisal = "judicial_appraisal"
    case arbitration
    case villageAdviser = "village_adviser"
    case legalPublicity = "legal_publicity"
    case complaint

    public var chineseName: String {
        switch self {
        case .consultation: "法律咨询"
        case .legalAid: "法律援助"
        case .mediation: "人民调解"
        case .notarization: "公证"
        case .judicialAppraisal: "司法鉴定"
        case .arbitration: "仲裁"
        case .villageAdviser: "村（居）法律顾问服务"
        case .legalPublicity: "法治宣传"
        case .complaint: "投诉"
        }
    }

    /// Who may take such a matter.
    public var practitionerTypes: [PractitionerType] {
        switch self {
        case .consultation: [.lawyer, .grassrootsLegalWorker, .legalAidOfficer]
        case .legalAid: [.lawyer, .legalAidOfficer, .grassrootsLegalWorker]
        case .mediation: [.mediator]
        case .notarization: [.notary]
        case .judicialAppraisal: [.appraiser]
        case .arbitration: [.arbitrator]
        case .villageAdviser: [.lawyer, .grassrootsLegalWorker]
        case .legalPublicity: [.lawyer, .grassrootsLegalWorker, .legalAidOfficer]
        case .complaint: []
        }
    }

    /// Where a person goes to apply in person: the institutions that take such a matter at their own window.
    public var windows: [InstitutionType] {
        switch self {
        case .legalAid: [.legalAidCentre, .publicLegalServiceCentre]
        case .notarization: [.notaryOffice]
        case .judicialAppraisal: [.appraisalInstitution]
        case .arbitration: [.arbitrationCommission]
        case .mediation: [.publicLegalServiceCentre, .publicLegalServiceStation]
        case .consultation, .villageAdviser, .legalPublicity, .complaint: [.publicLegalServiceCentre]
        }
    }

    /// Default time limits (acceptance, conclusion); administrators edit them per matter type.
    public var defaultRules: (accept: DeadlineRule, conclude: DeadlineRule) {
        switch self {
        // 法律援助法 art. 43: decide within 7 days of receiving the application (acceptance here is the
        // decision); a granted case runs as long as the proceedings, half a year as a reminder.
        case .legalAid: (AidDeadline.decision.defaultRule, .init(days: 180, unit: .calendarDays))
        // A month is the usual span of a people's mediation case.
        case .mediation: (.init(days: 2, unit: .workingDays), .init(days: 30, unit: .calendarDays))
        // 公证程序规则 art. 35: a notarial certificate within 15 working days of acceptance.
        case .notarization: (.init(days: 2, unit: .workingDays), .init(days: 15, unit: .workingDays))
        // 司法鉴定程序通则 art. 28: within 30 working days of accepting the commission.
        case .judicialAppraisal: (.init(days: 7, unit: .calendarDays), .init(days: 30, unit: .workingDays))
        // 仲裁: four months from the tribunal's formation is usual under the commissions' rules.
        case .arbitration: (.init(days: 5, unit: .calendarDays), .init(days: 120, unit: .calendarDays))
        case .complaint: (.init(days: 1, unit: .workingDays), .init(days: 15, unit: .workingDays))
        case .consultation, .villageAdviser, .legalPublicity: (.init(days: 1, unit: .workingDays), .init(days: 5, unit: .workingDays))
        }
    }
}

/// 渠道.
public enum RequestChannel: String, ChineseNamed, Codable {
    case web, mobile, hotline, window
    case transfer12345 = "transfer_12345"
    case transfer110 = "transfer_110"
    case referral
    /// Carried on from a village legal adviser's visit (`VillageAdvisers.toRequest`).
    case villageAdviser = "village_adviser"
    public var chineseName: String {
        switch self {
        case .web: "网上"
        case .mobile: "掌上"
        case .hotline: "12348 热线"
        case .window: "窗口"
        case .transfer12345: "12345 转来"
        case .transfer110: "110 转来"
        case .referral: "司法机关移送"
        case .villageAdviser: "驻村法律顾问"
        }
    }
}

public enum TransferTarget: String, ChineseNamed, Codable {
    case hotline12345 = "12345"
    case police110 = "110"
    case court, procuratorate
    case publicSecurity = "public_security"
    case other
    public var chineseName: String {
        switch self {
        case .hotline12345: "12345 政务服务热线"
        case .police110: "110"
        case .court: "人民法院"
        case .procuratorate: "人民检察院"
        case .publicSecurity: "公安机关"
        case .other: "其他部门"
        }
    }
}

public enum PriorityGroup: String, ChineseNamed, Codable {
    case lowIncome = "low_income"
    case disabled
    case migrantWorker = "migrant_worker"
    case elderly, minor
    case singleMotherInHardship = "single_mother_in_hardship"
    case militaryFamily = "military_family"
    case veteran
    case entitledGroup = "entitled_group"
    public var chineseName: String {
        switch self {
        case .lowIncome: "低收入群体"
        case .disabled: "残疾人"
        case .migrantWorker: "农民工"
        case .elderly: "老年人"
        case .minor: "未成年人"
        case .singleMotherInHardship: "单亲困难母亲"
        case .militaryFamily: "军人军属"
        case .veteran: "退役军人"
        case .entitledGroup: "其他优抚对象"
        }
    }
}

/// 好差评: five levels; 1–2 are bad ratings that open a follow-up.
public enum Rating: Int, CaseIterable, Sendable, Codable {
    case veryDissatisfied = 1, dissatisfied, fair, satisfied, verySatisfied
    public var chineseName: String {
        switch self {
        case .verySatisfied: "非常满意"
        case .satisfied: "满意"
        case .fair: "基本满意"
        case .dissatisfied: "不满意"
        case .veryDissatisfied: "非常不满意"
        }
    }
    public var isBad: Bool { rawValue <= 2 }
    public var isSatisfied: Bool { rawValue >= 4 }
}
