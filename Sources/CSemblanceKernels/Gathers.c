#include "CSemblanceKernels.h"

// Sparse-times-dense gathers of the SVD with AVX-512: for each row of a CSR matrix, the sum
// over its entries of value × a dense row of the other factor, held in 512-bit registers.
// The Swift kernels they stand in for hold 4-lane registers (the baseline x86-64 and NEON
// width) and multiply and add separately; these fuse both and take 16 lanes per instruction.
// Without AVX-512 the functions return 0 and write nothing, and the caller runs its own.

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define GATHER_TARGET __attribute__((target("avx512f")))
#define PREFETCH_DISTANCE 16
// The bfloat16 gathers read one random 64-byte row per entry, so the memory system's
// parallelism bounds them. A prefetch into L1 holds one of the core's few L1 miss buffers
// until its line arrives; one into L2 only (locality 1: prefetcht2) does not, so more rows
// are in flight and they can be asked for further ahead. In a stand-alone loop over 80
// million uniformly random rows of 244 MB on both cores: 10.2-10.5 ns an entry with L1
// prefetches 16 ahead, 6.4-6.9 ns with L2 prefetches 32 ahead.
#define BF16_PREFETCH_DISTANCE 32
#define BF16_PREFETCH_LOCALITY 1

// bfloat16 rows: word 4g + i holds column 8g + i in its low half and column 8g + 4 + i in its
// high half, so the low halves of a 512-bit load are columns {0-3, 8-11, 16-19, 24-27} and the
// high halves the others, each unpacked by one shift or one mask.

GATHER_TARGET
static inline __m512 low_halves(__m512i words) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(words, 16));
}

GATHER_TARGET
static inline __m512 high_halves(__m512i words) {
  return _mm512_castsi512_ps(_mm512_and_si512(words, _mm512_set1_epi32((int)0xFFFF0000u)));
}

// The bits of each value rounded to the nearest bfloat16 (ties to even) in the upper half.
GATHER_TARGET
static inline __m512i rounded(__m512 values) {
  __m512i bits = _mm512_castps_si512(values);
  __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  return _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
}

GATHER_TARGET
static int gather_bf16_avx512(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const uint8_t *source, size_t columns, uint8_t *packed_output,
    float *float_output, size_t float_stride, size_t float_count) {
  const size_t bytes = columns * 2;
  // 16 columns are 8 words: the upper lanes load as zeros and are never stored.
  const __mmask16 words = columns == 32 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
  const __m512i first_half =
      _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second_half =
      _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  const int64_t limit = offsets[last];
  for (int64_t p = offsets[first]; p < offsets[first] + BF16_PREFETCH_DISTANCE && p < limit;
       p++) {
    __builtin_prefetch(source + (size_t)indices[p] * bytes, 0, BF16_PREFETCH_LOCALITY);
  }
  for (size_t row = first; row < last; row++) {
    __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
    for (int64_t p = offsets[row]; p < offsets[row + 1]; p++) {
      if (p + BF16_PREFETCH_DISTANCE < limit) {
        __builtin_prefetch(
            source + (size_t)indices[p + BF16_PREFETCH_DISTANCE] * bytes, 0,
            BF16_PREFETCH_LOCALITY);
      }
      __m512i packed = _mm512_maskz_loadu_epi32(words, source + (size_t)indices[p] * bytes);
      __m512 value = _mm512_set1_ps(values[p]);
      low = _mm512_fmadd_ps(value, low_halves(packed), low);
      high = _mm512_fmadd_ps(value, high_halves(packed), high);
    }
    if (packed_output) {
      __m512i word = _mm512_or_si512(
          _mm512_srli_epi32(rounded(low), 16),
          _mm512_and_si512(rounded(high), _mm512_set1_epi32((int)0xFFFF0000u)));
      _mm512_mask_storeu_epi32(packed_output + row * bytes, words, word);
    } else {
      float *target = float_output + row * float_stride;
      size_t count = float_count;
      __mmask16 head = count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
      _mm512_mask_storeu_ps(target, head, _mm512_permutex2var_ps(low, first_half, high));
      if (count > 16) {
        __mmask16 tail = (__mmask16)((1u << (count - 16)) - 1);
        if (count >= 32) tail = (__mmask16)0xFFFF;
        _mm512_mask_storeu_ps(target + 16, tail, _mm512_permutex2var_ps(low, second_half, high));
      }
    }
  }
  return 1;
}

