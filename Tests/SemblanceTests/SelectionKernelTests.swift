import CSemblanceKernels
import Testing

@testable import Semblance

/// The comparison kernels of the top-k scans, AVX-512 and portable, against a plain filter.
@Suite("C kernels: selection, tokenizing, sorting, gathers", .serialized)
struct SelectionKernelTests {
  /// Lengths around the 16-lane groups and the scans' chunk of 128.
  static let lengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 127, 128, 129, 512, 1_000]

  /// Scores with the awkward values a scan can meet: NaN, infinities, both zeros, and
  /// values equal to the thresholds below.
  static func scores(count: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 0.5, 0.25, -0.5]
    return (0..<count).map { _ in
      generator.next() % 5 == 0
        ? special[Int(generator.next() % UInt64(special.count))]
        : Float(Double(generator.next() % 2_001) / 1_000 - 1)
    }
  }

  static let thresholds: [Float] = [-.infinity, -0.5, -0.0, 0, 0.25, 0.5, 0.999, .infinity, .nan]

  @Test("one threshold: the indices a plain filter finds", arguments: [false, true])
  func oneThreshold(vectorized: Bool) {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    for (number, length) in Self.lengths.enumerated() {
      let scores = Self.scores(count: length, seed: UInt64(number))
      for threshold in Self.thresholds {
        let expected = scores.indices.filter { scores[$0] >= threshold }
        let found = scores.withUnsafeBufferPointer {
          SelectionKernels.indices(of: $0, atLeast: threshold)
        }
        #expect(found == expected, "length \(length), threshold \(threshold)")
      }
    }
  }

  @Test("a threshold per score: the indices a plain filter finds", arguments: [false, true])
  func thresholdPerScore(vectorized: Bool) {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    for (number, length) in Self.lengths.enumerated() {
      let scores = Self.scores(count: length, seed: UInt64(100 + number))
      // Thresholds drawn like the scores, so that many are equal to their score.
      let limits = Self.scores(count: length, seed: UInt64(200 + number)).enumerated().map {
        $0.offset % 3 == 0 ? scores[$0.offset] : $0.element
      }
      let expected = scores.indices.filter { scores[$0] >= limits[$0] }
      let found = scores.withUnsafeBufferPointer { scores in
        limits.withUnsafeBufferPointer { SelectionKernels.indices(of: scores, atLeast: $0) }
      }
      #expect(found == expected, "length \(length)")
    }
  }

  /// A sparse row: `count` distinct ascending columns below `vocabulary`, every third taken
  /// from `shared` when given, with values in (0, 1].
  static func sparseRow(
    count: Int, vocabulary: Int, sharing shared: [Int32] = [], generator: inout SeededGenerator
  ) -> (columns: [Int32], values: [Float]) {
    var columns = Set<Int32>()
    var draws = 0
    while columns.count < count {
      draws += 1
      let pick = !shared.isEmpty && draws % 3 == 0
      columns.insert(
        pick
          ? shared[Int(generator.next() % UInt64(shared.count))]
          : Int32(generator.next() % UInt64(vocabulary)))
    }
    let values = (0..<count).map { _ in Float(generator.next() % 1_000 + 1) / 1_000 }
    return (columns.sorted(), values)
  }

  /// The dot product as `SparseMatrix.dot`'s merge computes it, spelled out: the products of
  /// shared columns added in the row's column order, each operation rounded on its own.
  static func mergedDot(
    _ query: (columns: [Int32], values: [Float]), _ row: (columns: [Int32], values: [Float])
  ) -> Float {
    let values = Dictionary(uniqueKeysWithValues: zip(query.columns, query.values))
    var sum: Float = 0
    for (column, value) in zip(row.columns, row.values) {
      if let queryValue = values[column] { sum += value * queryValue }
    }
    return sum
  }

  @Test(
    "sparse dots: the marked kernel adds what the merge adds, in its order, to the bit",
    arguments: [false, true], [50_000, 3_000_000])
  func sparseDots(vectorized: Bool, vocabulary: Int) throws {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    var generator = SeededGenerator(seed: UInt64(vocabulary))
    // The larger vocabulary makes false positives of the filter (about one per row of 1,000
    // entries), the smaller one rows that share most of their terms.
    let marked = MarkedRow(columns: vocabulary)
    for (number, queryLength) in [180, 1, 33].enumerated() {
      let query = Self.sparseRow(count: queryLength, vocabulary: vocabulary, generator: &generator)
      query.columns.withUnsafeBufferPointer { columns in
        query.values.withUnsafeBufferPointer { marked.hold(columns: columns, values: $0) }
      }
      var rows = [(columns: [Int32], values: [Float])]()
      for length in Self.lengths {
        rows.append(
          Self.sparseRow(
            count: length, vocabulary: vocabulary, sharing: query.columns, generator: &generator))
      }
      // The rows as a matrix, for the merge itself.
      var offsets: [Int64] = [0]
      for row in rows { offsets.append(offsets.last! + Int64(row.columns.count)) }
      let matrix = try SparseMatrix(
        rows: rows.count, columns: vocabulary, rowOffsets: offsets,
        columnIndices: rows.flatMap(\.columns), values: rows.flatMap(\.values))
      for (index, row) in rows.enumerated() {
        let length = row.columns.count
        let viaMarks = row.columns.withUnsafeBufferPointer { columns in
          row.values.withUnsafeBufferPointer { marked.dot(columns: columns, values: $0) }
        }
        let merged = query.columns.withUnsafeBufferPointer { columns in
          query.values.withUnsafeBufferPointer {
            SparseMatrix.dot(columns, $0, with: matrix, row: index)
          }
        }
        let spelled = Self.mergedDot(query, row)
        let label = "query \(number), length \(length)"
        #expect(viaMarks.bitPattern == spelled.bitPattern, "\(label)")
        #expect(merged.bitPattern == spelled.bitPattern, "\(label)")
        // Against the sum in Double: each addition rounds to half an ulp of the running sum.
        let values = Dictionary(uniqueKeysWithValues: zip(query.columns, query.values))
        var exact = 0.0
        for (column, value) in zip(row.columns, row.values) {
          exact += Double(value) * Double(values[column] ?? 0)
        }
        let tolerance = exact * Double(length + 1) * Double(Float.ulpOfOne)
        #expect(abs(Double(spelled) - exact) <= tolerance, "\(label)")
        if length >= 3 { #expect(exact > 0, "\(label): the rows share terms") }
      }
      query.columns.withUnsafeBufferPointer { marked.release(columns: $0) }
      // Released: nothing is held, so every product is zero.
      let probe = Self.sparseRow(
        count: 100, vocabulary: vocabulary, sharing: query.columns, generator: &generator)
      let released = probe.columns.withUnsafeBufferPointer { columns in
        probe.values.withUnsafeBufferPointer { marked.dot(columns: columns, values: $0) }
      }
      #expect(released == 0)
    }
  }

  @Test("a paper's TF-IDF cosine is the same in neighbors, related and rowDot")
  func cosinesAgreeAcrossPaths() throws {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 20
    let index = try PaperIndex(PaperIndexTests.papers, configuration: configuration)
    // With α = 0 and no feedback the hybrid score is the TF-IDF cosine alone.
    let graph = try index.neighbors(count: 5, alpha: 0, feedback: nil, candidates: index.count)
    for row in 0..<index.count where !index.isEmptyRow(row) {
      for neighbor in graph[row] {
        let cosine = index.tfidf.rowDot(row, neighbor.position)
        #expect(neighbor.score.bitPattern == cosine.bitPattern, "row \(row)")
      }
    }
  }

  @Test("the all-pairs graph is the same with either kernel")
  func graphsAgree() {
    let vectors = clusteredUnitVectors(
      count: 1_300, dimensions: 16, clusters: 20, noise: 1.0, seed: 5)
    let index = ExactNeighborIndex(vectors)
    SelectionKernels.useVectorized(false)
    let portable = index.neighbors(ofRows: 0..<vectors.rows, count: 10, isEligible: nil)
    SelectionKernels.useVectorized(true)
    let chosen = index.neighbors(ofRows: 0..<vectors.rows, count: 10, isEligible: nil)
    #expect(portable == chosen)
  }
}
