#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Collects tagged sections and writes them as one index file, atomically.
///
/// ```swift
/// var writer = IndexFileWriter()
/// writer.append("CONF", bytes: configurationJSON)
/// writer.append("EMBD", embeddings)          // a Storage<Float>; kept by reference
/// try writer.write(to: url)
/// ```
///
/// The layout is described at ``IndexFileLayout``. Sections are written in the order they
/// were appended.
struct IndexFileWriter {
  /// The bytes of one section, kept alive until the file is written.
  private enum Payload {
    case array([UInt8])
    case storage(owner: AnyObject, bytes: UnsafeRawBufferPointer)

    var count: Int {
      switch self {
      case .array(let array): return array.count
      case .storage(_, let bytes): return bytes.count
      }
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
      switch self {
      case .array(let array):
        return try array.withUnsafeBytes(body)
      case .storage(let owner, let bytes):
        return try withExtendedLifetime(owner) { try body(bytes) }
      }
    }
  }

  /// The format version written into the header.
  let formatVersion: UInt32
  private var sections: [(tag: IndexFileTag, payload: Payload)] = []

  /// A writer with no sections yet.
  ///
  /// - Parameter formatVersion: the version recorded in the header; only tests write
  ///   anything but the current one.
  init(formatVersion: UInt32 = IndexFileLayout.currentVersion) {
    self.formatVersion = formatVersion
  }

  /// The tags appended so far, in order.
  var tags: [IndexFileTag] { sections.map(\.tag) }

  /// Adds a section holding the elements of `storage`, which is kept by reference, not copied.
  ///
  /// Appending the same tag twice is a programming error and traps.
  mutating func append<T: BitwiseCopyable>(_ tag: IndexFileTag, _ storage: Storage<T>) {
    appendSection(tag, .storage(owner: storage, bytes: storage.rawBytes))
  }

  /// Adds a section holding `bytes`.
  ///
  /// Appending the same tag twice is a programming error and traps.
  mutating func append(_ tag: IndexFileTag, bytes: [UInt8]) {
    appendSection(tag, .array(bytes))
  }

  private mutating func appendSection(_ tag: IndexFileTag, _ payload: Payload) {
    precondition(!sections.contains { $0.tag == tag }, "section '\(tag)' appended twice")
    precondition(sections.count < Int(UInt32.max), "too many sections")
    sections.append((tag, payload))
  }

  /// Writes the file to `url`, replacing any file there only once the new one is complete.
  ///
  /// The bytes go to a uniquely named temporary file in the same directory, which is
  /// synced and then renamed over `url`; the directory is synced last so that the rename
  /// itself survives a crash. On any failure the temporary file is removed and an existing
  /// file at `url` is left as it was. (A failure to sync the directory after the rename is
  /// still reported, though by then the new file is in place.)
  ///
  /// - Throws: ``IndexFileError/io(file:operation:reason:)`` naming the failed operation.
  /// - Complexity: one pass over the section bytes, checksumming while writing.
  func write(to url: URL) throws {
    guard url.isFileURL else {
      throw IndexFileError.io(
        file: url.absoluteString, operation: "write", reason: "it is not a file URL")
    }
    do {
      try AtomicFile.write(to: url) { descriptor, path in
        try writeContents(to: descriptor, path: path)
      }
    } catch let error as FileError {
      throw IndexFileError.io(file: error.path, operation: error.operation, reason: error.reason)
    }
  }

