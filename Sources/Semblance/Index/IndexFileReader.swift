import Foundation

/// Opens an index file by mapping it into memory, checks it, and hands out zero-copy views
/// of its sections.
///
/// ```swift
/// let file = try IndexFileReader(contentsOf: url)
/// let embeddings = try file.storage("EMBD", as: Float.self)   // points into the mapping
/// ```
///
/// Opening checks the whole structure described at ``IndexFileLayout`` and, with `verify`,
/// every section checksum and padding byte, so that a damaged file is rejected with a typed
/// ``IndexFileError`` instead of crashing later. Sections whose tags the caller does not ask
/// for are ignored, which lets newer writers add sections that older readers skip.
struct IndexFileReader: Sendable {
  /// The path of the file, as used in error messages.
  let path: String
  /// The format version recorded in the header.
  let formatVersion: UInt32
  /// The section tags in file order.
  let tags: [IndexFileTag]

  private let file: MappedFile
  private let sections: [IndexFileTag: Range<Int>]

  /// Maps and checks the index file at `url`.
  ///
  /// - Parameters:
  ///   - url: a file URL.
  ///   - verify: when true (the default), also check every section's CRC-32 and that all
  ///     padding is zero, which reads the whole file once. When false, only the header, the
  ///     table and the placement of the sections are checked, which reads a few pages.
  /// - Throws: ``IndexFileError``: `notAnIndex`, `unsupportedVersion`, `truncated`,
  ///   `corrupt`, `checksumMismatch`, or `io` when the file cannot be opened or mapped.
  /// - Complexity: O(number of sections), plus O(file size) when verifying.
  init(contentsOf url: URL, verify: Bool = true) throws {
    try self.init(file: MappedFile(path: url.path), verify: verify)
  }

