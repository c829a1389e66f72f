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

  @Test("bitmap membership: the indices a plain test finds", arguments: [false, true])
  func bitmapMembership(vectorized: Bool) {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    var generator = SeededGenerator(seed: 9)
    let columnCount = 5_000
    for (number, length) in Self.lengths.enumerated() {
      // Every column's bit set with probability 1/(number + 2), including columns 0, 63, 64
      // and the last, at word edges.
      var bitmap = [UInt64](repeating: 0, count: (columnCount + 63) / 64)
      for column in 0..<columnCount where generator.next() % UInt64(number + 2) == 0 {
        bitmap[column >> 6] |= 1 << UInt64(column & 63)
      }
      let edges: [Int32] = [0, 63, 64, Int32(columnCount - 1)]
      let columns = (0..<length).map { i in
        i % 9 == 0 ? edges[i / 9 % edges.count] : Int32(generator.next() % UInt64(columnCount))
      }
      let expected = columns.indices.filter {
        bitmap[Int(columns[$0]) >> 6] & (1 << UInt64(columns[$0] & 63)) != 0
      }
      let found = columns.withUnsafeBufferPointer {
        SelectionKernels.indices(of: $0, inBitmap: bitmap)
      }
      #expect(found == expected, "length \(length)")
    }
  }

  @Test("hashed filter membership: the indices a plain test finds", arguments: [false, true])
  func filterMembership(vectorized: Bool) {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    var generator = SeededGenerator(seed: 13)
    let bits = 1 << SEMBLANCE_FILTER_BITS
    for (number, length) in Self.lengths.enumerated() {
      // Columns across a vocabulary of millions, including the largest Int32.
      let columns = (0..<length).map { i in
        i % 11 == 0 ? Int32.max - Int32(i) : Int32(generator.next() % 4_000_000)
      }
      var filter = [UInt64](repeating: 0, count: bits / 64)
      for column in columns where generator.next() % UInt64(number + 2) == 0 {
        let bit = Int(semblance_filter_bit(column))
        filter[bit >> 6] |= 1 << UInt64(bit & 63)
      }
      let expected = columns.indices.filter {
        let bit = Int(semblance_filter_bit(columns[$0]))
        return filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0
      }
      let found = columns.withUnsafeBufferPointer {
        SelectionKernels.indices(of: $0, inFilter: filter)
      }
      #expect(found == expected, "length \(length)")
    }
  }

  @Test("term marks: every marked term is a hit, exact or hashed", arguments: [false, true])
  func termMarks(hashed: Bool) {
    var generator = SeededGenerator(seed: 17)
    let vocabulary = 3_000_000
    var marks = TermMarks(columns: vocabulary, hashed: hashed)
    let paper = Set((0..<180).map { _ in Int32(generator.next() % UInt64(vocabulary)) })
    for column in paper { marks.mark(column) }
    let other = (0..<400).map { i in
      i % 3 == 0 ? Array(paper)[i % paper.count] : Int32(generator.next() % UInt64(vocabulary))
    }
    let hits = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: other.count + 16)
    defer { hits.deallocate() }
    let found = other.withUnsafeBufferPointer { other in
      marks.withHits { hitsOf in hitsOf(other.baseAddress!, other.count, hits) }
    }
    let listed = Set(hits[0..<found].map { Int($0) })
    let members = other.indices.filter { paper.contains(other[$0]) }
    // No member is missed; without hashing nothing else is listed, and with it few are.
    #expect(members.allSatisfy(listed.contains))
    if hashed {
      #expect(listed.count - members.count <= 4)
    } else {
      #expect(listed.count == members.count)
    }
    // Clearing every marked term empties the marks.
    for column in paper { marks.clear(column) }
    let after = other.withUnsafeBufferPointer { other in
      marks.withHits { hitsOf in hitsOf(other.baseAddress!, other.count, hits) }
    }
    #expect(after == 0)
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
