import Foundation
import Testing

/// What one run of the `semblance` executable did.
struct CLIResult: Sendable, CustomStringConvertible {
  var arguments: [String]
  /// The exit status, or the signal number when `signalled`.
  var status: Int32
  /// Whether the process ended by an uncaught signal (a crash, a trap, or our timeout).
  var signalled: Bool
  var timedOut: Bool
  var standardOutput: Data
  var standardError: Data

  var stdout: String { String(decoding: standardOutput, as: UTF8.self) }
  var stderr: String { String(decoding: standardError, as: UTF8.self) }

  var description: String {
    let ending =
      signalled ? "signal \(status)\(timedOut ? " (timed out)" : "")" : "status \(status)"
    return "semblance \(arguments.joined(separator: " ")) → \(ending)\n"
      + "stdout: \(stdout.prefix(2_000))\nstderr: \(stderr.prefix(2_000))"
  }
}

/// Runs the built `semblance` executable, end to end, as a user's shell would.
enum CLI {
  /// Where the executable was found, or the places that were searched.
  static let location: Result<URL, ExecutableNotFound> = locateExecutable()

  struct ExecutableNotFound: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
      "the semblance executable was not found; build it first (swift build). Looked in:\n  "
        + searched.joined(separator: "\n  ")
    }
  }

  /// The `semblance` executable SwiftPM built next to this test bundle.
  ///
  /// Looked for, in order: `$SEMBLANCE_EXECUTABLE`; the directories holding the test bundle
  /// and the test process's executable, and a few of their parents (SwiftPM puts every
  /// product of a build in one directory); `<package root>/.build/debug`.
  static func executable() throws -> URL { try location.get() }

  private static func locateExecutable() -> Result<URL, ExecutableNotFound> {
    let fileManager = FileManager.default
    var candidates: [URL] = []
    let environment = ProcessInfo.processInfo.environment
    if let override = environment["SEMBLANCE_EXECUTABLE"], !override.isEmpty {
      candidates.append(URL(fileURLWithPath: override))
    }
    var starts = [Bundle.main.bundleURL]
    if let executable = Bundle.main.executableURL { starts.append(executable) }
    if let first = CommandLine.arguments.first, !first.isEmpty {
      starts.append(URL(fileURLWithPath: first))
    }
    for start in starts {
      var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
      if start.hasDirectoryPath { directory = start.resolvingSymlinksInPath() }
      for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("semblance"))
        directory = directory.deletingLastPathComponent()
      }
    }
    candidates.append(
      TestSupport.packageRoot.appendingPathComponent(".build/debug/semblance"))

    for candidate in candidates {
      var isDirectory: ObjCBool = false
      if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
        !isDirectory.boolValue, fileManager.isExecutableFile(atPath: candidate.path)
      {
        return .success(candidate)
      }
    }
    var seen = Set<String>()
    let searched = candidates.map(\.path).filter { seen.insert($0).inserted }
    return .failure(ExecutableNotFound(searched: searched))
  }

  /// Runs `semblance arguments…` (or another executable's) in `directory`, with no standard
  /// input, and waits for it.
  ///
  /// Both output pipes are drained while the process runs, so a chatty command can never
  /// block on a full pipe. A run that outlives `timeout` seconds is killed (and then reports
  /// `signalled`, which every test treats as a failure).
  static func run(
    _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 120,
    executable other: URL? = nil
  ) throws -> CLIResult {
    let process = Process()
    process.executableURL = try other ?? executable()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.standardInput = FileHandle.nullDevice
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()

    let watchdog = Watchdog(process)
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { watchdog.fire() }

    let errorBytes = Captured()
    let errorReader = error.fileHandleForReading
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      errorBytes.store(errorReader.readDataToEndOfFile())
    }
    let outputBytes = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    watchdog.disarm()

    return CLIResult(
      arguments: arguments, status: process.terminationStatus,
      signalled: process.terminationReason == .uncaughtSignal, timedOut: watchdog.fired,
      standardOutput: outputBytes, standardError: errorBytes.load())
  }

  /// Bytes handed from the reading thread to the waiting one.
  private final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func store(_ data: Data) { lock.withLock { self.data = data } }
    func load() -> Data { lock.withLock { data } }
  }

  /// Terminates a process that runs too long, unless disarmed first.
  private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private let process: Process
    private var armed = true
    private(set) var fired = false

    init(_ process: Process) { self.process = process }

    func fire() {
      lock.withLock {
        guard armed, process.isRunning else { return }
        fired = true
        process.terminate()
      }
    }

    func disarm() { lock.withLock { armed = false } }
  }
}

/// A fresh directory for one test, removed when `body` returns or throws.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
  let directory = try TestSupport.temporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  return try body(directory)
}

/// Every entry under `directory`, hidden ones included, as paths relative to it, sorted.
func directoryListing(_ directory: URL) -> [String] {
  let fileManager = FileManager.default
  guard let enumerator = fileManager.enumerator(atPath: directory.path) else { return [] }
  return enumerator.compactMap { $0 as? String }.sorted()
}

// MARK: - Expectations shared by the CLI suites

/// The run ended normally (never by a signal) with `status`.
func expectExit(
  _ result: CLIResult, _ status: Int32, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(!result.signalled, "ended by a signal: \(result)", sourceLocation: sourceLocation)
  #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
}

/// The run succeeded with an empty standard error.
func expectQuietSuccess(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
  expectExit(result, 0, sourceLocation: sourceLocation)
  #expect(result.stderr.isEmpty, "\(result)", sourceLocation: sourceLocation)
}

/// The run failed the DESIGN §6 way: status 1, nothing on stdout, and a message on stderr
/// that begins with `error:` and contains every one of `mentions`.
func expectFailure(
  _ result: CLIResult, mentioning mentions: [String] = [],
  sourceLocation: SourceLocation = #_sourceLocation
) {
  expectExit(result, 1, sourceLocation: sourceLocation)
  #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
  #expect(result.stderr.hasPrefix("error: "), "\(result)", sourceLocation: sourceLocation)
  for mention in mentions {
    #expect(
      result.stderr.contains(mention), "stderr should mention \(mention): \(result)",
      sourceLocation: sourceLocation)
  }
}

/// The run was rejected as a usage error: status 64, nothing on stdout, and usage on stderr.
func expectUsageError(
  _ result: CLIResult, mentioning mentions: [String] = [],
  sourceLocation: SourceLocation = #_sourceLocation
) {
  expectExit(result, 64, sourceLocation: sourceLocation)
  #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
  #expect(result.stderr.contains("Usage:"), "\(result)", sourceLocation: sourceLocation)
  for mention in mentions {
    #expect(
      result.stderr.contains(mention), "stderr should mention \(mention): \(result)",
      sourceLocation: sourceLocation)
  }
}
