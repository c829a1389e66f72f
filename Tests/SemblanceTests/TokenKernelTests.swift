import CSemblanceKernels
import Testing

@testable import Semblance

/// The ASCII tokenizer kernel against the Swift scanner, in the serialized kernel suite
/// because both modes are forced in turn.
extension SelectionKernelTests {
  /// ASCII text with every class of byte a tokenizer must tell apart, in runs of random
  /// length: word bytes of each case, digits and underscores, one-letter words, punctuation,
  /// whitespace and control bytes.
  static func asciiText(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    let word = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_".utf8)
    let other = Array(" \t\n\r.,;:-()[]{}'\"!?/\\@#$%^&*+=<>|~`".utf8) + [0, 1, 0x7F]
    var text: [UInt8] = []
    while text.count < count {
      let run = Int(generator.next() % 12) + 1
      let pool = generator.next() % 3 == 0 ? other : word
      for _ in 0..<run { text.append(pool[Int(generator.next() % UInt64(pool.count))]) }
      if generator.next() % 4 == 0 { text.append(0x20) }
    }
    return Array(text.prefix(count))
  }

  /// The tokens the Swift scanner finds, as strings.
  static func scannerTokens(_ text: [UInt8]) -> [String] {
    try! Analyzer().tokens(in: String(decoding: text, as: UTF8.self))
  }

  /// Lengths around the kernel's 64-byte blocks.
  static let textLengths = [0, 1, 2, 3, 5, 63, 64, 65, 127, 128, 129, 191, 192, 193, 1_000, 4_099]

  @Test("the ASCII tokenizer finds the scanner's tokens and hashes", arguments: [false, true])
  func asciiTokenizer(vectorized: Bool) {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    var texts = Self.textLengths.enumerated().map { Self.asciiText(count: $1, seed: UInt64($0)) }
    // Tokens that touch both ends and every block edge, and runs of one-byte words.
    texts.append(Array(String(repeating: "Ab", count: 200).utf8))
    texts.append(Array(String(repeating: "a ", count: 200).utf8))
    texts.append(Array((String(repeating: "x", count: 63) + " " + String(repeating: "y", count: 64)).utf8))
    for text in texts {
      let expected = Self.scannerTokens(text)
      var lowered = [UInt8](repeating: 0xFF, count: text.count + 8)
      var tokens = [semblance_token](repeating: semblance_token(), count: text.count / 3 + 1)
      let found = text.withUnsafeBufferPointer { text in
        semblance_scan_ascii(text.baseAddress ?? UnsafePointer(bitPattern: 1)!, text.count, &lowered, &tokens)
      }
      let strings = tokens.prefix(found).map {
        String(decoding: lowered[Int($0.start)..<Int($0.end)], as: UTF8.self)
      }
      #expect(strings == expected, "length \(text.count)")
      for token in tokens.prefix(found) {
        let hash = lowered[Int(token.start)..<Int(token.end)].withUnsafeBufferPointer {
          TermTable.hash($0)
        }
        #expect(token.hash == hash)
      }
    }
  }

  @Test("the C term hash is TermTable's, at every length and alignment")
  func termHash() {
    let bytes = Self.asciiText(count: 80, seed: 7) + [0x80, 0xFF, 0xC3, 0xA9]
    bytes.withUnsafeBufferPointer { bytes in
      for offset in 0..<8 {
        for length in 0...(bytes.count - offset) {
          let key = UnsafeBufferPointer(rebasing: bytes[offset..<(offset + length)])
          #expect(semblance_term_hash(key.baseAddress!, length) == TermTable.hash(key))
        }
      }
    }
  }

  @Test("ASCII detection", arguments: [0, 1, 63, 64, 65, 200])
  func asciiDetection(length: Int) {
    let text = Self.asciiText(count: length, seed: UInt64(length))
    #expect(semblance_is_ascii(text.withUnsafeBufferPointer { $0.baseAddress ?? UnsafePointer(bitPattern: 1)! }, length) == 1)
    for position in [0, length / 2, length - 1] where position >= 0 && position < length {
      var marked = text
      marked[position] = 0x80 | marked[position]
      #expect(marked.withUnsafeBufferPointer { semblance_is_ascii($0.baseAddress!, length) } == 0)
    }
  }

