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

// REQUIRES: total > limit > 0 (the caller saw the sum pass the limit). Thread-safe.
void EvictClients(ServerContext& server, int64_t total, int64_t limit);

}  // namespace fdb
