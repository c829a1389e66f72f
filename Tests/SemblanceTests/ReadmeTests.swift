import Foundation
import Testing

/// The README's Swift example is compiled as part of Examples/RelatedPapers (which CI builds
/// and runs); this keeps the two copies identical.
@Suite("README")
struct ReadmeTests {
  @Test("the Swift example in README.md is the one Examples/RelatedPapers compiles")
  func swiftExampleIsCompiled() throws {
    let root = TestSupport.packageRoot
    let readme = try String(
      contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let compiled = try String(
      contentsOf: root.appendingPathComponent(
        "Examples/RelatedPapers/Sources/RelatedPapers/ReadmeExample.swift"),
      encoding: .utf8)

    let lines = readme.components(separatedBy: "\n")
    let start = try #require(lines.firstIndex(of: "```swift"), "README.md has no Swift example")
    let end = try #require(lines[(start + 1)...].firstIndex(of: "```"))
    let example = lines[(start + 1)..<end].map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    #expect(example.count >= 5)

    // Every line of the README example appears in the compiled file, in the same order.
    let source = compiled.components(separatedBy: "\n")
      .map { $0.trimmingCharacters(in: .whitespaces) }
    var next = source.startIndex
    for line in example {
      let found = source[next...].firstIndex(of: line)
      #expect(found != nil, "not in ReadmeExample.swift (or out of order): \(line)")
      if let found { next = found + 1 }
    }
  }
}
