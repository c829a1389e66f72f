import Foundation

extension TfidfVectorizer {
  /// Term counts of a run of consecutive papers, keyed by tables local to the run.
  ///
  /// Words are keyed by their bytes; bigrams by the pair of their words' local ids.
  private struct ChunkCounts {
    var words = TermTable()
    var pairs = PairTable()
    var wordFrequency: [Int32] = []
    var wordTotal: [Int64] = []
    var pairFrequency: [Int32] = []
    var pairTotal: [Int64] = []
    /// Per paper: the end of its entries in `terms` / `counts`.
    var documentEnds: [Int] = []
    /// A word id, or a pair id with `pairFlag` set.
    var terms: [Int32] = []
    var counts: [Int32] = []
  }

  private static let pairFlag = Int32.min

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
    let countsWords = configuration.analyzer.ngramRange.contains(1)
    let countsPairs = configuration.analyzer.ngramRange.contains(2)

    // 1. Count words and bigrams per paper: one contiguous run of papers per core, each with
    //    its own tables, so nothing is shared while counting.
    let chunkCount = min(max(1, n / 64), processorCount)
    let chunks = parallelMap(chunks: chunkCount) { chunk -> ChunkCounts in
      var result = ChunkCounts()
      var workspace = Analyzer.Workspace()
      var wordCount: [Int32] = [], wordMark: [Int32] = []
      var pairCount: [Int32] = [], pairMark: [Int32] = []
      var touchedWords: [Int32] = [], touchedPairs: [Int32] = []
      let range = chunkRange(chunk, of: chunkCount, count: n)
      for paperIndex in range {
        let paper = papers[paperIndex]
        let mark = Int32(paperIndex - range.lowerBound)
        analyzer.forEachSegment(title: paper.title, abstract: paper.abstract, in: &workspace) {
          workspace, weight in
          var previous: Int32 = -1
          let starts = workspace.tokenStarts, ends = workspace.tokenEnds
          workspace.segment.withUnsafeBufferPointer { segment in
            for token in 0..<starts.count {
              let id = result.words.insert(
                UnsafeBufferPointer(rebasing: segment[starts[token]..<ends[token]]))
              if Int(id) == wordCount.count {
                wordCount.append(0)
                wordMark.append(-1)
                result.wordFrequency.append(0)
                result.wordTotal.append(0)
              }
              if countsWords {
                if wordMark[Int(id)] != mark {
                  wordMark[Int(id)] = mark
                  wordCount[Int(id)] = 0
                  touchedWords.append(id)
                }
                wordCount[Int(id)] = wordCount[Int(id)].saturatingAdd(weight)
              }
              if countsPairs && previous >= 0 {
                let pair = result.pairs.insert(PairTable.key(previous, id))
                if Int(pair) == pairCount.count {
                  pairCount.append(0)
                  pairMark.append(-1)
                  result.pairFrequency.append(0)
                  result.pairTotal.append(0)
                }
                if pairMark[Int(pair)] != mark {
                  pairMark[Int(pair)] = mark
                  pairCount[Int(pair)] = 0
                  touchedPairs.append(pair)
                }
                pairCount[Int(pair)] = pairCount[Int(pair)].saturatingAdd(weight)
              }
              previous = id
            }
          }
        }
        for id in touchedWords {
          let count = wordCount[Int(id)]
          result.terms.append(id)
          result.counts.append(count)
          result.wordFrequency[Int(id)] += 1
          result.wordTotal[Int(id)] += Int64(count)
        }
        for pair in touchedPairs {
          let count = pairCount[Int(pair)]
          result.terms.append(pair | pairFlag)
          result.counts.append(count)
          result.pairFrequency[Int(pair)] += 1
          result.pairTotal[Int(pair)] += Int64(count)
        }
        touchedWords.removeAll(keepingCapacity: true)
        touchedPairs.removeAll(keepingCapacity: true)
        result.documentEnds.append(result.terms.count)
      }
      return result
    }

    // 2. Merge the runs' tables in run order (deterministic): words by bytes, then bigrams by
    //    the pair of their words' global ids.
    var words = TermTable(minimumCapacity: chunks.map(\.words.count).max() ?? 16)
    var pairs = PairTable(minimumCapacity: chunks.map(\.pairs.count).max() ?? 16)
    var wordFrequency: [Int32] = [], wordTotal: [Int64] = []
    var pairFrequency: [Int32] = [], pairTotal: [Int64] = []
    var wordMaps: [[Int32]] = [], pairMaps: [[Int32]] = []
    for chunk in chunks {
      var wordMap = [Int32](repeating: 0, count: chunk.words.count)
      for local in 0..<chunk.words.count {
        let id = chunk.words.withKey(local) { words.insert($0) }
        if Int(id) == wordFrequency.count {
          wordFrequency.append(0)
          wordTotal.append(0)
        }
        wordFrequency[Int(id)] += chunk.wordFrequency[local]
        wordTotal[Int(id)] += chunk.wordTotal[local]
        wordMap[local] = id
      }
      var pairMap = [Int32](repeating: 0, count: chunk.pairs.count)
      for (local, key) in chunk.pairs.keys.enumerated() {
        let first = wordMap[Int(key >> 32)], second = wordMap[Int(key & 0xFFFF_FFFF)]
        let id = pairs.insert(PairTable.key(first, second))
        if Int(id) == pairFrequency.count {
          pairFrequency.append(0)
          pairTotal.append(0)
        }
        pairFrequency[Int(id)] += chunk.pairFrequency[local]
        pairTotal[Int(id)] += chunk.pairTotal[local]
        pairMap[local] = id
      }
      wordMaps.append(wordMap)
      pairMaps.append(pairMap)
    }

