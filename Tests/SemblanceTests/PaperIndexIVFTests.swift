import Foundation
import Testing

@testable import Semblance

/// PaperIndex with an IVF index for its LSA candidates: when it is built, that `exact`
/// bypasses it, and that it survives the index file (and damage to it is caught).
@Suite("PaperIndex with IVF")
struct PaperIndexIVFTests {
  static let papers = try! TestSupport.fixturePapers()

  static func configuration(
    _ approximateSearch: IndexConfiguration.ApproximateSearch, alpha: Float = 0.5,
    nprobe: Int? = nil
  ) -> IndexConfiguration {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 40
    configuration.alpha = alpha
    configuration.approximateSearch = approximateSearch
    configuration.nprobe = nprobe
    return configuration
  }

  /// Pure LSA ranking with one probed list, so that approximate answers visibly differ.
  static let coarse = try! PaperIndex(papers, configuration: configuration(.always, alpha: 1, nprobe: 1))
  static let coarseExact = try! PaperIndex(papers, configuration: configuration(.never, alpha: 1))
  /// The default hybrid ranking with a calibrated IVF.
  static let calibrated = try! PaperIndex(papers, configuration: configuration(.always))

  @Test("an IVF is built above 100,000 papers by default, always or never on request")
  func whenBuilt() throws {
    #expect(IndexConfiguration.ApproximateSearch.automatic.usesIVF(papers: 100_001))
    #expect(!IndexConfiguration.ApproximateSearch.automatic.usesIVF(papers: 100_000))
    #expect(try PaperIndex(Self.papers).approximateIndex == nil)
    #expect(Self.coarseExact.approximateIndex == nil)
    let ivf = try #require(Self.coarse.approximateIndex)
    #expect(ivf.listCount == 36 && ivf.nprobe == 1 && ivf.calibratedRecall == nil)  // round(4·√81)
    let calibrated = try #require(Self.calibrated.approximateIndex)
    #expect(try #require(calibrated.calibratedRecall) >= 0.95)
    var invalid = IndexConfiguration.default
    invalid.nprobe = 0
    #expect(throws: ConfigurationError.self) { try PaperIndex(Self.papers, configuration: invalid) }
  }

  @Test("nprobe is calibrated on the index's own ranking: neighbors agree with exact ones")
  func calibratedOnTheRanking() throws {
    let index = Self.calibrated
    let ivf = try #require(index.approximateIndex)
    // LSA's own calibration on the same vectors and seed is the floor.
    let lsaOnly = try IVFNeighborIndex(index.embeddings, configuration: .init(seed: 0))
    #expect(ivf.nprobe >= lsaOnly.nprobe)
    // Every paper is a calibration query here (81 < 1,000), so the whole graph's recall is
    // the sampled mean, and its lower bound reached the target.
    let graph = try index.neighbors(count: 10)
    let exact = try index.neighbors(count: 10, exact: true)
    var recalls: [Double] = []
    for row in 0..<graph.rows where !exact[row].isEmpty {
      let expected = Set(exact[row].map(\.position))
      recalls.append(
        Double(graph[row].filter { expected.contains($0.position) }.count) / Double(expected.count))
    }
    let mean = recalls.reduce(0, +) / Double(recalls.count)
    #expect(abs(mean - (ivf.calibratedRecall ?? 0)) < 1e-9)
    #expect(mean >= 0.95)
    // One list fewer misses the target on the ranking (or is LSA's floor).
    if ivf.nprobe > lsaOnly.nprobe {
      let fewer = try PaperIndex(
        Self.papers, configuration: Self.configuration(.always, nprobe: ivf.nprobe - 1))
      let fewerGraph = try fewer.neighbors(count: 10)
      var fewerRecalls: [Double] = []
      for row in 0..<graph.rows where !exact[row].isEmpty {
        let expected = Set(exact[row].map(\.position))
        fewerRecalls.append(
          Double(fewerGraph[row].filter { expected.contains($0.position) }.count)
            / Double(expected.count))
      }
      #expect(IVFNeighborIndex.recallEstimate(fewerRecalls).lowerBound < 0.95)
    }
  }

