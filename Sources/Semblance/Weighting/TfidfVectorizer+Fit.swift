import CSemblanceKernels
import Foundation

extension TfidfVectorizer {
  /// Learns the vocabulary and idf from `papers` and returns the TF-IDF matrix of the same
  /// papers, one row each, in order.
  ///
  /// - Throws: `ConfigurationError` for an invalid configuration, an empty corpus, or when
  ///   pruning leaves no terms.
  /// - Complexity: O(total text length), spread over all cores.
  public static func fit(
    _ papers: [Paper], configuration: Configuration = .init()
  ) throws -> (vectorizer: TfidfVectorizer, matrix: SparseMatrix) {
    var accumulator = try Accumulator(configuration: configuration)
    accumulator.add(papers)
    return try accumulator.finish()
  }

  /// Counts the terms of papers given in batches, then fits the vocabulary and idf and
  /// builds the TF-IDF matrix: ``fit(_:configuration:)`` for a corpus that is never held in
  /// memory as a whole. Only the counts are kept, not the text.
  ///
  /// Each core owns a lane that lasts over all batches: its own word table, the word counts
  /// of the papers it was given (each batch is cut into one contiguous run per lane) and
  /// their kept tokens as word ids. Nothing is shared while counting. `finish` merges the
  /// lanes' words, and then counts the bigrams from the stored tokens under the merged word
  /// ids, each core a partition of them (see ``CountedPairs``).
  struct Accumulator {
    let configuration: Configuration
    let analyzer: Analyzer
    private var lanes: [Lane]
    /// Runs of consecutive papers in corpus order: which lane counted them and how many.
    private var runs: [(lane: Int, count: Int)] = []
    private(set) var paperCount = 0

    /// - Parameter laneCount: how many lanes count at once (default: one per core); tests
    ///   choose others to check that the result does not depend on it.
    init(configuration: Configuration, laneCount: Int = processorCount) throws {
      try configuration.validate()
      self.configuration = configuration
      analyzer = try Analyzer(configuration.analyzer)
      lanes = (0..<max(1, laneCount)).map { _ in Lane() }
    }

    /// The counts of one lane. A class, so that concurrent tasks can each fill their own.
    final class Lane {
      var words = TermTable()
      var wordFrequency: [Int32] = []
      var wordTotal: [Int64] = []
      /// Per paper: the end of its word counts in `entries`.
      var wordEnds: [Int] = []
      /// Per paper: the end of its part of `entries`: its word counts, then room for one
      /// entry per bigram occurrence, which its TF-IDF row never outgrows.
      var documentEnds: [Int] = []
      /// Every paper's words and counts (``entry(term:count:)``), and room, paper after paper.
      var entries = MappedArray<UInt64>()
      /// Every paper's kept tokens as word ids, segment after segment, each segment closed
      /// by the complement of its weight (a negative number). Only segments with a bigram.
      var tokens = MappedArray<Int32>()
      /// Per paper: the end of its tokens in `tokens`.
      var tokenEnds: [Int] = []
      /// The distinct bigrams among `tokens`, by the hashes of their words' bytes.
      var pairs = DistinctCounter()

      deinit {
        entries.release()
        tokens.release()
      }
    }

    /// A paper's count of a term: the term in the upper half (a word id, or a pair's global
    /// number), the count in the lower.
    @inline(__always)
    static func entry(term: Int32, count: Int32) -> UInt64 {
      UInt64(UInt32(bitPattern: term)) << 32 | UInt64(UInt32(bitPattern: count))
    }

    /// How many tokens ahead counting asks for a word's or a bigram's slot.
    static let prefetchDistance = 16

    /// Counts the terms of `papers`, which follow the papers added before.
    mutating func add(_ papers: [Paper]) {
      guard !papers.isEmpty else { return }
      let laneCount = min(max(1, papers.count / 64), lanes.count)
      for lane in 0..<laneCount {
        runs.append((lane, chunkRange(lane, of: laneCount, count: papers.count).count))
      }
      let lanes = UnsafeSendable(self.lanes)
      let analyzer = self.analyzer
      let countsWords = configuration.analyzer.ngramRange.contains(1)
      let countsPairs = configuration.analyzer.ngramRange.contains(2)
      let countsTotals = configuration.maxTerms != nil
      parallelForEach(chunks: laneCount) { laneIndex in
        Accumulator.count(
          papers[chunkRange(laneIndex, of: laneCount, count: papers.count)],
          into: lanes.value[laneIndex], analyzer: analyzer,
          countsWords: countsWords, countsPairs: countsPairs, countsTotals: countsTotals)
      }
      paperCount += papers.count
    }

    /// A word's counting state in one lane: the last paper that used it, its count there,
    /// and the papers that used it. One record, so that a token touches one cache line.
    private struct WordState {
      var mark: Int32 = -1
      var count: Int32 = 0
      var documents: Int32 = 0
      var unused: Int32 = 0
    }

