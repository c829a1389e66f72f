import ArgumentParser
import Foundation
import Semblance

/// The `semblance` command: build and query related-paper indexes.
struct SemblanceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "semblance",
    abstract: "Find related papers with TF-IDF and LSA.",
    discussion: """
      Build an index from a corpus of abstracts (txt, jsonl, json, csv or tsv), then ask it for \
      related papers, free-text search results, or exports for other tools.

      Examples:
        semblance demo
        semblance index papers.jsonl -o papers.idx
        semblance related papers.idx 2401.01234 -k 5
        semblance search papers.idx "diffusion models for time series" --json
      """,
    version: "0.1.0",
    subcommands: [
      Demo.self, Index.self, Info.self, Related.self, Search.self, Neighbors.self,
      ClusterPapers.self, Add.self, Export.self,
    ]
  )
}

@main
enum Main {
  static func main() {
    let command: ParsableCommand
    do {
      command = try SemblanceCommand.parseAsRoot()
    } catch {
      SemblanceCommand.exit(withError: error)  // usage errors: 64
    }
    // `--help`, `-h`, `help <subcommand>` and a bare `semblance` parse into built-in commands
    // whose run() throws a help request: ArgumentParser prints the help and exits 0.
    let ownCommands = SemblanceCommand.configuration.subcommands.map(ObjectIdentifier.init)
    guard ownCommands.contains(ObjectIdentifier(type(of: command))) else {
      do {
        var command = command
        try command.run()
      } catch {
        SemblanceCommand.exit(withError: error)
      }
      SemblanceCommand.exit()
    }
    do {
      var command = command
      try command.run()
    } catch let error as ValidationError {
      SemblanceCommand.exit(withError: error)
    } catch let error as ExitCode {
      SemblanceCommand.exit(withError: error)
    } catch {
      Terminal.standardError("error: \(error)\n")
      Foundation.exit(1)
    }
  }
}
