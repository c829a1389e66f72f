import Foundation
import Testing

@testable import Semblance

/// Paths and fixture loading shared by the suites.
enum TestSupport {
  /// The package root, found from this file's location.
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static let bundledCorpus = packageRoot.appendingPathComponent(
    "Sources/semblance/Resources/hf-daily-papers.txt")

  static func fixture(_ name: String) -> URL {
    packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
  }

  static func json(_ name: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: fixture(name)))
  }

  /// The 81 seed papers as the fixture script parsed them (independent of the Swift reader).
  static func fixturePapers() throws -> [Paper] {
    let records = try #require(try json("corpus.json") as? [[String: String]])
    return records.map { Paper(id: $0["id"]!, title: $0["title"]!, abstract: $0["abstract"]!) }
  }

  /// A CSR fixture written by make_fixtures.py.
  struct CSRFixture {
    var vocabulary: [String]
    var idf: [Double]
    var indptr: [Int]
    var indices: [Int]
    var data: [Double]
  }

  static func csr(_ name: String) throws -> CSRFixture {
    let object = try #require(try json(name) as? [String: Any])
    return CSRFixture(
      vocabulary: try #require(object["vocabulary"] as? [String]),
      idf: try #require(object["idf"] as? [Double]),
      indptr: try #require(object["indptr"] as? [Int]),
      indices: try #require(object["indices"] as? [Int]),
      data: try #require(object["data"] as? [Double]))
  }

  /// A fresh empty directory under the system temporary directory.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("semblance-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// How many positions of two collections hold unequal elements, plus the difference of their
/// lengths. `#expect(Array(a) == Array(b))` on large arrays makes Swift Testing compute a
/// diff of the two when they differ, which can run for many minutes; `#expect(mismatches(a,
/// b) == 0)` reports one number instead.
func mismatches<A: Collection, B: Collection>(_ a: A, _ b: B) -> Int
where A.Element == B.Element, A.Element: Equatable {
  zip(a, b).reduce(abs(a.count - b.count)) { $0 + ($1.0 == $1.1 ? 0 : 1) }
}

/// Deterministic pseudo-random test data; failing tests print the seed through their name.
func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  return (0..<(rows * columns)).map { _ in Float(generator.nextGaussian()) }
}

/// A random sparse matrix with about `density` of its entries stored.
func randomSparse(rows: Int, columns: Int, density: Double, seed: UInt64) throws -> SparseMatrix {
  var generator = SeededGenerator(seed: seed)
  var offsets: [Int64] = [0], indices: [Int32] = [], values: [Float] = []
  for _ in 0..<rows {
    for column in 0..<columns where generator.nextUnit() < density {
      indices.append(Int32(column))
      values.append(Float(generator.nextGaussian()))
    }
    offsets.append(Int64(indices.count))
  }
  return try SparseMatrix(
    rows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices, values: values)
}

func dense(_ sparse: SparseMatrix) -> [Float] {
  var result = [Float](repeating: 0, count: sparse.rows * sparse.columns)
  for row in 0..<sparse.rows {
    let (indices, values) = sparse.row(row)
    for (column, value) in zip(indices, values) { result[row * sparse.columns + Int(column)] = value }
  }
  return result
}
