/// An option was out of range, or the corpus cannot support the requested model.
public enum ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
  /// An option has a value outside its range.
  case invalidValue(option: String, value: String, expected: String)
  /// No paper has a single term to index: every text is empty, or holds only stop words and
  /// one-character words. (Nothing was pruned; there was nothing to prune.)
  case noTerms(papers: Int)
  /// Pruning by document frequency left no terms at all.
  case noTermsLeft(papers: Int, minDocumentFrequency: Int, maxDocumentFrequency: Double)
  /// The corpus has no papers.
  case emptyCorpus

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .invalidValue(let option, let value, let expected):
      "invalid value \(value) for \(option): expected \(expected)"
    case .noTerms(let papers):
      "none of the \(papers) paper(s) has a word to index: every title and abstract is empty or "
        + "holds only stop words and one-character words"
    case .noTermsLeft(let papers, let minimum, let maximum):
      "no terms are left after pruning \(papers) paper(s) with a minimum document frequency of "
        + "\(minimum) and a maximum of \(maximum); lower --min-df or raise --max-df"
    case .emptyCorpus:
      "the corpus has no papers"
    }
  }
}
