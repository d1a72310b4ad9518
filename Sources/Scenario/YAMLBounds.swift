import Yams

/// Bounds on the shape of a scenario's YAML, checked before the tree is walked.
///
/// An alias repeats its anchor's node without copying it, so twenty lines of `&a [*b, *b, …]`
/// compose in microseconds into a tree of 10⁹ nodes that every later walk (overrides, pools,
/// children) expands: 4.6 GB in a minute. And Yams composes recursively, so a document nested a
/// hundred thousand levels deep overflows the stack. A scenario is a few thousand nodes at most
/// (the largest committed one, 168 hourly factors for 12 pools, about 2,500), so both bounds
/// leave two orders of magnitude.
enum YAMLBounds {
    /// Nodes of the expanded tree, aliases counted as often as they are used.
    static let maxNodes = 200_000
    /// Nesting of flow collections (`[`, `{`) and of block indentation, in levels or columns.
    static let maxDepth = 64
    static let maxIndent = 512

    struct Problem { var line: Int; var column: Int; var message: String }

    /// Refuses a tree that expands beyond `maxNodes`; the walk stops at the bound, so it costs
    /// at most that many steps whatever the aliases multiply.
    static func expansionProblem(_ root: Node) -> Problem? {
        var count = 0
        var stack: [Node] = [root]
        while let node = stack.popLast() {
            count += 1
            if count > maxNodes {
                let mark = node.mark
                return Problem(line: mark?.line ?? 1, column: mark?.column ?? 1,
                               message: "YAML: the document expands to more than \(maxNodes) values (aliases repeating an anchor?); a scenario is far smaller")
            }
            switch node {
            case .mapping(let m): for (k, v) in m { stack.append(k); stack.append(v) }
            case .sequence(let s): stack.append(contentsOf: s)
            default: break
            }
        }
        return nil
    }

    /// Refuses text nested deeper than the composer's stack can take, before it is composed.
    /// Brackets inside quotes and comments are skipped; the scan is one pass over the bytes.
    static func nestingProblem(_ text: String) -> Problem? {
        var depth = 0, line = 1, column = 0
        var quote: UInt8? = nil
        var comment = false
        var indent = 0, atLineStart = true
        for b in text.utf8 {
            column += 1
            if b == 10 {
                line += 1; column = 0; comment = false; indent = 0; atLineStart = true
                if quote == UInt8(ascii: "'") { quote = nil }  // a flow scalar does not span lines here
                continue
            }
            if atLineStart {
                if b == 32 || b == UInt8(ascii: "-") {
                    indent += 1
                    if indent > maxIndent { return Problem(line: line, column: column, message: "YAML: indented more than \(maxIndent) columns") }
                    continue
                }
                atLineStart = false
            }
            if comment { continue }
            if let q = quote { if b == q { quote = nil }; continue }
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = b
            case UInt8(ascii: "#"): comment = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { return Problem(line: line, column: column, message: "YAML: nested more than \(maxDepth) levels deep") }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return nil
    }
}
