import Foundation
import Testing

/// Small, strict readers for the files `semblance export` writes, written from the format
/// specifications (not from Semblance's writers) so that they check the writers independently.
enum ExportReaders {
  /// A Matrix Market "coordinate real general" file.
  struct MatrixMarket {
    var header: String
    var rows: Int
    var columns: Int
    /// (row, column, value), 0-based, in file order.
    var entries: [(row: Int, column: Int, value: Double)]
  }

  struct FormatError: Error, CustomStringConvertible {
    var description: String
  }

  /// Parses Matrix Market coordinate format: a `%%MatrixMarket` banner, `%` comment lines,
  /// a size line `rows columns entries`, then one 1-based `row column value` line per entry.
  static func matrixMarket(_ text: String) throws -> MatrixMarket {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let banner = lines.first, banner.hasPrefix("%%MatrixMarket") else {
      throw FormatError(description: "no %%MatrixMarket banner")
    }
    var index = 1
    while index < lines.count, lines[index].hasPrefix("%") { index += 1 }
    guard index < lines.count else { throw FormatError(description: "no size line") }
    let size = lines[index].split(separator: " ").compactMap { Int($0) }
    guard size.count == 3 else { throw FormatError(description: "bad size line '\(lines[index])'") }
    index += 1
    var entries: [(row: Int, column: Int, value: Double)] = []
    entries.reserveCapacity(size[2])
    for line in lines[index...] where !line.isEmpty {
      let fields = line.split(separator: " ")
      guard fields.count == 3, let row = Int(fields[0]), let column = Int(fields[1]),
        let value = Double(fields[2])
      else { throw FormatError(description: "bad entry line '\(line)'") }
      guard (1...size[0]).contains(row), (1...size[1]).contains(column) else {
        throw FormatError(description: "entry out of range (1-based): '\(line)'")
      }
      entries.append((row - 1, column - 1, value))
    }
    guard entries.count == size[2] else {
      throw FormatError(description: "size line says \(size[2]) entries, found \(entries.count)")
    }
    return MatrixMarket(
      header: String(banner), rows: size[0], columns: size[1], entries: entries)
  }

  /// A NumPy `.npy` file, version 1.0.
  struct NumPy {
    var major: UInt8
    var minor: UInt8
    /// The header dictionary, with whitespace removed: `{'descr':'<f4',...}`.
    var compactHeader: String
    /// Magic, version, length field, header and padding: where the payload starts.
    var headerLength: Int
    var payload: Data
  }

  /// Parses the NPY preamble: `\x93NUMPY`, two version bytes, a little-endian UInt16 header
  /// length, then that many bytes of ASCII dictionary ending in a newline.
  static func numPy(_ data: Data) throws -> NumPy {
    let bytes = [UInt8](data)
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw FormatError(description: "no \\x93NUMPY magic")
    }
    let length = Int(bytes[8]) | Int(bytes[9]) << 8
    guard bytes.count >= 10 + length else { throw FormatError(description: "header cut short") }
    let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
    guard header.hasSuffix("\n"), header.allSatisfy(\.isASCII) else {
      throw FormatError(description: "header is not ASCII ending in a newline: \(header)")
    }
    return NumPy(
      major: bytes[6], minor: bytes[7],
      compactHeader: header.filter { !$0.isWhitespace }, headerLength: 10 + length,
      payload: data.subdata(in: (10 + length)..<data.count))
  }

  /// Little-endian Float32 values.
  static func float32s(_ data: Data) -> [Float] {
    let bytes = [UInt8](data)
    return stride(from: 0, to: bytes.count - 3, by: 4).map { offset in
      let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
      return Float(bitPattern: bits)
    }
  }

  /// The lines of a text file that ends with a newline, without that last empty piece.
  static func lines(_ text: String) -> [String] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
  }
}