  @Test("counting sees the same tokens by either path", arguments: [false, true])
  func tokenizedSegments(vectorized: Bool) throws {
    SelectionKernels.useVectorized(vectorized)
    defer { SelectionKernels.useVectorized(true) }
    let papers = [
      Paper(id: "1", title: "Diffusion Models for Time-Series", abstract: "We propose THE model; it's 2x faster (a_b)."),
      Paper(id: "2", title: "", abstract: String(decoding: Self.asciiText(count: 700, seed: 3), as: UTF8.self)),
      // Non-ASCII segments take the Swift scanner; the title stays on the kernel.
      Paper(id: "3", title: "Plain title here", abstract: "Straße ΣΊΣΥΦΟΣ naïve café — über ΣΑΣ x"),
      Paper(id: "4", title: "Émile's théorème", abstract: "short"),
    ]
    for configuration in [Analyzer.Configuration(), .init(stopWords: []), .init(titleWeight: 3)] {
      let analyzer = try Analyzer(configuration)
      for paper in papers {
        var expected: [(String, Int32)] = []
        var workspace = Analyzer.Workspace()
        analyzer.forEachSegment(title: paper.title, abstract: paper.abstract, in: &workspace) {
          workspace, weight in
          for (start, end) in zip(workspace.tokenStarts, workspace.tokenEnds) {
            expected.append((String(decoding: workspace.segment[start..<end], as: UTF8.self), weight))
          }
        }
        var found: [(String, Int32)] = []
        var hashesAgree = true
        analyzer.forEachTokenizedSegment(title: paper.title, abstract: paper.abstract, in: &workspace) {
          bytes, tokens, weight in
          for token in tokens {
            let key = UnsafeBufferPointer(start: bytes + Int(token.start), count: Int(token.end - token.start))
            hashesAgree = hashesAgree && TermTable.hash(key) == token.hash
            found.append((String(decoding: key, as: UTF8.self), weight))
          }
        }
        #expect(found.map(\.0) == expected.map(\.0), "paper \(paper.id)")
        #expect(found.map(\.1) == expected.map(\.1), "paper \(paper.id)")
        #expect(hashesAgree)
      }
    }
  }

  @Test("the row sort orders any input as the standard library does")
  func rowSort() {
    var generator = SeededGenerator(seed: 11)
    for count in [0, 1, 2, 3, 23, 24, 25, 100, 155, 1_000, 5_000] {
      let random = (0..<count).map { _ in generator.next() }
      let few = (0..<count).map { _ in generator.next() % 4 }
      let sorted = random.sorted()
      let organPipe = (0..<count).map { UInt64(min($0, count - $0)) }
      for input in [random, few, sorted, Array(sorted.reversed()), organPipe] {
        var values = input
        values.withUnsafeMutableBufferPointer {
          if let base = $0.baseAddress { semblance_sort_u64(base, $0.count) }
        }
        #expect(values == input.sorted(), "count \(count)")
      }
    }
  }

  @Test(
    "the row-entry sort orders entries with distinct columns by column",
    arguments: [0, 1, 31, 32, 47, 48, 155, 1_000, 2_048, 2_049, 5_000])
  func rowEntrySort(count: Int) {
    var generator = SeededGenerator(seed: UInt64(count))
    // Columns from vocabularies of several sizes (so that one, two, three or four upper
    // bytes vary), counts anywhere in the lower half.
    for columnBits in [8, 16, 22, 31] {
      var columns = Set<UInt64>()
      let limit = UInt64(1) << columnBits
      while columns.count < min(count, Int(limit)) { columns.insert(generator.next() % limit) }
      let input = columns.shuffled(using: &generator).map { $0 << 32 | generator.next() >> 32 }
      for values in [input, input.sorted(), Array(input.sorted().reversed())] {
        var sorted = values
        sorted.withUnsafeMutableBufferPointer {
          if let base = $0.baseAddress { semblance_sort_row_entries(base, $0.count) }
        }
        #expect(sorted == values.sorted(), "count \(count), \(columnBits)-bit columns")
      }
    }
  }
}
