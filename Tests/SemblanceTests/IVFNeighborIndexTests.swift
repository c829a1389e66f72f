import Foundation
import Testing

@testable import Semblance

/// IVFNeighborIndex on synthetic clustered unit vectors: recall of the calibrated nprobe,
/// exactness when every list is probed, batch against single queries, determinism and the
/// structure of the lists.
@Suite("IVFNeighborIndex")
struct IVFNeighborIndexTests {
  /// 12,000 vectors in 64 dimensions around 150 overlapping centres (seed 11).
  static let vectors = clusteredUnitVectors(
    count: 12_000, dimensions: 64, clusters: 150, noise: 1.2, seed: 11)
  static let ivf = try! IVFNeighborIndex(vectors, configuration: .init(seed: 3))
  /// A small set for the exhaustive checks: 3,000 vectors in 32 dimensions (seed 5).
  static let small = clusteredUnitVectors(
    count: 3_000, dimensions: 32, clusters: 40, noise: 1.2, seed: 5)
  static let smallIVF = try! IVFNeighborIndex(small, configuration: .init(seed: 1))

  static func sample(_ count: Int, of n: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    return KMeansPlusPlus.uniformSample(count, of: n, using: &generator)
  }

  @Test("the calibrated nprobe reaches recall@10 ≥ 0.95 on queries it was not calibrated on")
  func calibratedRecall() throws {
    let ivf = Self.ivf
    #expect(ivf.listCount == 438)  // round(4·√12000)
    #expect(ivf.nprobe > 1 && ivf.nprobe < ivf.listCount)
    #expect(try #require(ivf.calibratedRecall) >= 0.95)
    // Held-out queries (another seed than calibration's), through the single-query path.
    let queries = Self.sample(1_000, of: Self.vectors.rows, seed: 99)
    let exact = ExactNeighborIndex(Self.vectors)
    let truth = exact.neighbors(ofRows: queries, count: 10)
    let found = queries.map { ivf.search(Self.vectors.row($0), count: 10, excluding: $0) }
    let recall = meanRecall(found, truth: truth)
    #expect(recall >= 0.95, "held-out recall@10 \(recall) at nprobe \(ivf.nprobe), seed 99")
    // Half the lists' worth of probes is measurably worse: calibration did not overshoot.
    let fewer = queries.map {
      ivf.search(Self.vectors.row($0), count: 10, excluding: $0, nprobe: ivf.nprobe / 2)
    }
    #expect(meanRecall(fewer, truth: truth) < recall)
  }

