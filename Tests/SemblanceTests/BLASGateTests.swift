import Foundation
import Testing

@testable import Semblance

/// OpenBLAS corrupts a call when another thread changes its thread count or enters a threaded
/// driver at the same time; ``BLASGate`` orders Semblance's calls so that this never happens.
@Suite("BLAS calls from many threads")
struct BLASGateTests {
  /// A TF-IDF matrix whose exact SVD runs `dsyevd` on a 486 × 486 Gram matrix.
  static let matrix: SparseMatrix = {
    var configuration = TfidfVectorizer.Configuration()
    configuration.minDocumentFrequency = 2
    return try! TfidfVectorizer.fit(StreamingBuildTests.manyPapers, configuration: configuration)
      .matrix
  }()

  static func exactEmbedding() throws -> [Float] {
    var configuration = TruncatedSVD.Configuration()
    configuration.algorithm = .exact
    let (_, embeddings) = try TruncatedSVD.fit(matrix, configuration: configuration)
    return withExtendedLifetime(embeddings) { Array(embeddings.storage.buffer) }
  }

  @Test("an exact SVD is bit-identical while other threads make single-threaded and threaded calls")
  func exactSVDUnderConcurrentRegions() throws {
    let reference = try Self.exactEmbedding()
    let stop = StopFlag()
    let a = [Float](repeating: 0.5, count: 64 * 64)
    let stressors = DispatchGroup()
    for stressor in 0..<2 {
      DispatchQueue.global().async(group: stressors) {
        var c = [Float](repeating: 0, count: 64 * 64)
        var d = [Double](repeating: 0, count: 64 * 64)
        let e = [Double](repeating: 0.25, count: 256 * 64)
        while !stop.isSet {
          a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
              if stressor == 0 {
                // What the batch kNN kernels do: single-threaded calls, which switch
                // OpenBLAS to one thread while any is in flight.
                BLAS.sgemm(
                  .none, .transposed, m: 64, n: 64, k: 64, a: a.baseAddress!, lda: 64,
                  b: a.baseAddress!, ldb: 64, c: c.baseAddress!, ldc: 64, threading: .single)
              }
            }
          }
          if stressor == 1 {
            // A threaded level-3 driver of the kind OpenBLAS does not guard.
            e.withUnsafeBufferPointer { e in
              d.withUnsafeMutableBufferPointer { d in
                BLAS.dsyrkTransposed(
                  n: 64, k: 256, a: e.baseAddress!, lda: 64, c: d.baseAddress!, ldc: 64)
              }
            }
          }
        }
      }
    }
    var mismatches = 0
    for _ in 0..<4 where try Self.exactEmbedding() != reference { mismatches += 1 }
    stop.set()
    stressors.wait()
    #expect(mismatches == 0)
  }
}

/// A flag one thread sets and others poll.
final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
  func set() {
    lock.lock()
    value = true
    lock.unlock()
  }
}
