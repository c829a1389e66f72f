#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSemblanceKernels
import Foundation

/// Zero-filled, page-aligned memory mapped straight from the kernel, for the build's large
/// arrays.
///
/// The sparse products touch rows of hundreds of megabytes in data-dependent order. With
/// 4 KiB pages nearly every touch then misses the TLB, so on Linux a mapping of 2 MiB or
/// more is aligned to 2 MiB and asks for transparent huge pages (`MADV_HUGEPAGE`).
///
/// Inside ``PageReserve/withReuse(_:)`` such mappings are recycled on Linux: a mapping
/// released there keeps its pages, and the next one takes them over (see ``PageReserve``).
/// Each mapping is zero-filled either way.
final class AnonymousMemory: @unchecked Sendable {
  /// The first byte; valid until `deinit`.
  let base: UnsafeMutableRawPointer
  /// The bytes mapped.
  let byteCount: Int
  /// Where the pages go when this memory is released.
  private let reserve: PageReserve

  /// Maps `byteCount` bytes (at least one page), all zero.
  ///
  /// Running out of address space or memory stops the process, as an array allocation would.
  init(byteCount requested: Int, hugePages: Bool = true, reserve: PageReserve = .shared) {
    precondition(requested >= 0, "negative allocation")
    let size = AnonymousMemory.roundedUp(max(requested, 1), to: AnonymousMemory.pageSize)
    self.reserve = reserve
    #if os(Linux)
    if size >= PageReserve.granule {
      byteCount = AnonymousMemory.roundedUp(size, to: PageReserve.granule)
      base = reserve.map(byteCount, hugePages: hugePages)
      return
    }
    #endif
    base = AnonymousMemory.mapFresh(size)
    byteCount = size
  }

  /// Memory for `count` values of `type`.
  convenience init<T>(capacity count: Int, of type: T.Type, hugePages: Bool = true) {
    self.init(byteCount: count * MemoryLayout<T>.stride, hugePages: hugePages)
  }

  deinit {
    #if os(Linux)
    if byteCount >= PageReserve.granule {
      reserve.release(base, byteCount: byteCount)
      return
    }
    #endif
    munmap(base, byteCount)
  }

  /// The memory as `count` values of `type`.
  func pointer<T>(to type: T.Type) -> UnsafeMutablePointer<T> {
    base.assumingMemoryBound(to: type)
  }

  static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)

  static func roundedUp(_ bytes: Int, to unit: Int) -> Int {
    (bytes + unit - 1) / unit * unit
  }

  /// A new private anonymous mapping of `size` bytes, or the end of the process.
  static func mapFresh(_ size: Int) -> UnsafeMutableRawPointer {
    let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let mapped, mapped != MAP_FAILED else {
      fatalError("cannot map \(size) bytes of memory (errno \(errno))")
    }
    return mapped
  }

  /// Extends the private anonymous mapping at `base` (made by ``mapFresh(_:)``) from
  /// `oldSize` to `newSize` bytes, keeping its contents, and returns its new address; the
  /// added bytes are zero. On Linux the mapping grows in place, or moves, without copying a
  /// page (`mremap`), so only the added pages become new memory; elsewhere it is copied into
  /// a new mapping and the old one is unmapped.
  static func extendFresh(
    _ base: UnsafeMutableRawPointer, from oldSize: Int, to newSize: Int
  ) -> UnsafeMutableRawPointer {
    if let grown = semblance_grow_mapping(base, oldSize, newSize) { return grown }
    let fresh = mapFresh(newSize)
    fresh.copyMemory(from: base, byteCount: oldSize)
    munmap(base, oldSize)
    return fresh
  }
}

/// Pages released by large ``AnonymousMemory`` mappings during a build, handed to the next
/// large mapping instead of back to the kernel (Linux only).
///
/// A page the process has never touched costs a fault and a clearing pass on first write;
/// in virtual machines whose host reclaims freed memory (free page reporting, ballooning)
/// it costs far more, because the host must back it again: on the 2-core machine of
/// Docs/Benchmarks.md about 0.5 s per GB in 4 KiB pages and 2 s per GB in huge pages, against
/// 0.04 s to clear a page that is already backed. The SVD's last step writes V (terms × k
/// floats, 1.9 GB at 300,000 papers) right after freeing Xᵀ, the power iterations' Q and Y
/// and the products' buffers; with the reserve V takes their pages over.
///
/// Inside ``withReuse(_:)`` a released mapping's pages stay mapped, on a list. A new mapping
/// takes pages off the list, up to its size, by moving them (`mremap`, no copy) to the start
/// of its own range, and clears them; the rest of its range is fresh. So the process holds
/// no more than it held before a release, except for the pages on the list until the next
/// mapping takes them. When the outermost scope ends, the list is unmapped. Outside any
/// scope, released memory goes straight back to the kernel.
///
/// ``shared`` serves the library; tests make their own.
final class PageReserve: @unchecked Sendable {
  /// Mappings of at least this size are aligned to it, and recycled in whole multiples of it:
  /// one transparent huge page.
  static let granule = 2 << 20

