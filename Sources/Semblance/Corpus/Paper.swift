/// One paper of a corpus: an identifier, a title and an abstract.
///
/// ```swift
/// let paper = Paper(id: "2401.01234", title: "Diffusion for time series",
///                   abstract: "We forecast ...", metadata: ["categories": "cs.LG"])
/// ```
public struct Paper: Sendable, Hashable, Codable {
  /// A unique identifier, such as an arXiv id, or "1", "2", … for papers-page text files.
  public var id: String
  /// The title, with whitespace collapsed.
  public var title: String
  /// The abstract, with whitespace collapsed.
  public var abstract: String
  /// Every other field of the record (for example `categories` or `label`), as text.
  public var metadata: [String: String]

  /// Creates a paper.
  public init(id: String, title: String, abstract: String, metadata: [String: String] = [:]) {
    self.id = id
    self.title = title
    self.abstract = abstract
    self.metadata = metadata
  }
}
