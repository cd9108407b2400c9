// The fixed vocabulary of the glossary (../shared/design/glossary.md).

public protocol ChineseNamed: RawRepresentable, CaseIterable, Sendable where RawValue == String {
    var chineseName: String { get }
}

public enum InstitutionType: String, ChineseNamed, Codable {
    case publicLegalServiceCentre = "public_legal_service_centre"
    case publicLegalServiceStation = "public_legal_service_station"
    case publicLegalServiceRoom = "public_legal_service_room"
    case judicialOffice = "judicial_office"
    case legalAidCentre = "legal_aid_centre"
    case lawFirm = "law_firm"
    case notaryOffice = "notary_office"
    case appraisalInstitution = "appraisal_institution"
    case arbitrationCommission = "arbitration_commission"
    case mediationCommittee = "mediation_committee"
    case grassrootsLegalServiceOffice = "grassroots_legal_service_office"
    case governmentBody = "government_body"
    case school

    public var chineseName: String {
        switch self {
        case .publicLegalServiceCentre: "公共法律服务中心"
        case .publicLegalServiceStation: "公共法律服务工作站"
        case .publicLegalServiceRoom: "公共法律服务工作室"
        case .judicialOffice: "司法所"
        case .legalAidCentre: "法律援助中心"
        case .lawFirm: "律师事务所"
        case .notaryOffice: "公证处"
        case .appraisalInstitution: "司法鉴定机构"
        case .arbitrationCommission: "仲裁委员会"
        case .mediationCommittee: "人民调解委员会"
        case .grassrootsLegalServiceOffice: "基层法律服务所"
        case .governmentBody: "党政机关"
        case .school: "学校"
        }
    }
}

public enum MediationCommitteeKind: String, ChineseNamed, Codable {
    case village, town, industry, enterprise
    public var chineseName: String {
        switch self {
        case .village: "村（居）调委会"
        case .town: "镇（街道）调委会"
        case .industry: "行业性专业性调委会"
        case .enterprise: "企事业单位调委会"
        }
    }
}

public enum IndustryField: String, ChineseNamed, Codable {
    case medical, traffic
    case propertyManagement = "property_management"
    case consumer, tourism, environment, labor
    public var chineseName: String {
        switch self {
        case .medical: "医疗纠纷"
        case .traffic: "道路交通"
        case .propertyManagement: "物业管理"
        case .consumer: "消费纠纷"
        case .tourism: "旅游纠纷"
        case .environment: "环境保护"
        case .labor: "劳动争议"
        }
    }
}

public enum PractitionerType: String, ChineseNamed, Codable {
    case lawyer, notary
    case legalAidOfficer = "legal_aid_officer"
    case grassrootsLegalWorker = "grassroots_legal_worker"
    case mediator, appraiser, arbitrator
    case publicLawyer = "public_lawyer"
    case corporateLawyer = "corporate_lawyer"
    public var chineseName: String {
        switch self {
        case .lawyer: "律师"
        case .notary: "公证员"
        case .legalAidOfficer: "法律援助人员"
        case .grassrootsLegalWorker: "基层法律服务工作者"
        case .mediator: "人民调解员"
        case .appraiser: "司法鉴定人"
        case .arbitrator: "仲裁员"
        case .publicLawyer: "公职律师"
        case .corporateLawyer: "公司律师"
        }
    }
}

public enum PractitionerStatus: String, ChineseNamed, Codable {
    case practising, suspended, left
    public var chineseName: String {
        switch self {
        case .practising: "执业"
        case .suspended: "暂停执业"
        case .left: "离职"
        }
    }
}

/// 纠纷/事项类别: a practitioner's specialities use the same words.
public enum Category: String, ChineseNamed, Codable {
    case labor
    case marriageFamily = "marriage_family"
    /// The commonest category of people's mediation (邻里纠纷: boundaries, noise, water, access).
    case neighbourhood
    case foodDrug = "food_drug"
    case educationMedical = "education_medical"
    case environment, traffic, property, consumer, tourism, land
    case contractDebt = "contract_debt"
    case personalInjury = "personal_injury"
    case criminal, administrative, other
    public var chineseName: String {
        switch self {
        case .labor: "劳动保障"
        case .marriageFamily: "婚姻家庭"
        case .neighbourhood: "邻里纠纷"
        case .foodDrug: "食品药品"
        case .educationMedical: "教育医疗"
        case .environment: "环境污染"
        case .traffic: "道路交通"
        case .property: "房产物业"
        case .consumer: "消费维权"
        case .tourism: "旅游"
        case .land: "土地"
        case .contractDebt: "合同债务"
        case .personalInjury: "人身损害"
        case .criminal: "刑事"
        case .administrative: "行政"
        case .other: "其他"
        }
    }
}

public enum Gender: String, ChineseNamed, Codable {
    case male, female
    public var chineseName: String { self == .male ? "男" : "女" }
}
