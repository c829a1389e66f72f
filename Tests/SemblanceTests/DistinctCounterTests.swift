import Testing

@testable import Semblance

/// The distinct-value estimate that sizes the bigram tables.
@Suite("DistinctCounter")
struct DistinctCounterTests {
  /// A well-mixed hash of `value`, as the analyzer's token hashes are.
  private func hash(_ value: Int) -> UInt64 {
    PairTable.hash(UInt64(value))
  }

  @Test("estimates are within 5% (three standard errors) from ten to two million values")
  func estimatesAreClose() {
    for distinct in [10, 100, 1_000, 10_000, 100_000, 2_000_000] {
      var counter = DistinctCounter()
      // Every value twice: repeats must not count.
      for _ in 0..<2 {
        for value in 0..<distinct { counter.add(hash: hash(value)) }
      }
      let error = abs(Double(counter.estimate - distinct)) / Double(distinct)
      #expect(error < 0.05, "\(distinct) values estimated as \(counter.estimate)")
    }
  }

  @Test("an empty counter estimates zero, and merging equals adding everything to one")
  func mergeEqualsOneCounter() {
    #expect(DistinctCounter().estimate == 0)
    var first = DistinctCounter(), second = DistinctCounter(), both = DistinctCounter()
    for value in 0..<50_000 {
      let target = value % 3 == 0
      if target { first.add(hash: hash(value)) } else { second.add(hash: hash(value)) }
      both.add(hash: hash(value))
    }
    // Overlap: the second counter sees some of the first's values again.
    for value in stride(from: 0, to: 50_000, by: 6) { second.add(hash: hash(value)) }
    first.merge(second)
    #expect(first.estimate == both.estimate)
  }
}
