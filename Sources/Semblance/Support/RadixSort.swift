extension Array where Element: BitwiseCopyable {
  /// Sorts the array by an integer key of each element, stably, with a least-significant-
  /// digit radix sort on all cores.
  ///
  /// Each pass deals the elements by 11 bits of the key (2,048 counters, which stay in the
  /// first-level cache); passes over bits that every key shares are skipped, so keys of `b`
  /// significant bits take ⌈b / 11⌉ passes at most. Each core counts and then deals a
  /// contiguous share of the elements, into places fixed by the counts of all shares, so the
  /// result does not depend on the number of cores. Sorting the vocabulary's 3.7 million
  /// term keys at 300,000 papers took 0.35 s with ``parallelSort(by:)`` and a comparison.
  mutating func radixSort(byKey key: (Element) -> UInt64) {
    let count = self.count
    guard count > 1 else { return }
    let digitBits = 11, buckets = 1 << digitBits, mask = UInt64(buckets - 1)
    let tasks = count < 1 << 16 ? 1 : processorCount
    var scratch = [Element](unsafeUninitializedCapacity: count) { _, initialized in
      initialized = count
    }
    // Per task and bucket: first the count, then the next place to write.
    var places = [Int](repeating: 0, count: tasks * buckets)
    var varying: UInt64 = 0
    withUnsafeBufferPointer { elements in
      let first = key(elements[0])
      for element in elements { varying |= key(element) ^ first }
    }
    var inScratch = false
    var shift = 0
    while shift < 64 && varying >> UInt64(shift) != 0 {
      defer { shift += digitBits }
      guard (varying >> UInt64(shift)) & mask != 0 else { continue }
      let digit = UInt64(shift)
      withUnsafeMutableBufferPointer { elements in
        scratch.withUnsafeMutableBufferPointer { scratchElements in
          places.withUnsafeMutableBufferPointer { places in
            let source = inScratch ? scratchElements : elements
            let target = inScratch ? elements : scratchElements
            let shared = UnsafeSendable((source, target, places))
            parallelForEach(chunks: tasks) { task in
              let (source, _, places) = shared.value
              let counts = places.baseAddress! + task * buckets
              counts.update(repeating: 0, count: buckets)
              for index in chunkRange(task, of: tasks, count: count) {
                counts[Int((key(source[index]) >> digit) & mask)] += 1
              }
            }
            // Bucket by bucket, task by task: each task's share of a bucket follows the
            // shares of the tasks before it, which keeps the sort stable.
            var next = 0
            for bucket in 0..<buckets {
              for task in 0..<tasks {
                let counted = places[task * buckets + bucket]
                places[task * buckets + bucket] = next
                next += counted
              }
            }
            parallelForEach(chunks: tasks) { task in
              let (source, target, places) = shared.value
              let next = places.baseAddress! + task * buckets
              for index in chunkRange(task, of: tasks, count: count) {
                let element = source[index]
                let bucket = Int((key(element) >> digit) & mask)
                target[next[bucket]] = element
                next[bucket] += 1
              }
            }
          }
        }
      }
      inScratch.toggle()
    }
    if inScratch { swap(&self, &scratch) }
  }
}
