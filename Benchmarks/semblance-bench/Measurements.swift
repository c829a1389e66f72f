import Foundation

extension Duration {
  /// The duration in seconds, as a Double.
  var seconds: Double {
    let (whole, attoseconds) = components
    return Double(whole) + Double(attoseconds) * 1e-18
  }
}

/// Resident memory of this process.
enum Memory {
  /// The peak resident set size so far, from `getrusage(RUSAGE_SELF).ru_maxrss`, in bytes.
  static var peakResidentBytes: Int {
    var usage = rusage()
    #if os(Linux)
      let who = RUSAGE_SELF.rawValue
    #else
      let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    #if os(Linux)
      return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
    #else
      return Int(usage.ru_maxrss)  // bytes on macOS
    #endif
  }

  /// The current resident set size from `/proc/self/statm`, in bytes, or nil where that file
  /// does not exist.
  static var currentResidentBytes: Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else {
      return nil
    }
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }
}

/// A memory reading taken right after a stage.
struct MemorySnapshot: Codable, Sendable {
  /// Peak resident set size of the process so far (bytes).
  var peakRSS: Int
  /// Current resident set size (bytes), when the platform reports it.
  var currentRSS: Int?

  /// Reads both now. The kernel updates the high-water mark lazily, so a fresh current
  /// reading can exceed it; the peak is then raised to the current value.
  static func now() -> MemorySnapshot {
    let current = Memory.currentResidentBytes
    return MemorySnapshot(peakRSS: max(Memory.peakResidentBytes, current ?? 0), currentRSS: current)
  }
}

func standardError(_ text: String) {
  FileHandle.standardError.write(Data(text.utf8))
}

func standardOutput(_ text: String) {
  FileHandle.standardOutput.write(Data(text.utf8))
}

/// "18.2 MB" (decimal units, as throughput is given in MB/s).
func formatBytes(_ bytes: Int) -> String {
  let value = Double(bytes)
  if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
  if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
  if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
  return "\(bytes) B"
}

/// The median of a non-empty list (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
