import Vapor
import Fluent

/// `pls regions import FILE.csv`: all lines are checked first; one bad line imports nothing.
struct RegionsCommand: AsyncCommandGroup {
    var commands: [String: any AnyAsyncCommand] = ["import": RegionsImportCommand()]
    var help: String { "Manage the region registry" }
}

struct RegionsImportCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "file", help: "CSV with columns code,name,level,parent_code[,population]")
        var file: String
    }

    var help: String { "Import regions from a CSV file (all or nothing)" }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let data = FileManager.default.contents(atPath: signature.file) else {
            context.console.error("无法读取文件 \(signature.file)")
            throw ExitCode(1)
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            let count = try await RegionController.importCSV(text, on: context.application.db)
            context.console.success("已导入 \(count) 个行政区划")
        } catch let e as AppError {
            context.console.error(e.message)
            throw ExitCode(1)
        }
    }
}

struct ExitCode: Error { let code: Int32; init(_ code: Int32) { self.code = code } }
