// A persistent thread pool: the caller is worker 0, P-1 threads wait for work.
// tfjs calls kernels back to back (hundreds per training step), so workers spin
// for a while after each region before sleeping on a condition variable: a
// condvar wake-up costs tens of microseconds, a spinning hand-off well under one.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include <sched.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <xmmintrin.h>
#endif

#include "common.h"

namespace dlopt {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Denormals make tiny gradients 10-100x slower; workers flush them to zero.
// The caller's mode is switched per kernel call by the addon (see FtzScope).
void set_ftz_daz() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

int detect_threads() {
  if (const char* env = std::getenv("DLOPT_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return n > 256 ? 256 : n;
  }
  int n = 0;
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n <= 0) n = (int)std::thread::hardware_concurrency();
  if (n <= 0) n = 1;
  return n > 256 ? 256 : n;
}

struct Region {
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  i64 n = 0;
  int parts = 1;
};

class Pool {
 public:
  explicit Pool(int threads) : size_(threads) {
    for (int t = 1; t < size_; t++) workers_.emplace_back([this, t] { loop(t); });
    for (auto& w : workers_) w.detach();  // lives until the process exits
  }

  int size() const { return size_; }

  void run(i64 n, i64 grain, TaskFn fn, void* ctx) {
    if (grain < 1) grain = 1;
    i64 parts = n / grain;
    if (parts > size_) parts = size_;
    if (parts <= 1 || busy_.exchange(true, std::memory_order_acquire)) {
      // Too small to split, or nested: run here.
      if (n > 0) fn(ctx, 0, n, 0);
      return;
    }
    region_.fn = fn;
    region_.ctx = ctx;
    region_.n = n;
    region_.parts = (int)parts;
    pending_.store((int)parts - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    execute(0);
    while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
    busy_.store(false, std::memory_order_release);
  }

 private:
  void execute(int t) {
    const Region& r = region_;
    if (t >= r.parts) return;
    i64 begin = r.n * t / r.parts;
    i64 end = r.n * (t + 1) / r.parts;
    if (begin < end) r.fn(r.ctx, begin, end, t);
  }

  void loop(int t) {
    set_ftz_daz();
    uint64_t seen = 0;
    for (;;) {
      // Spin first (about a millisecond), then sleep until the next region.
      uint64_t gen;
      int spins = 0;
      while ((gen = generation_.load(std::memory_order_acquire)) == seen) {
        if (++spins < kSpins) {
          cpu_relax();
          continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_acq_rel);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      }
      seen = gen;
      if (t < region_.parts) {
        execute(t);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  static constexpr int kSpins = 20000;
  const int size_;
  std::vector<std::thread> workers_;
  Region region_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> busy_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

Pool& pool() {
  // Never destroyed: worker threads may still be spinning at exit.
  static Pool* p = new Pool(detect_threads());
  return *p;
}

struct ScratchBuf {
  void* ptr = nullptr;
  size_t size = 0;
};

// Indexed by thread and slot; thread ids come from parallel_for (0..P-1).
ScratchBuf* scratch_table() {
  static ScratchBuf* table = new ScratchBuf[256 * kScratchSlots]();
  return table;
}

}  // namespace

void parallel_for(i64 n, i64 grain, TaskFn fn, void* ctx) { pool().run(n, grain, fn, ctx); }

int num_threads() { return pool().size(); }

void* scratch(int thread, int slot, size_t bytes) {
  ScratchBuf& b = scratch_table()[thread * kScratchSlots + slot];
  if (b.size < bytes) {
    std::free(b.ptr);
    size_t size = (bytes + 4095) & ~(size_t)4095;
    b.ptr = std::aligned_alloc(64, size);
    b.size = b.ptr ? size : 0;
    if (!b.ptr) std::abort();
  }
  return b.ptr;
}

}  // namespace dlopt
