#include "commands/client_memory.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>
#include <vector>

#include "base/logging.h"

namespace fdb {

void EvictClients(ServerContext& server, int64_t limit) {
  struct Candidate {
    size_t mem;
    uint64_t id;
  };
  std::vector<Candidate> candidates;
  int64_t left = 0;  // what the clients not asked to close yet hold
  server.clients().ForEach([&](ClientState& c) {
    size_t mem = c.tot_mem.load(std::memory_order_relaxed);
    if (c.kill_requested.load(std::memory_order_relaxed)) return;
    left += static_cast<int64_t>(mem);
    if (!c.no_evict.load(std::memory_order_relaxed) && c.request_close) {
      candidates.push_back({mem, c.id});
    }
  });
  if (left <= limit) return;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.mem > b.mem; });
  std::unordered_set<uint64_t> victims;
  for (const Candidate& c : candidates) {
    if (left <= limit) break;
    victims.insert(c.id);
    left -= static_cast<int64_t>(c.mem);
  }
  if (victims.empty()) return;
  server.clients().ForEach([&](ClientState& c) {
    if (victims.count(c.id) == 0 || c.kill_requested.exchange(true)) return;
    server.evicted_clients.fetch_add(1, std::memory_order_relaxed);
    FDB_LOG_VERBOSE("evicting client %s (tot-mem=%zu, maxmemory-clients=%lld)", c.addr.c_str(),
                    c.tot_mem.load(std::memory_order_relaxed), static_cast<long long>(limit));
    c.request_close();
  });
}

void EvictClientsIfOver(ServerContext& server) {
  const int64_t limit = server.config().maxmemory_clients_bytes();
  if (limit > 0 && server.client_memory.load(std::memory_order_relaxed) > limit) {
    EvictClients(server, limit);
  }
}

}  // namespace fdb
