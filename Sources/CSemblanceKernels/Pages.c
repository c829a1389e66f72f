#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

#include "CSemblanceKernels.h"

// `mremap` is variadic in C (its fifth argument is optional), so Swift cannot call it.
int semblance_move_pages(void *from, size_t length, void *to) {
#if defined(__linux__) && defined(MREMAP_FIXED)
  void *moved = mremap(from, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, to);
  return moved == MAP_FAILED ? -1 : 0;
#else
  (void)from;
  (void)length;
  (void)to;
  errno = ENOTSUP;
  return -1;
#endif
}

void *semblance_grow_mapping(void *base, size_t length, size_t new_length) {
#if defined(__linux__)
  void *grown = mremap(base, length, new_length, MREMAP_MAYMOVE);
  return grown == MAP_FAILED ? NULL : grown;
#else
  (void)base;
  (void)length;
  (void)new_length;
  errno = ENOTSUP;
  return NULL;
#endif
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void semblance_return_free_heap(void) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}
