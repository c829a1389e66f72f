import Foundation
import Testing

@testable import Semblance

/// The `semblance` executable built next to the test bundle, if there is one.
enum ClusterCommandBinary {
  static let url: URL? = {
    var directory = Bundle.main.executableURL?.deletingLastPathComponent()
    for _ in 0..<3 {
      guard let current = directory else { break }
      let candidate = current.appendingPathComponent("semblance")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory = current.deletingLastPathComponent()
    }
    return nil
  }()
}

/// `semblance cluster` end to end: the built binary, its JSON shape and its usage errors.
@Suite("Clustering: the cluster command", .enabled(if: ClusterCommandBinary.url != nil))
struct ClusterCommandTests {
  /// The seed corpus index, written once for the suite.
  static let indexFile: URL = {
    let url = try! TestSupport.temporaryDirectory().appendingPathComponent("seed.idx")
    try! PaperIndexTests.index.write(to: url)
    return url
  }()

  static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = ClusterCommandBinary.url  // the suite runs only when it exists
    process.arguments = arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
      process.terminationStatus, String(decoding: stdout, as: UTF8.self),
      String(decoding: stderr, as: UTF8.self)
    )
  }

  @Test func jsonHasTheContractShape() throws {
    let result = try Self.run(["cluster", Self.indexFile.path, "-k", "8", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["k", "silhouette", "clusters"])
    #expect(object["k"] as? Int == 8)
    #expect(object["silhouette"] is Double)
    let clusters = try #require(object["clusters"] as? [[String: Any]])
    #expect(clusters.count == 8)
    var members: [String] = []
    for (number, cluster) in clusters.enumerated() {
      #expect(Set(cluster.keys) == ["id", "size", "label", "members"])
      #expect(cluster["id"] as? Int == number)
      let ids = try #require(cluster["members"] as? [String])
      #expect(cluster["size"] as? Int == ids.count)
      #expect((cluster["label"] as? [String])?.isEmpty == false)
      members += ids
    }
    #expect(members.count == 81 && Set(members).count == 81)
    let library = try PaperIndexTests.index.clusters(.count(8))
    #expect(clusters.map { $0["members"] as! [String] } == library.clusters.map(\.members))
  }

  @Test func humanOutputListsLabelsAndTitles() throws {
    let result = try Self.run(["cluster", Self.indexFile.path, "-k", "8"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("8 clusters, silhouette "))
    #expect(result.stdout.contains("time series"))
    #expect(result.stdout.contains("TEMPO: Prompt-based Generative Pre-trained Transformer"))
    let auto = try Self.run(["cluster", Self.indexFile.path, "--auto", "--range", "2...5", "--json"])
    #expect(auto.status == 0, "\(auto.stderr)")
    let hierarchical = try Self.run(["cluster", Self.indexFile.path, "-k", "4", "--hierarchical"])
    #expect(hierarchical.status == 0 && hierarchical.stdout.hasPrefix("4 clusters"))
  }

  @Test(
    "usage errors exit with 64",
    arguments: [
      [], ["-k", "8", "--auto"], ["-k", "0"], ["--auto", "--range", "1...4"],
      ["--auto", "--range", "nonsense"], ["-k", "3", "--restarts", "0"],
    ])
  func usageErrors(arguments: [String]) throws {
    let result = try Self.run(["cluster", Self.indexFile.path] + arguments)
    #expect(result.status == 64, "\(arguments): \(result.stderr)")
    #expect(result.stdout.isEmpty)
  }

  @Test func tooManyClustersIsAnError() throws {
    let result = try Self.run(["cluster", Self.indexFile.path, "-k", "500"])
    #expect(result.status == 1)
    #expect(result.stderr == "error: cannot make 500 clusters of 81 points: k must be between 1 and 81\n")
  }
}
