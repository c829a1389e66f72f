extension PaperIndex {
  /// Groups the papers into labelled clusters.
  ///
  /// ```swift
  /// let clustering = try index.clusters(.count(8))
  /// clustering.clusters[0].label      // ["time series", "forecasting", …]
  /// clustering.clusters[0].members    // paper ids
  ///
  /// let automatic = try index.clusters(.automatic(range: 2...30), options: .init(seed: 7))
  /// automatic.k                       // the k with the best silhouette
  /// ```
  ///
  /// - Clustering: spherical k-means on the LSA embeddings (`SphericalKMeans`), or average
  ///   linkage cut at k (`AgglomerativeClustering`) when `options.method` says so. Papers
  ///   with no terms have zero embeddings; k-means puts them in its first cluster.
  /// - Automatic k: every k of the range is fitted and scored by `silhouetteScore`; the
  ///   best wins, the smaller k on a tie. Above 10,000 papers, the candidates are fitted and
  ///   scored on one uniform sample of 10,000 papers, then the chosen k is fitted on all
  ///   papers; the reported silhouette is that final clustering's, on the same sample.
  /// - Labels: class-based TF-IDF (as BERTopic). A term scores
  ///   `μ_c(t) · ln(1 + μ_c(t) / μ(t))`, where `μ_c` is the mean TF-IDF row of the cluster
  ///   and `μ` the mean row of the corpus, so terms the cluster uses often, and much more
  ///   than the corpus does, lead. A bigram replaces its two words when it scores at least
  ///   as high as the weaker of them and half as high as the stronger (words pruned from the
  ///   vocabulary as too common do not count); weaker bigrams are left out.
  ///
  /// The result depends only on the index, the request and the options: the same seed gives
  /// the same clusters.
  ///
  /// - Parameters:
  ///   - request: a number of clusters, or a range to choose from.
  ///   - options: the method, seed, restarts, iteration limit and label length.
  ///   - progress: called at the start of each stage with the fraction done (0...1).
  /// - Returns: clusters numbered by decreasing size, with labels and members.
  /// - Throws: `ClusteringError.invalidClusterCount` for k outside `1...count`,
  ///   `ClusteringError.invalidRange` for an automatic range without a k in
  ///   `2...count − 1`, `ClusteringError.tooManyPoints` for average linkage above 20,000
  ///   papers, and `ConfigurationError.invalidValue` for invalid options.
  public func clusters(
    _ request: ClusterRequest, options: ClusteringOptions = .default,
    progress: (@Sendable (Double, ClusteringStage) -> Void)? = nil
  ) throws -> Clustering {
    try options.validate()
    let report = progress ?? { _, _ in }
    let (assignments, k, silhouette) =
      switch options.method {
      case .sphericalKMeans: try kMeansClusters(request, options: options, progress: report)
      case .averageLinkage: try hierarchicalClusters(request, options: options, progress: report)
      }
    report(0.9, .labelling)
    let clustering = labelledClustering(
      assignments: assignments, k: k, silhouette: silhouette, options: options)
    report(1, .finished)
    return clustering
  }

  /// A stage of `clusters(_:options:progress:)`, reported through its progress callback.
  public enum ClusteringStage: String, Sendable, CaseIterable {
    /// Fitting k-means, or building the dendrogram and cutting it.
    case fitting
    /// Computing silhouettes.
    case scoring
    /// Labelling the clusters from their TF-IDF rows.
    case labelling
    /// Done.
    case finished
  }

  /// The average-linkage dendrogram of the papers' embeddings.
  ///
  /// - Throws: `ClusteringError.tooManyPoints` above `AgglomerativeClustering.maximumPoints`.
  public func dendrogram() throws -> Dendrogram {
    try AgglomerativeClustering.averageLinkage(embeddings)
  }

  /// The papers scored by silhouettes: all of them up to 10,000, else a seeded sample.
  private func silhouetteSample(seed: UInt64) -> [Int] {
    let size = Silhouette.defaultSampleSize
    guard count > size else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed ^ 0x5349_4C48_4F55_4554)
    return KMeansPlusPlus.uniformSample(size, of: count, using: &generator)
  }

  private func validatedRange(_ range: ClosedRange<Int>) throws -> ClosedRange<Int> {
    let upper = min(range.upperBound, count - 1)
    guard range.lowerBound >= 2, range.lowerBound <= upper else {
      throw ClusteringError.invalidRange(range, points: count)
    }
    return range.lowerBound...upper
  }

  private func kMeansClusters(
    _ request: ClusterRequest, options: ClusteringOptions,
    progress: (Double, ClusteringStage) -> Void
  ) throws -> (assignments: [Int], k: Int, silhouette: Float) {
    let sample = silhouetteSample(seed: options.seed)
    switch request {
    case .count(let k):
      progress(0, .fitting)
      let model = try SphericalKMeans.fit(
        embeddings, configuration: options.kMeansConfiguration(clusters: k))
      progress(0.6, .scoring)
      let score = Silhouette.score(embeddings, assignments: model.assignments, sample: sample)
      return (model.assignments, k, score)
    case .automatic(let range):
      let range = try validatedRange(range)
      let sampled = sample.count < count
      let points =
        sampled
        ? DenseMatrix(
          rows: sample.count, columns: dimensions,
          storage: Storage(KMeansPlusPlus.gatherRows(embeddings, sample)))
        : embeddings
      let everyPoint = Array(0..<points.rows)
      var best: (k: Int, score: Float, assignments: [Int])?
      let share = sampled ? 0.6 : 0.9
      for k in range {
        let done = share * Double(k - range.lowerBound) / Double(range.count)
        progress(done, .fitting)
        let model = try SphericalKMeans.fit(
          points, configuration: options.kMeansConfiguration(clusters: k))
        progress(done + share * 0.5 / Double(range.count), .scoring)
        let score = Silhouette.score(points, assignments: model.assignments, sample: everyPoint)
        if best == nil || score > best!.score { best = (k, score, model.assignments) }
      }
      let chosen = best!
      guard sampled else { return (chosen.assignments, chosen.k, chosen.score) }
      progress(share, .fitting)
      let model = try SphericalKMeans.fit(
        embeddings, configuration: options.kMeansConfiguration(clusters: chosen.k))
      progress(0.85, .scoring)
      let score = Silhouette.score(embeddings, assignments: model.assignments, sample: sample)
      return (model.assignments, chosen.k, score)
    }
  }

  private func hierarchicalClusters(
    _ request: ClusterRequest, options: ClusteringOptions,
    progress: (Double, ClusteringStage) -> Void
  ) throws -> (assignments: [Int], k: Int, silhouette: Float) {
    progress(0, .fitting)
    let tree = try dendrogram()
    let sample = silhouetteSample(seed: options.seed)
    switch request {
    case .count(let k):
      let assignments = try tree.assignments(clusters: k)
      progress(0.6, .scoring)
      return (assignments, k, Silhouette.score(embeddings, assignments: assignments, sample: sample))
    case .automatic(let range):
      var best: (k: Int, score: Float, assignments: [Int])?
      progress(0.6, .scoring)
      for k in try validatedRange(range) {
        let assignments = try tree.assignments(clusters: k)
        let score = Silhouette.score(embeddings, assignments: assignments, sample: sample)
        if best == nil || score > best!.score { best = (k, score, assignments) }
      }
      return (best!.assignments, best!.k, best!.score)
    }
  }

  /// Renumbers clusters by decreasing size and labels them.
  private func labelledClustering(
    assignments: [Int], k: Int, silhouette: Float, options: ClusteringOptions
  ) -> Clustering {
    var members = [[Int]](repeating: [], count: k)
    for (position, cluster) in assignments.enumerated() { members[cluster].append(position) }
    let order = (0..<k).sorted { a, b in
      if members[a].count != members[b].count { return members[a].count > members[b].count }
      return (members[a].first ?? Int.max) < (members[b].first ?? Int.max)
    }
    var renumber = [Int](repeating: 0, count: k)
    for (number, cluster) in order.enumerated() { renumber[cluster] = number }
    let renumbered = assignments.map { renumber[$0] }
    let labels = ClusterLabels.labels(
      tfidf: tfidf, vectorizer: vectorizer, assignments: renumbered, clusterCount: k,
      terms: options.labelTerms)
    let clusters = order.enumerated().map { number, cluster in
      Cluster(
        id: number, label: labels[number], members: members[cluster].map { ids[$0] },
        positions: members[cluster])
    }
    return Clustering(k: k, silhouette: silhouette, clusters: clusters, assignments: renumbered)
  }
}
