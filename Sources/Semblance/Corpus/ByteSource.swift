/// Where a corpus's bytes come from: a file, or text already in memory.
///
/// ``ChunkedByteReader`` pulls from a source one chunk at a time, so a parser never needs the
/// whole corpus at once.
protocol ByteSource {
  /// Copies up to `buffer.count` next bytes into `buffer` and returns how many were copied.
  /// Returns 0 only at the end of the input.
  mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CorpusError) -> Int
}

/// The UTF-8 bytes of a string in memory.
struct StringByteSource: ByteSource {
  private var text: String
  private var offset = 0

  init(_ text: String) {
    self.text = text
    self.text.makeContiguousUTF8()
  }

  mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CorpusError) -> Int {
    let start = offset
    let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
      let count = Swift.min(buffer.count, bytes.count - start)
      guard count > 0, let source = bytes.baseAddress, let target = buffer.baseAddress else { return 0 }
      target.copyMemory(from: source + start, byteCount: count)
      return count
    }
    // `makeContiguousUTF8()` guarantees contiguous storage, so `copied` is never nil.
    let count = copied ?? 0
    offset += count
    return count
  }
}

/// Bytes in memory that need not be valid UTF-8, so that tests and fuzz targets can feed a
/// parser exactly the bytes a file would hold.
struct ByteArraySource: ByteSource {
  private let bytes: [UInt8]
  private var offset = 0

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CorpusError) -> Int {
    let count = Swift.min(buffer.count, bytes.count - offset)
    guard count > 0, let target = buffer.baseAddress else { return 0 }
    bytes.withUnsafeBytes { source in
      target.copyMemory(from: source.baseAddress! + offset, byteCount: count)
    }
    offset += count
    return count
  }
}
