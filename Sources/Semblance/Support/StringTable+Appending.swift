extension StringTable {
  /// This table followed by `strings`.
  func appending(contentsOf strings: some Sequence<String>) -> StringTable {
    var blob = bytes.array
    var offsets = self.offsets.array
    for string in strings {
      blob.append(contentsOf: string.utf8)
      offsets.append(Int64(blob.count))
    }
    return StringTable(bytes: Storage(blob), offsets: Storage(offsets))
  }
}
