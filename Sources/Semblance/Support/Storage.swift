#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable contiguous elements, owned either by this object (heap memory it allocated)
/// or by a memory-mapped file that it keeps alive.
///
/// This is what lets a `PaperIndex` loaded from disk point straight into the mapped file
/// without copying its large arrays, while an index built in memory uses the same code paths.
/// The elements are never mutated after initialisation, so sharing across threads is safe.
final class Storage<Element: BitwiseCopyable>: @unchecked Sendable {
  /// The elements. Valid for the lifetime of this object.
  let buffer: UnsafeBufferPointer<Element>
  private let owner: AnyObject?

  /// Allocates `count` elements and lets `initializer` write every one of them.
  init(
    count: Int, hugePages: Bool = false,
    initializingWith initializer: (UnsafeMutableBufferPointer<Element>) throws -> Void
  ) rethrows {
    precondition(count >= 0, "negative storage size")
    // A large store (a corpus's CSR matrix, the SVD's transpose of it) is a mapping of its
    // own, so that inside a build its pages can go on to the next large array instead of
    // back to the kernel (``PageReserve``). It keeps 4 KiB pages, cheaper to get fresh than
    // huge ones, unless asked (the SVD's Xᵀ at scale, see `TruncatedSVD.hugePageMinimum`).
    if count * MemoryLayout<Element>.stride >= Storage.mappedMinimum {
      let memory = AnonymousMemory(capacity: count, of: Element.self, hugePages: hugePages)
      let elements = memory.base.bindMemory(to: Element.self, capacity: count)
      try initializer(UnsafeMutableBufferPointer(start: elements, count: count))
      self.buffer = UnsafeBufferPointer(start: elements, count: count)
      self.owner = memory
      return
    }
    let memory = UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(count, 1))
    do {
      try initializer(UnsafeMutableBufferPointer(rebasing: memory[0..<count]))
    } catch {
      memory.deallocate()
      throw error
    }
    self.buffer = UnsafeBufferPointer(rebasing: memory[0..<count])
    self.owner = nil
  }

  /// Stores of at least this many bytes are mapped (``AnonymousMemory``). Smaller ones come
  /// from `malloc`, which recycles freed blocks of up to 32 MiB itself (glibc raises its
  /// mapping threshold to the largest block freed); mapping those too cost 30–50 MB more
  /// peak memory at 34,000 papers.
  static var mappedMinimum: Int { 64 << 20 }

  /// Copies the elements of `array`.
  convenience init(_ array: some Collection<Element>) {
    self.init(count: array.count) { destination in
      _ = destination.initialize(fromContentsOf: array)
    }
  }

  /// Views `count` elements that live inside memory kept alive by `owner` (a mapped file,
  /// or the ``AnonymousMemory`` of a large store).
  init(viewing base: UnsafePointer<Element>, count: Int, owner: AnyObject) {
    self.buffer = UnsafeBufferPointer(start: base, count: count)
    self.owner = owner
  }

  deinit {
    if owner == nil, let base = buffer.baseAddress {
      UnsafeMutablePointer(mutating: base).deallocate()
    }
  }

  var count: Int { buffer.count }

  @inline(__always)
  subscript(position: Int) -> Element {
    assert(position >= 0 && position < buffer.count, "storage index out of range")
    return buffer[position]
  }

  /// A fresh array copy of the elements.
  var array: [Element] { Array(buffer) }

  /// The index file the elements live in, when they are a view of one.
  var mappedFile: MappedFile? { owner as? MappedFile }

  /// Drops the process's mapping of the pages that hold `elements` (all of them by default)
  /// when they live in a mapped index file (``MappedFile/release(_:)``): the elements stay
  /// valid and are mapped again from the file when read. Does nothing for memory this
  /// process allocated, whose pages hold the only copy.
  func releasePagesIfMapped(_ elements: Range<Int>? = nil) {
    let stride = MemoryLayout<Element>.stride
    let elements = (elements ?? 0..<count).clamped(to: 0..<count)
    releasePagesIfMapped(bytes: (elements.lowerBound * stride)..<(elements.upperBound * stride))
  }

  /// ``releasePagesIfMapped(_:)`` for a range of the elements' bytes.
  func releasePagesIfMapped(bytes: Range<Int>) {
    guard let file = mappedFile, let base = buffer.baseAddress,
      let fileBase = file.bytes.baseAddress
    else { return }
    let bytes = bytes.clamped(to: 0..<rawBytes.count)
    let start = UnsafeRawPointer(base) - fileBase
    file.release((start + bytes.lowerBound)..<(start + bytes.upperBound))
  }

  /// The raw bytes of the elements, for writing to a file.
  var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(buffer) }
}

extension Storage where Element == UInt8 {
  /// An empty byte store.
  static var empty: Storage<UInt8> { Storage(count: 0) { _ in } }
}
