import Vapor
import PLSDomain

/// What every page's layout needs: title, the signed-in account, CSRF token, elder-friendly mode, navigation.
struct PageMeta: Encodable, Sendable {
    struct NavItem: Encodable, Sendable { var href: String; var label: String; var current: Bool }
    struct UserInfo: Encodable, Sendable { var name: String; var role: String; var roleName: String; var isStaff: Bool }

    var title: String
    var cityName: String
    /// The platform's title ("X公共法律服务网"), the city's setting.
    var siteTitle: String
    var csrf: String
    var elder: Bool
    var demo: Bool
    var user: UserInfo?
    var nav: [NavItem]
    var path: String
    var flash: String?
    var site = SiteIdentity()
    /// Staff pages: the holiday calendar lacks this year or the next (`Application.calendarWarning`).
    var calendarWarning: String? = nil
}

extension Request {
    static let elderCookie = "pls-elder"

    /// 提醒, with the unread count the session's authenticator took (`UnreadNotifications`).
    private func notificationsItem(_ path: String) -> PageMeta.NavItem {
        let unread = storage[UnreadNotifications.self] ?? 0
        return .init(href: "/notifications", label: unread == 0 ? "提醒" : "提醒（\(unread > 99 ? "99+" : String(unread))）",
                     current: path == "/notifications")
    }