    guard words.count > 0 else { throw ConfigurationError.noTerms(papers: n) }

    // 3. Prune by document frequency. Candidate `c` is word `c`, or bigram `c - words.count`.
    let minimum = configuration.effectiveMinDocumentFrequency(papers: n)
    let maximumCount = configuration.maxDocumentFrequency * Double(n)
    func keeps(_ df: Int32) -> Bool { Int(df) >= minimum && Double(df) <= maximumCount }
    var candidates: [Int] = []
    if countsWords { candidates += (0..<words.count).filter { keeps(wordFrequency[$0]) } }
    if countsPairs {
      candidates += (0..<pairs.count).lazy.filter { keeps(pairFrequency[$0]) }.map { $0 + words.count }
    }
    guard !candidates.isEmpty else {
      throw ConfigurationError.noTermsLeft(
        papers: n, minDocumentFrequency: minimum,
        maxDocumentFrequency: configuration.maxDocumentFrequency)
    }

    // 4. Spell the candidates (a bigram is its two words joined by a space), cap the
    //    vocabulary by corpus frequency, and sort it in byte order.
    var spelled = TermTable(minimumCapacity: candidates.count)
    var scratch: [UInt8] = []
    for candidate in candidates {
      if candidate < words.count {
        _ = words.withKey(candidate) { spelled.appendUnchecked($0) }
      } else {
        let key = pairs.keys[candidate - words.count]
        scratch.removeAll(keepingCapacity: true)
        words.withKey(Int(key >> 32)) { scratch.append(contentsOf: $0) }
        scratch.append(0x20)
        words.withKey(Int(key & 0xFFFF_FFFF)) { scratch.append(contentsOf: $0) }
        _ = scratch.withUnsafeBufferPointer { spelled.appendUnchecked($0) }
      }
    }
    func frequency(_ candidate: Int) -> Int32 {
      candidate < words.count ? wordFrequency[candidate] : pairFrequency[candidate - words.count]
    }
    func total(_ candidate: Int) -> Int64 {
      candidate < words.count ? wordTotal[candidate] : pairTotal[candidate - words.count]
    }
    var order = Array(0..<candidates.count)  // positions in `candidates` / `spelled`
    if let maxTerms = configuration.maxTerms, order.count > maxTerms {
      order.sort { a, b in
        let ta = total(candidates[a]), tb = total(candidates[b])
        return ta != tb ? ta > tb : compareBytes(spelled, a, b) < 0
      }
      order.removeSubrange(maxTerms...)
    }
    order.sort { compareBytes(spelled, $0, $1) < 0 }
    var wordColumn = [Int32](repeating: -1, count: words.count)
    var pairColumn = [Int32](repeating: -1, count: pairs.count)
    for (column, position) in order.enumerated() {
      let candidate = candidates[position]
      if candidate < words.count {
        wordColumn[candidate] = Int32(column)
      } else {
        pairColumn[candidate - words.count] = Int32(column)
      }
    }
    let terms = StringTable(orderedKeysOf: spelled, order)
    let idf = Storage<Float>(count: order.count) { idf in
      for (column, position) in order.enumerated() {
        let df = Double(frequency(candidates[position]))
        idf[column] = Float(log((1 + Double(n)) / (1 + df)) + 1)
      }
    }

    // 5. Weight and normalise every row, in parallel over the runs.
    let rows = parallelMap(chunks: chunkCount) { chunk -> RowBlock in
      let counts = chunks[chunk]
      let wordMap = wordMaps[chunk], pairMap = pairMaps[chunk]
      var block = RowBlock()
      var start = 0
      var entries: [(column: Int32, count: Int32)] = []
      for end in counts.documentEnds {
        entries.removeAll(keepingCapacity: true)
        for position in start..<end {
          let term = counts.terms[position]
          let column =
            term < 0
            ? pairColumn[Int(pairMap[Int(term & Int32.max)])]
            : wordColumn[Int(wordMap[Int(term)])]
          if column >= 0 { entries.append((column, counts.counts[position])) }
        }
        block.append(entries: &entries, idf: idf.buffer, sublinearTF: configuration.sublinearTF)
        start = end
      }
      return block
    }
    let matrix = RowBlock.assemble(rows, columns: order.count)
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
