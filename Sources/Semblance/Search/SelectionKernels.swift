import CSemblanceKernels

/// Swift entry points to the comparison kernels of the top-k scans (`CSemblanceKernels`),
/// which the scans call directly; these serve tests and occasional callers.
enum SelectionKernels {
  /// Whether the AVX-512 kernels run: the processor's choice unless a test forced the
  /// portable ones with `useVectorized(false)`.
  static var vectorized: Bool { semblance_vector_kernels() != 0 }

  /// Forces the portable kernels (`false`: the selection loops, the table-driven CRC-32
  /// without carry-less folding, and gathers that round each multiplication and addition on
  /// its own), or restores the processor's choice (`true`). Both give the same selections,
  /// tokens and checksums; the gathers' sums can differ in the last bits, so a build that
  /// runs while another thread switches may not match another build to the bit.
  static func useVectorized(_ enabled: Bool) {
    semblance_use_vector_kernels(enabled ? 1 : 0)
  }

  /// The indices of `scores` whose score is at least `threshold`, ascending (never a NaN).
  static func indices(of scores: UnsafeBufferPointer<Float>, atLeast threshold: Float) -> [Int] {
    hits(count: scores.count) {
      semblance_indices_at_least(scores.baseAddress!, scores.count, threshold, $0)
    }
  }

  /// The indices `i` of `scores` with `scores[i] >= thresholds[i]`, ascending.
  static func indices(
    of scores: UnsafeBufferPointer<Float>, atLeast thresholds: UnsafeBufferPointer<Float>
  ) -> [Int] {
    precondition(thresholds.count == scores.count, "one threshold per score")
    return hits(count: scores.count) {
      semblance_indices_at_least_each(
        scores.baseAddress!, thresholds.baseAddress!, scores.count, $0)
    }
  }

  /// The hits a kernel writes for `count` inputs, into a buffer with the 16 spare entries
  /// the kernels need; none for no input.
  private static func hits(count: Int, _ kernel: (UnsafeMutablePointer<UInt32>) -> Int) -> [Int] {
    guard count > 0 else { return [] }
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count + 16) { hits in
      hits[0..<kernel(hits.baseAddress!)].map { Int($0) }
    }
  }
}
