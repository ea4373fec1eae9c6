// What the allocator says the process uses: INFO memory's used_memory and the maxmemory check.
//
// Why malloc's own figure and not bytes the keyspace accounts: the accounting sees keys and
// values, but not dict bucket arrays, client query and output buffers, the log's unsynced
// buffers, the per-type node overheads it estimates, nor the chunk headers malloc adds. A
// budget checked against accounted bytes alone let RSS run well past `maxmemory`. Redis counts
// every allocation through zmalloc for the same reason. glibc's mallinfo2() walks the free
// lists of every arena, so it is sampled by the housekeeping tick (Keyspace::SampleUsedMemory)
// and bridged in between by the change in accounted bytes; a command over maxmemory samples it
// before evicting, at most once a millisecond (Keyspace::EvictKeys), never per command.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>

// Defined by the sanitizers' allocators (ASan, TSan, MSan); absent otherwise.
extern "C" size_t __sanitizer_get_current_allocated_bytes() __attribute__((weak));

namespace fdb {

// Bytes the process's live allocations take. Under a sanitizer glibc's arenas are unused (and
// mallinfo2 reports next to nothing); the sanitizer's allocator then knows the live bytes, its
// quarantine of freed chunks excluded.
inline size_t MallocUsedBytes() {
  if (&__sanitizer_get_current_allocated_bytes != nullptr) {
    return __sanitizer_get_current_allocated_bytes();
  }
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Resident set size, from /proc/self/statm.
inline size_t ProcessRssBytes() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages_total = 0, pages_rss = 0;
  int n = fscanf(f, "%lu %lu", &pages_total, &pages_rss);
  fclose(f);
  if (n != 2) return 0;
  return pages_rss * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace fdb
