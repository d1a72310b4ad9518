import ArgumentParser
import Reports

/// Refuses, with exit status 2, an output folder Burnrate may not replace (a file, a link, a
/// folder it did not write): checked before any work, and again when writing.
func refuseForeignOutput(_ path: String) throws {
    do { try ReportWriter.checkOutput(path) } catch {
        writeStandardError("error: \(error)\n")
        throw ExitCode(2)
    }
}

/// Runs a report write; a refused output is exit status 2, not a crash report.
func writingReport(_ write: () throws -> Void) throws {
    do { try write() } catch let error as ReportWriter.OutputRefused {
        writeStandardError("error: \(error)\n")
        throw ExitCode(2)
    }
}
