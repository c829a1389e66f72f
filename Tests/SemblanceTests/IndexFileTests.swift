import Foundation
import Testing

@testable import Semblance

// MARK: - Helpers

/// A fresh directory under the system temporary directory, removed when the value goes away.
private final class TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("semblance-indexfile-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(at: url)
  }

  func file(_ name: String) -> URL {
    url.appendingPathComponent(name)
  }

  func contents() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
  }
}

/// The case of an `IndexFileError`, without its payload.
private enum ErrorKind: Equatable {
  case notAnIndex, unsupportedVersion, truncated, checksumMismatch, corrupt, missingSection, io
}

extension IndexFileError {
  fileprivate var kind: ErrorKind {
    switch self {
    case .notAnIndex: .notAnIndex
    case .unsupportedVersion: .unsupportedVersion
    case .truncated: .truncated
    case .checksumMismatch: .checksumMismatch
    case .corrupt: .corrupt
    case .missingSection: .missingSection
    case .io: .io
    }
  }
}

/// The error opening `url` throws, or nil when it opens.
private func openingError(_ url: URL, verify: Bool = true) -> IndexFileError? {
  do {
    _ = try IndexFileReader(contentsOf: url, verify: verify)
    return nil
  } catch let error as IndexFileError {
    return error
  } catch {
    Issue.record("unexpected error type: \(error)")
    return nil
  }
}

#if os(Linux)
/// The kilobytes of `file`'s mapping resident in this process (its `Rss` in /proc/self/smaps).
private func residentKilobytes(of file: MappedFile) -> Int {
  // Read to the end: /proc files report a size of 0.
  guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"),
    let smaps = String(data: handle.readDataToEndOfFile(), encoding: .utf8),
    let base = file.bytes.baseAddress
  else { return -1 }
  let address = UInt(bitPattern: base)
  var inMapping = false
  for line in smaps.split(separator: "\n") {
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
      let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
      inMapping = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
    } else if inMapping, fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
      return kilobytes
    }
  }
  return -1
}
#endif

/// A CRC-32 computed one bit at a time, straight from the definition.
private func referenceCRC32(_ bytes: some Sequence<UInt8>) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
    }
  }
  return ~crc
}

private func pattern(_ count: Int, multiplier: Int = 31, offset: Int = 7) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0 &* multiplier &+ offset) }
}

/// The sections of the small sample file: several element types, two empty sections and a tag
/// that no reader knows.
private struct Sample {
  let configuration = Array(#"{"dimensions":128,"analyzer":"english","seed":42}"#.utf8)
  let ids = Storage<UInt64>((0..<20).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 })
  let vectors = Storage<Float>((0..<64).map { Float($0) * 0.25 - 3 })
  let titles = Storage<UInt8>(pattern(300))
  let unknown = pattern(37, multiplier: 7, offset: 1)
  let emptyFloats = Storage<Float>([Float]())

  /// (tag, length) in file order.
  var layout: [(tag: IndexFileTag, length: Int)] {
    [
      ("CONF", configuration.count), ("IDS_", ids.count * 8), ("EMPT", 0),
      ("VECS", vectors.count * 4), ("ZZZ?", unknown.count), ("NULL", 0), ("TITL", titles.count),
    ]
  }

  func writer(formatVersion: UInt32 = IndexFileLayout.currentVersion) -> IndexFileWriter {
    var writer = IndexFileWriter(formatVersion: formatVersion)
    writer.append("CONF", bytes: configuration)
    writer.append("IDS_", ids)
    writer.append("EMPT", bytes: [])
    writer.append("VECS", vectors)
    writer.append("ZZZ?", bytes: unknown)
    writer.append("NULL", emptyFloats)
    writer.append("TITL", titles)
    return writer
  }

  /// Writes the sample to `url` and returns its bytes.
  @discardableResult
  func write(to url: URL) throws -> [UInt8] {
    try writer().write(to: url)
    return try [UInt8](Data(contentsOf: url))
  }
}

/// Replaces the section table of a valid file by `transform(entries)` and re-seals the header
/// and table checksums, so that only the structural checks can catch the change.
private func resealed(
  _ file: [UInt8], _ transform: (inout [IndexFileSectionEntry], inout Int) -> Void
) -> [UInt8] {
  file.withUnsafeBytes { bytes in
    let header = IndexFileHeader(decoding: bytes)
    var entries = (0..<Int(header.sectionCount)).map {
      IndexFileSectionEntry(decoding: bytes, at: IndexFileLayout.headerSize + 32 * $0)
    }
    var length = file.count
    transform(&entries, &length)
    var table: [UInt8] = []
    for entry in entries { entry.encode(into: &table) }
    let newHeader = IndexFileHeader(
      formatVersion: header.formatVersion, sectionCount: UInt32(entries.count),
      fileLength: UInt64(length), tableCRC: CRC32.checksum(table))
    var result = file
    let tableEnd = IndexFileLayout.tableEnd(sectionCount: entries.count)
    result.replaceSubrange(0..<tableEnd, with: newHeader.encoded() + table)
    if length > result.count { result += [UInt8](repeating: 0, count: length - result.count) }
    return result
  }
}

