// Shared by every fuzz target (see Scripts/fuzz.sh). Not a target itself.
import Foundation

@testable import Semblance

// MARK: - Corpus readers

/// What parsing some bytes gave: the papers, or the typed error.
enum ParseOutcome: Equatable {
  case papers([Paper])
  case failure(CorpusError)
}

/// Parses `bytes`, trapping on anything but papers or a `CorpusError`.
func parseOutcome(_ bytes: [UInt8], format: CorpusFormat, chunkSize: Int? = nil) -> ParseOutcome {
  do {
    if let chunkSize {
      return .papers(try Corpus.parse(bytes: bytes, format: format, chunkSize: chunkSize))
    }
    return .papers(try Corpus.parse(bytes: bytes, format: format))
  } catch let error as CorpusError {
    return .failure(error)
  } catch {
    fatalError("Corpus.parse threw an untyped error: \(error)")
  }
}

/// Parses the input as `format` in one chunk and again in tiny chunks (1 to 16 bytes, chosen
/// by the first byte). The streaming reader must give the same papers, or the same error,
/// however its input is split.
func fuzzCorpus(_ data: UnsafePointer<UInt8>?, _ size: Int, format: CorpusFormat) {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  let whole = parseOutcome(bytes, format: format)
  let chunkSize = 1 + Int(bytes.first ?? 0) % 16
  let chunked = parseOutcome(bytes, format: format, chunkSize: chunkSize)
  guard whole == chunked else {
    fatalError("chunk size \(chunkSize) changes the outcome:\n  whole: \(whole)\n  chunked: \(chunked)")
  }
  if case .papers(let papers) = whole {
    precondition(!papers.isEmpty, "a corpus without papers must be an error")
    precondition(Set(papers.map(\.id)).count == papers.count, "duplicate ids slipped through")
  }
}

// MARK: - Index files

/// One scratch file per fuzzing process.
let scratchIndex = URL(fileURLWithPath: NSTemporaryDirectory())
  .appendingPathComponent("semblance-fuzz-\(getpid()).idx")

/// Writes the input to a file and loads it with and without verification; then again after
/// re-sealing every checksum, so that mutations get past the CRCs to the structural checks.
func fuzzIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  load(bytes, verify: true)
  load(bytes, verify: false)
  if let resealed = resealed(bytes), resealed != bytes {
    load(resealed, verify: true)
  }
}

private func load(_ bytes: [UInt8], verify: Bool) {
  do {
    try Data(bytes).write(to: scratchIndex)
  } catch {
    fatalError("cannot write the scratch file: \(error)")
  }
  loadScratch(verify: verify)
}

/// Loads the scratch file and queries the index if it loads.
func loadScratch(verify: Bool) {
  let index: PaperIndex
  do {
    index = try PaperIndex(contentsOf: scratchIndex, verify: verify)
  } catch is IndexFileError {
    return
  } catch {
    fatalError("PaperIndex(contentsOf:) threw an untyped error: \(error)")
  }
  exercise(index)
}

/// Runs a few queries on an index that loaded: none may crash, whatever the file held.
private func exercise(_ index: PaperIndex) {
  let count = index.count
  _ = index.emptyDocumentCount
  _ = index.allIDs
  for position in [0, count - 1] {
    _ = index.title(at: position)
    _ = try? index.related(toPosition: position, count: min(3, count))
  }
  _ = try? index.related(to: index.id(at: 0), count: 1)
  _ = try? index.search(index.title(at: 0) + " learning model", count: min(5, count))
  if count <= 64 {
    _ = try? index.neighbors(count: 1)
  }
}

