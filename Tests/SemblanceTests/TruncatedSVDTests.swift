import Foundation
import Testing

@testable import Semblance

/// LSA against scipy's exact SVD (fixtures from make_fixtures.py).
@Suite("Truncated SVD")
struct TruncatedSVDTests {
  struct Reference {
    var singularValuesAll: [Double]
    var singularValues: [Double]
    var u: [[Double]]
    var peaks: [(Int, Double)]
    var explainedVarianceRatio: [Double]
  }

  static func reference(_ name: String) throws -> Reference {
    let object = try #require(try TestSupport.json(name) as? [String: Any])
    let peaks = try #require(object["component_peaks"] as? [[Double]])
    return Reference(
      singularValuesAll: try #require(object["singular_values_all"] as? [Double]),
      singularValues: try #require(object["singular_values"] as? [Double]),
      u: try #require(object["u"] as? [[Double]]),
      peaks: peaks.map { (Int($0[0]), $0[1]) },
      explainedVarianceRatio: try #require(object["explained_variance_ratio"] as? [Double]))
  }

  static func matrix(_ configuration: IndexConfiguration) throws -> SparseMatrix {
    try TfidfVectorizer.fit(
      TestSupport.fixturePapers(), configuration: configuration.vectorizerConfiguration
    ).matrix
  }

  /// The cosines of the principal angles between the column spans of two n × k matrices
  /// with orthonormal columns: the singular values of AᵀB, from the eigenvalues of (AᵀB)ᵀ(AᵀB).
  static func principalCosines(_ a: [[Double]], _ b: [[Double]]) throws -> [Double] {
    let k = a[0].count
    var m = [Double](repeating: 0, count: k * k)
    for i in 0..<k { for j in 0..<k { for r in 0..<a.count { m[i * k + j] += a[r][i] * b[r][j] } } }
    var g = [Double](repeating: 0, count: k * k)
    for i in 0..<k { for j in 0..<k { for p in 0..<k { g[i * k + j] += m[p * k + i] * m[p * k + j] } } }
    return try LAPACK.symmetricEigen(&g, order: k).map { max($0, 0).squareRoot() }
  }

  /// U from the unnormalised coordinates U Σ.
  static func leftVectors(_ embeddings: DenseMatrix, _ singularValues: [Float]) -> [[Double]] {
    (0..<embeddings.rows).map { row in
      (0..<embeddings.columns).map { Double(embeddings[row, $0]) / Double(singularValues[$0]) }
    }
  }

  /// The two analysis modes with their scipy fixtures.
  enum Mode: String, CaseIterable {
    case scikitLearnCompatible = "svd_sklearn_compatible.json"
    case `default` = "svd_default.json"

    var configuration: IndexConfiguration {
      self == .default ? .default : .scikitLearnCompatible
    }
  }

  @Test("exact and randomized SVD match scipy", arguments: Mode.allCases, [TruncatedSVD.Algorithm.exact, .randomized])
  func matchesScipy(_ mode: Mode, algorithm: TruncatedSVD.Algorithm) throws {
    let reference = try Self.reference(mode.rawValue)
    let x = try Self.matrix(mode.configuration)
    // The seed corpus's spectrum is nearly flat (σ₂ … σ₂₁ within 25%), the worst case for
    // a randomized range finder, whose error shrinks like (σ_{k+p+1}/σ_k)^(2q+1); so the
    // randomized run gets enough power iterations q to converge. The automatic choice
    // solves this corpus exactly.
    let (svd, embeddings) = try TruncatedSVD.fit(
      x,
      configuration: .init(
        dimensions: 20, powerIterations: algorithm == .randomized ? 60 : nil,
        algorithm: algorithm, seed: 7))
    #expect(svd.algorithm == algorithm)
    #expect(svd.dimensions == 20)
    // Singular values: 1e-3 relative to the largest, the design's parity bound.
    let largest = reference.singularValues[0]
    for (value, expected) in zip(svd.singularValues, reference.singularValues) {
      #expect(abs(Double(value) - expected) <= 1e-3 * largest)
    }
    // Subspace: every principal angle between our U and scipy's has cosine ≥ 0.99.
    let cosines = try Self.principalCosines(Self.leftVectors(embeddings, svd.singularValues), reference.u)
    #expect(cosines.min()! >= 0.99, "smallest principal cosine \(cosines.min()!)")
    if algorithm == .exact {
      // Signs: the peak entry of each component is where scipy's is, and positive.
      for (column, peak) in reference.peaks.enumerated() {
        #expect(abs(Double(svd.components[peak.0, column]) - peak.1) < 1e-4)
      }
      for (ratio, expected) in zip(svd.explainedVarianceRatio, reference.explainedVarianceRatio) {
        #expect(abs(Double(ratio) - expected) < 1e-5)
      }
    }
  }

  @Test("signs fixed on several cores match one core, ties going to the first row", arguments: [2, 3, 8])
  func flipSignsOnManyTasks(tasks: Int) {
    func factors() -> TruncatedSVD.Factors {
      // Magnitudes repeat (ties across the tasks' shares) and signs vary.
      let m = 301, n = 11, k = 4
      let memory = AnonymousMemory(capacity: m * k, of: Float.self)
      let v = UnsafeMutableBufferPointer(start: memory.pointer(to: Float.self), count: m * k)
      for index in 0..<(m * k) { v[index] = Float((index * 7919) % 13 - 6) }
      let (embeddingsMemory, embeddings) = TruncatedSVD.Factors.allocate(n * k)
      for index in 0..<(n * k) { embeddings[index] = Float(index % 5) - 2 }
      return TruncatedSVD.Factors(
        components: v, componentsMemory: memory, embeddings: embeddings,
        embeddingsMemory: embeddingsMemory, singularValues: [4, 3, 2, 1], terms: m, documents: n,
        k: k)
    }
    let original = factors()
    var serial = factors(), parallel = factors(), recorded = factors()
    serial.flipSigns(tasks: 1)
    parallel.flipSigns(tasks: tasks)
    #expect(mismatches(parallel.components, serial.components) == 0)
    #expect(mismatches(parallel.embeddings, serial.embeddings) == 0)
    // Peaks recorded by V's writer (shares of rows, merged) give the same signs.
    recorded.columnPeaks = TruncatedSVD.ColumnPeaks.merged(
      stride(from: 0, to: recorded.terms, by: 37).map { start in
        TruncatedSVD.ColumnPeaks(
          of: UnsafePointer(recorded.components.baseAddress!),
          rows: start..<min(start + 37, recorded.terms), width: recorded.k)
      })
    recorded.flipSigns(tasks: tasks)
    #expect(mismatches(recorded.components, serial.components) == 0)
    #expect(mismatches(recorded.embeddings, serial.embeddings) == 0)
    #expect(Array(serial.embeddings) != Array(original.embeddings))
    #expect(Array(serial.components) != Array(original.components))  // some column flipped
    withExtendedLifetime(original) {}
  }

  @Test("V from X's rows equals Xᵀ E scaled by column, for any split of the terms", arguments: [1, 2, 5])
  func projectionFromRows(tasks: Int) throws {
    var generator = SeededGenerator(seed: UInt64(tasks))
    let n = 60, m = 45, width = 7  // width not a multiple of 4: the scalar tail runs too
    var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
    for row in 0..<n {
      let columns = row % 7 == 0 ? [] : Set((0..<12).map { _ in Int32(generator.next() % UInt64(m)) }).sorted()
      indices += columns
      values += columns.map { _ in Float(generator.nextUnit()) }
      offsets.append(Int64(indices.count))
    }
    let x = try SparseMatrix(rows: n, columns: m, rowOffsets: offsets, columnIndices: indices, values: values)
    let e = (0..<(n * width)).map { _ in Float(generator.nextGaussian()) }
    let scales = (0..<width).map { Float($0 + 1) / 4 }
    let ranges = x.transposed().balancedRowRanges(parts: tasks)
    var v = [Float](repeating: 0, count: m * width)
    let peaks = e.withUnsafeBufferPointer { e in
      v.withUnsafeMutableBufferPointer { v in
        TruncatedSVD.projectOnTerms(
          fromRowsOf: x, termRanges: ranges, e.baseAddress!, width: width, scales: scales,
          into: v.baseAddress!)
      }
    }
    // The peaks recorded on the way are those of one pass over the finished V.
    let scanned = v.withUnsafeBufferPointer {
      TruncatedSVD.ColumnPeaks(of: $0.baseAddress!, rows: 0..<m, width: width)
    }
    #expect(peaks.magnitude == scanned.magnitude && peaks.negative == scanned.negative)
    // Float32 sums of at most n = 60 products of magnitude ≲ 3: 1e-4 absolute is ample.
    let xDense = dense(x)
    for term in 0..<m {
      for column in 0..<width {
        var sum: Double = 0
        for document in 0..<n { sum += Double(xDense[document * m + term]) * Double(e[document * width + column]) }
        #expect(abs(Double(v[term * width + column]) - sum * Double(scales[column])) < 1e-4)
      }
    }
  }

  /// X Xᵀ Q in double precision from dense X, row-major n × width; with `magnitudes`,
  /// |X| |X|ᵀ |Q| instead (the scale of the rounding error of each entry).
  static func referenceGramProduct(
    _ x: SparseMatrix, _ q: [Float], width: Int, magnitudes: Bool = false
  ) -> [Double] {
    let n = x.rows, m = x.columns
    let xDense = magnitudes ? dense(x).map(abs) : dense(x)
    let q = magnitudes ? q.map(abs) : q
    var z = [Double](repeating: 0, count: m * width)  // Xᵀ Q
    for document in 0..<n {
      for term in 0..<m where xDense[document * m + term] != 0 {
        let value = Double(xDense[document * m + term])
        for column in 0..<width { z[term * width + column] += value * Double(q[document * width + column]) }
      }
    }
    var y = [Double](repeating: 0, count: n * width)
    for document in 0..<n {
      for term in 0..<m where xDense[document * m + term] != 0 {
        let value = Double(xDense[document * m + term])
        for column in 0..<width { y[document * width + column] += value * z[term * width + column] }
      }
    }
    return y
  }

  @Test(
    "the bfloat16 Gram product matches X Xᵀ Q to within its operands' rounding",
    arguments: [3, 10, 16, 20, 32, 45, 138])
  func packedGramProduct(width: Int) throws {
    // At density 0.02 about a sixth of the papers and a quarter of the terms are empty.
    for density in [0.08, 0.02] {
      let x = try randomSparse(rows: 70, columns: 90, density: density, seed: UInt64(width) + 7)
      let q = randomMatrix(rows: x.rows, columns: width, seed: UInt64(width) + 200)
      let product = TruncatedSVD.PackedGramProduct(
        matrix: x, transpose: x.transposed(), width: width)
      var y = [Float](repeating: .nan, count: x.rows * width)
      product.apply(q, into: &y)
      let reference = Self.referenceGramProduct(x, q, width: width)
      let magnitudes = Self.referenceGramProduct(x, q, width: width, magnitudes: true)
      // Q's rows and Z's rows are each rounded to bfloat16 (8 significant bits), a relative
      // error of at most 2⁻⁸ per value, so |Y − X Xᵀ Q| ≤ (2·2⁻⁸ + 2⁻¹⁶) |X| |X|ᵀ |Q|
      // (entrywise), plus Float32 accumulation, far smaller; 2.01·2⁻⁸ leaves room for the
      // latter. Sparse rows, whose one or two terms' errors do not average out, come close.
      var largestRatio: Double = 0
      for index in 0..<y.count {
        let error = abs(Double(y[index]) - reference[index])
        #expect(error <= 2.01 / 256 * magnitudes[index] + 1e-6)
        if magnitudes[index] > 0 { largestRatio = max(largestRatio, error / magnitudes[index]) }
      }
      // And the rounding is really there: not an exact product by another route.
      #expect(largestRatio > 1e-5)
      // The power iterations write each product over its input: the same bits.
      var inPlace = q
      inPlace.withUnsafeMutableBufferPointer { inPlace in
        product.apply(inPlace.baseAddress!, into: inPlace.baseAddress!)
      }
      #expect(mismatches(inPlace, y) == 0)
    }
  }

  @Test(
    "rows normalised in the solver's memory match normalizedRows() of the coordinates",
    arguments: [TruncatedSVD.Algorithm.exact, .randomized])
  func normalizingRowsInPlace(algorithm: TruncatedSVD.Algorithm) throws {
    let x = try randomSparse(rows: 120, columns: 300, density: 0.05, seed: 41)
    let configuration = TruncatedSVD.Configuration(dimensions: 8, algorithm: algorithm, seed: 5)
    let plain = try TruncatedSVD.fit(x, configuration: configuration)
    let normalized = try TruncatedSVD.fit(x, configuration: configuration, normalizingRows: true)
    let expected = plain.embeddings.normalizedRows()
    withExtendedLifetime((expected, normalized, plain)) {
      #expect(mismatches(normalized.embeddings.storage.buffer, expected.storage.buffer) == 0)
      #expect(
        mismatches(normalized.svd.components.storage.buffer, plain.svd.components.storage.buffer)
          == 0)
    }
    #expect(normalized.svd.explainedVarianceRatio == plain.svd.explainedVarianceRatio)
    // Unit rows, unless the row is zero.
    for row in 0..<x.rows {
      let length = normalized.embeddings.rowBuffer(row).reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(abs(length - 1) < 1e-5 || length == 0)
    }
  }

