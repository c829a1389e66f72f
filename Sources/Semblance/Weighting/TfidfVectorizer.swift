import Foundation

/// Learns a vocabulary and inverse document frequencies from papers, and turns papers or
/// free text into l2-normalised TF-IDF rows.
///
/// ```swift
/// let (vectorizer, matrix) = try TfidfVectorizer.fit(papers)
/// matrix.rows == papers.count          // one row per paper
/// vectorizer.terms.prefix(3)           // vocabulary, sorted in byte order
/// let query = vectorizer.vector(forText: "diffusion models")
/// ```
///
/// The weighting follows scikit-learn's `TfidfVectorizer` with `smooth_idf=True`:
/// `idf(t) = ln((1 + n) / (1 + df(t))) + 1`, term frequency raw or `1 + ln(tf)`, and every
/// row scaled to unit Euclidean length (an empty row stays all zero).
public struct TfidfVectorizer: Sendable {
  /// Options for fitting.
  public struct Configuration: Sendable, Hashable, Codable {
    /// How text becomes terms.
    public var analyzer: Analyzer.Configuration
    /// Terms in fewer papers than this are dropped. `nil` means 2, or 1 when the corpus has
    /// fewer than 1,000 papers.
    public var minDocumentFrequency: Int?
    /// Terms in more than this fraction of papers are dropped (default 0.5).
    public var maxDocumentFrequency: Double
    /// Keep at most this many terms, those with the highest corpus frequency.
    public var maxTerms: Int?
    /// Use `1 + ln(tf)` instead of the raw count (default true).
    public var sublinearTF: Bool

    /// Creates a configuration; every parameter has the default used for paper abstracts.
    public init(
      analyzer: Analyzer.Configuration = .init(),
      minDocumentFrequency: Int? = nil,
      maxDocumentFrequency: Double = 0.5,
      maxTerms: Int? = nil,
      sublinearTF: Bool = true
    ) {
      self.analyzer = analyzer
      self.minDocumentFrequency = minDocumentFrequency
      self.maxDocumentFrequency = maxDocumentFrequency
      self.maxTerms = maxTerms
      self.sublinearTF = sublinearTF
    }

    /// The minimum document frequency applied to a corpus of `papers` papers.
    public func effectiveMinDocumentFrequency(papers: Int) -> Int {
      minDocumentFrequency ?? (papers < 1_000 ? 1 : 2)
    }

    /// Checks the values, naming the first one that is out of range.
    public func validate() throws {
      try analyzer.validate()
      if let minimum = minDocumentFrequency, minimum < 1 {
        throw ConfigurationError.invalidValue(
          option: "minDocumentFrequency", value: "\(minimum)", expected: "an integer of at least 1")
      }
      guard maxDocumentFrequency > 0, maxDocumentFrequency <= 1 else {
        throw ConfigurationError.invalidValue(
          option: "maxDocumentFrequency", value: "\(maxDocumentFrequency)",
          expected: "a fraction greater than 0 and at most 1")
      }
      if let maxTerms, maxTerms < 1 {
        throw ConfigurationError.invalidValue(
          option: "maxTerms", value: "\(maxTerms)", expected: "an integer of at least 1")
      }
    }
  }

  /// The configuration it was fitted with.
  public let configuration: Configuration
  /// The analyzer that turns text into terms.
  public let analyzer: Analyzer
  let vocabulary: Vocabulary
  let idfStorage: Storage<Float>

  init(configuration: Configuration, analyzer: Analyzer, vocabulary: Vocabulary, idf: Storage<Float>) {
    self.configuration = configuration
    self.analyzer = analyzer
    self.vocabulary = vocabulary
    self.idfStorage = idf
  }

  /// The number of terms (matrix columns).
  public var termCount: Int { vocabulary.count }
  /// The term of one column.
  public func term(at column: Int) -> String { vocabulary[column] }
  /// All terms, in column order (sorted by UTF-8 bytes).
  public var terms: [String] { vocabulary.terms.strings }
  /// The inverse document frequency of each column.
  public var idf: [Float] { idfStorage.array }
  /// The column of `term`, if it is in the vocabulary.
  public func column(of term: String) -> Int? {
    let column = Array(term.utf8).withUnsafeBufferPointer {
      vocabulary.lookup(forPapers: 1).find($0)
    }
    return column >= 0 ? Int(column) : nil
  }
}