  @Test("probing every list gives the exact results, one query at a time and in a batch")
  func everyListIsExact() throws {
    let ivf = Self.smallIVF
    let exact = ExactNeighborIndex(Self.small)
    let queries = Self.sample(300, of: Self.small.rows, seed: 4)
    let truth = exact.neighbors(ofRows: queries, count: 10)
    let batch = ivf.neighbors(
      ofRows: queries, in: Self.small, count: 10, nprobe: ivf.listCount, excluding: { $0 },
      isEligible: nil)
    for (index, row) in queries.enumerated() {
      let single = ivf.search(Self.small.row(row), count: 10, excluding: row, nprobe: ivf.listCount)
      for found in [single, batch[index]] {
        #expect(found.map(\.position) == truth[index].map(\.position), "query row \(row)")
        for (a, b) in zip(found, truth[index]) { #expect(abs(a.score - b.score) < 1e-5) }
      }
    }
  }

  @Test("a batch gives every query the answers it gets alone", arguments: [1, nil] as [Int?])
  func batchMatchesSingle(nprobe: Int?) throws {
    let ivf = Self.smallIVF
    let queries = Self.sample(400, of: Self.small.rows, seed: 8)
    let batch = ivf.neighbors(
      ofRows: queries, in: Self.small, count: 10, nprobe: nprobe, excluding: { $0 },
      isEligible: { $0 % 7 != 0 })
    for (index, row) in queries.enumerated() {
      let single = Self.small.row(row).withUnsafeBufferPointer {
        ivf.search(
          $0.baseAddress!, count: 10, excluding: row, nprobe: nprobe, isEligible: { $0 % 7 != 0 })
      }
      #expect(batch[index].map(\.position) == single.map(\.position), "query row \(row)")
      #expect(!single.contains { $0.position == row || $0.position % 7 == 0 })
      for (a, b) in zip(batch[index], single) { #expect(abs(a.score - b.score) < 1e-5) }
    }
  }

  @Test("the all-pairs graph is in original row order and never lists a row itself")
  func allPairs() throws {
    let ivf = Self.smallIVF
    let graph = ivf.neighbors(count: 5)
    #expect(graph.count == Self.small.rows)
    for row in Self.sample(200, of: Self.small.rows, seed: 2) {
      let single = ivf.search(Self.small.row(row), count: 5, excluding: row)
      #expect(graph[row].map(\.position) == single.map(\.position))
    }
    #expect(graph.enumerated().allSatisfy { row, list in !list.contains { $0.position == row } })
    let batch = ivf.search(Self.small, count: 3)
    #expect(batch[17].first?.position == 17)  // without exclusion a vector finds itself
  }

  @Test("unordered batch lists hold the ordered lists' pairs, the same way every time")
  func unorderedBatch() {
    let ivf = Self.smallIVF
    let rows = 0..<Self.small.rows
    func lists(ordered: Bool) -> [[Neighbor]] {
      ivf.neighbors(
        ofRows: rows, in: Self.small, count: 100, nprobe: nil, excluding: { $0 },
        isEligible: nil, ordered: ordered)
    }
    let ordered = lists(ordered: true), unordered = lists(ordered: false)
    #expect(unordered == lists(ordered: false))
    let best: (Neighbor, Neighbor) -> Bool = {
      $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position)
    }
    #expect(unordered.map { $0.sorted(by: best) } == ordered)
    #expect(zip(unordered, ordered).contains { $0 != $1 })
  }

  @Test("a query probes more lists when its nearest ones hold fewer than count vectors")
  func enoughCandidates() throws {
    let ivf = Self.smallIVF
    let row = 123
    let results = ivf.search(Self.small.row(row), count: 500, excluding: row, nprobe: 1)
    #expect(results.count == 500)
    #expect(!results.contains { $0.position == row })
    #expect(results.map(\.score) == results.map(\.score).sorted(by: >))
    let batch = ivf.neighbors(
      ofRows: [row], in: Self.small, count: 500, nprobe: 1, excluding: { $0 }, isEligible: nil)
    #expect(batch[0].map(\.position) == results.map(\.position))
  }

  @Test("lists are contiguous, hold every row once, and each row sits in its nearest list")
  func structure() throws {
    let ivf = Self.smallIVF
    #expect(ivf.listCount == 219)  // round(4·√3000)
    var seen = Set<Int>()
    var listOf = [Int](repeating: -1, count: Self.small.rows)
    for list in 0..<ivf.listCount {
      let rows = ivf.rows(inList: list)
      #expect(rows == rows.sorted())
      for (offset, row) in rows.enumerated() {
        #expect(seen.insert(row).inserted)
        listOf[row] = list
        let stored = ivf.listVectors.row(ivf.listRange(list).lowerBound + offset)
        #expect(stored == Self.small.row(row))
      }
    }
    #expect(seen.count == Self.small.rows)
    #expect(SphericalKMeans.nearest(Self.small, ivf.centroids) == listOf)
  }

  @Test("the same vectors and seed give the same index; another seed another one")
  func determinism() throws {
    let again = try IVFNeighborIndex(Self.small, configuration: .init(seed: 1))
    let ivf = Self.smallIVF
    #expect(again.centroids.elements == ivf.centroids.elements)
    #expect(again.rowIDs.array == ivf.rowIDs.array)
    #expect(again.listOffsets.array == ivf.listOffsets.array)
    #expect(again.nprobe == ivf.nprobe && again.calibratedRecall == ivf.calibratedRecall)
    let other = try IVFNeighborIndex(Self.small, configuration: .init(nprobe: 4, seed: 2))
    #expect(other.centroids.elements != ivf.centroids.elements)
    #expect(other.nprobe == 4 && other.calibratedRecall == nil)
  }

  @Test("added vectors are filed under their nearest lists, after the rows already there")
  func adding() throws {
    let all = Self.small, first = 2_500
    let head = DenseMatrix(rows: first, columns: all.columns, storage: Storage(all.elements.prefix(first * all.columns)))
    let tail = DenseMatrix(rows: all.rows - first, columns: all.columns, storage: Storage(all.elements.dropFirst(first * all.columns)))
    let ivf = try IVFNeighborIndex(head, configuration: .init(nprobe: 5, seed: 1))
    let grown = ivf.adding(tail)
    #expect(grown.count == all.rows && grown.nprobe == 5 && grown.listCount == ivf.listCount)
    // The parts pass the checks a loaded index gets.
    _ = try IVFNeighborIndex(
      centroids: grown.centroids, listOffsets: grown.listOffsets, rowIDs: grown.rowIDs,
      listVectors: grown.listVectors, nprobe: grown.nprobe, calibratedRecall: nil)
    let nearest = SphericalKMeans.nearest(all, grown.centroids)
    for list in 0..<grown.listCount {
      let rows = grown.rows(inList: list)
      #expect(rows == rows.sorted())
      #expect(rows.filter { $0 < first } == ivf.rows(inList: list))
      #expect(rows.filter { $0 >= first }.allSatisfy { nearest[$0] == list })
      for (offset, row) in rows.enumerated() {
        #expect(grown.listVectors.row(grown.listRange(list).lowerBound + offset) == all.row(row))
      }
    }
    let exact = ExactNeighborIndex(all)
    for row in [0, 1_234, 2_500, 2_999] {
      let found = grown.search(all.row(row), count: 8, excluding: row, nprobe: grown.listCount)
      #expect(found.map(\.position) == exact.search(all.row(row), count: 8, excluding: row).map(\.position))
    }
  }

  @Test("options out of range and empty input are rejected")
  func invalid() throws {
    let vectors = Self.small
    for configuration: IVFNeighborIndex.Configuration in [
      .init(lists: 0), .init(lists: vectors.rows + 1), .init(trainingSize: 0),
      .init(iterations: 0), .init(nprobe: 0), .init(targetRecall: 1.5),
      .init(calibrationQueries: 0),
    ] {
      #expect(throws: ConfigurationError.self) {
        try IVFNeighborIndex(vectors, configuration: configuration)
      }
    }
    let empty = try DenseMatrix(rows: 0, columns: 4, elements: [])
    #expect(throws: ClusteringError.self) { try IVFNeighborIndex(empty) }
    // A single vector: one list, and nothing else to find.
    let one = try DenseMatrix(rows: 1, columns: 3, elements: [1, 0, 0])
    let tiny = try IVFNeighborIndex(one)
    #expect(tiny.listCount == 1 && tiny.nprobe == 1)
    #expect(tiny.search([1, 0, 0], count: 3, excluding: 0).isEmpty)
    #expect(tiny.search([1, 0, 0], count: 3).map(\.position) == [0])
  }
}

extension SphericalKMeans {
  /// The most similar of `centroids`' rows for every row of `points` (ties: the lower one).
  static func nearest(_ points: DenseMatrix, _ centroids: DenseMatrix) -> [Int] {
    var labels = [Int](repeating: 0, count: points.rows)
    var scores = [Float](repeating: 0, count: points.rows)
    NearestCentroid.assign(
      points, centroids: centroids.elements, count: centroids.rows, labels: &labels,
      scores: &scores)
    return labels
  }
}
