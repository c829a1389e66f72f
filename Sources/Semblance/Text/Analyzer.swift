import CSemblanceKernels

/// Turns a paper into the terms that TF-IDF counts: lowercased word tokens, minus stop words,
/// joined into n-grams, with the title weighted.
///
/// ```swift
/// let analyzer = Analyzer()                       // English stop words, unigrams + bigrams
/// analyzer.tokens(in: "Diffusion Models for Time-Series")
/// // ["diffusion", "models", "for", "time", "series"]
/// analyzer.termCounts(of: Paper(id: "1", title: "Time series", abstract: "Forecasting time series."))
/// // ["time": 3, "series": 3, "time series": 3, "forecasting": 1, "forecasting time": 1]
/// ```
///
/// Tokens follow scikit-learn's default `token_pattern`, `(?u)\b\w\w+\b`, applied to the
/// lowercased text: maximal runs of letters, digits and underscores of two or more
/// characters. Stop words are removed before n-grams are formed, so a bigram may join two
/// words that a stop word separated, as scikit-learn does.
public struct Analyzer: Sendable {
  /// How text becomes terms.
  public struct Configuration: Sendable, Hashable, Codable {
    /// How many times each title term counts (default 2). Must be at least 1.
    public var titleWeight: Int
    /// Words dropped before n-grams are formed, compared after lowercasing (default: English).
    public var stopWords: Set<String>
    /// The n-gram lengths to emit (default `1...2`). Bounds must be within `1...2`.
    public var ngramRange: ClosedRange<Int>
    /// When true, the text is `title + "\n" + abstract` taken as one piece, as a plain
    /// scikit-learn pipeline sees it: n-grams may then span the title's end, and
    /// `titleWeight` is ignored. When false (the default) n-grams never cross the boundary.
    public var joinsTitleAndAbstract: Bool
    /// The stemmer applied to each kept token, after stop words are removed and before
    /// n-grams are formed (default `nil`: no stemming).
    public var stemmer: Stemmer?

    /// Creates a configuration; every parameter has the default used for paper abstracts.
    public init(
      titleWeight: Int = 2,
      stopWords: Set<String> = Analyzer.englishStopWords,
      ngramRange: ClosedRange<Int> = 1...2,
      joinsTitleAndAbstract: Bool = false,
      stemmer: Stemmer? = nil
    ) {
      self.titleWeight = titleWeight
      self.stopWords = stopWords
      self.ngramRange = ngramRange
      self.joinsTitleAndAbstract = joinsTitleAndAbstract
      self.stemmer = stemmer
    }

    /// Checks the values, naming the first one that is out of range.
    public func validate() throws {
      guard titleWeight >= 1 else {
        throw ConfigurationError.invalidValue(
          option: "titleWeight", value: "\(titleWeight)", expected: "an integer of at least 1")
      }
      guard ngramRange.lowerBound >= 1, ngramRange.upperBound <= 2 else {
        throw ConfigurationError.invalidValue(
          option: "ngramRange", value: "\(ngramRange)", expected: "a range within 1...2")
      }
    }
  }

  /// The configuration.
  public let configuration: Configuration
  let stopWordTable: TermTable
  /// One bit per value of a hash's top 12 bits, set for the stop words' hashes: most tokens
  /// that are not stop words are told so by one bit test, without probing the table.
  let stopWordFilter: [UInt64]
  /// The stop words again, for the ASCII path's test without a branch on its answer; `nil`
  /// when one is longer than ``ShortWordSet/maximumLength`` bytes.
  let shortStopWords: ShortWordSet?

  /// Creates an analyzer.
  /// - Throws: `ConfigurationError` when the configuration is out of range.
  public init(_ configuration: Configuration = Configuration()) throws {
    try configuration.validate()
    self.configuration = configuration
    var table = TermTable(minimumCapacity: configuration.stopWords.count)
    var filter = [UInt64](repeating: 0, count: 64)
    var spellings: [(bytes: [UInt8], hash: UInt64)] = []
    for word in configuration.stopWords.sorted() {
      var spelling = word.lowercased()
      table.insert(spelling)
      let hash = spelling.withUTF8 { TermTable.hash($0) }
      filter[Int(hash >> 58)] |= 1 << ((hash >> 52) & 63)
      spellings.append((Array(spelling.utf8), hash))
    }
    self.stopWordTable = table
    self.stopWordFilter = filter
    self.shortStopWords = ShortWordSet(spellings)
  }

  /// The lowercased word tokens of `text`, in order, stop words included.
  public func tokens(in text: String) -> [String] {
    var workspace = Workspace()
    var tokens: [String] = []
    var text = text
    text.withUTF8 { bytes in
      workspace.scanner.scan(bytes, into: &workspace.segment) { output, range in
        tokens.append(String(decoding: UnsafeBufferPointer(rebasing: output[range]), as: UTF8.self))
        return false
      }
    }
    return tokens
  }

