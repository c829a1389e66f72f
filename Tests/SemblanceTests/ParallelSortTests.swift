import Testing

@testable import Semblance

/// `parallelSort` against the standard library's sort: with a strict total order the sorted
/// array is unique, so the two must agree element for element whatever the number of runs
/// (an odd number leaves a run out of a merge round).
@Suite("Parallel sort")
struct ParallelSortTests {
  @Test("runs sorted apart and merged give the standard library's order", arguments: [1, 2, 3, 5, 8])
  func matchesSort(parts: Int) {
    var generator = SeededGenerator(seed: UInt64(parts))
    // Keys with many repeats of the first component, broken by the second: a total order
    // whose ties in the leading key exercise the comparator's second branch.
    let elements = (0..<10_007).map { index in (UInt64(generator.next() % 50), index) }
    let order: ((UInt64, Int), (UInt64, Int)) -> Bool = { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    var parallel = elements
    parallel.parallelSort(parts: parts, by: order)
    let expected = elements.sorted(by: order)
    #expect(parallel.map(\.1) == expected.map(\.1))
  }

  @Test("arrays shorter than the number of runs, and empty ones")
  func shortArrays() {
    for count in 0..<6 {
      var values = Array((0..<count).reversed())
      values.parallelSort(parts: 4, by: <)
      #expect(values == Array(0..<count))
    }
  }

  /// The radix sort is stable: elements with equal keys keep their order. Against the
  /// standard library's sort by (key, position), which is the one stable order. The sizes
  /// reach past the point (65,536) where every core takes a share of each pass.
  @Test(
    "the radix sort gives the stable order of its keys",
    arguments: [(0, 64), (1, 64), (2, 64), (5_000, 3), (5_000, 40), (70_001, 64), (200_000, 22)])
  func radixSortIsStable(count: Int, keyBits: Int) {
    var generator = SeededGenerator(seed: UInt64(count + keyBits))
    let mask: UInt64 = keyBits == 64 ? .max : (1 << UInt64(keyBits)) - 1
    // Keys share a high part, so some passes see one digit and are skipped.
    let elements = (0..<count).map { index in
      (key: 0xABC0_0000_0000_0000 | (generator.next() & mask), position: index)
    }
    var sorted = elements
    sorted.radixSort { $0.key }
    let expected = elements.sorted { ($0.key, $0.position) < ($1.key, $1.position) }
    #expect(sorted.map(\.position) == expected.map(\.position))
  }
}
