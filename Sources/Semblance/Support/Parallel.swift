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
