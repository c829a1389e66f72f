import Foundation
import Testing

@testable import Semblance

@Suite("Corpus readers")
struct CorpusReaderTests {
  typealias Support = CorpusTestSupport

  // MARK: - The bundled papers page

  @Test("The bundled papers page yields 81 papers in order")
  func bundledCorpus() throws {
    let papers = try Corpus.read(contentsOf: Support.bundledCorpus)
    try #require(papers.count == 81)
    #expect(papers.map(\.id) == (1...81).map(String.init))
    #expect(
      papers[0].title
        == "SANSformers: Self-Supervised Forecasting in Electronic Health Records with Attention-Free Models"
    )
    #expect(papers[0].abstract.hasPrefix("Despite the proven effectiveness of Transformer"))
    #expect(papers[0].abstract.hasSuffix("across various patient demographics."))
    #expect(papers[80].title.hasPrefix("PLIP:"))
    #expect(papers.allSatisfy { $0.metadata.isEmpty && !$0.abstract.isEmpty })
  }

  @Test("Text format: the header is skipped and abstract lines are joined")
  func papersPage() throws {
    let abstract = (1...25).map { "word\($0)" }
    let text = """
      Header line

      Another header

      First Title
         

      \(abstract[0..<10].joined(separator: " "))
      \(abstract[10...].joined(separator: " "))\t

      Second Title
      Short abstract.
      """
    // The second title's "abstract" is on the next line without a blank line: that makes a
    // two-line title paragraph, which is an error.
    #expect(Support.parseError(text, format: .text) == "malformed@11")

    let fixed = text.replacingOccurrences(of: "Second Title\n", with: "Second Title\n\n")
    let papers = try Corpus.parse(fixed, format: .text)
    #expect(papers.map(\.id) == ["1", "2"])
    #expect(papers.map(\.title) == ["First Title", "Second Title"])
    #expect(papers[0].abstract == abstract.joined(separator: " "))
    #expect(papers[1].abstract == "Short abstract.")
  }

  @Test("Text format: a one-line paragraph followed by fewer than 20 words is still header")
  func papersPageHeaderRule() throws {
    let long = Array(repeating: "lorem", count: 20).joined(separator: " ")
    let short = Array(repeating: "ipsum", count: 19).joined(separator: " ")
    let text = "Title A\n\n\(short)\n\nTitle B\n\n\(long)\n\nTitle C\n\nx\n"
    let papers = try Corpus.parse(text, format: .text)
    #expect(papers.map(\.title) == ["Title B", "Title C"])
    #expect(papers.map(\.abstract) == [long, "x"])
  }

  // MARK: - Round trips with metadata

  static let record1 = #"""
    {"id": "2401.00001", "title": "Diffusion  models\n for time series", "abstract": " We   forecast\tthings. ", "categories": "cs.LG stat.ML", "versions": [ {"version": "v1", "created": "Mon, 1 Jan 2024"} ], "authors_parsed": [["Doe", "Jane", ""], ["Roe", "R.", "Jr"]], "year": 2024, "score": -1.5e3, "open": true, "doi": null, "nested": {"a": [1, 2.0, {"b": null, "c": "x \" \u00e9"}], "e": {}}}
    """#
  static let record2 = #"""
    {"id": 42, "title": "Second", "abstract": "Another abstract.", "categories": "cs.CL"}
    """#

  static var expectedRecords: [Paper] {
    [
      Paper(
        id: "2401.00001", title: "Diffusion models for time series", abstract: "We forecast things.",
        metadata: [
          "categories": "cs.LG stat.ML",
          "versions": #"[{"version":"v1","created":"Mon, 1 Jan 2024"}]"#,
          "authors_parsed": #"[["Doe","Jane",""],["Roe","R.","Jr"]]"#,
          "year": "2024",
          "score": "-1.5e3",
          "open": "true",
          "nested": #"{"a":[1,2.0,{"b":null,"c":"x \" \u00e9"}],"e":{}}"#,
        ]),
      Paper(id: "42", title: "Second", abstract: "Another abstract.", metadata: ["categories": "cs.CL"]),
    ]
  }

  @Test("JSON Lines: fields, metadata as text or compact raw JSON, null left out")
  func jsonLines() throws {
    let text = Self.record1 + "\n\n   \n" + Self.record2 + "\n"
    #expect(try Corpus.parse(text, format: .jsonLines) == Self.expectedRecords)
  }

  @Test("JSON array: the same records, pretty-printed across lines")
  func jsonArray() throws {
    let text = "[\n  " + Self.record1 + ",\n\n  " + Self.record2 + "\n]\n"
    #expect(try Corpus.parse(text, format: .json) == Self.expectedRecords)
    #expect(try Corpus.parse("[" + Self.record2 + "]", format: .json) == [Self.expectedRecords[1]])
  }

  @Test("Files round trip in every format", arguments: CorpusFormat.allCases)
  func fileRoundTrip(format: CorpusFormat) throws {
    let papers = [
      Paper(id: "a1", title: "First, with comma", abstract: "Text with \"quotes\" and, commas.",
            metadata: ["categories": "cs.LG", "label": "3"]),
      Paper(id: "b2", title: "Second\ttitle", abstract: "Tabbed\tand multi\nline.",
            metadata: ["categories": "math.ST"]),
    ]
    let expected: [Paper]
    let text: String
    switch format {
    case .text:
      expected = papers.enumerated().map { offset, paper in
        Paper(id: String(offset + 1), title: Self.collapse(paper.title),
              abstract: Self.collapse(paper.abstract)
                + " " + Array(repeating: "filler", count: 20).joined(separator: " "))
      }
      text = "Page header\n\n" + expected.map { "\($0.title)\n\n\($0.abstract)\n\n" }.joined()
    case .jsonLines, .json:
      expected = papers.map(Self.collapsed)
      let objects = papers.map { paper in
        let object: [String: String] = paper.metadata.merging(
          ["id": paper.id, "title": paper.title, "abstract": paper.abstract]) { $1 }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
      }
      text = format == .json
        ? "[\n" + objects.joined(separator: ",\n") + "\n]" : objects.joined(separator: "\n")
    case .csv, .tsv:
      expected = papers.map(Self.collapsed)
      let separator = format == .csv ? "," : "\t"
      func quote(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
      }
      let columns = ["id", "title", "abstract", "categories", "label"]
      let rows = papers.map { paper in
        let all = paper.metadata.merging(
          ["id": paper.id, "title": paper.title, "abstract": paper.abstract]) { $1 }
        return columns.map { quote(all[$0] ?? "") }.joined(separator: separator)
      }
      text = ([columns.joined(separator: separator)] + rows).joined(separator: "\r\n") + "\r\n"
    }
    let read = try Support.withTemporaryFile(text, extension: format.rawValue) { url in
      try Corpus.read(contentsOf: url)
    }
    #expect(read == expected)
    #expect(try Corpus.parse(text, format: format) == expected)
  }

  static func collapse(_ text: String) -> String {
    text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
  }

  static func collapsed(_ paper: Paper) -> Paper {
    Paper(id: collapse(paper.id), title: collapse(paper.title), abstract: collapse(paper.abstract),
          metadata: paper.metadata.mapValues(collapse))
  }

  // MARK: - Field names

  @Test("Renamed fields: JSON Lines and CSV, the default names become metadata")
  func renamedFields() throws {
    let fields = CorpusFields(id: "paper_id", title: "name", abstract: "summary")
    let jsonl = #"{"paper_id": "p1", "name": "N", "summary": "S", "id": "other", "title": "T"}"#
    #expect(
      try Corpus.parse(jsonl, format: .jsonLines, fields: fields)
        == [Paper(id: "p1", title: "N", abstract: "S", metadata: ["id": "other", "title": "T"])])
    #expect(Support.parseError(jsonl, format: .jsonLines) == "missing:abstract@1")

    let csv = "summary,paper_id,name,extra\nS,p1,N,\n"
    #expect(
      try Corpus.parse(csv, format: .csv, fields: fields)
        == [Paper(id: "p1", title: "N", abstract: "S")])
    #expect(Support.parseError(csv, format: .csv) == "missing:id@1")
    #expect(CorpusFields.default == CorpusFields(id: "id", title: "title", abstract: "abstract"))
  }

  @Test("Keys with escapes still match field names")
  func escapedKeys() throws {
    let text = #"{"\u0069d": "x", "t\u0069tle": "T", "abstract": "A", "k\"ey": 1}"#
    #expect(
      try Corpus.parse(text, format: .jsonLines)
        == [Paper(id: "x", title: "T", abstract: "A", metadata: [#"k"ey"#: "1"])])
  }

  @Test("A repeated key: the last value wins")
  func duplicateKeys() throws {
    let text = #"{"id": "x", "title": "old", "abstract": "A", "title": "new", "m": 1, "m": null}"#
    #expect(try Corpus.parse(text, format: .jsonLines) == [Paper(id: "x", title: "new", abstract: "A")])
  }

  // MARK: - Text handling

  @Test("Whitespace of every kind is collapsed and trimmed")
  func whitespaceCollapse() throws {
    let messy = "\u{00A0} a\u{3000}b \u{2003}c\u{2028}\u{85}d\u{1680}e\u{205F}f\u{202F}g  "
    let json = #"{"id": " x\t", "title": "\u00a0 T\nU \u2028", "abstract": "\#(messy)", "m": " p  q "}"#
    #expect(
      try Corpus.parse(json, format: .jsonLines)
        == [Paper(id: "x", title: "T U", abstract: "a b c d e f g", metadata: ["m": "p q"])])
    let csv = "id\ttitle\tabstract\n x \t\"  T\n\tU\"\t\(messy)\n"
    #expect(
      try Corpus.parse(csv, format: .tsv)
        == [Paper(id: "x", title: "T U", abstract: "a b c d e f g")])
    // Non-whitespace look-alikes survive: U+00A9 (C2 A9), U+2011, U+3001.
    let kept = #"{"id": "1", "title": "\u00a9 a\u2011b\u3001c", "abstract": "©‑、"}"#
    #expect(
      try Corpus.parse(kept, format: .jsonLines)
        == [Paper(id: "1", title: "© a‑b、c", abstract: "©‑、")])
  }

  @Test("JSON escapes, including surrogate pairs")
  func escapes() throws {
    let text = #"{"id": "e", "title": "a\"b\\c\/d\be\ff\ng\rh\ti\u00e9j\ud83d\ude00k\u0041", "abstract": "😀 \uD834\uDD1E"}"#
    let papers = try Corpus.parse(text, format: .jsonLines)
    #expect(papers.first?.title == "a\"b\\c/d\u{8}e f g h ié" + "j😀kA")
    #expect(papers.first?.abstract == "😀 𝄞")
  }

  @Test("A number id is kept as its literal text")
  func numberIDs() throws {
    let text = """
      {"id": 7, "title": "T", "abstract": "A"}
      {"id": -1.50e+3, "title": 2, "abstract": "A"}
      {"id": 0, "title": "T", "abstract": "A"}
      """
    #expect(try Corpus.parse(text, format: .jsonLines).map(\.id) == ["7", "-1.50e+3", "0"])
  }

  @Test("CSV quoting: delimiters, doubled quotes and line breaks inside quotes")
  func csvQuoting() throws {
    let text = """
      id,title,abstract,notes
      1,"Commas, inside","Line one
      line two with ""quotes"" and , commas",plain "quote" kept
      "2",Plain,"",""
      3,"",x,"multi

      blank"
      """
    let papers = try Corpus.parse(text, format: .csv)
    #expect(
      papers == [
        Paper(id: "1", title: "Commas, inside", abstract: #"Line one line two with "quotes" and , commas"#,
              metadata: ["notes": #"plain "quote" kept"#]),
        Paper(id: "2", title: "Plain", abstract: ""),
        Paper(id: "3", title: "", abstract: "x", metadata: ["notes": "multi blank"]),
      ])
  }

  @Test("CRLF line endings in every line-based format", arguments: [CorpusFormat.jsonLines, .csv, .tsv, .text, .json])
  func crlf(format: CorpusFormat) throws {
    let lf: String
    switch format {
    case .jsonLines: lf = "{\"id\": \"1\", \"title\": \"T\", \"abstract\": \"A b\"}\n\n{\"id\": \"2\", \"title\": \"U\", \"abstract\": \"B\"}\n"
    case .json: lf = "[\n{\"id\": \"1\", \"title\": \"T\",\n \"abstract\": \"A b\"},\n{\"id\": \"2\", \"title\": \"U\", \"abstract\": \"B\"}\n]\n"
    case .csv: lf = "id,title,abstract\n1,T,\"A\nb\"\n\n2,U,B\n"
    case .tsv: lf = "id\ttitle\tabstract\n1\tT\t\"A\nb\"\n2\tU\tB\n"
    case .text:
      let words = Array(repeating: "w", count: 20).joined(separator: " ")
      lf = "head\n\nT\n\nA b \(words)\n\nU\n\nB\n"
    }
    let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
    let expected = try Corpus.parse(lf, format: format)
    #expect(expected.count == 2)
    #expect(try Corpus.parse(crlf, format: format) == expected)
    #expect(expected[0].abstract.hasPrefix("A b"))
  }

  @Test("A UTF-8 byte-order mark is skipped", arguments: CorpusFormat.allCases)
  func byteOrderMark(format: CorpusFormat) throws {
    let text: String
    switch format {
    case .jsonLines: text = #"{"id": "1", "title": "T", "abstract": "A"}"#
    case .json: text = #"[{"id": "1", "title": "T", "abstract": "A"}]"#
    case .csv: text = "id,title,abstract\n1,T,A\n"
    case .tsv: text = "id\ttitle\tabstract\n1\tT\tA\n"
    case .text: text = "T\n\n" + Array(repeating: "A", count: 20).joined(separator: " ") + "\n"
    }
    let plain = try Corpus.parse(text, format: format)
    #expect(plain.count == 1 && plain[0].id == "1" && plain[0].title == "T")
    #expect(try Corpus.parse("\u{FEFF}" + text, format: format) == plain)
    let fromFile = try Support.withTemporaryFile([0xEF, 0xBB, 0xBF] + Array(text.utf8), extension: format.rawValue) {
      try Corpus.read(contentsOf: $0)
    }
    #expect(fromFile == plain)
  }

  @Test("An abstract of 1 MB", arguments: [CorpusFormat.jsonLines, .json, .csv, .text])
  func megabyteAbstract(format: CorpusFormat) throws {
    let sentence = "Longer than usual abstracts must still be read whole. "
    let abstract = String(repeating: sentence, count: 1_048_576 / sentence.utf8.count + 1)
    let expectedAbstract = Self.collapse(abstract)
    let text: String
    switch format {
    case .jsonLines:
      text = "{\"id\": \"big\", \"title\": \"Big\", \"abstract\": \"\(abstract)\"}\n{\"id\": \"small\", \"title\": \"S\", \"abstract\": \"s\"}\n"
    case .json:
      text = "[{\"id\": \"big\", \"title\": \"Big\", \"abstract\": \"\(abstract)\"},\n{\"id\": \"small\", \"title\": \"S\", \"abstract\": \"s\"}]"
    case .csv, .tsv:
      text = "id,title,abstract\nbig,Big,\"\(abstract)\"\nsmall,S,s\n"
    case .text:
      text = "Big\n\n\(abstract)\n\nS\n\ns\n"
    }
    #expect(text.utf8.count > 1_048_576)
    let papers = try Support.withTemporaryFile(text, extension: format.rawValue) {
      try Corpus.read(contentsOf: $0)
    }
    try #require(papers.count == 2)
    #expect(papers[0].abstract.utf8.count == expectedAbstract.utf8.count)
    #expect(papers[0].abstract == expectedAbstract)
    #expect(papers[1].abstract == "s")
  }

  // MARK: - Formats and files

  @Test("Formats from file extensions")
  func formatFromExtension() {
    #expect(CorpusFormat(fileExtension: "txt") == .text)
    #expect(CorpusFormat(fileExtension: "JSONL") == .jsonLines)
    #expect(CorpusFormat(fileExtension: "ndjson") == .jsonLines)
    #expect(CorpusFormat(fileExtension: "NDJson") == .jsonLines)
    #expect(CorpusFormat(fileExtension: "Json") == .json)
    #expect(CorpusFormat(fileExtension: ".csv") == .csv)
    #expect(CorpusFormat(fileExtension: "TSV") == .tsv)
    #expect(CorpusFormat(fileExtension: "xml") == nil)
    #expect(CorpusFormat(fileExtension: "") == nil)
  }

  @Test("An explicit format overrides the extension")
  func explicitFormat() throws {
    let text = #"{"id": "1", "title": "T", "abstract": "A"}"#
    let papers = try Support.withTemporaryFile(text, extension: "data") {
      try Corpus.read(contentsOf: $0, format: .jsonLines)
    }
    #expect(papers.map(\.id) == ["1"])
  }

  // MARK: - Streaming

  @Test("Batches of 1 and 3 give the same papers as read", arguments: [1, 3, 80, 81, 4096])
  func batches(batchSize: Int) throws {
    let all = try Corpus.read(contentsOf: Support.bundledCorpus)
    var batches: [[Paper]] = []
    try Corpus.forEachBatch(contentsOf: Support.bundledCorpus, batchSize: batchSize) { batches.append($0) }
    #expect(batches.flatMap { $0 } == all)
    #expect(batches.dropLast().allSatisfy { $0.count == batchSize })
    #expect((1...batchSize).contains(batches.last?.count ?? 0))
  }

  @Test("Streaming a large JSON Lines file in batches")
  func streamingJSONLines() throws {
    // About 3 MB, so the file spans several 1 MiB chunks.
    let lines = (0..<6000).map { index in
      #"{"id": "p\#(index)", "title": "Title \#(index)", "abstract": "\#(String(repeating: "abstract text ", count: 30))", "n": \#(index)}"#
    }
    let text = lines.joined(separator: "\n")
    try Support.withTemporaryFile(text, extension: "jsonl") { url in
      var seen = 0
      var batchCount = 0
      try Corpus.forEachBatch(contentsOf: url, batchSize: 1000) { batch in
        #expect(batch.count == 1000)
        #expect(batch.first?.id == "p\(seen)")
        #expect(batch.last?.metadata["n"] == String(seen + 999))
        seen += batch.count
        batchCount += 1
      }
      #expect(seen == 6000 && batchCount == 6)
    }
  }

  struct Stop: Error {}

  @Test("An error thrown by the batch body stops reading and is rethrown")
  func bodyError() throws {
    var calls = 0
    #expect(throws: Stop.self) {
      try Corpus.forEachBatch(contentsOf: Support.bundledCorpus, batchSize: 10) { _ in
        calls += 1
        throw Stop()
      }
    }
    #expect(calls == 1)
  }

  @Test("Duplicate ids: keepFirst keeps the first paper with each id")
  func keepFirst() throws {
    let text = """
      {"id": "a", "title": "first", "abstract": "A"}
      {"id": "b", "title": "B", "abstract": "B"}
      {"id": "a", "title": "second", "abstract": "A"}
      """
    let papers = try Corpus.parse(text, format: .jsonLines, duplicateIDs: .keepFirst)
    #expect(papers.map(\.id) == ["a", "b"])
    #expect(papers[0].title == "first")
  }
}
