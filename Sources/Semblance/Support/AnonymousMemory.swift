#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zero-filled, page-aligned memory mapped straight from the kernel, for the SVD's large
/// scratch arrays.
///
/// The sparse products touch rows of hundreds of megabytes in data-dependent order. With
/// 4 KiB pages nearly every touch then misses the TLB, so on Linux the mapping asks for
/// transparent huge pages (`MADV_HUGEPAGE`), which cover 2 MiB each. Fresh pages read as
/// zero, so a new mapping needs no clearing pass.
final class AnonymousMemory: @unchecked Sendable {
  /// The first byte; valid until `deinit`.
  let base: UnsafeMutableRawPointer
  /// The bytes mapped.
  let byteCount: Int

  /// Maps `byteCount` bytes (at least one page).
  ///
  /// Running out of address space or memory stops the process, as an array allocation would.
  init(byteCount requested: Int) {
    precondition(requested >= 0, "negative allocation")
    let size = AnonymousMemory.roundedUp(max(requested, 1))
    let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let mapped, mapped != MAP_FAILED else {
      fatalError("cannot map \(size) bytes of scratch memory (errno \(errno))")
    }
    #if os(Linux)
    if size >= 4 << 20 { _ = madvise(mapped, size, MADV_HUGEPAGE) }
    #endif
    base = mapped
    byteCount = size
  }

  /// Memory for `count` values of `type`.
  convenience init<T>(capacity count: Int, of type: T.Type) {
    self.init(byteCount: count * MemoryLayout<T>.stride)
  }

  deinit { munmap(base, byteCount) }

  /// The memory as `count` values of `type`.
  func pointer<T>(to type: T.Type) -> UnsafeMutablePointer<T> {
    base.assumingMemoryBound(to: type)
  }

  private static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)

  private static func roundedUp(_ bytes: Int) -> Int {
    (bytes + pageSize - 1) / pageSize * pageSize
  }
}
