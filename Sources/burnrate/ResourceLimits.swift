import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds a notebook's commands put on themselves. `Process` cannot run code in the child
/// between fork and exec, so the parent passes the bounds in the environment and the child (this
/// same executable) applies them with setrlimit first thing in `main`, before it reads a file.
enum ResourceLimits {
    /// Address space, in MiB (RLIMIT_AS): an allocation beyond it fails instead of swapping the runner.
    static let memoryVariable = "BURNRATE_LIMIT_MEMORY_MIB"
    /// CPU seconds (RLIMIT_CPU): the kernel stops the process, whatever its threads do.
    static let cpuVariable = "BURNRATE_LIMIT_CPU_SECONDS"
    /// Scenario files (traces, price tables) must lie in the scenario's folder tree.
    static let confineVariable = "BURNRATE_CONFINE_READS"

    static func applyFromEnvironment() {
        let env = ProcessInfo.processInfo.environment
        if let mib = env[memoryVariable].flatMap(Int.init), mib > 0 {
            set(RLIMIT_AS, rlim_t(mib) << 20)
        }
        if let seconds = env[cpuVariable].flatMap(Int.init), seconds > 0 {
            set(RLIMIT_CPU, rlim_t(seconds))
        }
    }

    /// Whether this process was told to keep scenario reads inside the scenario's folder tree.
    static var confinedReads: Bool { ProcessInfo.processInfo.environment[confineVariable] == "1" }

    #if canImport(Glibc)
    private static func set(_ resource: __rlimit_resource, _ value: rlim_t) {
        var limit = rlimit(rlim_cur: value, rlim_max: value)
        _ = setrlimit(__rlimit_resource_t(resource.rawValue), &limit)
    }
    #else
    private static func set(_ resource: Int32, _ value: rlim_t) {
        var limit = rlimit(rlim_cur: value, rlim_max: value)
        _ = setrlimit(resource, &limit)
    }
    #endif
}