// MARK: - CRC-32

@Suite("IndexFile CRC-32")
struct IndexFileCRC32Tests {
  @Test("standard check values")
  func knownVectors() {
    #expect(CRC32.checksum([UInt8]()) == 0)
    #expect(CRC32().value == 0)
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
    #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
  }

  /// Values printed by Python's `zlib.crc32` for the same buffers, for example
  /// `zlib.crc32(bytes((i * 31 + 7) % 256 for i in range(1000)))`.
  @Test("agrees with zlib.crc32")
  func zlibValues() {
    let cases: [(name: String, bytes: [UInt8], expected: UInt32)] = [
      ("bytes 0...255", Array(0...255), 0x2905_8C73),
      ("(i * 31 + 7) % 256, 1000 bytes", pattern(1000), 0x8902_161E),
      ("1 MiB of zeros", [UInt8](repeating: 0, count: 1 << 20), 0xA738_EA1C),
      ("4096 bytes of 0xFF", [UInt8](repeating: 0xFF, count: 4096), 0xF154_670A),
    ]
    for (name, bytes, expected) in cases {
      #expect(CRC32.checksum(bytes) == expected, "\(name)")
    }
  }

  @Test("every length and start alignment matches the bitwise definition")
  func matchesReference() {
    let bytes = pattern(300, multiplier: 97, offset: 13)
    bytes.withUnsafeBytes { all in
      for start in 0..<16 {
        for end in start...all.count {
          let slice = UnsafeRawBufferPointer(rebasing: all[start..<end])
          #expect(CRC32.checksum(slice) == referenceCRC32(slice), "bytes \(start)..<\(end)")
        }
      }
    }
  }

  @Test("combining two checksums equals the checksum of the joined bytes, at every split")
  func combine() {
    let bytes = pattern(300, multiplier: 29, offset: 3)
    let whole = CRC32.checksum(bytes)
    bytes.withUnsafeBytes { all in
      for split in 0...all.count {
        let first = CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[0..<split]))
        let second = CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[split...]))
        #expect(
          CRC32.combine(first, second, secondLength: all.count - split) == whole, "split \(split)")
      }
    }
  }

  @Test("the parallel checksum of a large buffer equals the one-core checksum")
  func parallel() {
    for count in [CRC32.parallelPartMinimum * 2 - 1, CRC32.parallelPartMinimum * 5 + 13] {
      let bytes = pattern(count, multiplier: 151, offset: 17)
      bytes.withUnsafeBytes { all in
        #expect(CRC32.parallelChecksum(all) == CRC32.checksum(all), "\(count) bytes")
      }
    }
  }

  @Test("incremental updates equal one update, at every split point")
  func incremental() {
    let bytes = pattern(200, multiplier: 13, offset: 5)
    let whole = CRC32.checksum(bytes)
    bytes.withUnsafeBytes { all in
      for first in 0...all.count {
        for second in stride(from: first, through: all.count, by: 7) {
          var crc = CRC32()
          crc.update(UnsafeRawBufferPointer(rebasing: all[0..<first]))
          crc.update(UnsafeRawBufferPointer(rebasing: all[first..<second]))
          crc.update(UnsafeRawBufferPointer(rebasing: all[second...]))
          #expect(crc.value == whole, "split at \(first) and \(second)")
        }
      }
    }
  }
}

// MARK: - Tags and layout

@Suite("IndexFile layout")
struct IndexFileLayoutTests {
  @Test("tags are four ASCII bytes in file order")
  func tags() {
    let tag: IndexFileTag = "IDS_"
    #expect(tag.bytes == Array("IDS_".utf8))
    #expect(tag.rawValue == 0x5F53_4449)
    #expect(tag.description == "IDS_")
    #expect(IndexFileTag(rawValue: 0x0102_0304).description == "0x01020304")
    #expect(IndexFileTag("CONF") == "CONF")
    #expect(IndexFileTag("CONF") != "CONf")
  }