    /// - Parameter countsTotals: whether to sum each word's count over the corpus, which only
    ///   a `maxTerms` cap needs.
    private static func count(
      _ papers: ArraySlice<Paper>, into lane: Lane, analyzer: Analyzer,
      countsWords: Bool, countsPairs: Bool, countsTotals: Bool
    ) {
      var workspace = Analyzer.Workspace()
      // The lane's tables as local variables for the whole run, put back at the end: every
      // access to a class's stored property is checked for exclusivity at run time, which
      // cost more than the hashing on the per-token path.
      var words = lane.words
      var wordEnds = lane.wordEnds, documentEnds = lane.documentEnds, entries = lane.entries
      var tokenIDs = lane.tokens, tokenEnds = lane.tokenEnds
      var distinctPairs = lane.pairs
      let pairRegisters = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 12)
      distinctPairs.withRegisters { pairRegisters.initialize(from: $0, count: 1 << 12) }
      lane.words = TermTable(minimumCapacity: 0)
      (lane.wordEnds, lane.documentEnds, lane.tokenEnds) = ([], [], [])
      (lane.entries, lane.tokens) = (MappedArray(), MappedArray())
      // Scratch per word and per token as pointers: arrays captured by the per-segment
      // closure cost reference counting and a uniqueness check in every segment. The
      // per-word scratch runs ahead of the table by up to a segment's tokens.
      var scratchWords = max(words.count, 1024), scratchTokens = 1024
      var wordStates = UnsafeMutablePointer<WordState>.allocate(capacity: scratchWords)
      wordStates.initialize(repeating: WordState(), count: scratchWords)
      for (id, documents) in lane.wordFrequency.enumerated() { wordStates[id].documents = documents }
      var wordTotals = UnsafeMutablePointer<Int64>.allocate(capacity: scratchWords)
      wordTotals.initialize(repeating: 0, count: scratchWords)
      lane.wordTotal.withUnsafeBufferPointer {
        if let base = $0.baseAddress { wordTotals.update(from: base, count: $0.count) }
      }
      defer {
        lane.wordFrequency = (0..<words.count).map { wordStates[$0].documents }
        lane.wordTotal = Array(UnsafeBufferPointer(start: wordTotals, count: words.count))
        wordStates.deallocate()
        wordTotals.deallocate()
        lane.words = words
        (lane.wordEnds, lane.documentEnds, lane.tokenEnds) = (wordEnds, documentEnds, tokenEnds)
        (lane.entries, lane.tokens) = (entries, tokenIDs)
        distinctPairs.withRegisters { $0.update(from: pairRegisters, count: 1 << 12) }
        pairRegisters.deallocate()
        lane.pairs = distinctPairs
      }
      // A paper's token ids (one segment at a time) and the words it touched.
      var ids = UnsafeMutablePointer<Int32>.allocate(capacity: scratchTokens)
      var touchedWords = UnsafeMutablePointer<Int32>.allocate(capacity: scratchTokens)
      defer {
        for scratch in [ids, touchedWords] { scratch.deallocate() }
      }
      for paper in papers {
        // The paper's mark in `wordStates`: unique within the lane.
        let mark = Int32(truncatingIfNeeded: documentEnds.count)
        var touchedWordCount = 0, pairOccurrences = 0
        analyzer.forEachTokenizedSegment(
          title: paper.title, abstract: paper.abstract, in: &workspace
        ) { bytes, segmentTokens, weight in
          let tokens = segmentTokens.count
          // The token scratch grows here, keeping the paper's touched words.
          if touchedWordCount + tokens > scratchTokens {
            let grown = max(touchedWordCount + tokens, scratchTokens * 2)
            ids = Accumulator.grown(ids, from: 0, to: grown, filling: 0)
            touchedWords = Accumulator.grown(
              touchedWords, from: touchedWordCount, to: grown, filling: 0)
            scratchTokens = grown
          }
          // Room for every token to be a new word, so that the loop below writes through
          // pointers, with no growth per token.
          let needed = words.count + tokens
          if scratchWords < needed {
            let grown = max(needed, scratchWords * 2)
            wordStates = Accumulator.grown(
              wordStates, from: scratchWords, to: grown, filling: WordState())
            wordTotals = Accumulator.grown(wordTotals, from: scratchWords, to: grown, filling: 0)
            scratchWords = grown
          }
          // As for pairs below: ask for each word's slot a fixed distance ahead.
          let distance = Accumulator.prefetchDistance
          for token in segmentTokens.prefix(distance) { words.touch(hash: token.hash) }
          for (index, token) in segmentTokens.enumerated() {
            if index + distance < tokens {
              words.touch(hash: segmentTokens[index + distance].hash)
            }
            let id = words.insert(
              UnsafeBufferPointer(
                start: bytes + Int(token.start), count: Int(token.end &- token.start)),
              hash: token.hash)
            ids[index] = id
            if countsWords {
              // Without a branch: whether a word is new to the paper is a coin toss for
              // the branch predictor. `fresh` is -1 for a word not yet in the paper, else 0.
              let state = wordStates + Int(id)
              let other = state.pointee.mark ^ mark
              let fresh = (other | (0 &- other)) >> 31
              state.pointee.mark = mark
              state.pointee.documents &+= fresh & 1
              state.pointee.count = (state.pointee.count & ~fresh).saturatingAdd(weight)
              touchedWords[touchedWordCount] = id
              touchedWordCount &+= Int(fresh & 1)
            }
          }
          // The segment's tokens, for counting its bigrams once the words are merged.
          guard countsPairs && tokens > 1 else { return }
          tokenIDs.append(contentsOf: UnsafeBufferPointer(start: ids, count: tokens))
          tokenIDs.append(~weight)
          pairOccurrences += tokens - 1
          var previous = segmentTokens[0].hash
          for token in segmentTokens.dropFirst() {
            DistinctCounter.add(
              hash: (previous &* 0x9E37_79B9_7F4A_7C15 ^ token.hash) &* 0xBF58_476D_1CE4_E5B9,
              to: pairRegisters)
            previous = token.hash
          }
        }
        entries.reserve(additional: touchedWordCount)
        for id in UnsafeBufferPointer(start: touchedWords, count: touchedWordCount) {
          let count = wordStates[Int(id)].count
          entries.append(entry(term: id, count: count))
          if countsTotals { wordTotals[Int(id)] += Int64(count) }
        }
        wordEnds.append(entries.count)
        entries.extend(by: pairOccurrences)
        documentEnds.append(entries.count)
        tokenEnds.append(tokenIDs.count)
      }
    }

