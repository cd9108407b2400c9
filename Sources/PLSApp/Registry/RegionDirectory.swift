import Vapor
import Fluent
import SQLKit

/// Regions as every intake and every request page reads them (is the code active, what is its name),
/// kept in memory: a few thousand rows that change a few times a year. Only regions found are kept, so a
/// region just added is seen at once; a change made through Fluent in this process drops the entry
/// (`Invalidation`), and other processes see it within the cache's lifetime.
final class RegionDirectory: Sendable {
    private let cache = ExpiringCache<String, RegionController.Row>(lifetime: .seconds(30))

    func find(_ code: String, on db: any SQLDatabase) async throws -> RegionController.Row? {
        if let row = cache.value(for: code) { return row }
        guard let row = try await RegionController.find(code, on: db) else { return nil }
        cache.store(row, for: code)
        return row
    }

    func invalidate(_ code: String) { cache.remove(code) }

    /// Drops a region the moment it is saved or deleted through Fluent (edits and deactivation do so).
    struct Invalidation: AsyncModelMiddleware {
        let directory: RegionDirectory

        func create(model: Region, on db: any Database, next: any AnyAsyncModelResponder) async throws {
            try await next.create(model, on: db)
            if let code = model.id { directory.invalidate(code) }
        }

        func update(model: Region, on db: any Database, next: any AnyAsyncModelResponder) async throws {
            try await next.update(model, on: db)
            if let code = model.id { directory.invalidate(code) }
        }

        func delete(model: Region, force: Bool, on db: any Database, next: any AnyAsyncModelResponder) async throws {
            try await next.delete(model, force: force, on: db)
            if let code = model.id { directory.invalidate(code) }
        }
    }
}

extension Application {
    private struct RegionDirectoryKey: StorageKey { typealias Value = RegionDirectory }
    var regionDirectory: RegionDirectory {
        get {
            guard let d = storage[RegionDirectoryKey.self] else { fatalError("configure(_:) sets the region directory") }
            return d
        }
        set { storage[RegionDirectoryKey.self] = newValue }
    }
}
