#ifndef SEMBLANCE_KERNELS_H
#define SEMBLANCE_KERNELS_H

// Hints that Swift has no spelling for, used by Semblance's memory-bound sparse kernels.

/// Asks the processor to start loading the cache line holding `address` for reading.
/// Only a hint: it never faults, even for an address outside any mapping.
static inline __attribute__((always_inline)) void semblance_prefetch(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address, 0, 3);
#else
  (void)address;
#endif
}

#endif