  @Test("explained variance ratios on all cores match a direct computation")
  func explainedVarianceOnManyCores() throws {
    // More than 65,536 non-zeros, so the column sums are split over the cores.
    let x = try randomSparse(rows: 400, columns: 2_000, density: 0.1, seed: 31)
    #expect(x.nonzeroCount > 1 << 16)
    let k = 8
    let embeddings = randomMatrix(rows: x.rows, columns: k, seed: 32)
    let ratios = embeddings.withUnsafeBufferPointer {
      TruncatedSVD.explainedVarianceRatios(x, embeddings: $0)
    }
    // The column sums taken from Xᵀ's rows, as the randomized solver takes them: the same bits.
    let shares = TruncatedSVD.squaredColumnSumShares(transpose: x.transposed())
    let fromTranspose = embeddings.withUnsafeBufferPointer {
      TruncatedSVD.explainedVarianceRatios(x, embeddings: $0, columnSumShares: shares)
    }
    #expect(fromTranspose.map(\.bitPattern) == ratios.map(\.bitPattern))
    let xDense = dense(x).map(Double.init), n = Double(x.rows)
    var total: Double = 0
    for column in 0..<x.columns {
      let entries = (0..<x.rows).map { xDense[$0 * x.columns + column] }
      let mean = entries.reduce(0, +) / n
      total += entries.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
    }
    for column in 0..<k {
      let entries = (0..<x.rows).map { Double(embeddings[$0 * k + column]) }
      let mean = entries.reduce(0, +) / n
      let variance = entries.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
      // Float32 output of a ratio of double sums: 1e-6 relative is Float32's rounding.
      #expect(abs(Double(ratios[column]) - variance / total) <= 1e-6 * variance / total)
    }
  }

