/// What ``Corpus`` does when two papers of one corpus have the same id.
///
/// ```swift
/// let papers = try Corpus.read(contentsOf: url, duplicateIDs: .keepFirst)
/// ```
public enum DuplicateIDPolicy: Sendable, Hashable {
  /// Throw ``CorpusError/duplicateID(file:line:id:firstLine:)``, naming both lines.
  case error
  /// Keep the first paper with an id and skip every later one with the same id.
  case keepFirst
}
