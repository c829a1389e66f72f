import ArgumentParser
import Foundation
import Semblance

/// What the IVF index of a run looked like and how close its all-pairs graph came to exact.
struct IVFMeasurement: Codable, Sendable {
  var lists: Int
  var nprobe: Int
  /// The recall@10 `nprobe` reached on its calibration queries (nil when nprobe was given).
  var calibratedRecall: Double?
  /// k of the graphs compared.
  var k: Int
  /// Mean recall@k of the IVF all-pairs graph against the exact one, over every paper (nil
  /// when the exact graph was skipped).
  var graphRecall: Double?
  /// All-pairs time through the IVF over the exact all-pairs time (nil likewise).
  var speedup: Double?

  /// Compares the IVF graph with the exact one, row by row (rows with no exact neighbours skipped).
  static func recall(_ approximate: [[Neighbor]], exact: [[Neighbor]]) -> Double {
    var total = 0.0, counted = 0
    for (found, expected) in zip(approximate, exact) where !expected.isEmpty {
      let rows = Set(expected.map(\.position))
      total += Double(found.filter { rows.contains($0.position) }.count) / Double(expected.count)
      counted += 1
    }
    return counted == 0 ? 1 : total / Double(counted)
  }

  /// The report line.
  var line: String {
    let calibrated = calibratedRecall.map { String(format: " (calibrated %.3f)", $0) } ?? ""
    guard let graphRecall, let speedup else {
      return String(
        format: "IVF        %d lists, nprobe %d%@; exact graph skipped, so no all-pairs recall",
        lists, nprobe, calibrated as NSString)
    }
    return String(
      format: "IVF        %d lists, nprobe %d%@: all-pairs recall@%d %.3f against exact, %.1f× faster",
      lists, nprobe, calibrated as NSString, k, graphRecall, speedup)
  }
}

extension IndexConfiguration.ApproximateSearch: ExpressibleByArgument {}
