import Vapor
import SQLKit
import PLSDomain

/// What the intake forms (portal, hotline console, window) share: region choices and reading the form.
enum RequestForm {
    /// Counties, towns and villages: where a matter happened.
    /// The places a matter can be in, each offered and sent back by its path ("西山县 · 城关镇 · 凤埠社区"):
    /// the box never shows a code, and `RegionNames.code(for:)` reads the path back.
    static func regionOptions(on db: any SQLDatabase, within scope: DataScope = .everything) async throws -> [SelectOption] {
        try await RegionChoices.options(on: db, scope: scope, levels: [.county, .town, .village]).map {
            SelectOption(value: $0.label, label: "", selected: false)
        }
    }

    struct Values {
        var v: [String: String]
        var groups: [String]
    }

    static let keys = ["callId", "matterType", "itemCode", "category", "description", "name", "mobile", "idNumber", "regionCode", "answer", "externalReference", "channel"]

    static func read(_ req: Request) -> Values {
        var v: [String: String] = [:]
        for k in keys { v[k] = req.formValue(k) ?? "" }
        // The console offers quick category buttons and a select for the rest.
        if (v["category"] ?? "").isEmpty { v["category"] = req.formValue("categoryOther") ?? "" }
        return Values(v: v, groups: req.formValues("priorityGroups"))
    }

    static func input(_ values: Values, answer: Bool) -> Intake.Input {
        let v = values.v
        return Intake.Input(matterType: v["matterType"], itemCode: v["itemCode"]?.nilIfEmpty, category: v["category"],
                            channel: v["channel"]?.nilIfEmpty, description: v["description"],
                            applicant: .init(name: v["name"], mobile: v["mobile"], idNumber: v["idNumber"]),
                            priorityGroups: values.groups, regionCode: v["regionCode"], externalReference: v["externalReference"]?.nilIfEmpty,
                            accept: nil, answer: answer ? v["answer"] : nil)
    }

    /// The intake forms' fields, for the error summary's links.
    static let summaryFields: [(key: String, id: String, label: String)] = [
        ("category", "category", "类别"), ("mobile", "mobile", "手机号码"), ("name", "name", "姓名"), ("idNumber", "idNumber", "身份证号码"),
        ("description", "description", "诉求"), ("regionCode", "regionCode", "所在地"), ("answer", "answer", "解答内容"),
    ]

    /// API field names as the form names them.
    static func pageFields(_ e: AppError) -> [String: String] {
        var f: [String: String] = [:]
        for (k, m) in e.fields {
            switch k {
            case "applicant.name": f["name"] = m
            case "applicant.mobile": f["mobile"] = m
            case "applicant.idNumber": f["idNumber"] = m
            default: f[k] = m
            }
        }
        return f
    }

    static func categoryOptions(_ selected: String?) -> [SelectOption] {
        [SelectOption(value: "", label: "请选择", selected: (selected ?? "").isEmpty)]
            + Category.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == selected) }
    }

    static func groupOptions(_ selected: [String]) -> [SelectOption] {
        PriorityGroup.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: selected.contains($0.rawValue)) }
    }

    static func matterOptions(_ selected: String?) -> [SelectOption] {
        MatterType.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == selected) }
    }
}

/// Timeline entries as a page shows them.
struct TimelineItem: Encodable {
    var at: String
    var actor: String?
    var action: String
    var status: String
    var note: String?

    static func from(_ t: [RequestViews.TimelineEntry], showActor: Bool = true) -> [TimelineItem] {
        let f = DateFormatter.chinaTime
        return t.map { TimelineItem(at: f.string(from: $0.at), actor: showActor ? $0.actor : nil, action: $0.actionName, status: $0.toStatusName, note: $0.note) }
    }
}
