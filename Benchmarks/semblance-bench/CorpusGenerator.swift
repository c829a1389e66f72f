import Foundation
import Semblance

/// A deterministic synthetic corpus of labelled "abstracts": topic mixtures over a shared
/// vocabulary of pseudo-words, with Zipfian word frequencies.
///
/// The model:
/// - A background vocabulary of pseudo-words built from consonant–vowel syllables, shorter
///   words first. The background distribution is Zipfian over it (short words are common),
///   as in natural text.
/// - Topics come in fields of five (like cs.LG, cs.CL, … within cs). Each topic and each
///   field owns a Zipfian distribution over its own random subset of that vocabulary, in its
///   own random order; half of a topic's words come from its field's distribution, so
///   sibling topics are hard to tell apart, and subsets overlap, so some words are ambiguous.
/// - A paper draws a dominant topic (its `label`) and one or two minor topics (often from the
///   same field), with random weights; each content word comes from one of them or from the
///   background.
/// - Between content words go English function words (the, of, we, …) and common academic
///   words (propose, results, …), then commas, full stops and an occasional number, so the
///   analyzer does the work it does on real abstracts.
///
/// - Optionally (`subtopics` > 0), each topic has subtopics, and each subtopic owns a small
///   Zipfian list of two-word phrases, as a line of work has its own
///   named methods and terms ("graph neural network", "Monte Carlo tree search"). A paper
///   belongs to one subtopic of its dominant topic, and some of its content slots hold that
///   subtopic's phrases. The phrases' words come from the field's distribution, so they tell
///   sibling topics apart only as pairs. With `subtopics` = 0 (the default) none of this is drawn, and the
///   output is byte for byte what it was before the option existed.
///
/// Paper `i` depends only on the seed, the topic and subtopic counts and `i`, so a corpus of
/// N papers is a prefix of a corpus of 2N with the same options.
struct CorpusGenerator: Sendable {
  /// Options.
  struct Configuration: Sendable {
    var topics = 40
    var seed: UInt64 = 0
    var vocabularySize = 40_000
    var wordsPerTopic = 1_200
    var topicsPerField = 5
    /// The share of a topic's words drawn from its field's distribution.
    var fieldShare = 0.65
    var titleWords = 8...12
    var abstractWords = 150...250
    /// Subtopics per topic; 0 (the default) gives the corpus without phrases.
    var subtopics = 0
    /// Two-word phrases per subtopic.
    var phrasesPerSubtopic = 40
    /// The chance that a content slot of the abstract holds a subtopic phrase (two words).
    var abstractPhraseShare = 0.05
    /// The chance that a topic-word slot of the title holds a subtopic phrase.
    var titlePhraseShare = 0.15
  }

  let configuration: Configuration
  /// Every pseudo-word's bytes, back to back, and where each starts (count + 1 offsets).
  private let wordBytes: [UInt8]
  private let wordStarts: [Int]
  /// Background: ranks map to vocabulary entries in order.
  private let background: AliasTable
  /// Per topic, then per field: a Zipf table over ranks and the vocabulary entry of each rank.
  private let topicTables: [AliasTable]
  private let topicWords: [[Int32]]
  private let fieldCount: Int
  /// Function and academic words, with their weights' table.
  private let fillerBytes: [[UInt8]]
  private let fillers: AliasTable
  private let topicNames: [[UInt8]]
  /// Per topic × subtopic (topic-major), its phrases as word pairs; empty without subtopics.
  private let phrases: [[(Int32, Int32)]]
  private let phraseTable: AliasTable?

