// Placeholder until the list commands land.
#include "commands/registry.h"

namespace fdb {

void RegisterListFamily(CommandRegistry& r) {}

}  // namespace fdb
