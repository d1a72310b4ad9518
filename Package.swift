// swift-tools-version: 6.1
// Burnrate: a toolkit for prepaid AI credits. Module layout and the direction of the arrows
// (bottom to top) are fixed by DESIGN.md: CGSL → Stochastic → … → burnrate.
import PackageDescription

let package = Package(
    name: "Burnrate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "burnrate", targets: ["burnrate"]),
        .library(name: "Stochastic", targets: ["Stochastic"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "burnrate",
            dependencies: [
                "Stochastic",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StochasticTests",
            dependencies: ["Stochastic"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
