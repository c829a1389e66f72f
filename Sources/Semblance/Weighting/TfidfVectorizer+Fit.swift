import Foundation

extension TfidfVectorizer {
  /// Term counts of a run of consecutive papers, keyed by a table local to the run.
  private struct ChunkCounts {
    var table = TermTable()
    var documentFrequency: [Int32] = []
    var totalCount: [Int64] = []
    /// Per paper: a range into `terms` / `counts`.
    var documentEnds: [Int] = []
    var terms: [Int32] = []
    var counts: [Int32] = []
  }

  /// Learns the vocabulary and idf from `papers` and returns the TF-IDF matrix of the same
  /// papers, one row each, in order.
  ///
  /// - Throws: `ConfigurationError` for an invalid configuration, an empty corpus, or when
  ///   pruning leaves no terms.
  /// - Complexity: O(total text length), spread over all cores.
  public static func fit(
    _ papers: [Paper], configuration: Configuration = .init()
  ) throws -> (vectorizer: TfidfVectorizer, matrix: SparseMatrix) {
    try configuration.validate()
    guard !papers.isEmpty else { throw ConfigurationError.emptyCorpus }
    let analyzer = try Analyzer(configuration.analyzer)
    let n = papers.count

    // 1. Count terms per paper, in parallel chunks with chunk-local term ids.
    let chunkCount = min(max(1, n / 32), processorCount * 8)
    let chunks = parallelMap(chunks: chunkCount) { chunk -> ChunkCounts in
      var result = ChunkCounts()
      var workspace = Analyzer.Workspace()
      var docCount: [Int32] = []
      var docMark: [Int32] = []
      var touched: [Int32] = []
      let range = chunkRange(chunk, of: chunkCount, count: n)
      for paperIndex in range {
        let paper = papers[paperIndex]
        let mark = Int32(paperIndex - range.lowerBound)
        touched.removeAll(keepingCapacity: true)
        analyzer.analyze(title: paper.title, abstract: paper.abstract, in: &workspace) {
          term, weight in
          let id = Int(result.table.insert(term))
          if id == docCount.count {
            docCount.append(0)
            docMark.append(-1)
            result.documentFrequency.append(0)
            result.totalCount.append(0)
          }
          if docMark[id] != mark {
            docMark[id] = mark
            docCount[id] = 0
            touched.append(Int32(id))
          }
          docCount[id] = docCount[id].saturatingAdd(weight)
        }
        for id in touched {
          let count = docCount[Int(id)]
          result.terms.append(id)
          result.counts.append(count)
          result.documentFrequency[Int(id)] += 1
          result.totalCount[Int(id)] += Int64(count)
        }
        result.documentEnds.append(result.terms.count)
      }
      return result
    }

    // 2. Merge the chunk tables into one global table, in chunk order (deterministic).
    var global = TermTable(minimumCapacity: chunks.map(\.table.count).max() ?? 16)
    var documentFrequency: [Int32] = []
    var totalCount: [Int64] = []
    var localToGlobal: [[Int32]] = []
    for chunk in chunks {
      var map = [Int32](repeating: 0, count: chunk.table.count)
      for local in 0..<chunk.table.count {
        let id = chunk.table.withKey(local) { global.insert($0) }
        if Int(id) == documentFrequency.count {
          documentFrequency.append(0)
          totalCount.append(0)
        }
        documentFrequency[Int(id)] += chunk.documentFrequency[local]
        totalCount[Int(id)] += chunk.totalCount[local]
        map[local] = id
      }
      localToGlobal.append(map)
    }

    // 3. Prune by document frequency, then cap the vocabulary size.
    guard global.count > 0 else { throw ConfigurationError.noTerms(papers: n) }
    let minimum = configuration.effectiveMinDocumentFrequency(papers: n)
    let maximumCount = configuration.maxDocumentFrequency * Double(n)
    var kept = (0..<global.count).filter { id in
      let df = Int(documentFrequency[id])
      return df >= minimum && Double(df) <= maximumCount
    }
    if let maxTerms = configuration.maxTerms, kept.count > maxTerms {
      kept.sort { a, b in
        totalCount[a] != totalCount[b]
          ? totalCount[a] > totalCount[b] : compareBytes(global, a, b) < 0
      }
      kept.removeSubrange(maxTerms...)
    }
    guard !kept.isEmpty else {
      throw ConfigurationError.noTermsLeft(
        papers: n, minDocumentFrequency: minimum,
        maxDocumentFrequency: configuration.maxDocumentFrequency)
    }

    // 4. Sort the vocabulary in byte order and number the columns.
    kept.sort { compareBytes(global, $0, $1) < 0 }
    var globalToColumn = [Int32](repeating: -1, count: global.count)
    for (column, id) in kept.enumerated() { globalToColumn[id] = Int32(column) }
    let terms = StringTable(kept.lazy.map { global.string($0) })
    let idf = Storage<Float>(count: kept.count) { idf in
      for (column, id) in kept.enumerated() {
        let df = Double(documentFrequency[id])
        idf[column] = Float(log((1 + Double(n)) / (1 + df)) + 1)
      }
    }

    // 5. Weight and normalise every row, in parallel over the chunks.
    let rows = parallelMap(chunks: chunkCount) { chunk -> RowBlock in
      let counts = chunks[chunk]
      let map = localToGlobal[chunk]
      var block = RowBlock()
      var start = 0
      var entries: [(column: Int32, count: Int32)] = []
      for end in counts.documentEnds {
        entries.removeAll(keepingCapacity: true)
        for position in start..<end {
          let column = globalToColumn[Int(map[Int(counts.terms[position])])]
          if column >= 0 { entries.append((column, counts.counts[position])) }
        }
        block.append(
          entries: &entries, idf: idf.buffer, sublinearTF: configuration.sublinearTF)
        start = end
      }
      return block
    }
    let matrix = RowBlock.assemble(rows, columns: kept.count)
    let vectorizer = TfidfVectorizer(
      configuration: configuration, analyzer: analyzer,
      vocabulary: Vocabulary(terms: terms), idf: idf)
    return (vectorizer, matrix)
  }

