// INFO: the server's report, in Redis's sections and field names, plus FDB's own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands/server_context.h"
#include "engine/txn.h"

namespace fdb {

// Builds the INFO text for the requested section names (lower case; empty = the default
// sections; "all" and "everything" as Redis). Unknown sections yield nothing.
// `txn`: the caller's transaction (INFO inside EXEC holds every shard already).
std::string BuildInfo(ServerContext& server, const Txn& txn,
                      const std::vector<std::string>& sections);

}  // namespace fdb
