import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance index CORPUS -o INDEX [options]`
  struct Index: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build an index file from a corpus of papers.",
      discussion: """
        The corpus format comes from the file extension (.txt, .jsonl/.ndjson, .json, .csv, \
        .tsv) unless --format is given. JSON and CSV fields default to the arXiv metadata \
        snapshot's names: id, title, abstract.

        Examples:
          semblance index arxiv-metadata.jsonl -o arxiv.idx
          semblance index papers.txt -o papers.idx --dimensions 64 --ngrams 1
          semblance index papers.txt -o x.idx --sklearn-compatible --dimensions 20
          semblance index papers.jsonl -o papers.idx --stem --stop-words stop-words.txt
        """)

    @Argument(help: "The corpus file.")
    var corpus: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "The index file to write.")
    var output: String

    @OptionGroup var corpusOptions: CorpusOptions

    @Option(help: "LSA dimensions (clamped to the corpus rank).")
    var dimensions: Int?

    @Option(name: .customLong("min-df"), help: "Drop terms in fewer papers than this (default 2, or 1 below 1,000 papers).")
    var minDF: Int?

    @Option(name: .customLong("max-df"), help: "Drop terms in more than this fraction of papers (default 0.5).")
    var maxDF: Double?

    @Option(name: .customLong("max-terms"), help: "Keep at most this many terms, the most frequent.")
    var maxTerms: Int?

    @Option(help: "Longest n-gram: 1 (words) or 2 (words and word pairs, the default).")
    var ngrams: Int?

    @Option(name: .customLong("title-weight"), help: "How many times title words count (default 2).")
    var titleWeight: Int?

    @Flag(name: .customLong("no-stop-words"), help: "Keep English stop words.")
    var noStopWords = false

    @Option(
      name: .customLong("stop-words"),
      help: "Use the stop words in this file instead of the English list (one per line, # comments).")
    var stopWordFile: String?

    @Flag(help: "Stem words with Porter's English stemmer (after stop words, before word pairs).")
    var stem = false

    @Flag(name: .customLong("sklearn-compatible"), help: "Reproduce scikit-learn's TfidfVectorizer() + TruncatedSVD.")
    var sklearnCompatible = false

    @Option(help: "Weight of LSA in the hybrid ranking score, 0...1 (default 0.5; 1 is pure LSA).")
    var alpha: Float?

    @Option(help: "Relevance feedback: re-rank with the centroid of this many best first-pass results (default 10; 0 turns it off).")
    var feedback: Int?

    @Option(help: "The centroid's share of the LSA query in relevance feedback, 0...1 (default 1).")
    var feedbackWeight: Float?

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Build an IVF index for approximate search: automatic (above 100,000 papers), always or never.")
    var ivf: IndexConfiguration.ApproximateSearch = .automatic

    @Option(help: "Lists the IVF index probes per query (default: calibrated for recall@10 ≥ 0.95).")
    var nprobe: Int?

    func validate() throws {
      if let ngrams, !(1...2).contains(ngrams) {
        throw ValidationError("--ngrams must be 1 or 2")
      }
      if let dimensions, dimensions < 1 { throw ValidationError("--dimensions must be at least 1") }
      if let minDF, minDF < 1 { throw ValidationError("--min-df must be at least 1") }
      if let maxDF, !(maxDF > 0 && maxDF <= 1) {
        throw ValidationError("--max-df must be a fraction greater than 0 and at most 1")
      }
      if let titleWeight, titleWeight < 1 { throw ValidationError("--title-weight must be at least 1") }
      if let maxTerms, maxTerms < 1 { throw ValidationError("--max-terms must be at least 1") }
      if let alpha, !(0...1).contains(alpha) { throw ValidationError("--alpha must be between 0 and 1") }
      if let feedback, feedback < 0 { throw ValidationError("--feedback must be at least 0") }
      if let feedbackWeight, !(0...1).contains(feedbackWeight) {
        throw ValidationError("--feedback-weight must be between 0 and 1")
      }
      if feedback == 0 && feedbackWeight != nil {
        throw ValidationError("--feedback-weight cannot be combined with --feedback 0")
      }
      if let nprobe, nprobe < 1 { throw ValidationError("--nprobe must be at least 1") }
      if noStopWords && stopWordFile != nil {
        throw ValidationError("--no-stop-words and --stop-words cannot be combined")
      }
    }

    var indexConfiguration: IndexConfiguration {
      var configuration: IndexConfiguration = sklearnCompatible ? .scikitLearnCompatible : .default
      if let dimensions { configuration.dimensions = dimensions }
      if let minDF { configuration.minDocumentFrequency = minDF }
      if let maxDF { configuration.maxDocumentFrequency = maxDF }
      if let maxTerms { configuration.maxTerms = maxTerms }
      if let ngrams { configuration.ngramRange = 1...ngrams }
      if let titleWeight { configuration.titleWeight = titleWeight }
      if noStopWords { configuration.stopWords = [] }
      if let alpha { configuration.alpha = alpha }
      if feedback == 0 {
        configuration.feedback = nil
      } else if feedback != nil || feedbackWeight != nil {
        var chosen = configuration.feedback ?? .default
        if let feedback { chosen.papers = feedback }
        if let feedbackWeight { chosen.weight = feedbackWeight }
        configuration.feedback = chosen
      }
      if stem { configuration.stemmer = .porter }
      configuration.seed = seed
      configuration.approximateSearch = ivf
      configuration.nprobe = nprobe
      return configuration
    }

    func run() throws {
      let started = Date()
      var configuration = indexConfiguration
      if let stopWordFile {
        configuration.stopWords = try Analyzer.stopWords(
          contentsOf: URL(fileURLWithPath: stopWordFile))
      }
      // Built straight to the file: V is formed as it is written, never held whole.
      let index = try corpusOptions.index(
        corpus, writingTo: output, configuration: configuration,
        progress: Terminal.progressReporter(label: "indexing"))
      let seconds = Date().timeIntervalSince(started)
      Terminal.standardError(
        "indexed \(index.count) papers, \(index.termCount) terms, \(index.dimensions) dimensions "
          + "in \(String(format: "%.2f", seconds)) s → \(output)\n")
    }
  }
}

/// Options that say how to read a corpus file.
struct CorpusOptions: ParsableArguments {
  @Option(help: "Corpus format: txt, jsonl, json, csv or tsv (default: from the extension).")
  var format: CorpusFormat?

  @Option(name: .customLong("id-field"), help: "The id field of JSON/CSV records.")
  var idField = "id"

  @Option(name: .customLong("title-field"), help: "The title field of JSON/CSV records.")
  var titleField = "title"

  @Option(name: .customLong("abstract-field"), help: "The abstract field of JSON/CSV records.")
  var abstractField = "abstract"

  @Flag(help: "Keep the first paper of each repeated id instead of failing.")
  var dedupe = false

  /// The record fields these options name.
  var fields: CorpusFields {
    CorpusFields(id: idField, title: titleField, abstract: abstractField)
  }

  /// What to do when an id repeats.
  var duplicateIDs: DuplicateIDPolicy { dedupe ? .keepFirst : .error }

  /// Builds an index of the corpus at `path`, streaming it, and writes it to `output`.
  func index(
    _ path: String, writingTo output: String, configuration: IndexConfiguration,
    progress: (@Sendable (Double, PaperIndex.Stage) -> Void)?
  ) throws -> PaperIndex {
    try PaperIndex(
      corpusAt: URL(fileURLWithPath: path), format: format, fields: fields,
      duplicateIDs: duplicateIDs, configuration: configuration,
      writingTo: URL(fileURLWithPath: output), progress: progress)
  }

  func read(_ path: String) throws -> [Paper] {
    try Corpus.read(
      contentsOf: URL(fileURLWithPath: path), format: format, fields: fields,
      duplicateIDs: duplicateIDs)
  }
}

extension CorpusFormat: ExpressibleByArgument {}
extension IndexConfiguration.ApproximateSearch: ExpressibleByArgument {}
