import Foundation
import Testing

/// Indexes of the bundled corpus, built by the CLI itself once per test process and shared
/// (read-only) by every CLI test. Tests that damage an index copy it first.
struct CLISharedIndexes: Sendable {
  /// `index <bundled> -o sklearn.idx --sklearn-compatible --dimensions 20`
  var sklearnCompatible: URL
  /// `index <bundled> -o default.idx` with default settings.
  var standard: URL

  /// The shared indexes, building them on first use.
  static func get() throws -> CLISharedIndexes { try built.get() }

  private static let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("semblance-cli-tests-\(UUID().uuidString)")

  private static let built: Result<CLISharedIndexes, SetupFailure> = {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      atexit { try? FileManager.default.removeItem(at: CLISharedIndexes.directory) }
      let corpus = TestSupport.bundledCorpus.path
      let indexes = CLISharedIndexes(
        sklearnCompatible: directory.appendingPathComponent("sklearn.idx"),
        standard: directory.appendingPathComponent("default.idx"))
      let runs = [
        [
          "index", corpus, "-o", indexes.sklearnCompatible.path, "--sklearn-compatible",
          "--dimensions", "20",
        ],
        ["index", corpus, "-o", indexes.standard.path],
      ]
      for arguments in runs {
        let result = try CLI.run(arguments, in: directory)
        guard !result.signalled, result.status == 0 else {
          return .failure(SetupFailure(message: "building a shared index failed: \(result)"))
        }
      }
      return .success(indexes)
    } catch {
      return .failure(SetupFailure(message: "building the shared indexes failed: \(error)"))
    }
  }()

  struct SetupFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }
}
