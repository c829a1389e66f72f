// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Semblance",
  products: [
    .library(name: "Semblance", targets: ["Semblance"]),
    .executable(name: "semblance", targets: ["semblance"]),
    .executable(name: "semblance-bench", targets: ["semblance-bench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS",
      path: "Sources/COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
    ),
    .target(
      name: "CSemblanceKernels",
      path: "Sources/CSemblanceKernels"
    ),
    .target(
      name: "Semblance",
      dependencies: ["COpenBLAS", "CSemblanceKernels"],
      path: "Sources/Semblance",
      exclude: ["Semblance.docc"]
    ),
    .executableTarget(
      name: "semblance",
      dependencies: [
        "Semblance",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/semblance",
      resources: [.copy("Resources/hf-daily-papers.txt")]
    ),
    .executableTarget(
      name: "semblance-bench",
      dependencies: [
        "Semblance",
        "COpenBLAS",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Benchmarks/semblance-bench"
    ),
    .testTarget(
      name: "SemblanceTests",
      dependencies: ["Semblance", "semblance", "semblance-bench"],
      path: "Tests/SemblanceTests"
    ),
  ]
)