// Float32 rows of `VECTORS` × 16 floats: the sums stay in registers for a fixed count.
#define DEFINE_GATHER_F32(VECTORS)                                                            \
  GATHER_TARGET                                                                               \
  static void gather_f32_##VECTORS(                                                           \
      const int64_t *offsets, const int32_t *indices, const float *values, size_t first,      \
      size_t last, const float *source, size_t source_stride, float *output,                  \
      size_t output_stride) {                                                                 \
    const int64_t limit = offsets[last];                                                      \
    for (size_t row = first; row < last; row++) {                                             \
      __m512 sum[VECTORS];                                                                    \
      for (int v = 0; v < VECTORS; v++) sum[v] = _mm512_setzero_ps();                         \
      for (int64_t p = offsets[row]; p < offsets[row + 1]; p++) {                             \
        if (p + PREFETCH_DISTANCE < limit) {                                                  \
          const char *ahead =                                                                 \
              (const char *)(source + (size_t)indices[p + PREFETCH_DISTANCE] * source_stride); \
          for (int line = 0; line < VECTORS; line++) __builtin_prefetch(ahead + 64 * line, 0, 3); \
        }                                                                                     \
        const float *x = source + (size_t)indices[p] * source_stride;                         \
        __m512 value = _mm512_set1_ps(values[p]);                                             \
        for (int v = 0; v < VECTORS; v++) {                                                   \
          sum[v] = _mm512_fmadd_ps(value, _mm512_loadu_ps(x + 16 * v), sum[v]);               \
        }                                                                                     \
      }                                                                                       \
      float *target = output + (row - first) * output_stride;                                 \
      for (int v = 0; v < VECTORS; v++) _mm512_storeu_ps(target + 16 * v, sum[v]);            \
    }                                                                                         \
  }

DEFINE_GATHER_F32(1)
DEFINE_GATHER_F32(2)
DEFINE_GATHER_F32(3)
DEFINE_GATHER_F32(4)
DEFINE_GATHER_F32(5)
DEFINE_GATHER_F32(6)
DEFINE_GATHER_F32(7)
DEFINE_GATHER_F32(8)
DEFINE_GATHER_F32(9)
DEFINE_GATHER_F32(10)
DEFINE_GATHER_F32(11)
DEFINE_GATHER_F32(12)
DEFINE_GATHER_F32(13)
DEFINE_GATHER_F32(14)
DEFINE_GATHER_F32(15)
DEFINE_GATHER_F32(16)

// target[0..<width] += value × x[0..<width] with fused multiply-adds: `whole` floats in
// full vectors, then the `tail` lanes. The scatter and the row gather both add this way, so a
// row of V gets the same bits from either.
GATHER_TARGET
static inline void add_scaled_row(
    float value, const float *x, float *target, size_t whole, __mmask16 tail) {
  const __m512 scale = _mm512_set1_ps(value);
  size_t c = 0;
  for (; c < whole; c += 16) {
    __m512 sum = _mm512_fmadd_ps(scale, _mm512_loadu_ps(x + c), _mm512_loadu_ps(target + c));
    _mm512_storeu_ps(target + c, sum);
  }
  if (tail) {
    __m512 sum = _mm512_fmadd_ps(
        scale, _mm512_maskz_loadu_ps(tail, x + c), _mm512_maskz_loadu_ps(tail, target + c));
    _mm512_mask_storeu_ps(target + c, tail, sum);
  }
}

// Scatter: for each row, output[column] += value × source[row] for its entries whose column
// lies in [lower, upper), the target rows asked for a few entries ahead.
GATHER_TARGET
static void scatter_rows_avx512(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t rows,
    int32_t lower, int32_t upper, const float *source, size_t width, float *output) {
  const size_t whole = width / 16 * 16;
  const __mmask16 tail = (__mmask16)((1u << (width - whole)) - 1);
  const size_t lines = (width * sizeof(float) + 63) / 64;
  for (size_t row = 0; row < rows; row++) {
    int64_t position = offsets[row], end = offsets[row + 1];
    // The row's columns are sorted: binary search for the first at or after `lower`.
    int64_t high = end;
    while (position < high) {
      int64_t middle = position + (high - position) / 2;
      if (indices[middle] < lower) position = middle + 1; else high = middle;
    }
    const float *x = source + row * width;
    for (; position < end; position++) {
      int32_t column = indices[position];
      if (column >= upper) break;
      if (position + 4 < end && indices[position + 4] < upper) {
        const char *ahead = (const char *)(output + (size_t)indices[position + 4] * width);
        for (size_t line = 0; line < lines; line++) __builtin_prefetch(ahead + 64 * line, 1, 3);
      }
      add_scaled_row(values[position], x, output + (size_t)column * width, whole, tail);
    }
  }
}

