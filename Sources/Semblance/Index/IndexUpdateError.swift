/// Papers could not be added to an index.
///
/// ```swift
/// do {
///   let grown = try index.adding(newPapers)
/// } catch let error as IndexUpdateError {
///   print("error: \(error)")   // error: cannot add paper "2401.01234": ...
/// }
/// ```
public enum IndexUpdateError: Error, CustomStringConvertible, Sendable, Equatable {
  /// A paper to add has the id of a paper already in the index, at `position`.
  case idAlreadyIndexed(id: String, position: Int)
  /// Two papers to add share an id; `first` and `second` are their offsets in the batch.
  case duplicateIDInBatch(id: String, first: Int, second: Int)

  /// The id that was repeated.
  public var id: String {
    switch self {
    case .idAlreadyIndexed(let id, _), .duplicateIDInBatch(let id, _, _): id
    }
  }

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .idAlreadyIndexed(let id, let position):
      "cannot add paper \"\(id)\": the index already has a paper with this id "
        + "(paper \(position + 1) of the index); ids must be unique"
    case .duplicateIDInBatch(let id, let first, let second):
      "cannot add paper \"\(id)\": papers \(first + 1) and \(second + 1) of those being added "
        + "share this id; ids must be unique"
    }
  }
}
