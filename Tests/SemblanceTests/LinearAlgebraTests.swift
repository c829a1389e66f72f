import Foundation
import Testing

@testable import Semblance

/// The BLAS and LAPACK wrappers and the sparse kernels, each against a naive loop.
///
/// Tolerance: Float32 products of length k accumulate rounding of about k·2⁻²⁴ relative to
/// the sum of |terms|; 1e-4 absolute on unit-variance inputs with k ≤ 70 leaves ample margin.
@Suite("Linear algebra")
struct LinearAlgebraTests {
  static func naiveProduct(
    _ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
  ) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var sum: Double = 0
        for p in 0..<k {
          let x = transposeA ? a[p * m + i] : a[i * k + p]
          let y = transposeB ? b[j * k + p] : b[p * n + j]
          sum += Double(x) * Double(y)
        }
        c[i * n + j] = Float(sum)
      }
    }
    return c
  }

  @Test("sgemm matches a naive product", arguments: [(false, false), (true, false), (false, true), (true, true)])
  func sgemm(transposeA: Bool, transposeB: Bool) {
    let m = 37, n = 23, k = 61
    let a = randomMatrix(rows: m, columns: k, seed: 1)
    let b = randomMatrix(rows: k, columns: n, seed: 2)
    var c = [Float](repeating: 0, count: m * n)
    BLAS.sgemm(
      transposeA ? .transposed : .none, transposeB ? .transposed : .none, m: m, n: n, k: k,
      a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, c: &c, ldc: n)
    let expected = Self.naiveProduct(
      a, b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
    for (x, y) in zip(c, expected) { #expect(abs(x - y) < 1e-4) }
  }

  @Test func dgemmAndSgemv() {
    let m = 19, n = 13
    let a = randomMatrix(rows: m, columns: n, seed: 3)
    let x = randomMatrix(rows: n, columns: 1, seed: 4)
    var y = [Float](repeating: 0, count: m)
    BLAS.sgemv(.none, m: m, n: n, a: a, lda: n, x: x, y: &y)
    let expected = Self.naiveProduct(a, x, m: m, n: 1, k: n, transposeA: false, transposeB: false)
    for (u, v) in zip(y, expected) { #expect(abs(u - v) < 1e-5) }

    let ad = a.map(Double.init)
    var g = [Double](repeating: 0, count: n * n)
    BLAS.dgemm(.transposed, .none, m: n, n: n, k: m, a: ad, lda: n, b: ad, ldb: n, c: &g, ldc: n)
    for i in 0..<n {
      for j in 0..<n {
        var sum: Double = 0
        for p in 0..<m { sum += ad[p * n + i] * ad[p * n + j] }
        #expect(abs(g[i * n + j] - sum) < 1e-9)
      }
    }
    #expect(abs(BLAS.sdot(count: n, x, x) - x.reduce(0) { $0 + $1 * $1 }) < 1e-4)
  }

  @Test func orthonormalizeColumnsKeepsTheSpan() throws {
    let rows = 50, columns = 7
    let original = randomMatrix(rows: rows, columns: columns, seed: 5)
    var q = original
    try LAPACK.orthonormalizeColumns(&q, rows: rows, columns: columns)
    // QᵀQ = I.
    let gram = Self.naiveProduct(q, q, m: columns, n: columns, k: rows, transposeA: true, transposeB: false)
    for i in 0..<columns {
      for j in 0..<columns { #expect(abs(gram[i * columns + j] - (i == j ? 1 : 0)) < 1e-5) }
    }
    // Q Qᵀ A = A: the original columns lie in the span of Q.
    let qta = Self.naiveProduct(q, original, m: columns, n: columns, k: rows, transposeA: true, transposeB: false)
    let projected = Self.naiveProduct(q, qta, m: rows, n: columns, k: columns, transposeA: false, transposeB: false)
    for (x, y) in zip(projected, original) { #expect(abs(x - y) < 1e-4) }
  }

  @Test func symmetricEigenSatisfiesTheDefinition() throws {
    let n = 9
    let a = randomMatrix(rows: n, columns: n, seed: 6).map(Double.init)
    var symmetric = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { symmetric[i * n + j] = a[i * n + j] + a[j * n + i] } }
    var vectors = symmetric
    let values = try LAPACK.symmetricEigen(&vectors, order: n)
    #expect(values == values.sorted())
    for j in 0..<n {
      for i in 0..<n {
        var av: Double = 0
        for p in 0..<n { av += symmetric[i * n + p] * vectors[j * n + p] }
        #expect(abs(av - values[j] * vectors[j * n + i]) < 1e-9)
      }
    }
  }

  @Test("sparse × dense and its transpose match dense products", arguments: [0, 1, 2] as [UInt64])
  func sparseProducts(seed: UInt64) throws {
    // Enough rows to take the parallel path.
    let x = try randomSparse(rows: 700, columns: 90, density: 0.05, seed: seed)
    let b = try DenseMatrix(rows: 90, columns: 11, elements: randomMatrix(rows: 90, columns: 11, seed: seed + 10))
    let expected = Self.naiveProduct(dense(x), b.elements, m: 700, n: 11, k: 90, transposeA: false, transposeB: false)
    for (u, v) in zip(x.multiplied(by: b).elements, expected) { #expect(abs(u - v) < 1e-4) }

    let c = try DenseMatrix(rows: 700, columns: 5, elements: randomMatrix(rows: 700, columns: 5, seed: seed + 20))
    let expectedT = Self.naiveProduct(dense(x), c.elements, m: 90, n: 5, k: 700, transposeA: true, transposeB: false)
    for (u, v) in zip(x.transposedMultiplied(by: c).elements, expectedT) { #expect(abs(u - v) < 1e-3) }

    let xt = x.transposed()
    #expect(dense(xt.transposed()) == dense(x))
    try xt.validate()
  }

  @Test("the transpose is the same whatever the number of tasks building it", arguments: [2, 3, 7])
  func transposeOnManyTasks(tasks: Int) throws {
    // Rows of very different lengths (some empty), so the tasks' row ranges are uneven.
    var generator = SeededGenerator(seed: UInt64(tasks))
    var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
    for row in 0..<400 {
      let length = row % 9 == 0 ? 0 : Int(generator.next() % 40)
      let columns = Set((0..<length).map { _ in Int32(generator.next() % 250) }).sorted()
      indices += columns
      values += columns.map { Float($0) + Float(row) / 1000 }
      offsets.append(Int64(indices.count))
    }
    let x = try SparseMatrix(
      rows: 400, columns: 250, rowOffsets: offsets, columnIndices: indices, values: values)
    let serial = x.transposed(tasks: 1)
    #expect(dense(serial.transposed(tasks: 1)) == dense(x))
    let parallel = x.transposed(tasks: tasks)
    try parallel.validate()
    #expect(mismatches(parallel.offsets.buffer, serial.offsets.buffer) == 0)
    #expect(mismatches(parallel.indices.buffer, serial.indices.buffer) == 0)
    #expect(mismatches(parallel.storedValues.buffer, serial.storedValues.buffer) == 0)
  }

  @Test func sparseMatrixRejectsInconsistentArrays() {
    #expect(throws: LinearAlgebraError.self) {
      try SparseMatrix(rows: 2, columns: 3, rowOffsets: [0, 2], columnIndices: [0, 1], values: [1, 1])
    }
    #expect(throws: LinearAlgebraError.self) {
      try SparseMatrix(rows: 1, columns: 3, rowOffsets: [0, 2], columnIndices: [1, 1], values: [1, 1])
    }
    #expect(throws: LinearAlgebraError.self) {
      try SparseMatrix(rows: 1, columns: 3, rowOffsets: [0, 1], columnIndices: [3], values: [1])
    }
    #expect(throws: LinearAlgebraError.self) {
      try SparseMatrix(rows: 1, columns: 3, rowOffsets: [0, 1], columnIndices: [0], values: [.nan])
    }
    #expect(throws: LinearAlgebraError.self) {
      try DenseMatrix(rows: 2, columns: 2, elements: [1, 2, 3])
    }
  }

  @Test(
    "validation by blocks on every core reports every block once, in order, and the first bad row")
  func blockValidation() throws {
    let good = try randomSparse(rows: 600, columns: 300, density: 0.1, seed: 41)
    let offsets = good.offsets.array, indices = good.indices.array
    let values = good.storedValues.array
    func matrix(indices: [Int32], values: [Float]) throws -> SparseMatrix {
      try SparseMatrix(
        rows: 600, columns: 300, offsets: Storage(offsets), indices: Storage(indices),
        values: Storage(values), validate: false)
    }
    for block in [1, 1_000, 5_000, indices.count] {
      var blocks: [Range<Int>] = []
      try good.validate(block: block) { blocks.append($0) }
      #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == indices.count)
      #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
      #expect(blocks.allSatisfy { !$0.isEmpty })
    }
    // A repeated column in every fifth row from 200 on, and a later infinite value: wherever
    // a block's rows are split between cores, both parts hold defects; the first is named.
    var broken = indices, brokenValues = values
    for row in stride(from: 200, to: 600, by: 5) {
      let start = Int(offsets[row])
      broken[start + 1] = broken[start]  // a repeated column
    }
    brokenValues[Int(offsets[580])] = .infinity
    for block in [1, 1_000, 5_000, indices.count] {
      var checked = 0
      do {
        try matrix(indices: broken, values: brokenValues).validate(block: block) {
          checked = $0.upperBound
        }
        Issue.record("the defects were not found with blocks of \(block)")
      } catch let error as LinearAlgebraError {
        #expect("\(error)".contains("row 200"), "blocks of \(block): \(error)")
        #expect(checked <= Int(offsets[200]), "blocks of \(block)")
      }
    }
    #expect(throws: LinearAlgebraError.self) {
      try matrix(indices: indices, values: brokenValues).validate(block: 1_000)
    }
  }

  /// An intermediate offset past the non-zeros used to be read through before the decrease
  /// after it was noticed: out of bounds, a trap in debug builds and a wild read otherwise.
  @Test("a row offset beyond the non-zeros is rejected before anything is read",
    arguments: [[0, 3, 2], [0, 1_000_000, 2], [0, Int64.max, 2], [0, 2, -1]] as [[Int64]])
  func sparseMatrixRejectsOffsetsPastTheEnd(offsets: [Int64]) {
    #expect(throws: LinearAlgebraError.self) {
      try SparseMatrix(rows: 2, columns: 3, rowOffsets: offsets, columnIndices: [0, 1], values: [1, 1])
    }
  }

  @Test("top-k keeps exactly the best pairs, ties to the lower position, whatever the order",
    arguments: [1, 3, 10, 100])
  func topKMatchesSorting(capacity: Int) {
    var generator = SeededGenerator(seed: UInt64(capacity))
    for trial in 0..<20 {
      let count = [0, 1, capacity, 2 * capacity, 5 * capacity + 7, 3_000][trial % 6]
      // Few distinct scores, so that ties are common; positions are distinct.
      let pairs = (0..<count).map { position in
        (Int32(position), Float(generator.next() % 17) / 16)
      }.shuffled(using: &generator)
      var top = TopK(capacity: capacity)
      for (position, score) in pairs { top.insert(score, position) }
      let expected = pairs.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        .prefix(capacity).map { Neighbor(position: Int($0.0), score: $0.1) }
      #expect(top.sorted() == Array(expected))
      // Reuse after removeAll starts afresh.
      top.removeAll()
      top.insert(-5, 7)
      #expect(top.sorted() == [Neighbor(position: 7, score: -5)])
    }
  }

  @Test func topKBreaksTiesByLowerPosition() {
    var top = TopK(capacity: 3)
    for (position, score) in [(5, 0.5), (1, 0.5), (3, 0.9), (0, 0.1), (2, 0.5)] as [(Int32, Float)] {
      top.insert(score, position)
    }
    #expect(top.sorted() == [
      Neighbor(position: 3, score: 0.9), Neighbor(position: 1, score: 0.5),
      Neighbor(position: 2, score: 0.5),
    ])
  }
}
