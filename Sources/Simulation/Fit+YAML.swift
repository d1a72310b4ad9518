import Ledger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TraceFit {
    /// ``yaml(pool:)`` with the fitted identities drawing from pool `team`.
    public var yaml: String { yaml(pool: "team") }

    /// The fit in the scenario format, with the diagnostics as comments: a `workload:` block
    /// to paste under an identity, or, when the trace names identities, an `identities:` list
    /// (one identity per trace identity, drawing from `pool`) to paste at the top level.
    ///
    /// Names come from the trace, so they are written as the scenario format reads them: an
    /// identity id that is not a valid name is rewritten (its trace name kept in a comment) and
    /// a model name that is not a plain YAML word is double-quoted with escapes.
    public func yaml(pool: String = "team") -> String {
        let hours = Double(spanMs) / 3_600_000
        var lines = [
            "# burnrate fit \(Self.comment(path)) --format \(format.rawValue)"
                + (identityField.map { " --identity-field \(Self.comment($0))" } ?? "")
                + (requestsPerBucket.map { " --requests-per-bucket \($0)" } ?? ""),
            "# \(requests) requests over \(Self.number(hours, 2)) h (\(Self.number(ratePerHour, 1))/h)"
                + (failedSkipped > 0 ? "; \(failedSkipped) " + (format == .litellmSpendLogs ? "rows whose status is not success" : "failed requests")
                   + " skipped" : ""),
            "# inter-arrival CV \(Self.number(gapCV))" + (gapCVFromCounts ? " (from counts per minute: the trace's arrivals are quantised)" : ""),
        ]
        if identityLimitExceeded {
            lines.append("# the trace names more than \(Self.maxIdentities) identities: one workload for all of them"
                         + " (a replay with an 'identities:' mapping keeps them apart)")
        }
        if whole.models.count > 0 || identities.contains(where: { !$0.workload.models.isEmpty }) {
            lines.append("# model names as the trace writes them: each must be in the scenario's prices (or rename it here)")
        }
        guard !identities.isEmpty else {
            lines.append("workload:")
            lines += workloadLines(whole, indent: "  ")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("# \(identities.count) identities in the trace, one workload each, drawing from pool '\(Self.comment(pool))'")
        lines.append("identities:")
        var used = Set<String>()
        for identity in identities {
            let id = Self.identityID(identity.name, used: &used)
            let share = Self.number(Double(identity.workload.requests) / Double(requests) * 100, 1)
            var note = "\(identity.workload.requests) request\(identity.workload.requests == 1 ? "" : "s") (\(share)%)"
            if let name = identity.name, name != id { note += "; '\(Self.comment(name))' in the trace" }
            if identity.name == nil { note += " that name no identity" }
            lines.append("  - id: \(Self.scalar(id))   # \(note)")
            lines.append("    pool: \(Self.scalar(pool))")
            lines.append("    workload:")
            lines += workloadLines(identity.workload, indent: "      ")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `workload:` body of one fit, at `indent`.
    func workloadLines(_ w: WorkloadFit, indent: String) -> [String] {
        var lines: [String] = []
        // The scenario format takes a renewal CV in [0.01, 10] (beyond 10 nearly every gamma gap
        // is zero): a burstier fit is written at the bound and says so.
        let cv = min(max(w.gapCV, 0.01), 10)
        let process = w.gapCV > 1.2 || w.gapCV < 0.8
            ? "renewal: { rate: \(Self.rate(w.ratePerHour)), cv: \(Self.number(cv)), gaps: gamma }"
            : "poisson: { rate: \(Self.rate(w.ratePerHour)) }"
        var notes: [String] = []
        if !identities.isEmpty {
            notes.append("inter-arrival CV \(Self.number(w.gapCV))" + (w.gapCVFromCounts ? " (from counts per minute)" : ""))
        }
        if cv != w.gapCV && process.hasPrefix("renewal") { notes.append("CV written at the format's bound") }
        if let profile = w.hourlyProfile {
            lines.append("\(indent)arrivals: { \(process), profile: [\(profile.map { Self.number($0, 2) }.joined(separator: ", "))] }"
                         + (notes.isEmpty ? "" : "   # " + notes.joined(separator: "; ")))
        } else {
            notes.append("the trace covers \(Self.number(Double(spanMs) / 3_600_000, 2)) h: too short for an hourly profile")
            lines.append("\(indent)arrivals: { \(process) }   # " + notes.joined(separator: "; "))
        }
        if let mix = Self.modelMix(w.models) {
            var note: [String] = []
            if w.requestsWithoutModel > 0 { note.append("\(w.requestsWithoutModel) requests name no model: the shares are of the others") }
            if mix.droppedModels > 0 { note.append("\(mix.droppedModels) models below 0.0001% left out") }
            lines.append("\(indent)model: { \(mix.text) }" + (note.isEmpty ? "" : "   # " + note.joined(separator: "; ")))
        } else if w.modelLimitExceeded {
            lines.append("\(indent)# more than \(Self.maxModels) models in the trace: no model mix (give 'model:')")
        }
        if min(w.input.lognormalKS, w.input.gammaKS) > 0.1 || min(w.output.lognormalKS, w.output.gammaKS) > 0.1 {
            lines.append("\(indent)# neither law fits the token counts closely (KS D > 0.1): replaying the trace keeps its shape")
        }
        lines += cacheLines(w, indent: indent)
        lines.append("\(indent)input_tokens:  \(Self.tokens(w.input))")
        lines.append("\(indent)output_tokens: \(Self.tokens(w.output))")
        lines += uncertaintyLines(w, indent: indent)
        return lines
    }

    /// The `cache:` shares of the export's recorded token split (none for a trace that records
    /// no split, or under 0.01% of input tokens either way). Shares are rounded down to four
    /// decimals, so that they never sum above 1; 1-hour writes are written as 5-minute writes
    /// (the synthetic format has one write class) and the comment says how many there were.
    func cacheLines(_ w: WorkloadFit, indent: String) -> [String] {
        let read = (w.cacheReadShare * 10_000).rounded(.down) / 10_000
        let write = (w.cacheWriteShare * 10_000).rounded(.down) / 10_000
        guard read + write > 0 else { return [] }
        var note = "the export's split: \(Self.number(w.cacheReadShare * 100, 1))% of input tokens read from the cache, "
            + "\(Self.number(w.cacheWriteShare * 100, 1))% written"
        if w.cacheWrite1hTokensTotal > 0 {
            note += " (\(Self.number(w.cacheWrite1hTokensTotal / (w.cacheWriteTokensTotal + w.cacheWrite1hTokensTotal) * 100, 1))% of writes "
                + "1-hour, priced here as 5-minute)"
        }
        return ["\(indent)cache: { read: \(Self.number(read, 4)), write: \(Self.number(write, 4)) }   # \(note)"]
    }

    /// The proposed `uncertainty.rate` from the counts' over-dispersion (weekly counts when the
    /// trace has enough full weeks, else daily), with what it was measured on.
    func uncertaintyLines(_ w: WorkloadFit, indent: String) -> [String] {
        guard let d = w.weekly ?? w.daily else {
            return ["\(indent)# the trace has fewer than \(CountDispersion.minimumDays) full days: no estimate of demand uncertainty"]
        }
        let period = d.periodHours == 168 ? "weekly" : "daily"
        let measured = "\(period) counts over \(d.periods) full \(d.periodHours == 168 ? "weeks" : "days"): index of dispersion "
            + "\(Self.number(d.indexOfDispersion)) (Poisson: 1)"
        guard d.rateCV >= 0.05 else {
            return ["\(indent)# \(measured): no uncertainty beyond Poisson noise worth modelling"]
        }
        return ["\(indent)# \(measured): the rate varies with CV \(Self.number(d.rateCV)) beyond Poisson noise;",
                "\(indent)# drawn once per replication, it is a \(period == "weekly" ? "week" : "day")'s spread (a month's is smaller if \(period == "weekly" ? "weeks" : "days") vary independently)",
                "\(indent)uncertainty: { rate: { gamma: { mean: 1, cv: \(Self.number(d.rateCV)) } } }"]
    }

    /// Shares that sum to exactly 1 in the printed decimals (the scenario format checks the sum
    /// to 1e-6): each model gets whole millionths by largest remainder (Hamilton's method);
    /// models left with none are dropped. Nil when there is no model.
    static func modelMix(_ models: [(name: String, requests: Int)]) -> (text: String, droppedModels: Int)? {
        let total = models.reduce(0) { $0 + $1.requests }
        guard total > 0 else { return nil }
        let units = 1_000_000
        var parts = models.map { $0.requests * units / total }
        let remainders = models.indices.map { models[$0].requests * units % total }
        let order = models.indices.sorted { (-remainders[$0], $0) < (-remainders[$1], $1) }
        for i in order.prefix(units - parts.reduce(0, +)) { parts[i] += 1 }
        let kept = models.indices.filter { parts[$0] > 0 }
        let text = kept.map { i in
            let digits = String(parts[i])
            let share = parts[i] == units ? "1" : "0." + String(repeating: "0", count: 6 - digits.count) + digits
            return "\(scalar(models[i].name)): \(trimmed(share))"
        }.joined(separator: ", ")
        return (text, models.count - kept.count)
    }

    /// `0.250000` → `0.25`.
    static func trimmed(_ decimal: String) -> String {
        guard decimal.contains(".") else { return decimal }
        var s = Substring(decimal)
        while s.last == "0" { s = s.dropLast() }
        if s.last == "." { s = s.dropLast() }
        return String(s)
    }

    static func tokens(_ t: TokenFit) -> String {
        let ln = t.lognormal.map { "{ lognormal: { median: \(number($0.median, 1)), sigma: \(number($0.sigma)) } }" }
        let g = t.gamma.map { "{ gamma: { shape: \(number($0.shape)), scale: \(number($0.scale, 1)) } }" }
        let chosen = (t.bestIsLognormal ? ln : g) ?? ln ?? g ?? "{ constant: \(number(t.mean, 1)) }"
        return chosen + "   # KS D: lognormal \(number(t.lognormalKS)), gamma \(number(t.gammaKS)); n = \(t.samples)"
            + (t.zeros > 0 ? ", \(t.zeros) zeros left out" : "")
    }

    /// `x` rounded to `digits` decimals, without a trailing `.0`.
    static func number(_ x: Double, _ digits: Int = 3) -> String {
        let scale = pow(10, Double(digits))
        let r = (x * scale).rounded() / scale
        return r == r.rounded() ? String(Int64(r)) : String(r)
    }

    /// A rate per hour with four significant digits below 10/h, so that a rare identity's rate
    /// never rounds to zero (one request in a 30-day trace is 0.001389/h).
    static func rate(_ perHour: Double) -> String {
        guard perHour > 0, perHour < 10 else { return number(perHour, 1) + "/h" }
        return number(perHour, max(1, 3 - Int(log10(perHour).rounded(.down)))) + "/h"
    }

    /// A scalar as YAML reads it back unchanged: a plain word when it is one, else a
    /// double-quoted string with `\\`, `"` and every non-printable character escaped.
    public static func scalar(_ text: String) -> String {
        let plain = !text.isEmpty && text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2e || b == 0x5f || b == 0x2d || b == 0x2f
        } && text.utf8.first.map { $0 != 0x2d && $0 != 0x2e } ?? false
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(text.lowercased())
            && Double(text) == nil
        if plain { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += scalar.value <= 0xFF ? "\\x" + hex(scalar.value, 2) : scalar.value <= 0xFFFF ? "\\u" + hex(scalar.value, 4) : "\\U" + hex(scalar.value, 8)
            }
        }
        return out + "\""
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Text for a comment: printable ASCII, at most 120 characters (see ``excerpt(_:limit:)``).
    static func comment(_ text: String) -> String { excerpt(text, limit: 120) }

    /// A valid, unused identity id for a trace identity: the name itself when it is one
    /// (``LedgerName``), else the name with every other character replaced by `-`, prefixed
    /// when it does not start with a letter or a digit, cut to the longest name; a clash with an
    /// earlier id gets `-2`, `-3`, …. Requests that name no identity become `unnamed`.
    static func identityID(_ name: String?, used: inout Set<String>) -> String {
        var base: String
        if let name, LedgerName.isValid(name) { base = name } else if let name {
            let allowed = Set(".-_:@".utf8)
            let bytes = name.unicodeScalars.map { s -> UInt8 in
                guard s.isASCII, let b = UInt8(exactly: s.value) else { return UInt8(ascii: "-") }
                return LedgerName.isValid(String(Character(s))) || allowed.contains(b) ? b : UInt8(ascii: "-")
            }
            base = String(decoding: bytes, as: UTF8.self)
            if !LedgerName.isValid(String(base.prefix(1))) { base = "id-" + base }
        } else {
            base = "unnamed"
        }
        base = String(base.prefix(LedgerName.maxLength - 8))
        var id = base, k = 1
        while used.contains(id) { k += 1; id = "\(base)-\(k)" }
        used.insert(id)
        return id
    }
}
