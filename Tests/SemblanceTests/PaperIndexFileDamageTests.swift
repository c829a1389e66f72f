import Foundation
import Testing

@testable import Semblance

/// DESIGN §7 and §9 through `PaperIndex(contentsOf:)`, on a real (small) index file: wrong
/// magic, future version, truncation at every byte, and a flipped byte in every section.
/// (IndexFileTests checks the container alone, on synthetic sections.)
@Suite("Bad input: damaged index files")
struct PaperIndexFileDamageTests {
  /// A small real index, so that every byte can be tried: six short papers, unigrams without
  /// stop words (a short metadata section), 3 dimensions. About 3 KB.
  static let original: [UInt8] = {
    let texts = [
      ("Sparse attention", "Transformers read long documents with sparse attention patterns."),
      ("Dense retrieval", "Dual encoders retrieve passages for open domain question answering."),
      ("Diffusion forecasting", "Diffusion models forecast multivariate time series with attention."),
      ("State space forecasting", "Linear state space layers forecast electricity demand quickly."),
      ("Molecule graphs", "Message passing networks predict molecule properties from graphs."),
      ("Contrastive molecules", "Contrastive pretraining aligns molecule graphs and strings."),
    ]
    let papers = texts.enumerated().map { Paper(id: "p\($0)", title: $1.0, abstract: $1.1) }
    var configuration = IndexConfiguration.scikitLearnCompatible
    configuration.dimensions = 3
    let index = try! PaperIndex(papers, configuration: configuration)
    let directory = try! TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("small.idx")
    try! index.write(to: url)
    return try! [UInt8](Data(contentsOf: url))
  }()

  /// The sections of the original file: tag and byte range.
  static let sections: [(tag: IndexFileTag, range: Range<Int>)] = original.withUnsafeBytes { bytes in
    let header = IndexFileHeader(decoding: bytes)
    return (0..<Int(header.sectionCount)).map {
      let entry = IndexFileSectionEntry(decoding: bytes, at: IndexFileLayout.headerSize + 32 * $0)
      return (entry.tag, Int(entry.offset)..<Int(entry.offset + entry.length))
    }
  }

  /// What loading some bytes did.
  enum Outcome: Equatable {
    case loaded
    case failed(IndexFileError)
  }

  /// Writes `bytes` to `url` and loads it. Anything thrown but an `IndexFileError` is a bug;
  /// an index that loads must answer queries (whatever numbers it holds) without crashing.
  static func load(_ bytes: [UInt8], at url: URL, verify: Bool) throws -> Outcome {
    try Data(bytes).write(to: url)
    do {
      let index = try PaperIndex(contentsOf: url, verify: verify)
      _ = try index.related(toPosition: 0, count: 3)
      _ = try index.search("sparse attention for molecule graphs", count: 3)
      return .loaded
    } catch let error as IndexFileError {
      return .failed(error)
    }
  }

  @Test("the small index loads and has every section the loader needs")
  func sanity() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("copy.idx")
      let outcome = try Self.load(Self.original, at: url, verify: true)
      #expect(outcome == .loaded)
    }
    let tags = Set(Self.sections.map(\.tag.description))
    #expect(
      tags == ["META", "IDSB", "IDSO", "TTLB", "TTLO", "VOCB", "VOCO", "IDF_", "COMP", "SVAL",
        "EMBD", "CSRO", "CSRI", "CSRV"])
  }

  @Test("a wrong magic is not an index", arguments: 0..<8)
  func wrongMagic(offset: Int) throws {
    var bytes = Self.original
    bytes[offset] ^= 0x20
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("magic.idx")
      for verify in [true, false] {
        let outcome = try Self.load(bytes, at: url, verify: verify)
        #expect(outcome == .failed(.notAnIndex(file: url.path)))
      }
    }
  }

  @Test("a future version says so, with or without a matching header checksum",
    arguments: [UInt32(2), 7, .max])
  func futureVersion(version: UInt32) throws {
    var bytes = Self.original
    withUnsafeBytes(of: version.littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }
    var resealed = bytes
    let crc = CRC32.checksum(Array(resealed[0..<60]))
    withUnsafeBytes(of: crc.littleEndian) { resealed.replaceSubrange(60..<64, with: $0) }
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("future.idx")
      let expected = Outcome.failed(
        .unsupportedVersion(file: url.path, found: version, supported: 1...1))
      for candidate in [bytes, resealed] {
        for verify in [true, false] {
          let outcome = try Self.load(candidate, at: url, verify: verify)
          #expect(outcome == expected)
        }
      }
    }
  }

  @Test("truncation at every byte is reported as truncation", arguments: [true, false])
  func everyTruncation(verify: Bool) throws {
    let original = Self.original
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("cut.idx")
      for length in 0..<original.count {
        let expected = IndexFileError.truncated(
          file: url.path, expectedBytes: length < 64 ? 64 : original.count, actualBytes: length)
        let outcome = try Self.load(Array(original[0..<length]), at: url, verify: verify)
        if outcome != .failed(expected) {
          Issue.record("cut to \(length) of \(original.count) bytes: \(outcome)")
        }
      }
    }
  }

  @Test("a flipped byte anywhere in a section is a checksum mismatch naming that section",
    arguments: [UInt8(0x01), 0x80, 0xFF])
  func flippedByteVerified(mask: UInt8) throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("flipped.idx")
      for (tag, range) in Self.sections {
        for offset in range {
          var bytes = Self.original
          bytes[offset] ^= mask
          let outcome = try Self.load(bytes, at: url, verify: true)
          let expected = Outcome.failed(.checksumMismatch(file: url.path, section: tag.description))
          if outcome != expected {
            Issue.record("byte \(offset) of '\(tag)' xor \(mask): \(outcome)")
          }
        }
      }
    }
  }

  /// Without verification nothing checks the payload's checksum: the loader's own checks
  /// must reject what would break it (shapes, offsets, sort order, the metadata), and
  /// whatever passes must still answer queries.
  @Test("without verify, a flipped byte in any section loads or fails with a typed error",
    arguments: [UInt8(0x01), 0x80, 0xFF])
  func flippedByteUnverified(mask: UInt8) throws {
    var rejected: [String: Int] = [:]
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("flipped.idx")
      for (tag, range) in Self.sections {
        for offset in range {
          var bytes = Self.original
          bytes[offset] ^= mask
          if case .failed(let error) = try Self.load(bytes, at: url, verify: false) {
            if case .corrupt = error {
              rejected[tag.description, default: 0] += 1
            } else {
              Issue.record("byte \(offset) of '\(tag)' xor \(mask): unexpected \(error)")
            }
          }
        }
      }
    }
    // Structure the loader depends on is always checked.
    for tag in ["IDSO", "TTLO", "VOCO", "CSRO"] {
      #expect(rejected[tag, default: 0] > 0, "flips in \(tag) must be caught: \(rejected)")
    }
  }

  @Test("a flipped byte in the header or the section table is caught, verified or not")
  func flippedHeaderOrTable() throws {
    let tableEnd = IndexFileLayout.tableEnd(sectionCount: Self.sections.count)
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("flipped.idx")
      for offset in 0..<tableEnd {
        var bytes = Self.original
        bytes[offset] ^= 0x10
        for verify in [true, false] {
          let outcome = try Self.load(bytes, at: url, verify: verify)
          #expect(outcome != .loaded, "byte \(offset), verify \(verify)")
        }
      }
    }
  }
}
