import Foundation
import Vapor
import SQLKit

// Small extensions shared across capabilities, in one place.

extension Request {
    /// The request's database as SQLKit sees it (both drivers are SQL databases).
    var sql: any SQLDatabase { db as! any SQLDatabase }
}

extension Response {
    /// The response with `value` as its JSON body (a status set before, e.g. 201).
    func encodeJSON<T: Encodable>(_ value: T) throws -> Response {
        try content.encode(value, as: .json)
        return self
    }
}

extension String {
    /// A form's empty field as absent.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

extension Double {
    /// Hours and scores as people write them: "2", "1.5".
    var shortText: String { self == rounded() ? String(Int(self)) : String(format: "%.1f", self) }
}

extension DateFormatter {
    /// Times shown to users are Beijing time, whatever the server's zone.
    static var chinaTime: DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "zh_CN")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f
    }
}

/// Equal byte strings compared in time that does not depend on where they differ (signatures, tokens).
func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}

extension Array where Element: Sendable {
    /// `map` with up to `width` elements transformed at once; the results in the elements' order. The first error
    /// thrown ends it (the others are cancelled).
    func concurrentMap<T: Sendable>(width: Int, _ transform: @escaping @Sendable (Element) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: count)
            var next = 0
            func start() {
                guard next < count else { return }
                let i = next, element = self[i]
                group.addTask { (i, try await transform(element)) }
                next += 1
            }
            for _ in 0..<Swift.max(1, width) { start() }
            while let (i, value) = try await group.next() {
                results[i] = value
                start()
            }
            return results.compactMap { $0 }
        }
    }
}
