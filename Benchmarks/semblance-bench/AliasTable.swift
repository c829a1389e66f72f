import Foundation

/// Walker's alias method (with Vose's construction): draws from a fixed discrete
/// distribution in O(1) per sample, which keeps the corpus generator at disk speed.
struct AliasTable: Sendable {
  private let probability: [Double]
  private let alias: [Int32]

  /// Builds the table for weights that need not sum to one (all non-negative, not all zero).
  init(weights: [Double]) {
    let n = weights.count
    precondition(n > 0, "AliasTable needs at least one weight")
    let total = weights.reduce(0, +)
    var scaled = weights.map { $0 * Double(n) / total }
    var probability = [Double](repeating: 1, count: n)
    var alias = [Int32](repeating: 0, count: n)
    var small: [Int] = []
    var large: [Int] = []
    for (index, value) in scaled.enumerated() {
      if value < 1 { small.append(index) } else { large.append(index) }
    }
    while !small.isEmpty, let l = large.last {
      let s = small.removeLast()
      probability[s] = scaled[s]
      alias[s] = Int32(l)
      scaled[l] -= 1 - scaled[s]
      if scaled[l] < 1 {
        large.removeLast()
        small.append(l)
      }
    }
    // Whatever is left has probability 1 up to rounding.
    for index in small + large {
      probability[index] = 1
      alias[index] = Int32(index)
    }
    self.probability = probability
    self.alias = alias
  }

  var count: Int { probability.count }

  /// One draw: an index into the weights.
  @inline(__always)
  func sample(using random: inout BenchRandom) -> Int {
    let bits = random.next()
    let slot = Int(((bits >> 32) &* UInt64(probability.count)) >> 32)
    let u = Double(bits & 0xFFFF_FFFF) * 0x1.0p-32
    return u < probability[slot] ? slot : Int(alias[slot])
  }

  /// Zipf weights `1 / rank^exponent` for ranks 1...count.
  static func zipf(count: Int, exponent: Double) -> AliasTable {
    AliasTable(weights: (1...count).map { 1 / pow(Double($0), exponent) })
  }
}
