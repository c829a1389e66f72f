/// Receives the papers that a parser produces, enforces unique ids, and holds them until the
/// stream hands them to the caller in batches.
struct PaperCollector {
  let file: String
  let duplicateIDs: DuplicateIDPolicy
  /// Papers parsed but not yet handed out.
  var pending: [Paper] = []
  /// How many papers were accepted in total.
  private(set) var acceptedCount = 0
  /// The line of the first paper with each id.
  private var firstLines: [String: Int] = [:]

  init(file: String, duplicateIDs: DuplicateIDPolicy) {
    self.file = file
    self.duplicateIDs = duplicateIDs
  }

  /// Accepts a paper that starts at `line`, or skips or rejects it if its id was seen before.
  mutating func add(_ paper: Paper, line: Int) throws(CorpusError) {
    if let firstLine = firstLines[paper.id] {
      switch duplicateIDs {
      case .error:
        throw .duplicateID(file: file, line: line, id: paper.id, firstLine: firstLine)
      case .keepFirst:
        return
      }
    }
    firstLines[paper.id] = line
    pending.append(paper)
    acceptedCount += 1
  }
}
