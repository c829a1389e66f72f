/// A streaming parser for one corpus format.
///
/// The stream calls ``consume(_:isFinal:into:)`` with a window of bytes that begins at the
/// first byte not yet consumed. The parser turns every complete record in the window into a
/// paper and returns how many bytes it consumed; the rest is offered again, with more bytes
/// after it, on the next call. State that spans records (a header, a pending title) lives in
/// the parser.
protocol RecordParser {
  /// The 1-based line number of the first byte not yet consumed.
  var line: Int { get }

  /// Parses the complete records at the start of `bytes`.
  /// - Parameters:
  ///   - bytes: Valid UTF-8, starting at the first unconsumed byte.
  ///   - isFinal: No more bytes follow; everything must be consumed or rejected.
  ///   - papers: Receives each paper with the line where its record starts.
  /// - Returns: The number of bytes consumed.
  mutating func consume(
    _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into papers: inout PaperCollector
  ) throws(CorpusError) -> Int
}
