#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a file so that it appears complete or not at all: the bytes go to a uniquely named
/// temporary file in the same directory, which is synced and renamed over the destination.
/// On any failure the temporary file is removed and an existing destination is untouched.
package enum AtomicFile {
  /// Writes `url` with the bytes `body` produces through a buffered output.
  package static func write(to url: URL, _ body: (inout BufferedOutput) throws -> Void) throws {
    try write(to: url) { descriptor, path in
      var output = BufferedOutput(descriptor: descriptor, path: path)
      try body(&output)
      try output.flush()
    }
  }

  /// Writes `url` through `body`, which gets the temporary file's descriptor (positioned at
  /// its start) and the destination path for messages.
  ///
  /// - Throws: `FileError` naming the failed step, or whatever `body` throws.
  package static func write(to url: URL, descriptor body: (Int32, String) throws -> Void) throws {
    let path = url.path
    let directory = url.deletingLastPathComponent().path
    let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(random)").path
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw FileError.system(path: path, operation: "create a temporary file next to")
    }
    var isOpen = true
    do {
      try body(descriptor, path)
      guard fsync(descriptor) == 0 else { throw FileError.system(path: path, operation: "sync") }
      isOpen = false
      guard close(descriptor) == 0 else { throw FileError.system(path: path, operation: "close") }
      guard rename(temporary, path) == 0 else {
        throw FileError.system(path: path, operation: "replace")
      }
    } catch {
      if isOpen { close(descriptor) }
      unlink(temporary)
      throw error
    }
    // Make the rename durable. Some file systems cannot sync directories (EINVAL).
    let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else {
      throw FileError.system(path: path, operation: "sync the directory of")
    }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 || errno == EINVAL else {
      throw FileError.system(path: path, operation: "sync the directory of")
    }
  }
}

/// A write buffer over a file descriptor.
package struct BufferedOutput {
  package let descriptor: Int32
  package let path: String
  private var buffer: [UInt8] = []
  private static let capacity = 1 << 20

  package init(descriptor: Int32, path: String) {
    self.descriptor = descriptor
    self.path = path
    buffer.reserveCapacity(BufferedOutput.capacity)
  }

  package mutating func write(_ text: String) throws {
    var text = text
    try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
  }

  package mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
    if buffer.count + bytes.count > BufferedOutput.capacity { try flush() }
    if bytes.count >= BufferedOutput.capacity {
      try writeAll(bytes)
    } else {
      buffer.append(contentsOf: bytes)
    }
  }

  package mutating func flush() throws {
    guard !buffer.isEmpty else { return }
    try buffer.withUnsafeBytes { try writeAll($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
    var start = 0
    while start < bytes.count {
      let written = systemWrite(descriptor, bytes.baseAddress! + start, bytes.count - start)
      if written < 0 {
        if errno == EINTR { continue }
        throw FileError.system(path: path, operation: "write")
      }
      start += written
    }
  }
}

/// `write(2)`, named apart from `BufferedOutput.write`.
@inline(__always)
func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
  Glibc.write(descriptor, bytes, count)
  #else
  Darwin.write(descriptor, bytes, count)
  #endif
}
