import Vapor
import SQLKit
import PLSDomain

/// `pls calendar due --from YYYY-MM-DD --working-days N | --calendar-days N`: lets operators check a due date.
struct CalendarCommand: AsyncCommandGroup {
    var commands: [String: any AnyAsyncCommand] = ["due": CalendarDueCommand()]
    var help: String { "The working-day calendar" }
}

struct CalendarDueCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "from", help: "Start date, YYYY-MM-DD (not counted)")
        var from: String?
        @Option(name: "working-days", help: "N working days")
        var workingDays: Int?
        @Option(name: "calendar-days", help: "N calendar days; a rest day at the end moves to the next working day")
        var calendarDays: Int?
    }

    var help: String { "Print the due date of a time limit" }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let from = signature.from.flatMap(CivilDate.init) else {
            context.console.error("请用 --from YYYY-MM-DD 给出起算日期")
            throw ExitCode(1)
        }
        guard (signature.workingDays == nil) != (signature.calendarDays == nil) else {
            context.console.error("请给出 --working-days 或 --calendar-days 之一")
            throw ExitCode(1)
        }
        let rule = DeadlineRule(days: signature.workingDays ?? signature.calendarDays!,
                                unit: signature.workingDays != nil ? .workingDays : .calendarDays)
        let calendar = context.application.workingCalendar
        let due = rule.due(from: from, on: calendar)
        context.console.print(due.description)
        if !calendar.covers(from, due) {
            context.console.warning("注意：\(from.year)–\(due.year) 年中有年份的节假日安排尚未录入，结果只按周末计算")
        }
    }
}
