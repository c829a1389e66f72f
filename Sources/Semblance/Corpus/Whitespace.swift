/// Whitespace in UTF-8 text: the Unicode `White_Space` characters, which are the ASCII
/// tab, line feed, vertical tab, form feed, carriage return and space, plus U+0085, U+00A0,
/// U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
enum Whitespace {
  /// The length in bytes of the whitespace character at `bytes[index]`, or 0 if there is none.
  /// The bytes are valid UTF-8, but a sequence may be cut off by `end`.
  @inline(__always)
  static func length(_ bytes: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
    let lead = bytes[index]
    if lead < 0x80 {
      return lead == 0x20 || (lead >= 0x09 && lead <= 0x0D) ? 1 : 0
    }
    return nonASCIILength(bytes, at: index, end: end, lead: lead)
  }

  /// Whether a byte may begin a non-ASCII whitespace character.
  @inline(__always)
  static func mayStartNonASCII(_ byte: UInt8) -> Bool {
    byte == 0xC2 || (byte >= 0xE1 && byte <= 0xE3)
  }

  static func nonASCIILength(
    _ bytes: UnsafePointer<UInt8>, at index: Int, end: Int, lead: UInt8
  ) -> Int {
    switch lead {
    case 0xC2:
      guard index + 1 < end else { return 0 }
      let next = bytes[index + 1]
      return next == 0x85 || next == 0xA0 ? 2 : 0
    case 0xE1, 0xE2, 0xE3:
      guard index + 2 < end else { return 0 }
      let second = bytes[index + 1], third = bytes[index + 2]
      switch (lead, second) {
      case (0xE1, 0x9A): return third == 0x80 ? 3 : 0  // U+1680
      case (0xE2, 0x80):  // U+2000–U+200A, U+2028, U+2029, U+202F
        return (third >= 0x80 && third <= 0x8A) || third == 0xA8 || third == 0xA9 || third == 0xAF
          ? 3 : 0
      case (0xE2, 0x81): return third == 0x9F ? 3 : 0  // U+205F
      case (0xE3, 0x80): return third == 0x80 ? 3 : 0  // U+3000
      default: return 0
      }
    default:
      return 0
    }
  }

  /// Whether a scalar value (from a JSON `\u` escape) is whitespace.
  static func isWhitespace(scalar value: UInt32) -> Bool {
    switch value {
    case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
      0x3000:
      return true
    default:
      return false
    }
  }

  /// Appends `bytes[start..<end]` to `writer` with whitespace collapsed.
  /// - Returns: Whether the range held anything other than whitespace.
  @discardableResult
  static func appendCollapsing(
    _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, into writer: inout ByteWriter
  ) -> Bool {
    var index = start
    var runStart = start
    var sawText = false
    while index < end {
      let byte = bytes[index]
      if byte > 0x20 && (byte < 0x80 || !mayStartNonASCII(byte)) {
        index += 1
        continue
      }
      let width = length(bytes, at: index, end: end)
      if width == 0 {
        index += 1
        continue
      }
      if index > runStart {
        writer.append(bytes + runStart, count: index - runStart)
        sawText = true
      }
      writer.noteWhitespace()
      index += width
      runStart = index
    }
    if end > runStart {
      writer.append(bytes + runStart, count: end - runStart)
      sawText = true
    }
    return sawText
  }
}
