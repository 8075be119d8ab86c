// Chooses the kernel table once, from what the CPU (and OS) support;
// DLOPT_NATIVE_ISA=avx512|avx2|generic forces one (if this CPU can run it),
// so every path can be tested on one machine.
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace dlopt {
namespace {

struct Entry {
  const char* name;
  void (*fill)(KernelTable*);
  bool (*supported)();
};

#if defined(__x86_64__)
// __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif
bool always() { return true; }

const Entry kEntries[] = {
#if defined(__x86_64__)
    {"avx512", fill_table_avx512, has_avx512},
    {"avx2", fill_table_avx2, has_avx2},
#endif
    {"generic", fill_table_generic, always},
};
const int kCount = sizeof(kEntries) / sizeof(kEntries[0]);

KernelTable g_table;
bool g_ready = false;
const char* g_available[kCount + 1];

void init() {
  if (g_ready) return;
  int n = 0;
  for (const Entry& e : kEntries)
    if (e.supported()) g_available[n++] = e.name;
  g_available[n] = nullptr;
  const char* forced = std::getenv("DLOPT_NATIVE_ISA");
  g_ready = true;
  if (!(forced && *forced && select_isa(forced))) select_isa(g_available[0]);
}

}  // namespace

bool select_isa(const char* name) {
  init();
  for (const Entry& e : kEntries) {
    if (std::strcmp(e.name, name) == 0 && e.supported()) {
      e.fill(&g_table);
      return true;
    }
  }
  return false;
}

const KernelTable& kernels() {
  init();
  return g_table;
}

const char* const* available_isas() {
  init();
  return g_available;
}

}  // namespace dlopt
