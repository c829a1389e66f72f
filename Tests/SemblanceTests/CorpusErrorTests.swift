import Foundation
import Testing

@testable import Semblance

/// One bad input and the error it must produce, as a ``CorpusTestSupport/signature(_:)``.
struct BadCorpus: Sendable, CustomTestStringConvertible {
  var name: String
  var format: CorpusFormat
  var text: String
  var expected: String

  var testDescription: String { "\(format.rawValue): \(name)" }
}

@Suite("Corpus errors")
struct CorpusErrorTests {
  typealias Support = CorpusTestSupport

  static let good = #"{"id": "1", "title": "T", "abstract": "A"}"#
  static let words = Array(repeating: "word", count: 20).joined(separator: " ")

  static let badInputs: [BadCorpus] = [
    // JSON Lines
    BadCorpus(name: "missing comma", format: .jsonLines,
              text: good + "\n\n" + #"{"id": "2", "title": "t" "abstract": "a"}"#, expected: "malformed@3"),
    BadCorpus(name: "array line", format: .jsonLines, text: good + "\n[1, 2]\n", expected: "malformed@2"),
    BadCorpus(name: "string line", format: .jsonLines, text: #""text""#, expected: "malformed@1"),
    BadCorpus(name: "trailing garbage", format: .jsonLines, text: good + " x\n", expected: "malformed@1"),
    BadCorpus(name: "two objects on a line", format: .jsonLines, text: good + good, expected: "malformed@1"),
    BadCorpus(name: "unclosed object", format: .jsonLines, text: good + "\n" + #"{"id": "2""#, expected: "malformed@2"),
    BadCorpus(name: "unclosed string", format: .jsonLines, text: #"{"id": "2}"# + "\n" + good, expected: "malformed@1"),
    BadCorpus(name: "lone high surrogate", format: .jsonLines,
              text: #"{"id": "1", "title": "\ud800x", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "high surrogate then BMP escape", format: .jsonLines,
              text: #"{"id": "1", "title": "\ud800\u0041", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "lone low surrogate", format: .jsonLines,
              text: good + "\n" + #"{"id": "2", "title": "\udc00", "abstract": "A"}"#, expected: "malformed@2"),
    BadCorpus(name: "lone surrogate in metadata", format: .jsonLines,
              text: #"{"id": "1", "title": "T", "abstract": "A", "m": ["\ud83d"]}"#, expected: "malformed@1"),
    BadCorpus(name: "bad escape", format: .jsonLines,
              text: #"{"id": "1", "title": "\x", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "bad hex digit", format: .jsonLines,
              text: #"{"id": "1", "title": "\u12G4", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "raw tab in string", format: .jsonLines,
              text: "{\"id\": \"1\", \"title\": \"a\tb\", \"abstract\": \"A\"}", expected: "malformed@1"),
    BadCorpus(name: "bad number", format: .jsonLines,
              text: #"{"id": 01, "title": "T", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "bad literal", format: .jsonLines,
              text: #"{"id": "1", "title": "T", "abstract": "A", "x": tru}"#, expected: "malformed@1"),
    BadCorpus(name: "trailing comma", format: .jsonLines,
              text: #"{"id": "1", "title": "T", "abstract": "A",}"#, expected: "malformed@1"),
    BadCorpus(name: "unquoted key", format: .jsonLines,
              text: #"{id: "1", "title": "T", "abstract": "A"}"#, expected: "malformed@1"),
    BadCorpus(name: "nesting too deep", format: .jsonLines,
              text: #"{"id": "1", "title": "T", "abstract": "A", "x": "# + String(repeating: "[", count: 300)
                + String(repeating: "]", count: 300) + "}", expected: "malformed@1"),
    BadCorpus(name: "missing abstract", format: .jsonLines,
              text: good + "\n" + #"{"id": "2", "title": "T"}"#, expected: "missing:abstract@2"),
    BadCorpus(name: "null title", format: .jsonLines,
              text: #"{"id": "2", "title": null, "abstract": "A"}"#, expected: "missing:title@1"),
    BadCorpus(name: "boolean id", format: .jsonLines,
              text: #"{"id": true, "title": "T", "abstract": "A"}"#, expected: "missing:id@1"),
    BadCorpus(name: "object abstract", format: .jsonLines,
              text: #"{"id": "1", "title": "T", "abstract": {"text": "A"}}"#, expected: "missing:abstract@1"),
    BadCorpus(name: "blank id", format: .jsonLines,
              text: good + "\n" + #"{"id": " \t ", "title": "T", "abstract": "A"}"#.replacingOccurrences(of: "\t", with: "\\t"),
              expected: "missing:id@2"),
    BadCorpus(name: "duplicate id", format: .jsonLines,
              text: good + "\n\n" + good, expected: "duplicate:1@3/1"),
    BadCorpus(name: "nothing", format: .jsonLines, text: "", expected: "empty"),
    BadCorpus(name: "blank lines only", format: .jsonLines, text: "\n  \n\t\n", expected: "empty"),

    // JSON arrays: errors inside a record name the line where it starts.
    BadCorpus(name: "error inside a multi-line record", format: .json,
              text: "[\n" + good + ",\n\n{\"id\": \"2\",\n \"title\": \"T\",\n \"abstract\" \"A\"\n}]",
              expected: "malformed@4"),
    BadCorpus(name: "missing field of a multi-line record", format: .json,
              text: "[" + good + ",\n{\n\"id\": \"2\",\n \"title\": \"T\"\n}\n]", expected: "missing:abstract@2"),
    BadCorpus(name: "missing comma between records", format: .json,
              text: "[" + good + "\n\n" + good + "]", expected: "malformed@3"),
    BadCorpus(name: "not an array", format: .json, text: good, expected: "malformed@1"),
    BadCorpus(name: "element not an object", format: .json, text: "[\n" + good + ",\n 1]", expected: "malformed@3"),
    BadCorpus(name: "unclosed array", format: .json, text: "[\n" + good + ",\n", expected: "malformed@3"),
    BadCorpus(name: "unclosed record", format: .json, text: "[\n" + good + ",\n{\"id\": \"2\",\n", expected: "malformed@3"),
    BadCorpus(name: "text after the array", format: .json, text: "[" + good + "]\n\n]", expected: "malformed@3"),
    BadCorpus(name: "duplicate id", format: .json,
              text: "[\n" + good + ",\n" + good + "\n]", expected: "duplicate:1@3/2"),
    BadCorpus(name: "empty array", format: .json, text: " [ \n ] \n", expected: "empty"),
    BadCorpus(name: "nothing", format: .json, text: "  \n", expected: "empty"),

    // CSV and TSV: errors name the line where the record starts.
    BadCorpus(name: "too few fields", format: .csv, text: "id,title,abstract\n1,T,A\n2,T\n", expected: "malformed@3"),
    BadCorpus(name: "too many fields", format: .tsv, text: "id\ttitle\tabstract\n1\tT\tA\tB\n", expected: "malformed@2"),
    BadCorpus(name: "wrong count after a multi-line field", format: .csv,
              text: "id,title,abstract\n1,T,\"A\n\nB\"\n\n2,T\n", expected: "malformed@6"),
    BadCorpus(name: "unterminated quote", format: .csv,
              text: "id,title,abstract\n1,T,A\n2,T,\"A\nB\n", expected: "malformed@3"),
    BadCorpus(name: "text after a closing quote", format: .csv,
              text: "id,title,abstract\n1,\"T\"x,A\n", expected: "malformed@2"),
    BadCorpus(name: "missing abstract column", format: .csv, text: "id,title\n1,T\n", expected: "missing:abstract@1"),
    BadCorpus(name: "missing id column", format: .tsv, text: "\n\ntitle\tabstract\nT\tA\n", expected: "missing:id@3"),
    BadCorpus(name: "repeated column", format: .csv, text: "id,title,abstract,id\n1,T,A,2\n", expected: "malformed@1"),
    BadCorpus(name: "empty id", format: .csv, text: "id,title,abstract\n1,T,A\n  ,T,A\n", expected: "missing:id@3"),
    BadCorpus(name: "duplicate id", format: .csv,
              text: "id,title,abstract\r\n7,\"T\r\nU\",A\r\n7,T,A\r\n", expected: "duplicate:7@4/2"),
    BadCorpus(name: "header only", format: .csv, text: "id,title,abstract\n", expected: "empty"),
    BadCorpus(name: "nothing", format: .tsv, text: "", expected: "empty"),

    // Papers-page text.
    BadCorpus(name: "two-line title", format: .text,
              text: "Header\n\nTitle\n\n\(words)\n\nTitle line one\nline two\n\n\(words)\n", expected: "malformed@7"),
    BadCorpus(name: "title without abstract", format: .text,
              text: "Title\n\n\(words)\n\n\n\nLast title\n", expected: "malformed@7"),
    BadCorpus(name: "header only", format: .text, text: "new\n\nSubscribe\n\nMar 11\n", expected: "empty"),
    BadCorpus(name: "nothing", format: .text, text: "", expected: "empty"),
  ]

  @Test("Each bad input gives its error and line", arguments: badInputs)
  func badInput(_ input: BadCorpus) {
    #expect(Support.parseError(input.text, format: input.format) == input.expected)
  }

  @Test("The same errors and lines when the input arrives in tiny chunks", arguments: [1, 2, 3, 7])
  func badInputInChunks(chunkSize: Int) {
    for input in Self.badInputs {
      #expect(
        Support.parseError(input.text, format: input.format, chunkSize: chunkSize) == input.expected,
        "\(input.testDescription)")
    }
  }

  // MARK: - Invalid UTF-8

  /// Bytes that are not UTF-8: a stray continuation byte, an impossible byte, an overlong
  /// slash, an encoded surrogate, a value above U+10FFFF and a truncated sequence.
  static let invalidSequences: [[UInt8]] = [
    [0x80], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82, 0x41],
  ]

  @Test("Invalid UTF-8 names the line of the bad bytes", arguments: CorpusFormat.allCases)
  func invalidUTF8(format: CorpusFormat) throws {
    for bad in Self.invalidSequences {
      let bytes: [UInt8]
      var line = 3
      switch format {
      case .jsonLines:
        bytes = Array((Self.good + "\n\n{\"id\": \"2\", \"title\": \"").utf8) + bad
          + Array("\", \"abstract\": \"A\"}\n".utf8)
      case .json:
        bytes = Array(("[" + Self.good + ",\n{\"id\": \"2\",\n\"title\": \"").utf8) + bad
          + Array("\", \"abstract\": \"A\"}]".utf8)
      case .csv:
        // The record starts at line 3, but the bad bytes are inside its quoted field on line 4.
        bytes = Array("id,title,abstract\n1,T,A\n2,\"T\n".utf8) + bad + Array("\",A\n".utf8)
        line = 4
      case .tsv:
        bytes = Array("id\ttitle\tabstract\n\n1\tT\t".utf8) + bad + Array("\n".utf8)
      case .text:
        bytes = Array("Title\n\n".utf8) + bad + Array(" \(Self.words)\n".utf8)
      }
      #expect(try Support.readError(bytes, format: format) == "invalidUTF8@\(line)", "bytes \(bad)")
    }
  }

  @Test("A sequence cut off by the end of the file is invalid")
  func truncatedAtEnd() throws {
    let bytes = Array((Self.good + "\n").utf8) + [0xE2, 0x82]
    #expect(try Support.readError(bytes, format: .jsonLines) == "invalidUTF8@2")
    let bom: [UInt8] = [0xEF, 0xBB]
    #expect(try Support.readError(bom, format: .jsonLines) == "invalidUTF8@1")
  }

  @Test("Errors before the invalid bytes are reported first")
  func errorOrder() throws {
    let bytes = Array(("{\"id\": 1}\n" + Self.good + "\n").utf8) + [0xFF]
    #expect(try Support.readError(bytes, format: .jsonLines) == "missing:title@1")
  }

  // MARK: - Files

  @Test("A file that does not exist is unreadable, with the system's reason")
  func missingFile() {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("semblance-missing-\(UUID().uuidString).jsonl")
    #expect(throws: CorpusError.unreadable(file: url.path, reason: "No such file or directory")) {
      try Corpus.read(contentsOf: url)
    }
  }

  @Test("A directory is unreadable")
  func directory() throws {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("semblance-dir-\(UUID().uuidString).txt")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(throws: CorpusError.unreadable(file: url.path, reason: "Is a directory")) {
      try Corpus.read(contentsOf: url)
    }
  }

  @Test("An unknown extension asks for a format")
  func unknownFormat() throws {
    try Support.withTemporaryFile("x", extension: "dat") { url in
      #expect(throws: CorpusError.unknownFormat(file: url.path)) {
        try Corpus.read(contentsOf: url)
      }
      let error = CorpusError.unknownFormat(file: url.path)
      #expect(error.description.contains("pass a format"))
    }
  }

  @Test("Errors name the source given to parse")
  func sourceName() {
    #expect(throws: CorpusError.empty(file: "pasted.jsonl")) {
      try Corpus.parse("", format: .jsonLines, source: "pasted.jsonl")
    }
    #expect(throws: CorpusError.duplicateID(file: "<memory>", line: 2, id: "1", firstLine: 1)) {
      try Corpus.parse(Self.good + "\n" + Self.good, format: .jsonLines)
    }
  }

  @Test("Descriptions are one sentence naming the file and line")
  func descriptions() {
    let errors: [CorpusError] = [
      .unreadable(file: "a.txt", reason: "No such file or directory"),
      .unknownFormat(file: "a.dat"),
      .malformedRecord(file: "a.jsonl", line: 3, reason: "expected ',' or '}' after a value, not '\"' (column 27)"),
      .missingField(file: "a.csv", line: 1, field: "abstract"),
      .invalidUTF8(file: "a.json", line: 9),
      .duplicateID(file: "a.jsonl", line: 5, id: "2401.00001", firstLine: 2),
      .empty(file: "a.tsv"),
    ]
    for error in errors {
      let text = error.description
      #expect(text.contains("'a."))
      #expect(text.hasSuffix("."))
      if case .malformedRecord = error { #expect(text.contains("line 3")) }
      if case .duplicateID = error { #expect(text.contains("line 5") && text.contains("line 2")) }
    }
  }
}
