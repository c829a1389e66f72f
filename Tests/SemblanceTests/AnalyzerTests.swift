import Foundation
import Testing

@testable import Semblance

/// The tokenizer and analyzer against scikit-learn's analyzers (fixtures from make_fixtures.py).
@Suite("Analyzer")
struct AnalyzerTests {
  struct TokenizerCase: CustomTestStringConvertible {
    var text: String
    var tokens: [String]
    var defaultTerms: [String]
    var testDescription: String { text.debugDescription }
  }

  static let cases: [TokenizerCase] = {
    let object = try! TestSupport.json("tokenizer_cases.json") as! [[String: Any]]
    return object.map {
      TokenizerCase(
        text: $0["text"] as! String, tokens: $0["tokens"] as! [String],
        defaultTerms: $0["default_terms"] as! [String])
    }
  }()

  @Test("tokens equal scikit-learn's build_analyzer()", arguments: cases)
  func tokensMatchScikitLearn(_ example: TokenizerCase) throws {
    let analyzer = try Analyzer(.init(stopWords: []))
    #expect(analyzer.tokens(in: example.text) == example.tokens)
  }

  @Test("default terms equal the reference analyzer", arguments: cases)
  func defaultTermsMatchReference(_ example: TokenizerCase) throws {
    let analyzer = try Analyzer()
    var expected: [String: Int] = [:]
    for term in example.defaultTerms { expected[term, default: 0] += 1 }
    #expect(analyzer.termCounts(ofText: example.text) == expected)
  }

  @Test func stopWordsAreScikitLearnsList() throws {
    let text = try String(contentsOf: TestSupport.fixture("english_stop_words.txt"), encoding: .utf8)
    let words = Set(text.split(separator: "\n").map(String.init))
    #expect(words.count == 318)
    #expect(Analyzer.englishStopWords == words)
  }

  @Test func titleWeightAndBoundary() throws {
    let analyzer = try Analyzer(.init(titleWeight: 3, stopWords: []))
    let counts = analyzer.termCounts(
      of: Paper(id: "1", title: "Graph networks", abstract: "Deep models"))
    #expect(counts == [
      "graph": 3, "networks": 3, "graph networks": 3, "deep": 1, "models": 1, "deep models": 1,
    ])
    // No bigram across the title/abstract boundary by default ...
    #expect(counts["networks deep"] == nil)
    // ... but one when the text is joined, as scikit-learn sees it.
    let joined = try Analyzer(.init(titleWeight: 1, stopWords: [], joinsTitleAndAbstract: true))
    #expect(joined.termCounts(of: Paper(id: "1", title: "Graph networks", abstract: "Deep models"))["networks deep"] == 1)
  }

  @Test func stopWordsGoBeforeBigrams() throws {
    let counts = try Analyzer().termCounts(ofText: "learning of the graphs")
    #expect(counts == ["learning": 1, "graphs": 1, "learning graphs": 1])
  }

  @Test func invalidConfigurationsThrow() {
    #expect(throws: ConfigurationError.self) { try Analyzer(.init(titleWeight: 0)) }
    #expect(throws: ConfigurationError.self) { try Analyzer(.init(ngramRange: 1...4)) }
  }
}

/// TF-IDF against scikit-learn's `TfidfVectorizer`.
///
/// Tolerance 1e-6 per entry: the reference is float64, Semblance stores float32 values in
/// [0, 1], whose rounding is at most 2⁻²⁴ ≈ 6e-8; idf and norms are computed in double.
@Suite("TF-IDF")
struct TfidfTests {
  func expectEqual(_ matrix: SparseMatrix, _ vectorizer: TfidfVectorizer, _ reference: TestSupport.CSRFixture) {
    #expect(vectorizer.terms == reference.vocabulary)
    #expect(matrix.rows == reference.indptr.count - 1)
    #expect(matrix.columns == reference.vocabulary.count)
    #expect(matrix.nonzeroCount == reference.data.count)
    #expect(matrix.rowOffsets.map(Int.init) == reference.indptr)
    #expect(matrix.columnIndices.map(Int.init) == reference.indices)
    var worst: Double = 0
    for (value, expected) in zip(matrix.values, reference.data) {
      worst = max(worst, abs(Double(value) - expected))
    }
    #expect(worst < 1e-6)
    for (idf, expected) in zip(vectorizer.idf, reference.idf) {
      #expect(abs(Double(idf) - expected) < 1e-5 * expected)
    }
  }

