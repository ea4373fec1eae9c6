// Randomness of the engine's tables: a per-thread generator, and a fair pick of a node of a
// bucketed hash table (engine/hash_table.h: Dict for keys, StrTable for hash fields and set
// members).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

namespace fdb {

// A 64-bit random number from a per-thread generator (RANDOMKEY, HRANDFIELD, SRANDMEMBER, SPOP,
// the random eviction policies).
inline uint64_t RandomU64() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

// A random node of a table of `mask + 1` buckets (REQUIRES: at least one node), every node about
// as likely: a random bucket, taken with probability min(its node count, kFairBucket) /
// kFairBucket, then a random node of it. (Taking any non-empty bucket, as Redis's
// dictGetRandomKey, favours a node alone in its bucket over one sharing it: HRANDFIELD -1000
// failed Redis's chi-square test.) Nodes of buckets of up to kFairBucket nodes are exactly
// equally likely; HashTable (engine/hash_table.h) holds at most 5 (Dict) or 8 (StrTable) nodes
// per bucket on average, where a bucket of more than 24 has a chance of about 1e-6. About
// kFairBucket / load buckets are tried per pick (3-10). `pick(i, k, &node)` returns the number
// of nodes of bucket i and, when k is below it, sets node to the k-th of them.
template <class Node, class Pick>
Node* FairRandomPick(size_t mask, Pick pick) {
  constexpr size_t kFairBucket = 24;
  for (;;) {
    uint64_t r = RandomU64();
    const uint64_t bucket = r & mask;
    size_t k = static_cast<size_t>((r >> 32) % kFairBucket);
    Node* node = nullptr;
    size_t len = pick(bucket, k, &node);
    if (k >= len) continue;
    if (len > kFairBucket) pick(bucket, static_cast<size_t>((r >> 40) % len), &node);
    return node;
  }
}

}  // namespace fdb
