import Foundation

/// Reads corpora of papers from files or text: papers-page text, JSON Lines, JSON arrays,
/// CSV and TSV.
///
/// ```swift
/// let papers = try Corpus.read(contentsOf: URL(fileURLWithPath: "arxiv-metadata-oai-snapshot.json"),
///                              format: .jsonLines)
/// ```
///
/// Every entry point runs the same streaming reader. The input is read in 1 MiB chunks and
/// parsed as UTF-8 bytes, so a multi-gigabyte arXiv dump is never held in memory as one
/// string; ``forEachBatch(contentsOf:format:fields:duplicateIDs:batchSize:_:)`` never holds
/// more than one chunk's worth of papers either.
///
/// Rules that hold for every format:
/// - A UTF-8 byte-order mark at the start is skipped; any other invalid UTF-8 is an error
///   naming its line.
/// - Whitespace inside ids, titles, abstracts and text metadata (any Unicode white space,
///   including line breaks, tabs and no-break spaces) is collapsed to single spaces and trimmed.
/// - An id that is empty after trimming counts as missing.
/// - A corpus without papers is an error, and so are duplicate ids unless
///   ``DuplicateIDPolicy/keepFirst`` is chosen.
///
/// Format details:
/// - ``CorpusFormat/text``: blank (whitespace-only) lines separate paragraphs. The page header
///   is skipped: the first paper starts at the first one-line paragraph that is followed by a
///   paragraph of at least 20 words. From there, paragraphs alternate between a one-line title
///   and an abstract (whose lines are joined with spaces). Ids are "1", "2", … in order.
/// - ``CorpusFormat/jsonLines``: one JSON object per line; blank lines are skipped. Every field
///   other than id, title and abstract goes to ``Paper/metadata``: a string as its text, a
///   number, boolean, array or object as its compact JSON text; `null` fields are left out.
///   If a key appears twice in an object, the last value wins. Nesting deeper than 256
///   levels is rejected.
/// - ``CorpusFormat/json``: a top-level array of such objects, parsed as a stream.
/// - ``CorpusFormat/csv`` and ``CorpusFormat/tsv``: a header row names the columns; fields
///   may be quoted RFC 4180 style (with delimiters, doubled quotes and line breaks inside);
///   lines end in LF or CRLF. Empty lines are skipped; empty cells are left out of metadata.
public enum Corpus {
  /// Reads a whole corpus. The format comes from the file extension unless given.
  ///
  /// ```swift
  /// let papers = try Corpus.read(contentsOf: URL(fileURLWithPath: "papers.csv"))
  /// ```
  /// - Parameters:
  ///   - url: A file URL.
  ///   - format: The format, or `nil` to infer it from the extension (`txt`, `jsonl`,
  ///     `ndjson`, `json`, `csv`, `tsv`).
  ///   - fields: The names of the id, title and abstract fields.
  ///   - duplicateIDs: What to do when an id repeats.
  /// - Returns: The papers in file order.
  /// - Throws: ``CorpusError``.
  /// - Complexity: O(*n*) in the size of the file; memory for the papers plus one chunk.
  public static func read(
    contentsOf url: URL,
    format: CorpusFormat? = nil,
    fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error
  ) throws -> [Paper] {
    var papers: [Paper] = []
    try forEachBatch(
      contentsOf: url, format: format, fields: fields, duplicateIDs: duplicateIDs,
      batchSize: 1 << 16
    ) { batch in
      papers.append(contentsOf: batch)
    }
    return papers
  }

  /// Parses a corpus that is already in memory.
  ///
  /// ```swift
  /// let papers = try Corpus.parse(#"{"id": "1", "title": "T", "abstract": "A"}"#, format: .jsonLines)
  /// ```
  /// - Parameters:
  ///   - text: The whole corpus.
  ///   - format: Its format.
  ///   - fields: The names of the id, title and abstract fields.
  ///   - duplicateIDs: What to do when an id repeats.
  ///   - source: The name that errors use for the text, such as the file it came from.
  /// - Returns: The papers in order.
  /// - Throws: ``CorpusError``.
  public static func parse(
    _ text: String,
    format: CorpusFormat,
    fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error,
    source: String = "<memory>"
  ) throws -> [Paper] {
    try parse(
      text, format: format, fields: fields, duplicateIDs: duplicateIDs, source: source,
      chunkSize: ChunkedByteReader<StringByteSource>.defaultChunkSize)
  }

