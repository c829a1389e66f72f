/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in Semblance draws from one of these, so that the same seed always
/// gives bit-identical results.
///
/// ```swift
/// var generator = SeededGenerator(seed: 42)
/// let x = Int.random(in: 0..<10, using: &generator)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// Creates a generator whose sequence is determined by `seed`.
  public init(seed: UInt64) {
    // SplitMix64: the outputs for seed + 1, + 2, + 3 and + 4 steps.
    state = (
      SeededGenerator.mixed(seed), SeededGenerator.mixed(seed &+ SeededGenerator.splitMixStep),
      SeededGenerator.mixed(seed &+ 2 &* SeededGenerator.splitMixStep),
      SeededGenerator.mixed(seed &+ 3 &* SeededGenerator.splitMixStep))
  }

  /// SplitMix64's increment, the golden ratio's 64-bit fraction.
  private static let splitMixStep: UInt64 = 0x9E37_79B9_7F4A_7C15

  /// SplitMix64's output one step after `value`: a bijection that turns nearby integers (run
  /// numbers, say) into unrelated seeds.
  static func mixed(_ value: UInt64) -> UInt64 {
    var z = value &+ splitMixStep
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = state.3 << 45 | state.3 >> 19
    return result
  }

  /// A uniform double in [0, 1).
  mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal deviate (Box–Muller; the pair's second value is discarded).
  mutating func nextGaussian() -> Double {
    nextGaussianPair().0
  }

  /// Two independent standard normal deviates (Box–Muller).
  mutating func nextGaussianPair() -> (Double, Double) {
    var u = nextUnit()
    while u <= 0 { u = nextUnit() }
    let v = nextUnit()
    let radius = (-2 * log(u)).squareRoot()
    let angle = 2 * Double.pi * v
    return (radius * cos(angle), radius * sin(angle))
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
