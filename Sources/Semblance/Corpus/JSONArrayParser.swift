/// Parses a JSON array of objects as a stream: each object becomes a paper as soon as it is
/// complete, so the array is never held whole.
///
/// A problem inside an object is reported at the line where the object starts; a problem
/// between objects (a missing comma, text after the closing bracket) at its own line.
struct JSONArrayParser: RecordParser {
  private enum State {
    /// Before the opening `[`.
    case start
    /// After `[`: an object or `]` comes next.
    case firstElement
    /// After a comma: an object comes next.
    case nextElement
    /// After an object: `,` or `]` comes next.
    case afterElement
    /// After the closing `]`: only whitespace may follow.
    case end
  }

  let file: String
  private let records: JSONRecordParser
  private var state = State.start
  private(set) var line = 1

  init(file: String, fields: CorpusFields) {
    self.file = file
    records = JSONRecordParser(fields: fields)
  }

  mutating func consume(
    _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into papers: inout PaperCollector
  ) throws(CorpusError) -> Int {
    guard let bytes = buffer.baseAddress else {
      if isFinal { try finish() }
      return 0
    }
    let end = buffer.count
    records.scratch.reserve(end)
    var index = 0
    while true {
      skipWhitespace(bytes, &index, end)
      guard index < end else {
        if isFinal { try finish() }
        return index
      }
      let byte = bytes[index]
      switch state {
      case .start:
        guard byte == UInt8(ascii: "[") else {
          throw malformed("a JSON corpus must be an array of objects, but it starts with "
            + JSONScanner.describe(byte))
        }
        index += 1
        state = .firstElement
      case .firstElement where byte == UInt8(ascii: "]"):
        index += 1
        state = .end
      case .firstElement, .nextElement:
        guard byte == UInt8(ascii: "{") else {
          throw malformed("expected an object in the array, not \(JSONScanner.describe(byte))")
        }
        let start = index
        let record: JSONRecord
        do throws(JSONScanError) {
          record = try records.parseObject(bytes, &index, end)
        } catch {
          switch error {
          case .syntax(let reason, _):
            throw malformed(reason)
          case .truncated:
            if !isFinal { return start }
            throw malformed("the file ends inside this object")
          }
        }
        let recordLine = line
        line += lineFeeds(bytes, from: start, to: index)
        try papers.add(try records.makePaper(record, line: recordLine, file: file), line: recordLine)
        state = .afterElement
      case .afterElement:
        index += 1
        if byte == UInt8(ascii: ",") {
          state = .nextElement
        } else if byte == UInt8(ascii: "]") {
          state = .end
        } else {
          throw malformed("expected ',' or ']' after an object, not \(JSONScanner.describe(byte))")
        }
      case .end:
        throw malformed("unexpected \(JSONScanner.describe(byte)) after the end of the array")
      }
    }
  }

  /// Checks that the input did not stop before the array was closed.
  private func finish() throws(CorpusError) {
    switch state {
    case .start, .end:
      return  // An empty file holds no papers; the stream reports that.
    case .firstElement, .nextElement, .afterElement:
      throw malformed("the file ends before the array is closed with ']'")
    }
  }

  private mutating func skipWhitespace(_ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int) {
    while index < end {
      let byte = bytes[index]
      if byte == 0x0A {
        line += 1
      } else if !JSONScanner.isWhitespace(byte) {
        return
      }
      index += 1
    }
  }

  private func lineFeeds(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
    var count = 0
    for index in start..<end where bytes[index] == 0x0A {
      count += 1
    }
    return count
  }

  private func malformed(_ reason: String) -> CorpusError {
    .malformedRecord(file: file, line: line, reason: reason)
  }
}
