import Foundation

/// The terms of a fitted model, sorted in UTF-8 byte order, and the ways to find a term's
/// column: a binary search of the sorted terms, or a hash table built on demand.
///
/// Building the hash table costs a pass over every term (about 2.5 s for the 11 million terms
/// of a million papers). A single `search` needs a few hundred lookups, which binary search
/// answers in well under a millisecond, so an index loaded to answer a few queries never
/// builds the table. Many lookups make the table worth it: `lookup(forPapers:)` builds it for
/// any batch of 64 papers or more, and once the binary searches made so far have cost about as
/// much as building would (the rule a ski-rental argument gives: rent until the rent paid
/// equals the price, so the total is never more than twice the best choice made in hindsight).
struct Vocabulary: Sendable {
  let terms: StringTable
  private let state: LookupState

  init(terms: StringTable) {
    self.terms = terms
    self.state = LookupState()
  }

  var count: Int { terms.count }

  subscript(column: Int) -> String { terms[column] }

  /// The table mapping term bytes to their column, built now if it was not yet.
  var table: TermTable {
    state.table(building: terms)
  }

  /// How to find columns for a batch of `papers` texts.
  func lookup(forPapers papers: Int) -> Lookup {
    if let table = state.builtTable { return .table(table) }
    if papers >= 64 || state.recordBinarySearches(papers: papers, terms: terms.count) {
      return .table(table)
    }
    return .sorted(terms)
  }

  /// A way to find a term's column.
  enum Lookup {
    case table(TermTable)
    case sorted(StringTable)

    /// The column of `key`, or -1 when it is not a term.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
      switch self {
      case .table(let table): return table.find(key)
      case .sorted(let terms): return Vocabulary.binarySearch(key, in: terms)
      }
    }
  }

  /// The position of `key` in `terms`, sorted in UTF-8 byte order, or -1.
  static func binarySearch(_ key: UnsafeBufferPointer<UInt8>, in terms: StringTable) -> Int32 {
    var low = 0, high = terms.count  // the answer is in [low, high)
    while low < high {
      let middle = low + (high - low) / 2
      let term = terms.utf8(at: middle)
      let common = min(term.count, key.count)
      var order = common == 0 ? 0 : memcmp(term.baseAddress!, key.baseAddress!, common)
      if order == 0 { order = term.count < key.count ? -1 : (term.count > key.count ? 1 : 0) }
      if order == 0 { return Int32(middle) }
      if order < 0 { low = middle + 1 } else { high = middle }
    }
    return -1
  }

  private final class LookupState: @unchecked Sendable {
    private let lock = NSLock()
    private var built: TermTable?
    /// Papers whose terms were binary-searched so far.
    private var searchedPapers = 0

    var builtTable: TermTable? {
      lock.lock()
      defer { lock.unlock() }
      return built
    }

    /// Counts `papers` more binary-searched papers; true when the searches so far have cost
    /// about as much as building the table. A paper is a few hundred lookups of ~log₂(terms)
    /// cache misses each, and building costs a few cache misses per term: about `terms / 4096`
    /// papers (2,700 queries at 11 million terms, and never fewer than 16).
    func recordBinarySearches(papers: Int, terms: Int) -> Bool {
      lock.lock()
      defer { lock.unlock() }
      searchedPapers += papers
      return searchedPapers >= max(16, terms / 4_096)
    }

    func table(building terms: StringTable) -> TermTable {
      lock.lock()
      defer { lock.unlock() }
      if let built { return built }
      var table = TermTable(minimumCapacity: terms.count)
      for column in 0..<terms.count {
        _ = table.insert(terms.utf8(at: column))
      }
      built = table
      return table
    }
  }
}
