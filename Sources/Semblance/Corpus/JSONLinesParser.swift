#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses JSON Lines: one JSON object per line. Blank lines are skipped; anything after the
/// object on its line, other than whitespace, is an error.
struct JSONLinesParser: RecordParser {
  let file: String
  private let records: JSONRecordParser
  private(set) var line = 1

  init(file: String, fields: CorpusFields) {
    self.file = file
    records = JSONRecordParser(fields: fields)
  }

  mutating func consume(
    _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into papers: inout PaperCollector
  ) throws(CorpusError) -> Int {
    guard let bytes = buffer.baseAddress else { return 0 }
    let end = buffer.count
    var start = 0
    while start < end {
      let lineEnd: Int
      if let found = memchr(bytes + start, 0x0A, end - start) {
        lineEnd = UnsafeRawPointer(bytes).distance(to: UnsafeRawPointer(found))
      } else if isFinal {
        lineEnd = end
      } else {
        break
      }
      try parseLine(bytes, from: start, to: lineEnd, into: &papers)
      start = lineEnd + 1
      line += 1
    }
    return Swift.min(start, end)
  }

  private func parseLine(
    _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, into papers: inout PaperCollector
  ) throws(CorpusError) {
    var index = start
    JSONScanner.skipWhitespace(bytes, &index, end)
    guard index < end else { return }
    guard bytes[index] == UInt8(ascii: "{") else {
      throw malformed("expected a JSON object, not \(JSONScanner.describe(bytes[index]))",
        at: index, lineStart: start)
    }
    records.scratch.reserve(end - index)
    let record: JSONRecord
    do throws(JSONScanError) {
      record = try records.parseObject(bytes, &index, end)
    } catch {
      switch error {
      case .syntax(let reason, let offset):
        throw malformed(reason, at: offset, lineStart: start)
      case .truncated:
        throw malformed("the line ends inside the object", at: end, lineStart: start)
      }
    }
    JSONScanner.skipWhitespace(bytes, &index, end)
    guard index == end else {
      throw malformed("unexpected \(JSONScanner.describe(bytes[index])) after the object",
        at: index, lineStart: start)
    }
    try papers.add(try records.makePaper(record, line: line, file: file), line: line)
  }

  private func malformed(_ reason: String, at offset: Int, lineStart: Int) -> CorpusError {
    .malformedRecord(file: file, line: line, reason: "\(reason) (column \(offset - lineStart + 1))")
  }
}
