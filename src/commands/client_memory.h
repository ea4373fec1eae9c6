// maxmemory-clients: a bound on the memory of all client connections together.
//
// Each connection publishes what it holds (ClientState::tot_mem: its read and output buffers
// plus a fixed overhead) and adds the change to ServerContext::client_memory. When the sum
// passes maxmemory-clients, the clients holding the most are closed first, until the rest fit
// (as Redis 7); clients marked CLIENT NO-EVICT on are never picked. A client is closed by its
// own I/O thread a moment later (ClientState::request_close), so clients already asked to
// close count as gone and are not picked twice.
#pragma once

#include <cstdint>

#include "commands/server_context.h"

namespace fdb {

// Called when the sum seen passed `limit` (> 0). Thread-safe. What the clients hold is summed
// again in the pass that picks the victims, from the same reads of their tot-mem: the sum the
// caller saw may still count a client that closed since (its memory leaves the sum before it
// leaves the client list), which would make one client too many look needed.
void EvictClients(ServerContext& server, int64_t limit);
// Evicts when the clients' sum is over maxmemory-clients now: after what changed the limit or
// who may be evicted (CONFIG SET, CLIENT NO-EVICT off, RESET), as a client's growth does.
// Without it a client made evictable while over the limit stayed until some client grew.
void EvictClientsIfOver(ServerContext& server);

}  // namespace fdb
