import ArgumentParser
import Foundation
import Reports
import Simulation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `burnrate notebook`: executes the burnrate blocks of Markdown notebooks.
struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Execute the ```burnrate blocks of Markdown notebooks and rewrite their outputs in place.",
        discussion: """
            A ```burnrate block holds command lines ('burnrate size …'); the region under it \
            (between <!-- burnrate:output … --> and <!-- burnrate:end -->) is replaced by what \
            they print, with links to the charts of the reports they write. A block \
            ```burnrate file=NAME.yaml holds an inline scenario, written beside the notebook \
            before later blocks run. Commands run in the notebook's directory. With --check \
            nothing is written to the notebook: exit 1 when a stored output is stale. Exit \
            status: 0, 1 (stale, with --check), 2 on a malformed or refused notebook.

            A notebook is untrusted input: its blocks may run only burnrate run, merge, check, \
            size, compare, procure, fit and ledger (never notebook); every argument and inline \
            file must stay inside the notebook's folder (or --root): no absolute path, no '..' \
            leaving it, no symbolic link followed out of it. A scenario's own files (traces, \
            price tables) must lie in the scenario's folder tree unless --allow-outside. Each \
            command is killed after --timeout seconds and is limited to --max-memory-mb of \
            address space.
            """
    )

    @Argument(help: "Markdown notebooks.") var files: [String]
    @Flag(name: .long, help: "Do not rewrite; exit 1 when an output is stale.") var check = false
    @Option(name: .long, help: "The folder nothing may leave (default: each notebook's own folder).") var root: String?
    @Flag(name: .long, help: "Let scenarios read traces and price tables outside their own folder tree.") var allowOutside = false
    @Option(name: .long, help: "Seconds a command may run before it is killed (default 600).") var timeout: Int = 600
    @Option(name: .long, help: "Address space a command may use, in MiB (default 4096).") var maxMemoryMb: Int = 4096

    /// Set in the environment of the commands a notebook runs: a notebook never runs a notebook.
    static let insideNotebook = "BURNRATE_INSIDE_NOTEBOOK"

    func validate() throws {
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        if maxMemoryMb < 64 { throw ValidationError("--max-memory-mb must be at least 64") }
    }

    func run() throws {
        if ProcessInfo.processInfo.environment[Self.insideNotebook] != nil {
            writeStandardError("error: burnrate notebook cannot run inside a notebook\n")
            throw ExitCode(2)
        }
        let fm = FileManager.default
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var stale = false
        var broken = false
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                writeStandardError("error: \(file): cannot read the notebook\n"); throw ExitCode(2)
            }
            let notebook: Notebook
            do { notebook = try Notebook(text: text) } catch {
                writeStandardError("error: \(file):\(error)\n"); throw ExitCode(2)
            }
            let confinement: NotebookConfinement
            do {
                confinement = try NotebookConfinement(directory: URL(fileURLWithPath: file).deletingLastPathComponent().path, root: root)
                try notebook.check(confinement)
            } catch {
                writeStandardError("error: \(file): \(error)\n"); throw ExitCode(2)
            }
            let directory = confinement.directory
            let limits = ChildLimits(timeoutSeconds: timeout, memoryMiB: maxMemoryMb, confineReads: !allowOutside)
            // A block that was killed (a bound), ended by a signal, or refused its input (exit 2)
            // is a broken notebook, not an output to record: the command fails and, without
            // --check, the notebook is not rewritten. (Exit 1, a refusal or a failing gate, is
            // an output a notebook may show.)
            var failures: [String] = []
            let (result, changed) = try notebook.executed(
                write: { path, contents in
                    let target = try confinement.resolve(path)
                    try Data(contents.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
                },
                run: { args in
                    try confinement.check(arguments: args)
                    // A notebook's text reaches the CI log: escaped, as error messages are.
                    writeStandardError("\(file): burnrate \(excerpt(args.joined(separator: " "), limit: 200))\n")
                    let output = try Self.execute(executable, args, in: directory, limits: limits)
                    if output.killed || output.status >= 2 {
                        failures.append("burnrate \(excerpt(args.joined(separator: " "), limit: 200)) \(output.killed ? "was killed (a notebook bound, or a signal)" : "exited \(output.status)")")
                    }
                    return output.output
                },
                charts: { dir in
                    guard let path = try? confinement.resolve(dir + "/charts") else { return [] }
                    return ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".svg") }.sorted().map { "charts/" + $0 }
                })
            if !failures.isEmpty {
                broken = true
                for f in failures { writeStandardError("error: \(file): \(f); the notebook is broken\(check ? "" : " and was not rewritten")\n") }
                continue
            }
            if check {
                if !changed.isEmpty {
                    stale = true
                    writeStandardError("\(file): \(changed.count) output region(s) are stale; run `burnrate notebook \(file)`\n")
                } else {
                    writeStandardError("\(file): up to date\n")
                }
            } else {
                try Data(result.text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
                print("\(file): \(changed.isEmpty ? "unchanged" : "\(changed.count) output region(s) rewritten")")
            }
        }
        if broken { throw ExitCode(2) }
        if stale { throw ExitCode(1) }
    }

    /// The bounds of one command of a notebook.
    struct ChildLimits {
        var timeoutSeconds: Int
        var memoryMiB: Int
        var confineReads: Bool
        /// Standard output kept from one command: a notebook's output region is text for a reader.
        var outputBytesMax = 4 << 20
    }

    /// Runs this executable with `args` in `directory`; standard output captured, standard error
    /// passed through. The child gets a minimal environment (no secrets of the runner to leak),
    /// applies `limits` to itself before it reads anything (see `ResourceLimits.applyFromEnvironment`),
    /// and is killed when it outlives the time bound or prints more than the output bound.
    /// What one command of a notebook did: its recorded output, and whether a bound or a signal
    /// ended it.
    struct Execution {
        var output: Notebook.CommandOutput
        var killed: Bool
        var status: Int32 { output.status }
    }

    static func execute(_ executable: String, _ args: [String], in directory: String, limits: ChildLimits) throws -> Execution {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment: [String: String] = [:]
        for key in ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"] { environment[key] = ProcessInfo.processInfo.environment[key] }
        environment[insideNotebook] = "1"
        environment[ResourceLimits.memoryVariable] = String(limits.memoryMiB)
        // CPU time runs faster than the wall clock on several cores: the kill below is the time
        // bound, this a backstop should the parent die.
        environment[ResourceLimits.cpuVariable] = String(limits.timeoutSeconds * max(1, ProcessInfo.processInfo.activeProcessorCount))
        if limits.confineReads { environment[ResourceLimits.confineVariable] = "1" }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let pid = process.processIdentifier
        let timedOut = Mutex(false)
        let killer = DispatchWorkItem {
            timedOut.withLock { $0 = true }
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(limits.timeoutSeconds), execute: killer)
        var data = Data()
        var truncated = false
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            if data.count + chunk.count > limits.outputBytesMax {
                truncated = true
                kill(pid, SIGKILL)
                break
            }
            data.append(chunk)
        }
        process.waitUntilExit()
        killer.cancel()
        var stdout = String(decoding: data, as: UTF8.self)
        if timedOut.withLock({ $0 }) {
            stdout += "\n(killed after \(limits.timeoutSeconds) s: the time bound of a notebook command, --timeout)"
        } else if truncated {
            stdout += "\n(killed: more than \(limits.outputBytesMax >> 20) MiB of output)"
        }
        let killed = timedOut.withLock({ $0 }) || truncated || process.terminationReason == .uncaughtSignal
        return Execution(output: Notebook.CommandOutput(status: process.terminationStatus, stdout: stdout), killed: killed)
    }
}