  /// Streams padding, sections, header and table into `descriptor`.
  private func writeContents(to descriptor: Int32, path: String) throws {
    let placement = IndexFileLayout.placeSections(lengths: sections.map { $0.payload.count })
    var entries: [IndexFileSectionEntry] = []
    entries.reserveCapacity(sections.count)

    // Everything before the first section is written last; reserve its place with zeros.
    var position = 0
    let prefixLength = sections.isEmpty ? placement.fileLength : placement.offsets[0]
    try IndexFileWriter.writeZeros(prefixLength, to: descriptor, path: path)
    position = prefixLength

    for (index, section) in sections.enumerated() {
      let offset = placement.offsets[index]
      try IndexFileWriter.writeZeros(offset - position, to: descriptor, path: path)
      let crc = try section.payload.withUnsafeBytes { bytes in
        try IndexFileWriter.writeSection(bytes, at: offset, to: descriptor, path: path)
      }
      position = offset + section.payload.count
      entries.append(
        IndexFileSectionEntry(
          tag: section.tag, offset: UInt64(offset), length: UInt64(section.payload.count),
          crc: crc))
    }
    assert(position == placement.fileLength)

    var table: [UInt8] = []
    table.reserveCapacity(IndexFileLayout.entrySize * entries.count)
    for entry in entries { entry.encode(into: &table) }
    let header = IndexFileHeader(
      formatVersion: formatVersion, sectionCount: UInt32(entries.count),
      fileLength: UInt64(placement.fileLength), tableCRC: CRC32.checksum(table))
    try (header.encoded() + table).withUnsafeBytes {
      try IndexFileWriter.writeAll($0, to: descriptor, path: path, at: 0)
    }
  }

  /// Writes one section's payload at `offset` and returns its CRC-32, leaving the file
  /// position just after it.
  ///
  /// A large payload is split into one contiguous part per core; each core checksums a chunk
  /// of its part while it is hot in cache and writes it with `pwrite` at its place, and the
  /// parts' checksums are joined (``CRC32/combine(parts:of:)``). Copying into the
  /// page cache and checksumming both ran on one core before, at about 450 MB/s.
  private static func writeSection(
    _ bytes: UnsafeRawBufferPointer, at offset: Int, to descriptor: Int32, path: String
  ) throws -> UInt32 {
    let parts = Swift.max(1, Swift.min(processorCount, bytes.count / parallelPartMinimum))
    var checksums = [UInt32](repeating: 0, count: parts)
    var failures = [(any Error)?](repeating: nil, count: parts)
    checksums.withUnsafeMutableBufferPointer { checksums in
      failures.withUnsafeMutableBufferPointer { failures in
        let results = UnsafeSendable((checksums, failures))
        parallelForEach(chunks: parts) { part in
          let range = chunkRange(part, of: parts, count: bytes.count)
          var crc = CRC32()
          var start = range.lowerBound
          do {
            while start < range.upperBound {
              let end = Swift.min(start + chunkSize, range.upperBound)
              let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
              crc.update(chunk)
              try writeAll(chunk, to: descriptor, path: path, at: offset + start)
              start = end
            }
          } catch {
            results.value.1[part] = error
          }
          results.value.0[part] = crc.value
        }
      }
    }
    if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    guard lseek(descriptor, off_t(offset + bytes.count), SEEK_SET) >= 0 else {
      throw IndexFileError.system(file: path, operation: "seek")
    }
    return CRC32.combine(parts: checksums, of: bytes.count)
  }

  /// Payloads shorter than twice this are written by one core.
  private static let parallelPartMinimum = 32 << 20

  // MARK: - System calls

  /// Bytes checksummed and written per step: large enough for few system calls, small
  /// enough to stay in cache between checksumming and writing.
  private static let chunkSize = 4 << 20
  /// The largest single write(2) request (Linux caps one call just below 2 GiB).
  private static let maximumWrite = 1 << 30
  private static let zeros = [UInt8](repeating: 0, count: IndexFileLayout.sectionAlignment * 16)

  private static func writeZeros(_ count: Int, to descriptor: Int32, path: String) throws {
    var remaining = count
    while remaining > 0 {
      let step = Swift.min(remaining, zeros.count)
      try zeros.withUnsafeBytes {
        try writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<step]), to: descriptor, path: path)
      }
      remaining -= step
    }
  }

  /// Writes every byte of `bytes`, at the current position or, with `offset`, at that offset.
  private static func writeAll(
    _ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String, at offset: Int? = nil
  ) throws {
    var written = 0
    while written < bytes.count {
      let base = bytes.baseAddress! + written
      let request = Swift.min(bytes.count - written, maximumWrite)
      let result =
        if let offset {
          pwrite(descriptor, base, request, off_t(offset + written))
        } else {
          systemWrite(descriptor, base, request)
        }
      if result < 0 {
        if errno == EINTR { continue }
        throw IndexFileError.system(file: path, operation: "write")
      }
      if result == 0 {
        throw IndexFileError.io(file: path, operation: "write", reason: "no bytes were written")
      }
      written += result
    }
  }
}
