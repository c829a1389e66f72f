/// The on-disk layout of a Semblance index file, format version 1.
///
/// All integers are little-endian. "CRC-32" is the zlib/IEEE checksum (see ``CRC32``).
///
/// **Header** — 64 bytes at offset 0:
///
/// | Offset | Size | Field                                                        |
/// |-------:|-----:|--------------------------------------------------------------|
/// |      0 |    8 | magic, the ASCII bytes `SEMBLIDX`                            |
/// |      8 |    4 | format version, `UInt32` (1)                                 |
/// |     12 |    4 | section count *n*, `UInt32`                                  |
/// |     16 |    8 | total file length in bytes, `UInt64`                         |
/// |     24 |    4 | CRC-32 of the section table (bytes 64 ..< 64 + 32·*n*)       |
/// |     28 |   32 | reserved, zero                                               |
/// |     60 |    4 | CRC-32 of header bytes 0 ..< 60                              |
///
/// **Section table** — *n* entries of 32 bytes, starting at offset 64:
///
/// | Offset | Size | Field                                                        |
/// |-------:|-----:|--------------------------------------------------------------|
/// |      0 |    4 | tag: four ASCII characters in file order, e.g. `CONF`, `IDS_`|
/// |      4 |    4 | flags, `UInt32`, zero in version 1                           |
/// |      8 |    8 | offset of the section from the start of the file, `UInt64`   |
/// |     16 |    8 | length of the section in bytes, `UInt64` (may be 0)          |
/// |     24 |    4 | CRC-32 of the section's bytes                                |
/// |     28 |    4 | reserved, zero                                               |
///
/// **Sections** follow the table in table order. Each starts at a multiple of 64 bytes, at or
/// after the end of the previous section (the first one at or after the end of the table).
/// Every byte between the end of the table and the first section, and between sections, is
/// zero. The file ends exactly where the last section ends (with no sections, at the end of
/// the table). Tags are unique; readers ignore tags they do not know.
///
/// So every byte of a file is covered by a check: the header by its own CRC, the table by the
/// table CRC, each section by its CRC, and the padding by being required to be zero.
///
/// A reader checks, in order: the magic; the version (before the header CRC, so that a file
/// from a newer Semblance whose header differs still reports its version); the header CRC; the
/// recorded file length against the real one; the table CRC; then the structure of every
/// entry; and, when verifying, every section CRC and every padding byte.
enum IndexFileLayout {
  /// The first eight bytes of every index file: `SEMBLIDX`.
  static let magic: [UInt8] = Array("SEMBLIDX".utf8)
  /// The format version this code writes.
  static let currentVersion: UInt32 = 1
  /// The format versions this code reads.
  static let supportedVersions: ClosedRange<UInt32> = 1...currentVersion

  static let headerSize = 64
  static let entrySize = 32
  static let sectionAlignment = 64

  // Header field offsets.
  static let versionOffset = 8
  static let sectionCountOffset = 12
  static let fileLengthOffset = 16
  static let tableCRCOffset = 24
  static let headerCRCOffset = 60

  /// `value` rounded up to the next multiple of `sectionAlignment`.
  static func alignUp(_ value: Int) -> Int {
    (value + sectionAlignment - 1) / sectionAlignment * sectionAlignment
  }

  /// Where the section table ends for `sectionCount` sections.
  static func tableEnd(sectionCount: Int) -> Int {
    headerSize + entrySize * sectionCount
  }

  /// The offsets the writer gives to sections of `lengths`, and the resulting file length.
  static func placeSections(lengths: [Int]) -> (offsets: [Int], fileLength: Int) {
    var end = tableEnd(sectionCount: lengths.count)
    var offsets: [Int] = []
    offsets.reserveCapacity(lengths.count)
    for length in lengths {
      let offset = alignUp(end)
      offsets.append(offset)
      end = offset + length
    }
    return (offsets, end)
  }
}

/// The fixed 64-byte header of an index file.
struct IndexFileHeader: Equatable {
  var formatVersion: UInt32
  var sectionCount: UInt32
  var fileLength: UInt64
  var tableCRC: UInt32

  /// The 64 header bytes, ending with the CRC of the first 60.
  func encoded() -> [UInt8] {
    var bytes = IndexFileLayout.magic
    bytes.appendLittleEndian(formatVersion)
    bytes.appendLittleEndian(sectionCount)
    bytes.appendLittleEndian(fileLength)
    bytes.appendLittleEndian(tableCRC)
    bytes.append(contentsOf: repeatElement(0, count: IndexFileLayout.headerCRCOffset - bytes.count))
    bytes.appendLittleEndian(CRC32.checksum(bytes))
    assert(bytes.count == IndexFileLayout.headerSize)
    return bytes
  }

  /// Reads the fields of a header from the first 64 bytes of `bytes`, without checking anything.
  init(decoding bytes: UnsafeRawBufferPointer) {
    precondition(bytes.count >= IndexFileLayout.headerSize)
    formatVersion = bytes.loadLittleEndian(at: IndexFileLayout.versionOffset)
    sectionCount = bytes.loadLittleEndian(at: IndexFileLayout.sectionCountOffset)
    fileLength = bytes.loadLittleEndian(at: IndexFileLayout.fileLengthOffset)
    tableCRC = bytes.loadLittleEndian(at: IndexFileLayout.tableCRCOffset)
  }

  init(formatVersion: UInt32, sectionCount: UInt32, fileLength: UInt64, tableCRC: UInt32) {
    self.formatVersion = formatVersion
    self.sectionCount = sectionCount
    self.fileLength = fileLength
    self.tableCRC = tableCRC
  }
}

/// One 32-byte entry of the section table.
struct IndexFileSectionEntry: Equatable {
  var tag: IndexFileTag
  var flags: UInt32 = 0
  var offset: UInt64
  var length: UInt64
  var crc: UInt32
  var reserved: UInt32 = 0

  /// Appends the 32 bytes of this entry to `bytes`.
  func encode(into bytes: inout [UInt8]) {
    bytes.appendLittleEndian(tag.rawValue)
    bytes.appendLittleEndian(flags)
    bytes.appendLittleEndian(offset)
    bytes.appendLittleEndian(length)
    bytes.appendLittleEndian(crc)
    bytes.appendLittleEndian(reserved)
  }

  /// Reads the entry that starts at `start` in `bytes`, without checking anything.
  init(decoding bytes: UnsafeRawBufferPointer, at start: Int) {
    precondition(start >= 0 && start + IndexFileLayout.entrySize <= bytes.count)
    tag = IndexFileTag(rawValue: bytes.loadLittleEndian(at: start))
    flags = bytes.loadLittleEndian(at: start + 4)
    offset = bytes.loadLittleEndian(at: start + 8)
    length = bytes.loadLittleEndian(at: start + 16)
    crc = bytes.loadLittleEndian(at: start + 24)
    reserved = bytes.loadLittleEndian(at: start + 28)
  }

  init(tag: IndexFileTag, offset: UInt64, length: UInt64, crc: UInt32) {
    self.tag = tag
    self.offset = offset
    self.length = length
    self.crc = crc
  }
}

extension Array where Element == UInt8 {
  /// Appends the little-endian bytes of `value`.
  fileprivate mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
  }
}

extension UnsafeRawBufferPointer {
  /// The little-endian integer at byte `offset` (any alignment).
  fileprivate func loadLittleEndian<T: FixedWidthInteger & BitwiseCopyable>(at offset: Int) -> T {
    precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count)
    return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
