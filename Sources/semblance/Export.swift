import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance export INDEX [--embeddings E.npy] [--tfidf X.mtx] [--vocabulary V.txt] [--ids IDS.txt]`
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Export an index's matrices and lists for other tools.",
      discussion: """
        --embeddings writes a NumPy .npy file (float32, C order, shape papers × dimensions). \
        --tfidf writes Matrix Market "coordinate real general" (1-based; rows are papers, \
        columns follow the vocabulary). --vocabulary and --ids write one entry per line, in \
        matrix order.

        All or nothing: the files are written next to their destinations under temporary \
        names and renamed into place only when every one of them is complete, so a failure \
        (a missing directory, a full disk) leaves no export behind and no existing file changed.

        Examples:
          semblance export papers.idx --embeddings E.npy --ids ids.txt
          semblance export papers.idx --tfidf X.mtx --vocabulary V.txt
        """)

    @Argument(help: "The index file.")
    var index: String

    @Option(help: "Write the embeddings to this .npy file.")
    var embeddings: String?

    @Option(help: "Write the TF-IDF matrix to this .mtx file.")
    var tfidf: String?

    @Option(help: "Write the vocabulary to this file, one term per line.")
    var vocabulary: String?

    @Option(help: "Write the paper ids to this file, one per line.")
    var ids: String?

    /// The files to write, in option order.
    var outputs: [ExportOutput] {
      var outputs: [ExportOutput] = []
      if let embeddings {
        outputs.append(ExportOutput("--embeddings", embeddings) { try $0.writeEmbeddings(toNumPy: $1) })
      }
      if let tfidf {
        outputs.append(ExportOutput("--tfidf", tfidf) { try $0.writeTFIDF(toMatrixMarket: $1) })
      }
      if let vocabulary {
        outputs.append(ExportOutput("--vocabulary", vocabulary) { try $0.writeVocabulary(to: $1) })
      }
      if let ids {
        outputs.append(ExportOutput("--ids", ids) { try $0.writeIDs(to: $1) })
      }
      return outputs
    }

    func validate() throws {
      let outputs = self.outputs
      if outputs.isEmpty {
        throw ValidationError(
          "nothing to export: give at least one of --embeddings, --tfidf, --vocabulary, --ids")
      }
      let indexPath = URL(fileURLWithPath: index).standardizedFileURL.path
      var seen: [String: String] = [:]
      for output in outputs {
        let path = output.destination.standardizedFileURL.path
        if path == indexPath {
          throw ValidationError("\(output.option) \(output.path) would overwrite the index itself")
        }
        if let other = seen.updateValue(output.option, forKey: path) {
          throw ValidationError("\(other) and \(output.option) both name \(output.path)")
        }
      }
    }

    /// All or nothing: every export is written to a temporary file next to its destination,
    /// and only when all of them are complete are they renamed into place. A failure before
    /// that (a missing directory, a full disk) removes the temporary files and leaves every
    /// destination as it was. Destinations that are directories are refused up front.
    func run() throws {
      let outputs = self.outputs
      for output in outputs {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory),
          isDirectory.boolValue
        {
          throw FileError(path: output.path, operation: "write", reason: "it is a directory")
        }
      }
      let paperIndex = try loadIndex(index)
      var staged: [(output: ExportOutput, temporary: URL)] = []
      do {
        for output in outputs {
          let temporary = output.temporaryURL()
          staged.append((output, temporary))
          do {
            try output.write(paperIndex, temporary)
          } catch var error as FileError {
            error.path = output.path  // name the file the user asked for, not the temporary
            throw error
          }
        }
      } catch {
        for (_, temporary) in staged { unlink(temporary.path) }
        throw error
      }
      for (position, (output, temporary)) in staged.enumerated() {
        guard rename(temporary.path, output.path) == 0 else {
          let reason = String(cString: strerror(errno))
          for (_, later) in staged[position...] { unlink(later.path) }
          let written = staged[..<position].map(\.output.path)
          throw FileError(
            path: output.path, operation: "replace",
            reason: written.isEmpty ? reason : "\(reason) (already written: \(written.joined(separator: ", ")))")
        }
      }
      ExportOutput.syncDirectories(of: outputs)
    }
  }
}

/// One file that `semblance export` writes.
struct ExportOutput {
  /// The option that asked for it, for messages.
  var option: String
  /// The path as given.
  var path: String
  /// Writes the export to a URL (atomically, through the library).
  var write: (PaperIndex, URL) throws -> Void

  init(_ option: String, _ path: String, write: @escaping (PaperIndex, URL) throws -> Void) {
    self.option = option
    self.path = path
    self.write = write
  }

  var destination: URL { URL(fileURLWithPath: path) }

  /// A unique hidden name in the destination's directory, so that the final rename stays
  /// within one file system.
  func temporaryURL() -> URL {
    let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    return destination.deletingLastPathComponent()
      .appendingPathComponent(".\(destination.lastPathComponent).export-\(getpid())-\(random)")
  }

  /// Makes the renames durable. Best effort: some file systems cannot sync directories.
  static func syncDirectories(of outputs: [ExportOutput]) {
    let directories = Set(outputs.map { $0.destination.deletingLastPathComponent().path })
    for directory in directories {
      let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard descriptor >= 0 else { continue }
      _ = fsync(descriptor)
      close(descriptor)
    }
  }
}
