#include "CSemblanceKernels.h"

// Products are added one at a time, rounded after the multiplication and after the addition,
// with no fused multiply-add: the order and rounding of `SparseMatrix.dot`'s merge, so a
// cosine is the same to the bit whichever path computes it.
#pragma STDC FP_CONTRACT OFF

// Whether `column` may be the query's: its bit in the filter (a false positive reads a zero).
static inline int in_filter(const uint64_t *filter, int32_t column) {
  uint32_t bit = semblance_filter_bit(column);
  return (int)((filter[bit >> 6] >> (bit & 63)) & 1);
}

static float marked_dot_portable(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const float *dense) {
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

// Entries are screened sixteen at a time against the summary, held in four registers: the
// top 11 bits of an entry's filter bit pick one of its 2,048 bits (two two-register
// permutes and a blend: no memory access). The positions that pass, about one in ten for
// rows of ~150 terms (the query's and false positives), are packed into a list, and one loop
// over the list then checks each against the filter and adds its product, reading `dense`
// at the query's own lines or, for a false positive, at the zero after the vocabulary. So
// nothing is gathered, and the only data-dependent branch is the list loop's end.
__attribute__((target("avx512f")))
static float marked_dot_avx512(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const uint32_t *summary, const float *dense, int32_t zero) {
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
    __m512i index = _mm512_add_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)start));
    for (size_t i = start; i < end; i += 16, index = _mm512_add_epi32(index, step)) {
      __mmask16 valid = end - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - i)) - 1);
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
      _mm512_storeu_si512((void *)(passed + found), _mm512_maskz_compress_epi32(pass, index));
      found += (size_t)__builtin_popcount(pass);
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
#endif

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
