import ArgumentParser
import Ledger
import Simulation

/// `burnrate fit TRACE --format F`: a synthetic workload fitted to a trace.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a synthetic workload (arrivals, burstiness, token laws) to a trace or a usage export.",
        discussion: """
            Prints a `workload:` block in the scenario format: the average arrival rate, an hourly \
            profile when the trace covers a day or more, the inter-arrival coefficient of \
            variation (a renewal process when it is far from 1), a model mix when the trace names \
            models, and lognormal or gamma token distributions fitted by maximum likelihood with \
            their Kolmogorov–Smirnov distances. When the trace names identities (the generic \
            layout), prints an `identities:` list instead: one identity per trace identity (up \
            to 64), each with its own fitted workload, drawing from the pool named by --pool. \
            Reads the trace once, in memory bounded by its reservoirs of token counts. \
            Usage exports (litellm-spend-logs, bedrock-invocations, openai-usage, anthropic-usage) \
            are read as a replay reads them: several files are the pages of one export, in order; \
            --identity-field names the field that tells spenders apart (one identity each); an \
            aggregated export is disaggregated bucket by bucket from a fixed stream, and an \
            Anthropic report needs --requests-per-bucket.
            """
    )

    @Argument(help: "The trace file (CSV), or a usage export's file or pages.")
    var trace: [String]

    @Option(name: .long, help: "Trace layout.")
    var format: TraceFormat

    @Option(name: .long, help: "The pool the fitted identities draw from (when the trace names identities).")
    var pool: String = "team"

    @Option(name: .long, help: "A usage export's field that names the spender (team_id, api_key, user, end_user, identity.arn, project_id, api_key_id, user_id, workspace_id).")
    var identityField: String?

    @Option(name: .long, help: "Requests in each result of an Anthropic usage report (it records none).")
    var requestsPerBucket: Int64?

    func validate() throws {
        if let problem = LedgerName.problem(pool) { throw ValidationError("--pool: \(problem)") }
        if trace.isEmpty { throw ValidationError("a trace file is needed") }
        if trace.count > 1 && !format.isUsageExport { throw ValidationError("several files are the pages of a usage export; a \(format.rawValue) trace is one file") }
        if let f = identityField, !format.identityFields.contains(f) {
            throw ValidationError("--identity-field: the \(format.rawValue) format has no field '\(f)'"
                                  + (format.identityFields.isEmpty ? "" : "; expected one of \(format.identityFields.joined(separator: ", "))"))
        }
        if let n = requestsPerBucket, n < 1 { throw ValidationError("--requests-per-bucket must be at least 1") }
        if requestsPerBucket != nil && format != .anthropicUsage { throw ValidationError("--requests-per-bucket is for anthropic-usage reports") }
        if format == .anthropicUsage && requestsPerBucket == nil {
            throw ValidationError("an Anthropic usage report records no request count: give --requests-per-bucket N")
        }
    }

    func run() throws {
        do {
            let fit = try TraceFit.fit(paths: trace, format: format, options: ExportOptions(identityField: identityField),
                                       requestsPerBucket: requestsPerBucket)
            print(fit.yaml(pool: pool), terminator: "")
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    writeStandardError("error: \(message)\n")
}

extension TraceFormat: ExpressibleByArgument {}
