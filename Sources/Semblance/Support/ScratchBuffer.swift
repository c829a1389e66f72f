/// A reusable block of memory that a hot loop fills anew for each item: the fields a parser
/// decodes from a record, a paper's bigrams, a row being weighed. So the loop allocates
/// nothing per item and, through ``base``, reads and writes with no reference counting or
/// uniqueness checks.
final class ScratchBuffer<Element: BitwiseCopyable> {
  private(set) var base: UnsafeMutablePointer<Element>
  private(set) var capacity: Int

  init(capacity: Int = 1 << 12) {
    self.capacity = Swift.max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  deinit {
    base.deallocate()
  }

  /// Makes room for at least `minimumCapacity` elements. The old contents are discarded.
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
