/// A query could not be answered as asked.
public enum QueryError: Error, CustomStringConvertible, Sendable, Equatable {
  /// No paper has this id, and no title contains it.
  case unknownPaper(String)
  /// The title fragment matches several papers; `candidates` lists (id, title) pairs, the
  /// first 20 when there are more.
  case ambiguousTitle(fragment: String, candidates: [Candidate])
  /// The requested number of results is out of range.
  case invalidCount(Int, papers: Int)

  /// A paper that a title fragment matched.
  public struct Candidate: Sendable, Hashable {
    /// The paper's id.
    public var id: String
    /// The paper's title.
    public var title: String
    /// Creates a candidate.
    public init(id: String, title: String) {
      self.id = id
      self.title = title
    }
  }

  /// At most this many candidates are listed for an ambiguous title fragment.
  static let candidateLimit = 20

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .unknownPaper(let key):
      return "no paper has the id \"\(key)\" and no title contains it"
    case .ambiguousTitle(let fragment, let candidates):
      let list = candidates.map { "  \($0.id)\t\($0.title)" }.joined(separator: "\n")
      // At the limit the list may have been cut short, so its length is only a lower bound.
      let count = candidates.count
      let matches = count < Self.candidateLimit ? "\(count) titles" : "\(count) or more titles"
      return "\"\(fragment)\" matches \(matches); use one of these ids:\n\(list)"
    case .invalidCount(let count, let papers):
      return "count \(count) is out of range: it must be between 1 and \(papers)"
    }
  }
}
