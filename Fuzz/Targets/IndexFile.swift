// Fuzz target: PaperIndex(contentsOf:) on arbitrary bytes, verified and unverified, and on
// the same bytes with every checksum re-sealed; an index that loads is queried.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  fuzzIndex(data, size)
  return 0
}
