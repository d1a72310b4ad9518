import Foundation
import Testing
@testable import Reports

/// Issue #14, "notebooks as a code-execution vector": a notebook's blocks run an allow-list of
/// subcommands, and its files and outputs stay inside its folder.
@Suite("Untrusted files: notebooks")
struct NotebookSafetyTests {
    /// A repository-like tree: `repo/.git/config`, `repo/notebooks/` (the notebook's folder).
    func tree() throws -> (repo: String, notebooks: String) {
        let repo = temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(atPath: repo + "/.git", withIntermediateDirectories: true)
        try "[core]\n".write(toFile: repo + "/.git/config", atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: repo + "/notebooks", withIntermediateDirectories: true)
        return (repo, repo + "/notebooks")
    }

    func refusal(_ text: String, directory: String, root: String? = nil) -> String? {
        do {
            let nb = try Notebook(text: text)
            try nb.check(try NotebookConfinement(directory: directory, root: root))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func anInlineFileThroughASymlinkOutOfTheFolderIsRefused() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        try FileManager.default.createSymbolicLink(atPath: notebooks + "/g", withDestinationPath: "../.git")
        let nb = "```burnrate file=g/config\n[core]\n\tfsmonitor = \"touch /tmp/pwned\"\n```\n"
        #expect(refusal(nb, directory: notebooks)?.contains("symbolic link") == true)
        // Refused before anything is written, and by the writer too.
        #expect(throws: NotebookConfinement.Refused.self) { try NotebookConfinement(directory: notebooks).resolve("g/config") }
        #expect(try String(contentsOfFile: repo + "/.git/config", encoding: .utf8) == "[core]\n")
    }

    @Test func noLinkIsFollowedEvenOneThatStaysInside() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        try FileManager.default.createDirectory(atPath: notebooks + "/data", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: notebooks + "/d", withDestinationPath: "data")
        #expect(refusal("```burnrate file=d/s.yaml\nname: s\n```\n", directory: notebooks)?.contains("symbolic link") == true)
        // `g -> ../.git` stays inside `--root` (the repository) and would reach .git/config.
        try FileManager.default.createDirectory(atPath: repo + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: notebooks + "/g", withDestinationPath: "../.git")
        let root = try NotebookConfinement(directory: notebooks, root: repo)
        #expect(throws: NotebookConfinement.Refused.self) { try root.resolve("g/config") }
        #expect(throws: NotebookConfinement.Refused.self) { try root.resolve("../.git/config") }
        #expect(throws: NotebookConfinement.Refused.self) { try root.check(arguments: ["run", "s.yaml", "--out", "g/hooks2"]) }
        #expect(throws: NotebookConfinement.Refused.self) { try root.check(arguments: ["run", "s.yaml", "--out", "../.GIT/hooks"]) }
    }

    @Test func aBlockMayNotLiftTheFolderRule() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let c = try NotebookConfinement(directory: notebooks)
        #expect(throws: NotebookConfinement.Refused.self) { try c.check(arguments: ["check", "s.yaml", "--allow-outside"]) }
    }

    @Test(arguments: [
        "burnrate run s.yaml --out ../../victim",
        "burnrate run s.yaml --out=../victim",
        "burnrate run s.yaml --out /tmp/victim",
        "burnrate ledger init --db /tmp/anywhere.db",
        "burnrate ledger init --db=../x.db",
        "burnrate check ../../elsewhere --junit j.xml",
        "burnrate run ~/s.yaml",
    ])
    func pathsOutsideTheNotebooksFolderAreRefused(command: String) throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let found = refusal("```burnrate\n\(command)\n```\n", directory: notebooks)
        #expect(found != nil, "\(command) was accepted")
    }

    @Test(arguments: ["burnrate notebook self.md", "burnrate bench sim", "burnrate frobnicate"])
    func onlyAllowListedSubcommandsRun(command: String) throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        #expect(refusal("```burnrate\n\(command)\n```\n", directory: notebooks)?.contains("may run only burnrate") == true)
    }

    @Test func commandsInsideTheFolderAreAccepted() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let nb = "```burnrate\nburnrate size s.yaml --target 'continuity >= 0.99' --out out/x\nburnrate ledger init --db l.db\n```\n"
        #expect(refusal(nb, directory: notebooks) == nil)
        // A wider root admits a scenario beside the notebooks' folder, never beyond the root.
        let beside = "```burnrate\nburnrate run ../scenarios/s.yaml --out out/s\n```\n"
        #expect(refusal(beside, directory: notebooks) != nil)
        #expect(refusal(beside, directory: notebooks, root: repo) == nil)
        #expect(refusal("```burnrate\nburnrate run ../../s.yaml\n```\n", directory: notebooks, root: repo) != nil)
    }

    @Test func aNotebookThatRunsItselfIsRefusedWithoutRunningAnything() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        try "# self\n\n```burnrate\nburnrate notebook self.md\n```\n".write(toFile: notebooks + "/self.md", atomically: true, encoding: .utf8)
        let started = Date()
        let result = try burnrate(["notebook", "--check", "self.md"], in: notebooks)
        #expect(result.status == 2)
        #expect(result.stderr.contains("may run only burnrate"))
        #expect(Date().timeIntervalSince(started) < 30)
        // And a notebook command started by a notebook's command refuses to run at all.
        let nested = try burnrate(["notebook", "--check", "self.md"], in: notebooks, environment: ["BURNRATE_INSIDE_NOTEBOOK": "1"])
        #expect(nested.status == 2 && nested.stderr.contains("cannot run inside a notebook"))
    }

    @Test func aCommandThatOutlivesItsTimeBoundIsKilled() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        // Half a million requests a replication, many replications: minutes of work.
        let slow = """
            name: slow
            horizon: 30d
            replications: 1000
            prices: { m: { fixed: 0.001 } }
            pools: [ { id: p, grants: [ { amount: 1000000 } ] } ]
            identities: [ { id: i, pool: p, workload: { arrivals: { poisson: { rate: 700/h } } } } ]
            """
        let nb = "```burnrate file=slow.yaml\n\(slow)\n```\n\n```burnrate\nburnrate run slow.yaml --out out/slow\n```\n"
        try nb.write(toFile: notebooks + "/slow.md", atomically: true, encoding: .utf8)
        let started = Date()
        let result = try burnrate(["notebook", "--timeout", "2", "slow.md"], in: notebooks)
        #expect(Date().timeIntervalSince(started) < 60)
        // A killed block is a broken notebook: exit 2, and the notebook is not rewritten.
        #expect(result.status == 2 && result.stderr.contains("was killed"), "\(result.stderr)")
        #expect(try String(contentsOfFile: notebooks + "/slow.md", encoding: .utf8) == nb)
        #expect(!FileManager.default.fileExists(atPath: notebooks + "/out/slow"))
    }

    @Test func aBlockThatRefusesItsInputBreaksTheNotebook() throws {
        let (repo, notebooks) = try tree()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let nb = "```burnrate\nburnrate run missing.yaml --out out/m\n```\n"
        try nb.write(toFile: notebooks + "/bad.md", atomically: true, encoding: .utf8)
        for check in [false, true] {
            let result = try burnrate(["notebook"] + (check ? ["--check"] : []) + ["bad.md"], in: notebooks)
            #expect(result.status == 2 && result.stderr.contains("exited 2"), "\(result.stderr)")
            #expect(try String(contentsOfFile: notebooks + "/bad.md", encoding: .utf8) == nb)
        }
    }
}
