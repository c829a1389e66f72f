extension Analyzer {
  /// A stemming algorithm that ``Analyzer`` can apply to tokens.
  ///
  /// ```swift
  /// let analyzer = try Analyzer(.init(stemmer: .porter))
  /// analyzer.termCounts(ofText: "connected connections")
  /// // ["connect": 2, "connect connect": 1]
  /// ```
  public enum Stemmer: String, Sendable, Hashable, Codable, CaseIterable {
    /// Porter's 1980 English algorithm (``PorterStemmer``).
    case porter
  }

  /// Stems every kept token of the workspace's segment in place, moving the tokens left so
  /// that they stay separated by one space, and updates their ranges.
  func stemTokens(in workspace: inout Workspace) {
    let stemmer = PorterStemmer()
    let tokens = workspace.tokenStarts.count
    var longest = 0
    for token in 0..<tokens {
      longest = max(longest, workspace.tokenEnds[token] - workspace.tokenStarts[token])
    }
    if workspace.stemmerScratch.count < longest {
      workspace.stemmerScratch = [Bool](repeating: false, count: longest)
    }
    var write = 0
    workspace.segment.withUnsafeMutableBufferPointer { segment in
      workspace.stemmerScratch.withUnsafeMutableBufferPointer { scratch in
        for token in 0..<tokens {
          let start = workspace.tokenStarts[token], end = workspace.tokenEnds[token]
          if token > 0 {
            segment[write] = 0x20
            write += 1
          }
          // Stems are never longer than their tokens, so `write <= start` throughout.
          let length = end - start
          if write != start {
            UnsafeMutableRawPointer(segment.baseAddress! + write)
              .copyMemory(from: segment.baseAddress! + start, byteCount: length)
          }
          let word = UnsafeMutableBufferPointer(rebasing: segment[write..<(write + length)])
          let stemmed = stemmer.stem(word, consonants: scratch)
          workspace.tokenStarts[token] = write
          write += stemmed > 0 ? stemmed : length
          workspace.tokenEnds[token] = write
        }
      }
    }
    workspace.segment.removeSubrange(write...)
  }
}
