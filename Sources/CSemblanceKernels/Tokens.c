#include "CSemblanceKernels.h"

#include <string.h>

// The ASCII tokenizer of the analyzer's counting pass. A token is a maximal run of ASCII word
// characters (0-9, A-Z, a-z, _) of at least two bytes, lowercased. The whole text must be
// ASCII: the caller checks `semblance_is_ascii` first, because Unicode lowercasing and word
// classes belong to the Swift scanner.

// The hash of TermTable.hash(_:) in Swift, whose definition this must reproduce bit for bit:
// eight bytes at a time as little-endian words, multiply-xorshift mixing, a zero-padded tail
// word (`tail`, given by the caller: the bytes past the last whole word), and a final
// avalanche.
static inline uint64_t term_hash(const uint8_t *key, size_t length, uint64_t tail) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)length;
  size_t whole = length / 8 * 8;
  uint64_t word;
  for (size_t position = 0; position < whole; position += 8) {
    memcpy(&word, key + position, 8);
    h = (h ^ word) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (whole < length) h = (h ^ tail) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  return h;
}

// The bytes of `key` past its last whole word, zero-padded, as a little-endian word.
static inline uint64_t tail_word(const uint8_t *key, size_t length) {
  uint64_t word = 0;
  for (size_t position = length / 8 * 8, shift = 0; position < length; position++, shift += 8) {
    word |= (uint64_t)key[position] << shift;
  }
  return word;
}

// As `term_hash` for a key followed by at least seven readable bytes: the tail is read as one
// word and masked, so the padding's values do not matter.
static inline uint64_t term_hash_padded(const uint8_t *key, size_t length) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  size_t whole = length / 8 * 8;
  uint64_t tail = 0;
  if (whole < length) {
    memcpy(&tail, key + whole, 8);
    tail &= ~0ull >> (8 * (8 - (length - whole)));
  }
  return term_hash(key, length, tail);
#else
  return term_hash(key, length, tail_word(key, length));
#endif
}

uint64_t semblance_term_hash(const uint8_t *key, size_t length) {
  return term_hash(key, length, tail_word(key, length));
}

int semblance_is_ascii(const uint8_t *text, size_t length) {
  uint8_t any = 0;
  size_t i = 0;
  // Sixty-four bytes per test: compilers turn the OR into vector instructions.
  for (; i + 64 <= length; i += 64) {
    for (size_t j = 0; j < 64; j++) any |= text[i + j];
    if (any & 0x80) return 0;
  }
  for (; i < length; i++) any |= text[i];
  return (any & 0x80) == 0;
}

// For each byte: 0 when it is not an ASCII word character, otherwise its lowercase form.
static const uint8_t word_table[256] = {
  ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
  ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
  ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
  ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
  ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u',
  ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
  ['_'] = '_',
  ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g',
  ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n',
  ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
  ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

static inline size_t emit_token(
    semblance_token *tokens, size_t found, const uint8_t *lowered, size_t start, size_t end) {
  if (end - start < 2) return found;
  tokens[found].hash = term_hash_padded(lowered + start, end - start);
  tokens[found].start = (uint32_t)start;
  tokens[found].end = (uint32_t)end;
  return found + 1;
}

static size_t scan_ascii_portable(
    const uint8_t *text, size_t length, uint8_t *lowered, semblance_token *tokens) {
  size_t found = 0, start = 0;
  int inside = 0;
  for (size_t i = 0; i < length; i++) {
    uint8_t lower = word_table[text[i]];
    lowered[i] = lower;
    if (lower) {
      if (!inside) start = i;
      inside = 1;
    } else if (inside) {
      inside = 0;
      found = emit_token(tokens, found, lowered, start, i);
    }
  }
  if (inside) found = emit_token(tokens, found, lowered, start, length);
  return found;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// Sixty-four bytes per step: one mask of the word characters, the lowercased bytes stored
// under the block's mask, and one bit per change between word and non-word bytes, visited
// in order with a count of trailing zeros. A change into a word starts a token, a change out
// of one ends it (hashed at once, while its bytes are in the first-level cache). The last
// block is loaded under a mask, with zeros (non-word bytes) past the end, which closes a
// token running to the end; when the length is a multiple of 64 the loop closes it.
__attribute__((target("avx512f,avx512bw,bmi,bmi2")))
static size_t scan_ascii_avx512(
    const uint8_t *text, size_t length, uint8_t *lowered, semblance_token *tokens) {
  const __m512i zero = _mm512_set1_epi8('0'), upperA = _mm512_set1_epi8('A');
  const __m512i lowerA = _mm512_set1_epi8('a'), underscore = _mm512_set1_epi8('_');
  const __m512i nine = _mm512_set1_epi8(9), twentyFive = _mm512_set1_epi8(25);
  const __m512i caseBit = _mm512_set1_epi8(0x20);
  size_t found = 0, start = 0;
  uint64_t previous = 0;  // 1 when the byte before this block is a word character
  for (size_t base = 0; base < length; base += 64) {
    size_t remaining = length - base;
    __mmask64 lanes = remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1);
    __m512i bytes = _mm512_maskz_loadu_epi8(lanes, text + base);
    __mmask64 digit = _mm512_cmple_epu8_mask(_mm512_sub_epi8(bytes, zero), nine);
    __mmask64 upper = _mm512_cmple_epu8_mask(_mm512_sub_epi8(bytes, upperA), twentyFive);
    __mmask64 lower = _mm512_cmple_epu8_mask(_mm512_sub_epi8(bytes, lowerA), twentyFive);
    __mmask64 under = _mm512_cmpeq_epi8_mask(bytes, underscore);
    uint64_t word = (uint64_t)(digit | upper | lower | under);
    __m512i lowercase = _mm512_mask_add_epi8(bytes, upper, bytes, caseBit);
    _mm512_mask_storeu_epi8(lowered + base, lanes, lowercase);
    uint64_t changes = word ^ ((word << 1) | previous);
    while (changes) {
      size_t bit = (size_t)__builtin_ctzll(changes);
      changes &= changes - 1;
      if ((word >> bit) & 1) {
        start = base + bit;
      } else {
        found = emit_token(tokens, found, lowered, start, base + bit);
      }
    }
    previous = word >> 63;
  }
  if (previous) found = emit_token(tokens, found, lowered, start, length);
  return found;
}

static int processor_has_avx512bw(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2");
}
#endif

size_t semblance_scan_ascii(
    const uint8_t *text, size_t length, uint8_t *lowered, semblance_token *tokens) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  static int byte_choice = -1;
  int choice = __atomic_load_n(&byte_choice, __ATOMIC_RELAXED);
  if (choice < 0) {
    choice = processor_has_avx512bw();
    __atomic_store_n(&byte_choice, choice, __ATOMIC_RELAXED);
  }
  if (choice && semblance_vector_kernels()) return scan_ascii_avx512(text, length, lowered, tokens);
#endif
  return scan_ascii_portable(text, length, lowered, tokens);
}

