/// Every option of a `PaperIndex`: analysis, weighting, LSA and ranking.
///
/// ```swift
/// var configuration = IndexConfiguration.default
/// configuration.dimensions = 64
/// configuration.alpha = 1            // pure LSA ranking (no re-ranking, so no feedback)
/// let index = try PaperIndex(papers, configuration: configuration)
/// ```
///
/// `.default` is tuned for paper abstracts. `.scikitLearnCompatible` reproduces
/// `TfidfVectorizer()` followed by `TruncatedSVD` in scikit-learn.
public struct IndexConfiguration: Sendable, Hashable, Codable {
  // Analysis
  /// How many times title terms count (default 2).
  public var titleWeight: Int = 2
  /// Stop words removed before n-grams are formed (default: scikit-learn's English list).
  public var stopWords: Set<String> = Analyzer.englishStopWords
  /// The n-gram lengths (default `1...2`).
  public var ngramRange: ClosedRange<Int> = 1...2
  /// Treat `title + "\n" + abstract` as one text, as scikit-learn does (default false).
  public var joinsTitleAndAbstract: Bool = false
  /// The stemmer applied to tokens after stop-word removal (default `nil`: none).
  public var stemmer: Analyzer.Stemmer? = nil

  // Weighting
  /// Minimum document frequency; `nil` means 2, or 1 below 1,000 papers.
  public var minDocumentFrequency: Int? = nil
  /// Maximum document frequency as a fraction of papers (default 0.5).
  public var maxDocumentFrequency: Double = 0.5
  /// Keep at most this many terms, the most frequent (default: no cap).
  public var maxTerms: Int? = nil
  /// `1 + ln(tf)` term frequency (default true).
  public var sublinearTF: Bool = true

  // LSA
  /// Embedding dimensions (default 128), clamped to `min(papers, terms) - 1`.
  public var dimensions: Int = 128
  /// Randomized SVD oversampling (default 10).
  public var oversampling: Int = 10
  /// Randomized SVD power iterations; `nil` chooses ``TruncatedSVD/defaultPowerIterations`` (2).
  public var powerIterations: Int? = nil
  /// The SVD solver (default `.automatic`).
  public var svdAlgorithm: TruncatedSVD.Algorithm = .automatic
  /// The seed for every random choice (default 0).
  public var seed: UInt64 = 0

  // Ranking
  /// The weight of LSA cosine in the hybrid score `α·cos_LSA + (1−α)·cos_TFIDF`, in 0...1
  /// (default 0.5; 1 ranks by LSA alone).
  public var alpha: Float = 0.5
  /// Relevance feedback for the hybrid re-ranking (default: the 10 best first-pass results,
  /// weight 1; see ``RelevanceFeedback``); `nil` re-ranks by the hybrid score alone. It does
  /// not apply when α = 1. An index file written before this option existed loads with `nil`,
  /// and so ranks as it did.
  public var feedback: RelevanceFeedback? = .default

  // Approximate search
  /// When to build an IVF index for the LSA candidate stage (default `.automatic`: above
  /// 100,000 papers).
  public var approximateSearch: ApproximateSearch = .automatic
  /// Lists the IVF index probes per query; `nil` (the default) calibrates it at build time
  /// to reach a mean recall@10 of 0.95 against exact search.
  public var nprobe: Int? = nil

  /// Creates the default configuration.
  public init() {}

  /// The configuration tuned for paper abstracts.
  public static let `default` = IndexConfiguration()

  /// scikit-learn's `TfidfVectorizer()` defaults on `title + "\n" + abstract` (no stop words,
  /// unigrams, min_df 1, max_df 1.0, raw tf), followed by `TruncatedSVD`.
  public static let scikitLearnCompatible: IndexConfiguration = {
    var configuration = IndexConfiguration()
    configuration.titleWeight = 1
    configuration.stopWords = []
    configuration.ngramRange = 1...1
    configuration.joinsTitleAndAbstract = true
    configuration.minDocumentFrequency = 1
    configuration.maxDocumentFrequency = 1
    configuration.sublinearTF = false
    return configuration
  }()

  /// The analysis and weighting part.
  public var vectorizerConfiguration: TfidfVectorizer.Configuration {
    TfidfVectorizer.Configuration(
      analyzer: Analyzer.Configuration(
        titleWeight: titleWeight, stopWords: stopWords, ngramRange: ngramRange,
        joinsTitleAndAbstract: joinsTitleAndAbstract, stemmer: stemmer),
      minDocumentFrequency: minDocumentFrequency, maxDocumentFrequency: maxDocumentFrequency,
      maxTerms: maxTerms, sublinearTF: sublinearTF)
  }

  /// The LSA part.
  public var svdConfiguration: TruncatedSVD.Configuration {
    TruncatedSVD.Configuration(
      dimensions: dimensions, oversampling: oversampling, powerIterations: powerIterations,
      algorithm: svdAlgorithm, seed: seed)
  }

  /// Checks every value, naming the first one that is out of range.
  public func validate() throws {
    try vectorizerConfiguration.validate()
    try svdConfiguration.validate()
    guard alpha >= 0, alpha <= 1 else {
      throw ConfigurationError.invalidValue(
        option: "alpha", value: "\(alpha)", expected: "a number between 0 and 1")
    }
    try feedback?.validate()
    if let nprobe, nprobe < 1 {
      throw ConfigurationError.invalidValue(
        option: "nprobe", value: "\(nprobe)", expected: "at least 1")
    }
  }
}

extension IndexConfiguration {
  /// Encodes every option, with the stop words sorted.
  ///
  /// A `Set` encodes in its hash order, which changes from process to process, so the
  /// synthesized encoding made index files and `info --json` differ between runs on the same
  /// input. Decoding stays synthesized (it needs every non-optional key, so an option missing
  /// here fails the round trip loudly). This lives in the type's file because the synthesized
  /// `CodingKeys` is private to it.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(titleWeight, forKey: .titleWeight)
    try container.encode(stopWords.sorted(), forKey: .stopWords)
    try container.encode(ngramRange, forKey: .ngramRange)
    try container.encode(joinsTitleAndAbstract, forKey: .joinsTitleAndAbstract)
    try container.encodeIfPresent(stemmer, forKey: .stemmer)
    try container.encodeIfPresent(minDocumentFrequency, forKey: .minDocumentFrequency)
    try container.encode(maxDocumentFrequency, forKey: .maxDocumentFrequency)
    try container.encodeIfPresent(maxTerms, forKey: .maxTerms)
    try container.encode(sublinearTF, forKey: .sublinearTF)
    try container.encode(dimensions, forKey: .dimensions)
    try container.encode(oversampling, forKey: .oversampling)
    try container.encodeIfPresent(powerIterations, forKey: .powerIterations)
    try container.encode(svdAlgorithm, forKey: .svdAlgorithm)
    try container.encode(seed, forKey: .seed)
    try container.encode(alpha, forKey: .alpha)
    try container.encodeIfPresent(feedback, forKey: .feedback)
    try container.encode(approximateSearch, forKey: .approximateSearch)
    try container.encodeIfPresent(nprobe, forKey: .nprobe)
  }
}
