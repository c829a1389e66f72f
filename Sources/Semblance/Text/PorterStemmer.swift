/// The English suffix-stripping algorithm of M. F. Porter, "An algorithm for suffix
/// stripping", *Program* 14(3), 130–137 (1980), exactly as published: steps 1a to 5b.
///
/// ```swift
/// let stemmer = PorterStemmer()
/// stemmer.stem("caresses")      // "caress"
/// stemmer.stem("relational")    // "relat"
/// stemmer.stem("generalizations") // "gener"
/// ```
///
/// The stemmer works on lowercase ASCII words. A word holding anything other than the letters
/// a–z (digits, underscores, capitals, other scripts) is returned unchanged. Stems are never
/// longer than their words, which lets ``Analyzer`` stem tokens in place.
///
/// The published algorithm differs from later revisions in a few rules (`ABLI → ABLE`, not
/// `BLI → BLE`; no `LOGI` rule; short words are stemmed too). The output matches NLTK's
/// `PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)`; the test suite checks this
/// against a fixture produced by `Tests/Fixtures/make_porter_fixture.py`.
public struct PorterStemmer: Sendable, Hashable {
  /// Creates a stemmer.
  public init() {}

  /// The stem of `word`, or `word` itself when it is not made only of the letters a–z.
  public func stem(_ word: String) -> String {
    var bytes = Array(word.utf8)
    var consonants = [Bool](repeating: false, count: bytes.count)
    let length = bytes.withUnsafeMutableBufferPointer { word in
      consonants.withUnsafeMutableBufferPointer { stem(word, consonants: $0) }
    }
    return String(decoding: bytes[..<length], as: UTF8.self)
  }

  /// Stems the word held in `word` in place and returns the length of the stem (at most
  /// `word.count`). `consonants` is scratch space of at least `word.count` elements.
  func stem(_ word: UnsafeMutableBufferPointer<UInt8>, consonants: UnsafeMutableBufferPointer<Bool>)
    -> Int
  {
    assert(consonants.count >= word.count)
    for byte in word where byte < UInt8(ascii: "a") || byte > UInt8(ascii: "z") {
      return word.count
    }
    guard let base = word.baseAddress, let flags = consonants.baseAddress else { return 0 }
    var state = PorterWord(letters: base, consonants: flags, count: word.count)
    state.markConsonants(from: 0)
    state.step1a()
    state.step1b()
    state.step1c()
    state.step2()
    state.step3()
    state.step4()
    state.step5a()
    state.step5b()
    return state.count
  }
}

/// A word being stemmed: its letters, whether each letter is a consonant, and its current
/// length. Porter's definitions, with `j` the length of the stem a condition looks at:
///
/// - a consonant is a letter other than a, e, i, o, u, and other than a y preceded by a
///   consonant; every other letter is a vowel;
/// - `measure(j)` is m in `[C](VC)^m[V]`, the number of vowel-to-consonant transitions;
/// - `*v*` is `containsVowel(j)`, `*d` is `endsWithDoubleConsonant(j)` and `*o` is
///   `endsConsonantVowelConsonant(j)` (the last consonant not w, x or y).
///
/// Whether a letter is a consonant depends only on the letters before it, so the flags stay
/// valid when a suffix is replaced; only the replaced letters are marked again.
private struct PorterWord {
  let letters: UnsafeMutablePointer<UInt8>
  let consonants: UnsafeMutablePointer<Bool>
  var count: Int

  mutating func markConsonants(from start: Int) {
    for position in start..<count {
      switch letters[position] {
      case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"),
        UInt8(ascii: "u"):
        consonants[position] = false
      case UInt8(ascii: "y"):
        consonants[position] = position == 0 ? true : !consonants[position - 1]
      default:
        consonants[position] = true
      }
    }
  }

  // MARK: Conditions

  func measure(_ end: Int) -> Int {
    var m = 0
    var previousIsVowel = false
    for position in 0..<end {
      let isConsonant = consonants[position]
      if isConsonant && previousIsVowel { m += 1 }
      previousIsVowel = !isConsonant
    }
    return m
  }

  func containsVowel(_ end: Int) -> Bool {
    for position in 0..<end where !consonants[position] { return true }
    return false
  }

  func endsWithDoubleConsonant(_ end: Int) -> Bool {
    end >= 2 && letters[end - 1] == letters[end - 2] && consonants[end - 1]
  }

  func endsConsonantVowelConsonant(_ end: Int) -> Bool {
    guard end >= 3, consonants[end - 3], !consonants[end - 2], consonants[end - 1] else {
      return false
    }
    let last = letters[end - 1]
    return last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y")
  }

  func lastLetter(_ end: Int) -> UInt8 { end >= 1 ? letters[end - 1] : 0 }

  // MARK: Suffixes

  /// The stem length when the word ends with `suffix`, else nil.
  func stemEnd(ifEndsWith suffix: StaticString) -> Int? {
    let length = suffix.utf8CodeUnitCount
    guard length <= count else { return nil }
    let start = count - length
    let bytes = suffix.utf8Start
    for offset in 0..<length where letters[start + offset] != bytes[offset] { return nil }
    return start
  }

