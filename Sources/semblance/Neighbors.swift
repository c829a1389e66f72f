import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance neighbors INDEX [-k 10] [-o FILE] [--exact]`
  struct Neighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write every paper's nearest papers (the all-pairs k-NN graph) as TSV.",
      discussion: """
        The output has a header line, then one line per (paper, neighbour):
          id<TAB>neighbor<TAB>rank<TAB>score
        Scores are the ranking scores (hybrid by default). Without -o the TSV goes to stdout.

        Examples:
          semblance neighbors papers.idx -k 10 -o neighbors.tsv
          semblance neighbors papers.idx -k 5 | head
        """)

    @Argument(help: "The index file.")
    var index: String

    @Option(name: .customShort("k"), help: "Neighbours per paper.")
    var count: Int = 10

    @Option(name: [.customShort("o"), .customLong("output")], help: "Write the TSV to this file.")
    var output: String?

    @Flag(help: "Force exact search over every paper (no approximate index).")
    var exact = false

    func validate() throws {
      guard count >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
      let paperIndex = try loadIndex(index)
      let graph = try paperIndex.neighbors(count: count, exact: exact)
      let ids = paperIndex.allIDs
      let write: (inout BufferedOutput) throws -> Void = { sink in
        try sink.write("id\tneighbor\trank\tscore\n")
        for row in 0..<graph.rows {
          for (rank, neighbor) in graph[row].enumerated() {
            try sink.write("\(ids[row])\t\(ids[neighbor.position])\t\(rank + 1)\t\(neighbor.score)\n")
          }
        }
      }
      if let output {
        try AtomicFile.write(to: URL(fileURLWithPath: output), write)
      } else {
        var sink = BufferedOutput(descriptor: STDOUT_FILENO, path: "standard output")
        try write(&sink)
        try sink.flush()
      }
    }
  }
}
