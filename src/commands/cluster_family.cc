// CLUSTER without cluster mode, as a Redis started with `cluster-enabled no` answers it: every
// subcommand is refused with Redis's text. (Cluster mode itself is a later piece of work.)
#include "commands/context.h"
#include "commands/registry.h"

namespace fdb {

namespace {

void CmdCluster(CmdArgs, CommandContext& ctx) {
  ctx.rb.Error("ERR This instance has cluster support disabled");
}

}  // namespace

void RegisterClusterFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // noscript: CLUSTER RESET and friends cannot run from a script, as in Redis.
  r.Register({"cluster", -2, kNoScript | kStale, 0, 0, 0, CmdCluster, "cluster",
              "A container for Redis Cluster commands.", "3.0.0"});
}

}  // namespace fdb
