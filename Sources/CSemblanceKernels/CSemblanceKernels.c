#include "CSemblanceKernels.h"

// The portable kernels. Scores are taken sixteen at a time: a group none of whose scores
// passes, which is nearly every group once a threshold has risen, costs one OR of sixteen
// comparisons, which compilers turn into a few vector instructions (SSE2, NEON); only groups
// with a hit are listed, branch-free.

// Both threshold loops: one threshold for every score, or (`thresholds` not null) one each.
// Always inlined into callers that pass a constant null or a pointer, so each gets its own
// loop with no test per score.
static inline __attribute__((always_inline)) size_t indices_at_least_portable(
    const float *scores, const float *thresholds, float threshold, size_t count,
    uint32_t *hits) {
#define LIMIT(i) (thresholds ? thresholds[i] : threshold)
  size_t found = 0, i = 0;
  for (; i + 16 <= count; i += 16) {
    int any = 0;
    for (size_t j = 0; j < 16; j++) any |= scores[i + j] >= LIMIT(i + j);
    if (!any) continue;
    for (size_t j = 0; j < 16; j++) {
      hits[found] = (uint32_t)(i + j);
      found += scores[i + j] >= LIMIT(i + j);
    }
  }
  for (; i < count; i++) {
    hits[found] = (uint32_t)i;
    found += scores[i] >= LIMIT(i);
  }
#undef LIMIT
  return found;
}

// The re-ranking's sparse dot product (`semblance_marked_dot`). Products are added one at a
// time, rounded after the multiplication and after the addition, with no fused multiply-add
// (contraction is off inside these functions): the order and rounding of `SparseMatrix.dot`'s
// merge, so a cosine is the same to the bit whichever path computes it.

// Whether `column` may be the query's: its bit in the filter (a false positive reads a zero).
static inline int in_filter(const uint64_t *filter, int32_t column) {
  uint32_t bit = semblance_filter_bit(column);
  return (int)((filter[bit >> 6] >> (bit & 63)) & 1);
}

