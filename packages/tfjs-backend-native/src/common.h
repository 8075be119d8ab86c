// Shared declarations for all translation units. ISA-specific TUs include only
// this header and kernels.h (no STL): template code instantiated under
// -mavx512f could otherwise be picked by the linker for baseline callers.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace dlopt {

typedef int64_t i64;

// Runs fn(ctx, begin, end, thread) over a static split of [0, n) into
// contiguous ranges, one per thread, each at least `grain` long (fewer threads
// for small n). The calling thread is thread 0 and takes the first range.
// Returns after every range is done. A nested call runs serially on the
// calling thread. Callers must not enter concurrently from several threads
// (the addon serialises kernel calls), since scratch buffers are per pool thread.
typedef void (*TaskFn)(void* ctx, i64 begin, i64 end, int thread);
void parallel_for(i64 n, i64 grain, TaskFn fn, void* ctx);

// Number of threads parallel_for may use (the pool size including the caller).
int num_threads();

// Per-thread scratch memory: a grow-only, 64-byte aligned buffer for `thread`
// and `slot` (a few independent buffers per thread). Contents are undefined.
enum { kScratchSlots = 4 };
void* scratch(int thread, int slot, size_t bytes);

}  // namespace dlopt
