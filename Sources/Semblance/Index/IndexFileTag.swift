/// The four-character name of a section in an index file, such as `"CONF"` or `"IDS_"`.
///
/// ```swift
/// let tag: IndexFileTag = "EMBD"
/// writer.append(tag, embeddings)
/// ```
///
/// In the file a tag is stored as its four ASCII bytes in order, so a hex dump shows the name.
/// `rawValue` is those bytes read as a little-endian `UInt32`.
struct IndexFileTag: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
  /// The four bytes of the tag as a little-endian integer (first character in the low byte).
  let rawValue: UInt32

  /// A tag read from a file; any value is accepted, printable or not.
  init(rawValue: UInt32) {
    self.rawValue = rawValue
  }

  /// A tag from exactly four printable ASCII characters.
  ///
  /// Passing anything else is a programming error and traps.
  init(_ name: String) {
    let bytes = Array(name.utf8)
    precondition(
      bytes.count == 4 && bytes.allSatisfy { (0x20...0x7E).contains($0) },
      "an index file tag is exactly four printable ASCII characters, not \"\(name)\"")
    var value: UInt32 = 0
    for (position, byte) in bytes.enumerated() {
      value |= UInt32(byte) << (8 * UInt32(position))
    }
    self.rawValue = value
  }

  init(stringLiteral name: String) {
    self.init(name)
  }

  /// The four bytes in file order.
  var bytes: [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32($0))) }
  }

  /// The four characters, or the hexadecimal value when they are not printable ASCII.
  var description: String {
    let bytes = self.bytes
    if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) {
      return String(decoding: bytes, as: UTF8.self)
    }
    let hex = String(rawValue, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - hex.count) + hex
  }
}
