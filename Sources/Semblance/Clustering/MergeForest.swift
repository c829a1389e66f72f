/// Union–find over the nodes of a dendrogram: leaves `0..<leafCount`, and one new node per
/// merge, numbered in merge order as SciPy numbers linkage rows.
struct MergeForest {
  private var parent: [Int]

  /// A forest of `leafCount` leaves with room for `merges` merges.
  init(leafCount: Int, merges: Int) {
    parent = Array(0..<(leafCount + merges))
  }

  /// The current root of `node`'s tree (with path compression).
  mutating func root(of node: Int) -> Int {
    var root = node
    while parent[root] != root { root = parent[root] }
    var current = node
    while parent[current] != root {
      let next = parent[current]
      parent[current] = root
      current = next
    }
    return root
  }

  /// Makes `node` the parent of the roots `a` and `b`.
  mutating func join(_ a: Int, _ b: Int, under node: Int) {
    parent[a] = node
    parent[b] = node
  }
}
