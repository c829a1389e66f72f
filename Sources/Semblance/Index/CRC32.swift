import CSemblanceKernels

/// The standard CRC-32 (IEEE 802.3, as in zlib, gzip and PNG): reflected polynomial
/// 0xEDB88320, initial value and final xor 0xFFFFFFFF.
///
/// ```swift
/// var crc = CRC32()
/// crc.update(header)
/// crc.update(body)
/// let checksum = crc.value    // the same as CRC32.checksum(of: header + body)
/// ```
///
/// The kernel is table-driven "slicing-by-16" (Kounavis & Berry, 2005, extended from
/// slicing-by-8): sixteen 256-entry tables let it consume 16 bytes per step with
/// independent table look-ups, so the loop is bound by loads rather than by the serial
/// dependency of the byte-at-a-time algorithm. On processors with PCLMULQDQ, buffers of
/// 256 bytes or more are first folded 64 bytes at a time by carry-less multiplication
/// (`semblance_crc32_fold`, Gopal et al., 2009), several times faster; the tables finish.
struct CRC32: Sendable, Hashable {
  /// The running register, pre-inverted (the "~crc" form used during updates).
  private var register: UInt32 = 0xFFFF_FFFF

  /// A CRC over zero bytes (whose value is 0).
  init() {}

  /// The checksum of every byte passed to `update` so far.
  var value: UInt32 { ~register }

