#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSemblanceKernels
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
  /// A section's bytes: in memory (kept alive by this value until the file is written), or
  /// formed piece by piece as the file is written.
  struct SectionBytes: @unchecked Sendable {
    let count: Int
    private let base: UnsafeRawPointer?
    private let generate: (@Sendable (Range<Int>, UnsafeMutableRawPointer) -> Void)?
    private let copied: (@Sendable (Range<Int>) -> Void)?

    /// The elements of `storage`. When they live in a mapped index file (an index loaded and
    /// then grown or written again), each range's pages are released once it is copied
    /// (`Storage.releasePagesIfMapped`), so that writing does not leave the whole source
    /// file resident.
    init<T: BitwiseCopyable>(_ storage: Storage<T>) {
      count = storage.rawBytes.count
      base = storage.rawBytes.baseAddress
      generate = nil
      // The closure holds `storage`, and with it the memory `base` points into.
      copied = { storage.releasePagesIfMapped(bytes: $0) }
    }

    /// `count` bytes that `generate` writes, any range of them at a time, at a pointer.
    init(count: Int, generate: @escaping @Sendable (Range<Int>, UnsafeMutableRawPointer) -> Void) {
      self.count = count
      base = nil
      self.generate = generate
      copied = nil
    }

    /// Writes bytes `range` (within `0..<count`) at `destination`.
    func write(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
      if let generate {
        generate(range, destination)
      } else if let base {
        destination.copyMemory(from: base + range.lowerBound, byteCount: range.count)
        copied?(range)
      }
    }
  }

  /// The format version written into the header.
  let formatVersion: UInt32
  private var sections: [(tag: IndexFileTag, bytes: SectionBytes)] = []

  /// A writer with no sections yet.
  ///
  /// - Parameter formatVersion: the version recorded in the header; only tests write
  ///   anything but the current one.
  init(formatVersion: UInt32 = IndexFileLayout.currentVersion) {
    self.formatVersion = formatVersion
  }

  /// The tags appended so far, in order.
  var tags: [IndexFileTag] { sections.map(\.tag) }

  /// Adds a section holding the elements of `storage`, which is kept by reference, not copied
  /// (see ``SectionBytes/init(_:)`` for elements in a mapped file).
  ///
  /// Appending the same tag twice is a programming error and traps.
  mutating func append<T: BitwiseCopyable>(_ tag: IndexFileTag, _ storage: Storage<T>) {
    appendSection(tag, SectionBytes(storage))
  }

  /// Adds a section of `byteCount` bytes that are never held whole: `generate(range,
  /// destination)` writes bytes `range` of it at `destination` while the file is written,
  /// called for disjoint ranges, from several threads at once.
  ///
  /// Appending the same tag twice is a programming error and traps.
  mutating func append(
    _ tag: IndexFileTag, byteCount: Int,
    generatedBy generate: @escaping @Sendable (Range<Int>, UnsafeMutableRawPointer) -> Void
  ) {
    appendSection(tag, SectionBytes(count: byteCount, generate: generate))
  }

  /// Adds a section holding `bytes`.
  ///
  /// Appending the same tag twice is a programming error and traps.
  mutating func append(_ tag: IndexFileTag, bytes: [UInt8]) {
    append(tag, Storage(bytes))
  }

  private mutating func appendSection(_ tag: IndexFileTag, _ bytes: SectionBytes) {
    precondition(!sections.contains { $0.tag == tag }, "section '\(tag)' appended twice")
    precondition(sections.count < Int(UInt32.max), "too many sections")
    sections.append((tag, bytes))
  }

  /// How the bytes reach the disk.
  enum Caching: Sendable {
    /// Past the page cache for files of at least ``IndexFileWriter/directMinimum`` bytes,
    /// through it for smaller ones.
    case automatic
    /// Through the page cache.
    case buffered
    /// Past the page cache whenever the file system allows it, whatever the size.
    case direct
  }

  /// Writes the file to `url`, replacing any file there only once the new one is complete.
  ///
  /// The bytes go to a uniquely named temporary file in the same directory, which is
  /// synced and then renamed over `url`; the directory is synced last so that the rename
  /// itself survives a crash. On any failure the temporary file is removed and an existing
  /// file at `url` is left as it was. (A failure to sync the directory after the rename is
  /// still reported, though by then the new file is in place.)
  ///
  /// - Parameter caching: whether large files skip the page cache (the default); tests
  ///   choose a path.
  /// - Throws: ``IndexFileError/io(file:operation:reason:)`` naming the failed operation.
  /// - Complexity: one pass over the section bytes, checksumming while copying.
  func write(to url: URL, caching: Caching = .automatic) throws {
    guard url.isFileURL else {
      throw IndexFileError.io(
        file: url.absoluteString, operation: "write", reason: "it is not a file URL")
    }
    do {
      try AtomicFile.write(to: url) { descriptor, path in
        try writeContents(to: descriptor, path: path, caching: caching)
      }
    } catch let error as FileError {
      throw IndexFileError.io(file: error.path, operation: error.operation, reason: error.reason)
    }
  }

  /// Files this large or larger are written past the page cache by default.
  ///
  /// A file written past the page cache is read from the disk by the next process that opens
  /// it. At 34,000 papers (a 293 MB file) the build saved 0.35 s and the next `neighbors`
  /// paid 0.2–0.3 s of it back, and a one-query command after a build paid several times its
  /// own time. At 300,000 papers (2.7 GB) the build saved 4.5 s and the next `neighbors` paid
  /// 1.2 s. Smaller files therefore stay in the page cache.
  static let directMinimum = 1 << 30

  /// Writes the whole file image into `descriptor`, a chunk at a time.
  ///
  /// The file is cut into chunks of ``chunkSize`` bytes. Each chunk is assembled in a
  /// page-aligned buffer (the section bytes that fall in it, zeros elsewhere), checksummed
  /// piece by piece while the copy is in cache, and written with one `pwrite` at its place.
  /// The cores take the chunks in turn, each with its own buffer. Chunk 0 holds the header
  /// and the section table, which record every section's checksum, so it is assembled and
  /// written last, once the pieces' checksums have been joined in file order
  /// (``CRC32/combine(_:_:secondLength:)``).
  ///
  /// A large file is written with `O_DIRECT`: the device copies straight from the buffers.
  /// Through the page cache, the kernel copies every byte into newly allocated cache pages
  /// first, and then the closing `fsync` waits for the same bytes to reach the disk. At
  /// 300,000 papers (a 2.7 GB file) that copy took most of the 4.5 s the write took. Where
  /// the file system refuses direct writes, or a direct write is refused, the same chunks go
  /// through the page cache. Direct writes are whole blocks, so the last chunk is padded
  /// with zeros and the file cut back to its length.
  private func writeContents(to descriptor: Int32, path: String, caching: Caching) throws {
    let payloads = sections.map(\.bytes)
    let placement = IndexFileLayout.placeSections(lengths: payloads.map(\.count))
    let image = FileImage(payloads: payloads, offsets: placement.offsets, length: placement.fileLength)

    let wantsDirect =
      switch caching {
      case .automatic: image.length >= IndexFileWriter.directMinimum
      case .buffered: false
      case .direct: true
      }
    let output = ChunkOutput(
      descriptor: descriptor, path: path,
      direct: wantsDirect && semblance_set_direct_io(descriptor, 1) == 0)

    let chunkCount = (image.length + IndexFileWriter.chunkSize - 1) / IndexFileWriter.chunkSize
    var pieces = [[FileImage.Piece]](repeating: [], count: chunkCount)
    var failures = [(any Error)?](repeating: nil, count: chunkCount)
    let workers = Swift.min(processorCount, chunkCount - 1)
    pieces.withUnsafeMutableBufferPointer { pieces in
      failures.withUnsafeMutableBufferPointer { failures in
        let results = UnsafeSendable((pieces, failures))
        // Worker w takes chunks 1 + w, 1 + w + workers, ...; chunk 0 comes last.
        parallelForEach(chunks: workers) { worker in
          let buffer = AnonymousMemory(byteCount: IndexFileWriter.chunkSize)
          var chunk = 1 + worker
          while chunk < chunkCount {
            let range = IndexFileWriter.fileRange(ofChunk: chunk, length: image.length)
            results.value.0[chunk] = image.assemble(range, into: buffer.base)
            do {
              try output.write(buffer.base, range: range)
            } catch {
              results.value.1[chunk] = error
              return
            }
            chunk += workers
          }
        }
      }
    }
    if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }

    let first = AnonymousMemory(byteCount: IndexFileWriter.chunkSize)
    let firstRange = IndexFileWriter.fileRange(ofChunk: 0, length: image.length)
    pieces[0] = image.assemble(firstRange, into: first.base)
    let checksums = FileImage.sectionChecksums(pieces.joined(), sectionCount: sections.count)

    var table: [UInt8] = []
    table.reserveCapacity(IndexFileLayout.entrySize * sections.count)
    for (index, section) in sections.enumerated() {
      IndexFileSectionEntry(
        tag: section.tag, offset: UInt64(placement.offsets[index]),
        length: UInt64(section.bytes.count), crc: checksums[index]
      ).encode(into: &table)
    }
    let header = IndexFileHeader(
      formatVersion: formatVersion, sectionCount: UInt32(sections.count),
      fileLength: UInt64(image.length), tableCRC: CRC32.checksum(table))
    let prefix = header.encoded() + table
    precondition(prefix.count <= firstRange.count, "the section table does not fit in one chunk")
    prefix.withUnsafeBytes { first.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    try output.write(first.base, range: firstRange)
    try output.finish(length: image.length)
  }

  /// The bytes of file chunk `chunk`.
  private static func fileRange(ofChunk chunk: Int, length: Int) -> Range<Int> {
    chunk * chunkSize..<Swift.min((chunk + 1) * chunkSize, length)
  }

  /// Bytes per chunk: enough to keep the device busy between system calls, and a multiple
  /// of every block size direct writes need.
  static let chunkSize = 8 << 20
}
