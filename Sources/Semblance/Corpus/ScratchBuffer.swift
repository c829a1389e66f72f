/// A reusable block of bytes that a parser decodes fields into, so that decoding a record
/// allocates nothing but the resulting strings.
final class ScratchBuffer {
  private(set) var base: UnsafeMutablePointer<UInt8>
  private(set) var capacity: Int

  init(capacity: Int = 1 << 12) {
    self.capacity = Swift.max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  deinit {
    base.deallocate()
  }

  /// Makes room for at least `minimumCapacity` bytes. The old contents are discarded.
  @inline(__always)
  func reserve(_ minimumCapacity: Int) {
    if minimumCapacity > capacity { grow(to: minimumCapacity) }
  }

  private func grow(to minimumCapacity: Int) {
    base.deallocate()
    capacity = Swift.max(minimumCapacity, capacity * 2)
    base = .allocate(capacity: capacity)
  }
}