    /// `old`'s first `count` elements moved to a new block of `capacity`, the rest `value`;
    /// `old` is freed.
    private static func grown<T>(
      _ old: UnsafeMutablePointer<T>, from count: Int, to capacity: Int, filling value: T
    ) -> UnsafeMutablePointer<T> {
      let new = UnsafeMutablePointer<T>.allocate(capacity: capacity)
      new.moveInitialize(from: old, count: count)
      (new + count).initialize(repeating: value, count: capacity - count)
      old.deallocate()
      return new
    }

    /// Each word's position in the byte order of all of them, on all cores. Each word carries
    /// its first eight bytes as a big-endian integer (zero-padded), so nearly every comparison
    /// is one integer compare, and only words whose prefixes tie are compared in the arena.
    static func byteOrderRanks(of words: TermTable) -> [UInt32] {
      var keyed = (0..<words.count).map { id in
        (prefix: words.withKey(id) { TermTable.bigEndianPrefix($0) }, id: id)
      }
      keyed.parallelSort { a, b in
        a.prefix != b.prefix ? a.prefix < b.prefix : compareBytes(words, a.id, b.id) < 0
      }
      var rank = [UInt32](repeating: 0, count: words.count)
      for (position, entry) in keyed.enumerated() { rank[entry.id] = UInt32(position) }
      return rank
    }

    /// Prunes and sorts the vocabulary, computes idf and weights every counted paper. It
    /// frees the lanes' counts as it goes, so it is called once.
    ///
    /// - Throws: `ConfigurationError.emptyCorpus` when no paper was added, `.noTerms` or
    ///   `.noTermsLeft` when pruning leaves nothing.
    func finish() throws -> (vectorizer: TfidfVectorizer, matrix: SparseMatrix) {
      // The bigram tables, the stored tokens and the pairs' entries, freed before the matrix
      // is built, give their pages to it (see ``PageReserve``): on a virtual machine whose
      // host reclaims freed memory, fresh pages cost far more than recycled ones. Only a
      // matrix whose arrays are mapped can take them (``Storage/mappedMinimum``); below that,
      // keeping the freed pages until the matrix is built would only raise the peak (by 54 MiB
      // at 34,000 papers). The lanes' entries and the room after them bound the matrix.
      let entries = lanes.reduce(0) { $0 + $1.entries.count }
      guard entries * MemoryLayout<Int32>.stride >= Storage<Int32>.mappedMinimum else {
        return try weighAll()
      }
      // The reserve keeps no more than the matrix's column indices and values can take: the
      // counting tables freed before it come to more (780 MB against at most 528 MB at
      // 300,000 papers), and the rest would stay resident until the matrix is built, at the
      // build's peak.
      let matrixBound =
        2 * AnonymousMemory.roundedUp(entries * MemoryLayout<Int32>.stride, to: PageReserve.granule)
      return try PageReserve.shared.withReuse(keepingAtMost: matrixBound) { try weighAll() }
    }

