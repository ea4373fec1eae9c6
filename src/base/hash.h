#pragma once

// Inlined: the hash of a short key is a few instructions, and no library needs linking.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace fdb {

// The key hash used for hash-table buckets (a key's shard is its Redis Cluster slot's, from
// base/slot.h). XXH3 is fast on short keys and well distributed in every bit.
inline uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace fdb
