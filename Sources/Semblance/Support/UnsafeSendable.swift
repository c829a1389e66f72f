/// Carries a value into concurrently running chunks of work when the caller guarantees
/// that the chunks touch disjoint parts of it (for example, each writes its own slot).
struct UnsafeSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}

/// Runs `body` for every chunk and collects each chunk's result, in chunk order.
func parallelMap<Result>(chunks: Int, _ body: (Int) -> Result) -> [Result] {
  let slots = UnsafeMutableBufferPointer<Result?>.allocate(capacity: max(chunks, 1))
  slots.initialize(repeating: nil)
  defer {
    slots.deinitialize()
    slots.deallocate()
  }
  let shared = UnsafeSendable(slots)
  parallelForEach(chunks: chunks) { chunk in
    shared.value[chunk] = body(chunk)
  }
  return slots.prefix(chunks).map { $0! }
}
