/// The assignment step of k-means: the most similar centroid of every point.
///
/// Scores come from SGEMM over a block of points × a tile of centroids, and the argmax is
/// fused into the scan of that block, so no more than `scoreBudget` scores exist at once,
/// whatever n and k are. Ties go to the lower centroid, so the result does not depend on
/// the blocking or the number of threads.
enum NearestCentroid {
  /// The most scores held at once (1 MB of Float).
  static let scoreBudget = 1 << 18
  /// The most centroids scored by one SGEMM call.
  static let centroidTile = 1024
  /// Rows below which the argmax scan is not worth spreading over threads.
  static let parallelThreshold = 2048

  /// Writes the nearest of `count` centroids (row-major, `points.columns` wide) of every
  /// row of `points` into `labels`, and its inner product into `scores`.
  ///
  /// - Returns: how many labels differ from what `labels` held before.
  @discardableResult
  static func assign(
    _ points: DenseMatrix, centroids: [Float], count k: Int,
    labels: inout [Int], scores: inout [Float]
  ) -> Int {
    let n = points.rows, d = points.columns
    assert(labels.count == n && scores.count == n && centroids.count == k * d)
    guard n > 0, k > 0 else { return 0 }
    let tile = min(k, centroidTile)
    let block = max(1, min(n, scoreBudget / tile))
    var buffer = [Float](repeating: 0, count: block * tile)
    var bestIndex = [Int32](repeating: 0, count: block)
    var changed = 0
    centroids.withUnsafeBufferPointer { centroids in
      labels.withUnsafeMutableBufferPointer { labels in
        scores.withUnsafeMutableBufferPointer { scores in
          buffer.withUnsafeMutableBufferPointer { buffer in
            bestIndex.withUnsafeMutableBufferPointer { bestIndex in
              var blockStart = 0
              while blockStart < n {
                let rows = min(block, n - blockStart)
                let best = UnsafeSendable(
                  UnsafeMutableBufferPointer(rebasing: scores[blockStart..<(blockStart + rows)]))
                for row in 0..<rows {
                  best.value[row] = -.infinity
                  bestIndex[row] = 0
                }
                let tasks = rows < parallelThreshold ? 1 : processorCount
                var tileStart = 0
                while tileStart < k {
                  let columns = min(tile, k - tileStart)
                  BLAS.sgemm(
                    .none, .transposed, m: rows, n: columns, k: d,
                    a: points.baseAddress + blockStart * d, lda: d,
                    b: centroids.baseAddress! + tileStart * d, ldb: d,
                    c: buffer.baseAddress!, ldc: columns)
                  let tileScores = UnsafeSendable((UnsafeBufferPointer(buffer), bestIndex))
                  let first = tileStart
                  parallelForEach(chunks: tasks) { task in
                    let (buffer, bestIndex) = tileScores.value
                    for row in chunkRange(task, of: tasks, count: rows) {
                      var top = best.value[row]
                      var index = bestIndex[row]
                      let base = row * columns
                      for column in 0..<columns where buffer[base + column] > top {
                        top = buffer[base + column]
                        index = Int32(first + column)
                      }
                      best.value[row] = top
                      bestIndex[row] = index
                    }
                  }
                  tileStart += columns
                }
                for row in 0..<rows {
                  let label = Int(bestIndex[row])
                  if labels[blockStart + row] != label {
                    labels[blockStart + row] = label
                    changed += 1
                  }
                }
                blockStart += rows
              }
            }
          }
        }
      }
    }
    return changed
  }
}
