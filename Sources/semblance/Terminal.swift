import Foundation
import Semblance

/// Writing to the standard streams, and progress on a terminal.
enum Terminal {
  static func standardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  static func standardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }

  /// Whether standard error is a terminal (progress is shown only then).
  static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

  /// A progress callback that redraws one line on standard error, or nil when it is not a terminal.
  static func progressReporter(label: String) -> (@Sendable (Double, PaperIndex.Stage) -> Void)? {
    guard errorIsTerminal else { return nil }
    return { fraction, stage in
      let width = 30
      let filled = Int((fraction * Double(width)).rounded())
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      let percent = Int((fraction * 100).rounded())
      var line = "\r\(label) \(bar) \(percent)% \(stage.rawValue)"
      line += String(repeating: " ", count: 4)
      if fraction >= 1 { line = "\r" + String(repeating: " ", count: line.count) + "\r" }
      standardError(line)
    }
  }
}
