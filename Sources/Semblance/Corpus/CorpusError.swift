/// Why a corpus could not be read.
///
/// Every case names the file (or the `source` given to ``Corpus/parse(_:format:fields:duplicateIDs:source:)``)
/// and, where it applies, the 1-based line. For JSON arrays and CSV/TSV files the line is the
/// one where the offending record starts. The ``description`` is one sentence for a person.
///
/// ```swift
/// do {
///   let papers = try Corpus.read(contentsOf: url)
/// } catch let error as CorpusError {
///   print("error: \(error)")   // error: Malformed record in 'a.jsonl' at line 3: ...
/// }
/// ```
public enum CorpusError: Error, Sendable, Equatable {
  /// The file cannot be opened or read; `reason` is the system's explanation.
  case unreadable(file: String, reason: String)
  /// The file extension is not one of the known formats and no format was passed.
  case unknownFormat(file: String)
  /// A record is not well formed: bad JSON, a line that is not an object, a wrong number of
  /// CSV fields, an unterminated quote, or a papers-page title without an abstract.
  case malformedRecord(file: String, line: Int, reason: String)
  /// A record has no usable id, title or abstract: the field is absent, `null`, not a string
  /// or number, or (for the id) empty. For a missing CSV/TSV column the line is the header's.
  case missingField(file: String, line: Int, field: String)
  /// The bytes on this line are not valid UTF-8.
  case invalidUTF8(file: String, line: Int)
  /// Two papers share an id, and the policy is ``DuplicateIDPolicy/error``.
  case duplicateID(file: String, line: Int, id: String, firstLine: Int)
  /// The corpus holds no papers at all.
  case empty(file: String)
}
