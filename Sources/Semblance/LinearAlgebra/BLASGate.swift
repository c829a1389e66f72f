import COpenBLAS
import Foundation

/// The process-wide discipline for Semblance's calls into OpenBLAS and its LAPACK.
///
/// OpenBLAS's threaded drivers are not safe to enter from two threads at once in the versions
/// that Linux distributions ship (Debian 12 has 0.3.21): the level-3 `syrk`-style drivers
/// share job state between concurrent callers (OpenBLAS issue 5620), and changing the thread
/// count while another thread is inside a call corrupts that call. The second is easy to
/// reproduce: `dsyevd` on a 486 × 486 matrix, while another thread switches OpenBLAS between
/// one and two threads, returns eigenvectors off by up to 0.65, every time. And results
/// depend on the thread count: SGEMM, transposed SGEMV and `dsyevd` round differently on one
/// thread than on two.
///
/// So every call goes through this gate, in one of two ways:
/// - An ordinary call (``exclusive(_:)``) may use OpenBLAS's threads. It runs alone, with
///   the thread count OpenBLAS had before Semblance touched it, so its result never depends on
///   what else is running.
/// - A kernel that runs its own threads makes single-threaded calls
///   (``singleThreaded(_:)``): many may run at once, with OpenBLAS set to one thread while any
///   is in flight. The thread count changes only when no call is in flight.
///
/// An ordinary call waits for the single-threaded calls in flight to end, and none starts
/// while it waits, so it is delayed by one call at most. Switching the thread count costs a
/// few nanoseconds.
///
/// Code outside Semblance that calls OpenBLAS concurrently with Semblance is not covered.
final class BLASGate: @unchecked Sendable {
  static let shared = BLASGate()

  private let condition = NSCondition()
  /// An ordinary call is in flight.
  private var exclusiveRunning = false
  /// Ordinary calls waiting to start; single-threaded calls let them go first.
  private var exclusiveWaiting = 0
  /// Single-threaded calls in flight.
  private var singleThreadedRunning = 0
  /// OpenBLAS's thread count before the single-threaded calls in flight lowered it.
  private var savedThreadCount: Int32 = 1

  /// Runs one ordinary call into OpenBLAS (`body` makes no other gated call).
  @inline(__always)
  func exclusive<R>(_ body: () throws -> R) rethrows -> R {
    condition.lock()
    if exclusiveRunning || singleThreadedRunning > 0 {
      exclusiveWaiting += 1
      repeat { condition.wait() } while exclusiveRunning || singleThreadedRunning > 0
      exclusiveWaiting -= 1
    }
    exclusiveRunning = true
    condition.unlock()
    defer {
      condition.lock()
      exclusiveRunning = false
      condition.broadcast()
      condition.unlock()
    }
    return try body()
  }

  /// Runs one call into OpenBLAS on the calling thread alone (`body` makes no other gated
  /// call); any number may run at once.
  @inline(__always)
  func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
    condition.lock()
    while exclusiveRunning || exclusiveWaiting > 0 { condition.wait() }
    if singleThreadedRunning == 0 {
      savedThreadCount = openblas_get_num_threads()
      if savedThreadCount > 1 { openblas_set_num_threads(1) }
    }
    singleThreadedRunning += 1
    condition.unlock()
    defer {
      condition.lock()
      singleThreadedRunning -= 1
      if singleThreadedRunning == 0 {
        if savedThreadCount > 1 { openblas_set_num_threads(savedThreadCount) }
        condition.broadcast()
      }
      condition.unlock()
    }
    return try body()
  }
}
