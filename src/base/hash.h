#pragma once

// Inlined: the hash of a short key is a few instructions, and no library needs linking.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace fdb {

// The key hash used for shard selection and hash-table buckets. XXH3 is fast on short keys
// and well distributed in both its low bits (shard) and the bits above them (bucket).
inline uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace fdb
