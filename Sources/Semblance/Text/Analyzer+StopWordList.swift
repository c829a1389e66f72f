import Foundation

extension Analyzer {
  /// Reads a stop-word list: one word per line, `#` starting a comment that runs to the end
  /// of the line, blank lines ignored, surrounding whitespace trimmed, words lowercased.
  ///
  /// ```swift
  /// var configuration = IndexConfiguration.default
  /// configuration.stopWords = try Analyzer.stopWords(contentsOf: URL(fileURLWithPath: "stop.txt"))
  /// ```
  ///
  /// The list replaces the default English one; add ``englishStopWords`` to extend it instead.
  ///
  /// - Throws: ``StopWordListError/unreadable(file:reason:)`` when the file cannot be read or
  ///   is not UTF-8, ``StopWordListError/invalidEntry(file:line:entry:)`` naming the first line
  ///   that holds more than one word.
  public static func stopWords(contentsOf url: URL) throws -> Set<String> {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw StopWordListError.unreadable(
        file: url.path, reason: (error as NSError).localizedFailureReason ?? "\(error)")
    }
    guard let text = String(validatingUTF8: data) else {
      throw StopWordListError.unreadable(file: url.path, reason: "it is not valid UTF-8 text")
    }
    return try stopWords(parsing: text, source: url.path)
  }

  /// Parses the text of a stop-word list (see ``stopWords(contentsOf:)``).
  ///
  /// - Parameters:
  ///   - text: the list: one word per line; `#` starts a comment; blank lines are skipped.
  ///   - source: the name used in errors (a path, or `"<text>"`).
  /// - Throws: ``StopWordListError/invalidEntry(file:line:entry:)``.
  public static func stopWords(parsing text: String, source: String = "<text>") throws
    -> Set<String>
  {
    var words: Set<String> = []
    var lineNumber = 0
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      lineNumber += 1
      let content = line.prefix { $0 != "#" }
      let entry = content.trimmingCharacters(in: .whitespacesAndNewlines)
      if entry.isEmpty { continue }
      guard !entry.contains(where: \.isWhitespace) else {
        throw StopWordListError.invalidEntry(file: source, line: lineNumber, entry: entry)
      }
      words.insert(entry.lowercased())
    }
    return words
  }
}

extension String {
  /// The string decoded from `data` when it is valid UTF-8 (a byte-order mark is skipped).
  fileprivate init?(validatingUTF8 data: Data) {
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    self = text
  }
}
