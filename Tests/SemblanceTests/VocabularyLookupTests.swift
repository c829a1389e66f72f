import Foundation
import Testing

@testable import Semblance

/// Finding a term's column by binary search of the sorted vocabulary, by the hash table, and
/// when the vocabulary switches from one to the other.
@Suite("Vocabulary lookup")
struct VocabularyLookupTests {
  static let index = PaperIndexTests.index

  func find(_ key: String, _ lookup: Vocabulary.Lookup) -> Int32 {
    Array(key.utf8).withUnsafeBufferPointer { lookup.find($0) }
  }

  @Test("binary search and the hash table agree on every term and on near misses")
  func strategiesAgree() {
    let vocabulary = Self.index.vectorizer.vocabulary
    let terms = vocabulary.terms
    let known = Set(terms.strings)
    #expect(terms.strings == terms.strings.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    let sorted = Vocabulary.Lookup.sorted(terms)
    let table = Vocabulary.Lookup.table(vocabulary.table)
    for column in 0..<terms.count {
      let term = terms[column]
      #expect(find(term, sorted) == Int32(column))
      #expect(find(term, table) == Int32(column))
      // Prefixes, extensions and neighbours in byte order: found exactly when they are terms.
      for probe in [String(term.dropLast()), term + "a", term + " ", term + "\u{10FFFF}", "0" + term] {
        let expected: Int32 = known.contains(probe) ? find(probe, table) : -1
        #expect(find(probe, sorted) == expected)
      }
    }
    for probe in ["", " ", "\u{0}", "zzzzzzzz", "\u{10FFFF}"] {
      #expect(find(probe, sorted) == (known.contains(probe) ? find(probe, table) : -1))
    }
  }

  @Test("a few texts use binary search until it has cost about as much as the table")
  func switchesToTheTable() throws {
    // A fresh vocabulary of the same terms, so that no table is built yet.
    let vocabulary = Vocabulary(terms: Self.index.vectorizer.vocabulary.terms)
    guard case .sorted = vocabulary.lookup(forPapers: 1) else {
      Issue.record("one text should not build the table")
      return
    }
    guard case .table = vocabulary.lookup(forPapers: 64) else {
      Issue.record("64 texts should use the table")
      return
    }
    // Built now: every later lookup uses it.
    guard case .table = vocabulary.lookup(forPapers: 1) else {
      Issue.record("a built table should be used")
      return
    }
    let other = Vocabulary(terms: Self.index.vectorizer.vocabulary.terms)
    var searches = 0
    while case .sorted = other.lookup(forPapers: 1) { searches += 1 }
    #expect(searches == 15, "16 single texts at this size (terms / 4096 is below 16)")
  }

  @Test("search and transform give the same answers whichever lookup they use")
  func answersDoNotDependOnTheLookup() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("lookup.idx")
    try Self.index.write(to: url)
    let texts = ["diffusion models for time series forecasting", "large language model agents",
                 "Video generation with transformers; GPT-4", "no such words qqq"]
    // A loaded index starts with binary search; the in-memory one has built its table.
    _ = Self.index.vectorizer.vocabulary.table
    let loaded = try PaperIndex(contentsOf: url)
    for text in texts {
      #expect(try loaded.search(text, count: 5) == Self.index.search(text, count: 5))
      let a = loaded.vectorizer.vector(forText: text), b = Self.index.vectorizer.vector(forText: text)
      #expect(a.indices == b.indices && a.values == b.values)
    }
    for term in ["diffusion", "time series", "not a term"] {
      #expect(loaded.vectorizer.column(of: term) == Self.index.vectorizer.column(of: term))
    }
  }
}
