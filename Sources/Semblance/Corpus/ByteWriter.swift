#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends bytes to memory that the caller has already made large enough, optionally
/// collapsing runs of whitespace into one space.
///
/// Whitespace is never written directly: ``noteWhitespace()`` marks a pending space, which is
/// written only when more text follows and something was written before it. So the text comes
/// out with single spaces and without leading or trailing whitespace.
///
/// The parsers reserve room up front (the output of a field is never longer than its input),
/// so appending needs no capacity checks; they are `assert`s.
struct ByteWriter {
  let base: UnsafeMutablePointer<UInt8>
  let capacity: Int
  var count = 0
  var pendingSpace = false

  init(_ scratch: ScratchBuffer<UInt8>) {
    base = scratch.base
    capacity = scratch.capacity
  }

  @inline(__always)
  mutating func noteWhitespace() {
    pendingSpace = true
  }

  @inline(__always)
  private mutating func flushSpace() {
    if pendingSpace {
      if count > 0 {
        assert(count < capacity, "ByteWriter overflow")
        base[count] = 0x20
        count += 1
      }
      pendingSpace = false
    }
  }

  /// Appends `length` bytes from `source`.
  @inline(__always)
  mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) {
    guard length > 0 else { return }
    flushSpace()
    assert(count + length <= capacity, "ByteWriter overflow")
    memcpy(base + count, source, length)
    count += length
  }

  @inline(__always)
  mutating func append(_ byte: UInt8) {
    flushSpace()
    assert(count < capacity, "ByteWriter overflow")
    base[count] = byte
    count += 1
  }

  /// Appends the UTF-8 encoding of a scalar value (which the caller has checked is valid).
  mutating func append(scalar value: UInt32) {
    switch value {
    case 0..<0x80:
      append(UInt8(value))
    case 0x80..<0x800:
      append(UInt8(0xC0 | (value >> 6)))
      append(UInt8(0x80 | (value & 0x3F)))
    case 0x800..<0x10000:
      append(UInt8(0xE0 | (value >> 12)))
      append(UInt8(0x80 | ((value >> 6) & 0x3F)))
      append(UInt8(0x80 | (value & 0x3F)))
    default:
      append(UInt8(0xF0 | (value >> 18)))
      append(UInt8(0x80 | ((value >> 12) & 0x3F)))
      append(UInt8(0x80 | ((value >> 6) & 0x3F)))
      append(UInt8(0x80 | (value & 0x3F)))
    }
  }

  /// The bytes written so far, as a string.
  func makeString() -> String {
    String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
  }
}