  @Test("header, table and sections sit at the documented offsets")
  func documentedOffsets() throws {
    let directory = try TemporaryDirectory()
    let sample = Sample()
    let file = try sample.write(to: directory.file("a.idx"))
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(file[at + $1]) << (8 * $1) } }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(file[at + $1]) << (8 * $1) } }

    let count = sample.layout.count
    let tableEnd = 64 + 32 * count
    #expect(Array(file[0..<8]) == Array("SEMBLIDX".utf8))
    #expect(u32(8) == 1)
    #expect(u32(12) == UInt32(count))
    #expect(u64(16) == UInt64(file.count))
    #expect(u32(24) == CRC32.checksum(Array(file[64..<tableEnd])))
    #expect(file[28..<60].allSatisfy { $0 == 0 })
    #expect(u32(60) == CRC32.checksum(Array(file[0..<60])))

    var previousEnd = tableEnd
    for (index, expected) in sample.layout.enumerated() {
      let entry = 64 + 32 * index
      let offset = Int(u64(entry + 8)), length = Int(u64(entry + 16))
      #expect(Array(file[entry..<entry + 4]) == expected.tag.bytes)
      #expect(u32(entry + 4) == 0)
      #expect(length == expected.length)
      #expect(offset % 64 == 0)
      #expect(offset == (previousEnd + 63) / 64 * 64, "sections are packed at the next 64-byte boundary")
      #expect(u32(entry + 24) == CRC32.checksum(Array(file[offset..<offset + length])))
      #expect(u32(entry + 28) == 0)
      #expect(file[previousEnd..<offset].allSatisfy { $0 == 0 })
      previousEnd = offset + length
    }
    #expect(previousEnd == file.count)
    #expect((1024...2048).contains(file.count), "the sample is small enough to damage byte by byte")
  }

  @Test("a file without sections is just the header")
  func noSections() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("empty.idx")
    try IndexFileWriter().write(to: url)
    #expect(try Data(contentsOf: url).count == 64)
    let reader = try IndexFileReader(contentsOf: url)
    #expect(reader.tags.isEmpty)
    #expect(!reader.contains("CONF"))
  }
}

// MARK: - Round trip

@Suite("IndexFile round trip")
struct IndexFileRoundTripTests {
  @Test("every section comes back, in order, with its type", arguments: [true, false])
  func roundTrip(verify: Bool) throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.idx")
    let sample = Sample()
    try sample.write(to: url)