  /// The TF-IDF rows of `papers` under the fitted vocabulary and idf. Terms outside the
  /// vocabulary are ignored.
  /// - Complexity: O(total text length), spread over all cores.
  public func transform(_ papers: [Paper]) -> SparseMatrix {
    let table = vocabulary.table
    let n = papers.count
    let chunkCount = min(max(1, n / 32), processorCount * 8)
    let blocks = parallelMap(chunks: chunkCount) { chunk -> RowBlock in
      var workspace = Analyzer.Workspace()
      var block = RowBlock()
      var docCount = [Int32](repeating: 0, count: table.count)
      var touched: [Int32] = []
      var entries: [(column: Int32, count: Int32)] = []
      for paperIndex in chunkRange(chunk, of: chunkCount, count: n) {
        let paper = papers[paperIndex]
        analyzer.analyze(title: paper.title, abstract: paper.abstract, in: &workspace) {
          term, weight in
          let column = table.find(term)
          guard column >= 0 else { return }
          if docCount[Int(column)] == 0 { touched.append(column) }
          docCount[Int(column)] = docCount[Int(column)].saturatingAdd(weight)
        }
        entries.removeAll(keepingCapacity: true)
        for column in touched {
          entries.append((column, docCount[Int(column)]))
          docCount[Int(column)] = 0
        }
        touched.removeAll(keepingCapacity: true)
        block.append(entries: &entries, idf: idfStorage.buffer, sublinearTF: configuration.sublinearTF)
      }
      return block
    }
    return RowBlock.assemble(blocks, columns: termCount)
  }

  /// The l2-normalised TF-IDF vector of free text, as sorted column indices and values.
  /// Title weighting does not apply; the text is treated as an abstract.
  public func vector(forText text: String) -> (indices: [Int32], values: [Float]) {
    let row = transform([Paper(id: "", title: "", abstract: text)])
    return row.row(0)
  }
}

/// Rows of a CSR matrix under construction.
struct RowBlock {
  var rowLengths: [Int] = []
  var indices: [Int32] = []
  var values: [Float] = []

  /// Appends one row from unsorted (column, count) entries: sorts, weights, normalises.
  mutating func append(
    entries: inout [(column: Int32, count: Int32)], idf: UnsafeBufferPointer<Float>,
    sublinearTF: Bool
  ) {
    entries.sort { $0.column < $1.column }
    let start = values.count
    var squares: Double = 0
    for (column, count) in entries {
      let tf = sublinearTF ? 1 + log(Double(count)) : Double(count)
      let weight = tf * Double(idf[Int(column)])
      squares += weight * weight
      indices.append(column)
      values.append(Float(weight))
    }
    if squares > 0 {
      let scale = 1 / squares.squareRoot()
      var position = start
      for (column, count) in entries {
        let tf = sublinearTF ? 1 + log(Double(count)) : Double(count)
        values[position] = Float(tf * Double(idf[Int(column)]) * scale)
        position += 1
      }
    }
    rowLengths.append(entries.count)
  }

  /// Concatenates blocks of rows into one matrix.
  static func assemble(_ blocks: [RowBlock], columns: Int) -> SparseMatrix {
    let rows = blocks.reduce(0) { $0 + $1.rowLengths.count }
    let nnz = blocks.reduce(0) { $0 + $1.indices.count }
    let offsets = Storage<Int64>(count: rows + 1) { offsets in
      var row = 0
      var total: Int64 = 0
      offsets[0] = 0
      for block in blocks {
        for length in block.rowLengths {
          total += Int64(length)
          row += 1
          offsets[row] = total
        }
      }
    }
    let indices = Storage<Int32>(count: nnz) { target in
      var position = 0
      for block in blocks {
        _ = UnsafeMutableBufferPointer(rebasing: target[position...])
          .initialize(fromContentsOf: block.indices)
        position += block.indices.count
      }
    }
    let values = Storage<Float>(count: nnz) { target in
      var position = 0
      for block in blocks {
        _ = UnsafeMutableBufferPointer(rebasing: target[position...])
          .initialize(fromContentsOf: block.values)
        position += block.values.count
      }
    }
    return try! SparseMatrix(
      rows: rows, columns: columns, offsets: offsets, indices: indices, values: values,
      validate: false)
  }
}

extension Int32 {
  /// `self + other` for positive counts, stopping at `Int32.max` instead of trapping: a term
  /// repeated millions of times, or a huge title weight, must not end the process.
  @inline(__always)
  func saturatingAdd(_ other: Int32) -> Int32 {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? .max : sum
  }
}

/// Compares two keys of a term table by their UTF-8 bytes (shorter prefix first).
func compareBytes(_ table: TermTable, _ a: Int, _ b: Int) -> Int {
  table.withKey(a) { ka in
    table.withKey(b) { kb in
      let common = min(ka.count, kb.count)
      if common > 0 {
        let order = memcmp(ka.baseAddress!, kb.baseAddress!, common)
        if order != 0 { return Int(order) }
      }
      return ka.count - kb.count
    }
  }
}
