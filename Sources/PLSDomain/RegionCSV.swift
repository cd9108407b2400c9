import Foundation

/// The region import file: `code,name,level,parent_code[,population]`, one region a line,
/// an optional header line. Validated whole before anything is stored.
public enum RegionCSV {
    public struct Row: Equatable, Sendable {
        public var line: Int
        public var code: DivisionCode
        public var name: String
        public var level: RegionLevel
        public var population: Int
        public init(line: Int, code: DivisionCode, name: String, level: RegionLevel, population: Int) {
            self.line = line; self.code = code; self.name = name; self.level = level; self.population = population
        }
    }

    public struct Failure: Error, Equatable, Sendable {
        public var line: Int
        public var message: String
    }

    /// Parses and checks every line against the code rules, the file itself and the `existing` codes.
    /// Throws the first failure with its line number.
    public static func parse(_ text: String, existing: Set<String>) throws(Failure) -> [Row] {
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() {
            let lineNumber = index + 1
            var line = String(raw)
            if index == 0, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if index == 0, cells.first?.lowercased() == "code" { continue }
            guard cells.count == 4 || cells.count == 5 else {
                throw Failure(line: lineNumber, message: "应有 4 或 5 列（code,name,level,parent_code[,population]），实有 \(cells.count) 列")
            }
            guard let code = DivisionCode(cells[0]), let codeLevel = code.level else {
                throw Failure(line: lineNumber, message: "区划代码“\(cells[0])”无效：应为 12 位数字（自然村 15 位）并符合层级规则")
            }
            guard !cells[1].isEmpty else { throw Failure(line: lineNumber, message: "名称为空") }
            guard let level = RegionLevel(rawValue: cells[2]) else {
                throw Failure(line: lineNumber, message: "层级“\(cells[2])”无效：应为 city、county、town、village 或 natural_village")
            }
            guard level == codeLevel else {
                throw Failure(line: lineNumber, message: "层级 \(level.rawValue) 与区划代码不符（代码表明是 \(codeLevel.rawValue)）")
            }
            let expectedParent = code.parent?.rawValue ?? ""
            guard cells[3] == expectedParent else {
                throw Failure(line: lineNumber, message: expectedParent.isEmpty ? "市级区划不应有上级代码"
                              : "上级代码应为 \(expectedParent)，实为“\(cells[3])”")
            }
            var population = 0
            if cells.count == 5, !cells[4].isEmpty {
                guard let p = Int(cells[4]), p >= 0 else { throw Failure(line: lineNumber, message: "人口“\(cells[4])”不是非负整数") }
                population = p
            }
            if let first = seen[code.rawValue] {
                throw Failure(line: lineNumber, message: "区划代码 \(code.rawValue) 与第 \(first) 行重复")
            }
            if existing.contains(code.rawValue) {
                throw Failure(line: lineNumber, message: "区划代码 \(code.rawValue) 已存在")
            }
            seen[code.rawValue] = lineNumber
            rows.append(Row(line: lineNumber, code: code, name: cells[1], level: level, population: population))
        }
        // Parents may come later in the file; every parent must exist somewhere by the end.
        for row in rows {
            if let parent = row.code.parent?.rawValue, seen[parent] == nil, !existing.contains(parent) {
                throw Failure(line: row.line, message: "上级区划 \(parent) 不存在（文件中和系统中都没有）")
            }
        }
        // Insert parents before children so the foreign key holds.
        return rows.sorted { $0.level.depth < $1.level.depth || ($0.level == $1.level && $0.line < $1.line) }
    }
}
