/// A stop-word list could not be read.
///
/// ```swift
/// do {
///   configuration.stopWords = try Analyzer.stopWords(contentsOf: url)
/// } catch let error as StopWordListError {
///   print("error: \(error)")   // error: stop-word list 'words.txt', line 3: ...
/// }
/// ```
public enum StopWordListError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file cannot be read, or is not UTF-8 text; `reason` says which.
  case unreadable(file: String, reason: String)
  /// A line holds more than one word.
  case invalidEntry(file: String, line: Int, entry: String)

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .unreadable(let file, let reason):
      "cannot read stop-word list '\(file)': \(reason)"
    case .invalidEntry(let file, let line, let entry):
      "stop-word list '\(file)', line \(line): \"\(entry)\" is not a single word "
        + "(write one word per line; # starts a comment)"
    }
  }
}
