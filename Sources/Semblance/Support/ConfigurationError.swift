/// An option was out of range, or the corpus cannot support the requested model.
public enum ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
  /// An option has a value outside its range.
  case invalidValue(option: String, value: String, expected: String)
  /// Pruning by document frequency left no terms at all.
  case noTermsLeft(papers: Int, minDocumentFrequency: Int, maxDocumentFrequency: Double)
  /// The corpus has no papers.
  case emptyCorpus

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .invalidValue(let option, let value, let expected):
      "invalid value \(value) for \(option): expected \(expected)"
    case .noTermsLeft(let papers, let minimum, let maximum):
      "no terms are left after pruning \(papers) paper(s) with a minimum document frequency of "
        + "\(minimum) and a maximum of \(maximum); lower --min-df or raise --max-df"
    case .emptyCorpus:
      "the corpus has no papers"
    }
  }
}