    let reader = try IndexFileReader(contentsOf: url, verify: verify)
    #expect(reader.formatVersion == 1)
    #expect(reader.tags == sample.layout.map(\.tag))
    #expect(reader.contains("ZZZ?"))
    #expect(!reader.contains("NOPE"))
    #expect(Array(try reader.bytes("CONF")) == sample.configuration)
    #expect(try reader.storage("IDS_", as: UInt64.self).array == sample.ids.array)
    #expect(try reader.storage("VECS", as: Float.self).array == sample.vectors.array)
    #expect(try reader.storage("TITL", as: UInt8.self).array == sample.titles.array)
    #expect(Array(try reader.bytes("ZZZ?")) == sample.unknown)
    #expect(try reader.bytes("EMPT").isEmpty)
    #expect(try reader.storage("EMPT", as: UInt64.self).count == 0)
    #expect(try reader.storage("NULL", as: Float.self).count == 0)
  }

  @Test("storage views point into the mapping and keep it alive")
  func zeroCopy() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.idx")
    let sample = Sample()
    try sample.write(to: url)

    func view() throws -> Storage<Float> {
      let reader = try IndexFileReader(contentsOf: url)
      let vectors = try reader.storage("VECS", as: Float.self)
      let raw = try reader.bytes("VECS")
      #expect(UnsafeRawPointer(vectors.buffer.baseAddress) == raw.baseAddress)
      #expect(Int(bitPattern: raw.baseAddress) % 64 == 0)
      return vectors
    }
    let vectors = try view()  // the reader is gone; the storage still owns the mapping
    try FileManager.default.removeItem(at: url)
    #expect(vectors.array == sample.vectors.array)
    #expect(vectors[5] == sample.vectors[5])
  }

  @Test("a missing section and a length that is not a whole number of elements are errors")
  func sectionErrors() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.idx")
    try Sample().write(to: url)
    let reader = try IndexFileReader(contentsOf: url)
    let path = url.path

    #expect(throws: IndexFileError.missingSection(file: path, section: "EMBD")) {
      try reader.bytes("EMBD")
    }
    #expect(throws: IndexFileError.missingSection(file: path, section: "EMBD")) {
      try reader.storage("EMBD", as: Float.self)
    }
    // CONF holds 50 bytes: not a whole number of 4- or 8-byte elements.
    #expect(throws: IndexFileError.self) { try reader.storage("CONF", as: Float.self) }
    do {
      _ = try reader.storage("CONF", as: UInt64.self)
      Issue.record("expected an error")
    } catch let error as IndexFileError {
      #expect(error.kind == .corrupt)
      #expect(error.description.contains("CONF"))
    }
  }

  @Test("checking a file a piece at a time gives its checksum and leaves its bytes readable")
  func piecewiseChecksum() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("bytes.bin")
    let page = AnonymousMemory.pageSize
    let bytes = pattern(64 * page + 123, multiplier: 101, offset: 9)
    try Data(bytes).write(to: url)
    let file = try MappedFile(path: url.path)
    let ranges = [0..<bytes.count, 5..<bytes.count - 7, page..<3 * page + 1, 10..<10, 0..<1, 3..<60]
    for range in ranges {
      // Pieces of 7 bytes only for short ranges: each piece is a system call.
      let pieces = [7, 4_096, 5_000, 3 * page + 17, bytes.count]
      for piece in pieces where piece > 7 || range.count < 100 {
        let expected = CRC32.checksum(Array(bytes[range]))
        #expect(
          IndexFileReader.checksum(of: range, in: file, piece: piece) == expected,
          "\(range), pieces of \(piece)")
      }
    }
    // Released pages read the file's bytes again.
    #expect(mismatches(file.bytes, bytes) == 0)
    #if os(Linux)
    #expect(residentKilobytes(of: file) >= bytes.count / 1_024)
    _ = IndexFileReader.checksum(of: 0..<bytes.count, in: file, piece: 8 * page)
    #expect(residentKilobytes(of: file) == 0)
    #expect(mismatches(file.bytes, bytes) == 0)
    #endif
  }

  @Test(
    "storage in a mapped file lets go of its pages and still reads the same; heap storage keeps its own"
  )
  func storageRelease() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("floats.bin")
    let page = AnonymousMemory.pageSize
    let floats = (0..<(40 * page)).map { Float($0) * 0.5 }  // 40 pages of floats = 160 pages
    try floats.withUnsafeBytes { try Data($0).write(to: url) }
    let file = try MappedFile(path: url.path)
    // The second half of the file, as a section would be viewed.
    let half = floats.count / 2
    let base = file.bytes.baseAddress!.assumingMemoryBound(to: Float.self) + half
    let mapped = Storage(viewing: base, count: half, owner: file)
    #expect(mismatches(file.bytes, floats.withUnsafeBytes { Array($0) }) == 0)
    #if os(Linux)
    let before = residentKilobytes(of: file)
    mapped.releasePagesIfMapped()
    #expect(before - residentKilobytes(of: file) >= half * 4 / 1_024)
    #endif
    #expect(mismatches(mapped.buffer, floats[half...]) == 0)
    let heap = Storage(floats)
    heap.releasePagesIfMapped()
    #expect(mismatches(heap.buffer, floats) == 0)
  }

  @Test("many tasks read one reader concurrently")
  func concurrentReads() async throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.idx")
    let sample = Sample()
    try sample.write(to: url)
    let reader = try IndexFileReader(contentsOf: url)
    let expected = sample.vectors.array.reduce(0, +)
    let sums = try await withThrowingTaskGroup(of: Float.self) { group in
      for _ in 0..<32 {
        group.addTask { try reader.storage("VECS", as: Float.self).array.reduce(0, +) }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(sums.count == 32)
    #expect(sums.allSatisfy { $0 == expected })
  }
}

// MARK: - Damaged files

