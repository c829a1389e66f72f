import Dispatch
import Foundation

/// Runs `body` for every chunk index in `0..<chunks`, spread over the machine's cores.
///
/// Work is divided into a fixed number of chunks decided by the caller, never by timing,
/// so every result is independent of scheduling and bit-identical from run to run.
///
/// The caller guarantees that different chunks never write the same memory (each writes its
/// own rows or its own result slot) and only read what no chunk writes. That contract is
/// why `body` need not be `@Sendable`: the kernels pass raw buffers, which Swift cannot
/// prove disjoint.
func parallelForEach(chunks: Int, _ body: (Int) -> Void) {
  if chunks <= 1 {
    if chunks == 1 { body(0) }
    return
  }
  withoutActuallyEscaping(body) { body in
    let shared = UnsafeSendable(body)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      shared.value(chunk)
    }
  }
}

/// The number of cores to spread work over: `SEMBLANCE_THREADS` when it is set to a positive
/// whole number (at most 1,024), otherwise the cores this process may run on.
let processorCount: Int = {
  if let text = ProcessInfo.processInfo.environment["SEMBLANCE_THREADS"],
    let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...1024).contains(value)
  {
    return value
  }
  return max(1, ProcessInfo.processInfo.activeProcessorCount)
}()

/// Splits `0..<count` into `parts` contiguous ranges of near-equal size.
@inline(__always)
func chunkRange(_ index: Int, of parts: Int, count: Int) -> Range<Int> {
  let lower = count * index / parts
  let upper = count * (index + 1) / parts
  return lower..<upper
}

extension Array {
  /// Sorts the array by a strict total order on all cores: contiguous runs sorted at once,
  /// then merged pairwise, a round of merges at a time.
  ///
  /// With a total order (no two elements equivalent) the result is the one sorted order, the
  /// same as `sort(by:)` gives, whatever the number of cores.
  mutating func parallelSort(by areInIncreasingOrder: (Element, Element) -> Bool) {
    parallelSort(parts: count < 1 << 16 ? 1 : processorCount, by: areInIncreasingOrder)
  }

  /// ``parallelSort(by:)`` in `parts` runs.
  mutating func parallelSort(parts: Int, by areInIncreasingOrder: (Element, Element) -> Bool) {
    let parts = Swift.max(1, Swift.min(parts, count))
    guard parts > 1 else {
      sort(by: areInIncreasingOrder)
      return
    }
    var runs = (0..<parts).map { chunkRange($0, of: parts, count: count) }
    withUnsafeMutableBufferPointer { buffer in
      let shared = UnsafeSendable(buffer)
      parallelForEach(chunks: runs.count) { run in
        var part = UnsafeMutableBufferPointer(rebasing: shared.value[runs[run]])
        part.sort(by: areInIncreasingOrder)
      }
    }
    var source = self
    while runs.count > 1 {
      let pairs = runs.count / 2
      source.withUnsafeBufferPointer { from in
        withUnsafeMutableBufferPointer { to in
          let from = UnsafeSendable(from), to = UnsafeSendable(to)
          parallelForEach(chunks: pairs) { pair in
            Array.merge(
              from.value, runs[2 * pair], runs[2 * pair + 1], into: to.value,
              by: areInIncreasingOrder)
          }
        }
      }
      var merged = (0..<pairs).map { runs[2 * $0].lowerBound..<runs[2 * $0 + 1].upperBound }
      // The odd run out is already in place: `source` is a copy of this array.
      if runs.count % 2 == 1 { merged.append(runs[runs.count - 1]) }
      runs = merged
      if runs.count > 1 { source = self }
    }
  }

  /// Merges the sorted runs `a` and `b` of `from` (adjacent, `a` first) into the same
  /// positions of `to`; on equal elements `a`'s come first.
  private static func merge(
    _ from: UnsafeBufferPointer<Element>, _ a: Range<Int>, _ b: Range<Int>,
    into to: UnsafeMutableBufferPointer<Element>,
    by areInIncreasingOrder: (Element, Element) -> Bool
  ) {
    var i = a.lowerBound, j = b.lowerBound, target = a.lowerBound
    while i < a.upperBound && j < b.upperBound {
      if areInIncreasingOrder(from[j], from[i]) {
        to[target] = from[j]
        j += 1
      } else {
        to[target] = from[i]
        i += 1
      }
      target += 1
    }
    while i < a.upperBound {
      to[target] = from[i]
      i += 1
      target += 1
    }
    while j < b.upperBound {
      to[target] = from[j]
      j += 1
      target += 1
    }
  }
}
