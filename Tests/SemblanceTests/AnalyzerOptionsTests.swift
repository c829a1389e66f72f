import Foundation
import Testing

@testable import Semblance

/// Porter stemming and custom stop-word lists.
@Suite("Analyzer options")
struct AnalyzerOptionsTests {
  /// `word<TAB>stem` pairs from NLTK's ORIGINAL_ALGORITHM mode (make_porter_fixture.py).
  static let porterCases: [(word: String, stem: String)] = {
    let text = try! String(contentsOf: TestSupport.fixture("porter_stems.tsv"), encoding: .utf8)
    return text.split(separator: "\n").dropFirst().map { line in
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      return (String(fields[0]), String(fields[1]))
    }
  }()

  @Test func porterStemmerMatchesNLTKOriginalAlgorithm() {
    #expect(Self.porterCases.count > 500)
    let stemmer = PorterStemmer()
    let mismatches = Self.porterCases.filter { stemmer.stem($0.word) != $0.stem }
      .map { "\($0.word): expected \($0.stem), got \(stemmer.stem($0.word))" }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
  }

  @Test(arguments: [
    ("caresses", "caress"), ("ponies", "poni"), ("relational", "relat"),
    ("conditional", "condit"), ("hopping", "hop"), ("filing", "file"), ("feed", "feed"),
    ("agreed", "agre"), ("happy", "happi"), ("sky", "sky"), ("controll", "control"),
    ("generalizations", "gener"), ("adoption", "adopt"), ("onion", "onion"),
  ])
  func classicExamples(word: String, stem: String) {
    #expect(PorterStemmer().stem(word) == stem)
  }

  @Test func wordsOutsideLowercaseASCIIAreLeftAlone() {
    let stemmer = PorterStemmer()
    for word in ["gpt4", "Caresses", "naïve", "x_connected", "résumés", ""] {
      #expect(stemmer.stem(word) == word)
    }
  }

  @Test func pathologicalTokensStemInLinearTime() throws {
    let started = Date()
    let long = String(repeating: "y", count: 200_000) + String(repeating: "ational", count: 1_000)
    #expect(PorterStemmer().stem(long).count <= long.count)
    let analyzer = try Analyzer(.init(stemmer: .porter))
    #expect(analyzer.termCounts(ofText: long).count == 1)
    #expect(Date().timeIntervalSince(started) < 10)
  }

  @Test func stemmingComesAfterStopWordsAndBeforeNGrams() throws {
    let analyzer = try Analyzer(.init(stopWords: ["connect"], stemmer: .porter))
    // "connect" is a stop word as written; "connected" is not, and then stems to "connect".
    #expect(analyzer.termCounts(ofText: "connected connect") == ["connect": 1])
    let counts = try Analyzer(.init(stemmer: .porter)).termCounts(
      of: Paper(id: "1", title: "Graph networks", abstract: "Connecting the generalizations"))
    #expect(counts == [
      "graph": 2, "network": 2, "graph network": 2, "connect": 1, "gener": 1, "connect gener": 1,
    ])
    // The plain tokenizer is unaffected.
    #expect(try Analyzer(.init(stemmer: .porter)).tokens(in: "Connected nets") == ["connected", "nets"])
  }

  @Test func stemmingIsTheSameInTheJoinedMode() throws {
    var configuration = IndexConfiguration.scikitLearnCompatible
    configuration.stemmer = .porter
    let analyzer = try Analyzer(configuration.vectorizerConfiguration.analyzer)
    let counts = analyzer.termCounts(of: Paper(id: "1", title: "Ponies", abstract: "caresses ponies"))
    #expect(counts == ["poni": 2, "caress": 1])
  }

  // MARK: Stop-word lists

  @Test func stopWordListsParseCommentsBlanksAndCase() throws {
    let text = "# my list\nThe\n\n  of  \r\nand # trailing comment\n#only a comment\nGraph\n"
    #expect(try Analyzer.stopWords(parsing: text) == ["the", "of", "and", "graph"])
    #expect(try Analyzer.stopWords(parsing: "") == [])
  }

  @Test func stopWordListErrorsNameTheFileAndLine() throws {
    #expect(throws: StopWordListError.invalidEntry(file: "list.txt", line: 3, entry: "two words")) {
      try Analyzer.stopWords(parsing: "a\n# c\ntwo words\n", source: "list.txt")
    }
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let missing = directory.appendingPathComponent("missing.txt")
    do {
      _ = try Analyzer.stopWords(contentsOf: missing)
      Issue.record("a missing file must fail")
    } catch let error as StopWordListError {
      #expect("\(error)".contains("missing.txt"))
    }
    let binary = directory.appendingPathComponent("binary.txt")
    try Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: binary)
    #expect(throws: StopWordListError.unreadable(file: binary.path, reason: "it is not valid UTF-8 text")) {
      try Analyzer.stopWords(contentsOf: binary)
    }
  }

  @Test func aStopWordFileReplacesTheDefaultList() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("stop.txt")
    try "\u{FEFF}# domain stop words\nmodel\nmodels\n".write(to: url, atomically: true, encoding: .utf8)
    let words = try Analyzer.stopWords(contentsOf: url)
    #expect(words == ["model", "models"])
    let analyzer = try Analyzer(.init(stopWords: words))
    // "the" is back (the English list is replaced), "models" is gone.
    #expect(analyzer.termCounts(ofText: "the models") == ["the": 1])
  }

  // MARK: Index

  @Test func stemmedIndexesKeepTheirAnalysisThroughTheFile() throws {
    let papers = try TestSupport.fixturePapers()
    var configuration = IndexConfiguration.default
    configuration.stemmer = .porter
    configuration.stopWords = Analyzer.englishStopWords.union(["model", "models"])
    configuration.dimensions = 40
    let index = try PaperIndex(papers, configuration: configuration)
    #expect(index.vectorizer.column(of: "forecast") != nil)
    #expect(index.vectorizer.column(of: "forecasting") == nil)
    // Stop words apply to words as written: "model" is gone, but "modeling" stems to it.
    #expect(index.vectorizer.column(of: "model") != nil)

    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("stemmed.idx")
    try index.write(to: url)
    let loaded = try PaperIndex(contentsOf: url)
    #expect(loaded.configuration == configuration)
    #expect(loaded.vectorizer.analyzer.configuration.stemmer == .porter)
    // A query analysed with the stored options: inflections meet their stems.
    let hits = try loaded.search("forecasted time-series", count: 5)
    #expect(hits == (try index.search("forecasted time-series", count: 5)))
    #expect(Set(hits.map(\.id)).intersection(["27", "57", "69"]).count >= 2)
  }

  @Test func configurationsWithoutAStemmerKeyStillDecode() throws {
    let encoded = try JSONEncoder().encode(IndexConfiguration.default)
    var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
    #expect(object["stemmer"] == nil)  // nil is omitted, as in index files written before it existed
    object["stemmer"] = "porter"
    let decoded = try JSONDecoder().decode(
      IndexConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(decoded.stemmer == .porter)
  }
}