  init(_ configuration: Configuration) {
    precondition(configuration.topics >= 1 && configuration.topicsPerField >= 1)
    self.configuration = configuration
    var random = BenchRandom(seed: configuration.seed ^ 0x5EED_C0DE_0000_0001)

    // Pseudo-words: CVCV, CVCVC, CVCVCV, CVCVCVC, … in that order; each length group shuffled.
    let consonants = Array("bdfgklmnprstvz".utf8)
    let vowels = Array("aeiou".utf8)
    let finals = Array("lnrst".utf8)
    let syllables: [[UInt8]] = consonants.flatMap { c in vowels.map { v in [c, v] } }
    let stopWords = Analyzer.englishStopWords
    var words: [[UInt8]] = []
    var syllableCount = 2
    var withFinal = false
    while words.count < configuration.vocabularySize {
      // One length class: all words of `syllableCount` syllables, with or without a final consonant.
      let needed = configuration.vocabularySize - words.count
      var classSize = 1
      for _ in 0..<syllableCount { classSize *= syllables.count }
      if withFinal { classSize *= finals.count }
      func word(_ number: Int) -> [UInt8] {
        var rest = number
        var result: [UInt8] = []
        for _ in 0..<syllableCount {
          result += syllables[rest % syllables.count]
          rest /= syllables.count
        }
        if withFinal { result.append(finals[rest % finals.count]) }
        return result
      }
      var group: [[UInt8]]
      if classSize <= 2 * needed {
        group = (0..<classSize).map(word)
        group.shuffle(using: &random)
      } else {
        var chosen = Set<Int>()
        group = []
        while group.count < 2 * needed {
          let number = random.int(in: 0...(classSize - 1))
          if chosen.insert(number).inserted { group.append(word(number)) }
        }
      }
      for word in group where words.count < configuration.vocabularySize {
        if !stopWords.contains(String(decoding: word, as: UTF8.self)) { words.append(word) }
      }
      if withFinal { syllableCount += 1 }
      withFinal.toggle()
    }
    var bytes: [UInt8] = []
    var starts: [Int] = [0]
    for word in words {
      bytes.append(contentsOf: word)
      starts.append(bytes.count)
    }
    wordBytes = bytes
    wordStarts = starts
    background = AliasTable.zipf(count: words.count, exponent: 1.05)

    // Topics: a random subset of the vocabulary, skipping the most common background words.
    let common = min(300, words.count / 4)
    var tables: [AliasTable] = []
    var topicVocabularies: [[Int32]] = []
    let perTopic = min(configuration.wordsPerTopic, words.count - common)
    let topicZipf = AliasTable.zipf(count: perTopic, exponent: 1.0)
    fieldCount = (configuration.topics + configuration.topicsPerField - 1) / configuration.topicsPerField
    for _ in 0..<(configuration.topics + fieldCount) {
      var pool = Array(Int32(common)..<Int32(words.count))
      // Partial Fisher–Yates: the first `perTopic` entries become the topic's words, in rank order.
      for i in 0..<perTopic {
        let j = random.int(in: i...(pool.count - 1))
        pool.swapAt(i, j)
      }
      topicVocabularies.append(Array(pool[0..<perTopic]))
      tables.append(topicZipf)
    }
    topicTables = tables
    topicWords = topicVocabularies

    // Function words (all in the English stop list) and academic boilerplate, most common first.
    let function = [
      "the", "of", "and", "to", "in", "a", "we", "is", "for", "that", "on", "with", "this",
      "by", "as", "are", "an", "be", "from", "which", "our", "it", "can", "these", "at", "or",
      "not", "such", "has", "have", "their", "its", "both", "also", "than", "into", "between",
      "more", "while", "each", "over", "most", "other", "only", "well", "however", "all",
    ]
    let academic = [
      "propose", "results", "show", "method", "approach", "paper", "model", "performance",
      "novel", "demonstrate", "experiments", "present", "based", "new", "data", "existing",
      "significantly", "framework", "state", "art", "task", "learning", "achieves", "evaluate",
    ]
    var fillerWeights: [Double] = []
    for rank in 1...function.count { fillerWeights.append(4 / pow(Double(rank), 0.9)) }
    for rank in 1...academic.count { fillerWeights.append(0.25 / pow(Double(rank), 0.8)) }
    fillerBytes = (function + academic).map { Array($0.utf8) }
    fillers = AliasTable(weights: fillerWeights)

    let digits = String(max(configuration.topics - 1, 1)).count
    topicNames = (0..<configuration.topics).map { topic in
      let number = String(topic)
      return Array(("topic-" + String(repeating: "0", count: digits - number.count) + number).utf8)
    }

    // Subtopic phrases, from their own random stream so that everything above is unchanged.
    var subtopicPhrases: [[(Int32, Int32)]] = []
    if configuration.subtopics > 0 && configuration.phrasesPerSubtopic > 0 {
      var phraseRandom = BenchRandom(seed: configuration.seed ^ 0x5EED_C0DE_0000_0002)
      for topic in 0..<configuration.topics {
        // Words of the topic's field, so the words alone say "field" and only the pair says
        // which line of work, as "graph" and "network" do in "graph neural network".
        let vocabulary = topicVocabularies[configuration.topics + topic / configuration.topicsPerField]
        for _ in 0..<configuration.subtopics {
          var list: [(Int32, Int32)] = []
          var seen = Set<Int64>()
          while list.count < configuration.phrasesPerSubtopic {
            let first = vocabulary[topicZipf.sample(using: &phraseRandom)]
            let second = vocabulary[topicZipf.sample(using: &phraseRandom)]
            guard first != second,
              seen.insert(Int64(first) << 32 | Int64(second)).inserted
            else { continue }
            list.append((first, second))
          }
          subtopicPhrases.append(list)
        }
      }
      phraseTable = AliasTable.zipf(count: configuration.phrasesPerSubtopic, exponent: 1.0)
    } else {
      phraseTable = nil
    }
    phrases = subtopicPhrases
  }