    /// ``finish()``'s work.
    private func weighAll() throws -> (vectorizer: TfidfVectorizer, matrix: SparseMatrix) {
      let n = paperCount
      guard n > 0 else { throw ConfigurationError.emptyCorpus }
      let countsWords = configuration.analyzer.ngramRange.contains(1)
      let countsPairs = configuration.analyzer.ngramRange.contains(2)
      let lanes = self.lanes

      // 1. Merge the lanes' words by bytes, in lane order (deterministic). The first lane's
      //    table is the start: its words would get their own ids again, in the same order.
      var words = lanes[0].words
      var wordFrequency = lanes[0].wordFrequency, wordTotal = lanes[0].wordTotal
      var wordMaps: [[Int32]] = [(0..<Int32(words.count)).map { $0 }]
      lanes[0].words = TermTable(minimumCapacity: 0)
      (lanes[0].wordFrequency, lanes[0].wordTotal) = ([], [])
      for lane in lanes.dropFirst() {
        var wordMap = [Int32](repeating: 0, count: lane.words.count)
        for local in 0..<lane.words.count {
          let id = lane.words.withKey(local) { words.insert($0) }
          if Int(id) == wordFrequency.count {
            wordFrequency.append(0)
            wordTotal.append(0)
          }
          wordFrequency[Int(id)] += lane.wordFrequency[local]
          wordTotal[Int(id)] += lane.wordTotal[local]
          wordMap[local] = id
        }
        wordMaps.append(wordMap)
        lane.words = TermTable(minimumCapacity: 0)
        (lane.wordFrequency, lane.wordTotal) = ([], [])
      }
      guard words.count > 0 else { throw ConfigurationError.noTerms(papers: n) }

      // 2. Count the bigrams under global word ids, and 3. prune words and pairs by document
      //    frequency. A candidate is a word id, or the index of a kept pair plus
      //    `words.count`.
      let minimum = configuration.effectiveMinDocumentFrequency(papers: n)
      let maximumCount = configuration.maxDocumentFrequency * Double(n)
      func keeps(_ df: Int32) -> Bool { Int(df) >= minimum && Double(df) <= maximumCount }
      var pairs = CountedPairs()
      if countsPairs {
        var distinctPairs = DistinctCounter()
        for lane in lanes { distinctPairs.merge(lane.pairs) }
        Self.globalizeTokens(of: lanes, wordMaps: wordMaps)
        pairs = Self.countPairs(
          lanes: lanes, runs: runs, paperCount: n,
          partitionCount: lanes.count, expectedPairs: distinctPairs.estimate, keeping: keeps)
        for lane in lanes {
          lane.tokens.release()
          lane.tokenEnds = []
        }
        if configuration.maxTerms != nil { Self.addTotals(to: &pairs) }
      }
      defer { pairs.release() }  // on the paths that throw; releasing twice does nothing
      var candidates: [Int] = []
      if countsWords { candidates += (0..<words.count).filter { keeps(wordFrequency[$0]) } }
      if countsPairs { candidates += pairs.kept.indices.lazy.map { $0 + words.count } }
      guard !candidates.isEmpty else {
        throw ConfigurationError.noTermsLeft(
          papers: n, minDocumentFrequency: minimum,
          maxDocumentFrequency: configuration.maxDocumentFrequency)
      }
      func pairKey(_ kept: Int) -> UInt64 { pairs.kept[kept].key }
      func frequency(_ candidate: Int) -> Int32 {
        candidate < words.count
          ? wordFrequency[candidate] : pairs.kept[candidate - words.count].documents
      }
      func total(_ candidate: Int) -> Int64 {
        candidate < words.count ? wordTotal[candidate] : pairs.kept[candidate - words.count].total
      }

      // 4. Cap the vocabulary by corpus frequency and sort it in byte order, without
      //    spelling a term until its column is known. A bigram is spelled "first second",
      //    and no token byte is at or below the space (tokens are word characters: ASCII
      //    bytes from 0x30, and bytes of multi-byte scalars from 0x80). So spellings compare
      //    as (first word's rank, the word alone before the bigrams it starts, second word's
      //    rank), ranks being the words' byte order: one integer per term.
      let rank = Self.byteOrderRanks(of: words)
      func sortKey(_ candidate: Int) -> UInt64 {
        if candidate < words.count { return UInt64(rank[candidate]) << 32 }
        let key = pairKey(candidate - words.count)
        return UInt64(rank[Int(key >> 32)]) << 32 | UInt64(rank[Int(key & 0xFFFF_FFFF)] + 1)
      }
      var keyed = candidates.map { (key: sortKey($0), candidate: $0) }
      if let maxTerms = configuration.maxTerms, keyed.count > maxTerms {
        keyed.parallelSort { a, b in
          let ta = total(a.candidate), tb = total(b.candidate)
          return ta != tb ? ta > tb : a.key < b.key
        }
        keyed.removeSubrange(maxTerms...)
      }
      keyed.radixSort { $0.key }
      let order = keyed.map(\.candidate)  // the kept candidates, by column
      keyed = []
      candidates = []
      var wordColumn = [Int32](repeating: -1, count: words.count)
      var pairColumn = [Int32](repeating: -1, count: pairs.numberCount)
      // Each column's words: the first word's id in the upper half, and the second's id + 1
      // in the lower (0 for a single word).
      var spellings = [UInt64](repeating: 0, count: order.count)
      // Millions of scattered writes and key reads at scale: on all cores (each candidate is
      // in `order` once, so the writes never overlap).
      let columnTasks = order.count < 1 << 16 ? 1 : processorCount * 4
      wordColumn.withUnsafeMutableBufferPointer { wordColumn in
        pairColumn.withUnsafeMutableBufferPointer { pairColumn in
          spellings.withUnsafeMutableBufferPointer { spellings in
            let shared = UnsafeSendable((wordColumn, pairColumn, spellings))
            parallelForEach(chunks: columnTasks) { task in
              let (wordColumn, pairColumn, spellings) = shared.value
              for column in chunkRange(task, of: columnTasks, count: order.count) {
                let candidate = order[column]
                if candidate < words.count {
                  wordColumn[candidate] = Int32(column)
                  spellings[column] = UInt64(candidate) << 32
                } else {
                  pairColumn[Int(pairs.kept[candidate - words.count].number)] = Int32(column)
                  spellings[column] = pairKey(candidate - words.count) + 1
                }
              }
            }
          }
        }
      }
      let terms = words.arena.withUnsafeBufferPointer { arena in
        words.starts.withUnsafeBufferPointer { starts in
          spellings.withUnsafeBufferPointer { spellings in
            StringTable(count: spellings.count) { column in
              let first = Int(spellings[column] >> 32)
              let second = Int(spellings[column] & 0xFFFF_FFFF) - 1
              let length = starts[first + 1] - starts[first]
              return second < 0 ? length : length + 1 + starts[second + 1] - starts[second]
            } write: { column, target in
              let first = Int(spellings[column] >> 32)
              let second = Int(spellings[column] & 0xFFFF_FFFF) - 1
              let length = starts[first + 1] - starts[first]
              target.update(from: arena.baseAddress! + starts[first], count: length)
              guard second >= 0 else { return }
              target[length] = 0x20
              (target + length + 1).update(
                from: arena.baseAddress! + starts[second], count: starts[second + 1] - starts[second])
            }
          }
        }
      }
      spellings = []
      // Millions of terms at scale, each a logarithm and a scattered read: on all cores.
      let idf = Storage<Float>(count: order.count) { idf in
        let tasks = order.count < 1 << 16 ? 1 : processorCount * 4
        let idf = UnsafeSendable(idf)
        parallelForEach(chunks: tasks) { task in
          for column in chunkRange(task, of: tasks, count: order.count) {
            let df = Double(frequency(order[column]))
            idf.value[column] = Float(log((1 + Double(n)) / (1 + df)) + 1)
          }
        }
      }

      // 5. Weight and normalise every row, in parallel over the lanes, and put the rows back
      //    in corpus order.
      let sublinearTF = configuration.sublinearTF
      // First every pair entry's number becomes its column (-1: pruned), in one pass over
      // each partition on all cores. The column map is far larger than the caches; a long
      // run of entries lets each lookup be asked for well ahead, where in the rows below a
      // paper's few dozen pairs left most lookups waiting on memory.
      pairColumn.withUnsafeBufferPointer { pairColumns in
        for partition in pairs.partitions {
          let entries = partition.entries.buffer
          let tasks = entries.count < 1 << 16 ? 1 : processorCount * 4
          parallelForEach(chunks: tasks) { task in
            let range = chunkRange(task, of: tasks, count: entries.count)
            let ahead = 32
            for position in range {
              if position + ahead < range.upperBound {
                let pair = Int(entries[position + ahead] >> 32)
                semblance_prefetch(pairColumns.baseAddress! + pair)
              }
              let entry = entries[position]
              entries[position] = RowBlock.entry(
                column: pairColumns[Int(entry >> 32)], count: Int32(truncatingIfNeeded: entry))
            }
          }
        }
      }
      // Each lane's papers' places in corpus order, a run at a time: their bigrams are
      // listed by corpus position in every partition.
      var laneRuns = [[Range<Int>]](repeating: [], count: lanes.count)
      var corpusPosition = 0
      for run in runs {
        laneRuns[run.lane].append(corpusPosition..<corpusPosition + run.count)
        corpusPosition += run.count
      }
      // Each lane's rows are written over its own counts and the room after them, which they
      // never outrun (pruning only drops entries), so weighting takes no new memory.
      let partitions = pairs.partitions
      let rowLengths = parallelMap(chunks: lanes.count) { laneIndex -> [Int] in
        let lane = lanes[laneIndex]
        let wordColumns = wordMaps[laneIndex].map { wordColumn[Int($0)] }
        let entries = lane.entries
        var lengths: [Int] = []
        lengths.reserveCapacity(lane.documentEnds.count)
        var local = 0, written = 0
        // A row's entries, its values and their weights in double precision: room for all
        // of the paper's counts, which the row never outgrows (pruning only drops entries).
        let rowScratch = ScratchBuffer<UInt64>(), valueScratch = ScratchBuffer<Float>()
        let weightScratch = ScratchBuffer<Double>()
        // The column map is larger than the caches: ask for the column of the word a few
        // positions ahead while this one is weighed.
        let ahead = 16
        wordColumns.withUnsafeBufferPointer { wordColumns in
          for paper in laneRuns[laneIndex].joined() {
            let start = local == 0 ? 0 : lane.documentEnds[local - 1]
            let wordEnd = lane.wordEnds[local]
            var needed = wordEnd - start
            for partition in partitions {
              needed += partition.ends[paper + 1] - partition.ends[paper]
            }
            rowScratch.reserve(needed)
            valueScratch.reserve(needed)
            weightScratch.reserve(needed)
            let (row, values, weights) = (rowScratch.base, valueScratch.base, weightScratch.base)
            // Every entry is written, and a pruned one (column -1) is not counted, without a
            // branch: over half the pairs are pruned, in no order a predictor could learn.
            var length = 0
            for position in start..<wordEnd {
              if position + ahead < wordEnd {
                let word = Int(entries[position + ahead] >> 32)
                semblance_prefetch(wordColumns.baseAddress! + word)
              }
              let entry = entries[position]
              let column = wordColumns[Int(entry >> 32)]
              row[length] = RowBlock.entry(column: column, count: Int32(truncatingIfNeeded: entry))
              length &+= 1 &+ Int(column >> 31)
            }
            // The pairs, with their columns already (see above).
            for partition in partitions {
              let pairEntries = partition.entries
              for position in partition.ends[paper]..<partition.ends[paper + 1] {
                let entry = pairEntries[position]
                row[length] = entry
                length &+= 1 &+ Int(Int32(truncatingIfNeeded: entry >> 32) >> 31)
              }
            }
            RowBlock.weigh(
              UnsafeMutableBufferPointer(start: row, count: length), idf: idf.buffer,
              sublinearTF: sublinearTF, values: values, scratch: weights)
            for index in 0..<length {
              entries[written] = row[index] & 0xFFFF_FFFF_0000_0000 | UInt64(values[index].bitPattern)
              written += 1
            }
            lengths.append(length)
            local += 1
          }
        }
        return lengths
      }
      // The pairs' entries are free before the matrix is built, which can take their pages
      // (see `finish()`); only the rows' pages are handed on when the counts are released.
      pairs.release()
      for (lane, lengths) in zip(lanes, rowLengths) {
        lane.entries.truncate(to: lengths.reduce(0, +))
      }
      let matrix = RowBlock.assemble(
        lanes: zip(lanes, rowLengths).map { (entries: $0.entries.buffer, rowLengths: $1) },
        runs: runs, columns: order.count)
      for lane in lanes {
        lane.entries.release()
        (lane.wordEnds, lane.documentEnds) = ([], [])
      }
      let vectorizer = TfidfVectorizer(
        configuration: configuration, analyzer: analyzer,
        vocabulary: Vocabulary(terms: terms), idf: idf)
      return (vectorizer, matrix)
    }
  }

  /// The TF-IDF rows of `papers` under the fitted vocabulary and idf. Terms outside the
  /// vocabulary are ignored.
  /// - Complexity: O(total text length), spread over all cores.
  public func transform(_ papers: [Paper]) -> SparseMatrix {
    let n = papers.count
    let table = vocabulary.lookup(forPapers: n)
    let chunkCount = min(max(1, n / 32), processorCount * 8)
    let blocks = parallelMap(chunks: chunkCount) { chunk -> RowBlock in
      var workspace = Analyzer.Workspace()
      var block = RowBlock()
      let range = chunkRange(chunk, of: chunkCount, count: n)
      // A dense count per term pays off over many papers; a query or a handful of papers
      // must not clear a vocabulary-sized array (11 million terms at a million papers).
      let dense = range.count * 64 >= vocabulary.count
      var docCount = [Int32](repeating: 0, count: dense ? vocabulary.count : 0)
      var sparseCount: [Int32: Int32] = [:]
      var touched: [Int32] = []
      var entries: [UInt64] = []
      for paperIndex in range {
        let paper = papers[paperIndex]
        analyzer.analyze(title: paper.title, abstract: paper.abstract, in: &workspace) {
          term, weight in
          let column = table.find(term)
          guard column >= 0 else { return }
          if dense {
            if docCount[Int(column)] == 0 { touched.append(column) }
            docCount[Int(column)] = docCount[Int(column)].saturatingAdd(weight)
          } else {
            let previous = sparseCount[column]
            if previous == nil { touched.append(column) }
            sparseCount[column] = (previous ?? 0).saturatingAdd(weight)
          }
        }
        entries.removeAll(keepingCapacity: true)
        for column in touched {
          if dense {
            entries.append(RowBlock.entry(column: column, count: docCount[Int(column)]))
            docCount[Int(column)] = 0
          } else {
            entries.append(RowBlock.entry(column: column, count: sparseCount[column]!))
          }
        }
        sparseCount.removeAll(keepingCapacity: true)
        touched.removeAll(keepingCapacity: true)
        block.append(entries: &entries, idf: idfStorage.buffer, sublinearTF: configuration.sublinearTF)
      }
      return block
    }
    return RowBlock.assemble(blocks, columns: termCount)
  }

  /// The l2-normalised TF-IDF vector of free text, as sorted column indices and values.
  /// Title weighting does not apply; the text is treated as an abstract.
  public func vector(forText text: String) -> (indices: [Int32], values: [Float]) {
    let row = transform([Paper(id: "", title: "", abstract: text)])
    return row.row(0)
  }
}

