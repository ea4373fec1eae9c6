// Dict: the keyspace's table of Entry, keyed by the entry's key: a HashTable
// (engine/hash_table.h) whose nodes are the entries themselves (Entry::next_ is the overflow
// chain link), so a key costs one allocation plus 13-26 bytes of bucket array.
//
// Lookups are given the hash (HashKey(key), base/hash.h) so a multi-shard caller hashes once.
// Entries are freed with Entry::Free by Clear and SweepBuckets; Replace and Unlink hand the old
// entry back to the caller, not freed.
//
// Not thread-safe: the owning shard's lock guards it.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/hash.h"
#include "engine/entry.h"
#include "engine/hash_table.h"

namespace fdb {

struct DictTraits {
  using Node = Entry;
  static Entry*& Next(Entry* e) { return e->next_ref(); }
  static std::string_view Key(const Entry* e) { return e->key(); }
  static uint64_t Hash(std::string_view key) { return HashKey(key); }
  static void Free(Entry* e) { Entry::Free(e); }
  // Bucket index bits come from above the low byte of the hash, which picked the shard before
  // shards became slot ranges (base/slot.h); kept, as any bits of XXH3 serve.
  static constexpr int kHashShift = 8;
  // Few overflow chains: a key's entry holds its value, so every node touched can be a cache
  // and TLB miss (engine/hash_table.h).
  static constexpr size_t kMaxLoad = 5;
};

using Dict = HashTable<DictTraits>;
extern template class HashTable<DictTraits>;

}  // namespace fdb
