import Foundation
import Simulation

/// What a notebook may make Burnrate do. A notebook arrives in pull requests, so `burnrate
/// notebook --check` in CI runs commands that anyone wrote: its blocks may only run the
/// subcommands below, and every argument and inline file stays inside the notebook's folder (or
/// the `--root` given, e.g. the repository): no absolute path, no `..` leaving it, no symbolic
/// link followed at all (a link inside the root may still point at `.git`), and never a path
/// through a `.git` folder (`.git/config` and `.git/hooks` run code on the next git command). A
/// `notebook` block (recursion) and `bench` (minutes of CPU by design) are refused, and so is
/// `--allow-outside` (only the workflow that runs the notebook may lift the folder rule); `ledger`
/// is allowed because its database path is an argument and so confined.
public struct NotebookConfinement: Sendable {
    /// Subcommands a notebook block may run.
    public static let allowedSubcommands: Set<String> = ["run", "merge", "check", "size", "compare", "procure", "fit", "ledger"]

    /// The notebook's folder (where its commands run), as a real path.
    public let directory: String
    /// The folder nothing may leave, as a real path: the notebook's folder or an enclosing one.
    public let root: String

    /// Why a notebook's block may not run.
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// `directory` is the notebook's folder; `root`, when given, must enclose it.
    public init(directory: String, root: String? = nil) throws(Refused) {
        guard let dir = Self.realPath(directory) else { throw Refused(message: "cannot resolve the notebook's folder '\(directory)'") }
        let top = try root.map { (r) throws(Refused) -> String in
            guard let real = Self.realPath(r) else { throw Refused(message: "cannot resolve --root '\(r)'") }
            return real
        } ?? dir
        guard Self.isInside(dir, top) else { throw Refused(message: "the notebook's folder is not inside --root '\(root ?? top)'") }
        self.directory = dir
        self.root = top
    }

    /// Refuses a command line (arguments after `burnrate`) the notebook may not run.
    public func check(arguments: [String]) throws(Refused) {
        guard let sub = arguments.first else { throw Refused(message: "an empty command") }
        guard Self.allowedSubcommands.contains(sub) else {
            throw Refused(message: "a notebook block may run only burnrate \(Self.allowedSubcommands.sorted().joined(separator: ", ")); got '\(excerptText(sub))'")
        }
        for a in arguments.dropFirst() {
            if a == "--allow-outside" || a.hasPrefix("--allow-outside=") {
                throw Refused(message: "a notebook block may not pass --allow-outside: only the command that runs the notebook may lift the folder rule")
            }
            // `--out=DIR` is `--out DIR`. Every other argument is read as a path too: a value that
            // is not a path (`continuity >= 0.99`) names nothing on disk and passes.
            let value = a.hasPrefix("--") ? a.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) : a
            guard let value else { continue }
            _ = try resolve(value)
        }
    }

    /// The absolute path of `path` (relative to the notebook's folder) when it stays inside the
    /// root, following symbolic links only where they stay inside it too.
    @discardableResult
    public func resolve(_ path: String) throws(Refused) -> String {
        if path.hasPrefix("/") { throw Refused(message: "'\(excerptText(path))': a notebook may not name an absolute path") }
        if path.hasPrefix("~") { throw Refused(message: "'\(excerptText(path))': a notebook may not name a home folder") }
        var parts = directory.split(separator: "/").map(String.init)
        for c in path.split(separator: "/") {
            switch c {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(c))
            }
            if c.lowercased() == ".git" {
                throw Refused(message: "'\(excerptText(path))': a notebook may not name a path in a .git folder")
            }
            let prefix = "/" + parts.joined(separator: "/")
            guard Self.isInside(prefix, root) else {
                throw Refused(message: "'\(excerptText(path))' leaves the notebook's folder \(root == directory ? "" : "(root \(root))")")
            }
            // No link is followed, wherever it points: `g -> ../.git` stays inside `--root .` and
            // would still reach `.git/config`; a notebook needs no links to name its own files.
            var st = stat()
            if lstat(prefix, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
                throw Refused(message: "'\(excerptText(path))' goes through a symbolic link; a notebook's paths may not")
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }

    func excerptText(_ s: String) -> String { Simulation.excerpt(s) }
}

extension Notebook {
    /// Refuses the notebook, before anything runs, when a block would leave `confinement`: an
    /// inline file outside the folder, or a command outside the allow-list or naming a path
    /// outside the folder.
    public func check(_ confinement: NotebookConfinement) throws(NotebookConfinement.Refused) {
        for block in blocks {
            switch block {
            case .text: continue
            case .file(_, let path, _):
                try confinement.resolve(path)
            case .commands(_, let commands, _):
                for c in commands { try confinement.check(arguments: Self.arguments(c)) }
            }
        }
    }
}