  /// Feeds `bytes` into the checksum.
  ///
  /// - Complexity: O(`bytes.count`).
  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    register = CRC32.tables.withUnsafeBufferPointer { tables in
      CRC32.kernel(register, base, bytes.count, tables.baseAddress!)
    }
  }

  /// Feeds the bytes of `bytes` into the checksum.
  mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The CRC-32 of `bytes`.
  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc = CRC32()
    crc.update(bytes)
    return crc.value
  }

  /// The CRC-32 of `bytes`.
  static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// The CRC-32 of `bytes`, computed on every core for large buffers: each core checksums
  /// one contiguous part, and the parts' checksums are combined (``combine(_:_:secondLength:)``).
  /// The result equals ``checksum(_:)-4ia2w``.
  static func parallelChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    let parts = min(processorCount, bytes.count / parallelPartMinimum)
    guard parts > 1, let base = bytes.baseAddress else { return checksum(bytes) }
    var partial = [UInt32](repeating: 0, count: parts)
    partial.withUnsafeMutableBufferPointer { partial in
      let results = UnsafeSendable(partial)
      parallelForEach(chunks: parts) { part in
        let range = chunkRange(part, of: parts, count: bytes.count)
        results.value[part] = checksum(
          UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
      }
    }
    return combine(parts: partial, of: bytes.count)
  }

  /// The CRC-32 of `count` bytes from the CRC-32s of their `chunkRange` parts, in order (as
  /// many parts as `checksums` holds).
  static func combine(parts checksums: [UInt32], of count: Int) -> UInt32 {
    var crc = checksums[0]
    for part in 1..<checksums.count {
      let length = chunkRange(part, of: checksums.count, count: count).count
      crc = combine(crc, checksums[part], secondLength: length)
    }
    return crc
  }

  /// Buffers shorter than twice this are checksummed on one core.
  static let parallelPartMinimum = 4 << 20

  /// The CRC-32 of `a` followed by `b`, from the CRC-32 of each and the length of `b`.
  ///
  /// A CRC is a remainder modulo the generator polynomial P, and the initial value and final
  /// xor of CRC-32 cancel out when two of them are joined, so
  /// `crc(a ‖ b) = crc(a) · x^(8·|b|) mod P  ⊕  crc(b)`. The power of x comes from
  /// square-and-multiply, in O(log |b|) products.
  static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
    guard secondLength > 0 else { return first }
    return multiplyModP(first, xToThePower(8 * UInt64(secondLength))) ^ second
  }

  /// x⁰ in the reflected representation, where bit 31 holds the coefficient of x⁰.
  private static let one: UInt32 = 0x8000_0000

  /// `a · b mod P` with both operands reflected.
  static func multiplyModP(_ a: UInt32, _ b: UInt32) -> UInt32 {
    var product: UInt32 = 0
    var multiple = b  // b · x^i mod P, for i = 0, 1, …
    var bit = one  // the coefficient of x^i in a
    while bit != 0 {
      if a & bit != 0 { product ^= multiple }
      multiple = multiple & 1 != 0 ? (multiple >> 1) ^ 0xEDB8_8320 : multiple >> 1
      bit >>= 1
    }
    return product
  }

  /// `x^exponent mod P`, reflected.
  static func xToThePower(_ exponent: UInt64) -> UInt32 {
    var result = one
    var square = one >> 1  // x¹
    var remaining = exponent
    while remaining > 0 {
      if remaining & 1 != 0 { result = multiplyModP(result, square) }
      square = multiplyModP(square, square)
      remaining >>= 1
    }
    return result
  }

  // MARK: - Kernel

  /// Bytes consumed per step of the sliced loop.
  private static let slices = 16

  /// `slices` tables of 256 entries, table-major. Table 0 is the classic byte-at-a-time
  /// table; table k advances a byte through k further zero bytes:
  /// `T[k][n] = (T[k-1][n] >> 8) ^ T[0][T[k-1][n] & 0xFF]`.
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: slices * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 {
        crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
      }
      tables[byte] = crc
    }
    for slice in 1..<slices {
      for byte in 0..<256 {
        let previous = tables[(slice - 1) * 256 + byte]
        tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
      }
    }
    return tables
  }()

  @inline(__always)
  private static func lookup(_ t: UnsafePointer<UInt32>, _ slice: Int, _ byte: UInt32) -> UInt32 {
    t[slice &* 256 &+ Int(truncatingIfNeeded: byte & 0xFF)]
  }

  /// Advances the pre-inverted `register` over `count` bytes at `base`.
  private static func kernel(
    _ register: UInt32, _ base: UnsafeRawPointer, _ count: Int, _ t: UnsafePointer<UInt32>
  ) -> UInt32 {
    // Long buffers fold 16 bytes at a time with carry-less multiplication where the processor
    // has it (`semblance_crc32_fold`, about ten times the tables' speed); the folded block and
    // the last few bytes then go through the tables, from a register of 0.
    if count >= foldMinimum {
      var folded: (UInt64, UInt64) = (0, 0)
      let consumed = withUnsafeMutableBytes(of: &folded) { block in
        semblance_crc32_fold(
          register, base.assumingMemoryBound(to: UInt8.self), count,
          block.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
      if consumed > 0 {
        let crc = withUnsafeBytes(of: &folded) { tableKernel(0, $0.baseAddress!, 16, t) }
        return tableKernel(crc, base + consumed, count - consumed, t)
      }
    }
    return tableKernel(register, base, count, t)
  }

  /// Buffers shorter than this go through the tables only.
  static let foldMinimum = 256

  /// The slicing-by-16 loop.
  private static func tableKernel(
    _ register: UInt32, _ base: UnsafeRawPointer, _ count: Int, _ t: UnsafePointer<UInt32>
  ) -> UInt32 {
    var crc = register
    var position = 0
    while count &- position >= 16 {
      let word0 = base.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian ^ crc
      let word1 = base.loadUnaligned(fromByteOffset: position &+ 4, as: UInt32.self).littleEndian
      let word2 = base.loadUnaligned(fromByteOffset: position &+ 8, as: UInt32.self).littleEndian
      let word3 = base.loadUnaligned(fromByteOffset: position &+ 12, as: UInt32.self).littleEndian
      crc =
        lookup(t, 15, word0) ^ lookup(t, 14, word0 >> 8)
        ^ lookup(t, 13, word0 >> 16) ^ lookup(t, 12, word0 >> 24)
        ^ lookup(t, 11, word1) ^ lookup(t, 10, word1 >> 8)
        ^ lookup(t, 9, word1 >> 16) ^ lookup(t, 8, word1 >> 24)
        ^ lookup(t, 7, word2) ^ lookup(t, 6, word2 >> 8)
        ^ lookup(t, 5, word2 >> 16) ^ lookup(t, 4, word2 >> 24)
        ^ lookup(t, 3, word3) ^ lookup(t, 2, word3 >> 8)
        ^ lookup(t, 1, word3 >> 16) ^ lookup(t, 0, word3 >> 24)
      position &+= 16
    }
    while position < count {
      let byte = UInt32(base.load(fromByteOffset: position, as: UInt8.self))
      crc = (crc >> 8) ^ lookup(t, 0, crc ^ byte)
      position &+= 1
    }
    return crc
  }
}
