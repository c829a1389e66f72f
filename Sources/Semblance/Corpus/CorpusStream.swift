/// The one loop behind ``Corpus/read(contentsOf:format:fields:duplicateIDs:)``,
/// ``Corpus/parse(_:format:fields:duplicateIDs:source:)`` and
/// ``Corpus/forEachBatch(contentsOf:format:fields:duplicateIDs:batchSize:_:)``:
/// chunks from a ``ChunkedByteReader`` go through a ``RecordParser`` into a
/// ``PaperCollector``, and full batches go to the caller.
enum CorpusStream {
  static func run<Source: ByteSource>(
    _ source: Source,
    format: CorpusFormat,
    fields: CorpusFields,
    duplicateIDs: DuplicateIDPolicy,
    file: String,
    batchSize: Int,
    chunkSize: Int,
    _ body: ([Paper]) throws -> Void
  ) throws {
    let reader = ChunkedByteReader(source: source, chunkSize: chunkSize)
    var papers = PaperCollector(file: file, duplicateIDs: duplicateIDs)
    switch format {
    case .text:
      var parser = PapersPageParser(file: file)
      try run(&parser, reader: reader, papers: &papers, batchSize: batchSize, body)
    case .jsonLines:
      var parser = JSONLinesParser(file: file, fields: fields)
      try run(&parser, reader: reader, papers: &papers, batchSize: batchSize, body)
    case .json:
      var parser = JSONArrayParser(file: file, fields: fields)
      try run(&parser, reader: reader, papers: &papers, batchSize: batchSize, body)
    case .csv:
      var parser = DelimitedTextParser(file: file, fields: fields, delimiter: UInt8(ascii: ","))
      try run(&parser, reader: reader, papers: &papers, batchSize: batchSize, body)
    case .tsv:
      var parser = DelimitedTextParser(file: file, fields: fields, delimiter: UInt8(ascii: "\t"))
      try run(&parser, reader: reader, papers: &papers, batchSize: batchSize, body)
    }
  }

  private static func run<Parser: RecordParser, Source: ByteSource>(
    _ parser: inout Parser,
    reader: ChunkedByteReader<Source>,
    papers: inout PaperCollector,
    batchSize: Int,
    _ body: ([Paper]) throws -> Void
  ) throws {
    while true {
      let window = try reader.nextWindow()
      let consumed = try parser.consume(window.bytes, isFinal: window.isFinal, into: &papers)
      try deliverFullBatches(&papers, batchSize: batchSize, body)
      if let invalidOffset = window.invalidOffset {
        let line = parser.line + reader.lineFeeds(from: consumed, to: invalidOffset)
        throw CorpusError.invalidUTF8(file: papers.file, line: line)
      }
      if window.isFinal { break }
      reader.discard(consumed)
    }
    if !papers.pending.isEmpty {
      let last = papers.pending
      papers.pending = []
      try body(last)
    }
    if papers.acceptedCount == 0 {
      throw CorpusError.empty(file: papers.file)
    }
  }

  /// Hands every full batch of pending papers to `body`, keeping the remainder pending.
  private static func deliverFullBatches(
    _ papers: inout PaperCollector, batchSize: Int, _ body: ([Paper]) throws -> Void
  ) throws {
    let count = papers.pending.count
    guard count >= batchSize else { return }
    if count == batchSize {
      let batch = papers.pending
      papers.pending = []
      try body(batch)
      return
    }
    var start = 0
    while count - start >= batchSize {
      try body(Array(papers.pending[start..<start + batchSize]))
      start += batchSize
    }
    papers.pending.removeFirst(start)
  }
}
