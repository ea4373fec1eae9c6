#include "engine/dict.h"

namespace fdb {

// The keyspace's table is compiled once, here.
template class HashTable<DictTraits>;

}  // namespace fdb
