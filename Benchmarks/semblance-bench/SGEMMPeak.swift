import ArgumentParser
import COpenBLAS
import Foundation

/// The machine's single-precision matrix-multiply rate, measured with `cblas_sgemm`: the
/// yardstick for every GFLOP/s figure the benchmark prints.
struct SGEMMPeak: Codable, Sendable {
  /// The matrices were size × size.
  var size: Int
  /// Timed calls; the best is kept.
  var repeats: Int
  /// The best call's time (s).
  var bestSeconds: Double
  /// 2·size³ / bestSeconds, in GFLOP/s.
  var gflops: Double
  /// OpenBLAS threads and build, so readers know what was measured.
  var blasThreads: Int
  var blasConfiguration: String

  /// Times `C = A·B` on size × size float matrices `repeats` times and keeps the best.
  static func measure(size: Int, repeats: Int) -> SGEMMPeak {
    var random = BenchRandom(seed: 42)
    let a = (0..<(size * size)).map { _ in Float(random.unit() - 0.5) }
    let b = (0..<(size * size)).map { _ in Float(random.unit() - 0.5) }
    var c = [Float](repeating: 0, count: size * size)
    var best = Double.infinity
    let n = Int32(size)
    for _ in 0..<repeats {
      let start = ContinuousClock.now
      a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
          c.withUnsafeMutableBufferPointer { c in
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.baseAddress!, n,
              b.baseAddress!, n, 0, c.baseAddress!, n)
          }
        }
      }
      best = min(best, (ContinuousClock.now - start).seconds)
    }
    let flops = 2 * Double(size) * Double(size) * Double(size)
    return SGEMMPeak(
      size: size, repeats: repeats, bestSeconds: best, gflops: flops / best / 1e9,
      blasThreads: currentThreads, blasConfiguration: blasDescription)
  }

  /// The threads OpenBLAS uses for one call.
  static var currentThreads: Int { Int(openblas_get_num_threads()) }

  /// OpenBLAS's build string and the kernel it picked for this CPU.
  static var blasDescription: String {
    let config = String(cString: openblas_get_config())
    let core = String(cString: openblas_get_corename())
    return "\(config) (core: \(core))"
  }

  /// Measures in a child process (`semblance-bench peak --json`), so the 3 × size² floats
  /// it needs never count towards this process's peak RSS.
  static func measureInChildProcess(size: Int, repeats: Int) throws -> SGEMMPeak {
    let process = Process()
    process.executableURL = try currentExecutable()
    process.arguments = ["peak", "--size", String(size), "--repeats", String(repeats), "--json"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw BenchError.io("the SGEMM peak measurement failed (status \(process.terminationStatus))")
    }
    return try JSONDecoder().decode(SGEMMPeak.self, from: data)
  }

  private static func currentExecutable() throws -> URL {
    #if os(Linux)
      if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return URL(fileURLWithPath: path)
      }
    #endif
    if let url = Bundle.main.executableURL { return url }
    throw BenchError.io("cannot find this program's own executable to measure the SGEMM peak")
  }
}

extension BenchCommand {
  /// `semblance-bench peak [--size 4096] [--repeats 3] [--json]`
  struct Peak: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure the SGEMM rate (best of a few size³ cblas_sgemm calls).")

    @Option(help: "Matrix size: size × size times size × size.")
    var size = 4096

    @Option(help: "How many timed calls; the best is kept.")
    var repeats = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
      guard size >= 1 else { throw ValidationError("--size must be at least 1") }
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
      let peak = SGEMMPeak.measure(size: size, repeats: repeats)
      if json {
        standardOutput(String(decoding: try JSONEncoder().encode(peak), as: UTF8.self) + "\n")
      } else {
        let timing = String(format: "best of %d %.3f s = %.1f GFLOP/s", repeats, peak.bestSeconds, peak.gflops)
        standardOutput(
          "SGEMM \(size)³: \(timing) (\(peak.blasThreads) BLAS threads, \(peak.blasConfiguration))\n")
      }
    }
  }
}