@Suite("IndexFile damage")
struct IndexFileDamageTests {
  @Test("every truncation throws truncated", arguments: [true, false])
  func everyTruncation(verify: Bool) throws {
    let directory = try TemporaryDirectory()
    let original = try Sample().write(to: directory.file("sample.idx"))
    let url = directory.file("cut.idx")
    for length in 0..<original.count {
      try Data(original[0..<length]).write(to: url)
      let error = openingError(url, verify: verify)
      let expected = length < 64 ? 64 : original.count
      #expect(
        error == .truncated(file: url.path, expectedBytes: expected, actualBytes: length),
        "cut to \(length) bytes")
    }
  }

  /// Flips bits at every offset and checks the kind of error against the region hit.
  @Test("every flipped byte is caught by the check that covers it", arguments: [UInt8(0xFF), 0x01])
  func everyFlip(mask: UInt8) throws {
    let directory = try TemporaryDirectory()
    let sample = Sample()
    let original = try sample.write(to: directory.file("sample.idx"))
    let url = directory.file("flipped.idx")

    let placement = IndexFileLayout.placeSections(lengths: sample.layout.map(\.length))
    let tableEnd = IndexFileLayout.tableEnd(sectionCount: sample.layout.count)
    func section(at offset: Int) -> IndexFileTag? {
      for (index, start) in placement.offsets.enumerated()
      where (start..<start + sample.layout[index].length).contains(offset) {
        return sample.layout[index].tag
      }
      return nil
    }

    for offset in 0..<original.count {
      var damaged = original
      damaged[offset] ^= mask
      try Data(damaged).write(to: url)
      let verified = openingError(url, verify: true)
      let unverified = openingError(url, verify: false)
      let context: Comment = "byte \(offset) xor \(mask)"

      switch offset {
      case 0..<8:
        #expect(verified?.kind == .notAnIndex, context)
        #expect(unverified?.kind == .notAnIndex, context)
      case 8..<12:
        // A changed version reads as a newer format, or (version 0) fails the header CRC.
        let expected: ErrorKind = damaged[8..<12].elementsEqual([0, 0, 0, 0]) ? .corrupt : .unsupportedVersion
        #expect(verified?.kind == expected, context)
        #expect(unverified?.kind == expected, context)
      case 12..<tableEnd:
        #expect(verified?.kind == .corrupt, context)
        #expect(unverified?.kind == .corrupt, context)
      default:
        if let tag = section(at: offset) {
          #expect(verified == .checksumMismatch(file: url.path, section: tag.description), context)
        } else {
          #expect(verified?.kind == .corrupt, "\(context): padding")
        }
        #expect(unverified == nil, "\(context): payload is not checked without verify")
      }
    }
  }

  @Test("structural damage with valid checksums is still caught", arguments: 0..<7)
  func structural(damage: Int) throws {
    let directory = try TemporaryDirectory()
    let original = try Sample().write(to: directory.file("sample.idx"))
    let url = directory.file("crafted.idx")
    let crafted = resealed(original) { entries, length in
      switch damage {
      case 0: entries[1].offset += 8  // misaligned
      case 1: entries[2].offset = entries[1].offset  // overlaps the previous section
      case 2: entries[0].offset = 64  // inside the table
      case 3: entries[4].tag = entries[3].tag  // duplicate tag
      case 4: entries[3].flags = 1  // unknown flag
      case 5: entries[6].length = UInt64.max - 100  // past the end, without overflowing
      default: length += 64  // zero bytes after the last section
      }
    }
    try Data(crafted).write(to: url)
    #expect(openingError(url, verify: true)?.kind == .corrupt)
    #expect(openingError(url, verify: false)?.kind == .corrupt)
  }

  @Test("bytes after the end recorded in the header are an error")
  func trailingBytes() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.idx")
    let original = try Sample().write(to: url)
    try Data(original + [0]).write(to: url)
    #expect(openingError(url)?.kind == .corrupt)
    try Data(original + [UInt8](repeating: 0, count: 64)).write(to: url)
    #expect(openingError(url, verify: false)?.kind == .corrupt)
  }

  @Test("a future version is reported as such, whatever its header looks like")
  func futureVersion() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("future.idx")
    try Sample().writer(formatVersion: 2).write(to: url)
    let expected = IndexFileError.unsupportedVersion(file: url.path, found: 2, supported: 1...1)
    #expect(openingError(url) == expected)

    // A newer header may differ after the version: the version is checked before the CRC.
    var bytes = try [UInt8](Data(contentsOf: url))
    for offset in 12..<64 { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 37) }
    try Data(bytes.prefix(80)).write(to: url)
    #expect(openingError(url) == expected)
    #expect(expected.description.contains("newer Semblance"))
    #expect(expected.description.contains("format version 2"))
    #expect(expected.description.contains("reads format version 1"))
  }

  @Test("files that are not indexes")
  func notIndexes() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("notes.txt")
    try Data(String(repeating: "not an index, just some notes. ", count: 4).utf8).write(to: url)
    #expect(openingError(url) == .notAnIndex(file: url.path))
    try Data("SEMBLANCE".utf8).write(to: url)
    #expect(openingError(url) == .notAnIndex(file: url.path))
    try Data().write(to: url)
    #expect(openingError(url) == .truncated(file: url.path, expectedBytes: 64, actualBytes: 0))

    let missing = directory.file("missing.idx")
    let error = openingError(missing)
    #expect(error?.kind == .io)
    #expect(error?.description.contains("No such file or directory") == true)
    #expect(openingError(directory.url)?.kind == .io)

    let fifo = directory.file("pipe.idx")
    #expect(mkfifo(fifo.path, 0o600) == 0)
    #expect(openingError(fifo)?.kind == .io, "a FIFO is refused without blocking")
  }

  @Test("messages name the file and the problem")
  func messages() {
    let file = "/data/arxiv.idx"
    let cases: [(IndexFileError, String)] = [
      (.notAnIndex(file: file), "not a Semblance index"),
      (.truncated(file: file, expectedBytes: 1000, actualBytes: 10), "expected 1000 bytes, found 10"),
      (.checksumMismatch(file: file, section: "EMBD"), "section 'EMBD'"),
      (.corrupt(file: file, reason: "the header checksum does not match"), "header checksum"),
      (.missingSection(file: file, section: "IVF_"), "'IVF_'"),
      (.io(file: file, operation: "open", reason: "Permission denied"), "Cannot open"),
      (.unsupportedVersion(file: file, found: 3, supported: 1...2), "format versions 1 to 2"),
    ]
    for (error, phrase) in cases {
      #expect(error.description.contains(file))
      #expect(error.description.contains(phrase), "\(error)")
      #expect(error.file == file)
    }
  }
}