  /// Replaces everything from `stem` on with `replacement` (never longer than what it replaces).
  mutating func replace(from stem: Int, with replacement: StaticString) {
    let length = replacement.utf8CodeUnitCount
    let bytes = replacement.utf8Start
    for offset in 0..<length { letters[stem + offset] = bytes[offset] }
    count = stem + length
    markConsonants(from: stem)
  }

  /// The rule of `rules` with the longest matching suffix, and the stem it leaves. As in the
  /// paper, once a suffix matches no shorter one is tried, whether or not the rule's
  /// condition holds. `rules` lists longer suffixes before their own tails.
  func longestMatch(_ rules: [PorterRules.Rule]) -> (stem: Int, rule: PorterRules.Rule)? {
    for rule in rules {
      if let stem = stemEnd(ifEndsWith: rule.suffix) { return (stem, rule) }
    }
    return nil
  }

  // MARK: Steps

  /// SSES → SS, IES → I, SS → SS, S → (nothing).
  mutating func step1a() {
    guard lastLetter(count) == UInt8(ascii: "s") else { return }
    if let stem = stemEnd(ifEndsWith: "sses") {
      replace(from: stem, with: "ss")
    } else if let stem = stemEnd(ifEndsWith: "ies") {
      replace(from: stem, with: "i")
    } else if stemEnd(ifEndsWith: "ss") == nil {
      count -= 1
    }
  }

  /// (m>0) EED → EE; (*v*) ED → ; (*v*) ING → ; then, after ED or ING was removed:
  /// AT → ATE, BL → BLE, IZ → IZE, (*d and not (*L or *S or *Z)) → single letter,
  /// (m=1 and *o) → E.
  mutating func step1b() {
    if let stem = stemEnd(ifEndsWith: "eed") {
      if measure(stem) > 0 { count -= 1 }
      return
    }
    guard
      let stem = stemEnd(ifEndsWith: "ed") ?? stemEnd(ifEndsWith: "ing"), containsVowel(stem)
    else { return }
    count = stem
    if stemEnd(ifEndsWith: "at") != nil || stemEnd(ifEndsWith: "bl") != nil
      || stemEnd(ifEndsWith: "iz") != nil
    {
      replace(from: count, with: "e")
    } else if endsWithDoubleConsonant(count) {
      let last = letters[count - 1]
      if last != UInt8(ascii: "l") && last != UInt8(ascii: "s") && last != UInt8(ascii: "z") {
        count -= 1
      }
    } else if measure(count) == 1 && endsConsonantVowelConsonant(count) {
      replace(from: count, with: "e")
    }
  }

  /// (*v*) Y → I.
  mutating func step1c() {
    if let stem = stemEnd(ifEndsWith: "y"), containsVowel(stem) {
      replace(from: stem, with: "i")
    }
  }

  /// Double suffixes to single ones, when m > 0.
  mutating func step2() {
    if let match = longestMatch(PorterRules.step2), measure(match.stem) > 0 {
      replace(from: match.stem, with: match.rule.replacement)
    }
  }

  /// -IC-, -FULL, -NESS and the like, when m > 0.
  mutating func step3() {
    if let match = longestMatch(PorterRules.step3), measure(match.stem) > 0 {
      replace(from: match.stem, with: match.rule.replacement)
    }
  }

  /// Removes a last suffix when m > 1 (ION only after S or T).
  mutating func step4() {
    guard let stem = longestMatch(PorterRules.step4)?.stem, measure(stem) > 1 else { return }
    if stemEnd(ifEndsWith: "ion") == stem {
      let last = lastLetter(stem)
      guard last == UInt8(ascii: "s") || last == UInt8(ascii: "t") else { return }
    }
    count = stem
  }

  /// (m>1) E → ; (m=1 and not *o) E → .
  mutating func step5a() {
    guard let stem = stemEnd(ifEndsWith: "e") else { return }
    let m = measure(stem)
    if m > 1 || (m == 1 && !endsConsonantVowelConsonant(stem)) { count = stem }
  }

  /// (m>1 and *d and *L) → single letter.
  mutating func step5b() {
    if lastLetter(count) == UInt8(ascii: "l") && endsWithDoubleConsonant(count)
      && measure(count) > 1
    {
      count -= 1
    }
  }
}

/// The suffix tables of steps 2 to 4, in the paper's order (a longer suffix always comes
/// before a shorter one it ends with, so the first match is the longest).
private enum PorterRules {
  typealias Rule = (suffix: StaticString, replacement: StaticString)

  static let step2: [Rule] = [
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
    ("abli", "able"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
    ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
    ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
  ]

  static let step3: [Rule] = [
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
    ("ful", ""), ("ness", ""),
  ]

  static let step4: [Rule] = [
    ("al", ""), ("ance", ""), ("ence", ""), ("er", ""), ("ic", ""), ("able", ""), ("ible", ""),
    ("ant", ""), ("ement", ""), ("ment", ""), ("ent", ""), ("ion", ""), ("ou", ""), ("ism", ""),
    ("ate", ""), ("iti", ""), ("ous", ""), ("ive", ""), ("ize", ""),
  ]
}
