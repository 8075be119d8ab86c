// Shared declarations for all translation units. ISA-specific TUs include only
// this header and kernels.h (no STL): template code instantiated under
// -mavx512f could otherwise be picked by the linker for baseline callers.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace dlopt {

typedef int64_t i64;

// Runs fn(ctx, begin, end, thread, chunk) over [0, n) split into
// parallel_chunks(n, grain) contiguous chunks (each at least `grain` long;
// chunk boundaries depend only on n and grain). Threads claim chunks as they
// become free, so a worker the OS has descheduled delays only a chunk it
// already holds; the calling thread is thread 0 and works too. Results that
// combine chunks (partial sums) should be indexed by chunk, which keeps them
// deterministic. Returns after every chunk is done. A nested call runs
// serially on the calling thread. Callers must not enter concurrently from
// several threads (the addon serialises kernel calls): scratch buffers are per
// pool thread.
typedef void (*TaskFn)(void* ctx, i64 begin, i64 end, int thread, int chunk);
void parallel_for(i64 n, i64 grain, TaskFn fn, void* ctx);
int parallel_chunks(i64 n, i64 grain);

// Number of threads parallel_for may use (the pool size including the caller).
int num_threads();

// Per-thread scratch memory: a grow-only, 64-byte aligned buffer for `thread`
// and `slot` (a few independent buffers per thread). Contents are undefined.
enum { kScratchSlots = 4 };
void* scratch(int thread, int slot, size_t bytes);

}  // namespace dlopt
