/// The outcome of checking a stretch of bytes for well-formed UTF-8.
struct UTF8ValidationResult {
  /// Every byte before this offset is valid UTF-8 and ends on a scalar boundary.
  var validEnd: Int
  /// The offset of the first byte of an ill-formed sequence, if one was found.
  var invalidOffset: Int?
}

/// Checks `bytes[start..<end]` for well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF).
///
/// When `isFinal` is false, a sequence cut off by `end` is not an error: `validEnd` stops
/// before it so that the caller can check it again once more bytes have arrived.
/// ASCII is checked eight bytes at a time.
func validateUTF8(
  _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, isFinal: Bool
) -> UTF8ValidationResult {
  let highBits: UInt64 = 0x8080_8080_8080_8080
  var index = start
  while index < end {
    while index + 8 <= end,
      UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self) & highBits == 0
    {
      index += 8
    }
    guard index < end else { break }
    let lead = bytes[index]
    if lead < 0x80 {
      index += 1
      continue
    }
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; high = 0x9F
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; high = 0x8F
    default: return UTF8ValidationResult(validEnd: index, invalidOffset: index)
    }
    let available = Swift.min(length, end - index)
    for offset in 1..<Swift.max(available, 1) {
      let byte = bytes[index + offset]
      let inRange = offset == 1 ? (byte >= low && byte <= high) : (byte & 0xC0 == 0x80)
      if !inRange { return UTF8ValidationResult(validEnd: index, invalidOffset: index) }
    }
    if available < length {
      return UTF8ValidationResult(validEnd: index, invalidOffset: isFinal ? index : nil)
    }
    index += length
  }
  return UTF8ValidationResult(validEnd: end, invalidOffset: nil)
}
