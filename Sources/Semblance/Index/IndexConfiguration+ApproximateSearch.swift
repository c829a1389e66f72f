extension IndexConfiguration {
  /// When a `PaperIndex` builds an ``IVFNeighborIndex`` to pick the LSA candidates of its
  /// queries, instead of scoring every paper.
  ///
  /// ```swift
  /// var configuration = IndexConfiguration.default
  /// configuration.approximateSearch = .always   // IVF even for a small corpus
  /// configuration.nprobe = 32                   // instead of the calibrated value
  /// ```
  ///
  /// Any query can still ask for exact search (`exact: true`, or `--exact` on the command
  /// line) when the index has an IVF.
  public enum ApproximateSearch: String, Sendable, Hashable, Codable, CaseIterable {
    /// An IVF above ``automaticThreshold`` papers (the default).
    case automatic
    /// Always an IVF.
    case always
    /// Never an IVF: every query is exact.
    case never

    /// The corpus size above which `.automatic` builds an IVF: 100,000 papers.
    public static let automaticThreshold = 100_000

    /// Whether an index of `papers` papers gets an IVF.
    public func usesIVF(papers: Int) -> Bool {
      switch self {
      case .automatic: papers > ApproximateSearch.automaticThreshold
      case .always: true
      case .never: false
      }
    }
  }
}
