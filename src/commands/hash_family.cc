// Placeholder until the hash commands land.
#include "commands/registry.h"

namespace fdb {

void RegisterHashFamily(CommandRegistry& r) {}

}  // namespace fdb
