#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>

#include "CSemblanceKernels.h"

int semblance_set_direct_io(int descriptor, int enabled) {
#if defined(__linux__) && defined(O_DIRECT)
  int flags = fcntl(descriptor, F_GETFL);
  if (flags < 0) return -1;
  int wanted = enabled ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  if (wanted == flags) return 0;
  return fcntl(descriptor, F_SETFL, wanted) < 0 ? -1 : 0;
#elif defined(__APPLE__) && defined(F_NOCACHE)
  return fcntl(descriptor, F_NOCACHE, enabled ? 1 : 0) < 0 ? -1 : 0;
#else
  (void)descriptor;
  (void)enabled;
  errno = ENOTSUP;
  return -1;
#endif
}
