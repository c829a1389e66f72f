import Foundation
import Testing

@testable import Semblance

/// Index files built straight to disk, V formed as it is written (``TruncatedSVD/ComponentRows``),
/// against the index built in memory and then written. In the serialized kernel suite: each
/// case also runs with the portable kernels forced, and the bytes must match to the bit, which
/// a concurrent switch of kernels would break.
extension SelectionKernelTests {
  /// The fixture papers, each `copies` times under distinct ids; the copies rotate their
  /// abstracts' sentences unless `identicalCopies`, which makes the corpus rank-deficient.
  static func copiedPapers(_ copies: Int, identicalCopies: Bool = false) throws -> [Paper] {
    let papers = try TestSupport.fixturePapers()
    return (0..<copies).flatMap { copy in
      papers.enumerated().map { position, paper in
        let sentences = paper.abstract.split(separator: ".")
        let shift = identicalCopies || sentences.isEmpty ? 0 : copy % sentences.count
        let rotated = (sentences[shift...] + sentences[..<shift]).joined(separator: ".")
        return Paper(id: "\(copy)-\(position)", title: paper.title, abstract: rotated)
      }
    }
  }

  /// How many positions of two float sequences differ in their bits (or in length): as
  /// `mismatches`, but +0 and −0 differ and equal NaNs do not.
  static func bitMismatches(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Int {
    zip(a, b).reduce(abs(a.count - b.count)) { $0 + ($1.0.bitPattern == $1.1.bitPattern ? 0 : 1) }
  }

  static func writeJSONLines(_ papers: [Paper], to url: URL) throws {
    var lines = ""
    for paper in papers {
      let record = ["id": paper.id, "title": paper.title, "abstract": paper.abstract]
      let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
      lines += String(decoding: data, as: UTF8.self) + "\n"
    }
    try lines.write(to: url, atomically: true, encoding: .utf8)
  }

  /// The configurations the byte comparison runs: the randomized solver at the default width
  /// (whole 16-float vectors) and at 20 and 7 (a masked tail; rows that do not divide the
  /// writer's 256 KiB steps), with an IVF, the exact solver (which forms V itself), and a
  /// rank-deficient corpus whose null directions are dropped.
  enum WrittenCase: String, CaseIterable, CustomTestStringConvertible {
    case randomized128, randomized20, randomized7, withIVF, exact, rankDeficient
    var testDescription: String { rawValue }

    var configuration: IndexConfiguration {
      var configuration = IndexConfiguration.default
      configuration.svdAlgorithm = self == .exact ? .automatic : .randomized
      switch self {
      case .randomized20: configuration.dimensions = 20
      case .randomized7: configuration.dimensions = 7
      case .withIVF: configuration.approximateSearch = .always
      default: break
      }
      return configuration
    }

    func papers() throws -> [Paper] {
      try SelectionKernelTests.copiedPapers(3, identicalCopies: self == .rankDeficient)
    }
  }

  @Test(
    "an index built straight to a file has the bytes of one built, then written",
    arguments: WrittenCase.allCases)
  func builtToFile(_ writtenCase: WrittenCase) throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let corpus = directory.appendingPathComponent("corpus.jsonl")
    try Self.writeJSONLines(try writtenCase.papers(), to: corpus)
    let configuration = writtenCase.configuration

    // The portable kernels once per solver path (the rows themselves are compared in both
    // modes by the next test).
    let modes = [.randomized7, .rankDeficient].contains(writtenCase) ? [true, false] : [true]
    for vectorized in modes {
      SelectionKernels.useVectorized(vectorized)
      defer { SelectionKernels.useVectorized(true) }
      let inMemory = directory.appendingPathComponent("memory-\(vectorized).idx")
      let built = try PaperIndex(corpusAt: corpus, configuration: configuration)
      try built.write(to: inMemory)
      let streamed = directory.appendingPathComponent("streamed-\(vectorized).idx")
      let stages = StageLog()
      let opened = try PaperIndex(
        corpusAt: corpus, configuration: configuration, writingTo: streamed
      ) { fraction, stage in stages.record(fraction, stage) }

      let expected = try Data(contentsOf: inMemory), written = try Data(contentsOf: streamed)
      // Compared outside #expect, which would diff megabytes of bytes on a failure.
      let identical = written == expected
      #expect(
        identical,
        "\(written.count) bytes written, \(expected.count) expected, vectorized: \(vectorized)")
      if writtenCase == .rankDeficient {
        #expect(built.svd.singularValues.contains(0), "the corpus should have null directions")
      }
      // The returned index is the file's, whole, and answers as the built one does.
      #expect(opened.svd.components.rows == built.termCount)
      #expect(
        Self.bitMismatches(
          opened.svd.components.storage.buffer, built.svd.components.storage.buffer) == 0)
      #expect((opened.approximateIndex != nil) == (writtenCase == .withIVF))
      let query = built.allIDs[17]
      #expect(
        try opened.related(to: query, count: 5).map(\.id)
          == (try built.related(to: query, count: 5).map(\.id)))
      #expect(
        try opened.search("language models", count: 5)
          == (try built.search("language models", count: 5)))
      let log = stages.entries.map(\.stage)
      #expect(log.first == .analyzing && log.last == .finished)
      #expect(log.firstIndex(of: .writing).map { log[$0...].count == 2 } == true)
      let fractions = stages.entries.map(\.fraction)
      #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 })
    }
  }

  @Test("component rows equal V formed from X's rows, in any byte range", arguments: [128, 20, 7])
  func componentRows(width: Int) throws {
    let x = try Self.sparse(rows: 500, columns: 700, seed: UInt64(width) + 11)
    let e = Self.denseRows(500, floats: width, seed: 5)
    let scales = (0..<width).map { Float($0 + 1) / Float(width) }
    for vectorized in [true, false] {
      SelectionKernels.useVectorized(vectorized)
      defer { SelectionKernels.useVectorized(true) }
      var v = [Float](repeating: 0, count: 700 * width)
      let peaks = e.withUnsafeBufferPointer { e in
        v.withUnsafeMutableBufferPointer { v in
          TruncatedSVD.projectOnTerms(
            fromRowsOf: x, termRanges: [0..<300, 300..<700], e.baseAddress!, width: width,
            scales: scales, into: v.baseAddress!)
        }
      }
      var rows = TruncatedSVD.ComponentRows(
        transpose: x.transposed(), embeddings: Storage(e), width: width, scales: scales)
      // Every row, and the peaks, to the bit.
      var formed = [Float](repeating: .nan, count: 700 * width)
      formed.withUnsafeMutableBufferPointer { rows.fill(0..<700, into: $0.baseAddress!) }
      #expect(Self.bitMismatches(formed, v) == 0, "vectorized: \(vectorized)")
      for tasks in [1, 3] {
        let found = rows.columnPeaks(tasks: tasks)
        #expect(found.magnitude == peaks.magnitude && found.negative == peaks.negative)
      }
      // Signs: 0 drops a column to +0, −1 negates it.
      rows.signs = (0..<width).map { [Float(1), -1, 0][$0 % 3] }
      let signed = rows.signs!
      var flipped = [Float](repeating: .nan, count: 700 * width)
      flipped.withUnsafeMutableBufferPointer { rows.fill(0..<700, into: $0.baseAddress!) }
      let expectedSigned = v.indices.map { index -> Float in
        let sign = signed[index % width]
        return sign == 0 ? 0 : v[index] * sign
      }
      #expect(Self.bitMismatches(flipped, expectedSigned) == 0)
      // Byte ranges that start and end inside rows, as the writer's chunks may.
      let image = flipped.withUnsafeBytes { Array($0) }
      let rowBytes = width * 4
      var generator = SeededGenerator(seed: UInt64(width))
      var ranges = [0..<image.count, 1..<2, rowBytes - 1..<rowBytes + 1, 3..<3 * rowBytes + 5]
      for _ in 0..<40 {
        let a = Int(generator.next() % UInt64(image.count))
        let b = Int(generator.next() % UInt64(image.count))
        ranges.append(min(a, b)..<max(a, b) + 1)
      }
      for range in ranges {
        var bytes = [UInt8](repeating: 0xA5, count: range.count + 8)
        bytes.withUnsafeMutableBytes { rows.fillBytes(range, into: $0.baseAddress! + 4) }
        #expect(bytes[4..<(4 + range.count)].elementsEqual(image[range]), "range \(range)")
        #expect(bytes[..<4].allSatisfy { $0 == 0xA5 } && bytes.suffix(4).allSatisfy { $0 == 0xA5 })
      }
    }
  }

  @Test("building straight to a file in a missing directory fails and leaves nothing")
  func builtToMissingDirectory() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let corpus = directory.appendingPathComponent("corpus.jsonl")
    try Self.writeJSONLines(try Self.copiedPapers(1), to: corpus)
    let destination = directory.appendingPathComponent("missing/papers.idx")
    #expect(throws: IndexFileError.self) {
      _ = try PaperIndex(corpusAt: corpus, writingTo: destination)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["corpus.jsonl"])
  }
}
