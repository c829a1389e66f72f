#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with an index file: it is not an index, it comes from a newer Semblance,
/// it is damaged, or the operating system refused to read or write it.
///
/// Every case names the file, and ``description`` is a sentence written for a person:
///
/// ```swift
/// do {
///   let index = try PaperIndex(contentsOf: url)
/// } catch let error as IndexFileError {
///   print(error)  // '/data/arxiv.idx' is truncated: expected 1048640 bytes, found 524288. …
/// }
/// ```
public enum IndexFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file does not start with the Semblance index signature.
  case notAnIndex(file: String)
  /// The file was written in a format version that this Semblance cannot read.
  case unsupportedVersion(file: String, found: UInt32, supported: ClosedRange<UInt32>)
  /// The file is shorter than its header says it should be.
  case truncated(file: String, expectedBytes: Int, actualBytes: Int)
  /// The bytes of a section (or of the padding after it) do not match their checksum.
  case checksumMismatch(file: String, section: String)
  /// The header or the section table is damaged or inconsistent.
  case corrupt(file: String, reason: String)
  /// The file is a valid index but lacks a section that the reader needs.
  case missingSection(file: String, section: String)
  /// An operating-system call failed; `reason` is the system's error text.
  case io(file: String, operation: String, reason: String)

  /// The file the error is about.
  public var file: String {
    switch self {
    case .notAnIndex(let file),
      .unsupportedVersion(let file, _, _),
      .truncated(let file, _, _),
      .checksumMismatch(let file, _),
      .corrupt(let file, _),
      .missingSection(let file, _),
      .io(let file, _, _):
      return file
    }
  }

  /// A sentence that says which file is affected, what is wrong, and where it helps, what to do.
  public var description: String {
    switch self {
    case .notAnIndex(let file):
      return "'\(file)' is not a Semblance index file (it does not start with the SEMBLIDX signature)."
    case .unsupportedVersion(let file, let found, let supported):
      let readable =
        supported.lowerBound == supported.upperBound
        ? "format version \(supported.lowerBound)"
        : "format versions \(supported.lowerBound) to \(supported.upperBound)"
      return "'\(file)' was written by a newer Semblance (index format version \(found)); "
        + "this version of Semblance reads \(readable). Upgrade Semblance or rebuild the index."
    case .truncated(let file, let expectedBytes, let actualBytes):
      return "'\(file)' is truncated: expected \(expectedBytes) bytes, found \(actualBytes). "
        + "It was probably cut short while being written or copied; rebuild or copy it again."
    case .checksumMismatch(let file, let section):
      return "'\(file)' is damaged: the checksum of section '\(section)' does not match its bytes. "
        + "Rebuild the index or restore it from a good copy."
    case .corrupt(let file, let reason):
      return "'\(file)' is corrupt: \(reason). Rebuild the index or restore it from a good copy."
    case .missingSection(let file, let section):
      return "'\(file)' has no '\(section)' section; it was not written by a compatible Semblance."
    case .io(let file, let operation, let reason):
      return "Cannot \(operation) '\(file)': \(reason)."
    }
  }
}

extension IndexFileError {
  /// An ``io(file:operation:reason:)`` error whose reason is the text of `code`
  /// (by default the current `errno`), such as "No such file or directory".
  static func system(file: String, operation: String, code: Int32 = errno) -> IndexFileError {
    .io(file: file, operation: operation, reason: String(cString: strerror(code)))
  }
}
