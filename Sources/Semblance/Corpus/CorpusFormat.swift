/// The file formats that ``Corpus`` reads.
///
/// The raw value is the usual file extension. ``init(fileExtension:)`` also accepts
/// `ndjson` for JSON Lines and ignores case.
///
/// ```swift
/// CorpusFormat(fileExtension: "NDJSON")   // .jsonLines
/// CorpusFormat(fileExtension: "pdf")      // nil
/// ```
public enum CorpusFormat: String, Sendable, CaseIterable, Hashable {
  /// A papers page: a one-line title paragraph followed by an abstract paragraph, repeated,
  /// with blank lines between paragraphs. Papers get the ids "1", "2", … in order.
  case text = "txt"
  /// JSON Lines (`.jsonl` or `.ndjson`): one JSON object per line, as in the arXiv metadata snapshot.
  case jsonLines = "jsonl"
  /// A JSON array of objects, each with the same fields as a JSON Lines record.
  case json = "json"
  /// Comma-separated values with a header row and RFC 4180 quoting.
  case csv = "csv"
  /// Tab-separated values with a header row and the same quoting rules as CSV.
  case tsv = "tsv"

  /// The format that a file extension names, ignoring case and a leading dot.
  ///
  /// ```swift
  /// let format = CorpusFormat(fileExtension: url.pathExtension) ?? .jsonLines
  /// ```
  /// - Parameter fileExtension: An extension such as `"jsonl"`, `"ndjson"` or `"CSV"`.
  /// - Returns: The format, or `nil` when the extension is not one that Semblance reads.
  public init?(fileExtension: String) {
    var name = fileExtension.lowercased()
    if name.hasPrefix(".") { name.removeFirst() }
    if name == "ndjson" {
      self = .jsonLines
    } else {
      self.init(rawValue: name)
    }
  }
}