/// Rows of a CSR matrix under construction (`transform`'s), and the weighting and assembly
/// that the fit's lanes share with it.
struct RowBlock {
  var rowLengths: [Int] = []
  var indices: [Int32] = []
  var values: [Float] = []

  /// Scratch for ``weigh(_:idf:sublinearTF:values:scratch:)``.
  private var weights: [Double] = []
  private var rowValues: [Float] = []

  /// `1 + ln(count)` for the counts most terms have, computed once: two logarithms per
  /// non-zero were a fifth of weighting's time.
  private static let sublinearTable: [Double] = (0..<1_024).map { $0 == 0 ? 0 : 1 + log(Double($0)) }

  @inline(__always)
  private static func termFrequency(_ count: Int32, sublinear: Bool) -> Double {
    guard sublinear else { return Double(count) }
    return Int(count) < sublinearTable.count ? sublinearTable[Int(count)] : 1 + log(Double(count))
  }

  /// How many entries ahead weighting asks for an idf.
  private static let idfLookahead = 8

  /// A row entry for ``append(entries:idf:sublinearTF:)``: the column in the upper half,
  /// the count in the lower, so that sorting entries as integers sorts them by column.
  @inline(__always)
  static func entry(column: Int32, count: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: column)) << 32 | UInt64(UInt32(bitPattern: count))
  }

  /// Appends one row from unsorted entries (``entry(column:count:)``, one per column):
  /// sorts, weights, normalises.
  mutating func append(
    entries: inout [UInt64], idf: UnsafeBufferPointer<Float>, sublinearTF: Bool
  ) {
    let count = entries.count
    if weights.count < count {
      weights = [Double](repeating: 0, count: count)
      rowValues = [Float](repeating: 0, count: count)
    }
    if count > 0 {
      entries.withUnsafeMutableBufferPointer { entries in
        weights.withUnsafeMutableBufferPointer { weights in
          rowValues.withUnsafeMutableBufferPointer { values in
            RowBlock.weigh(
              entries, idf: idf, sublinearTF: sublinearTF, values: values.baseAddress!,
              scratch: weights.baseAddress!)
          }
        }
      }
    }
    for entry in entries { indices.append(Int32(truncatingIfNeeded: entry >> 32)) }
    values.append(contentsOf: rowValues[..<count])
    rowLengths.append(count)
  }

  /// Sorts one row's entries (``entry(column:count:)``, one per column) by column, and sets
  /// `values` to their weights, normalised to unit length; `scratch` keeps the weights in
  /// double precision between the passes. Both have room for every entry.
  static func weigh(
    _ entries: UnsafeMutableBufferPointer<UInt64>, idf: UnsafeBufferPointer<Float>,
    sublinearTF: Bool, values: UnsafeMutablePointer<Float>,
    scratch weights: UnsafeMutablePointer<Double>
  ) {
    guard let base = entries.baseAddress, entries.count > 0 else { return }
    let count = entries.count
    // The entries' columns are distinct: sorting by the upper halves alone orders them.
    semblance_sort_row_entries(base, count)
    var squares: Double = 0
    // The idf array is far larger than the caches and columns come in sorted, scattered
    // order: ask for an entry's idf a few entries ahead.
    let idfBase = idf.baseAddress!
    for position in 0..<min(RowBlock.idfLookahead, count) {
      semblance_prefetch(idfBase + Int(base[position] >> 32))
    }
    for position in 0..<count {
      if position + RowBlock.idfLookahead < count {
        semblance_prefetch(idfBase + Int(base[position + RowBlock.idfLookahead] >> 32))
      }
      let entry = base[position]
      let column = Int(truncatingIfNeeded: entry >> 32)
      let termCount = Int32(truncatingIfNeeded: entry)
      let weight = RowBlock.termFrequency(termCount, sublinear: sublinearTF) * Double(idfBase[column])
      squares += weight * weight
      weights[position] = weight
    }
    let scale = squares > 0 ? 1 / squares.squareRoot() : 1
    for position in 0..<count { values[position] = Float(weights[position] * scale) }
  }

  /// Interleaves lanes of rows into one matrix. Each lane's rows lie one after another in
  /// `entries`, each entry a column in the upper half and the bits of a `Float` value in the
  /// lower, and `rowLengths` gives their lengths; `runs` lists, in output order, which lane
  /// the next rows come from and how many.
  static func assemble(
    lanes: [(entries: UnsafeMutableBufferPointer<UInt64>, rowLengths: [Int])],
    runs: [(lane: Int, count: Int)], columns: Int
  ) -> SparseMatrix {
    var rowStarts = lanes.map { lane in
      var starts = [Int](repeating: 0, count: lane.rowLengths.count + 1)
      for (row, length) in lane.rowLengths.enumerated() { starts[row + 1] = starts[row] + length }
      return starts
    }
    let rows = runs.reduce(0) { $0 + $1.count }
    let nnz = rowStarts.reduce(0) { $0 + $1.last! }
    var nextRow = [Int](repeating: 0, count: lanes.count)
    var offsetsArray = [Int64](repeating: 0, count: rows + 1)
    let indices = Storage<Int32>(count: nnz) { _ in }
    let values = Storage<Float>(count: nnz) { _ in }
    let targetIndices = UnsafeMutablePointer(mutating: indices.buffer.baseAddress!)
    let targetValues = UnsafeMutablePointer(mutating: values.buffer.baseAddress!)
    // Where each run's entries go, then the copies on all cores, in pieces of at most a
    // million entries: the target may be fresh memory, whose page faults every core can take.
    var copies: [(lane: Int, from: Int, to: Int, position: Int)] = []
    var row = 0
    var position = 0
    for (lane, count) in runs {
      let first = nextRow[lane]
      let from = rowStarts[lane][first], to = rowStarts[lane][first + count]
      var start = from
      while start < to {
        let end = min(start + (1 << 20), to)
        copies.append((lane, start, end, position + start - from))
        start = end
      }
      for local in first..<(first + count) {
        position += rowStarts[lane][local + 1] - rowStarts[lane][local]
        row += 1
        offsetsArray[row] = Int64(position)
      }
      nextRow[lane] += count
    }
    let targets = UnsafeSendable((targetIndices, targetValues, lanes.map(\.entries)))
    parallelForEach(chunks: copies.count) { index in
      let (lane, from, to, position) = copies[index]
      let (targetIndices, targetValues, sources) = targets.value
      let source = sources[lane]
      for offset in 0..<(to - from) {
        let entry = source[from + offset]
        targetIndices[position + offset] = Int32(truncatingIfNeeded: entry >> 32)
        targetValues[position + offset] = Float(bitPattern: UInt32(truncatingIfNeeded: entry))
      }
    }
    rowStarts = []
    return try! SparseMatrix(
      rows: rows, columns: columns, offsets: Storage(offsetsArray), indices: indices,
      values: values, validate: false)
  }

  /// Concatenates blocks of rows into one matrix.
  static func assemble(_ blocks: [RowBlock], columns: Int) -> SparseMatrix {
    let rows = blocks.reduce(0) { $0 + $1.rowLengths.count }
    let nnz = blocks.reduce(0) { $0 + $1.indices.count }
    let offsets = Storage<Int64>(count: rows + 1) { offsets in
      var row = 0
      var total: Int64 = 0
      offsets[0] = 0
      for block in blocks {
        for length in block.rowLengths {
          total += Int64(length)
          row += 1
          offsets[row] = total
        }
      }
    }
    let indices = Storage<Int32>(count: nnz) { target in
      var position = 0
      for block in blocks {
        _ = UnsafeMutableBufferPointer(rebasing: target[position...])
          .initialize(fromContentsOf: block.indices)
        position += block.indices.count
      }
    }
    let values = Storage<Float>(count: nnz) { target in
      var position = 0
      for block in blocks {
        _ = UnsafeMutableBufferPointer(rebasing: target[position...])
          .initialize(fromContentsOf: block.values)
        position += block.values.count
      }
    }
    return try! SparseMatrix(
      rows: rows, columns: columns, offsets: offsets, indices: indices, values: values,
      validate: false)
  }
}

extension Int32 {
  /// `self + other` for positive counts, stopping at `Int32.max` instead of trapping: a term
  /// repeated millions of times, or a huge title weight, must not end the process.
  @inline(__always)
  func saturatingAdd(_ other: Int32) -> Int32 {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? .max : sum
  }
}

/// Compares two keys of a term table by their UTF-8 bytes (shorter prefix first).
func compareBytes(_ table: TermTable, _ a: Int, _ b: Int) -> Int {
  table.withKey(a) { ka in
    table.withKey(b) { kb in
      let common = min(ka.count, kb.count)
      if common > 0 {
        let order = memcmp(ka.baseAddress!, kb.baseAddress!, common)
        if order != 0 { return Int(order) }
      }
      return ka.count - kb.count
    }
  }
}

