#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a file, read with POSIX `read(2)` into the caller's buffer.
///
/// Nothing is mapped or buffered here; ``ChunkedByteReader`` decides how much to read at a time.
final class FileByteSource: ByteSource {
  private let descriptor: Int32
  private let name: String

  /// Opens `path` for reading.
  /// - Throws: ``CorpusError/unreadable(file:reason:)`` with the system's reason.
  init(path: String, name: String) throws(CorpusError) {
    self.name = name
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw .unreadable(file: name, reason: Self.systemReason(errno))
    }
    var status = stat()
    if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
      close(descriptor)
      throw .unreadable(file: name, reason: Self.systemReason(EISDIR))
    }
    self.descriptor = descriptor
  }

  deinit {
    close(descriptor)
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(CorpusError) -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    while true {
      let count = systemRead(descriptor, base, buffer.count)
      if count >= 0 { return count }
      if errno == EINTR { continue }
      throw .unreadable(file: name, reason: Self.systemReason(errno))
    }
  }

  /// The C library's text for an `errno` value, such as "No such file or directory".
  static func systemReason(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
  }
}

/// `read(2)`, under a name that the method above does not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(descriptor, buffer, count)
}
