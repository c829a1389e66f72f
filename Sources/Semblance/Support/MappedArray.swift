#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only array of trivial values in an anonymous mapping that grows without copying.
///
/// Counting keeps every paper's term counts until the vocabulary is known: hundreds of
/// megabytes per core at scale. A Swift array that doubles copies its elements into a new
/// block each time, so every page is faulted in about twice; on Linux this mapping is
/// extended in place instead (`mremap`), and only the added pages are new. Elsewhere it is
/// copied into a new mapping, as an array would be.
///
/// The value does not own its memory: copies share it, and exactly one of them must call
/// ``release()``. Not thread-safe.
struct MappedArray<Element: BitwiseCopyable> {
  private(set) var base: UnsafeMutablePointer<Element>?
  private(set) var count = 0
  private var capacity = 0
  private var byteCount = 0

  /// An empty array; nothing is mapped until the first element.
  init() {}

  /// The first mapping's size: one transparent huge page's worth of 4 KiB pages, of which
  /// only those written become memory.
  static var initialByteCount: Int { PageReserve.granule }

  @inline(__always)
  mutating func append(_ element: Element) {
    if count == capacity { grow(toHold: count + 1) }
    base.unsafelyUnwrapped[count] = element
    count += 1
  }

  /// Appends the elements of `elements`.
  @inline(__always)
  mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
    guard !elements.isEmpty else { return }
    reserve(additional: elements.count)
    (base.unsafelyUnwrapped + count).update(from: elements.baseAddress!, count: elements.count)
    count += elements.count
  }

  /// Adds `additional` elements that are not written: room that is written later through
  /// the subscript (their values until then are unspecified), and whose pages become memory
  /// only once written.
  @inline(__always)
  mutating func extend(by additional: Int) {
    reserve(additional: additional)
    count += additional
  }

  /// Keeps only the first `newCount` elements; the pages past them stay mapped until
  /// ``release(to:)``, which keeps only the pages written up to `count`.
  mutating func truncate(to newCount: Int) {
    precondition(newCount >= 0 && newCount <= count, "truncation past the end")
    count = newCount
  }

  /// Makes room for `additional` more elements.
  @inline(__always)
  mutating func reserve(additional: Int) {
    if count + additional > capacity { grow(toHold: count + additional) }
  }

  @inline(__always)
  subscript(position: Int) -> Element {
    get {
      assert(position >= 0 && position < count, "index out of range")
      return base.unsafelyUnwrapped[position]
    }
    nonmutating set {
      assert(position >= 0 && position < count, "index out of range")
      base.unsafelyUnwrapped[position] = newValue
    }
  }

  /// The elements, valid until the array grows or is released.
  var buffer: UnsafeMutableBufferPointer<Element> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  @inline(never)
  private mutating func grow(toHold minimum: Int) {
    let stride = MemoryLayout<Element>.stride
    var bytes = max(byteCount, MappedArray.initialByteCount)
    while bytes / stride < minimum { bytes *= 2 }
    let grown =
      base.map { AnonymousMemory.extendFresh($0, from: byteCount, to: bytes) }
      ?? AnonymousMemory.mapFresh(bytes)
    base = grown.assumingMemoryBound(to: Element.self)
    byteCount = bytes
    capacity = bytes / stride
  }

  /// Gives the memory back, and leaves the array empty. Inside a
  /// ``PageReserve/withReuse(_:)`` scope of `reserve` the pages written go on its list, for
  /// the next large mapping to take over; the rest go back to the kernel.
  mutating func release(to reserve: PageReserve = .shared) {
    guard let base else { return }
    let raw = UnsafeMutableRawPointer(base)
    #if os(Linux)
    let written = AnonymousMemory.roundedUp(
      count * MemoryLayout<Element>.stride, to: AnonymousMemory.pageSize)
    if written < byteCount { munmap(raw + written, byteCount - written) }
    if written > 0 { reserve.release(raw, byteCount: written) }
    #else
    munmap(raw, byteCount)
    #endif
    self = MappedArray()
  }
}
