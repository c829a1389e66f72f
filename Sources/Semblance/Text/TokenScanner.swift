/// Splits UTF-8 text into lowercased word tokens, the way scikit-learn's default
/// `token_pattern` `(?u)\b\w\w+\b` does on `text.lower()`.
///
/// A token is a maximal run of word characters (letters, digits, underscore: the set Python's
/// `\w` matches) of at least two code points, after full Unicode lowercasing. ASCII bytes take
/// a table-driven fast path; other scalars are lowercased through the Unicode database and
/// cached per scanner. One scanner per thread: it owns its cache.
struct TokenScanner {
  /// Lowercased scalars of a non-ASCII scalar, each with bit 31 set when it is a word character.
  private var cache: [UInt32: [UInt32]] = [:]

  private static let wordBit: UInt32 = 1 << 31

  /// For ASCII byte `b`: 0 when it is not a word character, otherwise its lowercase byte.
  private static let asciiTable: [UInt8] = (0..<128).map { byte -> UInt8 in
    switch byte {
    case 0x30...0x39, 0x5F, 0x61...0x7A: UInt8(byte)
    case 0x41...0x5A: UInt8(byte + 0x20)
    default: 0
    }
  }

  /// Whether `scalar` is a word character in Python's sense: `str.isalnum()` or underscore.
  static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.value < 0x80 { return asciiTable[Int(scalar.value)] != 0 }
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return true
    default:
      return scalar.properties.numericType != nil
    }
  }

  private mutating func lowered(_ value: UInt32) -> [UInt32] {
    if let hit = cache[value] { return hit }
    let scalar = Unicode.Scalar(value)!
    let mapped = scalar.properties.lowercaseMapping.unicodeScalars.map { lowered in
      lowered.value | (TokenScanner.isWordCharacter(lowered) ? TokenScanner.wordBit : 0)
    }
    cache[value] = mapped
    return mapped
  }

  /// Whether the scalar starting at `position` (skipping case-ignorable ones) is cased.
  static func casedScalarFollows(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
    var position = start
    while position < text.count {
      var iterator = UTF8.ForwardParser()
      var bytes = UnsafeBufferPointer(rebasing: text[position...]).makeIterator()
      guard case .valid(let encoded) = iterator.parseScalar(from: &bytes) else { return false }
      let scalar = UTF8.decode(encoded)
      if scalar.properties.isCaseIgnorable {
        position += encoded.count
        continue
      }
      return scalar.properties.isCased
    }
    return false
  }

  /// Scans `text` and calls `token` with the byte range in `output` of each token.
  ///
  /// Tokens are appended to `output`, each preceded by one space when `output` is not empty,
  /// so consecutive kept tokens form their n-grams as contiguous byte ranges. `token`
  /// returns whether to keep the token; a rejected token (and its space) is removed again.
  ///
  /// - Parameter text: valid UTF-8 (it comes from a Swift `String`).
  mutating func scan(
    _ text: UnsafeBufferPointer<UInt8>,
    into output: inout [UInt8],
    token: (_ output: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool
  ) {
    var rollback = -1  // output.count before the current token's separator; -1 when outside
    var start = 0
    var scalars = 0

    @inline(__always)
    func finish(_ output: inout [UInt8]) {
      if rollback < 0 { return }
      let keep =
        scalars >= 2
        && output.withUnsafeBufferPointer { token($0, start..<$0.count) }
      if !keep { output.removeSubrange(rollback...) }
      rollback = -1
    }

    @inline(__always)
    func begin(_ output: inout [UInt8]) {
      if rollback >= 0 { return }
      rollback = output.count
      if !output.isEmpty { output.append(0x20) }
      start = output.count
      scalars = 0
    }

    let table = TokenScanner.asciiTable
    let count = text.count
    var position = 0
    var previousIsCased = false
    while position < count {
      let byte = text[position]
      if byte < 0x80 {
        previousIsCased = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
        let lower = table[Int(byte)]
        if lower != 0 {
          begin(&output)
          output.append(lower)
          scalars += 1
        } else {
          finish(&output)
        }
        position += 1
        continue
      }
      // Decode one multi-byte scalar (input is valid UTF-8).
      var value: UInt32
      let length: Int
      if byte < 0xE0 {
        value = UInt32(byte & 0x1F)
        length = 2
      } else if byte < 0xF0 {
        value = UInt32(byte & 0x0F)
        length = 3
      } else {
        value = UInt32(byte & 0x07)
        length = 4
      }
      let end = min(position + length, count)
      var next = position + 1
      while next < end {
        value = (value << 6) | UInt32(text[next] & 0x3F)
        next += 1
      }
      position = end
      let precededByCased = previousIsCased
      previousIsCased = Unicode.Scalar(value).map { $0.properties.isCased } ?? false
      var mappedScalars = lowered(value)
      if value == 0x03A3 && precededByCased && !TokenScanner.casedScalarFollows(text, at: position) {
        // Python's str.lower() applies Unicode's Final_Sigma rule: Σ ending a word is ς.
        mappedScalars = [0x03C2 | TokenScanner.wordBit]
      }
      for mapped in mappedScalars {
        if mapped & TokenScanner.wordBit != 0 {
          begin(&output)
          let scalar = Unicode.Scalar(mapped & ~TokenScanner.wordBit)!
          UTF8.encode(scalar) { output.append($0) }
          scalars += 1
        } else {
          finish(&output)
        }
      }
    }
    finish(&output)
  }
}
