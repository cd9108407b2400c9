import Foundation

/// Who an account is. Staff roles are bound to a region and, where it fits,
/// an institution and a practitioner record.
public enum Role: String, ChineseNamed, Codable {
    case citizen
    case hotlineOperator = "hotline_operator"
    case windowClerk = "window_clerk"
    case practitioner
    case institutionAdmin = "institution_admin"
    case countyAdmin = "county_admin"
    case cityAdmin = "city_admin"
    case leader
    case auditor

    public var chineseName: String {
        switch self {
        case .citizen: "群众"
        case .hotlineOperator: "12348 坐席"
        case .windowClerk: "窗口工作人员"
        case .practitioner: "法律服务人员"
        case .institutionAdmin: "机构管理员"
        case .countyAdmin: "县（区）管理员"
        case .cityAdmin: "市级管理员"
        case .leader: "领导"
        case .auditor: "审计员"
        }
    }

    public var isStaff: Bool { self != .citizen }

    /// Roles whose data is their institution's; they must be bound to one.
    public var needsInstitution: Bool { self == .institutionAdmin || self == .practitioner }

    /// Read-only everywhere: leaders watch targets, auditors check records.
    public var isReadOnly: Bool { self == .leader || self == .auditor }
}

/// The part of the data an account may see. One rule, applied by every list and lookup.
public enum DataScope: Equatable, Sendable {
    /// The whole city.
    case everything
    /// Everything inside a region (a county admin's county; staff bound to a town).
    case region(DivisionCode)
    /// One institution's records (its staff and practitioners).
    case institution(UUID)
    /// Only the account's own records (citizens).
    case own(UUID)

    public static func of(role: Role, accountID: UUID, region: DivisionCode?, institutionID: UUID?) -> DataScope {
        switch role {
        case .cityAdmin, .leader, .auditor:
            return .everything
        case .citizen:
            return .own(accountID)
        case .institutionAdmin, .practitioner:
            if let institutionID { return .institution(institutionID) }
            // A practitioner record without an institution is confined to its region.
            return region.map { .region($0) } ?? .own(accountID)
        case .countyAdmin, .hotlineOperator, .windowClerk:
            guard let region else { return .own(accountID) }
            return region.level == .city ? .everything : .region(region)
        }
    }

    /// Whether a record located in `region` and belonging to `institution` is visible.
    public func includes(region: DivisionCode?, institution: UUID?, owner: UUID? = nil) -> Bool {
        switch self {
        case .everything: return true
        case .region(let scope): return region.map(scope.contains) ?? false
        case .institution(let id): return institution == id
        case .own(let id): return owner == id
        }
    }
}

/// What an account may change in the registries (regions, institutions, practitioners, accounts).
public enum RegistryPermission {
    /// Regions are the city's reference data: only the city administrator edits them.
    public static func canEditRegions(_ role: Role) -> Bool { role == .cityAdmin }

    /// Institutions and practitioners: city admin anywhere, county admin in the county,
    /// an institution admin their own institution (and its practitioners).
    public static func canEditInstitutions(_ role: Role) -> Bool {
        role == .cityAdmin || role == .countyAdmin || role == .institutionAdmin
    }

    /// Institution admins may not create new institutions; they only edit their own.
    public static func canCreateInstitutions(_ role: Role) -> Bool {
        role == .cityAdmin || role == .countyAdmin
    }

    public static func canManageAccounts(_ role: Role) -> Bool {
        role == .cityAdmin || role == .countyAdmin
    }

    /// A county admin may create accounts only for roles below their own.
    public static func canGrant(_ granted: Role, by granter: Role) -> Bool {
        switch granter {
        case .cityAdmin: return true
        case .countyAdmin: return ![.cityAdmin, .leader, .auditor, .countyAdmin].contains(granted)
        default: return false
        }
    }

    /// Staff may browse registries; citizens use the public directory instead.
    public static func canReadRegistry(_ role: Role) -> Bool { role.isStaff }
}
