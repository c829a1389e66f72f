import Foundation
import Testing

@testable import Semblance

/// The rule that calibrates `nprobe`: the smallest number of lists whose one-sided 95% lower
/// confidence bound of sampled recall@10 reaches the target.
@Suite("IVF calibration")
struct IVFCalibrationTests {
  typealias Estimate = IVFNeighborIndex.RecallEstimate

  @Test("the lower bound is mean − 1.645·s/√m with the sample standard deviation")
  func lowerBound() {
    // mean 0.925; s² = (2·0.075² + 0.025² + 0.125²) / 3 = 0.0275 / 3.
    let estimate = IVFNeighborIndex.recallEstimate([1, 1, 0.9, 0.8])
    #expect(abs(estimate.mean - 0.925) < 1e-12)
    let expected = 0.925 - 1.6449 * (0.0275 / 3).squareRoot() / 2
    #expect(abs(estimate.lowerBound - expected) < 1e-12)
    // No spread: the bound is the mean.
    #expect(IVFNeighborIndex.recallEstimate([Double](repeating: 1, count: 50)) == Estimate(mean: 1, lowerBound: 1))
    // One query says nothing about the spread; no query, nothing to miss.
    #expect(IVFNeighborIndex.recallEstimate([0.9]) == Estimate(mean: 0.9, lowerBound: 0))
    #expect(IVFNeighborIndex.recallEstimate([]) == Estimate(mean: 1, lowerBound: 1))
    // The bound never goes below 0.
    #expect(IVFNeighborIndex.recallEstimate([0, 1]).lowerBound == 0)
  }

  @Test("the bound narrows as queries are added: 4× the queries, half the margin")
  func margin() {
    let pattern: [Double] = [1, 1, 1, 0.9, 0.8, 1, 1, 0.9, 1, 0.7]
    let small = IVFNeighborIndex.recallEstimate(Array(repeating: pattern, count: 25).flatMap { $0 })
    let large = IVFNeighborIndex.recallEstimate(Array(repeating: pattern, count: 100).flatMap { $0 })
    #expect(abs(small.mean - large.mean) < 1e-12)
    let ratio = (small.mean - small.lowerBound) / (large.mean - large.lowerBound)
    #expect(abs(ratio - 2) < 0.01, "margin ratio \(ratio)")
  }

  /// A recall curve that rises 0.03 per list from 0.6, with a margin of 0.02 between mean
  /// and bound: the mean reaches 0.95 at 12 lists, the bound only at 13.
  static func curve(_ nprobe: Int) -> Estimate {
    let mean = min(1, 0.6 + 0.03 * Double(nprobe))
    return Estimate(mean: mean, lowerBound: mean - 0.02)
  }

  @Test("calibration stops where the bound, not the mean, reaches the target")
  func boundNotMean() {
    var calls: [Int] = []
    let (nprobe, estimate) = IVFNeighborIndex.smallestProbes(listCount: 500, targetRecall: 0.95) {
      calls.append($0)
      return Self.curve($0)
    }
    #expect(nprobe == 13)  // the mean rule would stop at 12, where recall may be below 0.95
    #expect(estimate == Self.curve(13))
    #expect(Set(calls).count == calls.count, "each nprobe is measured once: \(calls)")
    #expect(calls.count <= 2 * 9, "doubling then bisection: \(calls)")
  }

  @Test(
    "the result is the smallest nprobe whose bound reaches the target",
    arguments: [0.0, 0.5, 0.63, 0.8, 0.95, 0.979, 0.98])
  func smallest(target: Double) {
    let lists = 40
    let (nprobe, _) = IVFNeighborIndex.smallestProbes(listCount: lists, targetRecall: target) {
      Self.curve($0)
    }
    let expected = (1...lists).first { Self.curve($0).lowerBound >= target } ?? lists
    #expect(nprobe == expected, "target \(target)")
  }

  @Test("a target no nprobe reaches gives every list")
  func unreachable() {
    let (nprobe, estimate) = IVFNeighborIndex.smallestProbes(listCount: 37, targetRecall: 0.999) {
      Estimate(mean: min(0.99, 0.5 + 0.1 * Double($0)), lowerBound: min(0.98, 0.5 + 0.1 * Double($0)))
    }
    #expect(nprobe == 37 && estimate.lowerBound < 0.999)
  }

  @Test("a built index's nprobe has a bound at the target, and one list fewer has not")
  func builtIndex() throws {
    let vectors = clusteredUnitVectors(
      count: 6_000, dimensions: 48, clusters: 80, noise: 1.2, seed: 21)
    let ivf = try IVFNeighborIndex(vectors, configuration: .init(nprobe: 1, seed: 4))
    let (nprobe, estimate) = ivf.calibrate(vectors, queries: 400, targetRecall: 0.95, seed: 4)
    #expect(nprobe > 1 && nprobe < ivf.listCount)
    #expect(estimate.lowerBound >= 0.95 && estimate.mean >= estimate.lowerBound)
    let sample = try #require(ivf.calibrationSample(vectors, queries: 400, seed: 4))
    #expect(sample.rows.count == 400)
    #expect(ivf.sampledRecall(sample, in: vectors, nprobe: nprobe) == estimate)
    #expect(ivf.sampledRecall(sample, in: vectors, nprobe: nprobe - 1).lowerBound < 0.95)
  }

  @Test(
    "the probe ladder finds what a batch search finds, at every nprobe asked, in any order",
    arguments: [10, 60])
  func ladderMatchesBatchSearch(depth: Int) throws {
    // 300 lists of about 10 vectors: at small nprobe many queries hold too few candidates
    // and are searched on their own, as a batch search does.
    let vectors = clusteredUnitVectors(
      count: 3_000, dimensions: 32, clusters: 60, noise: 1.4, seed: 8)
    let ivf = try IVFNeighborIndex(vectors, configuration: .init(lists: 300, nprobe: 1, seed: 2))
    let rows = Array(stride(from: 3, to: 3_000, by: 7))
    let eligible: (Int) -> Bool = { $0 % 11 != 0 }
    var ladder = IVFNeighborIndex.ProbeLadder(
      ivf, rows: rows, in: vectors, count: depth, isEligible: eligible)
    for nprobe in [1, 2, 4, 8, 16, 12, 10, 11, 40, 3, 300, 500] {
      for count in [depth, 5] {
        let expected = ivf.neighbors(
          ofRows: rows, in: vectors, count: count, nprobe: nprobe, excluding: { $0 },
          isEligible: eligible)
        let found = ladder.neighbors(nprobe: nprobe, depth: count)
        for (query, (got, want)) in zip(found, expected).enumerated() {
          #expect(
            Self.sameNeighbors(got, want), "nprobe \(nprobe), depth \(count), query \(query)")
        }
      }
    }
    #expect(ladder.scanned == 300)
  }

  /// Whether two result lists agree up to SGEMM's rounding, which depends on how many
  /// queries share a call (a few units in the last place of a 32-dimensional product):
  /// the same length and scores, and the same papers except among scores that close.
  static func sameNeighbors(_ a: [Neighbor], _ b: [Neighbor]) -> Bool {
    let tolerance: Float = 1e-5
    guard a.count == b.count else { return false }
    guard zip(a, b).allSatisfy({ abs($0.score - $1.score) <= tolerance }) else { return false }
    guard let last = b.last?.score else { return true }
    let clear = { (list: [Neighbor]) in Set(list.filter { $0.score > last + tolerance }.map(\.position)) }
    return clear(a) == clear(b)
  }
}
