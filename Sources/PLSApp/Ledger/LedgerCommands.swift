import Vapor
import SQLKit
import PLSDomain

/// `pls ledger verify`: walks the hash chain of every timeline event, then the audit log's.
struct LedgerCommand: AsyncCommandGroup {
    var commands: [String: any AnyAsyncCommand] = ["verify": LedgerVerifyCommand()]
    var help: String { "The tamper-evident record" }
}

struct LedgerVerifyCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Check the whole chain and name the first event that was altered or removed" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let result = try await Ledger.verify(on: context.application.db as! any SQLDatabase, protector: context.application.personalData)
        if let problem = result.problem {
            context.console.error("账本校验失败（已核对 \(result.checked) 条）：\(problem)")
            throw ExitCode(1)
        }
        context.console.success("账本完整：共 \(result.checked) 条事件，哈希链无断裂")
        let audit = try await AuditLog.verify(protector: context.application.personalData, on: context.application.db as! any SQLDatabase)
        if let problem = audit.problem {
            context.console.error("审计日志校验失败（已核对 \(audit.checked) 条）：\(problem)")
            throw ExitCode(1)
        }
        context.console.success("审计日志完整：共 \(audit.checked) 条记录")
    }
}
