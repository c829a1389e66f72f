import Foundation

extension PaperIndex {
  /// Writes the embeddings as a NumPy `.npy` file: float32, C order, shape (papers, dimensions).
  ///
  /// ```swift
  /// try index.writeEmbeddings(toNumPy: URL(fileURLWithPath: "E.npy"))
  /// // Python: numpy.load("E.npy")
  /// ```
  /// - Throws: `FileError`. The file is written atomically.
  public func writeEmbeddings(toNumPy url: URL) throws {
    let shape = "(\(embeddings.rows), \(embeddings.columns))"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
    // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    try AtomicFile.write(to: url) { output in
      var prefix: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
      let length = UInt16(header.utf8.count)
      prefix += [UInt8(length & 0xFF), UInt8(length >> 8)]
      try prefix.withUnsafeBytes { try output.write($0) }
      try output.write(header)
      try embeddings.withUnsafeBufferPointer { try output.write(UnsafeRawBufferPointer($0)) }
    }
  }

  /// Writes the TF-IDF matrix in Matrix Market "coordinate real general" form, 1-based,
  /// rows = papers and columns = vocabulary order.
  /// - Throws: `FileError`. The file is written atomically.
  public func writeTFIDF(toMatrixMarket url: URL) throws {
    try AtomicFile.write(to: url) { output in
      try output.write("%%MatrixMarket matrix coordinate real general\n")
      try output.write("% TF-IDF rows (papers) x columns (vocabulary), written by Semblance\n")
      try output.write("\(tfidf.rows) \(tfidf.columns) \(tfidf.nonzeroCount)\n")
      for row in 0..<tfidf.rows {
        let (indices, values) = tfidf.rowBuffers(row)
        for position in 0..<indices.count {
          try output.write("\(row + 1) \(indices[position] + 1) \(values[position])\n")
        }
      }
    }
  }

  /// Writes the vocabulary, one term per line, in column order.
  /// - Throws: `FileError`. The file is written atomically.
  public func writeVocabulary(to url: URL) throws {
    try writeLines(vectorizer.vocabulary.terms, to: url)
  }

  /// Writes the paper ids, one per line, in row order.
  /// - Throws: `FileError`. The file is written atomically.
  public func writeIDs(to url: URL) throws {
    try writeLines(ids, to: url)
  }

  private func writeLines(_ table: StringTable, to url: URL) throws {
    try AtomicFile.write(to: url) { output in
      for position in 0..<table.count {
        try output.write(UnsafeRawBufferPointer(table.utf8(at: position)))
        try output.write("\n")
      }
    }
  }
}
