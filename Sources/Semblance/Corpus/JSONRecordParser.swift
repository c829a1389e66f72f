#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value found for the id, title or abstract field of a JSON record.
enum JSONFieldValue {
  case absent
  /// Present but `null`, `true`/`false`, an array or an object.
  case unusable
  case text(String)
}

/// The fields of one JSON object, before they are checked and turned into a ``Paper``.
struct JSONRecord {
  var id = JSONFieldValue.absent
  var title = JSONFieldValue.absent
  var abstract = JSONFieldValue.absent
  var metadata: [String: String] = [:]
}

/// Turns one JSON object into a ``Paper``: the part shared by the JSON Lines and JSON array
/// parsers.
///
/// The id, title and abstract fields (strings, or numbers as their literal text) are decoded
/// with whitespace collapsed. Other fields go to metadata: strings decoded and collapsed,
/// other values as compact JSON text, `null` left out. When a key repeats, the last value wins.
struct JSONRecordParser {
  let fields: CorpusFields
  private let idKey: [UInt8]
  private let titleKey: [UInt8]
  private let abstractKey: [UInt8]
  /// Where strings are decoded. Callers reserve at least as many bytes as the object can span.
  let scratch = ScratchBuffer<UInt8>()

  init(fields: CorpusFields) {
    self.fields = fields
    idKey = Array(fields.id.utf8)
    titleKey = Array(fields.title.utf8)
    abstractKey = Array(fields.abstract.utf8)
  }

  /// Parses the object whose `{` is at `bytes[index]`, leaving `index` after its `}`.
  /// The caller must have reserved `end - index` bytes of ``scratch``.
  func parseObject(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) -> JSONRecord {
    assert(bytes[index] == UInt8(ascii: "{"))
    assert(scratch.capacity >= end - index, "scratch buffer not reserved")
    var record = JSONRecord()
    var i = index + 1
    JSONScanner.skipWhitespace(bytes, &i, end)
    guard i < end else { throw .truncated }
    if bytes[i] == UInt8(ascii: "}") {
      index = i + 1
      return record
    }
    while true {
      guard i < end else { throw .truncated }
      guard bytes[i] == JSONScanner.quote else {
        throw .syntax("expected a key in double quotes, not \(JSONScanner.describe(bytes[i]))",
          offset: i)
      }
      // Keys without escapes (nearly all) are compared where they lie.
      var keyEnd = i + 1
      while keyEnd < end {
        let byte = bytes[keyEnd]
        if byte == JSONScanner.quote || byte == JSONScanner.backslash || byte < 0x20 { break }
        keyEnd += 1
      }
      guard keyEnd < end else { throw .truncated }
      let key: UnsafeBufferPointer<UInt8>
      if bytes[keyEnd] == JSONScanner.quote {
        key = UnsafeBufferPointer(start: bytes + i + 1, count: keyEnd - i - 1)
        i = keyEnd + 1
      } else {
        var writer = ByteWriter(scratch)
        try JSONScanner.decodeString(bytes, &i, end, collapse: false, into: &writer)
        key = UnsafeBufferPointer(start: writer.base, count: writer.count)
      }
      let isID = Self.equal(key, idKey)
      let isTitle = Self.equal(key, titleKey)
      let isAbstract = Self.equal(key, abstractKey)
      let metadataKey = isID || isTitle || isAbstract ? nil : String(decoding: key, as: UTF8.self)

      JSONScanner.skipWhitespace(bytes, &i, end)
      guard i < end else { throw .truncated }
      guard bytes[i] == UInt8(ascii: ":") else {
        throw .syntax("expected ':' after a key, not \(JSONScanner.describe(bytes[i]))", offset: i)
      }
      i += 1
      JSONScanner.skipWhitespace(bytes, &i, end)
      guard i < end else { throw .truncated }

      if let metadataKey {
        record.metadata[metadataKey] = try metadataValue(bytes, &i, end)
      } else {
        let value = try fieldValue(bytes, &i, end)
        if isID { record.id = value }
        if isTitle { record.title = value }
        if isAbstract { record.abstract = value }
      }

      JSONScanner.skipWhitespace(bytes, &i, end)
      guard i < end else { throw .truncated }
      let next = bytes[i]
      i += 1
      if next == UInt8(ascii: ",") {
        JSONScanner.skipWhitespace(bytes, &i, end)
      } else if next == UInt8(ascii: "}") {
        index = i
        return record
      } else {
        throw .syntax("expected ',' or '}' after a value, not \(JSONScanner.describe(next))",
          offset: i - 1)
      }
    }
  }

  /// The value of an id, title or abstract field.
  private func fieldValue(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) -> JSONFieldValue {
    var writer = ByteWriter(scratch)
    switch bytes[index] {
    case JSONScanner.quote:
      try JSONScanner.decodeString(bytes, &index, end, collapse: true, into: &writer)
      return .text(writer.makeString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = index
      try JSONScanner.scanNumber(bytes, &index, end)
      return .text(String(decoding: UnsafeBufferPointer(start: bytes + start, count: index - start),
        as: UTF8.self))
    default:
      try JSONScanner.copyCompact(bytes, &index, end, depth: 0, into: &writer)
      return .unusable
    }
  }

  /// The metadata text of a value, or `nil` for `null`.
  private func metadataValue(
    _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ end: Int
  ) throws(JSONScanError) -> String? {
    var writer = ByteWriter(scratch)
    switch bytes[index] {
    case JSONScanner.quote:
      try JSONScanner.decodeString(bytes, &index, end, collapse: true, into: &writer)
    case UInt8(ascii: "n"):
      try JSONScanner.scanLiteral(bytes, &index, end)
      return nil
    default:
      try JSONScanner.copyCompact(bytes, &index, end, depth: 0, into: &writer)
    }
    return writer.makeString()
  }

  @inline(__always)
  private static func equal(_ key: UnsafeBufferPointer<UInt8>, _ name: [UInt8]) -> Bool {
    guard key.count == name.count else { return false }
    return name.withUnsafeBufferPointer { name in
      key.count == 0 || memcmp(key.baseAddress!, name.baseAddress!, key.count) == 0
    }
  }

  /// Checks that the record has an id, title and abstract and makes the paper.
  func makePaper(_ record: JSONRecord, line: Int, file: String) throws(CorpusError) -> Paper {
    guard case .text(let id) = record.id, !id.isEmpty else {
      throw .missingField(file: file, line: line, field: fields.id)
    }
    guard case .text(let title) = record.title else {
      throw .missingField(file: file, line: line, field: fields.title)
    }
    guard case .text(let abstract) = record.abstract else {
      throw .missingField(file: file, line: line, field: fields.abstract)
    }
    return Paper(id: id, title: title, abstract: abstract, metadata: record.metadata)
  }
}