// MARK: - Atomic writes

@Suite("IndexFile atomic write")
struct IndexFileAtomicWriteTests {
  @Test("writing into a missing directory throws and leaves nothing behind")
  func missingDirectory() throws {
    let directory = try TemporaryDirectory()
    let url = directory.url.appendingPathComponent("absent").appendingPathComponent("a.idx")
    #expect(throws: IndexFileError.self) { try Sample().writer().write(to: url) }
    do {
      try Sample().writer().write(to: url)
    } catch let error as IndexFileError {
      #expect(error.kind == .io)
      #expect(error.description.contains(url.path))
    }
    #expect(try directory.contents().isEmpty)
  }

  @Test("a failed replace removes the temporary file and leaves the destination alone")
  func failedRename() throws {
    let directory = try TemporaryDirectory()
    // A non-empty directory cannot be replaced by a file: the rename fails after the
    // temporary file has been completely written and synced.
    let url = directory.file("taken.idx")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))

    #expect(throws: IndexFileError.self) { try Sample().writer().write(to: url) }
    #expect(try directory.contents() == ["taken.idx"])
    #expect(try Data(contentsOf: url.appendingPathComponent("inside")) == Data("keep".utf8))
  }

  @Test("an existing file is replaced whole, and open readers keep the old contents")
  func replace() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("index.idx")
    var old = IndexFileWriter()
    old.append("CONF", bytes: Array("old".utf8))
    try old.write(to: url)
    let oldReader = try IndexFileReader(contentsOf: url)

    let sample = Sample()
    try sample.write(to: url)
    #expect(try directory.contents() == ["index.idx"], "no temporary files are left")
    let newReader = try IndexFileReader(contentsOf: url)
    #expect(Array(try newReader.bytes("CONF")) == sample.configuration)
    #expect(Array(try oldReader.bytes("CONF")) == Array("old".utf8))
  }
}

// MARK: - Chunked and direct writes

@Suite("IndexFile chunked writes")
struct IndexFileChunkedWriteTests {
  /// Sections that straddle the 8 MiB chunks in every way: one longer than a chunk, one
  /// that starts in one chunk and ends two later, an empty one on a boundary's doorstep, and
  /// lengths that are not whole blocks.
  private struct LargeSample {
    let first = Storage<UInt8>(pattern(5 << 20 + 13))
    let second = Storage<Float>((0..<(9 << 20 + 7) / 4).map { Float($0 % 1000) - 499.5 })
    let small = pattern(100, multiplier: 11, offset: 3)
    let last = Storage<UInt8>(pattern(3 << 20 + 1, multiplier: 13, offset: 5))

    var payloads: [(tag: IndexFileTag, bytes: [UInt8])] {
      [
        ("FRST", first.array), ("SCND", Array(second.rawBytes)), ("EMPT", []),
        ("SMAL", small), ("LAST", last.array),
      ]
    }

    func writer() -> IndexFileWriter {
      var writer = IndexFileWriter()
      writer.append("FRST", first)
      writer.append("SCND", second)
      writer.append("EMPT", bytes: [])
      writer.append("SMAL", bytes: small)
      writer.append("LAST", last)
      return writer
    }
  }