static float marked_dot_portable(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const float *dense) {
#pragma STDC FP_CONTRACT OFF
  float sum = 0;
  for (size_t j = 0; j < count; j++) {
    if (in_filter(filter, columns[j])) {
      float product = values[j] * dense[columns[j]];
      sum += product;
    }
  }
  return sum;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// AVX-512 kernels: each group of sixteen gives a mask of passing lanes, whose indices are
// packed in a register (the register form of VPCOMPRESSD: its memory form is microcoded and
// slow on some processors) and stored as a whole vector, the count advancing by the mask's
// population. Every group is loaded under a mask of the lanes before `count`, so no byte past
// the end is read; for a full group that costs nothing over a plain load.

/// The lanes of the group starting at `i` that lie before `count`.
static inline __mmask16 group_lanes(size_t i, size_t count) {
  return count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
}

/// Appends the lanes of `index` that `pass` selects to `hits` at `found`; returns the new count.
__attribute__((target("avx512f")))
static inline size_t append_hits_avx512(uint32_t *hits, size_t found, __mmask16 pass, __m512i index) {
  if (!pass) return found;
  _mm512_storeu_si512((void *)(hits + found), _mm512_maskz_compress_epi32(pass, index));
  return found + (size_t)__builtin_popcount(pass);
}

#define SEMBLANCE_FIRST_INDICES _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

// As the portable loop: one threshold, or one per score when `thresholds` is not null.
__attribute__((target("avx512f"), always_inline))
static inline size_t indices_at_least_avx512(
    const float *scores, const float *thresholds, float threshold, size_t count,
    uint32_t *hits) {
  const __m512 limit = _mm512_set1_ps(threshold);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i index = SEMBLANCE_FIRST_INDICES;
  size_t found = 0;
  for (size_t i = 0; i < count; i += 16, index = _mm512_add_epi32(index, step)) {
    __mmask16 lanes = group_lanes(i, count);
    __m512 group = _mm512_maskz_loadu_ps(lanes, scores + i);
    __m512 limits = thresholds ? _mm512_maskz_loadu_ps(lanes, thresholds + i) : limit;
    found = append_hits_avx512(
        hits, found, _mm512_mask_cmp_ps_mask(lanes, group, limits, _CMP_GE_OQ), index);
  }
  return found;
}

// The two instances: a constant null, and the per-score thresholds.
__attribute__((target("avx512f")))
static size_t indices_at_least_one_avx512(
    const float *scores, size_t count, float threshold, uint32_t *hits) {
  return indices_at_least_avx512(scores, NULL, threshold, count, hits);
}

__attribute__((target("avx512f")))
static size_t indices_at_least_each_avx512(
    const float *scores, const float *thresholds, size_t count, uint32_t *hits) {
  return indices_at_least_avx512(scores, thresholds, 0, count, hits);
}

// Entries are screened sixteen at a time against the summary, held in four registers: the
// top 11 bits of an entry's filter bit pick one of its 2,048 bits (two two-register
// permutes and a blend: no memory access). The positions that pass, about one in ten for
// rows of ~150 terms (the query's and false positives), are packed into a list, and one loop
// over the list then checks each against the filter and adds its product, reading `dense`
// at the query's own lines or, for a false positive, at the zero after the vocabulary. So
// nothing is gathered, and no branch depends on which entries pass but the list loop's end
// (and the packing's skip of a group with none).
__attribute__((target("avx512f")))
static float marked_dot_avx512(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const uint32_t *summary, const float *dense, int32_t zero) {
#pragma STDC FP_CONTRACT OFF
  const __m512i low5 = _mm512_set1_epi32(31);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i upper = _mm512_set1_epi32(32);
  const __m512i step = _mm512_set1_epi32(16);
  const __m512i multiplier = _mm512_set1_epi32((int)0x9E3779B1u);
  const __m512i s0 = _mm512_loadu_si512((const void *)summary);
  const __m512i s1 = _mm512_loadu_si512((const void *)(summary + 16));
  const __m512i s2 = _mm512_loadu_si512((const void *)(summary + 32));
  const __m512i s3 = _mm512_loadu_si512((const void *)(summary + 48));
  enum { chunk = 256 };
  uint32_t passed[chunk + 16];
  float sum = 0;
  for (size_t start = 0; start < count; start += chunk) {
    size_t end = count - start > chunk ? start + chunk : count, found = 0;
    __m512i index = _mm512_add_epi32(SEMBLANCE_FIRST_INDICES, _mm512_set1_epi32((int)start));
    for (size_t i = start; i < end; i += 16, index = _mm512_add_epi32(index, step)) {
      __mmask16 valid = group_lanes(i, end);
      __m512i group = _mm512_maskz_loadu_epi32(valid, (const void *)(columns + i));
      // The list loop reads these entries' values at random: ask for their lines now.
      _mm_prefetch((const char *)(values + i), _MM_HINT_T0);
      _mm_prefetch((const char *)(values + i + 15), _MM_HINT_T0);
      __m512i word = _mm512_srli_epi32(
          _mm512_mullo_epi32(group, multiplier), 32 - SEMBLANCE_FILTER_BITS + 6);
      __m512i quarter = _mm512_srli_epi32(word, 5);
      __m512i low = _mm512_permutex2var_epi32(s0, quarter, s1);
      __m512i high = _mm512_permutex2var_epi32(s2, quarter, s3);
      __m512i bits = _mm512_mask_blend_epi32(_mm512_test_epi32_mask(quarter, upper), low, high);
      __mmask16 pass = _mm512_mask_test_epi32_mask(
          valid, _mm512_srlv_epi32(bits, _mm512_and_si512(word, low5)), one);
      found = append_hits_avx512(passed, found, pass, index);
    }
    for (size_t k = 0; k < found; k++) {
      uint32_t j = passed[k];
      int32_t column = columns[j];
      // `column` if the filter has it, else `zero`, by arithmetic: about half the entries
      // that pass the summary are its false positives, so a branch would guess wrong often.
      uint32_t member = (uint32_t)in_filter(filter, column);
      __asm__("" : "+r"(member));  // Keeps the compiler from turning the mask into a branch.
      int32_t read = zero + (int32_t)((uint32_t)(column - zero) & (0u - member));
      float product = values[j] * dense[read];
      sum += product;
    }
  }
  return sum;
}

// CRC-32 folding (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ Instruction", Intel, 2009). A 128-bit block A followed by data B has the same
// CRC register (from 0) as the block A·x^n mod P, aligned with B, xored into B, where n is
// the distance folded. For the bit-reflected polynomial that block is
// clmul(A.low, k_low) ^ clmul(A.high, k_high) with k = x^(n+32) mod P and x^(n-32) mod P,
// bit-reflected and shifted by one: the pairs below fold by 512 bits (four lanes, 64 bytes
// apart) and by 128 bits. Tests compare every length against the table-driven CRC.

__attribute__((target("pclmul,sse4.1")))
static inline __m128i crc32_fold_block(__m128i block, __m128i constants) {
  return _mm_xor_si128(
      _mm_clmulepi64_si128(block, constants, 0x00), _mm_clmulepi64_si128(block, constants, 0x11));
}

__attribute__((target("pclmul,sse4.1")))
static size_t crc32_fold_pclmul(uint32_t crc, const uint8_t *bytes, size_t count, uint8_t folded[16]) {
  const __m128i by512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i by128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  __m128i x0 = _mm_loadu_si128((const __m128i *)(bytes + 0));
  __m128i x1 = _mm_loadu_si128((const __m128i *)(bytes + 16));
  __m128i x2 = _mm_loadu_si128((const __m128i *)(bytes + 32));
  __m128i x3 = _mm_loadu_si128((const __m128i *)(bytes + 48));
  x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
  size_t position = 64;
  for (; position + 64 <= count; position += 64) {
    x0 = _mm_xor_si128(crc32_fold_block(x0, by512), _mm_loadu_si128((const __m128i *)(bytes + position)));
    x1 = _mm_xor_si128(crc32_fold_block(x1, by512), _mm_loadu_si128((const __m128i *)(bytes + position + 16)));
    x2 = _mm_xor_si128(crc32_fold_block(x2, by512), _mm_loadu_si128((const __m128i *)(bytes + position + 32)));
    x3 = _mm_xor_si128(crc32_fold_block(x3, by512), _mm_loadu_si128((const __m128i *)(bytes + position + 48)));
  }
  __m128i x = _mm_xor_si128(crc32_fold_block(x0, by128), x1);
  x = _mm_xor_si128(crc32_fold_block(x, by128), x2);
  x = _mm_xor_si128(crc32_fold_block(x, by128), x3);
  for (; position + 16 <= count; position += 16) {
    x = _mm_xor_si128(crc32_fold_block(x, by128), _mm_loadu_si128((const __m128i *)(bytes + position)));
  }
  _mm_storeu_si128((__m128i *)folded, x);
  return position;
}

static int processor_has_pclmul(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

static int processor_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#else
static int processor_has_avx512(void) { return 0; }
static int processor_has_pclmul(void) { return 0; }
#endif

// -1 until first asked; then 1 (AVX-512) or 0 (portable). Written once per process in normal
// use, and only by tests otherwise, so a relaxed atomic is enough.
static int vector_choice = -1;
// Likewise for the CRC-32 folding with PCLMULQDQ.
static int fold_choice = -1;

int semblance_vector_kernels(void) {
  int choice = __atomic_load_n(&vector_choice, __ATOMIC_RELAXED);
  if (choice < 0) {
    choice = processor_has_avx512();
    __atomic_store_n(&vector_choice, choice, __ATOMIC_RELAXED);
  }
  return choice;
}

void semblance_use_vector_kernels(int enabled) {
  __atomic_store_n(&vector_choice, enabled ? processor_has_avx512() : 0, __ATOMIC_RELAXED);
  __atomic_store_n(&fold_choice, enabled ? processor_has_pclmul() : 0, __ATOMIC_RELAXED);
}

size_t semblance_indices_at_least(
    const float *scores, size_t count, float threshold, uint32_t *hits) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (semblance_vector_kernels()) {
    return indices_at_least_one_avx512(scores, count, threshold, hits);
  }
#endif
  return indices_at_least_portable(scores, NULL, threshold, count, hits);
}

size_t semblance_indices_at_least_each(
    const float *scores, const float *thresholds, size_t count, uint32_t *hits) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (semblance_vector_kernels()) {
    return indices_at_least_each_avx512(scores, thresholds, count, hits);
  }
#endif
  return indices_at_least_portable(scores, thresholds, 0, count, hits);
}

float semblance_marked_dot(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const uint32_t *summary, const float *dense, int32_t zero) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (semblance_vector_kernels()) {
    return marked_dot_avx512(columns, values, count, filter, summary, dense, zero);
  }
#endif
  (void)summary;
  (void)zero;
  return marked_dot_portable(columns, values, count, filter, dense);
}

size_t semblance_crc32_fold(uint32_t crc, const uint8_t *bytes, size_t count, uint8_t folded[16]) {
  if (count < 64) return 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  int choice = __atomic_load_n(&fold_choice, __ATOMIC_RELAXED);
  if (choice < 0) {
    choice = processor_has_pclmul();
    __atomic_store_n(&fold_choice, choice, __ATOMIC_RELAXED);
  }
  if (choice) return crc32_fold_pclmul(crc, bytes, count, folded);
#else
  (void)crc; (void)bytes; (void)folded;
#endif
  return 0;
}
