import Foundation

extension PaperIndex {
  /// Builds the IVF index of `embeddings` with the configuration's seed, and its `nprobe`
  /// when it sets one.
  ///
  /// Otherwise `nprobe` is calibrated twice on the same sampled papers, each query against
  /// its exact search (``IVFNeighborIndex/calibrationSample(_:queries:seed:depth:isEligible:)``):
  /// - on LSA alone, as ``IVFNeighborIndex`` calibrates itself: the smallest `nprobe` whose
  ///   recall@10 reaches the target with 95% confidence;
  /// - then, with a hybrid ranking (α < 1), on the index's own ranking: from that `nprobe`
  ///   up, the smallest whose re-ranked top 10 (``rerank(_:lsaQuery:count:alpha:feedback:embeddings:tfidfScore:)``
  ///   of the IVF's candidates) reach the target against the re-ranked top 10 of the exact
  ///   candidates. The re-ranking draws its results from 100 candidates, deeper than LSA's
  ///   top 10, where the IVF misses more: at 300,000 papers the LSA-calibrated `nprobe`
  ///   (11) left `neighbors` agreeing with `--exact` on 0.923 of each paper's top 10.
  ///
  /// Both use one exact search of the sample, 100 deep.
  static func buildApproximateIndex(
    _ embeddings: DenseMatrix, tfidf: SparseMatrix, configuration: IndexConfiguration
  ) throws -> IVFNeighborIndex {
    let seed = configuration.seed
    if let nprobe = configuration.nprobe {
      return try IVFNeighborIndex(
        embeddings, configuration: IVFNeighborIndex.Configuration(nprobe: nprobe, seed: seed))
    }
    // Lists first, calibrated below.
    let ivf = try IVFNeighborIndex(
      embeddings, configuration: IVFNeighborIndex.Configuration(nprobe: 1, seed: seed))
    let defaults = IVFNeighborIndex.Configuration()
    let alpha = configuration.alpha
    let isEligible = tfidf.nonEmptyRowFilter
    let k = IVFNeighborIndex.calibrationDepth
    let depth = alpha < 1 ? candidateCount(for: k) : k
    guard
      let sample = ivf.calibrationSample(
        embeddings, queries: defaults.calibrationQueries, seed: seed, depth: depth,
        isEligible: isEligible)
    else { return ivf.with(nprobe: 1, calibratedRecall: 1) }
    // Both calibrations search the sample through one ladder, `depth` deep: each list a
    // query probes at the largest `nprobe` tried is scanned once for it.
    var ladder = IVFNeighborIndex.ProbeLadder(
      ivf, rows: sample.rows, in: embeddings, count: depth, isEligible: isEligible)
    let (lsaProbes, lsaEstimate) = IVFNeighborIndex.smallestProbes(
      listCount: ivf.listCount, targetRecall: defaults.targetRecall
    ) { IVFNeighborIndex.sampledRecall(sample, ladder: &ladder, nprobe: $0) }
    guard alpha < 1 else { return ivf.with(nprobe: lsaProbes, calibratedRecall: lsaEstimate.mean) }

    // The ranking's top 10 of each sampled query from the given candidates, on every core.
    // Successive nprobe values mostly give a query the same candidates, and the re-ranking
    // depends on nothing else: each query keeps the rankings of the candidate lists it has
    // had, and an identical list (positions and scores) reuses its ranking. Lists that differ
    // still share most candidates, and each query keeps the TF-IDF cosines it has computed
    // (a sparse row merge each, most of the re-ranking's time at 300,000 papers).
    let d = embeddings.columns
    var known = [[(candidates: [Neighbor], ranking: [Int])]](
      repeating: [], count: sample.rows.count)
    var cosines = [[Int: Float]](repeating: [:], count: sample.rows.count)
    func ranked(_ lists: [[Neighbor]]) -> [[Int]] {
      var results = [[Int]](repeating: [], count: sample.rows.count)
      results.withUnsafeMutableBufferPointer { results in
        known.withUnsafeMutableBufferPointer { known in
          cosines.withUnsafeMutableBufferPointer { cosines in
            let shared = UnsafeSendable((results, known, cosines))
            let tasks = min(processorCount, max(1, sample.rows.count / 64))
            parallelForEach(chunks: tasks) { task in
              let (results, known, cosines) = shared.value
              for query in chunkRange(task, of: tasks, count: sample.rows.count) {
                let row = sample.rows[query]
                guard !lists[query].isEmpty else { continue }
                if let seen = known[query].first(where: { $0.candidates == lists[query] }) {
                  results[query] = seen.ranking
                  continue
                }
                let ranking = rerank(
                  lists[query], lsaQuery: embeddings.baseAddress + row * d,
                  count: min(k, lists[query].count), alpha: alpha, feedback: configuration.feedback,
                  embeddings: embeddings,
                  tfidfScore: { candidate in
                    if let cosine = cosines[query][candidate] { return cosine }
                    let cosine = tfidf.rowDot(row, candidate)
                    cosines[query][candidate] = cosine
                    return cosine
                  }
                ).map(\.position)
                results[query] = ranking
                known[query].append((lists[query], ranking))
              }
            }
          }
        }
      }
      return results
    }
    let truth = ranked(sample.candidates).map(Set.init)
    let (nprobe, estimate) = IVFNeighborIndex.smallestProbes(
      from: lsaProbes, listCount: ivf.listCount, targetRecall: defaults.targetRecall
    ) { nprobe in
      IVFNeighborIndex.recallEstimate(
        expected: truth, found: ranked(ladder.neighbors(nprobe: nprobe)))
    }
    return ivf.with(nprobe: nprobe, calibratedRecall: estimate.mean)
  }

