#ifndef SEMBLANCE_KERNELS_H
#define SEMBLANCE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// Kernels that Swift has no spelling for, used by Semblance's memory-bound and selection
// loops.

/// Asks the processor to start loading the cache line holding `address` for reading.
/// Only a hint: it never faults, even for an address outside any mapping.
static inline __attribute__((always_inline)) void semblance_prefetch(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address, 0, 3);
#else
  (void)address;
#endif
}

/// Writes to `hits`, in ascending order, every index `i < count` with
/// `scores[i] >= threshold`, and returns how many there are. A NaN score is never a hit.
///
/// `hits` must have room for `count + 16` indices: the vector kernel stores whole vectors.
/// On processors with AVX-512 sixteen scores are compared per instruction; elsewhere the
/// portable loop gives the same hits.
size_t semblance_indices_at_least(
    const float *scores, size_t count, float threshold, uint32_t *hits);

/// As `semblance_indices_at_least`, with a threshold per index: `scores[i] >= thresholds[i]`.
size_t semblance_indices_at_least_each(
    const float *scores, const float *thresholds, size_t count, uint32_t *hits);

/// The bits of a term filter: 2^17 bits, 16 KiB, which stays in the first-level cache.
#define SEMBLANCE_FILTER_BITS 17

/// The filter bit of `column`: the top `SEMBLANCE_FILTER_BITS` bits of its product with a
/// 32-bit golden-ratio constant.
static inline __attribute__((always_inline)) uint32_t semblance_filter_bit(int32_t column) {
  return ((uint32_t)column * 0x9E3779B1u) >> (32 - SEMBLANCE_FILTER_BITS);
}

/// The dot product of a sparse query with a row of `count` entries (ascending, distinct
/// columns; values of at least zero, as in TF-IDF rows), the query held for many such
/// products: its values in `dense`, a vocabulary-sized array that is zero elsewhere, with a
/// zero at index `zero` (past the vocabulary); each of its columns `c` setting bit
/// `semblance_filter_bit(c)` of `filter` (2^SEMBLANCE_FILTER_BITS bits), and `summary`
/// (2,048 bits, 64 words) holding bit `w` for each nonzero 64-bit word `w` of the filter.
///
/// The products of shared columns are added in the row's column order, each multiplication
/// and addition rounded on its own (no fused multiply-add): the order of the merge in
/// `SparseMatrix.dot`, so both give the same bits. A filter's false positive reads a zero and
/// changes no sum. With AVX-512 the summary screens sixteen entries per step in registers, and
/// only the entries that pass are looked up.
float semblance_marked_dot(
    const int32_t *columns, const float *values, size_t count, const uint64_t *filter,
    const uint32_t *summary, const float *dense, int32_t zero);

/// Folds the first `count / 16 * 16` bytes at `bytes` (`count` at least 64) into one
/// 16-byte block with carry-less multiplication (PCLMULQDQ), for the reflected CRC-32 of
/// polynomial 0xEDB88320, starting from the running register `crc` (the pre-inverted form
/// that table-driven CRC loops carry). The CRC register over the folded bytes equals the
/// register over `folded` processed from 0. Returns the bytes folded, or 0 (nothing written)
/// when the processor lacks PCLMULQDQ or the portable kernels are forced.
size_t semblance_crc32_fold(uint32_t crc, const uint8_t *bytes, size_t count, uint8_t folded[16]);

/// A token found by `semblance_scan_ascii`: its bytes are `lowered[start ..< end]`, and
/// `hash` is their `semblance_term_hash`.
typedef struct {
  uint64_t hash;
  uint32_t start;
  uint32_t end;
} semblance_token;

/// The term hash of the analyzer's tables (Swift's `TermTable.hash`): eight bytes at a time
/// as little-endian words with multiply-xorshift mixing, then an avalanche.
uint64_t semblance_term_hash(const uint8_t *key, size_t length);

/// Whether every byte of `text` is below 0x80.
int semblance_is_ascii(const uint8_t *text, size_t length);

/// Splits ASCII `text` into tokens: maximal runs of the bytes 0-9, A-Z, a-z and _ of at least
/// two bytes. Writes the text lowercased to `lowered` (a token's bytes are its lowercase
/// spelling; other bytes are unspecified), and each token, in order, to `tokens`; returns
/// how many there are.
///
/// `lowered` must have room for `length + 8` bytes (a token's hash reads its last word whole
/// and masks it), and `tokens` for `length / 3 + 1` tokens. With AVX-512BW sixty-four bytes
/// are classified per instruction; elsewhere a table-driven loop gives the same tokens.
size_t semblance_scan_ascii(
    const uint8_t *text, size_t length, uint8_t *lowered, semblance_token *tokens);

