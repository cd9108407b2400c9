import Vapor

/// Where the templates (`Resources/Views`), the public files (`Public`) and the bundled holiday calendar are: `PLS_ROOT`
/// when set, else the working directory, else the directories above the executable (`.build/…/pls` in a checkout, or
/// `/opt/pls/bin/pls` beside `/opt/pls/Resources`). A server started from anywhere (a systemd unit, a package) finds
/// them, or refuses to start and says where it looked.
enum ResourceRoot {
    /// The files whose absence makes pages fail or deadlines ignore holidays.
    static let required = ["Resources/Views/base.leaf", "Public/css/app.css", "Resources/calendar/cn-holiday-calendar.json"]

    static func holdsResources(_ root: String) -> Bool {
        let base = root.hasSuffix("/") ? root : root + "/"
        return required.allSatisfy { FileManager.default.fileExists(atPath: base + $0) }
    }

    /// The candidates in order of preference.
    static func candidates(configured: String?, workingDirectory: String, executable: String?) -> [String] {
        if let configured { return [configured] }
        var out = [workingDirectory]
        if let executable {
            var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<6 {
                out.append(url.path)
                url.deleteLastPathComponent()
            }
        }
        return out
    }

    /// The directory configuration rooted where the resources are, or an error naming the places looked at.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                       workingDirectory: String = DirectoryConfiguration.detect().workingDirectory,
                       executable: String? = Bundle.main.executablePath ?? CommandLine.arguments.first) throws -> DirectoryConfiguration {
        let configured = environment["PLS_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        let places = candidates(configured: configured, workingDirectory: workingDirectory, executable: executable)
        guard let root = places.first(where: holdsResources) else {
            let looked = places.map { "  " + $0 }.joined(separator: "\n")
            throw AppError(.internalServerError, "missing_resources", """
                找不到页面模板、静态文件和节假日安排（\(required.joined(separator: "、"))）。已查找：
                \(looked)
                请在项目目录中启动，或设置 PLS_ROOT 为包含 Resources/ 和 Public/ 的目录。
                """)
        }
        return DirectoryConfiguration(workingDirectory: root)
    }
}

extension Application {
    /// What is wrong with the holiday calendar, if anything: a year a deadline may fall in (this one or the next)
    /// without its holidays, so that deadlines there would count weekends only.
    var calendarWarning: String? {
        let year = today.year
        let missing = [year, year + 1].filter { !workingCalendar.knownYears.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "节假日安排缺少 \(missing.map(String.init).joined(separator: "、")) 年：这些年份的办理期限只跳过周末，不跳过法定节假日。请市级管理员在“节假日”页面录入国务院办公厅公布的安排。"
    }
}
