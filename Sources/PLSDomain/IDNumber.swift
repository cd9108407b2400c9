import Foundation

/// A resident identity number (公民身份号码, GB 11643-1999): 6-digit address code,
/// 8-digit birth date, 3-digit sequence (odd for men, even for women), ISO 7064 MOD 11-2 check digit.
public struct IDNumber: Hashable, Sendable {
    public let value: String
    public let birthDate: CivilDate
    public let sex: Gender
    public var addressCode: String { String(value.prefix(6)) }

    public enum Problem: Error, Equatable, Sendable {
        case length, characters, birthDate, checkDigit

        public var message: String {
            switch self {
            case .length: "身份证号码应为 18 位"
            case .characters: "身份证号码前 17 位应为数字，末位为数字或 X"
            case .birthDate: "身份证号码中的出生日期无效"
            case .checkDigit: "身份证号码校验位不正确，请核对"
            }
        }
    }

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters = Array("10X98765432")

    /// The check character for the first 17 digits.
    public static func checkCharacter(for first17: String) -> Character? {
        let digits = first17.compactMap { $0.wholeNumberValue }
        guard digits.count == 17, first17.count == 17 else { return nil }
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return checkCharacters[sum % 11]
    }

    public static func validate(_ raw: String, today: CivilDate? = nil) -> Result<IDNumber, Problem> {
        let s = raw.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "x", with: "X")
        guard s.count == 18 else { return .failure(.length) }
        let body = String(s.prefix(17))
        guard body.allSatisfy({ $0.isASCII && $0.isNumber }), let last = s.last, last.isNumber || last == "X" else {
            return .failure(.characters)
        }
        let chars = Array(s)
        guard let y = Int(String(chars[6..<10])), let m = Int(String(chars[10..<12])), let d = Int(String(chars[12..<14])),
              let birth = CivilDate(year: y, month: m, day: d), y >= 1800, today.map({ birth <= $0 }) ?? true else {
            return .failure(.birthDate)
        }
        guard checkCharacter(for: body) == last else { return .failure(.checkDigit) }
        let sequence = chars[16].wholeNumberValue ?? 0
        return .success(IDNumber(value: s, birthDate: birth, sex: sequence % 2 == 1 ? .male : .female))
    }

    public init?(_ raw: String) {
        guard case .success(let id) = Self.validate(raw) else { return nil }
        self = id
    }

    private init(value: String, birthDate: CivilDate, sex: Gender) {
        self.value = value
        self.birthDate = birthDate
        self.sex = sex
    }

    public var masked: String { Masking.idNumber(value) }

    /// Age in whole years on `date`.
    public func age(on date: CivilDate) -> Int {
        var age = date.year - birthDate.year
        if (date.month, date.day) < (birthDate.month, birthDate.day) { age -= 1 }
        return age
    }
}
