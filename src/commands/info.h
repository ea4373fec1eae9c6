// INFO: the server's report, in Redis's sections and field names, plus FDB's own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands/server_context.h"

namespace fdb {

// Builds the INFO text for the requested section names (lower case; empty = the default
// sections; "all" and "everything" as Redis). Unknown sections yield nothing.
std::string BuildInfo(ServerContext& server, const std::vector<std::string>& sections);

}  // namespace fdb
