// Placeholder until the set commands land.
#include "commands/registry.h"

namespace fdb {

void RegisterSetFamily(CommandRegistry& r) {}

}  // namespace fdb