    func pageMeta(title: String, flash: String? = nil) -> PageMeta {
        let principal = auth.get(Principal.self)
        let path = url.path
        var nav: [PageMeta.NavItem] = [.init(href: "/", label: "首页", current: path == "/")]
        if principal?.role.isStaff != true {
            nav.append(.init(href: "/services", label: "办事指南", current: path.hasPrefix("/services") || path.hasPrefix("/apply")))
            nav.append(.init(href: "/legal-aid", label: "法律援助", current: path == "/legal-aid" || path.hasPrefix("/legal-aid/apply")))
            nav.append(.init(href: "/lookup", label: "进度查询", current: path == "/lookup"))
            nav.append(.init(href: "/credit", label: "信用查询", current: path == "/credit"))
            nav.append(.init(href: "/appointments", label: "预约办理", current: path == "/appointments"))
        }
        if principal?.role == .citizen {
            nav.append(.init(href: "/my", label: "我的事项", current: path.hasPrefix("/my")))
            nav.append(.init(href: "/complaints/new", label: "我要投诉", current: path.hasPrefix("/complaints")))
        }
        if let p = principal, p.role == .practitioner {
            // A practitioner works their own matters, mediation cases and village visits: nothing else in the way.
            nav.append(.init(href: "/work", label: "我承办的事项", current: path.hasPrefix("/work")))
            nav.append(.init(href: "/mediation", label: "人民调解", current: path.hasPrefix("/mediation")))
            nav.append(.init(href: "/adviser", label: "驻村服务", current: path == "/adviser"))
            nav.append(.init(href: "/public-interest", label: "公益服务", current: path == "/public-interest"))
            nav.append(notificationsItem(path))
        } else if let p = principal, p.role.isStaff {
            nav.append(.init(href: "/admin", label: "工作台", current: path == "/admin"))
            nav.append(.init(href: "/work", label: "事项", current: path.hasPrefix("/work")))
            if Intake.channels(for: p.role).contains(.hotline) {
                nav.append(.init(href: "/hotline", label: "12348 热线", current: path == "/hotline"))
            }
            if RatingInvitations.mayFollowUp(p) {
                nav.append(.init(href: "/hotline/follow-ups", label: "回访", current: path == "/hotline/follow-ups"))
            }
            if RectificationPages.mayOpenQueue(p) {
                nav.append(.init(href: "/rectifications", label: "差评整改", current: path.hasPrefix("/rectifications")))
            }
            if ComplaintPages.mayOpenDesk(p) {
                nav.append(.init(href: "/complaints", label: "投诉", current: path.hasPrefix("/complaints")))
            }
            if PublicInterestController.mayRead(p) {
                nav.append(.init(href: "/public-interest", label: "公益服务", current: path == "/public-interest"))
            }
            if RatingRankings.mayRead(p) {
                nav.append(.init(href: "/rankings", label: "好差评排名", current: path.hasPrefix("/rankings")))
            }
            if QualityReviews.mayRead(p) {
                nav.append(.init(href: "/quality-reviews", label: "案卷评查", current: path.hasPrefix("/quality-reviews")))
            }
            if Intake.channels(for: p.role).contains(.window) {
                nav.append(.init(href: "/window", label: "窗口登记", current: path == "/window"))
            }
            nav.append(.init(href: "/legal-aid/desk", label: "法律援助", current: path.hasPrefix("/legal-aid") || path == "/admin/legal-aid"))
            nav.append(.init(href: "/mediation", label: "人民调解", current: path.hasPrefix("/mediation")))
            nav.append(.init(href: "/grassroots", label: "法律顾问", current: path.hasPrefix("/grassroots")))
            nav.append(notificationsItem(path))
            nav.append(.init(href: "/admin/indicators", label: "指标", current: path.hasPrefix("/admin/indicators")))
            nav.append(.init(href: "/admin/regions", label: "行政区划", current: path.hasPrefix("/admin/regions")))
            nav.append(.init(href: "/admin/institutions", label: "机构", current: path.hasPrefix("/admin/institutions")))
            nav.append(.init(href: "/admin/practitioners", label: "人员", current: path.hasPrefix("/admin/practitioners")))
            if RegistryPermission.canManageAccounts(p.role) {
                nav.append(.init(href: "/admin/accounts", label: "账号", current: path.hasPrefix("/admin/accounts")))
            }
            if p.role == .cityAdmin || p.role == .auditor {
                nav.append(.init(href: "/admin/audit", label: "审计日志", current: path.hasPrefix("/admin/audit")))
            }
            if p.role == .cityAdmin {
                nav.append(.init(href: "/admin/catalog", label: "办事指南", current: path.hasPrefix("/admin/catalog")))
                nav.append(.init(href: "/admin/rules", label: "时限", current: path.hasPrefix("/admin/rules")))
                nav.append(.init(href: "/admin/calendar", label: "节假日", current: path.hasPrefix("/admin/calendar")))
                nav.append(.init(href: "/admin/sms", label: "短信", current: path.hasPrefix("/admin/sms")))
                nav.append(.init(href: "/admin/system-clients", label: "系统对接", current: path.hasPrefix("/admin/system-clients")))
            }
        }
        return PageMeta(title: title, cityName: city.name, siteTitle: city.title, csrf: csrfToken, elder: cookies[Self.elderCookie]?.string == "1",
                        demo: application.settings.demo,
                        user: principal.map { .init(name: $0.displayName, role: $0.role.rawValue, roleName: $0.role.chineseName, isStaff: $0.role.isStaff) },
                        nav: nav, path: path, flash: flash ?? (try? query.get(String.self, at: "flash")),
                        site: application.settings.siteIdentity,
                        calendarWarning: principal?.role.isStaff == true ? application.calendarWarning : nil)
    }
}

// MARK: - Generic building blocks for admin pages: one table, one form, one detail list.

struct SelectOption: Encodable, Sendable {
    var value: String
    var label: String
    var selected: Bool
}

struct FormField: Encodable, Sendable {
    enum Kind: String, Encodable, Sendable { case text, number, select, textarea, checkboxes, password, tel }
    var name: String
    var label: String
    var kind: Kind = .text
    var value: String = ""
    var options: [SelectOption] = []
    var error: String? = nil
    var required: Bool = false
    var hint: String? = nil
    var readonly: Bool = false
    /// A text field whose options are suggestions (a datalist), not a closed choice.
    var datalist: Bool = false
    /// Half a row on wide screens (pairs such as latitude and longitude).
    var half: Bool = false

