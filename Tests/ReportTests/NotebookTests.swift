import Testing
@testable import Reports

@Suite("burnrate notebook")
struct NotebookTests {
    let source = """
        # A notebook

        ```burnrate file=s.yaml
        name: s
        ```

        Text between.

        ```burnrate
        # a comment
        burnrate size s.yaml --target 'continuity >= 0.99' --pool eng
        ```

        The end.
        """

    func run(_ nb: Notebook, answer: String) throws -> (Notebook, [Int], [[String]], [String: String]) {
        var calls: [[String]] = []
        var written: [String: String] = [:]
        let (out, stale) = try nb.executed(write: { written[$0] = $1 },
                                           run: { calls.append($0); return Notebook.CommandOutput(status: 0, stdout: answer) },
                                           charts: { $0 == "out/x" ? ["charts/a.svg"] : [] })
        return (out, stale, calls, written)
    }

    @Test func executesCommandsAndRewritesOutputsInPlace() throws {
        let nb = try Notebook(text: source)
        let (first, stale, calls, written) = try run(nb, answer: "| a |\nwrote out/x/report.md (size.json)\n")
        #expect(calls == [["size", "s.yaml", "--target", "continuity >= 0.99", "--pool", "eng"]])
        #expect(written == ["s.yaml": "name: s\n"])
        #expect(stale == [3])
        let text = first.text
        #expect(text.contains("\(Notebook.outputStart)\n\n| a |\nwrote out/x/report.md (size.json)\n\n![charts/a.svg](out/x/charts/a.svg)\n\n\(Notebook.outputEnd)"))
        #expect(text.hasSuffix("The end.\n") && text.contains("Text between."))
        // Re-reading and re-running with the same output: nothing is stale, the text is a fixed point.
        let again = try Notebook(text: text)
        let (second, stale2, _, _) = try run(again, answer: "| a |\nwrote out/x/report.md (size.json)\n")
        #expect(stale2.isEmpty && second.text == text)
        // A changed result is stale.
        let (_, stale3, _, _) = try run(again, answer: "| b |\n")
        #expect(stale3 == [3])
    }

    @Test func malformedNotebooksNameTheLine() {
        #expect(throws: Notebook.ParseError.self) { try Notebook(text: "x\n```burnrate\nburnrate run a.yaml\n") }
        do {
            _ = try Notebook(text: "x\n\n```burnrate\nrm -rf /\n```\n")
            Issue.record("a non-burnrate command was accepted")
        } catch {
            #expect(error.line == 4 && error.message.contains("rm -rf /"))
        }
        #expect(throws: Notebook.ParseError.self) { try Notebook(text: "```burnrate file=../x.yaml\na: 1\n```\n") }
    }
}
