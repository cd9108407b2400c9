/// 应驻尽驻 (the plan, 三(十)): the functions a city or county public legal service centre brings under its roof, and how
/// each is there (a window, a rota, guidance, online, transferred by the hotline).
public enum StationedFunction: String, CaseIterable, Sendable, Codable, ChineseNamed {
    case legalAid = "legal_aid"
    case mediation
    case consultation
    case publicity
    case lawyer
    case notarization
    case appraisal
    case arbitration
    case examination

    public var chineseName: String {
        switch self {
        case .legalAid: "法律援助"
        case .mediation: "人民调解"
        case .consultation: "法律咨询"
        case .publicity: "法治宣传教育"
        case .lawyer: "律师"
        case .notarization: "公证"
        case .appraisal: "司法鉴定"
        case .arbitration: "仲裁"
        case .examination: "法律职业资格考试"
        }
    }

    /// What a centre of this level is to host: the city's, every function the plan names; a county's, those a county
    /// has (appraisal, arbitration and the examination are organised by the city). The platform's reading of 三(十).
    public static func required(at level: RegionLevel) -> [StationedFunction] {
        switch level {
        case .city: allCases
        case .county: [.legalAid, .mediation, .consultation, .publicity, .lawyer, .notarization]
        default: []
        }
    }
}

public enum StationingMode: String, CaseIterable, Sendable, Codable, ChineseNamed {
    case window, rota, guidance, online, hotline

    public var chineseName: String {
        switch self {
        case .window: "设立窗口"
        case .rota: "轮流值班"
        case .guidance: "服务指引"
        case .online: "网络进驻"
        case .hotline: "热线转接"
        }
    }
}

public enum Stationing {
    /// The required functions a centre does not host yet.
    public static func missing(hosted: Set<StationedFunction>, level: RegionLevel) -> [StationedFunction] {
        StationedFunction.required(at: level).filter { !hosted.contains($0) }
    }
}
