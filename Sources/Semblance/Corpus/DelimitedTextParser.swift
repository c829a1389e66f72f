#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses CSV or TSV with a header row and RFC 4180 quoting.
///
/// - A field that starts with `"` is quoted: it runs to the next lone `"`, and may contain the
///   delimiter, line breaks and doubled quotes (`""` for one `"`). After the closing quote
///   comes the delimiter or the end of the record. A `"` inside an unquoted field is kept.
/// - Records end with LF or CRLF (a carriage return elsewhere is kept as data). Empty lines
///   are skipped.
/// - The first record is the header. It must name the id, title and abstract columns, and
///   each name only once. Every other record must have as many fields as the header.
/// - Values are whitespace-collapsed; other named columns go to metadata unless the value is empty.
struct DelimitedTextParser: RecordParser {
  private struct Header {
    var names: [String]
    var id: Int
    var title: Int
    var abstract: Int
  }

  private enum Outcome {
    /// The record ended at this offset (after its line break, if any).
    case complete(next: Int)
    /// The record runs past the bytes available; try again with more.
    case needMore
  }

  let file: String
  let fields: CorpusFields
  let delimiter: UInt8
  private(set) var line = 1
  private var header: Header?
  /// The unquoted values of the current record, back to back; `ranges` delimits them.
  private let values = ScratchBuffer<UInt8>()
  private var ranges: [Range<Int>] = []
  /// Where collapsed values are written before they become strings.
  private let output = ScratchBuffer<UInt8>()

  init(file: String, fields: CorpusFields, delimiter: UInt8) {
    self.file = file
    self.fields = fields
    self.delimiter = delimiter
  }

  mutating func consume(
    _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into papers: inout PaperCollector
  ) throws(CorpusError) -> Int {
    guard let bytes = buffer.baseAddress else { return 0 }
    let end = buffer.count
    values.reserve(end)
    var index = 0
    while index < end {
      // Skip an empty line.
      if bytes[index] == 0x0A {
        index += 1
        line += 1
        continue
      }
      if bytes[index] == 0x0D {
        if index + 1 < end {
          if bytes[index + 1] == 0x0A {
            index += 2
            line += 1
            continue
          }
        } else if !isFinal {
          return index
        }
      }
      let recordLine = line
      var lineFeeds = 0
      switch try scanRecord(bytes, from: index, end: end, isFinal: isFinal, lineFeeds: &lineFeeds) {
      case .needMore:
        return index
      case .complete(let next):
        index = next
      }
      try accept(lineNumber: recordLine, into: &papers)
      line += lineFeeds
    }
    return index
  }

  /// Splits the record at `bytes[start...]` into `values` and `ranges`, counting the line
  /// feeds it spans (including the one that ends it).
  private mutating func scanRecord(
    _ bytes: UnsafePointer<UInt8>, from start: Int, end: Int, isFinal: Bool, lineFeeds: inout Int
  ) throws(CorpusError) -> Outcome {
    let quote = UInt8(ascii: "\"")
    ranges.removeAll(keepingCapacity: true)
    var written = 0
    var index = start
    while true {
      let fieldStart = written
      if index < end && bytes[index] == quote {
        index += 1
        while true {
          guard let found = memchr(bytes + index, Int32(quote), end - index) else {
            if !isFinal { return .needMore }
            throw malformed("a quoted field is not closed before the end of the file")
          }
          let closing = UnsafeRawPointer(bytes).distance(to: UnsafeRawPointer(found))
          let length = closing - index
          (values.base + written).update(from: bytes + index, count: length)
          written += length
          for offset in index..<closing where bytes[offset] == 0x0A {
            lineFeeds += 1
          }
          index = closing + 1
          if index < end && bytes[index] == quote {
            values.base[written] = quote
            written += 1
            index += 1
            continue
          }
          if index == end && !isFinal { return .needMore }
          break
        }
        ranges.append(fieldStart..<written)
        guard index < end else { return .complete(next: index) }
        let next = bytes[index]
        if next == delimiter {
          index += 1
          continue
        }
        if next == 0x0A {
          lineFeeds += 1
          return .complete(next: index + 1)
        }
        if next == 0x0D {
          if index + 1 < end {
            if bytes[index + 1] == 0x0A {
              lineFeeds += 1
              return .complete(next: index + 2)
            }
          } else if isFinal {
            return .complete(next: index + 1)
          } else {
            return .needMore
          }
        }
        throw malformed("unexpected \(JSONScanner.describe(next)) after the closing quote of a field")
      } else {
        var stop = index
        while stop < end {
          let byte = bytes[stop]
          if byte == delimiter || byte == 0x0A { break }
          stop += 1
        }
        if stop == end && !isFinal { return .needMore }
        var valueEnd = stop
        if stop < end && bytes[stop] == 0x0A && valueEnd > index && bytes[valueEnd - 1] == 0x0D {
          valueEnd -= 1
        }
        let length = valueEnd - index
        (values.base + written).update(from: bytes + index, count: length)
        written += length
        ranges.append(fieldStart..<written)
        guard stop < end else { return .complete(next: stop) }
        if bytes[stop] == delimiter {
          index = stop + 1
          continue
        }
        lineFeeds += 1
        return .complete(next: stop + 1)
      }
    }
  }

  /// Turns the scanned record into the header or a paper.
  private mutating func accept(
    lineNumber: Int, into papers: inout PaperCollector
  ) throws(CorpusError) {
    guard let header else {
      try readHeader(lineNumber: lineNumber)
      return
    }
    guard ranges.count == header.names.count else {
      throw .malformedRecord(
        file: file, line: lineNumber,
        reason: "expected \(header.names.count) fields as in the header, but found \(ranges.count)")
    }
    let id = value(header.id)
    guard !id.isEmpty else {
      throw .missingField(file: file, line: lineNumber, field: fields.id)
    }
    var metadata: [String: String] = [:]
    for (column, name) in header.names.enumerated()
    where column != header.id && column != header.title && column != header.abstract {
      guard !name.isEmpty else { continue }
      let text = value(column)
      if !text.isEmpty { metadata[name] = text }
    }
    let paper = Paper(
      id: id, title: value(header.title), abstract: value(header.abstract), metadata: metadata)
    try papers.add(paper, line: lineNumber)
  }

  private mutating func readHeader(lineNumber: Int) throws(CorpusError) {
    let names = (0..<ranges.count).map { value($0) }
    var seen: Set<String> = []
    for name in names where !name.isEmpty && !seen.insert(name).inserted {
      throw .malformedRecord(
        file: file, line: lineNumber, reason: "the header names the column '\(name)' twice")
    }
    func column(_ name: String) throws(CorpusError) -> Int {
      guard let index = names.firstIndex(of: name) else {
        throw .missingField(file: file, line: lineNumber, field: name)
      }
      return index
    }
    header = Header(
      names: names, id: try column(fields.id), title: try column(fields.title),
      abstract: try column(fields.abstract))
  }

  /// The whitespace-collapsed text of field `column` of the current record.
  private func value(_ column: Int) -> String {
    let range = ranges[column]
    output.reserve(range.count)
    var writer = ByteWriter(output)
    Whitespace.appendCollapsing(values.base, from: range.lowerBound, to: range.upperBound, into: &writer)
    return writer.makeString()
  }

  private func malformed(_ reason: String) -> CorpusError {
    .malformedRecord(file: file, line: line, reason: reason)
  }
}
