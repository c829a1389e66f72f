import Testing

@testable import Semblance

/// The branch-free stop-word test of the ASCII tokenizer, against a plain `Set`.
@Suite("ShortWordSet")
struct ShortWordSetTests {
  /// `word`'s bytes followed by 16 bytes of nonzero padding, which a correct test masks off.
  private func contains(_ set: ShortWordSet, _ word: [UInt8]) -> Bool {
    let padded = word + [UInt8](repeating: 0x7A, count: 16)
    return padded.withUnsafeBufferPointer { bytes in
      set.contains(
        bytes.baseAddress!, length: word.count,
        hash: TermTable.hash(UnsafeBufferPointer(rebasing: bytes[..<word.count])))
    }
  }

  private func entry(_ word: [UInt8]) -> (bytes: [UInt8], hash: UInt64) {
    (word, word.withUnsafeBufferPointer { TermTable.hash($0) })
  }

  @Test("membership equals a Set's for every length up to 16, near misses and longer tokens")
  func membershipMatchesASet() throws {
    var generator = SeededGenerator(seed: 7)
    let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789_".utf8)
    func randomWord(_ length: Int) -> [UInt8] {
      (0..<length).map { _ in letters[Int(generator.next() % UInt64(letters.count))] }
    }
    var members: [[UInt8]] = []
    for length in 1...16 {
      for _ in 0..<40 { members.append(randomWord(length)) }
    }
    let set = try #require(ShortWordSet(members.map(entry)))
    let expected = Set(members)
    var probes = members
    for member in members {
      probes.append(member + [letters[0]])  // one byte longer
      probes.append(Array(member.dropLast()))  // one byte shorter
      var changed = member
      changed[Int(generator.next() % UInt64(member.count))] ^= 0x01
      probes.append(changed)  // one bit changed
      if member.count == 16 { probes.append(member + randomWord(4)) }  // same first 16 bytes
    }
    for _ in 0..<2_000 { probes.append(randomWord(1 + Int(generator.next() % 24))) }
    for probe in probes where !probe.isEmpty {
      #expect(contains(set, probe) == expected.contains(probe), "\(String(decoding: probe, as: UTF8.self))")
    }
  }

  @Test("the scikit-learn list fits, and duplicates are held once")
  func englishListFits() throws {
    let words = Analyzer.englishStopWords.sorted().map { Array($0.utf8) }
    let set = try #require(ShortWordSet((words + words).map(entry)))
    for word in words { #expect(contains(set, word)) }
    #expect(!contains(set, Array("model".utf8)))
  }

  @Test("a word longer than 16 bytes, or empty, cannot be held")
  func longWordsAreRefused() {
    #expect(ShortWordSet([entry(Array("internationalization".utf8))]) == nil)
    #expect(ShortWordSet([entry([])]) == nil)
    #expect(ShortWordSet([entry(Array("sixteen_letters_".utf8))]) != nil)
  }

  @Test("fitting drops custom stop words of every length, with or without the fast test")
  func customStopWordsOfEveryLength() throws {
    let papers = [
      Paper(
        id: "1", title: "Internationalization of representation learning",
        abstract: "Representations and representation models for internationalization."),
      Paper(
        id: "2", title: "Representation models",
        abstract: "Internationalization models learn representations."),
    ]
    for stopWords in [
      ["representation", "of", "for", "and"],  // 14 bytes: the branch-free test
      ["representation", "internationalization", "of", "for", "and"],  // 20 bytes: the table
    ] {
      let configuration = TfidfVectorizer.Configuration(
        analyzer: .init(stopWords: Set(stopWords), ngramRange: 1...1), minDocumentFrequency: 1,
        maxDocumentFrequency: 1)
      let (vectorizer, _) = try TfidfVectorizer.fit(papers, configuration: configuration)
      let expected = ["internationalization", "learn", "learning", "models", "representations"]
        .filter { !stopWords.contains($0) }
      #expect(vectorizer.terms == expected)
    }
  }
}
