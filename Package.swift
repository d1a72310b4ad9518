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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The GNU Scientific Library, found through pkg-config; `make` installs libgsl-dev.
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        // The system's OpenSSL libcrypto, for SHA-256 and a constant-time compare of API key
        // digests (swift-crypto would compile its own BoringSSL on every clean build).
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
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
            dependencies: [
                "Ledger",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The PostgreSQL backend (DESIGN.md, "Several instances (PostgreSQL)").
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
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
            dependencies: ["Ledger", "LedgerStore", "Simulation", "Scenario", "Stochastic"]
        ),
        // The ledger as an HTTP service (DESIGN.md, "The ledger service"): routes, API keys,
        // idempotency and problem+json errors over the store. `burnrate serve` is a thin command over it.
        .target(
            name: "Service",
            dependencies: [
                "Ledger",
                "LedgerStore",
                "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
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
                "Service",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The private PostgreSQL server of the tests (scripts/with-postgres.sh), for the test
        // targets of the store and of the service.
        .target(
            name: "PostgresTestSupport",
            dependencies: [.product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/PostgresTestSupport"
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
            dependencies: ["Reports", "Scenario", "Simulation", "LedgerStore", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LedgerStoreTests",
            dependencies: ["LedgerStore", "Ledger", "Simulation", "Stochastic", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                           "PostgresTestSupport"],
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
            name: "ServiceTests",
            dependencies: [
                "Service",
                "Ledger",
                "LedgerStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // A small HTTP/1.1 client of the tests' own over NIO (HummingbirdTesting would
                // bring AsyncHTTPClient, and with it NIOSSL's BoringSSL), and the service group
                // that runs a server for a test.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                // The tests of several instances on one PostgreSQL ledger act as another party on it.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "PostgresTestSupport",
            ]
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
