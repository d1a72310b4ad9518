import ArgumentParser
import Ledger
import Reports
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

    @Option(name: .long, help: ArgumentHelp("Write a calibration report of the fit against the export to this folder.", valueName: "dir"))
    var report: String?

    @Option(name: .long, help: ArgumentHelp("The price CSV the calibration report prices both sides with (US dollars per million tokens, as shared/data/prices/model_prices.csv).", valueName: "file"))
    var prices: String?

    @Option(name: .long, help: "US dollars per credit, for --prices.")
    var credit: String = "1"

    @Option(name: .long, help: ArgumentHelp("An export model priced at a row of --prices (repeatable), e.g. gpt-4o-2024-08-06=gpt-4o.", valueName: "name=row"))
    var modelMap: [String] = []

    @Option(name: .long, help: "Replications of the fitted workload in the calibration report.")
    var replications: Int = 20

    @Option(name: .long, help: "Seed of the fitted workload's replications.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Worker threads for the calibration's replications (default: all cores).")
    var threads: Int?

    func validate() throws {
        if report != nil {
            if prices == nil { throw ValidationError("--report needs --prices FILE: both sides of the calibration are priced with it") }
            if !format.isUsageExport { throw ValidationError("--report compares a fit with the usage export it came from; \(format.rawValue) is a research trace layout") }
            if !(1...1000).contains(replications) { throw ValidationError("--replications must be in 1…1000") }
            if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        } else if prices != nil || !modelMap.isEmpty {
            throw ValidationError("--prices and --model-map are for the calibration report: give --report DIR too")
        }
        _ = try parsedModelMap()
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

    /// `--model-map NAME=ROW` pairs; a name given twice is an error.
    func parsedModelMap() throws -> [String: String] {
        var map: [String: String] = [:]
        for pair in modelMap {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex, pair.index(after: eq) != pair.endIndex else {
                throw ValidationError("--model-map takes NAME=ROW (an export's model and a row of --prices), got '\(excerpt(pair))'")
            }
            let name = String(pair[..<eq]), row = String(pair[pair.index(after: eq)...])
            if map[name] != nil { throw ValidationError("--model-map: '\(excerpt(name))' is mapped twice") }
            map[name] = row
        }
        return map
    }

    func run() throws {
        do {
            let fit = try TraceFit.fit(paths: trace, format: format, options: ExportOptions(identityField: identityField),
                                       requestsPerBucket: requestsPerBucket)
            if let report, let prices {
                writeStandardError("calibrating: replaying the export and running the fit \(replications) times\n")
                let calibration = try Calibration.run(
                    fit: fit, paths: trace, exportOptions: ExportOptions(identityField: identityField),
                    options: calibrationOptions(prices),
                    command: (["burnrate"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
                try calibration.write(to: report)
                print(fit.yaml(pool: pool), terminator: "")
                let misses = calibration.misses
                writeStandardError("calibration report: \(report)/calibration.md; "
                                   + (misses.isEmpty ? "every figure of the export is within the fitted band\n"
                                                     : "\(misses.count) departure\(misses.count == 1 ? "" : "s") from the export:\n"
                                                       + misses.map { "  \($0)\n" }.joined()))
            } else {
                print(fit.yaml(pool: pool), terminator: "")
            }
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

extension Fit {
    func calibrationOptions(_ prices: String) throws -> Calibration.Options {
        var options = Calibration.Options(pricesPath: prices, credit: credit, replications: replications, seed: seed, threads: threads)
        options.modelMap = try parsedModelMap()
        return options
    }
}

extension TraceFormat: ExpressibleByArgument {}
