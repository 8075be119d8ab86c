// A persistent thread pool: the caller works as thread 0 and P-1 threads wait
// for work. tfjs calls kernels back to back (over a hundred per training step),
// so workers spin for a while after each region before sleeping on a
// condition variable: a condvar wake-up costs tens of microseconds, a spinning
// hand-off well under one. Work is split into a few chunks per thread and
// claimed dynamically, so a descheduled worker (a busy or shared machine) does
// not hold up the whole region.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include <sched.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
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
// The caller's mode is switched per kernel call by the addon (CallScope).
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

constexpr int kChunksPerThread = 4;

// The pool thread this is (0 for the caller), for nested regions.
thread_local int tl_thread = 0;

// The claim word: region generation (32 bits) | chunk count (16) | next chunk (16).
inline uint64_t pack(uint64_t gen, uint64_t chunks, uint64_t next) { return gen << 32 | chunks << 16 | next; }
inline uint32_t gen_of(uint64_t c) { return (uint32_t)(c >> 32); }
inline uint32_t chunks_of(uint64_t c) { return (uint32_t)(c >> 16) & 0xffff; }
inline uint32_t next_of(uint64_t c) { return (uint32_t)c & 0xffff; }

class Pool {
 public:
  explicit Pool(int threads) : size_(threads) {
    for (int t = 1; t < size_; t++) std::thread([this, t] { loop(t); }).detach();  // lives until exit
  }

  int size() const { return size_; }

  int chunks_for(i64 n, i64 grain) const {
    if (grain < 1) grain = 1;
    i64 chunks = n / grain;
    const i64 cap = (i64)size_ * kChunksPerThread;
    if (chunks > cap) chunks = cap;
    if (size_ == 1 || chunks < 2) return 1;
    return (int)chunks;
  }

  void run(i64 n, i64 grain, TaskFn fn, void* ctx) {
    if (n <= 0) return;
    const int chunks = chunks_for(n, grain);
    if (chunks == 1 || busy_.exchange(true, std::memory_order_acquire)) {
      // One chunk, or nested inside a region: run the chunks here, in order.
      for (int c = 0; c < chunks; c++) fn(ctx, n * c / chunks, n * (c + 1) / chunks, tl_thread, c);
      return;
    }
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = (gen_of(claim_.load(std::memory_order_relaxed)) + 1) & 0xffffffffu;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      claim_.store(pack(gen, (uint64_t)chunks, 0), std::memory_order_release);
    }
    if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    work(0, (uint32_t)gen);
    while (done_.load(std::memory_order_acquire) != chunks) cpu_relax();
    busy_.store(false, std::memory_order_release);
  }

 private:
  // Claims and runs chunks of region `gen` until none are left.
  void work(int t, uint32_t gen) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      if (gen_of(c) != gen || next_of(c) >= chunks_of(c)) return;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // A claimed chunk keeps the region open, so fn_, ctx_ and n_ are stable here.
      const i64 chunks = chunks_of(c), k = next_of(c);
      fn_(ctx_, n_ * k / chunks, n_ * (k + 1) / chunks, t, (int)k);
      done_.fetch_add(1, std::memory_order_acq_rel);
      c = claim_.load(std::memory_order_acquire);
    }
  }

  void loop(int t) {
    set_ftz_daz();
    tl_thread = t;
    uint32_t seen = 0;
    for (;;) {
      // Spin first (about a millisecond), then sleep until the next region.
      uint64_t c;
      int spins = 0;
      while (gen_of(c = claim_.load(std::memory_order_acquire)) == seen) {
        if (++spins < kSpins) {
          cpu_relax();
          continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_acq_rel);
        wake_.wait(lock, [&] { return gen_of(claim_.load(std::memory_order_acquire)) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      }
      seen = gen_of(c);
      work(t, seen);
    }
  }

  static constexpr int kSpins = 20000;
  const int size_;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  i64 n_ = 0;
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};
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

int parallel_chunks(i64 n, i64 grain) { return pool().chunks_for(n, grain); }

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
