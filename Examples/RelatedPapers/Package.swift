// swift-tools-version:6.0
import PackageDescription

// A small program that uses Semblance as a library, the way an app would. It depends on the
// checkout two directories up; an app would use
// .package(url: "https://github.com/<owner>/semblance", from: "0.1.0") instead.
let package = Package(
  name: "RelatedPapers",
  dependencies: [
    .package(name: "Semblance", path: "../.."),
  ],
  targets: [
    .executableTarget(
      name: "RelatedPapers",
      dependencies: [.product(name: "Semblance", package: "Semblance")]
    ),
  ]
)
