/// Hierarchical clustering by average linkage on cosine distance.
///
/// The distance between two clusters is the mean cosine distance `1 − cos` over all pairs
/// of their points (UPGMA), as `scipy.cluster.hierarchy.linkage(X, "average",
/// metric="cosine")` computes it; rows are normalised first, and a zero row has cosine 0
/// with everything.
///
/// ```swift
/// let tree = try AgglomerativeClustering.averageLinkage(index.embeddings)
/// let labels = try tree.assignments(clusters: 8)
/// ```
///
/// The merges are found with the nearest-neighbour chain algorithm (Murtagh 1983; see
/// Müllner 2011), which is exact for average linkage because it never decreases a distance
/// by merging ("reducibility"). Ties go to the chain's previous element, then to the lower
/// slot, and merged clusters take the higher slot, as SciPy does, so equal inputs give the
/// same tree.
public enum AgglomerativeClustering {
  /// The most points: the distance matrix takes `4·n²` bytes (1.6 GB at 20,000 points).
  public static let maximumPoints = 20_000

  /// The average-linkage dendrogram of the rows of `points`.
  ///
  /// - Throws: `ClusteringError.emptyInput` for a matrix without rows or columns, and
  ///   `ClusteringError.tooManyPoints` above `maximumPoints` rows.
  /// - Complexity: O(n² · d) for the distances (one SGEMM) and O(n²) for the merges;
  ///   O(n²) memory.
  public static func averageLinkage(_ points: DenseMatrix) throws -> Dendrogram {
    let n = points.rows, d = points.columns
    guard n > 0, d > 0 else { throw ClusteringError.emptyInput(rows: n, columns: d) }
    guard n <= maximumPoints else {
      throw ClusteringError.tooManyPoints(n, limit: maximumPoints)
    }
    if n == 1 { return Dendrogram(leafCount: 1, merges: []) }
    let distances = UnsafeMutableBufferPointer<Float>.allocate(capacity: n * n)
    defer { distances.deallocate() }
    let unit = points.normalizedRows()
    BLAS.sgemm(
      .none, .transposed, m: n, n: n, k: d, a: unit.baseAddress, lda: d,
      b: unit.baseAddress, ldb: d, c: distances.baseAddress!, ldc: n)
    for i in 0..<n {
      for j in 0..<n { distances[i * n + j] = min(2, max(0, 1 - distances[i * n + j])) }
      distances[i * n + i] = .infinity
    }
    let raw = NearestNeighborChain.merges(distances: distances, count: n)
    return label(raw, leafCount: n)
  }

  /// Sorts chain merges by distance (stably) and names clusters as SciPy does: a merge of
  /// slots is a merge of the clusters that contain those leaves.
  static func label(_ raw: [NearestNeighborChain.RawMerge], leafCount n: Int) -> Dendrogram {
    let order = raw.indices.sorted {
      raw[$0].distance != raw[$1].distance ? raw[$0].distance < raw[$1].distance : $0 < $1
    }
    var forest = MergeForest(leafCount: n, merges: n - 1)
    var sizes = [Int](repeating: 1, count: 2 * n - 1)
    var merges: [Dendrogram.Merge] = []
    merges.reserveCapacity(n - 1)
    for index in order {
      let a = forest.root(of: raw[index].a), b = forest.root(of: raw[index].b)
      let id = n + merges.count
      forest.join(a, b, under: id)
      sizes[id] = sizes[a] + sizes[b]
      merges.append(
        Dendrogram.Merge(
          left: min(a, b), right: max(a, b), distance: raw[index].distance, size: sizes[id]))
    }
    return Dendrogram(leafCount: n, merges: merges)
  }
}

/// The nearest-neighbour chain over a full, symmetric n × n distance matrix.
///
/// The matrix is updated in place with the Lance–Williams formula for average linkage,
/// `d(i∪j, k) = (|i|·d(i, k) + |j|·d(j, k)) / (|i| + |j|)`, evaluated in Double. Rows and
/// columns of merged-away clusters are set to +∞, so a nearest-neighbour search is one
/// contiguous scan of a row.
enum NearestNeighborChain {
  /// A merge of the clusters in two slots, named by slot (a leaf each cluster contains).
  struct RawMerge {
    var a: Int
    var b: Int
    var distance: Float
  }

  /// The n − 1 merges, in the order the chain finds them.
  ///
  /// - Parameter distances: n × n, row-major, symmetric, +∞ on the diagonal; overwritten.
  static func merges(distances: UnsafeMutableBufferPointer<Float>, count n: Int) -> [RawMerge] {
    var sizes = [Int](repeating: 1, count: n)
    var chain: [Int] = []
    chain.reserveCapacity(n)
    var merges: [RawMerge] = []
    merges.reserveCapacity(n - 1)
    var firstActive = 0
    let base = distances.baseAddress!
    while merges.count < n - 1 {
      if chain.isEmpty {
        while sizes[firstActive] == 0 { firstActive += 1 }
        chain.append(firstActive)
      }
      var a = chain[chain.count - 1]
      var b: Int
      while true {
        a = chain[chain.count - 1]
        let (nearest, distance) = argmin(base + a * n, count: n)
        b = nearest
        if chain.count > 1 {
          let previous = chain[chain.count - 2]
          if base[a * n + previous] <= distance { b = previous }
          if b == previous { break }
        }
        chain.append(b)
      }
      chain.removeLast(2)
      let distance = base[a * n + b]
      let keep = max(a, b), drop = min(a, b)
      let sizeKeep = Double(sizes[keep]), sizeDrop = Double(sizes[drop])
      let total = sizeKeep + sizeDrop
      let rowKeep = base + keep * n, rowDrop = base + drop * n
      for k in 0..<n where k != keep && k != drop {
        let toDrop = rowDrop[k]
        guard toDrop.isFinite else { continue }  // k is no longer a cluster
        let merged = Float((sizeKeep * Double(rowKeep[k]) + sizeDrop * Double(toDrop)) / total)
        rowKeep[k] = merged
        base[k * n + keep] = merged
        base[k * n + drop] = .infinity
      }
      rowKeep[drop] = .infinity
      sizes[keep] += sizes[drop]
      sizes[drop] = 0
      merges.append(RawMerge(a: drop, b: keep, distance: distance))
    }
    return merges
  }

  /// The lowest index of the smallest value of a row, and that value.
  @inline(__always)
  static func argmin(_ row: UnsafePointer<Float>, count n: Int) -> (Int, Float) {
    var lanes = SIMD8<Float>(repeating: .infinity)
    var j = 0
    while j + 8 <= n {
      let chunk = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
      lanes = pointwiseMin(lanes, chunk)
      j += 8
    }
    var smallest = lanes.min()
    while j < n {
      smallest = min(smallest, row[j])
      j += 1
    }
    for k in 0..<n where row[k] == smallest { return (k, smallest) }
    return (0, smallest)
  }
}