  @Test("bfloat16 packing rounds to nearest, ties to even, and keeps the columns in order")
  func bfloat16Packing() {
    let values: [Float] = [
      1, -1, 1 + 0x1p-7, 1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 3 * 0x1p-8), 0, 1 + 0x1p-8 + 0x1p-20,
      3.140625, 1e-30, -2.5e20, 0.1, 65_536, 1 - 0x1p-9, 7, 0x1p-126,
    ]
    let expected: [Float] = [
      1, -1, 1 + 0x1p-7, 1, 1 + 0x1p-6, -(1 + 0x1p-6), 0, 1 + 0x1p-7,
      3.140625, Float(bitPattern: (1e-30 as Float).bitPattern & 0xFFFF_0000),
      Float(bitPattern: (Float(-2.5e20).bitPattern &+ 0x8000) & 0xFFFF_0000),
      Float(bitPattern: ((0.1 as Float).bitPattern &+ 0x8000) & 0xFFFF_0000), 65_536, 1, 7, 0x1p-126,
    ]
    func roundTrip<Row: PackedRegisterRow>(_: Row.Type, _ input: [Float]) -> [Float] {
      var packed = [UInt8](repeating: 0, count: Row.packedBytes)
      var output = [Float](repeating: .nan, count: Row.floats)
      input.withUnsafeBufferPointer { input in
        packed.withUnsafeMutableBytes { packed in
          Row(loading: input.baseAddress!, count: input.count).pack(into: packed.baseAddress!)
          var row = Row()
          row.add(1, timesPackedRowAt: UnsafeRawPointer(packed.baseAddress!))
          output.withUnsafeMutableBufferPointer { row.store(to: $0.baseAddress!, count: Row.floats) }
        }
      }
      return output
    }
    #expect(roundTrip(RegisterRow16.self, values) == expected)
    #expect(roundTrip(RegisterRow32.self, values + values.reversed()) == expected + expected.reversed())
    #expect(roundTrip(RegisterRow32.self, Array(values.prefix(5))) == Array(expected.prefix(5)) + Array(repeating: 0, count: 27))
  }

  @Test("randomized matches exact at default settings on a decaying spectrum", arguments: [11, 12] as [UInt64])
  func randomizedMatchesExactOnDecayingSpectrum(seed: UInt64) throws {
    // A sparse matrix whose rows mix 30 latent topics with weights decaying like 1/(t+1),
    // as real term-document matrices do, plus sparse noise.
    var generator = SeededGenerator(seed: seed)
    let rows = 1_500, columns = 600, topics = 30
    var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
    for _ in 0..<rows {
      var entries: [Int32: Float] = [:]
      for _ in 0..<12 {
        let topic = Int(Double(topics) * pow(generator.nextUnit(), 2))
        let column = Int32((topic * 20 + Int(generator.nextUnit() * 20)) % columns)
        entries[column, default: 0] += Float(1 / Double(topic + 1))
      }
      entries[Int32(generator.nextUnit() * Double(columns)), default: 0] += 0.05
      for column in entries.keys.sorted() {
        indices.append(column)
        values.append(entries[column]!)
      }
      offsets.append(Int64(indices.count))
    }
    let x = try SparseMatrix(rows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices, values: values)
    let exact = try TruncatedSVD.fit(x, configuration: .init(dimensions: 10, algorithm: .exact))
    let randomized = try TruncatedSVD.fit(x, configuration: .init(dimensions: 10, algorithm: .randomized, seed: seed))
    let largest = exact.svd.singularValues[0]
    for (a, b) in zip(randomized.svd.singularValues, exact.svd.singularValues) {
      #expect(abs(a - b) <= 1e-3 * largest)
    }
    let u = Self.leftVectors(exact.embeddings, exact.svd.singularValues)
    let v = Self.leftVectors(randomized.embeddings, randomized.svd.singularValues)
    #expect(try Self.principalCosines(u, v).min()! >= 0.99)
  }

  @Test("the Gaussian test matrix depends on the seed alone, not on the cores")
  func gaussianTestMatrix() {
    let count = 3 * TruncatedSVD.gaussianRun + 1_001  // four runs, the last one short and odd
    var one = [Float](repeating: 0, count: count), three = one, other = one
    TruncatedSVD.fillGaussian(&one, seed: 5, tasks: 1)
    TruncatedSVD.fillGaussian(&three, seed: 5, tasks: 3)
    TruncatedSVD.fillGaussian(&other, seed: 6, tasks: 3)
    #expect(one == three)
    #expect(one != other)
    // Run 0 is the seed's own stream, as one generator drew the whole matrix before.
    var generator = SeededGenerator(seed: 5)
    for index in stride(from: 0, to: 100, by: 2) {
      let (a, b) = generator.nextGaussianPair()
      #expect(one[index] == Float(a) && one[index + 1] == Float(b))
    }
    // The runs are not copies of one another.
    let run = TruncatedSVD.gaussianRun
    #expect(Array(one[0..<100]) != Array(one[run..<(run + 100)]))
    #expect(Array(one[run..<(run + 100)]) != Array(one[(2 * run)..<(2 * run + 100)]))
    // Standard normal: mean 0 and variance 1, each within five standard errors
    // (1/√n for the mean, √(2/n) for the variance).
    let n = Double(count)
    let mean = one.reduce(0.0) { $0 + Double($1) } / n
    let variance = one.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    #expect(abs(mean) < 5 / n.squareRoot())
    #expect(abs(variance - 1) < 5 * (2 / n).squareRoot())
  }

  @Test func sameSeedGivesBitIdenticalOutput() throws {
    let x = try Self.matrix(.default)
    let configuration = TruncatedSVD.Configuration(dimensions: 16, algorithm: .randomized, seed: 3)
    let first = try TruncatedSVD.fit(x, configuration: configuration)
    let second = try TruncatedSVD.fit(x, configuration: configuration)
    #expect(first.embeddings.elements == second.embeddings.elements)
    #expect(first.svd.components.elements == second.svd.components.elements)
  }

  @Test func dimensionsAreClampedBelowTheRank() throws {
    let x = try Self.matrix(.scikitLearnCompatible)
    let (svd, embeddings) = try TruncatedSVD.fit(x, configuration: .init(dimensions: 500))
    #expect(svd.requestedDimensions == 500)
    #expect(svd.dimensions == 80)
    #expect(embeddings.elements.allSatisfy { $0.isFinite })
    #expect(svd.components.elements.allSatisfy { $0.isFinite })
  }

  @Test func foldingInAPaperReproducesItsEmbedding() throws {
    let x = try Self.matrix(.default)
    let (svd, embeddings) = try TruncatedSVD.fit(x, configuration: .init(dimensions: 20))
    let projected = svd.transform(x)
    for (a, b) in zip(projected.elements, embeddings.elements) { #expect(abs(a - b) < 1e-4) }
  }
}