  /// Whether papers have subtopics and phrases.
  var hasSubtopics: Bool { phraseTable != nil }

  /// The label (dominant topic name) of a topic number.
  func topicName(_ topic: Int) -> String { String(decoding: topicNames[topic], as: UTF8.self) }

  // MARK: - Writing

  /// Writes `documents` papers as JSON Lines to `path`, streaming: blocks of papers are
  /// generated on every core into their own buffers, then written in order.
  /// - Returns: the number of bytes written.
  @discardableResult
  func write(documents: Int, to path: String) throws -> Int {
    let output = try OutputFile(path: path)
    defer { output.close() }
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let blockSize = 1_024
    let blocksPerRound = cores * 2
    var buffers = (0..<blocksPerRound).map { _ in ByteBuffer(capacity: blockSize * 1_600) }
    var total = 0
    var next = 0
    while next < documents {
      let roundStart = next
      buffers.withUnsafeMutableBufferPointer { buffers in
        let shared = SharedBuffers(buffers)
        DispatchQueue.concurrentPerform(iterations: blocksPerRound) { block in
          let start = roundStart + block * blockSize
          let end = min(documents, start + blockSize)
          shared.base[block].removeAll()
          guard start < end else { return }
          for index in start..<end { appendRecord(index, to: &shared.base[block]) }
        }
      }
      for buffer in buffers where buffer.count > 0 {
        total += buffer.count
        try output.write(buffer)
      }
      next = min(documents, roundStart + blocksPerRound * blockSize)
    }
    try output.finish()
    return total
  }