  /// The terms of `paper` with their weighted counts.
  public func termCounts(of paper: Paper) -> [String: Int] {
    var workspace = Workspace()
    var counts: [String: Int] = [:]
    analyze(title: paper.title, abstract: paper.abstract, in: &workspace) { term, weight in
      counts[String(decoding: term, as: UTF8.self), default: 0] += Int(weight)
    }
    return counts
  }

  /// The terms of free text (a query), with their counts. No title weighting applies.
  public func termCounts(ofText text: String) -> [String: Int] {
    termCounts(of: Paper(id: "", title: "", abstract: text))
  }

  /// Reusable per-thread buffers.
  struct Workspace {
    var scanner = TokenScanner()
    var segment: [UInt8] = []
    var tokenStarts: [Int] = []
    var tokenEnds: [Int] = []
    var stemmerScratch: [Bool] = []
    /// The ASCII fast path's lowercased text and its tokens (``forEachTokenizedSegment``).
    var lowered: [UInt8] = []
    var tokens: [semblance_token] = []
  }

  /// Calls `body` once per segment of a paper, as ``forEachSegment(title:abstract:in:_:)``
  /// does, with the segment's kept tokens as byte ranges of `bytes` and their
  /// ``TermTable/hash(_:)`` values: what counting needs, with no separator bytes and no
  /// hashing left to do.
  ///
  /// Without a stemmer, and with title and abstract kept apart, an ASCII segment takes a C
  /// kernel (`semblance_scan_ascii`) that tokenizes, lowercases and hashes in one pass (64
  /// bytes per step with AVX-512BW); stop words are then dropped by their hashes. Other
  /// segments, and other configurations, go through ``TokenScanner`` and give the same
  /// tokens.
  func forEachTokenizedSegment(
    title: String, abstract: String, in workspace: inout Workspace,
    _ body: (
      _ bytes: UnsafePointer<UInt8>, _ tokens: UnsafeBufferPointer<semblance_token>,
      _ weight: Int32
    ) -> Void
  ) {
    guard configuration.stemmer == nil && !configuration.joinsTitleAndAbstract else {
      forEachSegment(title: title, abstract: abstract, in: &workspace) { workspace, weight in
        Analyzer.passHashedTokens(of: &workspace, weight: weight, to: body)
      }
      return
    }
    let titleWeight = Int32(clamping: configuration.titleWeight)
    tokenizeSegment(title, in: &workspace, body: body, weight: titleWeight)
    tokenizeSegment(abstract, in: &workspace, body: body, weight: 1)
  }

  private func tokenizeSegment(
    _ text: String, in workspace: inout Workspace,
    body: (UnsafePointer<UInt8>, UnsafeBufferPointer<semblance_token>, Int32) -> Void,
    weight: Int32
  ) {
    var text = text
    let handled: Bool = text.withUTF8 { bytes in
      guard let base = bytes.baseAddress, semblance_is_ascii(base, bytes.count) != 0 else {
        return false
      }
      // The kernel reads 8 bytes past a token's start, the stop-word test 16.
      let loweredNeeded = bytes.count + 16, tokensNeeded = bytes.count / 3 + 1
      if workspace.lowered.count < loweredNeeded {
        workspace.lowered.append(
          contentsOf: repeatElement(0, count: loweredNeeded - workspace.lowered.count))
      }
      if workspace.tokens.count < tokensNeeded {
        let missing = tokensNeeded - workspace.tokens.count
        workspace.tokens.append(contentsOf: repeatElement(semblance_token(), count: missing))
      }
      let stopWords = stopWordTable
      workspace.lowered.withUnsafeMutableBufferPointer { lowered in
        workspace.tokens.withUnsafeMutableBufferPointer { tokens in
          let text = lowered.baseAddress!
          let found = semblance_scan_ascii(base, bytes.count, text, tokens.baseAddress!)
          var kept = 0
          if let shortStopWords {
            // Every token is written, and a stop word is not counted, without a branch.
            for index in 0..<found {
              let token = tokens[index]
              tokens[kept] = token
              let stop = shortStopWords.contains(
                text + Int(token.start), length: Int(token.end &- token.start), hash: token.hash)
              kept &+= stop ? 0 : 1
            }
          } else {
            stopWordFilter.withUnsafeBufferPointer { filter in
              for index in 0..<found {
                let token = tokens[index]
                let hash = token.hash
                if (filter[Int(hash >> 58)] >> ((hash >> 52) & 63)) & 1 != 0 {
                  let key = UnsafeBufferPointer(
                    start: text + Int(token.start), count: Int(token.end &- token.start))
                  if stopWords.find(key, hash: hash) >= 0 { continue }
                }
                tokens[kept] = token
                kept += 1
              }
            }
          }
          body(UnsafePointer(text), UnsafeBufferPointer(rebasing: tokens[..<kept]), weight)
        }
      }
      return true
    }
    if handled { return }
    workspace.segment.removeAll(keepingCapacity: true)
    workspace.tokenStarts.removeAll(keepingCapacity: true)
    workspace.tokenEnds.removeAll(keepingCapacity: true)
    scanSegment(text, into: &workspace)
    Analyzer.passHashedTokens(of: &workspace, weight: weight, to: body)
  }