    static func select<E: ChineseNamed>(_ name: String, _ label: String, _ type: E.Type, selected: String?, required: Bool = true,
                                        blank: String? = nil, cases: [E]? = nil) -> FormField {
        var options = (cases ?? Array(E.allCases)).map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == selected) }
        if let blank { options.insert(SelectOption(value: "", label: blank, selected: (selected ?? "").isEmpty), at: 0) }
        return FormField(name: name, label: label, kind: .select, value: selected ?? "", options: options, required: required)
    }

    static func checkboxes<E: ChineseNamed>(_ name: String, _ label: String, _ type: E.Type, selected: [String], cases: [E]? = nil) -> FormField {
        FormField(name: name, label: label, kind: .checkboxes,
                  options: (cases ?? Array(E.allCases)).map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: selected.contains($0.rawValue)) })
    }
}

extension Array where Element == FormField {
    /// Puts each field's validation message beside it.
    func withErrors(_ errors: [String: String]) -> [FormField] {
        map { var f = $0; f.error = errors[f.name]; return f }
    }
}

struct Cell: Encodable, Sendable {
    var text: String
    var href: String? = nil
    var badge: String? = nil
    /// The column's name, which a phone shows beside the value when rows become cards.
    var label: String = ""
    /// A row-selection checkbox with this value (bulk actions), instead of text.
    var checkbox: String? = nil
}

struct TableView: Encodable, Sendable {
    var columns: [String]
    var rows: [[Cell]]
    var total: Int
    var page: Int
    var pageCount: Int
    var prevHref: String?
    var nextHref: String?
    var empty: String = "没有符合条件的记录"

    init(columns: [String], rows: [[Cell]], total: Int, page: PageRequest, request: Request) {
        self.columns = columns
        self.rows = rows.map { row in
            row.enumerated().map { i, cell in
                var c = cell
                c.label = i < columns.count ? columns[i] : ""
                return c
            }
        }
        self.total = total
        self.page = page.page
        pageCount = max(1, (total + page.per - 1) / page.per)
        func href(_ p: Int) -> String {
            var items = (request.url.query ?? "").split(separator: "&").filter { !$0.hasPrefix("page=") }.map(String.init)
            items.append("page=\(p)")
            return request.url.path + "?" + items.joined(separator: "&")
        }
        prevHref = page.page > 1 ? href(page.page - 1) : nil
        nextHref = page.page < pageCount ? href(page.page + 1) : nil
    }

    /// A short list shown whole (a session's attendees, a person's records), without pages.
    init(columns: [String], rows: [[Cell]], request: Request) {
        self.init(columns: columns, rows: rows, total: rows.count, page: PageRequest(), request: request)
        pageCount = 1
        nextHref = nil
    }
}

struct DetailItem: Encodable, Sendable {
    var label: String
    var value: String
    var href: String? = nil
}

struct ActionButton: Encodable, Sendable {
    var label: String
    var href: String?
    var post: String?
    var danger: Bool = false
    var confirm: String? = nil
}

/// The contexts of the generic admin templates.
struct ListPage: Encodable {
    var page: PageMeta
    var heading: String
    var filters: [FormField]
    var table: TableView
    var actions: [ActionButton]
}

struct FormPage: Encodable {
    var page: PageMeta
    var heading: String
    var action: String
    var fields: [FormField]
    var submitLabel: String
    var cancelHref: String
    var error: String?
}

struct DetailPage: Encodable {
    var page: PageMeta
    var heading: String
    var subtitle: String?
    var items: [DetailItem]
    var actions: [ActionButton]
    var related: [RelatedTable]
}

struct RelatedTable: Encodable {
    var heading: String
    var table: TableView
}

/// One line of a form's error summary (`errors.leaf`): the message, linked to the field it is about.
struct ErrorLink: Encodable, Sendable {
    var id: String
    var text: String

    /// The page's fields in order, each as (error key, element id, label); errors of keys the page does not list
    /// follow, linked by their own name.
    static func links(_ errors: [String: String], _ fields: [(key: String, id: String, label: String)]) -> [ErrorLink] {
        var out = fields.compactMap { f in errors[f.key].map { ErrorLink(id: f.id, text: f.label + "：" + $0) } }
        let listed = Set(fields.map(\.key))
        out += errors.keys.sorted().filter { !listed.contains($0) }.map { ErrorLink(id: $0, text: errors[$0]!) }
        return out
    }
}
