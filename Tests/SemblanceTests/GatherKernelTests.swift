import CSemblanceKernels
import Testing

@testable import Semblance

/// The AVX-512 gathers of the SVD against the Swift kernels they stand in for, in the
/// serialized kernel suite because the portable mode is forced in one case.
extension SelectionKernelTests {
  /// A random CSR matrix with empty rows, one-entry rows and long rows.
  static func sparse(rows: Int, columns: Int, seed: UInt64) throws -> SparseMatrix {
    var generator = SeededGenerator(seed: seed)
    var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
    for row in 0..<rows {
      let length = row % 7 == 0 ? 0 : row % 5 == 0 ? 1 : Int(generator.next() % 40)
      let picked = Set((0..<length).map { _ in Int32(generator.next() % UInt64(columns)) })
      for column in picked.sorted() {
        indices.append(column)
        values.append(Float(Double(generator.next() % 2_001) / 1_000 - 1))
      }
      offsets.append(Int64(indices.count))
    }
    return try SparseMatrix(
      rows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices, values: values)
  }

  static func denseRows(_ count: Int, floats: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<(count * floats)).map { _ in Float(Double(generator.next() % 2_001) / 1_000 - 1) }
  }

  /// Each row's `Σ |value| · max |x|`: the scale that rounding differences are measured in.
  static func magnitudes(_ matrix: SparseMatrix) -> [Float] {
    (0..<matrix.rows).map { row in matrix.row(row).values.reduce(0) { $0 + abs($1) } }
  }

  @Test("bfloat16 gathers match the Swift kernels, packed and in Float32", arguments: [16, 32])
  func bfloat16Gathers(columns: Int) throws {
    let matrix = try Self.sparse(rows: 300, columns: 500, seed: UInt64(columns))
    let packedBytes = columns * 2
    // Packed source rows from Float32 rows through the Swift packing.
    let dense = Self.denseRows(500, floats: columns, seed: 5)
    var source = [UInt8](repeating: 0, count: 500 * packedBytes)
    source.withUnsafeMutableBytes { source in
      dense.withUnsafeBufferPointer { dense in
        for row in 0..<500 {
          let target = source.baseAddress! + row * packedBytes
          if columns == 32 {
            RegisterRow32(loading: dense.baseAddress! + row * 32, count: 32).pack(into: target)
          } else {
            RegisterRow16(loading: dense.baseAddress! + row * 16, count: 16).pack(into: target)
          }
        }
      }
    }
    let magnitudes = Self.magnitudes(matrix)
    for floatCount in [columns, columns - 6] {
      var expected = [Float](repeating: 0, count: 300 * columns)
      var expectedPacked = [UInt8](repeating: 0, count: 300 * packedBytes)
      source.withUnsafeBytes { source in
        func run<Row: PackedRegisterRow>(_: Row.Type) {
          TruncatedSVD.PackedGramProduct.gather(Row.self, rows: 0..<300, of: matrix, from: source.baseAddress!) {
            row, sum in
            expected.withUnsafeMutableBufferPointer {
              sum.store(to: $0.baseAddress! + row * columns, count: floatCount)
            }
            expectedPacked.withUnsafeMutableBytes { sum.pack(into: $0.baseAddress! + row * packedBytes) }
          }
        }
        if columns == 32 { run(RegisterRow32.self) } else { run(RegisterRow16.self) }
      }
      var found = [Float](repeating: 0, count: 300 * columns)
      var foundPacked = [UInt8](repeating: 0, count: 300 * packedBytes)
      let (floatDone, packedDone) = source.withUnsafeBytes { source in
        matrix.withCSRPointers { offsets, indices, values in
          let floats = found.withUnsafeMutableBufferPointer {
            semblance_gather_bf16(
              offsets, indices, values, 0, 300, source.baseAddress!, columns, nil,
              $0.baseAddress!, columns, floatCount)
          }
          let packed = foundPacked.withUnsafeMutableBytes {
            semblance_gather_bf16(
              offsets, indices, values, 0, 300, source.baseAddress!, columns, $0.baseAddress!,
              nil, 0, 0)
          }
          return (floats, packed)
        }
      }
      #expect(floatDone == packedDone)
      guard floatDone != 0 else { continue }  // no AVX-512 here: the Swift kernels run
      // Fused multiply-adds round once per step where the Swift kernel rounds twice.
      for row in 0..<300 {
        for column in 0..<columns {
          let index = row * columns + column
          if column >= floatCount {
            #expect(found[index] == 0, "row \(row): column \(column) must not be written")
          } else {
            #expect(abs(found[index] - expected[index]) <= 1e-5 * max(magnitudes[row], 1e-30))
          }
        }
      }
      // Packed sums may round to neighbouring bfloat16 values: within 2⁻⁷ of the scale.
      let unpack = { (bytes: [UInt8]) -> [Float] in
        bytes.withUnsafeBytes { raw in
          (0..<(300 * columns / 2)).flatMap { word -> [Float] in
            let bits = raw.load(fromByteOffset: word * 4, as: UInt32.self)
            return [Float(bitPattern: bits << 16), Float(bitPattern: bits & 0xFFFF_0000)]
          }
        }
      }
      let (a, b) = (unpack(foundPacked), unpack(expectedPacked))
      for index in a.indices {
        #expect(abs(a[index] - b[index]) <= magnitudes[index / columns] / 128 + 1e-30)
      }
    }
  }

  @Test("Float32 gathers match the Swift kernel", arguments: [16, 144, 256])
  func float32Gathers(floats: Int) throws {
    let matrix = try Self.sparse(rows: 200, columns: 300, seed: UInt64(floats))
    let stride = floats + 16
    let source = Self.denseRows(300, floats: stride, seed: 9)
    let magnitudes = Self.magnitudes(matrix)
    var expected = [Float](repeating: 0, count: 200 * floats)
    for row in 0..<200 {
      let entries = matrix.row(row)
      for (column, value) in zip(entries.indices, entries.values) {
        for k in 0..<floats { expected[row * floats + k] += value * source[Int(column) * stride + k] }
      }
    }
    // Rows 50..<200 only, written from the start of the output.
    var found = [Float](repeating: .nan, count: 150 * floats)
    let done = matrix.withCSRPointers { offsets, indices, values in
      source.withUnsafeBufferPointer { source in
        found.withUnsafeMutableBufferPointer {
          semblance_gather_f32(
            offsets, indices, values, 50, 200, source.baseAddress!, stride, floats,
            $0.baseAddress!, floats)
        }
      }
    }
    guard done != 0 else { return }
    for row in 50..<200 {
      for k in 0..<floats {
        let difference = abs(found[(row - 50) * floats + k] - expected[row * floats + k])
        #expect(difference <= 1e-5 * max(magnitudes[row], 1e-30), "row \(row)")
      }
    }
  }

  @Test("the gathers decline when the portable kernels are forced")
  func gathersDecline() throws {
    SelectionKernels.useVectorized(false)
    defer { SelectionKernels.useVectorized(true) }
    let matrix = try Self.sparse(rows: 10, columns: 10, seed: 1)
    var output = [Float](repeating: 0, count: 10 * 32)
    let source = [Float](repeating: 1, count: 10 * 32)
    let declined = matrix.withCSRPointers { offsets, indices, values in
      source.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer {
          (
            semblance_gather_f32(offsets, indices, values, 0, 10, source.baseAddress!, 32, 32, $0.baseAddress!, 32),
            semblance_gather_bf16(offsets, indices, values, 0, 10, source.baseAddress!, 32, nil, $0.baseAddress!, 32, 32)
          )
        }
      }
    }
    #expect(declined.0 == 0 && declined.1 == 0)
    #expect(output.allSatisfy { $0 == 0 })
  }

  @Test("the SVD is the same to rounding with either kernels")
  func svdWithEitherKernels() throws {
    let matrix = try Self.sparse(rows: 3_000, columns: 2_500, seed: 21)
    let configuration = TruncatedSVD.Configuration(dimensions: 20, algorithm: .randomized)
    let vector = try TruncatedSVD.fit(matrix, configuration: configuration).svd
    SelectionKernels.useVectorized(false)
    defer { SelectionKernels.useVectorized(true) }
    let portable = try TruncatedSVD.fit(matrix, configuration: configuration).svd
    for (a, b) in zip(vector.singularValues, portable.singularValues) {
      #expect(abs(a - b) <= 1e-4 * max(a, b))
    }
  }

  @Test(
    "the term-side Gram is Qᵀ X Xᵀ Q at any width, either kernels, one run of terms or three",
    arguments: [3, 20, 45, 138])
  func termGram(width: Int) throws {
    // More terms than one block of 8,192, and empty terms and papers.
    let x = try Self.sparse(rows: 400, columns: 9_000, seed: UInt64(width))
    let q = Self.denseRows(400, floats: width, seed: UInt64(width) + 1)
    // The reference: Z = Xᵀ Q in double, then Zᵀ Z, with |Z|ᵀ |Z| as the rounding scale.
    var z = [Double](repeating: 0, count: 9_000 * width)
    var magnitude = z
    for document in 0..<400 {
      let entries = x.row(document)
      for (term, value) in zip(entries.indices, entries.values) {
        for column in 0..<width {
          let product = Double(value) * Double(q[document * width + column])
          z[Int(term) * width + column] += product
          magnitude[Int(term) * width + column] += abs(product)
        }
      }
    }
    let used = (0..<9_000).filter { term in
      (0..<width).contains { magnitude[term * width + $0] > 0 }
    }
    var expected = [Double](repeating: 0, count: width * width), scale = expected
    for i in 0..<width {
      for j in 0..<width {
        for term in used {
          expected[i * width + j] += z[term * width + i] * z[term * width + j]
          scale[i * width + j] += magnitude[term * width + i] * magnitude[term * width + j]
        }
      }
    }
    let xt = x.transposed()
    // One task: two blocks in a row. Three tasks: a run of terms each, summed at the end.
    for vectorized in [true, false] {
      for tasks in [1, 3] {
        SelectionKernels.useVectorized(vectorized)
        defer { SelectionKernels.useVectorized(true) }
        let gram = TruncatedSVD.termGram(transpose: xt, q, width: width, tasks: tasks)
        for index in 0..<(width * width) {
          let (i, j) = index.quotientAndRemainder(dividingBy: width)
          // Float32 gathers and block sums: a few units of 2⁻²⁴ of the scale.
          #expect(
            abs(gram[index] - expected[index]) <= 1e-5 * scale[index] + 1e-12,
            "\(i), \(j), \(tasks) tasks")
          #expect(gram[index] == gram[j * width + i])
        }
      }
    }
  }

  @Test("V from X's rows is the same to rounding with either kernels", arguments: [128, 20, 7])
  func projectOnTerms(width: Int) throws {
    let x = try Self.sparse(rows: 500, columns: 700, seed: UInt64(width))
    let e = Self.denseRows(500, floats: width, seed: 3)
    let scales = (0..<width).map { Float($0 + 1) / Float(width) }
    let ranges = [0..<0, 0..<250, 250..<251, 251..<700]
    func project(vectorized: Bool) -> [Float] {
      SelectionKernels.useVectorized(vectorized)
      defer { SelectionKernels.useVectorized(true) }
      var v = [Float](repeating: 0, count: 700 * width)
      _ = e.withUnsafeBufferPointer { e in
        v.withUnsafeMutableBufferPointer { v in
          TruncatedSVD.projectOnTerms(
            fromRowsOf: x, termRanges: ranges, e.baseAddress!, width: width, scales: scales,
            into: v.baseAddress!)
        }
      }
      return v
    }
    let (vector, portable) = (project(vectorized: true), project(vectorized: false))
    let xt = x.transposed()
    for term in 0..<700 {
      let postings = xt.row(term)
      let scale = postings.values.reduce(0) { $0 + abs($1) } + 1e-30
      for column in 0..<width {
        let index = term * width + column
        #expect(abs(vector[index] - portable[index]) <= 1e-5 * scale * scales[column])
      }
    }
    #expect(vector != [Float](repeating: 0, count: 700 * width))
  }
}
