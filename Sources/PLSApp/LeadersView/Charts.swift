import Foundation
import Vapor

/// Server-rendered SVG charts (no script, no external asset): the geometry is computed here, the templates draw it,
/// and every chart has a table beside it with the same numbers.
enum Charts {
    /// Bars across, one a row with its label: counts by channel, by county. Widths in percent of the track.
    struct Bar: Encodable, Sendable {
        var label: String; var value: String; var width: Double; var y: Int; var warn: Bool
        /// In a 400-wide box: the label at the left, the bar from x 110 up to 240 long, its value after it.
        var w: Double { (width * 2.4 * 10).rounded() / 10 }
        var tx: Double { w + 116 }
        var ly: Int { y + 17 }
        var ry: Int { y + 6 }
        var ty: Int { y + 19 }
        enum CodingKeys: String, CodingKey { case label, value, width, y, warn, w, tx, ly, ry, ty }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label); try c.encode(value, forKey: .value); try c.encode(width, forKey: .width)
            try c.encode(y, forKey: .y); try c.encode(warn, forKey: .warn); try c.encode(w, forKey: .w); try c.encode(tx, forKey: .tx)
            try c.encode(ly, forKey: .ly); try c.encode(ry, forKey: .ry); try c.encode(ty, forKey: .ty)
        }
    }
    struct Bars: Encodable, Sendable { var bars: [Bar]; var height: Int }

    static func bars(_ items: [(label: String, value: Double, text: String, warn: Bool)], scale: Double? = nil) -> Bars {
        let top = max(scale ?? items.map(\.value).max() ?? 1, 1)
        return Bars(bars: items.enumerated().map { i, it in
            Bar(label: it.label, value: it.text, width: max(0, min(100, it.value / top * 100)), y: i * 28, warn: it.warn)
        }, height: max(28, items.count * 28))
    }

    /// Two lines over twelve months (this year and last), in a 600×220 box: points as SVG `points`, month labels below.
    struct Line: Encodable, Sendable {
        var points: String
        var dots: [Dot]
        struct Dot: Encodable, Sendable { var x: Double; var y: Double; var label: String }
    }

    struct Months: Encodable, Sendable {
        var thisYear: Line
        var lastYear: Line
        var labels: [Tick]
        var gridlines: [Tick]
        /// The target's height, when it is a fixed number in the chart's range.
        var targetY: Double?
        struct Tick: Encodable, Sendable { var x: Double; var y: Double; var text: String }
    }

    static let left = 48.0, right = 588.0, top = 12.0, bottom = 188.0

    static func x(month: Int) -> Double { left + (right - left) * Double(month - 1) / 11 }

    static func months(thisYear: [(month: Int, value: Double?)], lastYear: [(month: Int, value: Double?)], target: Double?,
                       percent: Bool, suffix: String = "") -> Months {
        let values = (thisYear + lastYear).compactMap(\.value) + (target.map { [$0] } ?? [])
        let maxValue = percent ? 100 : max(1, (values.max() ?? 1) * 1.1)
        let minValue = percent ? max(0, ((values.min() ?? 0) / 10).rounded(.down) * 10 - 10) : 0
        let span = max(maxValue - minValue, 1)
        let y = { (v: Double) in bottom - (bottom - top) * (max(minValue, min(maxValue, v)) - minValue) / span }
        let format = { (v: Double) in percent ? String(format: "%.1f%%", v) : (v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)) + suffix }
        let line = { (pts: [(month: Int, value: Double?)]) -> Line in
            let dots = pts.compactMap { p in p.value.map { Line.Dot(x: x(month: p.month), y: y($0), label: "\(p.month) 月：" + format($0)) } }
            return Line(points: dots.map { String(format: "%.1f,%.1f", $0.x, $0.y) }.joined(separator: " "), dots: dots)
        }
        let grid = (0...4).map { i -> Months.Tick in
            let v = minValue + span * Double(i) / 4
            return Months.Tick(x: left - 6, y: y(v), text: percent ? String(format: "%.0f%%", v) : String(Int(v.rounded())))
        }
        return Months(thisYear: line(thisYear), lastYear: line(lastYear),
                      labels: (1...12).map { Months.Tick(x: x(month: $0), y: bottom + 18, text: "\($0)月") }, gridlines: grid,
                      targetY: target.flatMap { $0 >= minValue && $0 <= maxValue ? y($0) : nil })
    }
}

/// A count by key with the key's name: requests by channel, by matter, by county.
struct KeyCount: Content, Sendable {
    var key: String
    var name: String
    var count: Int

    /// Sums `n` by `key`, most first (ties by key), each named by `name`.
    static func tally<R>(_ rows: [R], by key: (R) -> String, n: (R) -> Int, name: (String) -> String) -> [KeyCount] {
        Dictionary(grouping: rows, by: key).map { KeyCount(key: $0.key, name: name($0.key), count: $0.value.reduce(0) { $0 + n($1) }) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }
}