/// The bytes with the header, table and section checksums recomputed (and the recorded
/// length set to the real one), or nil when the table does not fit in the bytes.
func resealed(_ bytes: [UInt8]) -> [UInt8]? {
  let headerSize = IndexFileLayout.headerSize
  guard bytes.count >= headerSize else { return nil }
  var result = bytes
  let header = result.withUnsafeBytes { IndexFileHeader(decoding: $0) }
  let sectionCount = Int(header.sectionCount)
  guard sectionCount <= (bytes.count - headerSize) / IndexFileLayout.entrySize else { return nil }
  let tableEnd = IndexFileLayout.tableEnd(sectionCount: sectionCount)
  for index in 0..<sectionCount {
    let start = headerSize + index * IndexFileLayout.entrySize
    var entry = result.withUnsafeBytes { IndexFileSectionEntry(decoding: $0, at: start) }
    guard entry.offset <= UInt64(bytes.count), entry.length <= UInt64(bytes.count) - entry.offset
    else { continue }
    let lower = Int(entry.offset)
    entry.crc = CRC32.checksum(Array(result[lower..<lower + Int(entry.length)]))
    var encoded: [UInt8] = []
    entry.encode(into: &encoded)
    result.replaceSubrange(start..<start + IndexFileLayout.entrySize, with: encoded)
  }
  let sealed = IndexFileHeader(
    formatVersion: header.formatVersion, sectionCount: header.sectionCount,
    fileLength: UInt64(bytes.count), tableCRC: CRC32.checksum(Array(result[headerSize..<tableEnd])))
  result.replaceSubrange(0..<headerSize, with: sealed.encoded())
  return result
}

// MARK: - Index sections

/// The sections of a small valid index, built once: six short papers, default options.
let baseSections: [(tag: IndexFileTag, bytes: [UInt8])] = {
  let texts = [
    ("Sparse attention for long documents", "Transformers read long documents with sparse attention."),
    ("Dense retrieval", "Dual encoders retrieve passages for open domain question answering."),
    ("Diffusion forecasting", "Diffusion models forecast multivariate time series with attention."),
    ("State space forecasting", "Linear state space layers forecast electricity demand."),
    ("Molecule graphs", "Message passing networks predict molecule properties from graphs."),
    ("Contrastive molecules", "Contrastive pretraining aligns molecule graphs and strings."),
  ]
  let papers = texts.enumerated().map { Paper(id: "p\($0)", title: $1.0, abstract: $1.1) }
  var configuration = IndexConfiguration.default
  configuration.dimensions = 3
  do {
    let index = try PaperIndex(papers, configuration: configuration)
    try index.write(to: scratchIndex)
    let reader = try IndexFileReader(contentsOf: scratchIndex)
    return try reader.tags.map { ($0, Array(try reader.bytes($0))) }
  } catch {
    fatalError("cannot build the base index: \(error)")
  }
}()

/// Edits one section of a valid index, writes a well-formed container around the result
/// (correct offsets, lengths and checksums), and loads it. This reaches the loader's own
/// checks, which mutations of a whole file rarely get past: a section can grow or shrink.
///
/// Input: byte 0 picks the section; byte 1 the edit: even = splice (bytes 2–3: position,
/// little-endian; byte 4: how many bytes to delete; the rest: bytes to insert), odd = replace
/// the whole section by the rest.
func fuzzIndexSections(_ data: UnsafePointer<UInt8>?, _ size: Int) {
  let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  guard input.count >= 2 else { return }
  var sections = baseSections
  let target = Int(input[0]) % sections.count
  var bytes = sections[target].bytes
  if input[1] & 1 == 1 {
    bytes = Array(input.dropFirst(2))
  } else if input.count >= 5 {
    let position = (Int(input[2]) | Int(input[3]) << 8) % (bytes.count + 1)
    let deleted = min(Int(input[4]), bytes.count - position)
    bytes.replaceSubrange(position..<position + deleted, with: input.dropFirst(5))
  }
  sections[target].bytes = bytes
  var writer = IndexFileWriter()
  for (tag, bytes) in sections { writer.append(tag, bytes: bytes) }
  do {
    try writer.write(to: scratchIndex)
  } catch {
    fatalError("cannot write the scratch file: \(error)")
  }
  loadScratch(verify: true)
}
