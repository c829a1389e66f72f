// The module is header-only (inline hints); SwiftPM needs one source file per C target.
#include "CSemblanceKernels.h"
