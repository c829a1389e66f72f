// Fuzz target: one section of a valid index edited (spliced or replaced, so it may change
// length), inside a well-formed, correctly checksummed file; an index that loads is queried.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  fuzzIndexSections(data, size)
  return 0
}
