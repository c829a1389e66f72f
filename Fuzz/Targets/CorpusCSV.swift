// Fuzz target: the streaming reader for CSV, whole and in tiny chunks.
@testable import Semblance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  fuzzCorpus(data, size, format: .csv)
  return 0
}
