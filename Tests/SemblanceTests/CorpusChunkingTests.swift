import Foundation
import Testing

@testable import Semblance

/// The streaming reader must give the same papers however the input is split into chunks.
@Suite("Corpus chunking")
struct CorpusChunkingTests {
  typealias Support = CorpusTestSupport

  static let words = Array(repeating: "wörd", count: 20).joined(separator: " ")

  static let inputs: [(CorpusFormat, String)] = [
    (.jsonLines, #"""
      {"id": "1", "title": "Ünïcödé  title 😀", "abstract": "A\u00a0b\ud83d\ude00", "m": [1, {"k": "v"}]}

      {"id": 2, "title": "T", "abstract": "x\ty"}
      """#.replacingOccurrences(of: "\\t", with: "\\\\t")),
    (.json, "\u{FEFF}[\n {\"id\": \"1\",\n  \"title\": \"T é\", \"abstract\": \"A\"},\r\n {\"id\": \"2\", \"title\": \"U\", \"abstract\": \"B\", \"n\": null}\n]\n"),
    (.csv, "id,title,abstract,x\r\n1,\"Quoted, \"\"title\"\"\",\"multi\r\nline é\",\r\n\r\n2,T,A,\"\"\"\"\n3,\"\",\"\",z"),
    (.tsv, "id\ttitle\tabstract\n1\t\"a\tb\"\tc d\n2\tU\t\"\"\n"),
    (.text, "header\n\nTitle é\n\n\(words)\nmore\n\nSecond\n\nshort\r\n"),
  ]

  @Test("Tiny chunks give the same papers as one big chunk", arguments: [1, 2, 3, 4, 5, 13])
  func tinyChunks(chunkSize: Int) throws {
    for (format, text) in Self.inputs {
      let whole = try Corpus.parse(text, format: format)
      #expect(whole.count >= 2, "\(format)")
      #expect(try Corpus.parse(text, format: format, chunkSize: chunkSize) == whole, "\(format)")
    }
  }

  @Test("Bundled corpus with small chunks", arguments: [1, 7, 4096])
  func bundledInChunks(chunkSize: Int) throws {
    let text = try String(contentsOf: Support.bundledCorpus, encoding: .utf8)
    let whole = try Corpus.parse(text, format: .text)
    #expect(whole.count == 81)
    #expect(try Corpus.parse(text, format: .text, chunkSize: chunkSize) == whole)
  }

  @Test("A record far longer than the chunk grows the window")
  func longRecord() throws {
    let abstract = String(repeating: "long ", count: 50_000)
    let text = #"{"id": "1", "title": "T", "abstract": "\#(abstract)"}"# + "\n" + #"{"id": "2", "title": "U", "abstract": "B"}"#
    let papers = try Corpus.parse(text, format: .jsonLines, chunkSize: 64)
    #expect(papers.count == 2)
    #expect(papers[0].abstract.utf8.count == 50_000 * 5 - 1)
  }

  @Test("UTF-8 validation across chunk boundaries")
  func validationAcrossChunks() {
    var bytes: [UInt8] = []
    for scalar in ["a", "é", "€", "😀", "\u{10FFFF}", "\u{7FF}", "\u{800}", "\u{FFFF}", "\u{10000}"] {
      bytes += Array(scalar.utf8)
    }
    for chunk in 1...5 {
      var offset = 0
      var validEnd = 0
      while offset < bytes.count {
        let end = Swift.min(offset + chunk, bytes.count)
        let result = bytes.withUnsafeBufferPointer {
          validateUTF8($0.baseAddress!, from: validEnd, to: end, isFinal: end == bytes.count)
        }
        #expect(result.invalidOffset == nil)
        validEnd = result.validEnd
        offset = end
      }
      #expect(validEnd == bytes.count)
    }
  }
}
