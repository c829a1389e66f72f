/// An immutable list of strings stored as one UTF-8 blob plus offsets.
///
/// Ids, titles and the vocabulary of an index are stored this way: two contiguous arrays
/// that can be written to disk and memory-mapped back without parsing.
struct StringTable: Sendable {
  /// UTF-8 bytes of every string, concatenated.
  let bytes: Storage<UInt8>
  /// `count + 1` offsets into `bytes`; string `i` is `bytes[offsets[i]..<offsets[i+1]]`.
  let offsets: Storage<Int64>

  init(bytes: Storage<UInt8>, offsets: Storage<Int64>) {
    self.bytes = bytes
    self.offsets = offsets
  }

  init(_ strings: some Sequence<String>) {
    var blob: [UInt8] = []
    var offsets: [Int64] = [0]
    for string in strings {
      blob.append(contentsOf: string.utf8)
      offsets.append(Int64(blob.count))
    }
    self.init(bytes: Storage(blob), offsets: Storage(offsets))
  }

  /// Collects strings one batch at a time, for a table built while streaming.
  struct Builder {
    private var blob: [UInt8] = []
    private var offsets: [Int64] = [0]

    mutating func append(_ string: String) {
      blob.append(contentsOf: string.utf8)
      offsets.append(Int64(blob.count))
    }

    func build() -> StringTable {
      StringTable(bytes: Storage(blob), offsets: Storage(offsets))
    }
  }

  /// `count` strings written on all cores: string `i` has `length(i)` bytes, which
  /// `write(i, target)` writes at `target`.
  init(
    count: Int, length: (Int) -> Int, write: (Int, UnsafeMutablePointer<UInt8>) -> Void
  ) {
    var offsets = [Int64](repeating: 0, count: count + 1)
    for index in 0..<count { offsets[index + 1] = offsets[index] + Int64(length(index)) }
    let byteCount = Int(offsets[count])
    let tasks = byteCount < 1 << 16 ? 1 : processorCount * 4
    let bytes = Storage<UInt8>(count: byteCount) { target in
      guard byteCount > 0 else { return }
      let base = UnsafeSendable(target.baseAddress!)
      offsets.withUnsafeBufferPointer { offsets in
        parallelForEach(chunks: tasks) { task in
          for index in chunkRange(task, of: tasks, count: count) {
            write(index, base.value + Int(offsets[index]))
          }
        }
      }
    }
    self.init(bytes: bytes, offsets: Storage(offsets))
  }

  var count: Int { offsets.count - 1 }

  /// The UTF-8 bytes of string `position`.
  @inline(__always)
  func utf8(at position: Int) -> UnsafeBufferPointer<UInt8> {
    let start = Int(offsets[position]), end = Int(offsets[position + 1])
    return UnsafeBufferPointer(rebasing: bytes.buffer[start..<end])
  }

  subscript(position: Int) -> String {
    String(decoding: utf8(at: position), as: UTF8.self)
  }

  var strings: [String] { (0..<count).map { self[$0] } }

  /// Checks the structural invariants, for data that came from a file.
  func isWellFormed() -> Bool {
    guard offsets.count >= 1, offsets[0] == 0 else { return false }
    var previous: Int64 = 0
    for position in 1..<offsets.count {
      let offset = offsets[position]
      if offset < previous { return false }
      previous = offset
    }
    return previous == Int64(bytes.count)
  }
}
