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
}
