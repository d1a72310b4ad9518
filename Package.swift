// swift-tools-version: 6.1
// Burnrate: a toolkit for prepaid AI credits. Module layout and the direction of the arrows
// (bottom to top) are fixed by DESIGN.md: CGSL → Stochastic → … → burnrate.
import PackageDescription

let package = Package(
    name: "Burnrate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "burnrate", targets: ["burnrate"]),
        .library(name: "Stochastic", targets: ["Stochastic"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Simulation", targets: ["Simulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // The GNU Scientific Library, found through pkg-config; `make` installs libgsl-dev.
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        .target(
            name: "Stochastic",
            dependencies: ["CGSL"]
        ),
        // The credit ledger: a pure state machine. It imports no module of this project.
        .target(
            name: "Ledger",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LedgerStore",
            dependencies: ["Ledger", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Simulation",
            dependencies: ["Ledger", "Stochastic"]
        ),
        .target(
            name: "Scenario",
            dependencies: ["Ledger", "Stochastic", "Simulation", .product(name: "Yams", package: "Yams")]
        ),
        // Governance rules over a ledger's configuration; findings with locations, SARIF.
        .target(
            name: "Audit",
            dependencies: ["Ledger", "LedgerStore", "Simulation", "Scenario"]
        ),
        .target(
            name: "Reports",
            dependencies: ["Ledger", "Simulation", "Scenario", "Stochastic"]
        ),
        .target(
            name: "Benchmarks",
            dependencies: ["Ledger", "LedgerStore", "Simulation", "Stochastic"]
        ),
        .executableTarget(
            name: "burnrate",
            dependencies: [
                "Benchmarks",
                "Stochastic",
                "Ledger",
                "Simulation",
                "Scenario",
                "Reports",
                "LedgerStore",
                "Audit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StochasticTests",
            dependencies: ["Stochastic"]
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "Ledger", "Stochastic"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ReportTests",
            dependencies: ["Reports", "Scenario", "Simulation", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LedgerStoreTests",
            dependencies: ["LedgerStore", "Ledger", "Simulation", "Stochastic", .product(name: "GRDB", package: "GRDB.swift")],
            // Read by path (a ledger written by an older build, see its README).
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit", "Scenario", "Ledger", "LedgerStore", "Simulation"],
            // Read by path (the SARIF schema excerpt, see its README).
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "Ledger",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