  /// Hashes the tokens the Swift scanner left in `workspace` (their ranges of
  /// `workspace.segment`) into `workspace.tokens`, and calls `body` with them.
  private static func passHashedTokens(
    of workspace: inout Workspace, weight: Int32,
    to body: (UnsafePointer<UInt8>, UnsafeBufferPointer<semblance_token>, Int32) -> Void
  ) {
    workspace.tokens.removeAll(keepingCapacity: true)
    workspace.segment.withUnsafeBufferPointer { segment in
      for (start, end) in zip(workspace.tokenStarts, workspace.tokenEnds) {
        let hash = TermTable.hash(UnsafeBufferPointer(rebasing: segment[start..<end]))
        workspace.tokens.append(semblance_token(hash: hash, start: UInt32(start), end: UInt32(end)))
      }
      workspace.tokens.withUnsafeBufferPointer { tokens in
        body(segment.baseAddress ?? UnsafePointer(bitPattern: 1)!, tokens, weight)
      }
    }
  }

  /// Calls `body` once per segment of a paper (the title, then the abstract; or one joined
  /// segment) with the segment's kept (and, when configured, stemmed) tokens and the weight
  /// of its terms.
  ///
  /// Token `i` is `workspace.segment[workspace.tokenStarts[i] ..< workspace.tokenEnds[i]]`;
  /// consecutive tokens are separated by exactly one space, so a bigram is the contiguous
  /// range from one token's start to the next one's end.
  func forEachSegment(
    title: String, abstract: String, in workspace: inout Workspace,
    _ body: (inout Workspace, Int32) -> Void
  ) {
    workspace.segment.removeAll(keepingCapacity: true)
    workspace.tokenStarts.removeAll(keepingCapacity: true)
    workspace.tokenEnds.removeAll(keepingCapacity: true)
    let stems = configuration.stemmer != nil
    if configuration.joinsTitleAndAbstract {
      scanSegment(title, into: &workspace)
      scanSegment(abstract, into: &workspace)
      if stems { stemTokens(in: &workspace) }
      body(&workspace, 1)
    } else {
      scanSegment(title, into: &workspace)
      if stems { stemTokens(in: &workspace) }
      body(&workspace, Int32(clamping: configuration.titleWeight))
      workspace.segment.removeAll(keepingCapacity: true)
      workspace.tokenStarts.removeAll(keepingCapacity: true)
      workspace.tokenEnds.removeAll(keepingCapacity: true)
      scanSegment(abstract, into: &workspace)
      if stems { stemTokens(in: &workspace) }
      body(&workspace, 1)
    }
  }

  /// Calls `emit` with every term occurrence of a paper and its weight.
  ///
  /// The term bytes are only valid during the call.
  func analyze(
    title: String, abstract: String, in workspace: inout Workspace,
    emit: (UnsafeBufferPointer<UInt8>, Int32) -> Void
  ) {
    forEachSegment(title: title, abstract: abstract, in: &workspace) { workspace, weight in
      emitNGrams(from: &workspace, weight: weight, emit: emit)
    }
  }

  private func scanSegment(_ text: String, into workspace: inout Workspace) {
    var text = text
    let stopWords = stopWordTable
    let filtersStopWords = stopWords.count > 0
    text.withUTF8 { bytes in
      var starts = workspace.tokenStarts, ends = workspace.tokenEnds
      workspace.tokenStarts = []
      workspace.tokenEnds = []
      workspace.scanner.scan(bytes, into: &workspace.segment) { output, range in
        if filtersStopWords
          && stopWords.find(UnsafeBufferPointer(rebasing: output[range])) >= 0
        {
          return false
        }
        starts.append(range.lowerBound)
        ends.append(range.upperBound)
        return true
      }
      workspace.tokenStarts = starts
      workspace.tokenEnds = ends
    }
  }

  private func emitNGrams(
    from workspace: inout Workspace, weight: Int32,
    emit: (UnsafeBufferPointer<UInt8>, Int32) -> Void
  ) {
    let tokens = workspace.tokenStarts.count
    guard tokens > 0 else { return }
    workspace.segment.withUnsafeBufferPointer { segment in
      for length in configuration.ngramRange where length <= tokens {
        for first in 0...(tokens - length) {
          let range = workspace.tokenStarts[first]..<workspace.tokenEnds[first + length - 1]
          emit(UnsafeBufferPointer(rebasing: segment[range]), weight)
        }
      }
    }
  }
}