// Rows of any width, for V = Xᵀ E formed a range of terms at a time: each term's row is
// summed in place in the output (zeroed first), with a masked tail for the last
// `width % 16` floats, so it adds the same fused products in the same order as
// `scatter_rows_avx512` adds them into a zeroed V.
GATHER_TARGET
static void gather_rows_avx512(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const float *source, size_t width, float *output) {
  const size_t whole = width / 16 * 16;
  const __mmask16 tail = (__mmask16)((1u << (width - whole)) - 1);
  const size_t lines = (width * sizeof(float) + 63) / 64;
  const int64_t limit = offsets[last];
  for (size_t row = first; row < last; row++) {
    float *target = output + (row - first) * width;
    __builtin_memset(target, 0, width * sizeof(float));
    for (int64_t p = offsets[row]; p < offsets[row + 1]; p++) {
      if (p + PREFETCH_DISTANCE < limit) {
        const char *ahead = (const char *)(source + (size_t)indices[p + PREFETCH_DISTANCE] * width);
        for (size_t line = 0; line < lines; line++) __builtin_prefetch(ahead + 64 * line, 0, 3);
      }
      add_scaled_row(values[p], source + (size_t)indices[p] * width, target, whole, tail);
    }
  }
}
#endif

int semblance_gather_bf16(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const void *source, size_t columns, void *packed_output, float *float_output,
    size_t float_stride, size_t float_count) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if ((columns == 16 || columns == 32) && float_count <= columns && first <= last &&
      semblance_vector_kernels()) {
    return gather_bf16_avx512(
        offsets, indices, values, first, last, (const uint8_t *)source, columns,
        (uint8_t *)packed_output, float_output, float_stride, float_count);
  }
#else
  (void)offsets; (void)indices; (void)values; (void)first; (void)last; (void)source;
  (void)columns; (void)packed_output; (void)float_output; (void)float_stride; (void)float_count;
#endif
  return 0;
}

int semblance_gather_f32(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const float *source, size_t source_stride, size_t floats, float *output,
    size_t output_stride) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (floats % 16 != 0 || floats == 0 || floats > 256 || first > last ||
      !semblance_vector_kernels()) {
    return 0;
  }
#define CASE(VECTORS)                                                                         \
  case VECTORS:                                                                               \
    gather_f32_##VECTORS(offsets, indices, values, first, last, source, source_stride, output, \
                         output_stride);                                                      \
    return 1;
  switch (floats / 16) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
  }
#undef CASE
#else
  (void)offsets; (void)indices; (void)values; (void)first; (void)last; (void)source;
  (void)source_stride; (void)floats; (void)output; (void)output_stride;
#endif
  return 0;
}

int semblance_scatter_rows(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t rows,
    int32_t lower, int32_t upper, const float *source, size_t width, float *output) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (width > 0 && semblance_vector_kernels()) {
    scatter_rows_avx512(offsets, indices, values, rows, lower, upper, source, width, output);
    return 1;
  }
#else
  (void)offsets; (void)indices; (void)values; (void)rows; (void)lower; (void)upper;
  (void)source; (void)width; (void)output;
#endif
  return 0;
}

int semblance_gather_rows(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const float *source, size_t width, float *output) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (width == 0 || first > last || !semblance_vector_kernels()) return 0;
  // Whole vectors (the default 128 floats among them): the sums stay in registers.
  if (width % 16 == 0 && width <= 256) {
    return semblance_gather_f32(
        offsets, indices, values, first, last, source, width, width, output, width);
  }
  gather_rows_avx512(offsets, indices, values, first, last, source, width, output);
  return 1;
#else
  (void)offsets; (void)indices; (void)values; (void)first; (void)last; (void)source;
  (void)width; (void)output;
  return 0;
#endif
}
