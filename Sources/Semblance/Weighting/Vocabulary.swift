import Foundation

/// The terms of a fitted model, sorted in UTF-8 byte order, with a lookup table from term
/// bytes to column built on first use (an index loaded from disk may never need it).
struct Vocabulary: Sendable {
  let terms: StringTable
  private let lookup: LazyLookup

  init(terms: StringTable) {
    self.terms = terms
    self.lookup = LazyLookup()
  }

  var count: Int { terms.count }

  subscript(column: Int) -> String { terms[column] }

  /// The table mapping term bytes to their column.
  var table: TermTable {
    lookup.table(building: terms)
  }

  private final class LazyLookup: @unchecked Sendable {
    private let lock = NSLock()
    private var built: TermTable?

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