  /// Streams a corpus in batches of at most `batchSize` papers, never holding the whole file.
  ///
  /// Batches arrive in file order, and every batch but the last is full. Papers delivered
  /// before an error stay delivered; the error is thrown when it is reached.
  ///
  /// ```swift
  /// var count = 0
  /// try Corpus.forEachBatch(contentsOf: dump, format: .jsonLines) { batch in
  ///   count += batch.count
  /// }
  /// ```
  /// - Parameters:
  ///   - url: A file URL.
  ///   - format: The format, or `nil` to infer it from the extension.
  ///   - fields: The names of the id, title and abstract fields.
  ///   - duplicateIDs: What to do when an id repeats. Checking ids keeps every id seen in memory.
  ///   - batchSize: The most papers per batch. A value below 1 is a programmer error.
  ///   - body: Called with each batch; an error it throws stops reading and is rethrown.
  /// - Throws: ``CorpusError``, or whatever `body` throws.
  public static func forEachBatch(
    contentsOf url: URL,
    format: CorpusFormat? = nil,
    fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error,
    batchSize: Int = 4096,
    _ body: ([Paper]) throws -> Void
  ) throws {
    try forEachBatch(
      contentsOf: url, format: format, fields: fields, duplicateIDs: duplicateIDs,
      batchSize: batchSize, chunkSize: ChunkedByteReader<FileByteSource>.defaultChunkSize, body)
  }

  // MARK: - With an explicit chunk size (internal, so tests can force tiny chunks)

  static func parse(
    _ text: String,
    format: CorpusFormat,
    fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error,
    source: String = "<memory>",
    chunkSize: Int
  ) throws -> [Paper] {
    var papers: [Paper] = []
    try CorpusStream.run(
      StringByteSource(text), format: format, fields: fields, duplicateIDs: duplicateIDs,
      file: source, batchSize: 1 << 16, chunkSize: chunkSize
    ) { batch in
      papers.append(contentsOf: batch)
    }
    return papers
  }

  /// Parses raw bytes, which need not be valid UTF-8, exactly as a file holding them is read.
  static func parse(
    bytes: [UInt8],
    format: CorpusFormat,
    fields: CorpusFields = .default,
    duplicateIDs: DuplicateIDPolicy = .error,
    source: String = "<memory>",
    chunkSize: Int = ChunkedByteReader<ByteArraySource>.defaultChunkSize
  ) throws -> [Paper] {
    var papers: [Paper] = []
    try CorpusStream.run(
      ByteArraySource(bytes), format: format, fields: fields, duplicateIDs: duplicateIDs,
      file: source, batchSize: 1 << 16, chunkSize: chunkSize
    ) { batch in
      papers.append(contentsOf: batch)
    }
    return papers
  }

  static func forEachBatch(
    contentsOf url: URL,
    format: CorpusFormat?,
    fields: CorpusFields,
    duplicateIDs: DuplicateIDPolicy,
    batchSize: Int,
    chunkSize: Int,
    _ body: ([Paper]) throws -> Void
  ) throws {
    precondition(batchSize >= 1, "Corpus.forEachBatch: batchSize must be at least 1")
    let name = url.path
    guard url.isFileURL else {
      throw CorpusError.unreadable(file: url.absoluteString, reason: "not a file URL")
    }
    guard let format = format ?? CorpusFormat(fileExtension: url.pathExtension) else {
      throw CorpusError.unknownFormat(file: name)
    }
    let source = try FileByteSource(path: name, name: name)
    try CorpusStream.run(
      source, format: format, fields: fields, duplicateIDs: duplicateIDs, file: name,
      batchSize: batchSize, chunkSize: chunkSize, body)
  }
}
