#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSemblanceKernels
import Foundation

extension IndexFileWriter {
  /// The bytes of an index file as they will lie on disk: each section's payload at its
  /// offset, zeros everywhere else (the header and table are filled in last).
  struct FileImage: @unchecked Sendable {
    /// Each section's bytes, in file order.
    let payloads: [SectionBytes]
    /// Each section's offset in the file, increasing.
    let offsets: [Int]
    /// The file's length.
    let length: Int

    /// Section bytes that fell in one chunk: their section, their CRC-32 and how many.
    struct Piece {
      var section: Int
      var crc: UInt32
      var length: Int
    }

    /// Writes file bytes `range` into `buffer` (whose first byte stands for
    /// `range.lowerBound`), zero-filled from the end of `range` to the next multiple of
    /// ``IndexFileWriter/blockSize``, and returns the section pieces it wrote, in order.
    ///
    /// Each piece is checksummed a few hundred kilobytes at a time, right after they are
    /// copied (or generated), while they are still in cache.
    func assemble(_ range: Range<Int>, into buffer: UnsafeMutableRawPointer) -> [Piece] {
      var pieces: [Piece] = []
      var cursor = range.lowerBound
      for section in payloads.indices {
        let start = offsets[section]
        if start >= range.upperBound { break }
        let bytes = payloads[section]
        let lower = Swift.max(start, range.lowerBound)
        let upper = Swift.min(start + bytes.count, range.upperBound)
        guard lower < upper else { continue }
        (buffer + (cursor - range.lowerBound)).initializeMemory(
          as: UInt8.self, repeating: 0, count: lower - cursor)
        var crc = CRC32()
        var position = lower
        while position < upper {
          let step = Swift.min(upper - position, FileImage.checksumStep)
          let destination = buffer + (position - range.lowerBound)
          bytes.write((position - start)..<(position - start + step), to: destination)
          crc.update(UnsafeRawBufferPointer(start: destination, count: step))
          position += step
        }
        pieces.append(Piece(section: section, crc: crc.value, length: upper - lower))
        cursor = upper
      }
      let end = IndexFileWriter.roundedToBlocks(range.count)
      (buffer + (cursor - range.lowerBound)).initializeMemory(
        as: UInt8.self, repeating: 0, count: end - (cursor - range.lowerBound))
      return pieces
    }

    /// Each section's CRC-32 from its pieces, given in file order. A section without pieces
    /// (an empty one) has the CRC-32 of no bytes, 0.
    static func sectionChecksums(_ pieces: some Sequence<Piece>, sectionCount: Int) -> [UInt32] {
      var checksums = [UInt32](repeating: 0, count: sectionCount)
      for piece in pieces {
        checksums[piece.section] = CRC32.combine(
          checksums[piece.section], piece.crc, secondLength: piece.length)
      }
      return checksums
    }

    /// Bytes copied (or generated) and then checksummed in one step: well inside a core's L2
    /// cache.
    static let checksumStep = 256 << 10
  }

  /// Direct writes cover whole blocks of this many bytes, at offsets that are multiples of
  /// it: the logical block size of nearly every device, and the page size.
  static let blockSize = 4096

  /// `count` rounded up to a whole number of blocks.
  static func roundedToBlocks(_ count: Int) -> Int {
    (count + blockSize - 1) / blockSize * blockSize
  }

  /// Writes chunks at their offsets, past the page cache while that works.
  ///
  /// Shared by the cores writing chunks. A direct write that the system refuses with
  /// `EINVAL` (a device with larger blocks, a file system that takes the flag but not the
  /// write) turns direct writing off for every later chunk and is retried through the page
  /// cache.
  final class ChunkOutput: @unchecked Sendable {
    let descriptor: Int32
    let path: String
    /// Whether any chunk may have been written whole blocks past the end of the file.
    let startedDirect: Bool
    private let lock = NSLock()
    private var direct: Bool
    private let writeAll: WriteFunction

    /// Writes `count` bytes from a buffer at a file offset; returns 0, or the `errno` of the
    /// failed call.
    typealias WriteFunction =
      @Sendable (_ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int, _ descriptor: Int32)
      -> Int32

    /// An output to `descriptor`, which already has direct writes turned on if `direct`.
    ///
    /// - Parameter writeAll: the system call loop; tests pass one that fails on cue.
    init(
      descriptor: Int32, path: String, direct: Bool,
      writeAll: @escaping WriteFunction = ChunkOutput.writeAll
    ) {
      self.descriptor = descriptor
      self.path = path
      self.direct = direct
      self.startedDirect = direct
      self.writeAll = writeAll
    }

    /// Whether the next chunk will be written past the page cache.
    var isDirect: Bool { lock.withLock { direct } }

    /// Writes file bytes `range` from `buffer`, which holds them zero-padded to whole blocks.
    func write(_ buffer: UnsafeMutableRawPointer, range: Range<Int>) throws {
      if isDirect {
        let code = writeAll(
          buffer, IndexFileWriter.roundedToBlocks(range.count), range.lowerBound, descriptor)
        if code == 0 { return }
        guard code == EINVAL else {
          throw IndexFileError.system(file: path, operation: "write", code: code)
        }
        lock.withLock {
          direct = false
          _ = semblance_set_direct_io(descriptor, 0)
        }
      }
      let code = writeAll(buffer, range.count, range.lowerBound, descriptor)
      guard code == 0 else {
        throw IndexFileError.system(file: path, operation: "write", code: code)
      }
    }

    /// Cuts the file back to `length` bytes if a direct write may have padded its end.
    func finish(length: Int) throws {
      guard startedDirect else { return }
      while ftruncate(descriptor, off_t(length)) != 0 {
        guard errno == EINTR else {
          throw IndexFileError.system(file: path, operation: "set the length of")
        }
      }
    }

    /// Writes `count` bytes at `offset` with `pwrite`, retrying short writes and `EINTR`;
    /// returns 0, or the `errno` of the failed call.
    static func writeAll(
      _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int, _ descriptor: Int32
    ) -> Int32 {
      var written = 0
      while written < count {
        let result = pwrite(descriptor, buffer + written, count - written, off_t(offset + written))
        if result < 0 {
          if errno == EINTR { continue }
          return errno
        }
        if result == 0 { return EIO }
        written += result
      }
      return 0
    }
  }
}