/// Sorts `values` in ascending order, in place and with no allocation (introsort: quicksort
/// on the median of three, heapsort past twice the logarithm's depth, insertion sort for short
/// runs). `semblance_sort_row_entries` uses it for rows too short or too long for its counting
/// pass.
void semblance_sort_u64(uint64_t *values, size_t count);

/// Sorts row entries, `column << 32 | count`, by column: `values` in ascending order when no
/// two share their upper 32 bits (the lower halves then order nothing). For the lengths of
/// most rows, one counting pass on the top bits and an insertion sort of what it leaves;
/// `semblance_sort_u64` otherwise.
void semblance_sort_row_entries(uint64_t *values, size_t count);

/// For each row r in [first, last) of a CSR matrix (`offsets`, `indices`, `values`), the sum
/// over its entries of value × the bfloat16 row `source + index · columns · 2` (`columns` 16
/// or 32, in the packed layout of the Swift `PackedRegisterRow`: word 4g + i holds column
/// 8g + i in its low half and column 8g + 4 + i in its high half), summed in Float32 with
/// fused multiply-adds. With `packed_output`, row r's sum is written there at
/// `r · columns · 2`, packed the same way and rounded to nearest (ties to even); otherwise
/// its first `float_count` columns are written in column order at
/// `float_output + r · float_stride`.
///
/// Returns 1, or 0 with nothing written when the processor lacks AVX-512 (or the portable
/// kernels are forced): the caller then runs its own loop.
int semblance_gather_bf16(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const void *source, size_t columns, void *packed_output, float *float_output,
    size_t float_stride, size_t float_count);

/// For each row r in [first, last) of a CSR matrix, the sum over its entries of value × the
/// `floats` floats at `source + index · source_stride` (`floats` a multiple of 16, at most
/// 256), summed in registers with fused multiply-adds and written at
/// `output + (r - first) · output_stride`. Returns 1, or 0 with nothing written (as above).
int semblance_gather_f32(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const float *source, size_t source_stride, size_t floats, float *output,
    size_t output_stride);

/// For each row r < `rows` of a CSR matrix, and each of its entries whose column c lies in
/// [`lower`, `upper`), adds value × the `width` floats at `source + r · width` to the `width`
/// floats at `output + c · width`, with fused multiply-adds, rows in order and entries in
/// column order. Returns 1, or 0 with
/// nothing written (as above).
int semblance_scatter_rows(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t rows,
    int32_t lower, int32_t upper, const float *source, size_t width, float *output);

/// For each row r in [first, last) of a CSR matrix, the sum over its entries of value × the
/// `width` floats at `source + index · width`, written at `output + (r - first) · width`:
/// fused multiply-adds from zero in entry order, the sums `semblance_scatter_rows` forms for
/// the transposed matrix. Returns 1, or 0 with nothing written (as above).
int semblance_gather_rows(
    const int64_t *offsets, const int32_t *indices, const float *values, size_t first,
    size_t last, const float *source, size_t width, float *output);

/// Turns the page cache on or off for writes through `descriptor` (`O_DIRECT` on Linux,
/// `F_NOCACHE` on Darwin). Returns 0, or -1 with `errno` set where the file system or the
/// platform cannot do it. Direct writes need the buffer, the file offset and the length to
/// be multiples of the device's logical block size.
int semblance_set_direct_io(int descriptor, int enabled);

/// Moves the pages mapped at [from, from + length) to [to, to + length), replacing whatever
/// is mapped there, without copying them (Linux `mremap` with MREMAP_FIXED). Both addresses
/// must be page-aligned. Returns 0, or -1 with errno set (ENOTSUP elsewhere than Linux).
int semblance_move_pages(void *from, size_t length, void *to);

/// Gives the heap's free memory back to the kernel (glibc's `malloc_trim(0)`; elsewhere
/// nothing). Freed blocks otherwise stay resident in the allocator's arenas for reuse.
void semblance_return_free_heap(void);

/// Grows the anonymous mapping at `base` from `length` to `new_length` bytes, moving it if
/// needed, without copying its pages (Linux `mremap` with MREMAP_MAYMOVE); the added bytes
/// read as zero. Returns the mapping's new address, or NULL with errno set (ENOTSUP elsewhere
/// than Linux), in which case the old mapping is unchanged.
void *semblance_grow_mapping(void *base, size_t length, size_t new_length);

/// Which kernels the selection functions above use: 1 for AVX-512, 0 for the portable loop.
/// `semblance_use_vector_kernels(0)` forces the portable loops, and the table-driven CRC-32
/// instead of folding (for tests); `semblance_use_vector_kernels(1)` restores the processor's
/// choice.
int semblance_vector_kernels(void);
void semblance_use_vector_kernels(int enabled);

#endif
