import Foundation
import Testing

@testable import Semblance

/// Helpers shared by the corpus suites.
enum CorpusTestSupport {
  /// The package root, found from this file's path.
  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent()  // SemblanceTests
      .deletingLastPathComponent()  // Tests
      .deletingLastPathComponent()
  }

  /// The bundled papers-page corpus.
  static var bundledCorpus: URL {
    packageRoot.appendingPathComponent("Sources/semblance/Resources/hf-daily-papers.txt")
  }

  /// Writes `bytes` to a uniquely named temporary file, runs `body` with its URL, and removes it.
  static func withTemporaryFile<Result>(
    _ bytes: [UInt8], extension fileExtension: String, _ body: (URL) throws -> Result
  ) throws -> Result {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("semblance-corpus-\(UUID().uuidString)")
      .appendingPathExtension(fileExtension)
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
  }

  static func withTemporaryFile<Result>(
    _ text: String, extension fileExtension: String, _ body: (URL) throws -> Result
  ) throws -> Result {
    try withTemporaryFile(Array(text.utf8), extension: fileExtension, body)
  }

  /// A short, comparable summary of a corpus error: its kind, line and details.
  static func signature(_ error: any Error) -> String {
    guard let error = error as? CorpusError else { return "not a CorpusError: \(error)" }
    switch error {
    case .unreadable: return "unreadable"
    case .unknownFormat: return "unknownFormat"
    case .malformedRecord(_, let line, _): return "malformed@\(line)"
    case .missingField(_, let line, let field): return "missing:\(field)@\(line)"
    case .invalidUTF8(_, let line): return "invalidUTF8@\(line)"
    case .duplicateID(_, let line, let id, let firstLine): return "duplicate:\(id)@\(line)/\(firstLine)"
    case .empty: return "empty"
    }
  }

  /// The signature of the error that parsing `text` throws, or "no error".
  static func parseError(
    _ text: String, format: CorpusFormat, fields: CorpusFields = .default, chunkSize: Int? = nil
  ) -> String {
    do {
      if let chunkSize {
        _ = try Corpus.parse(text, format: format, fields: fields, chunkSize: chunkSize)
      } else {
        _ = try Corpus.parse(text, format: format, fields: fields)
      }
      return "no error"
    } catch {
      return signature(error)
    }
  }

  /// The signature of the error that reading `bytes` from a temporary file throws.
  static func readError(_ bytes: [UInt8], format: CorpusFormat) throws -> String {
    try withTemporaryFile(bytes, extension: format.rawValue) { url in
      do {
        _ = try Corpus.read(contentsOf: url)
        return "no error"
      } catch {
        return signature(error)
      }
    }
  }
}