  @Test func scikitLearnCompatibleModeMatchesTfidfVectorizer() throws {
    let papers = try TestSupport.fixturePapers()
    let (vectorizer, matrix) = try TfidfVectorizer.fit(
      papers, configuration: IndexConfiguration.scikitLearnCompatible.vectorizerConfiguration)
    expectEqual(matrix, vectorizer, try TestSupport.csr("tfidf_sklearn.json"))
  }

  @Test func defaultModeMatchesTheReferenceAnalyzer() throws {
    let papers = try TestSupport.fixturePapers()
    let (vectorizer, matrix) = try TfidfVectorizer.fit(
      papers, configuration: IndexConfiguration.default.vectorizerConfiguration)
    expectEqual(matrix, vectorizer, try TestSupport.csr("tfidf_default.json"))
  }

  @Test func transformReproducesTheFittedRows() throws {
    let papers = try TestSupport.fixturePapers()
    let (vectorizer, matrix) = try TfidfVectorizer.fit(papers)
    let again = vectorizer.transform(papers)
    #expect(again.rowOffsets == matrix.rowOffsets)
    #expect(again.columnIndices == matrix.columnIndices)
    for (x, y) in zip(again.values, matrix.values) { #expect(abs(x - y) < 1e-6) }
  }

  @Test("the vocabulary is in byte order where words prefix others and bigrams meet words")
  func vocabularyByteOrder() throws {
    // "ab" prefixes "abc", "ab_", "ab0", "abé"; the bigrams "ab xa", "ab xy" and "ab_ xa"
    // sort between words, and the space sorts below every token byte.
    let texts = [
      "ab xa abc ab_ xa", "ab xy abé ab0 zb", "abc ab xa ab0", "éa ab_ xa zz ab xy",
      "abé ab xa zz éa",
    ]
    let papers = texts.enumerated().map { Paper(id: "\($0)", title: "", abstract: $1) }
    let configuration = TfidfVectorizer.Configuration(
      analyzer: .init(stopWords: [], ngramRange: 1...2), minDocumentFrequency: 1,
      maxDocumentFrequency: 1)
    let (vectorizer, _) = try TfidfVectorizer.fit(papers, configuration: configuration)
    let terms = vectorizer.terms
    #expect(terms.contains("ab xa") && terms.contains("ab_ xa") && terms.contains("abé ab0"))
    #expect(terms == terms.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    #expect(Set(terms).count == terms.count)

    // Capped by corpus frequency, ties going to byte order.
    var capped = configuration
    capped.maxTerms = 3
    let (top, _) = try TfidfVectorizer.fit(papers, configuration: capped)
    // "ab" and "xa" 5 times each, then "ab xa" and "éa" 3 times: the tie goes to byte order.
    let totals = Dictionary(grouping: texts.flatMap { text -> [String] in
      let words = text.split(separator: " ").map(String.init).filter { $0.count > 1 }
      return words + zip(words, words.dropFirst()).map { "\($0) \($1)" }
    }, by: { $0 }).mapValues(\.count)
    let expected = totals.sorted {
      $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8)
    }.prefix(3).map(\.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    #expect(top.terms == expected)
    #expect(top.terms == ["ab", "ab xa", "xa"])
  }

  @Test func pruningAndLimits() throws {
    let papers = (0..<10).map { Paper(id: "\($0)", title: "", abstract: "common rare\($0) shared\($0 % 2)") }
    var configuration = TfidfVectorizer.Configuration(
      analyzer: .init(stopWords: [], ngramRange: 1...1), minDocumentFrequency: 2,
      maxDocumentFrequency: 0.9)
    let (pruned, _) = try TfidfVectorizer.fit(papers, configuration: configuration)
    #expect(pruned.terms == ["shared0", "shared1"])  // "common" is in all 10 > 9; rare terms in 1
    configuration.maxDocumentFrequency = 1
    configuration.maxTerms = 1
    let (capped, _) = try TfidfVectorizer.fit(papers, configuration: configuration)
    #expect(capped.terms == ["common"])
    configuration.minDocumentFrequency = 11
    #expect(throws: ConfigurationError.self) { try TfidfVectorizer.fit(papers, configuration: configuration) }
    #expect(throws: ConfigurationError.emptyCorpus) { try TfidfVectorizer.fit([]) }
  }

  @Test func emptyPapersGetZeroRows() throws {
    let papers = [
      Paper(id: "a", title: "graphs", abstract: "neural graphs"),
      Paper(id: "b", title: "", abstract: "the of and"),
      Paper(id: "c", title: "graphs", abstract: "neural nets"),
    ]
    let (_, matrix) = try TfidfVectorizer.fit(papers, configuration: .init(maxDocumentFrequency: 1))
    #expect(matrix.row(1).indices.isEmpty)
    #expect(matrix.values.allSatisfy { $0.isFinite })
  }
}