  /// Checks an already mapped file.
  init(file: MappedFile, verify: Bool) throws {
    let path = file.path
    let bytes = file.bytes
    let size = bytes.count
    func corrupt(_ reason: String) -> IndexFileError { .corrupt(file: path, reason: reason) }

    // Magic first: a short file that does not even start like an index is not an index.
    let magic = IndexFileLayout.magic
    let comparable = Swift.min(size, magic.count)
    guard size > 0, bytes.prefix(comparable).elementsEqual(magic.prefix(comparable)) else {
      throw size == 0
        ? IndexFileError.truncated(file: path, expectedBytes: IndexFileLayout.headerSize, actualBytes: 0)
        : IndexFileError.notAnIndex(file: path)
    }
    guard size >= IndexFileLayout.headerSize else {
      throw IndexFileError.truncated(
        file: path, expectedBytes: IndexFileLayout.headerSize, actualBytes: size)
    }

    // The version before the header CRC: a newer format may lay out its header differently.
    let header = IndexFileHeader(decoding: bytes)
    let supported = IndexFileLayout.supportedVersions
    guard header.formatVersion <= supported.upperBound else {
      throw IndexFileError.unsupportedVersion(
        file: path, found: header.formatVersion, supported: supported)
    }
    let headerCRCOffset = IndexFileLayout.headerCRCOffset
    let storedHeaderCRC = UInt32(
      littleEndian: bytes.loadUnaligned(fromByteOffset: headerCRCOffset, as: UInt32.self))
    guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<headerCRCOffset])) == storedHeaderCRC
    else {
      throw corrupt("the header checksum does not match the header")
    }
    guard supported.contains(header.formatVersion) else {
      throw corrupt("its header records format version \(header.formatVersion), which never existed")
    }

    guard header.fileLength == UInt64(size) else {
      if header.fileLength > UInt64(size) {
        throw IndexFileError.truncated(
          file: path, expectedBytes: Int(clamping: header.fileLength), actualBytes: size)
      }
      throw corrupt(
        "it is \(size) bytes long but its header records \(header.fileLength); "
          + "\(UInt64(size) - header.fileLength) unexpected bytes follow the end")
    }

    // The section table.
    let sectionCount = Int(header.sectionCount)
    let tableEnd = IndexFileLayout.tableEnd(sectionCount: sectionCount)
    guard tableEnd <= size else {
      throw corrupt(
        "its section table of \(sectionCount) entries would end at byte \(tableEnd), "
          + "past the end of the file")
    }
    let table = UnsafeRawBufferPointer(rebasing: bytes[IndexFileLayout.headerSize..<tableEnd])
    guard CRC32.checksum(table) == header.tableCRC else {
      throw corrupt("the section table checksum does not match the table")
    }

    // Placement: aligned, in increasing order, not overlapping, inside the file, unique.
    var sections: [IndexFileTag: Range<Int>] = [:]
    var tags: [IndexFileTag] = []
    var entries: [IndexFileSectionEntry] = []
    sections.reserveCapacity(sectionCount)
    tags.reserveCapacity(sectionCount)
    entries.reserveCapacity(sectionCount)
    var previousEnd = tableEnd
    for index in 0..<sectionCount {
      let entry = IndexFileSectionEntry(decoding: table, at: index * IndexFileLayout.entrySize)
      let name = "section '\(entry.tag)'"
      guard entry.flags == 0, entry.reserved == 0 else {
        throw corrupt("\(name) has flags or reserved bits set, which format version 1 does not use")
      }
      guard entry.offset <= UInt64(size), entry.length <= UInt64(size) - entry.offset else {
        throw corrupt(
          "\(name) (offset \(entry.offset), \(entry.length) bytes) extends past the end of the file")
      }
      let offset = Int(entry.offset)
      let end = offset + Int(entry.length)
      guard offset % IndexFileLayout.sectionAlignment == 0 else {
        throw corrupt(
          "\(name) starts at byte \(offset), not at a multiple of \(IndexFileLayout.sectionAlignment)")
      }
      guard offset >= previousEnd else {
        throw corrupt(
          "\(name) starts at byte \(offset), inside the table or the previous section "
            + "(which end at byte \(previousEnd))")
      }
      guard sections.updateValue(offset..<end, forKey: entry.tag) == nil else {
        throw corrupt("\(name) appears more than once")
      }
      tags.append(entry.tag)
      entries.append(entry)
      previousEnd = end
    }
    guard previousEnd == size else {
      throw corrupt("\(size - previousEnd) unexpected bytes follow the last section")
    }

    // Contents: every section's checksum and every padding byte.
    if verify {
      var paddingStart = tableEnd
      for entry in entries {
        let range = sections[entry.tag]!
        let padding = UnsafeRawBufferPointer(rebasing: bytes[paddingStart..<range.lowerBound])
        guard padding.allSatisfy({ $0 == 0 }) else {
          throw corrupt(
            "the padding before section '\(entry.tag)' (bytes \(paddingStart)..<\(range.lowerBound)) "
              + "is not zero")
        }
        guard IndexFileReader.checksum(of: range, in: file) == entry.crc else {
          throw IndexFileError.checksumMismatch(file: path, section: entry.tag.description)
        }
        paddingStart = range.upperBound
      }
    }

    self.path = path
    self.formatVersion = header.formatVersion
    self.tags = tags
    self.file = file
    self.sections = sections
  }

  /// Bytes checksummed between releases of their pages.
  static let verificationPiece = 64 << 20

  /// The CRC-32 of `range` of the file, a piece at a time, each piece's pages released from
  /// the process once it is read (``MappedFile/release(_:)``): checking a file never makes
  /// more than a piece of it resident, where reading it whole through the mapping would leave
  /// all of it counted in the process's memory (20 GB for an index of 2.5 million papers).
  static func checksum(
    of range: Range<Int>, in file: MappedFile, piece pieceBytes: Int = verificationPiece
  ) -> UInt32 {
    var crc: UInt32 = 0  // the CRC-32 of no bytes
    for start in stride(from: range.lowerBound, to: range.upperBound, by: pieceBytes) {
      let piece = start..<Swift.min(start + pieceBytes, range.upperBound)
      let pieceCRC = CRC32.parallelChecksum(UnsafeRawBufferPointer(rebasing: file.bytes[piece]))
      crc = CRC32.combine(crc, pieceCRC, secondLength: piece.count)
      file.release(piece)
    }
    return crc
  }

  /// Whether the file has a section tagged `tag`.
  func contains(_ tag: IndexFileTag) -> Bool {
    sections[tag] != nil
  }

  /// The bytes of the section tagged `tag`, inside the mapping.
  ///
  /// The buffer stays valid while this reader, a copy of it, or a ``Storage`` obtained from
  /// it is alive. Prefer ``storage(_:as:)`` for anything kept beyond a local use.
  ///
  /// - Throws: ``IndexFileError/missingSection(file:section:)`` when there is no such section.
  func bytes(_ tag: IndexFileTag) throws -> UnsafeRawBufferPointer {
    guard let range = sections[tag] else {
      throw IndexFileError.missingSection(file: path, section: tag.description)
    }
    return UnsafeRawBufferPointer(rebasing: file.bytes[range])
  }

  /// The section tagged `tag` as elements of `T`, without copying: the storage points into
  /// the mapping and keeps it alive.
  ///
  /// - Throws: ``IndexFileError/missingSection(file:section:)`` when there is no such section;
  ///   ``IndexFileError/corrupt(file:reason:)`` when its length is not a whole number of
  ///   elements or its start is not aligned for `T`.
  func storage<T: BitwiseCopyable>(_ tag: IndexFileTag, as type: T.Type) throws -> Storage<T> {
    let raw = try bytes(tag)
    let stride = MemoryLayout<T>.stride
    guard raw.count % stride == 0 else {
      throw IndexFileError.corrupt(
        file: path,
        reason: "section '\(tag)' is \(raw.count) bytes long, "
          + "not a whole number of \(stride)-byte \(T.self) elements")
    }
    guard let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 else {
      throw IndexFileError.corrupt(
        file: path, reason: "section '\(tag)' is not aligned for \(T.self) elements")
    }
    let count = raw.count / stride
    let elements = base.bindMemory(to: T.self, capacity: count)
    return Storage(viewing: elements, count: count, owner: file)
  }
}
