#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be created, written or replaced.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file's path.
  public var path: String
  /// What was being done ("create", "write", "sync", "replace", …).
  public var operation: String
  /// The system's explanation.
  public var reason: String

  /// Creates an error for the file at `path`.
  public init(path: String, operation: String, reason: String) {
    self.path = path
    self.operation = operation
    self.reason = reason
  }

  /// An error from the current `errno`.
  static func system(path: String, operation: String) -> FileError {
    FileError(path: path, operation: operation, reason: String(cString: strerror(errno)))
  }

  /// The message for a person: "cannot <operation> <path>: <reason>".
  public var description: String { "cannot \(operation) \(path): \(reason)" }
}
