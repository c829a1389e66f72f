import CSemblanceKernels
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
    /// Writing the index file (only when building straight to a file).
    case writing
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
    var accumulator = try TfidfVectorizer.Accumulator(
      configuration: configuration.vectorizerConfiguration)
    accumulator.add(papers)
    try self.init(
      fitting: accumulator, ids: StringTable(papers.lazy.map(\.id)),
      titles: StringTable(papers.lazy.map(\.title)), configuration: configuration,
      progress: progress)
  }

  /// Builds an index of the papers in a corpus file, streaming: the file is read in batches,
  /// and only each paper's term counts, id and title are kept, never the whole text.
  ///
  /// ```swift
  /// let index = try PaperIndex(corpusAt: URL(fileURLWithPath: "arxiv-metadata.json"),
  ///                            format: .jsonLines) { fraction, stage in
  ///   print("\(stage) \(Int(fraction * 100))%")
  /// }
  /// ```
  ///
  /// - Parameters:
  ///   - url: A file URL.
  ///   - format: The corpus format, or `nil` to infer it from the extension.
  ///   - fields: The names of the id, title and abstract fields.
  ///   - duplicateIDs: What to do when an id repeats.
  ///   - configuration: every option (default `.default`).
  ///   - progress: called with the fraction done (0...1) and the current stage; while
  ///     analysing, the fraction follows the bytes of text read against the file's size.
  /// - Throws: ``CorpusError`` for an unreadable or malformed corpus (naming the file and
  ///   line), `ConfigurationError` for invalid options or a corpus whose terms are all pruned.
  public init(
    corpusAt url: URL, format: CorpusFormat? = nil, fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error, configuration: IndexConfiguration = .default,
    progress: (@Sendable (Double, Stage) -> Void)? = nil
  ) throws {
    try configuration.validate()
    let counted = try PaperIndex.count(
      corpusAt: url, format: format, fields: fields, duplicateIDs: duplicateIDs,
      configuration: configuration, progress: progress)
    try self.init(
      fitting: counted.accumulator, ids: counted.ids, titles: counted.titles,
      configuration: configuration, progress: progress)
  }

  /// Builds an index of the papers in a corpus file and writes it to `destination`, with
  /// the bytes that ``init(corpusAt:format:fields:duplicateIDs:configuration:progress:)``
  /// followed by ``write(to:)`` would write, then opens the file (memory-mapped, as
  /// ``init(contentsOf:verify:)`` does, its checksums not read again).
  ///
  /// ```swift
  /// let index = try PaperIndex(corpusAt: URL(fileURLWithPath: "arxiv-metadata.json"),
  ///                            writingTo: URL(fileURLWithPath: "arxiv.idx"))
  /// ```
  ///
  /// It needs less memory: the LSA components V, one row of floats per term and the largest
  /// array of an index with word pairs (221 MB of a 293 MB file at 34,000 papers, 12.8 GB at
  /// 2.5 million), are formed a block of terms at a time as the file is written and never
  /// held whole. In their place the build keeps the transposed TF-IDF matrix and a copy of
  /// the embeddings, each about as large as its original. It takes one more pass over the
  /// sparse matrix than building in memory, to choose V's signs.
  ///
  /// - Parameters: as ``init(corpusAt:format:fields:duplicateIDs:configuration:progress:)``,
  ///   and the file to write, replaced atomically as ``write(to:)`` replaces it.
  /// - Throws: as that initializer and ``write(to:)``.
  public init(
    corpusAt url: URL, format: CorpusFormat? = nil, fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error, configuration: IndexConfiguration = .default,
    writingTo destination: URL, progress: (@Sendable (Double, Stage) -> Void)? = nil
  ) throws {
    try configuration.validate()
    let counted = try PaperIndex.count(
      corpusAt: url, format: format, fields: fields, duplicateIDs: duplicateIDs,
      configuration: configuration, progress: progress)
    // The built index, Xᵀ and the copy of U Σ go before the file is mapped.
    do {
      let (index, componentRows) = try PaperIndex.fitted(
        counted.accumulator, ids: counted.ids, titles: counted.titles,
        configuration: configuration, formingComponents: false, progress: progress)
      progress?(0.96, .writing)
      try index.write(to: destination, componentRows: componentRows)
    }
    try self.init(contentsOf: destination, verify: false)
    progress?(1, .finished)
  }

  /// Reads a corpus file in batches and counts its papers' terms, keeping only those counts
  /// and each paper's id and title, never the whole text.
  private static func count(
    corpusAt url: URL, format: CorpusFormat?, fields: CorpusFields,
    duplicateIDs: DuplicateIDPolicy, configuration: IndexConfiguration,
    progress: (@Sendable (Double, Stage) -> Void)?
  ) throws -> (accumulator: TfidfVectorizer.Accumulator, ids: StringTable, titles: StringTable) {
    let counter = BackgroundCounter(
      try TfidfVectorizer.Accumulator(configuration: configuration.vectorizerConfiguration))
    // Never return, or throw, while a batch is still being counted.
    defer { counter.wait() }
    var ids = StringTable.Builder(), titles = StringTable.Builder()
    let fileSize = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size])
      .flatMap { $0 as? NSNumber }.map { max($0.doubleValue, 1) }
    var textBytes = 0.0
    progress?(0, .analyzing)
    try Corpus.forEachBatch(
      contentsOf: url, format: format, fields: fields, duplicateIDs: duplicateIDs,
      batchSize: PaperIndex.streamingBatchSize
    ) { batch in
      // The next batch is read and parsed while this one is counted.
      counter.count(batch)
      for paper in batch {
        ids.append(paper.id)
        titles.append(paper.title)
        textBytes += Double(paper.title.utf8.count + paper.abstract.utf8.count)
      }
      if let progress, let fileSize {
        progress(PaperIndex.analysisShare * min(textBytes / fileSize, 1), .analyzing)
      }
    }
    counter.wait()
    return (counter.accumulator, ids.build(), titles.build())
  }

  /// Counts batches of papers on other threads, one batch at a time and in order, so that
  /// reading and parsing the next batch (one core's work) overlaps counting this one (the
  /// lanes' work, on every core).
  private final class BackgroundCounter: @unchecked Sendable {
    /// The counts so far; read it only after ``wait()``.
    private(set) var accumulator: TfidfVectorizer.Accumulator
    private let group = DispatchGroup()

    init(_ accumulator: TfidfVectorizer.Accumulator) { self.accumulator = accumulator }

    /// Waits for the batch before, then starts counting `batch`.
    func count(_ batch: [Paper]) {
      group.wait()
      DispatchQueue.global().async(group: group) { self.accumulator.add(batch) }
    }

    /// Returns once every batch handed over has been counted.
    func wait() { group.wait() }
  }

  /// Papers per batch when streaming a corpus file: about 20 MB of abstracts, enough to keep
  /// every core busy between batches.
  static let streamingBatchSize = 16_384
  /// The share of the progress fraction that analysis takes.
  static let analysisShare = 0.4

  /// Fits the vocabulary, the SVD and (when configured) the IVF index from counted papers.
  private init(
    fitting accumulator: consuming TfidfVectorizer.Accumulator, ids: StringTable,
    titles: StringTable, configuration: IndexConfiguration,
    progress: (@Sendable (Double, Stage) -> Void)?
  ) throws {
    self = try PaperIndex.fitted(
      accumulator, ids: ids, titles: titles, configuration: configuration,
      formingComponents: true, progress: progress
    ).index
    progress?(1, .finished)
  }

  /// The index fitted from counted papers. With `formingComponents` false, a randomized fit
  /// leaves the index's components empty and returns the rows that form them
  /// (``TruncatedSVD/ComponentRows``): such an index serves only to be written.
  private static func fitted(
    _ accumulator: consuming TfidfVectorizer.Accumulator, ids: StringTable,
    titles: StringTable, configuration: IndexConfiguration, formingComponents: Bool,
    progress: (@Sendable (Double, Stage) -> Void)?
  ) throws -> (index: PaperIndex, componentRows: TruncatedSVD.ComponentRows?) {
    let paperCount = accumulator.paperCount
    let (vectorizer, tfidf) = try accumulator.finish()
    // The counting tables and per-paper lists just freed stay in the allocator's arenas,
    // resident beside the SVD's arrays, unless handed back: at 34,000 papers the build's
    // peak fell from 282 to 262 MB with this (at 300,000 it was unchanged, 2.03 GB).
    semblance_return_free_heap()
    progress?(PaperIndex.analysisShare, .decomposing)
    let (svd, embeddings, componentRows) = try TruncatedSVD.fit(
      tfidf, configuration: configuration.svdConfiguration, normalizingRows: true,
      formingComponents: formingComponents)
    progress?(0.9, .embedding)
    var approximateIndex: IVFNeighborIndex?
    if configuration.approximateSearch.usesIVF(papers: paperCount) {
      progress?(0.92, .partitioning)
      approximateIndex = try PaperIndex.buildApproximateIndex(
        embeddings, tfidf: tfidf, configuration: configuration)
    }
    let index = PaperIndex(
      configuration: configuration, vectorizer: vectorizer, svd: svd,
      embeddings: embeddings, tfidf: tfidf, ids: ids, titles: titles,
      approximateIndex: approximateIndex)
    return (index, componentRows)
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
    tfidf.isEmptyRow(position)
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
      guard rows * columns > 0 else { return }
      output.baseAddress!.update(from: baseAddress, count: rows * columns)
      DenseMatrix.normalizeRows(output.baseAddress!, rows: rows, columns: columns)
    }
  }

  /// Scales every row of the row-major `rows × columns` matrix at `values` to unit Euclidean
  /// length (zero rows stay zero), on every core when it is large.
  static func normalizeRows(_ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    let tasks = rows * columns < 1 << 20 ? 1 : processorCount
    let shared = UnsafeSendable(values)
    parallelForEach(chunks: tasks) { task in
      let values = shared.value
      for row in chunkRange(task, of: tasks, count: rows) {
        let start = values + row * columns
        var squares: Double = 0
        for column in 0..<columns { squares += Double(start[column]) * Double(start[column]) }
        let scale = squares > 0 ? Float(1 / squares.squareRoot()) : 0
        for column in 0..<columns { start[column] *= scale }
      }
    }
  }
}
