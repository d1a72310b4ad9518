import Foundation

/// A small SVG chart: axes with "nice" ticks and units, a title, and layers drawn in data
/// coordinates. Plain text output, no clock, no randomness: the same data gives the same bytes.
struct SVGChart {
    var title: String
    var xLabel: String
    var yLabel: String
    var width = 760.0
    var height = 400.0
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>
    /// Category names at x = 1, 2, … instead of numeric ticks (bar charts).
    var xCategories: [String]? = nil
    private var layers: [String] = []
    private var legend: [(String, String, Double)] = []

    let left = 78.0, right = 24.0, top = 44.0, bottom = 56.0

    init(title: String, xLabel: String, yLabel: String, x: ClosedRange<Double>, y: ClosedRange<Double>) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x.lowerBound == x.upperBound ? (x.lowerBound - 1)...(x.upperBound + 1) : x
        self.y = y.lowerBound == y.upperBound ? (y.lowerBound - 1)...(y.upperBound + 1) : y
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * plotWidth }
    func py(_ v: Double) -> Double { top + (1 - (v - y.lowerBound) / (y.upperBound - y.lowerBound)) * plotHeight }

    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Ticks at 1, 2 or 5 × 10^k, about five of them.
    static func ticks(_ r: ClosedRange<Double>) -> [Double] {
        let span = r.upperBound - r.lowerBound
        guard span > 0, span.isFinite else { return [r.lowerBound] }
        let raw = span / 5
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? p * 10
        var t = (r.lowerBound / step).rounded(.up) * step
        var out: [Double] = []
        while t <= r.upperBound + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1_000_000 { return f(v / 1_000_000) + "M" }
        if a >= 10_000 { return f(v / 1_000) + "k" }
        if a == a.rounded() { return String(Int(v)) }
        if a >= 1 { return f(v) }
        let r = (v * 1000).rounded() / 1000
        return "\(r)"
    }

    mutating func line(_ points: [(Double, Double)], color: String, width w: Double = 2, dashed: Bool = false, name: String? = nil) {
        guard points.count > 1 else { return }
        let d = points.map { "\(Self.f(px($0.0))),\(Self.f(py($0.1)))" }.joined(separator: " ")
        layers.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(w)\"\(dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(d)\"/>")
        if let name { legend.append((name, color, 1)) }
    }

    mutating func band(_ lower: [(Double, Double)], _ upper: [(Double, Double)], color: String, name: String? = nil) {
        guard lower.count > 1 else { return }
        let pts = (lower + upper.reversed()).map { "\(Self.f(px($0.0))),\(Self.f(py($0.1)))" }.joined(separator: " ")
        layers.append("<polygon fill=\"\(color)\" fill-opacity=\"0.25\" stroke=\"none\" points=\"\(pts)\"/>")
        if let name { legend.append((name, color, 0.25)) }
    }

    mutating func bar(from x0: Double, to x1: Double, height h: Double, color: String) {
        let a = px(x0), b = px(x1), top = py(max(h, y.lowerBound)), base = py(max(y.lowerBound, 0))
        layers.append("<rect x=\"\(Self.f(a + 0.5))\" y=\"\(Self.f(top))\" width=\"\(Self.f(max(b - a - 1, 0.5)))\" height=\"\(Self.f(max(base - top, 0)))\" fill=\"\(color)\"/>")
    }

    mutating func point(_ p: (Double, Double), color: String, label: String? = nil) {
        layers.append("<circle cx=\"\(Self.f(px(p.0)))\" cy=\"\(Self.f(py(p.1)))\" r=\"6\" fill=\"\(color)\" stroke=\"white\" stroke-width=\"1.5\"/>")
        if let label {
            layers.append("<text x=\"\(Self.f(px(p.0) + 9))\" y=\"\(Self.f(py(p.1) - 8))\" font-size=\"12\">\(escape(label))</text>")
        }
    }

    mutating func vertical(at v: Double, color: String, label: String) {
        layers.append("<line x1=\"\(Self.f(px(v)))\" y1=\"\(Self.f(top))\" x2=\"\(Self.f(px(v)))\" y2=\"\(Self.f(top + plotHeight))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>")
        layers.append("<text x=\"\(Self.f(px(v) + 4))\" y=\"\(Self.f(top + 14))\" font-size=\"12\" fill=\"\(color)\">\(escape(label))</text>")
    }

    mutating func note(_ text: String) {
        layers.append("<text x=\"\(Self.f(left + plotWidth / 2))\" y=\"\(Self.f(top + plotHeight / 2))\" font-size=\"15\" text-anchor=\"middle\" fill=\"#555\">\(escape(text))</text>")
    }

    func escape(_ s: String) -> String {
        Escape.xml(s)
    }

    func render() -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(Self.f(width / 2))\" y=\"24\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\">\(escape(title))</text>\n"
        for t in Self.ticks(y) {
            s += "<line x1=\"\(Self.f(left))\" y1=\"\(Self.f(py(t)))\" x2=\"\(Self.f(left + plotWidth))\" y2=\"\(Self.f(py(t)))\" stroke=\"#e3e3e3\"/>\n"
            s += "<text x=\"\(Self.f(left - 8))\" y=\"\(Self.f(py(t) + 4))\" font-size=\"12\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        let xTicks: [(Double, String)] = xCategories.map { names in names.enumerated().map { (Double($0.offset + 1), $0.element) } }
            ?? Self.ticks(x).map { ($0, Self.label($0)) }
        for (t, text) in xTicks {
            s += "<line x1=\"\(Self.f(px(t)))\" y1=\"\(Self.f(top + plotHeight))\" x2=\"\(Self.f(px(t)))\" y2=\"\(Self.f(top + plotHeight + 5))\" stroke=\"#333\"/>\n"
            s += "<text x=\"\(Self.f(px(t)))\" y=\"\(Self.f(top + plotHeight + 20))\" font-size=\"12\" text-anchor=\"middle\">\(escape(text))</text>\n"
        }
        s += layers.joined(separator: "\n") + "\n"
        s += "<rect x=\"\(Self.f(left))\" y=\"\(Self.f(top))\" width=\"\(Self.f(plotWidth))\" height=\"\(Self.f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(Self.f(left + plotWidth / 2))\" y=\"\(Self.f(height - 12))\" font-size=\"13\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18 \(Self.f(top + plotHeight / 2))) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (i, (name, color, opacity)) in legend.enumerated() {
            let ly = top + 10 + Double(i) * 18
            s += "<rect x=\"\(Self.f(left + plotWidth - 170))\" y=\"\(Self.f(ly))\" width=\"14\" height=\"10\" fill=\"\(color)\" fill-opacity=\"\(opacity)\"/>"
            s += "<text x=\"\(Self.f(left + plotWidth - 150))\" y=\"\(Self.f(ly + 9))\" font-size=\"12\">\(escape(name))</text>\n"
        }
        return s + "</svg>\n"
    }
}

