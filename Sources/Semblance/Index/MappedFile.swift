#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole regular file mapped read-only into memory, unmapped when the object goes away.
///
/// ```swift
/// let file = try MappedFile(path: "/data/arxiv.idx")
/// let magic = file.bytes.prefix(8)
/// ```
///
/// The mapping is private and read-only, so the bytes never change through this process.
/// As with any mapping, another process that truncates the file while it is mapped makes
/// later reads of the lost pages fault (SIGBUS); index files are replaced by rename, never
/// rewritten in place, so a reader keeps seeing the complete old file.
final class MappedFile: @unchecked Sendable {
  /// The path the file was opened from, for error messages.
  let path: String
  /// The file's bytes. Valid for the lifetime of this object; empty for an empty file.
  let bytes: UnsafeRawBufferPointer

  /// Opens, measures and maps the file at `path`.
  ///
  /// - Throws: ``IndexFileError/io(file:operation:reason:)`` when the file cannot be opened,
  ///   is not a regular file, or cannot be mapped.
  init(path: String) throws {
    self.path = path
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // never block on a FIFO
    guard descriptor >= 0 else {
      throw IndexFileError.system(file: path, operation: "open")
    }
    defer { close(descriptor) }

    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw IndexFileError.system(file: path, operation: "inspect")
    }
    guard (status.st_mode & S_IFMT) == S_IFREG else {
      let reason = (status.st_mode & S_IFMT) == S_IFDIR ? "it is a directory" : "it is not a regular file"
      throw IndexFileError.io(file: path, operation: "read", reason: reason)
    }
    let size = Int(status.st_size)
    guard size > 0 else {
      // mmap rejects a zero length; an empty file simply has no bytes.
      self.bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
    guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
      throw IndexFileError.system(file: path, operation: "map")
    }
    self.bytes = UnsafeRawBufferPointer(start: address, count: size)
  }

  /// Drops this process's mapping of the pages that hold `range` (rounded out to whole pages),
  /// so that they stop counting towards its resident memory. The bytes stay valid: the mapping
  /// is read-only and never written, so a later read maps the same bytes again from the file
  /// (from the page cache when the kernel still holds them there).
  ///
  /// Opening a file reads sections whole to check them; releasing what was read keeps a large
  /// index from becoming resident in every process that opens it, where a query then touches
  /// a few of its pages.
  func release(_ range: Range<Int>) {
    guard let base = bytes.baseAddress, !range.isEmpty else { return }
    let page = AnonymousMemory.pageSize
    let start = (Int(bitPattern: base) + Swift.max(range.lowerBound, 0)) / page * page
    let end = Int(bitPattern: base) + Swift.min(range.upperBound, bytes.count)
    let mappingEnd = AnonymousMemory.roundedUp(Int(bitPattern: base) + bytes.count, to: page)
    let length = Swift.min(AnonymousMemory.roundedUp(end, to: page), mappingEnd) - start
    guard length > 0, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(address, length, MADV_DONTNEED)
  }

  deinit {
    if let base = bytes.baseAddress {
      munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
    }
  }
}