  /// Buffers that concurrent blocks write, each block only its own element.
  private struct SharedBuffers: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<ByteBuffer>
    init(_ base: UnsafeMutableBufferPointer<ByteBuffer>) { self.base = base }
  }

  /// Appends paper `index` as one JSON object and a newline.
  func appendRecord(_ index: Int, to out: inout ByteBuffer) {
    var random = BenchRandom(seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
    let topics = configuration.topics
    // The mixture: dominant topic, one or two minor topics, and the background.
    let dominant = random.int(in: 0...(topics - 1))
    var minors: [Int] = []
    let minorCount = topics == 1 ? 0 : min(topics - 1, random.int(in: 1...2))
    let perField = configuration.topicsPerField
    let fieldStart = dominant / perField * perField
    let fieldEnd = min(topics, fieldStart + perField) - 1
    while minors.count < minorCount {
      // Half the minor topics are siblings in the dominant topic's field.
      let topic =
        random.unit() < 0.5 && fieldEnd > fieldStart
        ? random.int(in: fieldStart...fieldEnd) : random.int(in: 0...(topics - 1))
      if topic != dominant && !minors.contains(topic) { minors.append(topic) }
    }
    let dominantWeight = 0.3 + 0.2 * random.unit()
    let minorWeight = minors.isEmpty ? 0 : 0.15 + 0.2 * random.unit()
    var mixture = Mixture(dominant: dominant, minors: minors)
    if hasSubtopics {
      mixture.subtopic = random.int(in: 0...(configuration.subtopics - 1))
    }
    mixture.cumulative = [dominantWeight]
    for _ in minors {
      mixture.cumulative.append(
        mixture.cumulative[mixture.cumulative.count - 1] + minorWeight / Double(minors.count))
    }

    out.append(#"{"id":"syn-"#)
    out.appendPadded(index, width: 7)
    out.append(#"","title":""#)
    appendTitle(mixture, &random, to: &out)
    out.append(#"","abstract":""#)
    appendAbstract(mixture, &random, to: &out)
    out.append(#"","label":""#)
    out.append(topicNames[dominant])
    out.append(#"","categories":""#)
    out.append(topicNames[dominant])
    for topic in minors {
      out.append(UInt8(ascii: " "))
      out.append(topicNames[topic])
    }
    if let subtopic = mixture.subtopic {
      out.append(#"","subtopic":""#)
      out.append(topicNames[dominant])
      out.append(UInt8(ascii: "."))
      out.appendPadded(subtopic, width: 1)
    }
    out.append("\"}\n")
  }

  private struct Mixture {
    let dominant: Int
    let minors: [Int]
    /// The paper's subtopic of its dominant topic, when the corpus has subtopics.
    var subtopic: Int?
    /// Upper bounds of the dominant and each minor topic's share; the rest is background.
    var cumulative: [Double] = []
  }

  /// A content word: from the dominant topic, a minor topic or the background.
  @inline(__always)
  private func contentWord(_ mixture: Mixture, _ random: inout BenchRandom) -> Int {
    let u = random.unit()
    if u < mixture.cumulative[0] { return topicWord(mixture.dominant, &random) }
    for (i, bound) in mixture.cumulative.enumerated().dropFirst() where u < bound {
      return topicWord(mixture.minors[i - 1], &random)
    }
    return background.sample(using: &random)
  }

  @inline(__always)
  private func topicWord(_ topic: Int, _ random: inout BenchRandom) -> Int {
    let source =
      random.unit() < configuration.fieldShare
      ? configuration.topics + topic / configuration.topicsPerField : topic
    return Int(topicWords[source][topicTables[source].sample(using: &random)])
  }

  private func appendWord(_ word: Int, capitalized: Bool, to out: inout ByteBuffer) {
    let start = out.count
    wordBytes.withUnsafeBufferPointer { bytes in
      out.append(UnsafeBufferPointer(rebasing: bytes[wordStarts[word]..<wordStarts[word + 1]]))
    }
    if capitalized { out.capitalize(at: start) }
  }

  /// Appends one of the paper's subtopic phrases (two words, the first capitalised if asked).
  private func appendPhrase(
    _ mixture: Mixture, _ random: inout BenchRandom, capitalized: Bool, to out: inout ByteBuffer
  ) {
    guard let subtopic = mixture.subtopic, let phraseTable else { return }
    let (first, second) =
      phrases[mixture.dominant * configuration.subtopics + subtopic][phraseTable.sample(using: &random)]
    appendWord(Int(first), capitalized: capitalized, to: &out)
    out.append(UInt8(ascii: " "))
    appendWord(Int(second), capitalized: false, to: &out)
  }

  private func appendFiller(_ random: inout BenchRandom, capitalized: Bool, to out: inout ByteBuffer) {
    let start = out.count
    out.append(fillerBytes[fillers.sample(using: &random)])
    if capitalized { out.capitalize(at: start) }
  }

  private func appendTitle(_ mixture: Mixture, _ random: inout BenchRandom, to out: inout ByteBuffer) {
    let length = random.int(in: configuration.titleWords)
    let colon = random.unit() < 0.3 ? random.int(in: 2...3) : -1
    for position in 0..<length {
      if position > 0 { out.append(UInt8(ascii: " ")) }
      let first = position == 0 || position == colon
      if position > 0 && random.unit() < 0.2 {
        appendFiller(&random, capitalized: false, to: &out)
      } else if mixture.subtopic != nil && random.unit() < configuration.titlePhraseShare {
        appendPhrase(mixture, &random, capitalized: first || random.unit() < 0.4, to: &out)
      } else {
        // Titles lean harder on the dominant topic than abstracts do.
        let word =
          random.unit() < 0.7 ? topicWord(mixture.dominant, &random) : contentWord(mixture, &random)
        appendWord(word, capitalized: first || random.unit() < 0.4, to: &out)
      }
      if position + 1 == colon { out.append(UInt8(ascii: ":")) }
    }
  }

  private func appendAbstract(
    _ mixture: Mixture, _ random: inout BenchRandom, to out: inout ByteBuffer
  ) {
    var remaining = random.int(in: configuration.abstractWords)
    var firstSentence = true
    while remaining > 0 {
      let length = min(remaining, random.int(in: 8...24))
      remaining -= length
      if !firstSentence { out.append(UInt8(ascii: " ")) }
      firstSentence = false
      for position in 0..<length {
        if position > 0 { out.append(UInt8(ascii: " ")) }
        let capitalized = position == 0
        let u = random.unit()
        if u < 0.42 {
          appendFiller(&random, capitalized: capitalized, to: &out)
        } else if u < 0.43 && !capitalized {
          appendNumber(&random, to: &out)
        } else if mixture.subtopic != nil && random.unit() < configuration.abstractPhraseShare {
          appendPhrase(mixture, &random, capitalized: capitalized, to: &out)
        } else {
          appendWord(contentWord(mixture, &random), capitalized: capitalized, to: &out)
        }
        if position + 1 < length && random.unit() < 0.05 { out.append(UInt8(ascii: ",")) }
      }
      out.append(UInt8(ascii: "."))
    }
  }

  /// A number such as 7, 42 or 3.5 (the analyzer keeps those with two or more characters).
  private func appendNumber(_ random: inout BenchRandom, to out: inout ByteBuffer) {
    let whole = random.int(in: 1...128)
    out.appendPadded(whole, width: 1)
    if random.unit() < 0.3 {
      out.append(UInt8(ascii: "."))
      out.appendPadded(random.int(in: 1...9), width: 1)
    }
  }
}

/// A growable byte buffer with cheap appends, reused across flushes.
struct ByteBuffer {
  private(set) var bytes: [UInt8]

  init(capacity: Int) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  var count: Int { bytes.count }

  mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

  @inline(__always)
  mutating func append(_ byte: UInt8) { bytes.append(byte) }

  @inline(__always)
  mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

  @inline(__always)
  mutating func append(_ other: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: other) }

  mutating func append(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  /// Upper-cases the ASCII letter at `position`.
  @inline(__always)
  mutating func capitalize(at position: Int) {
    let byte = bytes[position]
    if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { bytes[position] = byte - 32 }
  }

  /// Appends a non-negative decimal number, zero-padded to at least `width` digits.
  mutating func appendPadded(_ value: Int, width: Int) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = value
    withUnsafeMutableBytes(of: &digits) { digits in
      repeat {
        digits[count] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
        count += 1
      } while rest > 0
      while count < width {
        digits[count] = UInt8(ascii: "0")
        count += 1
      }
      for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(digits[i]) }
    }
  }
}

/// A file opened for writing with plain POSIX calls, so output streams without copies.
final class OutputFile {
  private var descriptor: Int32
  let path: String

  init(path: String) throws {
    self.path = path
    descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw BenchError.io("cannot create \(path): \(errnoText())") }
  }

  func write(_ buffer: ByteBuffer) throws {
    try buffer.bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw BenchError.io("cannot write \(path): \(errnoText())")
        }
        offset += written
      }
    }
  }

  /// Closes the file, reporting a failure to flush it.
  func finish() throws {
    guard descriptor >= 0 else { return }
    let result = Foundation.close(descriptor)
    descriptor = -1
    if result != 0 { throw BenchError.io("cannot close \(path): \(errnoText())") }
  }

  func close() {
    if descriptor >= 0 {
      _ = Foundation.close(descriptor)
      descriptor = -1
    }
  }
}

/// Errors of the benchmark tool, with messages for a person.
enum BenchError: Error, CustomStringConvertible {
  case io(String)
  case invalid(String)

  var description: String {
    switch self {
    case .io(let message), .invalid(let message): message
    }
  }
}

func errnoText() -> String { String(cString: strerror(errno)) }
