/// Why a JSON scan stopped.
enum JSONScanError: Error {
  /// The text is not JSON; `offset` is where the problem was found.
  case syntax(String, offset: Int)
  /// The bytes ended in the middle of a value.
  case truncated
}

/// Byte-level JSON scanning primitives (RFC 8259), shared by the JSON Lines and JSON array
/// parsers. Each function starts at `index` and leaves it just past what it scanned.
/// Reaching `end` in the middle of a value throws ``JSONScanError/truncated``, so a streaming
/// caller can retry once more bytes have arrived.
enum JSONScanner {
  /// Nested arrays and objects deeper than this are rejected rather than risking the stack.
  static let maximumDepth = 256

  static let quote = UInt8(ascii: "\"")
  static let backslash = UInt8(ascii: "\\")

  @inline(__always)
  static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  /// Skips JSON whitespace (space, tab, line feed, carriage return).
  @inline(__always)
  static func skipWhitespace(_ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int) {
    while index < end && isWhitespace(bytes[index]) { index += 1 }
  }

  /// A short description of an unexpected byte, for error messages.
  static func describe(_ byte: UInt8) -> String {
    switch byte {
    case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
    case 0x20: return "a space"
    case 0x80...: return "a non-ASCII character"
    default: return "the control character U+\(hex(UInt32(byte)))"
    }
  }

  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
  }

  /// Decodes the string whose opening quote is at `bytes[index]` into `writer`, resolving
  /// escapes. With `collapse`, white space (raw or escaped) becomes single spaces, trimmed.
  static func decodeString(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int,
    collapse: Bool, into writer: inout ByteWriter
  ) throws(JSONScanError) {
    assert(bytes[index] == quote)
    var i = index + 1
    while true {
      var j = i
      while j < end {
        let byte = bytes[j]
        if byte == quote || byte == backslash || byte < 0x20 { break }
        if collapse {
          if byte == 0x20 { break }
          if Whitespace.mayStartNonASCII(byte),
            Whitespace.nonASCIILength(bytes, at: j, end: end, lead: byte) > 0
          {
            break
          }
        }
        j += 1
      }
      writer.append(bytes + i, count: j - i)
      guard j < end else { throw .truncated }
      let byte = bytes[j]
      if byte == quote {
        index = j + 1
        return
      } else if byte == backslash {
        i = j
        let scalar = try decodeEscape(bytes, &i, end)
        if collapse && Whitespace.isWhitespace(scalar: scalar) {
          writer.noteWhitespace()
        } else {
          writer.append(scalar: scalar)
        }
      } else if byte < 0x20 {
        throw .syntax(
          "the control character U+\(hex(UInt32(byte))) must be escaped inside a string", offset: j)
      } else {
        writer.noteWhitespace()
        i = j + Whitespace.length(bytes, at: j, end: end)
      }
    }
  }

  /// Decodes the escape sequence whose backslash is at `bytes[index]`, joining a UTF-16
  /// surrogate pair written as two `\u` escapes. Returns the scalar value.
  static func decodeEscape(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) -> UInt32 {
    guard index + 1 < end else { throw .truncated }
    let letter = bytes[index + 1]
    let simple: UInt32
    switch letter {
    case UInt8(ascii: "\""): simple = 0x22
    case UInt8(ascii: "\\"): simple = 0x5C
    case UInt8(ascii: "/"): simple = 0x2F
    case UInt8(ascii: "b"): simple = 0x08
    case UInt8(ascii: "f"): simple = 0x0C
    case UInt8(ascii: "n"): simple = 0x0A
    case UInt8(ascii: "r"): simple = 0x0D
    case UInt8(ascii: "t"): simple = 0x09
    case UInt8(ascii: "u"):
      let first = try hexQuad(bytes, index + 2, end)
      switch first {
      case 0xD800...0xDBFF:
        guard index + 7 < end else { throw .truncated }
        guard bytes[index + 6] == backslash, bytes[index + 7] == UInt8(ascii: "u") else {
          throw .syntax("the high surrogate \\u\(hex(first)) is not followed by a low surrogate",
            offset: index)
        }
        let second = try hexQuad(bytes, index + 8, end)
        guard (0xDC00...0xDFFF).contains(second) else {
          throw .syntax("the high surrogate \\u\(hex(first)) is not followed by a low surrogate",
            offset: index)
        }
        index += 12
        return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
      case 0xDC00...0xDFFF:
        throw .syntax("the low surrogate \\u\(hex(first)) has no high surrogate before it",
          offset: index)
      default:
        index += 6
        return first
      }
    default:
      throw .syntax("\\\(describe(letter)) is not a valid escape", offset: index)
    }
    index += 2
    return simple
  }

  /// The value of the four hex digits at `bytes[start...]`.
  private static func hexQuad(
    _ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int
  ) throws(JSONScanError) -> UInt32 {
    var value: UInt32 = 0
    for offset in 0..<4 {
      guard start + offset < end else { throw .truncated }
      let byte = bytes[start + offset]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default:
        throw .syntax("a \\u escape needs four hex digits, not \(describe(byte))",
          offset: start + offset)
      }
      value = value << 4 | UInt32(digit)
    }
    return value
  }

  /// Scans a number (`-? int frac? exp?`) starting at `bytes[index]`.
  static func scanNumber(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) {
    var i = index
    if bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < end else { throw .truncated }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else if isDigit(bytes[i]) {
      while i < end && isDigit(bytes[i]) { i += 1 }
    } else {
      throw .syntax("a number needs a digit, not \(describe(bytes[i]))", offset: i)
    }
    if i < end && bytes[i] == UInt8(ascii: ".") {
      i += 1
      try digits(bytes, &i, end, after: "a decimal point")
    }
    if i < end && (bytes[i] | 0x20) == UInt8(ascii: "e") {
      i += 1
      if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
      try digits(bytes, &i, end, after: "an exponent")
    }
    index = i
  }

  @inline(__always)
  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  private static func digits(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int, after what: String
  ) throws(JSONScanError) {
    guard index < end else { throw .truncated }
    guard isDigit(bytes[index]) else {
      throw .syntax("\(what) must be followed by a digit", offset: index)
    }
    while index < end && isDigit(bytes[index]) { index += 1 }
  }

  /// Scans `true`, `false` or `null` starting at `bytes[index]`.
  static func scanLiteral(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) {
    let word: StaticString
    switch bytes[index] {
    case UInt8(ascii: "t"): word = "true"
    case UInt8(ascii: "f"): word = "false"
    default: word = "null"
    }
    let count = word.utf8CodeUnitCount
    let letters = word.utf8Start
    for offset in 0..<count {
      guard index + offset < end else { throw .truncated }
      guard bytes[index + offset] == letters[offset] else {
        throw .syntax("expected a value", offset: index)
      }
    }
    index += count
  }

  /// Copies the value at `bytes[index]` to `writer` as compact JSON: whitespace between
  /// tokens removed, strings and numbers exactly as written (after checking them).
  static func copyCompact(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int,
    depth: Int, into writer: inout ByteWriter
  ) throws(JSONScanError) {
    guard index < end else { throw .truncated }
    let byte = bytes[index]
    switch byte {
    case quote:
      try copyString(bytes, &index, end, into: &writer)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = index
      try scanNumber(bytes, &index, end)
      writer.append(bytes + start, count: index - start)
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      let start = index
      try scanLiteral(bytes, &index, end)
      writer.append(bytes + start, count: index - start)
    case UInt8(ascii: "["), UInt8(ascii: "{"):
      guard depth < maximumDepth else {
        throw .syntax("arrays and objects are nested more than \(maximumDepth) deep", offset: index)
      }
      let isObject = byte == UInt8(ascii: "{")
      let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
      writer.append(byte)
      index += 1
      skipWhitespace(bytes, &index, end)
      guard index < end else { throw .truncated }
      if bytes[index] == close {
        writer.append(close)
        index += 1
        return
      }
      while true {
        if isObject {
          guard index < end else { throw .truncated }
          guard bytes[index] == quote else {
            throw .syntax("expected a key in double quotes, not \(describe(bytes[index]))",
              offset: index)
          }
          try copyString(bytes, &index, end, into: &writer)
          skipWhitespace(bytes, &index, end)
          guard index < end else { throw .truncated }
          guard bytes[index] == UInt8(ascii: ":") else {
            throw .syntax("expected ':' after a key, not \(describe(bytes[index]))", offset: index)
          }
          writer.append(UInt8(ascii: ":"))
          index += 1
          skipWhitespace(bytes, &index, end)
        }
        try copyCompact(bytes, &index, end, depth: depth + 1, into: &writer)
        skipWhitespace(bytes, &index, end)
        guard index < end else { throw .truncated }
        let next = bytes[index]
        if next == UInt8(ascii: ",") {
          writer.append(next)
          index += 1
          skipWhitespace(bytes, &index, end)
        } else if next == close {
          writer.append(next)
          index += 1
          return
        } else {
          throw .syntax(
            "expected ',' or '\(Character(Unicode.Scalar(close)))', not \(describe(next))",
            offset: index)
        }
      }
    default:
      throw .syntax("expected a value, not \(describe(byte))", offset: index)
    }
  }

  /// Checks the string at `bytes[index]` and copies it, quotes and escapes included, as written.
  private static func copyString(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int, into writer: inout ByteWriter
  ) throws(JSONScanError) {
    let start = index
    let mark = writer.count
    // Decoding checks every escape; the decoded text is never longer than the source, so it
    // fits where the raw copy goes, which then overwrites it.
    try decodeString(bytes, &index, end, collapse: false, into: &writer)
    writer.count = mark
    writer.append(bytes + start, count: index - start)
  }
}
