import Foundation

/// A searchable index of papers: TF-IDF vectors, LSA embeddings and the model that made them.
///
/// ```swift
/// let papers = try Corpus.read(contentsOf: url)
/// let index = try PaperIndex(papers)
/// let related = try index.related(to: "2401.01234", count: 10)
/// let hits = try index.search("diffusion models for time series forecasting", count: 10)
/// try index.write(to: indexURL)
/// ```
///
/// A `PaperIndex` is an immutable value. Queries may run concurrently from many tasks and
/// give the same answers as when run one after another.
public struct PaperIndex: Sendable {
  /// The options the index was built with.
  public let configuration: IndexConfiguration
  /// The fitted vocabulary and idf.
  public let vectorizer: TfidfVectorizer
  /// The fitted LSA model (components V and singular values).
  public let svd: TruncatedSVD
  /// The l2-normalised LSA embedding of every paper, one row each.
  public let embeddings: DenseMatrix
  /// The l2-normalised TF-IDF row of every paper.
  public let tfidf: SparseMatrix
  /// How many of the papers were added by ``adding(_:)`` after the model was fitted: the
  /// last `foldedInCount` rows. Their words did not shape the vocabulary, idf or components.
  public let foldedInCount: Int
  /// The IVF index over `embeddings` that picks LSA candidates, when one was built
  /// (see `IndexConfiguration.approximateSearch`); nil means every query is exact.
  public let approximateIndex: IVFNeighborIndex?
  let ids: StringTable
  let titles: StringTable
  let lookup: IDLookup

  /// A stage of building an index, reported through the progress callback.
  public enum Stage: String, Sendable, CaseIterable {
    /// Tokenizing, counting and weighting the papers (TF-IDF).
    case analyzing
    /// Computing the truncated SVD.
    case decomposing
    /// Normalising the papers' LSA embeddings.
    case embedding
    /// Building the IVF index for approximate search (only when one is built).
    case partitioning
    /// Done.
    case finished
  }

  /// Builds an index of `papers`.
  ///
  /// - Parameters:
  ///   - papers: the corpus; ids must be unique.
  ///   - configuration: every option (default `.default`).
  ///   - progress: called with the fraction done (0...1) and the current stage.
  /// - Throws: `ConfigurationError` for invalid options, an empty corpus or a corpus whose
  ///   terms are all pruned; `CorpusError.duplicateID` for repeated ids.
  public init(
    _ papers: [Paper], configuration: IndexConfiguration = .default,
    progress: (@Sendable (Double, Stage) -> Void)? = nil
  ) throws {
    try configuration.validate()
    guard !papers.isEmpty else { throw ConfigurationError.emptyCorpus }
    var seen: [String: Int] = [:]
    seen.reserveCapacity(papers.count)
    for (position, paper) in papers.enumerated() {
      if let first = seen.updateValue(position, forKey: paper.id) {
        throw CorpusError.duplicateID(
          file: "<papers>", line: position + 1, id: paper.id, firstLine: first + 1)
      }
    }
    progress?(0, .analyzing)
    let (vectorizer, tfidf) = try TfidfVectorizer.fit(
      papers, configuration: configuration.vectorizerConfiguration)
    progress?(0.4, .decomposing)
    let (svd, coordinates) = try TruncatedSVD.fit(tfidf, configuration: configuration.svdConfiguration)
    progress?(0.9, .embedding)
    let embeddings = coordinates.normalizedRows()
    var approximateIndex: IVFNeighborIndex?
    if configuration.approximateSearch.usesIVF(papers: papers.count) {
      progress?(0.92, .partitioning)
      approximateIndex = try PaperIndex.buildApproximateIndex(embeddings, configuration: configuration)
    }
    self.init(
      configuration: configuration, vectorizer: vectorizer, svd: svd,
      embeddings: embeddings, tfidf: tfidf,
      ids: StringTable(papers.lazy.map(\.id)), titles: StringTable(papers.lazy.map(\.title)),
      approximateIndex: approximateIndex)
    progress?(1, .finished)
  }

  init(
    configuration: IndexConfiguration, vectorizer: TfidfVectorizer, svd: TruncatedSVD,
    embeddings: DenseMatrix, tfidf: SparseMatrix, ids: StringTable, titles: StringTable,
    foldedInCount: Int = 0, approximateIndex: IVFNeighborIndex? = nil
  ) {
    self.configuration = configuration
    self.vectorizer = vectorizer
    self.svd = svd
    self.embeddings = embeddings
    self.tfidf = tfidf
    self.ids = ids
    self.titles = titles
    self.foldedInCount = foldedInCount
    self.approximateIndex = approximateIndex
    self.lookup = IDLookup()
  }

  /// The number of papers.
  public var count: Int { ids.count }
  /// The number of vocabulary terms.
  public var termCount: Int { vectorizer.termCount }
  /// The embedding dimensions.
  public var dimensions: Int { embeddings.columns }

  /// The id of the paper at `position`.
  public func id(at position: Int) -> String { ids[position] }
  /// The title of the paper at `position`.
  public func title(at position: Int) -> String { titles[position] }
  /// All ids, in index order.
  public var allIDs: [String] { ids.strings }

  /// The position of the paper with this exact id.
  public func position(ofID id: String) -> Int? {
    lookup.map(building: ids)[id]
  }

  /// How many papers have no terms left after analysis (all-zero rows that never match).
  public var emptyDocumentCount: Int {
    (0..<count).reduce(0) { $0 + (isEmptyRow($1) ? 1 : 0) }
  }

  @inline(__always)
  func isEmptyRow(_ position: Int) -> Bool {
    tfidf.offsets[position] == tfidf.offsets[position + 1]
  }

  /// The id → position map, built on first use and shared by copies of the index.
  final class IDLookup: @unchecked Sendable {
    private let lock = NSLock()
    private var built: [String: Int]?

    func map(building ids: StringTable) -> [String: Int] {
      lock.lock()
      defer { lock.unlock() }
      if let built { return built }
      var map: [String: Int] = [:]
      map.reserveCapacity(ids.count)
      for position in 0..<ids.count where map[ids[position]] == nil {
        map[ids[position]] = position
      }
      built = map
      return map
    }
  }
}

extension DenseMatrix {
  /// A copy with every row scaled to unit Euclidean length (zero rows stay zero).
  func normalizedRows() -> DenseMatrix {
    DenseMatrix(rows: rows, columns: columns) { output in
      for row in 0..<rows {
        let source = rowBuffer(row)
        var squares: Double = 0
        for value in source { squares += Double(value) * Double(value) }
        let scale = squares > 0 ? Float(1 / squares.squareRoot()) : 0
        for column in 0..<columns {
          output[row * columns + column] = source[column] * scale
        }
      }
    }
  }
}
