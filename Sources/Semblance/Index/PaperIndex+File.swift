import Foundation

extension PaperIndex {
  /// Section tags of the index file (see Docs/FileFormat.md).
  enum Section {
    static let metadata: IndexFileTag = "META"
    static let idBytes: IndexFileTag = "IDSB"
    static let idOffsets: IndexFileTag = "IDSO"
    static let titleBytes: IndexFileTag = "TTLB"
    static let titleOffsets: IndexFileTag = "TTLO"
    static let termBytes: IndexFileTag = "VOCB"
    static let termOffsets: IndexFileTag = "VOCO"
    static let idf: IndexFileTag = "IDF_"
    static let components: IndexFileTag = "COMP"
    static let singularValues: IndexFileTag = "SVAL"
    static let embeddings: IndexFileTag = "EMBD"
    static let tfidfOffsets: IndexFileTag = "CSRO"
    static let tfidfIndices: IndexFileTag = "CSRI"
    static let tfidfValues: IndexFileTag = "CSRV"
  }

  /// The small JSON section: options and shapes.
  struct Metadata: Codable {
    var configuration: IndexConfiguration
    var documents: Int
    var terms: Int
    var dimensions: Int
    var requestedDimensions: Int
    var algorithm: TruncatedSVD.Algorithm
    var explainedVarianceRatio: [Float]
    /// Papers folded in after fitting (absent in files without any).
    var foldedInDocuments: Int?
  }

  /// Writes the index to one file: versioned, every byte checksummed, written atomically
  /// (a temporary file, synced, then renamed), so a crash never leaves half an index.
  ///
  /// Files of 1 GiB or more are written past the page cache where the file system allows it
  /// (`O_DIRECT`), which is several times faster than copying them into it first; the next
  /// process that opens the file then reads it from the disk.
  ///
  /// ```swift
  /// try index.write(to: URL(fileURLWithPath: "papers.idx"))
  /// ```
  /// - Throws: `IndexFileError.io` naming the operation that failed.
  public func write(to url: URL) throws {
    try write(to: url, componentRows: nil)
  }

  /// ``write(to:)``, with V's rows formed as the file is written when `componentRows` is
  /// given (an index built with `formingComponents: false`, whose own components are empty).
  func write(to url: URL, componentRows: TruncatedSVD.ComponentRows?) throws {
    let metadata = Metadata(
      configuration: configuration, documents: count, terms: termCount, dimensions: dimensions,
      requestedDimensions: svd.requestedDimensions, algorithm: svd.algorithm,
      explainedVarianceRatio: svd.explainedVarianceRatio,
      foldedInDocuments: foldedInCount > 0 ? foldedInCount : nil)
    // Sorted keys (and sorted stop words, see IndexConfiguration) make the same input give
    // the same bytes: JSONEncoder otherwise orders keys by a per-process hash.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var writer = IndexFileWriter()
    writer.append(Section.metadata, bytes: Array(try encoder.encode(metadata)))
    writer.append(Section.idBytes, ids.bytes)
    writer.append(Section.idOffsets, ids.offsets)
    writer.append(Section.titleBytes, titles.bytes)
    writer.append(Section.titleOffsets, titles.offsets)
    writer.append(Section.termBytes, vectorizer.vocabulary.terms.bytes)
    writer.append(Section.termOffsets, vectorizer.vocabulary.terms.offsets)
    writer.append(Section.idf, vectorizer.idfStorage)
    if let componentRows {
      writer.append(
        Section.components,
        byteCount: componentRows.terms * componentRows.width * MemoryLayout<Float>.stride
      ) { range, destination in
        componentRows.fillBytes(range, into: destination)
      }
    } else {
      writer.append(Section.components, svd.components.storage)
    }
    writer.append(Section.singularValues, Storage(svd.singularValues))
    writer.append(Section.embeddings, embeddings.storage)
    writer.append(Section.tfidfOffsets, tfidf.offsets)
    writer.append(Section.tfidfIndices, tfidf.indices)
    writer.append(Section.tfidfValues, tfidf.storedValues)
    try appendApproximateIndex(to: &writer)
    try writer.write(to: url)
  }