  /// The reserve every ``AnonymousMemory`` uses unless told otherwise.
  static let shared = PageReserve()
  /// A reserve that is never in scope: its mappings are always fresh and go straight back
  /// to the kernel, leaving the shared reserve's pages to the mappings after them.
  static let bypass = PageReserve()

  private let lock = NSLock()
  private var scopes = 0
  private var regions: [(base: UnsafeMutableRawPointer, byteCount: Int)] = []
  private var reserved = 0
  private var reused = 0
  /// The most bytes the list may hold, set by the outermost scope.
  private var limit = Int.max

  init() {}

  /// Runs `body` with released large mappings kept for the next ones; unmaps what is left
  /// when the outermost call returns.
  ///
  /// - Parameter limit: the most bytes to keep on the list at once (the outermost scope's
  ///   applies): what the mappings still to come inside the scope can take. Pages released
  ///   beyond it go straight back to the kernel, where kept they would only be resident
  ///   until the scope ends.
  func withReuse<R>(keepingAtMost limit: Int = .max, _ body: () throws -> R) rethrows -> R {
    lock.withLock {
      if scopes == 0 { self.limit = max(0, limit) }
      scopes += 1
    }
    defer {
      let leftover: [(base: UnsafeMutableRawPointer, byteCount: Int)] = lock.withLock {
        scopes -= 1
        guard scopes == 0 else { return [] }
        defer {
          regions = []
          reserved = 0
          self.limit = .max
        }
        return regions
      }
      for region in leftover { munmap(region.base, region.byteCount) }
    }
    return try body()
  }

  /// Bytes on the list now, and bytes handed over to new mappings so far.
  var statistics: (reserved: Int, reused: Int) {
    lock.withLock { (reserved, reused) }
  }

  #if os(Linux)
  /// A zero-filled mapping of `size` bytes (a multiple of ``granule``), aligned to
  /// ``granule``, built from reserved pages as far as they go.
  func map(_ size: Int, hugePages: Bool) -> UnsafeMutableRawPointer {
    let granule = PageReserve.granule
    let raw = AnonymousMemory.mapFresh(size + granule)
    let start = UInt(bitPattern: raw)
    let aligned = (start + UInt(granule) - 1) / UInt(granule) * UInt(granule)
    let head = Int(aligned - start), tail = granule - head
    if head > 0 { munmap(raw, head) }
    let base = UnsafeMutableRawPointer(bitPattern: aligned)!
    if tail > 0 { munmap(base + size, tail) }
    if hugePages && size >= 2 * granule { _ = madvise(base, size, MADV_HUGEPAGE) }

    var filled = 0
    lock.withLock {
      while filled < size, let region = regions.popLast() {
        let take = min(region.byteCount, size - filled)
        guard semblance_move_pages(region.base, take, base + filled) == 0 else {
          regions.append(region)
          break
        }
        if take < region.byteCount {
          regions.append((region.base + take, region.byteCount - take))
        }
        reserved -= take
        reused += take
        filled += take
      }
    }
    if filled > 0 { PageReserve.clear(base, byteCount: filled) }
    return base
  }

  /// Puts a mapping on the list inside a scope, or unmaps it: one made by
  /// ``map(_:hugePages:)``, or any other page-aligned anonymous mapping of whole pages that
  /// its caller gives up.
  ///
  /// Beyond the scope's limit, only the first pages that fit are kept and the rest unmapped.
  func release(_ base: UnsafeMutableRawPointer, byteCount: Int) {
    let kept = lock.withLock { () -> Int in
      guard scopes > 0 else { return 0 }
      let room = max(0, limit - reserved) / AnonymousMemory.pageSize * AnonymousMemory.pageSize
      let kept = min(byteCount, room)
      if kept > 0 {
        regions.append((base, kept))
        reserved += kept
      }
      return kept
    }
    if kept < byteCount { munmap(base + kept, byteCount - kept) }
  }
  #endif

  /// Zeroes `byteCount` bytes at `base`, on all cores when there are many.
  private static func clear(_ base: UnsafeMutableRawPointer, byteCount: Int) {
    let piece = 64 << 20
    let pieces = (byteCount + piece - 1) / piece
    parallelForEach(chunks: pieces) { index in
      let start = index * piece
      memset(base + start, 0, min(piece, byteCount - start))
    }
  }
}
