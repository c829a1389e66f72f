extension CorpusError: CustomStringConvertible {
  /// One sentence that says what is wrong and where.
  public var description: String {
    switch self {
    case .unreadable(let file, let reason):
      return "Cannot read corpus file '\(file)': \(reason)."
    case .unknownFormat(let file):
      let known = CorpusFormat.allCases.map(\.rawValue).joined(separator: ", ")
      return "Cannot tell the format of corpus file '\(file)' from its extension; "
        + "pass a format (one of \(known), or ndjson)."
    case .malformedRecord(let file, let line, let reason):
      return "Malformed record in '\(file)' at line \(line): \(reason)."
    case .missingField(let file, let line, let field):
      return "The record in '\(file)' at line \(line) has no usable '\(field)' field "
        + "(it must be present and be a non-null string or number)."
    case .invalidUTF8(let file, let line):
      return "Corpus file '\(file)' has bytes that are not valid UTF-8 at line \(line)."
    case .duplicateID(let file, let line, let id, let firstLine):
      return "The id '\(id)' in '\(file)' at line \(line) was already used at line \(firstLine); "
        + "make ids unique or keep only the first paper with each id."
    case .empty(let file):
      return "Corpus file '\(file)' contains no papers."
    }
  }
}
