// Placeholder until the zset commands land.
#include "commands/registry.h"

namespace fdb {

void RegisterZSetFamily(CommandRegistry& r) {}

}  // namespace fdb
