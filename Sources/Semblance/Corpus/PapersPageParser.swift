#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses the papers-page text format: paragraphs separated by blank (whitespace-only) lines,
/// where each paper is a one-line title paragraph followed by an abstract paragraph.
///
/// The page header is skipped: the first paper starts at the first one-line paragraph that is
/// immediately followed by a paragraph of at least ``minimumAbstractWords`` words. From there
/// paragraphs must alternate title, abstract, title, …; a title paragraph of several lines, or
/// a title at the end without an abstract, is an error naming the title's first line.
/// The lines of an abstract are joined with single spaces. Papers get the ids "1", "2", ….
struct PapersPageParser: RecordParser {
  /// How long the paragraph after the first title must be for the papers to have begun.
  static let minimumAbstractWords = 20

  private struct Paragraph {
    var text: String
    var firstLine: Int
    var lineCount: Int
    var wordCount: Int
  }

  let file: String
  private(set) var line = 1
  /// The paragraph being read, collapsed, with its first line and line count.
  private var text: [UInt8] = []
  private var firstLine = 0
  private var lineCount = 0
  /// Before the papers begin: the previous paragraph, if it was one line (a possible title).
  /// After: the title waiting for its abstract.
  private var title: Paragraph?
  private var started = false
  private var nextID = 1
  private let scratch = ScratchBuffer<UInt8>()

  init(file: String) {
    self.file = file
  }

  mutating func consume(
    _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into papers: inout PaperCollector
  ) throws(CorpusError) -> Int {
    var start = 0
    if let bytes = buffer.baseAddress {
      let end = buffer.count
      while start < end {
        let lineEnd: Int
        if let found = memchr(bytes + start, 0x0A, end - start) {
          lineEnd = UnsafeRawPointer(bytes).distance(to: UnsafeRawPointer(found))
        } else if isFinal {
          lineEnd = end
        } else {
          break
        }
        try readLine(bytes, from: start, to: lineEnd, into: &papers)
        start = lineEnd + 1
        line += 1
      }
      start = Swift.min(start, end)
    }
    if isFinal {
      try endParagraph(into: &papers)
      if started, let title {
        throw .malformedRecord(
          file: file, line: title.firstLine,
          reason: "the title \"\(Self.excerpt(title.text))\" has no abstract after it")
      }
    }
    return start
  }

  private mutating func readLine(
    _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, into papers: inout PaperCollector
  ) throws(CorpusError) {
    scratch.reserve(end - start)
    var writer = ByteWriter(scratch)
    guard Whitespace.appendCollapsing(bytes, from: start, to: end, into: &writer) else {
      try endParagraph(into: &papers)
      return
    }
    if lineCount == 0 {
      firstLine = line
    } else {
      text.append(0x20)
    }
    text.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
    lineCount += 1
  }

  private mutating func endParagraph(into papers: inout PaperCollector) throws(CorpusError) {
    guard lineCount > 0 else { return }
    var spaces = 0
    for byte in text where byte == 0x20 {
      spaces += 1
    }
    let paragraph = Paragraph(
      text: String(decoding: text, as: UTF8.self), firstLine: firstLine, lineCount: lineCount,
      wordCount: spaces + 1)
    text.removeAll(keepingCapacity: true)
    lineCount = 0

    if !started {
      if let candidate = title, paragraph.wordCount >= Self.minimumAbstractWords {
        started = true
        title = nil
        try emit(title: candidate, abstract: paragraph, into: &papers)
      } else {
        title = paragraph.lineCount == 1 ? paragraph : nil
      }
    } else if let pendingTitle = title {
      title = nil
      try emit(title: pendingTitle, abstract: paragraph, into: &papers)
    } else {
      guard paragraph.lineCount == 1 else {
        throw .malformedRecord(
          file: file, line: paragraph.firstLine,
          reason: "a title must be a single line, but this paragraph has \(paragraph.lineCount) "
            + "lines (is a blank line missing between a title and its abstract?)")
      }
      title = paragraph
    }
  }

  private mutating func emit(
    title: Paragraph, abstract: Paragraph, into papers: inout PaperCollector
  ) throws(CorpusError) {
    let paper = Paper(id: String(nextID), title: title.text, abstract: abstract.text)
    nextID += 1
    try papers.add(paper, line: title.firstLine)
  }

  /// The start of a long text, for messages.
  private static func excerpt(_ text: String) -> String {
    text.count <= 60 ? text : text.prefix(57) + "..."
  }
}