  @Test("exact: true answers as an index without IVF; the default uses the IVF")
  func exactBypassesTheIVF() throws {
    var differs = 0
    for position in 0..<Self.papers.count {
      let exact = try Self.coarseExact.related(toPosition: position, count: 3)
      #expect(try Self.coarse.related(toPosition: position, count: 3, exact: true) == exact)
      if try Self.coarse.related(toPosition: position, count: 3) != exact { differs += 1 }
    }
    #expect(differs > 0, "with nprobe 1 some answers must be approximate")
    for text in ["time series forecasting", "vision language models"] {
      #expect(
        try Self.coarse.search(text, count: 4, exact: true)
          == Self.coarseExact.search(text, count: 4))
    }
    let exactGraph = try Self.coarseExact.neighbors(count: 3)
    let graph = try Self.coarse.neighbors(count: 3, exact: true)
    for row in 0..<graph.rows { #expect(graph[row] == exactGraph[row]) }
  }

  @Test("the neighbor graph through the IVF ranks like related(to:) through it", arguments: [0.5, 1] as [Float])
  func graphMatchesRelated(alpha: Float) throws {
    var papers = Self.papers
    papers.append(Paper(id: "empty", title: "", abstract: "of the"))
    let index = try PaperIndex(papers, configuration: Self.configuration(.always, alpha: alpha, nprobe: 2))
    let graph = try index.neighbors(count: 4)
    for row in 0..<index.count {
      let related = try index.related(toPosition: row, count: 4)
      #expect(graph[row].map(\.position) == related.map(\.position), "row \(row)")
      for (a, b) in zip(graph[row], related) { #expect(abs(a.score - b.score) < 1e-5) }
    }
    #expect(graph[81].isEmpty)
    #expect(!(0..<81).contains { row in graph[row].contains { $0.position == 81 } })
  }

  @Test("probing every list gives the exact answers")
  func everyList() throws {
    let index = try PaperIndex(Self.papers, configuration: Self.configuration(.always, nprobe: 1_000))
    #expect(index.approximateIndex?.nprobe == index.approximateIndex?.listCount)
    let exact = try PaperIndex(Self.papers, configuration: Self.configuration(.never))
    for id in ["1", "18", "57", "81"] {
      #expect(try index.related(to: id, count: 10).map(\.id) == exact.related(to: id, count: 10).map(\.id))
    }
  }

  @Test("write and load keep the IVF and give identical answers", arguments: [true, false])
  func roundTrip(verify: Bool) throws {
    try withTemporaryDirectory { directory in
      for index in [Self.coarse, Self.calibrated] {
        let url = directory.appendingPathComponent("ivf.idx")
        try index.write(to: url)
        let loaded = try PaperIndex(contentsOf: url, verify: verify)
        #expect(loaded.configuration == index.configuration)
        let ivf = try #require(index.approximateIndex)
        let loadedIVF = try #require(loaded.approximateIndex)
        #expect(loadedIVF.nprobe == ivf.nprobe && loadedIVF.calibratedRecall == ivf.calibratedRecall)
        #expect(loadedIVF.centroids.elements == ivf.centroids.elements)
        #expect(loadedIVF.rowIDs.array == ivf.rowIDs.array)
        for position in 0..<index.count {
          #expect(try loaded.related(toPosition: position, count: 5) == index.related(toPosition: position, count: 5))
        }
        #expect(try loaded.search("graph neural networks", count: 5) == index.search("graph neural networks", count: 5))
        let graph = try index.neighbors(count: 3), loadedGraph = try loaded.neighbors(count: 3)
        for row in 0..<graph.rows { #expect(loadedGraph[row] == graph[row]) }
      }
      // An index without IVF writes no IVF section.
      let url = directory.appendingPathComponent("exact.idx")
      try Self.coarseExact.write(to: url)
      let reader = try IndexFileReader(contentsOf: url)
      #expect(!PaperIndex.ApproximateSection.all.contains { reader.contains($0) })
      #expect(try PaperIndex(contentsOf: url).approximateIndex == nil)
    }
  }

  @Test("folding papers in files them in the IVF too")
  func foldIn() throws {
    let more = [
      Paper(id: "new-1", title: "Forecasting time series with transformers", abstract: "We forecast long time series with a transformer model and compare it with recurrent networks."),
      Paper(id: "new-2", title: "Vision language models", abstract: "A large language model aligned with a visual encoder answers questions about images."),
    ]
    let grown = try Self.coarse.adding(more)
    let grownExact = try Self.coarseExact.adding(more)
    let ivf = try #require(grown.approximateIndex)
    #expect(ivf.count == 83 && ivf.nprobe == 1)
    for position in [0, 17, 81, 82] {
      #expect(try grown.related(toPosition: position, count: 3, exact: true) == grownExact.related(toPosition: position, count: 3))
      let approximate = try grown.related(toPosition: position, count: 3)
      #expect(approximate.count == 3 && !approximate.contains { $0.position == position })
    }
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("grown.idx")
      try grown.write(to: url)
      let loaded = try PaperIndex(contentsOf: url)
      #expect(loaded.approximateIndex?.rowIDs.array == ivf.rowIDs.array)
      #expect(try loaded.related(to: "new-1", count: 3) == grown.related(to: "new-1", count: 3))
    }
  }

  /// Damage that keeps every checksum valid (the file is rewritten section by section), so
  /// only the structural checks on load can catch it.
  static let damages: [(String, @Sendable (IndexFileTag, [UInt8]) -> [UInt8]?)] = {
    typealias Section = PaperIndex.ApproximateSection
    func metadata(_ json: String) -> @Sendable (IndexFileTag, [UInt8]) -> [UInt8]? {
      { $0 == Section.metadata ? Array(json.utf8) : $1 }
    }
    return [
      ("row ids repeat a row", { tag, data in
        guard tag == Section.rowIDs else { return data }
        var data = data
        for byte in 0..<4 { data[byte] = data[4 + byte] }
        return data
      }),
      ("a row id is out of range", { tag, data in
        tag == Section.rowIDs ? bytes([Int32.max]) + data.dropFirst(4) : data
      }),
      ("one row id too few", { tag, data in tag == Section.rowIDs ? Array(data.dropLast(4)) : data }),
      ("offsets decrease", { tag, data in
        guard tag == Section.offsets else { return data }
        var offsets = int64s(data)
        offsets.swapAt(3, 10)
        return bytes(offsets)
      }),
      ("offsets end past the rows", { tag, data in
        guard tag == Section.offsets else { return data }
        var offsets = int64s(data)
        offsets[offsets.count - 1] += 1
        return bytes(offsets)
      }),
      ("offsets start below zero", { tag, data in
        guard tag == Section.offsets else { return data }
        var offsets = int64s(data)
        offsets[0] = -1
        return bytes(offsets)
      }),
      ("an offset is missing", { tag, data in tag == Section.offsets ? Array(data.dropLast(8)) : data }),
      ("a centroid value is missing", { tag, data in tag == Section.centroids ? Array(data.dropLast(4)) : data }),
      ("a vector value is missing", { tag, data in tag == Section.vectors ? Array(data.dropLast(4)) : data }),
      ("vectors are not whole floats", { tag, data in tag == Section.vectors ? Array(data.dropLast(1)) : data }),
      ("nprobe is 0", metadata(#"{"lists":36,"nprobe":0}"#)),
      ("nprobe exceeds the lists", metadata(#"{"lists":36,"nprobe":37}"#)),
      ("more lists than papers", metadata(#"{"lists":82,"nprobe":1}"#)),
      ("the list count disagrees with the centroids", metadata(#"{"lists":35,"nprobe":1}"#)),
      ("the recall is not a fraction", metadata(#"{"calibratedRecall":2,"lists":36,"nprobe":1}"#)),
      ("the metadata is not JSON", metadata("lists")),
      ("the vectors are missing", { tag, data in tag == Section.vectors ? nil : data }),
      ("the metadata is missing", { tag, data in tag == Section.metadata ? nil : data }),
      ("the row ids are missing", { tag, data in tag == Section.rowIDs ? nil : data }),
    ]
  }()

  @Test("damaged IVF sections are rejected as corrupt", arguments: 0..<damages.count)
  func damaged(case index: Int) throws {
    let (name, damage) = Self.damages[index]
    try withTemporaryDirectory { directory in
      let original = directory.appendingPathComponent("ivf.idx")
      try Self.coarse.write(to: original)
      let damaged = directory.appendingPathComponent("damaged.idx")
      try rewrite(original, to: damaged, damage)
      for verify in [true, false] {
        do {
          _ = try PaperIndex(contentsOf: damaged, verify: verify)
          Issue.record("\(name): the damaged index loaded")
        } catch IndexFileError.corrupt(let file, let reason) {
          #expect(file == damaged.path)
          #expect(reason.contains("IVF") || reason.contains("section"), "\(name): \(reason)")
        } catch {
          Issue.record("\(name): \(error)")
        }
      }
    }
  }

  @Test("every flipped byte of the list offsets or row ids is rejected or harmless")
  func flippedBytes() throws {
    let ivf = try #require(Self.coarse.approximateIndex)
    let embeddings = Self.coarse.embeddings
    var rejected = 0, harmless = 0
    func check(offsets: [Int64], rowIDs: [Int32]) {
      do {
        let damaged = try IVFNeighborIndex(
          centroids: ivf.centroids, listOffsets: Storage(offsets), rowIDs: Storage(rowIDs),
          listVectors: ivf.listVectors, nprobe: ivf.nprobe, calibratedRecall: nil)
        // A flip that keeps the structure valid must still answer without trapping.
        _ = damaged.search(embeddings.row(0), count: 5, excluding: 0)
        _ = damaged.neighbors(
          ofRows: 0..<embeddings.rows, in: embeddings, count: 2, nprobe: nil, excluding: { $0 },
          isEligible: nil)
        harmless += 1
      } catch {
        rejected += 1
      }
    }
    let offsets = ivf.listOffsets.array, rowIDs = ivf.rowIDs.array
    for byte in 0..<(offsets.count * 8) {
      var damaged = offsets
      damaged.withUnsafeMutableBytes { $0[byte] ^= 0xFF }
      check(offsets: damaged, rowIDs: rowIDs)
    }
    for byte in 0..<(rowIDs.count * 4) {
      var damaged = rowIDs
      damaged.withUnsafeMutableBytes { $0[byte] ^= 0xFF }
      check(offsets: offsets, rowIDs: damaged)
    }
    #expect(rejected + harmless == offsets.count * 8 + rowIDs.count * 4)
    #expect(rejected > harmless)
  }
}

/// Copies an index file section by section through `transform` (nil drops the section),
/// writing fresh checksums.
func rewrite(
  _ source: URL, to destination: URL, _ transform: (IndexFileTag, [UInt8]) -> [UInt8]?
) throws {
  let reader = try IndexFileReader(contentsOf: source)
  var writer = IndexFileWriter()
  for tag in reader.tags {
    if let bytes = transform(tag, Array(try reader.bytes(tag))) {
      writer.append(tag, bytes: bytes)
    }
  }
  try writer.write(to: destination)
}

private func int64s(_ bytes: [UInt8]) -> [Int64] {
  bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
}

private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
