import ArgumentParser
import Foundation
import Reports

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
            status: 0, 1 (stale, with --check), 2 on a malformed notebook.
            """
    )

    @Argument(help: "Markdown notebooks.") var files: [String]
    @Flag(name: .long, help: "Do not rewrite; exit 1 when an output is stale.") var check = false

    func run() throws {
        let fm = FileManager.default
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var stale = false
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                writeStandardError("error: \(file): cannot read the notebook\n"); throw ExitCode(2)
            }
            let notebook: Notebook
            do { notebook = try Notebook(text: text) } catch {
                writeStandardError("error: \(file):\(error)\n"); throw ExitCode(2)
            }
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
            let (result, changed) = try notebook.executed(
                write: { path, contents in
                    try Data(contents.utf8).write(to: URL(fileURLWithPath: directory + "/" + path), options: .atomic)
                },
                run: { args in
                    writeStandardError("\(file): burnrate \(args.joined(separator: " "))\n")
                    return try Self.execute(executable, args, in: directory)
                },
                charts: { dir in
                    let path = directory + "/" + dir + "/charts"
                    return ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".svg") }.sorted().map { "charts/" + $0 }
                })
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
        if stale { throw ExitCode(1) }
    }

    /// Runs this executable with `args` in `directory`; standard output captured, standard error passed through.
    static func execute(_ executable: String, _ args: [String], in directory: String) throws -> Notebook.CommandOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Notebook.CommandOutput(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self))
    }
}
