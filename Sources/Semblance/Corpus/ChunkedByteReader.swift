#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sliding window over a byte source: it reads a chunk at a time, drops a UTF-8 byte-order
/// mark at the start, and checks that every byte it hands out is valid UTF-8.
///
/// The window holds the bytes that the parser has not consumed yet plus the newest chunk.
/// When the parser could not consume anything (one record is longer than the window), the
/// next read is as large as the window, so the window doubles and a long record is scanned
/// a logarithmic number of times, not once per chunk.
///
/// Memory use is about one chunk plus the longest record, whatever the size of the file.
final class ChunkedByteReader<Source: ByteSource> {
  /// What the parser may look at next.
  struct Window {
    /// The validated bytes, starting with the first unconsumed byte.
    var bytes: UnsafeBufferPointer<UInt8>
    /// No bytes follow these: the parser must consume everything or throw.
    var isFinal: Bool
    /// Set when the bytes that follow `bytes` are not valid UTF-8; the offset is the bad byte's.
    var invalidOffset: Int?
  }

  /// The default chunk size, 1 MiB.
  static var defaultChunkSize: Int { 1 << 20 }

  private var source: Source
  private let chunkSize: Int
  private var storage: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  /// Bytes `0..<filled` are loaded; `0..<validated` are known to be valid UTF-8.
  private var filled = 0
  private var validated = 0
  private var atEndOfInput = false
  private var checkedByteOrderMark = false

  init(source: Source, chunkSize: Int = ChunkedByteReader.defaultChunkSize) {
    self.source = source
    self.chunkSize = Swift.max(chunkSize, 1)
    capacity = self.chunkSize * 2
    storage = .allocate(capacity: capacity)
  }

  deinit {
    storage.deallocate()
  }

  /// Reads more input and returns the window of unconsumed, validated bytes.
  func nextWindow() throws(CorpusError) -> Window {
    if !atEndOfInput {
      try load(Swift.max(chunkSize, filled))
    }
    if !checkedByteOrderMark, filled >= 3 || atEndOfInput {
      checkedByteOrderMark = true
      if filled >= 3, storage[0] == 0xEF, storage[1] == 0xBB, storage[2] == 0xBF {
        // Nothing has been validated or handed out yet.
        memmove(storage, storage + 3, filled - 3)
        filled -= 3
      }
    }
    var invalidOffset: Int?
    if checkedByteOrderMark {
      let result = validateUTF8(storage, from: validated, to: filled, isFinal: atEndOfInput)
      validated = result.validEnd
      invalidOffset = result.invalidOffset
    }
    let isFinal = atEndOfInput && checkedByteOrderMark && invalidOffset == nil && validated == filled
    return Window(
      bytes: UnsafeBufferPointer(start: storage, count: validated),
      isFinal: isFinal,
      invalidOffset: invalidOffset)
  }

  /// Drops the first `count` bytes of the window, which the parser has consumed.
  func discard(_ count: Int) {
    precondition(count >= 0 && count <= validated, "consumed more than the window")
    guard count > 0 else { return }
    memmove(storage, storage + count, filled - count)
    filled -= count
    validated -= count
  }

  /// The number of line feeds in the window's bytes `start..<end`.
  func lineFeeds(from start: Int, to end: Int) -> Int {
    var count = 0
    for index in start..<end where storage[index] == 0x0A {
      count += 1
    }
    return count
  }

  /// Appends up to `amount` bytes from the source, reading until that many arrived or the input ended.
  private func load(_ amount: Int) throws(CorpusError) {
    if filled + amount > capacity {
      let newCapacity = Swift.max(filled + amount, capacity * 2)
      let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
      newStorage.update(from: storage, count: filled)
      storage.deallocate()
      storage = newStorage
      capacity = newCapacity
    }
    let target = filled + amount
    while filled < target {
      let buffer = UnsafeMutableRawBufferPointer(start: storage + filled, count: target - filled)
      let count = try source.read(into: buffer)
      if count == 0 {
        atEndOfInput = true
        return
      }
      filled += count
    }
  }
}
