/// A set of short words (1 to 16 bytes) whose membership test has no branch on its answer.
///
/// The ASCII tokenizer drops stop words, about a third of an English text's tokens, in no
/// order a branch predictor can learn; a hash-table probe whose loop and comparisons branch
/// on the answer mispredicted about once in three tokens. Here every word sits in one of two
/// slots chosen by its hash, as its first eight bytes and its next eight (zero-padded), and
/// a token is compared with both slots by whole-word arithmetic. A token of more than 16
/// bytes is never a member, so the test is exact, with no hash comparison.
struct ShortWordSet: Sendable {
  private struct Slot {
    var head: UInt64 = 0
    var tail: UInt64 = 0
  }

  /// Empty slots are zero, which no token matches: a token's first byte is not zero.
  private var slots: [Slot]
  private var mask: UInt64

  /// The longest word the set holds.
  static let maximumLength = 16

  /// A set of `words` (each given with its ``TermTable/hash(_:)``), or `nil` when one is
  /// empty or longer than ``maximumLength``.
  init?(_ words: [(bytes: [UInt8], hash: UInt64)]) {
    guard words.allSatisfy({ (1...ShortWordSet.maximumLength).contains($0.bytes.count) }) else {
      return nil
    }
    var size = 64
    while size < 4 * words.count { size <<= 1 }
    while true {
      if let slots = ShortWordSet.place(words, size: size) {
        self.slots = slots
        mask = UInt64(size - 1)
        return
      }
      size <<= 1
    }
  }

  /// Every word in one of its two slots in a table of `size` (cuckoo placement), or `nil`
  /// when a chain of displacements runs too long.
  private static func place(_ words: [(bytes: [UInt8], hash: UInt64)], size: Int) -> [Slot]? {
    var slots = [Slot](repeating: Slot(), count: size)
    var hashes = [UInt64](repeating: 0, count: size)
    let mask = UInt64(size - 1)
    var seen = Set<[UInt8]>()
    for word in words where seen.insert(word.bytes).inserted {
      var slot = Slot(head: load(word.bytes, from: 0), tail: load(word.bytes, from: 8))
      var hash = word.hash
      var position = Int(hash & mask)
      var placed = false
      for _ in 0..<64 {
        // Take the place; an occupant moves to its other slot.
        let occupant = slots[position]
        slots[position] = slot
        swap(&hashes[position], &hash)
        if occupant.head == 0 {
          placed = true
          break
        }
        slot = occupant
        let first = Int(hash & mask), second = Int((hash >> 32) & mask)
        position = position == first ? second : first
      }
      guard placed else { return nil }
    }
    return slots
  }

  /// Bytes `start..<start + 8` of `bytes` as a little-endian word, zero-padded.
  private static func load(_ bytes: [UInt8], from start: Int) -> UInt64 {
    var word: UInt64 = 0
    for index in min(start, bytes.count)..<min(start + 8, bytes.count) {
      word |= UInt64(bytes[index]) << (8 * UInt64(index - start))
    }
    return word
  }

  /// Whether the token of `length` bytes at `bytes`, whose ``TermTable/hash(_:)`` is `hash`,
  /// is in the set. Reads 16 bytes from `bytes` whatever the length: the caller pads.
  @inline(__always)
  func contains(_ bytes: UnsafePointer<UInt8>, length: Int, hash: UInt64) -> Bool {
    let raw = UnsafeRawPointer(bytes)
    let headBytes = min(length, 8), tailBytes = min(max(length - 8, 0), 8)
    let headMask = headBytes == 8 ? UInt64.max : (1 &<< UInt64(8 * headBytes)) &- 1
    let tailMask = tailBytes == 8 ? UInt64.max : (1 &<< UInt64(8 * tailBytes)) &- 1
    let head = raw.loadUnaligned(as: UInt64.self) & headMask
    let tail = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & tailMask
    return slots.withUnsafeBufferPointer { slots in
      let first = slots[Int(hash & mask)], second = slots[Int((hash >> 32) & mask)]
      let difference = min(
        (first.head ^ head) | (first.tail ^ tail), (second.head ^ head) | (second.tail ^ tail))
      // Nonzero unless a slot matched and the token is short enough to be compared whole.
      return difference | UInt64(truncatingIfNeeded: (ShortWordSet.maximumLength &- length) >> 63)
        == 0
    }
  }
}
