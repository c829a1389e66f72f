import Testing

@testable import Semblance

/// The page reserve that lets one large mapping of a build take over the pages of the ones
/// freed before it. Each test uses a reserve of its own, so that the library's other work,
/// running concurrently in the test process, cannot take or give pages in between.
@Suite("Page reserve")
struct PageReserveTests {
  static let megabyte = 1 << 20

  /// Fills `memory` with a byte other than zero, so that recycled pages would show it.
  static func scribble(_ memory: AnonymousMemory) {
    memory.base.initializeMemory(as: UInt8.self, repeating: 0xA5, count: memory.byteCount)
  }

  /// Maps `megabytes`, scribbles on them and releases them to `reserve`.
  static func releaseScribbled(megabytes: Int, to reserve: PageReserve) {
    scribble(AnonymousMemory(byteCount: megabytes * megabyte, reserve: reserve))
  }

  static func isZero(_ memory: AnonymousMemory, count: Int) -> Bool {
    let bytes = memory.base.assumingMemoryBound(to: UInt8.self)
    return (0..<count).allSatisfy { bytes[$0] == 0 }
  }

  @Test("a mapping freed inside a scope goes to the next one, cleared")
  func recyclesInsideScope() {
    #if os(Linux)
    let reserve = PageReserve()
    reserve.withReuse {
      Self.releaseScribbled(megabytes: 6, to: reserve)
      #expect(reserve.statistics.reserved == 6 * Self.megabyte)
      let second = AnonymousMemory(byteCount: 6 * Self.megabyte, reserve: reserve)
      #expect(reserve.statistics == (reserved: 0, reused: 6 * Self.megabyte))
      #expect(Self.isZero(second, count: second.byteCount))
      // The pages are the new mapping's own: writing them is fine, and reads back.
      Self.scribble(second)
      #expect(second.base.load(fromByteOffset: second.byteCount - 1, as: UInt8.self) == 0xA5)
    }
    #endif
  }

  @Test("a larger mapping takes every reserved page and maps the rest fresh")
  func largerMappingTakesPartFromReserve() {
    #if os(Linux)
    let reserve = PageReserve()
    reserve.withReuse {
      var pieces: [AnonymousMemory] = [3, 5].map {
        AnonymousMemory(byteCount: $0 * Self.megabyte, reserve: reserve)
      }
      pieces.forEach(Self.scribble)
      // Both held at once, then freed: sizes round up to whole 2 MiB granules, 4 + 6 MiB.
      pieces = []
      #expect(reserve.statistics.reserved == 10 * Self.megabyte)
      let large = AnonymousMemory(byteCount: 16 * Self.megabyte + 123, reserve: reserve)
      #expect(large.byteCount == 18 * Self.megabyte)
      #expect(reserve.statistics == (reserved: 0, reused: 10 * Self.megabyte))
      #expect(Self.isZero(large, count: large.byteCount))
      #expect(Int(bitPattern: large.base) % PageReserve.granule == 0)
    }
    #endif
  }

  @Test("a scope's limit keeps the pages that fit, unmaps the rest, and ends with the scope")
  func limitKeepsWhatFits() {
    #if os(Linux)
    let reserve = PageReserve()
    let megabyte = Self.megabyte
    reserve.withReuse(keepingAtMost: 5 * megabyte) {
      // Mapped together (so that none takes another's pages), then released one by one.
      var pieces: [AnonymousMemory?] = [4, 4, 2].map {
        AnonymousMemory(byteCount: $0 * megabyte, reserve: reserve)
      }
      pieces.forEach { Self.scribble($0!) }
      pieces[0] = nil
      #expect(reserve.statistics.reserved == 4 * megabyte)
      pieces[1] = nil  // 1 MiB of it fits
      #expect(reserve.statistics.reserved == 5 * megabyte)
      reserve.withReuse(keepingAtMost: .max) {  // an inner scope keeps the outer limit
        pieces[2] = nil
        #expect(reserve.statistics.reserved == 5 * megabyte)
      }
      let taken = AnonymousMemory(byteCount: 6 * megabyte, reserve: reserve)
      #expect(reserve.statistics == (reserved: 0, reused: 5 * megabyte))
      #expect(Self.isZero(taken, count: taken.byteCount))
    }
    reserve.withReuse {
      Self.releaseScribbled(megabytes: 8, to: reserve)
      #expect(reserve.statistics.reserved == 8 * megabyte)
    }
    #endif
  }

  @Test("a smaller mapping takes part of a region and leaves the rest on the list")
  func smallerMappingSplitsRegion() {
    #if os(Linux)
    let reserve = PageReserve()
    reserve.withReuse {
      Self.releaseScribbled(megabytes: 10, to: reserve)
      let small = AnonymousMemory(byteCount: 4 * Self.megabyte, reserve: reserve)
      #expect(reserve.statistics == (reserved: 6 * Self.megabyte, reused: 4 * Self.megabyte))
      #expect(Self.isZero(small, count: small.byteCount))
      let rest = AnonymousMemory(byteCount: 6 * Self.megabyte, reserve: reserve)
      #expect(reserve.statistics == (reserved: 0, reused: 10 * Self.megabyte))
      #expect(Self.isZero(rest, count: rest.byteCount))
    }
    #endif
  }