// MARK: - Sorting a row's entries

static void insertion_sort_u64(uint64_t *values, size_t count) {
  for (size_t i = 1; i < count; i++) {
    uint64_t value = values[i];
    size_t j = i;
    while (j > 0 && values[j - 1] > value) {
      values[j] = values[j - 1];
      j--;
    }
    values[j] = value;
  }
}

static void sift_down_u64(uint64_t *values, size_t root, size_t count) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= count) return;
    if (child + 1 < count && values[child + 1] > values[child]) child++;
    if (values[root] >= values[child]) return;
    uint64_t swap = values[root];
    values[root] = values[child];
    values[child] = swap;
    root = child;
  }
}

static void heap_sort_u64(uint64_t *values, size_t count) {
  for (size_t i = count / 2; i-- > 0;) sift_down_u64(values, i, count);
  for (size_t end = count; end-- > 1;) {
    uint64_t swap = values[0];
    values[0] = values[end];
    values[end] = swap;
    sift_down_u64(values, 0, end);
  }
}

// Quicksort on the median of three, insertion sort below 24 values, and heapsort once the
// recursion is deeper than twice the logarithm of the count: O(n log n) in every case.
static void intro_sort_u64(uint64_t *values, size_t count, int depth) {
  while (count > 24) {
    if (depth-- == 0) {
      heap_sort_u64(values, count);
      return;
    }
    uint64_t a = values[0], b = values[count / 2], c = values[count - 1];
    uint64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = 0, j = count - 1;
    for (;;) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i >= j) break;
      uint64_t swap = values[i];
      values[i] = values[j];
      values[j] = swap;
      i++;
      j--;
    }
    // [0, j] ≤ pivot ≤ [j + 1, count): recurse into the smaller side, loop on the larger.
    size_t left = j + 1, right = count - left;
    if (left < right) {
      intro_sort_u64(values, left, depth);
      values += left;
      count = right;
    } else {
      intro_sort_u64(values + left, right, depth);
      count = left;
    }
  }
  insertion_sort_u64(values, count);
}

void semblance_sort_u64(uint64_t *values, size_t count) {
  int depth = 0;
  for (size_t n = count; n > 1; n >>= 1) depth += 2;
  intro_sort_u64(values, count, depth);
}

// One most-significant-digit counting pass, on the top bits of the values' range (from the
// least to the greatest value) with about two buckets a value, from a copy in `scratch` (room
// for `count`) back into `values`, then an insertion sort there. After the pass a value is
// out of order only within its bucket, which seldom holds more than one, so the insertion
// sort moves few values and its comparisons rarely mispredict. At 34,000 papers it took three
// quarters of the time of the three least-significant-byte passes it replaced (rows of 50 to
// 300 distinct columns below 432,000).
static void bucket_sort_u64(uint64_t *values, size_t count, uint64_t *scratch) {
  uint64_t least = values[0], greatest = values[0];
  for (size_t i = 1; i < count; i++) {
    least = values[i] < least ? values[i] : least;
    greatest = values[i] > greatest ? values[i] : greatest;
  }
  const int bits = 64 - __builtin_clzll((greatest - least) | 1);
  int digit = 64 - __builtin_clzll((uint64_t)count) + 1;
  if (digit > 11) digit = 11;
  const int shift = bits > digit ? bits - digit : 0;
  const size_t buckets = (size_t)1 << digit;
  uint32_t starts[1 << 11];
  memset(starts, 0, buckets * sizeof(uint32_t));
  for (size_t i = 0; i < count; i++) starts[(values[i] - least) >> shift]++;
  uint32_t total = 0;
  for (size_t bucket = 0; bucket < buckets; bucket++) {
    uint32_t size = starts[bucket];
    starts[bucket] = total;
    total += size;
  }
  memcpy(scratch, values, count * sizeof(uint64_t));
  for (size_t i = 0; i < count; i++) values[starts[(scratch[i] - least) >> shift]++] = scratch[i];
  insertion_sort_u64(values, count);
}

void semblance_sort_row_entries(uint64_t *values, size_t count) {
  // Below this, insertion and quicksort beat the counting pass's fixed cost; above the
  // scratch's size (rare: a row of thousands of distinct terms), quicksort needs no memory.
  enum { bucket_minimum = 32, scratch_size = 2048 };
  if (count < bucket_minimum || count > scratch_size) {
    semblance_sort_u64(values, count);
    return;
  }
  uint64_t scratch[scratch_size];
  bucket_sort_u64(values, count, scratch);
}
