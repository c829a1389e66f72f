/// The names of the fields (JSON keys or CSV/TSV header columns) that hold each paper's
/// id, title and abstract.
///
/// The defaults are the names used by the arXiv metadata snapshot. Every other field of a
/// record is kept in ``Paper/metadata``.
///
/// ```swift
/// let fields = CorpusFields(id: "paper_id", abstract: "summary")
/// let papers = try Corpus.read(contentsOf: url, fields: fields)
/// ```
public struct CorpusFields: Sendable, Hashable {
  /// The field that holds the paper's unique identifier. A JSON number is accepted as its literal text.
  public var id: String
  /// The field that holds the title.
  public var title: String
  /// The field that holds the abstract.
  public var abstract: String

  /// Creates a set of field names.
  /// - Parameters:
  ///   - id: The identifier field, `"id"` by default.
  ///   - title: The title field, `"title"` by default.
  ///   - abstract: The abstract field, `"abstract"` by default.
  public init(id: String = "id", title: String = "title", abstract: String = "abstract") {
    self.id = id
    self.title = title
    self.abstract = abstract
  }

  /// The arXiv metadata snapshot's names: `id`, `title` and `abstract`.
  public static let `default` = CorpusFields()
}