  @Test("outside a scope, and after the outermost one ends, nothing is kept")
  func nothingKeptOutsideScope() {
    #if os(Linux)
    let reserve = PageReserve()
    Self.releaseScribbled(megabytes: 4, to: reserve)
    #expect(reserve.statistics == (reserved: 0, reused: 0))
    reserve.withReuse {
      reserve.withReuse {
        Self.releaseScribbled(megabytes: 4, to: reserve)
      }
      // The inner scope's end is not the outermost one's: the pages stay.
      #expect(reserve.statistics.reserved == 4 * Self.megabyte)
    }
    #expect(reserve.statistics == (reserved: 0, reused: 0))
    let fresh = AnonymousMemory(byteCount: 4 * Self.megabyte, reserve: reserve)
    #expect(reserve.statistics.reused == 0)
    #expect(Self.isZero(fresh, count: fresh.byteCount))
    #endif
  }

  @Test("small mappings are never recycled")
  func smallMappingsBypassReserve() {
    let reserve = PageReserve()
    reserve.withReuse {
      var memory: AnonymousMemory? = AnonymousMemory(byteCount: 100_000, reserve: reserve)
      Self.scribble(memory!)
      memory = nil
      #expect(reserve.statistics.reserved == 0)
      let next = AnonymousMemory(byteCount: 100_000, reserve: reserve)
      #expect(Self.isZero(next, count: 100_000))
    }
  }

  @Test("large stores are mapped and read back what was written")
  func largeStorage() {
    let count = Storage<Int32>.mappedMinimum / 4 + 17
    let storage = Storage<Int32>(count: count) { buffer in
      for index in buffer.indices { buffer[index] = Int32(truncatingIfNeeded: index &* 7) }
    }
    #expect(storage.count == count)
    #expect(storage[0] == 0 && storage[count - 1] == Int32(truncatingIfNeeded: (count - 1) &* 7))
    let probes = stride(from: 0, to: count, by: 4_099)
    #expect(probes.allSatisfy { storage[$0] == Int32(truncatingIfNeeded: $0 &* 7) })
  }

  @Test("a mapped array keeps its elements through every doubling")
  func mappedArrayGrows() {
    func value(_ index: Int) -> UInt64 { UInt64(index) &* 0x9E37_79B9_7F4A_7C15 }
    var array = MappedArray<UInt64>()
    #expect(array.count == 0 && array.buffer.isEmpty)
    // 24 MB: the first 2 MiB mapping doubles four times.
    let count = 3_000_000
    for index in 0..<count { array.append(value(index)) }
    #expect(array.count == count)
    let mismatches = (0..<count).filter { array[$0] != value($0) }
    #expect(mismatches.isEmpty)
    array.reserve(additional: 5_000_000)
    #expect(array[count - 1] == value(count - 1))
    array[17] = 42
    let expected: [UInt64] = (0..<100).map { $0 == 17 ? 42 : value($0) }
    #expect(Array(array.buffer.prefix(100)) == expected)
    array.release()
    #expect(array.count == 0 && array.base == nil)
  }

  @Test("a mapped array appends buffers, leaves room and truncates")
  func mappedArrayRoomAndTruncation() {
    var array = MappedArray<Int32>()
    let first: [Int32] = Array(0..<1_000)
    first.withUnsafeBufferPointer { array.append(contentsOf: $0) }
    array.append(contentsOf: UnsafeBufferPointer(start: nil, count: 0))
    // Room for a million elements, past the first mapping, written later.
    array.extend(by: 1_000_000)
    #expect(array.count == 1_001_000)
    array[1_000_999] = -7
    let last: [Int32] = [5, 6]
    last.withUnsafeBufferPointer { array.append(contentsOf: $0) }
    #expect(Array(array.buffer.prefix(1_000)) == first)
    #expect(Array(array.buffer.suffix(3)) == [-7, 5, 6])
    array.truncate(to: 999)
    #expect(array.count == 999 && array[998] == 998)
    array.release()
  }

  @Test("a released mapped array gives its written pages to the reserve")
  func mappedArrayReleasesWrittenPages() {
    #if os(Linux)
    let reserve = PageReserve()
    reserve.withReuse {
      var array = MappedArray<UInt64>()
      // 2,400,000 bytes in a 4 MiB mapping: 586 pages written, the rest never touched.
      for index in 0..<300_000 { array.append(UInt64(index) | 1) }
      array.release(to: reserve)
      #expect(array.count == 0)
      let written = 586 * AnonymousMemory.pageSize
      #expect(reserve.statistics == (reserved: written, reused: 0))
      let next = AnonymousMemory(byteCount: 4 * Self.megabyte, reserve: reserve)
      #expect(reserve.statistics == (reserved: 0, reused: written))
      #expect(Self.isZero(next, count: next.byteCount))
    }
    #endif
  }

  @Test("a truncated mapped array gives only the pages up to its count to the reserve")
  func truncatedMappedArrayReleasesItsPrefix() {
    #if os(Linux)
    let reserve = PageReserve()
    reserve.withReuse {
      var array = MappedArray<UInt64>()
      // Room for 300,000 entries of which the first 1,000 are written (8,000 bytes).
      array.extend(by: 300_000)
      for index in 0..<1_000 { array[index] = UInt64(index) | 1 }
      array.truncate(to: 1_000)
      array.release(to: reserve)
      #expect(reserve.statistics == (reserved: 2 * AnonymousMemory.pageSize, reused: 0))
    }
    #endif
  }
}