  /// The `count` best papers by LSA cosine for a query vector, never `excluding` nor a
  /// paper without terms: from the IVF index when there is one, unless `exact`.
  func lsaCandidates(
    _ query: [Float], count: Int, excluding: Int?, exact: Bool
  ) -> [Neighbor] {
    let eligible: (Int) -> Bool = { !isEmptyRow($0) }
    if !exact, let approximateIndex {
      return query.withUnsafeBufferPointer {
        approximateIndex.search(
          $0.baseAddress!, count: count, excluding: excluding, nprobe: nil, isEligible: eligible)
      }
    }
    return ExactNeighborIndex(embeddings).search(
      query, count: count, excluding: excluding, isEligible: eligible)
  }

  /// The `count` best other papers of every paper by LSA cosine (none for a paper without
  /// terms, and never one as a neighbour): from the IVF index when there is one, unless `exact`.
  /// Lists are best first, or in no particular order (the same every time) when `ordered` is
  /// false, for callers that rank them again.
  func lsaNeighbors(count: Int, exact: Bool, ordered: Bool = true) -> [[Neighbor]] {
    // Without empty papers every row is eligible: no closure call per accepted candidate.
    let eligible = tfidf.nonEmptyRowFilter
    let lists =
      if !exact, let approximateIndex {
        approximateIndex.neighbors(
          ofRows: 0..<self.count, in: embeddings, count: count, nprobe: nil,
          excluding: { $0 }, isEligible: eligible, ordered: ordered)
      } else {
        ExactNeighborIndex(embeddings).neighbors(
          ofRows: 0..<self.count, count: count, isEligible: eligible, ordered: ordered)
      }
    return lists.enumerated().map { isEmptyRow($0.offset) ? [] : $0.element }
  }
}

// MARK: - Index file sections

extension PaperIndex {
  /// Section tags of the IVF index (see Docs/FileFormat.md).
  enum ApproximateSection {
    /// JSON: lists, nprobe, calibrated recall.
    static let metadata: IndexFileTag = "IVFM"
    /// Centroids, `lists × d` Float32.
    static let centroids: IndexFileTag = "IVFC"
    /// List offsets, `lists + 1` Int64.
    static let offsets: IndexFileTag = "IVFO"
    /// Original row of every stored vector, in list order, `n` Int32.
    static let rowIDs: IndexFileTag = "IVFR"
    /// The embeddings permuted into list order, `n × d` Float32.
    static let vectors: IndexFileTag = "IVFV"

    static let all = [metadata, centroids, offsets, rowIDs, vectors]
  }

  /// The small JSON section of the IVF index.
  struct ApproximateIndexMetadata: Codable {
    var lists: Int
    var nprobe: Int
    var calibratedRecall: Double?
  }

  /// Adds the IVF sections, when the index has an IVF.
  func appendApproximateIndex(to writer: inout IndexFileWriter) throws {
    guard let ivf = approximateIndex else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let metadata = ApproximateIndexMetadata(
      lists: ivf.listCount, nprobe: ivf.nprobe, calibratedRecall: ivf.calibratedRecall)
    writer.append(ApproximateSection.metadata, bytes: Array(try encoder.encode(metadata)))
    writer.append(ApproximateSection.centroids, ivf.centroids.storage)
    writer.append(ApproximateSection.offsets, ivf.listOffsets)
    writer.append(ApproximateSection.rowIDs, ivf.rowIDs)
    writer.append(ApproximateSection.vectors, ivf.listVectors.storage)
  }

  /// The IVF index of a file, memory-mapped, or nil when the file has none.
  ///
  /// - Throws: `IndexFileError.corrupt` when only some IVF sections are present or they do
  ///   not form an index of `papers` vectors of `dimensions` values.
  static func readApproximateIndex(
    from file: IndexFileReader, papers n: Int, dimensions d: Int
  ) throws -> IVFNeighborIndex? {
    let present = ApproximateSection.all.filter { file.contains($0) }
    if present.isEmpty { return nil }
    func corrupt(_ reason: String) -> IndexFileError {
      .corrupt(file: file.path, reason: "its IVF index is inconsistent: \(reason)")
    }
    guard present.count == ApproximateSection.all.count else {
      let missing = ApproximateSection.all.filter { !file.contains($0) }
      throw corrupt("section(s) \(missing.map(\.description).joined(separator: ", ")) are missing")
    }
    let metadata: ApproximateIndexMetadata
    do {
      metadata = try JSONDecoder().decode(
        ApproximateIndexMetadata.self, from: Data(try file.bytes(ApproximateSection.metadata)))
    } catch let error as IndexFileError {
      throw error
    } catch {
      throw corrupt("its metadata is not valid (\(error))")
    }
    let lists = metadata.lists
    guard lists >= 1, lists <= n else { throw corrupt("it has \(lists) lists for \(n) papers") }
    let centroids = try file.storage(ApproximateSection.centroids, as: Float.self)
    let vectors = try file.storage(ApproximateSection.vectors, as: Float.self)
    guard centroids.count == lists * d else {
      throw corrupt("it has \(centroids.count) centroid values, expected \(lists) × \(d)")
    }
    guard vectors.count == n * d else {
      throw corrupt("it has \(vectors.count) vector values, expected \(n) × \(d)")
    }
    do {
      return try IVFNeighborIndex(
        centroids: DenseMatrix(rows: lists, columns: d, storage: centroids),
        listOffsets: try file.storage(ApproximateSection.offsets, as: Int64.self),
        rowIDs: try file.storage(ApproximateSection.rowIDs, as: Int32.self),
        listVectors: DenseMatrix(rows: n, columns: d, storage: vectors),
        nprobe: metadata.nprobe, calibratedRecall: metadata.calibratedRecall)
    } catch let error as IVFNeighborIndex.StructureError {
      throw corrupt(error.description)
    }
  }
}
