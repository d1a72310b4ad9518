import Foundation

/// A validator for the JSON Schema draft-04 keywords the SARIF 2.1.0 schema uses: `type`,
/// `properties`, `additionalProperties`, `required`, `enum`, `minimum`, `maximum`, `items`,
/// `minItems`, `uniqueItems`, `pattern`, `format` (`uri`, `uri-reference`), `anyOf`, `oneOf` and
/// local `$ref`s. A keyword it does not know is an error, not a pass: the check must not be weaker
/// than the schema it reads.
struct SchemaValidator {
    let root: [String: Any]
    static let known: Set<String> = ["$schema", "title", "id", "description", "default", "type", "properties", "additionalProperties",
                                     "required", "enum", "minimum", "maximum", "items", "minItems", "uniqueItems", "pattern",
                                     "format", "anyOf", "oneOf", "$ref", "definitions"]

    /// Every violation, as `path: problem`; empty when the instance is valid.
    func validate(_ instance: Any) -> [String] { check(instance, root, "$") }

    func check(_ value: Any, _ schema: [String: Any], _ path: String) -> [String] {
        var problems: [String] = []
        for key in schema.keys where !Self.known.contains(key) { problems.append("\(path): schema keyword '\(key)' is not supported") }
        if let ref = schema["$ref"] as? String {
            guard ref.hasPrefix("#/definitions/"), let definitions = root["definitions"] as? [String: Any],
                  let target = definitions[String(ref.dropFirst("#/definitions/".count))] as? [String: Any]
            else { return problems + ["\(path): unresolved $ref \(ref)"] }
            problems += check(value, target, path)
        }
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? "?"]
            if !types.contains(where: { Self.has(value, type: $0) }) { return problems + ["\(path): expected \(types.joined(separator: " or "))"] }
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            problems.append("\(path): \(value) is not one of the allowed values")
        }
        if let n = Self.number(value) {
            if let min = (schema["minimum"] as? NSNumber)?.doubleValue, n < min { problems.append("\(path): \(n) < minimum \(min)") }
            if let max = (schema["maximum"] as? NSNumber)?.doubleValue, n > max { problems.append("\(path): \(n) > maximum \(max)") }
        }
        if let s = value as? String {
            if let pattern = schema["pattern"] as? String, s.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): '\(s)' does not match \(pattern)")
            }
            switch schema["format"] as? String {
            case "uri": if URL(string: s)?.scheme == nil { problems.append("\(path): '\(s)' is not an absolute URI") }
            case "uri-reference": if URL(string: s) == nil { problems.append("\(path): '\(s)' is not a URI reference") }
            case nil: break
            case let other?: problems.append("\(path): format '\(other)' is not supported")
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { problems.append("\(path): '\(name)' is required") }
            for (k, v) in object {
                if let p = properties[k] as? [String: Any] {
                    problems += check(v, p, "\(path).\(k)")
                } else if let extra = schema["additionalProperties"] {
                    if let allowed = extra as? Bool { if !allowed { problems.append("\(path): property '\(k)' is not allowed") } }
                    else if let s = extra as? [String: Any] { problems += check(v, s, "\(path).\(k)") }
                }
            }
        }
        if let array = value as? [Any] {
            if let min = schema["minItems"] as? Int, array.count < min { problems.append("\(path): fewer than \(min) items") }
            if schema["uniqueItems"] as? Bool == true {
                for i in array.indices { for j in array.indices where j > i && Self.equal(array[i], array[j]) { problems.append("\(path): items \(i) and \(j) are equal") } }
            }
            if let items = schema["items"] as? [String: Any] {
                for (i, item) in array.enumerated() { problems += check(item, items, "\(path)[\(i)]") }
            }
        }
        if let anyOf = schema["anyOf"] as? [[String: Any]], !anyOf.contains(where: { check(value, $0, path).isEmpty }) {
            problems.append("\(path): matches none of anyOf")
        }
        if let oneOf = schema["oneOf"] as? [[String: Any]], oneOf.filter({ check(value, $0, path).isEmpty }).count != 1 {
            problems.append("\(path): does not match exactly one of oneOf")
        }
        return problems
    }

    /// JSONSerialization gives booleans as NSNumbers of Objective-C type `c`.
    static func isBoolean(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    static func number(_ v: Any) -> Double? { isBoolean(v) ? nil : (v as? NSNumber)?.doubleValue }

    static func has(_ v: Any, type: String) -> Bool {
        switch type {
        case "object": return v is [String: Any]
        case "array": return v is [Any]
        case "string": return v is String
        case "boolean": return isBoolean(v)
        case "number": return number(v) != nil
        case "integer": return number(v).map { $0 == $0.rounded() } ?? false
        case "null": return v is NSNull
        default: return false
        }
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        (a as? NSObject)?.isEqual(b) ?? false
    }
}