  /// Loads an index file by memory-mapping it: the large arrays are used in place, not parsed
  /// or copied.
  ///
  /// ```swift
  /// let index = try PaperIndex(contentsOf: URL(fileURLWithPath: "papers.idx"))
  /// ```
  /// - Parameters:
  ///   - url: the file.
  ///   - verify: check every section's CRC-32 (default true). Structure is always checked.
  /// - Throws: `IndexFileError`: `.notAnIndex` (wrong magic), `.unsupportedVersion`,
  ///   `.truncated`, `.checksumMismatch` naming the section, `.corrupt`, `.io`.
  public init(contentsOf url: URL, verify: Bool = true) throws {
    let file = try IndexFileReader(contentsOf: url, verify: verify)
    let path = url.path
    func corrupt(_ reason: String) -> IndexFileError { .corrupt(file: path, reason: reason) }

    let metadata: Metadata
    do {
      metadata = try JSONDecoder().decode(
        Metadata.self, from: Data(try file.bytes(Section.metadata)))
    } catch let error as IndexFileError {
      throw error
    } catch {
      throw corrupt("its metadata section is not valid: \(error)")
    }
    let n = metadata.documents, terms = metadata.terms, d = metadata.dimensions
    guard n >= 1, terms >= 1, d >= 1, n <= Int(Int32.max), terms <= Int(Int32.max),
      n.multipliedReportingOverflow(by: d).overflow == false,
      terms.multipliedReportingOverflow(by: d).overflow == false
    else { throw corrupt("its shape (\(n) papers, \(terms) terms, \(d) dimensions) is invalid") }

    func strings(_ bytes: IndexFileTag, _ offsets: IndexFileTag, count: Int, _ name: String)
      throws -> StringTable
    {
      let table = StringTable(
        bytes: try file.storage(bytes, as: UInt8.self),
        offsets: try file.storage(offsets, as: Int64.self))
      guard table.offsets.count == count + 1, table.isWellFormed() else {
        throw corrupt("its \(name) table is inconsistent")
      }
      return table
    }
    let ids = try strings(Section.idBytes, Section.idOffsets, count: n, "id")
    let titles = try strings(Section.titleBytes, Section.titleOffsets, count: n, "title")
    let vocabulary = try strings(Section.termBytes, Section.termOffsets, count: terms, "vocabulary")
    guard vocabulary.isStrictlySorted() else { throw corrupt("its vocabulary is not sorted") }

    func floats(_ tag: IndexFileTag, count: Int, _ name: String) throws -> Storage<Float> {
      let storage = try file.storage(tag, as: Float.self)
      guard storage.count == count else {
        throw corrupt("its \(name) section has \(storage.count) values, expected \(count)")
      }
      return storage
    }
    let idf = try floats(Section.idf, count: terms, "idf")
    let components = try floats(Section.components, count: terms * d, "components")
    let singularValues = try floats(Section.singularValues, count: d, "singular value")
    let embeddings = try floats(Section.embeddings, count: n * d, "embedding")
    let foldedIn = metadata.foldedInDocuments ?? 0
    guard foldedIn >= 0, foldedIn < n else {
      throw corrupt("it claims \(foldedIn) of its \(n) papers were folded in")
    }
    guard metadata.explainedVarianceRatio.count == d else {
      throw corrupt("its explained variance has \(metadata.explainedVarianceRatio.count) values")
    }

    let tfidf: SparseMatrix
    do {
      tfidf = try SparseMatrix(
        rows: n, columns: terms, offsets: try file.storage(Section.tfidfOffsets, as: Int64.self),
        indices: try file.storage(Section.tfidfIndices, as: Int32.self),
        values: try file.storage(Section.tfidfValues, as: Float.self), validate: false)
      // The check reads the matrix whole, block by block; a query reads a few of its pages,
      // so each block's pages are released once checked (mapped again when they are read).
      try tfidf.validate { entries in
        tfidf.indices.releasePagesIfMapped(entries)
        tfidf.storedValues.releasePagesIfMapped(entries)
      }
    } catch let error as LinearAlgebraError {
      throw corrupt("its TF-IDF matrix is inconsistent (\(error))")
    }
    // The same for the vocabulary, whose order was checked above.
    vocabulary.bytes.releasePagesIfMapped()
    vocabulary.offsets.releasePagesIfMapped()

    let configuration = metadata.configuration
    let analyzer: Analyzer
    do {
      try configuration.validate()
      analyzer = try Analyzer(configuration.vectorizerConfiguration.analyzer)
    } catch {
      throw corrupt("its configuration is invalid: \(error)")
    }
    let vectorizer = TfidfVectorizer(
      configuration: configuration.vectorizerConfiguration, analyzer: analyzer,
      vocabulary: Vocabulary(terms: vocabulary), idf: idf)
    let svd = TruncatedSVD(
      components: DenseMatrix(rows: terms, columns: d, storage: components),
      singularValues: singularValues.array,
      explainedVarianceRatio: metadata.explainedVarianceRatio,
      requestedDimensions: metadata.requestedDimensions, algorithm: metadata.algorithm)
    let approximateIndex = try PaperIndex.readApproximateIndex(from: file, papers: n, dimensions: d)
    self.init(
      configuration: configuration, vectorizer: vectorizer, svd: svd,
      embeddings: DenseMatrix(rows: n, columns: d, storage: embeddings), tfidf: tfidf,
      ids: ids, titles: titles, foldedInCount: foldedIn, approximateIndex: approximateIndex)
  }
}

extension StringTable {
  /// Whether the strings are strictly increasing in byte order (sorted, no duplicates).
  func isStrictlySorted() -> Bool {
    guard count > 1 else { return true }
    var previous = utf8(at: 0)
    for position in 1..<count {
      let current = utf8(at: position)
      let common = min(previous.count, current.count)
      let order = common == 0 ? 0 : memcmp(previous.baseAddress!, current.baseAddress!, common)
      if order > 0 || (order == 0 && previous.count >= current.count) { return false }
      previous = current
    }
    return true
  }
}