  @Test(
    "a file of several chunks is the same through the page cache and past it",
    arguments: [IndexFileWriter.Caching.buffered, .direct, .automatic])
  func severalChunks(caching: IndexFileWriter.Caching) throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("large.idx")
    let sample = LargeSample()
    try sample.writer().write(to: url, caching: caching)
    let file = try [UInt8](Data(contentsOf: url))

    // The expected image, built independently of the writer: every payload at the offset
    // the layout gives it, zeros between and after.
    let payloads = sample.payloads
    let placement = IndexFileLayout.placeSections(lengths: payloads.map(\.bytes.count))
    #expect(placement.fileLength > 2 * IndexFileWriter.chunkSize)
    #expect(file.count == placement.fileLength, "a padded last block is cut back")
    var expected = [UInt8](repeating: 0, count: placement.fileLength)
    for (index, payload) in payloads.enumerated() {
      expected.replaceSubrange(
        placement.offsets[index]..<placement.offsets[index] + payload.bytes.count,
        with: payload.bytes)
    }
    let tableEnd = IndexFileLayout.tableEnd(sectionCount: payloads.count)
    #expect(file[tableEnd...] == expected[tableEnd...])

    // The table's checksums were joined from the pieces of every chunk.
    let reader = try IndexFileReader(contentsOf: url, verify: true)
    #expect(reader.tags == payloads.map(\.tag))
    for payload in payloads {
      #expect(Array(try reader.bytes(payload.tag)) == payload.bytes)
    }
    #expect(try directory.contents() == ["large.idx"])
  }

  @Test(
    "a generated section gives the file a stored one gives, each byte asked for once",
    arguments: [IndexFileWriter.Caching.buffered, .direct])
  func generatedSection(caching: IndexFileWriter.Caching) throws {
    let directory = try TemporaryDirectory()
    let stored = directory.file("stored.idx"), generated = directory.file("generated.idx")
    let sample = LargeSample()
    try sample.writer().write(to: stored, caching: caching)

    // The same sections, SCND (9 MiB, across two chunk boundaries) formed on request.
    final class Requests: @unchecked Sendable {
      let lock = NSLock()
      var ranges: [Range<Int>] = []
    }
    let requests = Requests()
    let second = sample.second
    var writer = IndexFileWriter()
    writer.append("FRST", sample.first)
    writer.append("SCND", byteCount: second.rawBytes.count) { range, destination in
      requests.lock.withLock { requests.ranges.append(range) }
      destination.copyMemory(
        from: second.rawBytes.baseAddress! + range.lowerBound, byteCount: range.count)
    }
    writer.append("EMPT", bytes: [])
    writer.append("SMAL", bytes: sample.small)
    writer.append("LAST", sample.last)
    try writer.write(to: generated, caching: caching)

    // Compared outside #expect, which would diff megabytes on a failure.
    let identical = try Data(contentsOf: generated) == Data(contentsOf: stored)
    #expect(identical)
    let ranges = requests.ranges.sorted { $0.lowerBound < $1.lowerBound }
    #expect(ranges.count > 2)
    #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == second.rawBytes.count)
    #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    _ = try IndexFileReader(contentsOf: generated, verify: true)
  }

  @Test("a small file is the same through the page cache and past it")
  func smallFile() throws {
    let directory = try TemporaryDirectory()
    let buffered = directory.file("buffered.idx")
    let direct = directory.file("direct.idx")
    try Sample().writer().write(to: buffered, caching: .buffered)
    try Sample().writer().write(to: direct, caching: .direct)
    #expect(try Data(contentsOf: buffered) == Data(contentsOf: direct))
    _ = try IndexFileReader(contentsOf: direct, verify: true)
  }

  @Test("each section's checksum is joined from its pieces in file order")
  func pieceChecksums() {
    let bytes = pattern(10_000)
    let cuts = [0, 1, 4_096, 4_097, 9_999, 10_000]
    var pieces: [IndexFileWriter.FileImage.Piece] = []
    for (lower, upper) in zip(cuts, cuts.dropFirst()) {
      pieces.append(.init(section: 1, crc: CRC32.checksum(Array(bytes[lower..<upper])), length: upper - lower))
    }
    let checksums = IndexFileWriter.FileImage.sectionChecksums(pieces, sectionCount: 3)
    #expect(checksums == [0, CRC32.checksum(bytes), 0])
  }

  /// A file descriptor open for writing on a fresh file, closed when the value goes away.
  private final class OpenFile {
    let url: URL
    let descriptor: Int32

    init(_ url: URL) throws {
      self.url = url
      descriptor = open(url.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    deinit { close(descriptor) }
  }

  /// Calls to a fake `pwrite` loop: (count, offset) of each.
  private final class WriteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(count: Int, offset: Int)] = []
    var entries: [(count: Int, offset: Int)] { lock.withLock { calls } }
    func record(_ count: Int, _ offset: Int) { lock.withLock { calls.append((count, offset)) } }
  }

  @Test("a direct write refused with EINVAL is retried through the page cache, and so are the rest")
  func refusedDirectWrite() throws {
    let directory = try TemporaryDirectory()
    let file = try OpenFile(directory.file("chunks"))
    let log = WriteLog()
    let output = IndexFileWriter.ChunkOutput(
      descriptor: file.descriptor, path: file.url.path, direct: true
    ) { buffer, count, offset, descriptor in
      log.record(count, offset)
      if log.entries.count == 1 { return EINVAL }
      return IndexFileWriter.ChunkOutput.writeAll(buffer, count, offset, descriptor)
    }
    let buffer = AnonymousMemory(byteCount: 2 * IndexFileWriter.blockSize)
    let bytes = pattern(5_000)
    bytes.withUnsafeBytes { buffer.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }

    try output.write(buffer.base, range: 0..<5_000)
    #expect(!output.isDirect)
    try output.write(buffer.base, range: 5_000..<10_000)
    try output.finish(length: 10_000)
    let calls = log.entries
    #expect(calls.map(\.count) == [8_192, 5_000, 5_000], "whole blocks first, then exact lengths")
    #expect(calls.map(\.offset) == [0, 0, 5_000])
    #expect(try [UInt8](Data(contentsOf: file.url)) == bytes + bytes)
  }

  @Test("other write failures are errors that name the file and the reason")
  func failedWrite() throws {
    let directory = try TemporaryDirectory()
    let file = try OpenFile(directory.file("chunks"))
    for direct in [true, false] {
      let output = IndexFileWriter.ChunkOutput(
        descriptor: file.descriptor, path: "/data/papers.idx", direct: direct
      ) { _, _, _, _ in ENOSPC }
      let buffer = AnonymousMemory(byteCount: IndexFileWriter.blockSize)
      do {
        try output.write(buffer.base, range: 0..<100)
        Issue.record("the write succeeded")
      } catch let error as IndexFileError {
        #expect(error.kind == .io)
        #expect(error.description.contains("/data/papers.idx"))
        #expect(error.description.contains(String(cString: strerror(ENOSPC))))
      }
      #expect(output.isDirect == direct, "only EINVAL turns direct writes off")
    }
  }

  @Test("a padded last block is cut back to the file's length")
  func paddedLastBlock() throws {
    let directory = try TemporaryDirectory()
    let file = try OpenFile(directory.file("chunks"))
    let output = IndexFileWriter.ChunkOutput(
      descriptor: file.descriptor, path: file.url.path, direct: true
    ) { buffer, count, offset, descriptor in
      IndexFileWriter.ChunkOutput.writeAll(buffer, count, offset, descriptor)
    }
    let buffer = AnonymousMemory(byteCount: IndexFileWriter.blockSize)
    try output.write(buffer.base, range: 0..<10)
    #expect(try Data(contentsOf: file.url).count == IndexFileWriter.blockSize)
    try output.finish(length: 10)
    #expect(try Data(contentsOf: file.url).count == 10)
  }
}

// The CRC folding test switches every C kernel to its portable form, which for the gathers
// rounds differently: it runs in the serialized kernel suite, so that it never switches them
// under that suite's tests that compare two builds bit for bit.
extension SelectionKernelTests {
  @Test("folding with carry-less multiplication matches the bitwise definition at every length",
    arguments: [true, false])
  func folding(vectorized: Bool) {
    // With `false` the tables do everything; with `true`, on processors with PCLMULQDQ,
    // buffers of at least `foldMinimum` bytes are folded 64 and 16 bytes at a time first.
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    let bytes = pattern(1_200, multiplier: 193, offset: 71)
    bytes.withUnsafeBytes { all in
      for start in 0..<4 {
        for end in stride(from: start + CRC32.foldMinimum - 2, through: all.count, by: 1) {
          let slice = UnsafeRawBufferPointer(rebasing: all[start..<end])
          #expect(CRC32.checksum(slice) == referenceCRC32(slice), "bytes \(start)..<\(end)")
        }
      }
    }
    // A running register other than the initial one folds in correctly too.
    var crc = CRC32()
    crc.update(Array("prefix".utf8))
    crc.update(bytes)
    #expect(crc.value == CRC32.checksum(Array("prefix".utf8) + bytes))
  }
}
