// Randomness of the engine's tables: a per-thread generator, and a fair pick of a node of a
// chained hash table (Dict for keys, StrTable for hash fields and set members).
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

// A random node of a chained table of `mask + 1` buckets (REQUIRES: at least one node), every
// node about as likely: a random bucket, taken with probability min(its chain's length,
// kFairChain) / kFairChain, then a random node of its chain. (Taking any non-empty bucket, as
// Redis's dictGetRandomKey, favours a node alone in its bucket over one sharing it: HRANDFIELD
// -1000 failed Redis's chi-square test.) Nodes of chains up to kFairChain long are exactly
// equally likely; longer chains are rare at a load factor of at most 1 (with 4, a 500-key table
// still had a chain of 5 or 6 now and then, whose keys came up 0.7-0.8 times as often). Both
// tables keep their load factor above 1/8, so few buckets are tried (about kFairChain at a load
// of 1). `next(node)` is a node's successor.
template <class Node, class Next>
Node* FairRandomNode(Node* const* buckets, size_t mask, Next next) {
  constexpr size_t kFairChain = 8;
  for (;;) {
    uint64_t r = RandomU64();
    Node* head = buckets[r & mask];
    if (head == nullptr) continue;
    size_t len = 0;
    for (Node* n = head; n != nullptr; n = next(n)) len++;
    size_t k = static_cast<size_t>((r >> 32) % kFairChain);
    if (k >= len) continue;
    if (len > kFairChain) k = static_cast<size_t>((r >> 40) % len);
    while (k-- > 0) head = next(head);
    return head;
  }
}

}  // namespace fdb
