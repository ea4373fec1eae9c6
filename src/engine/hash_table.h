// HashTable: the chained hash table of the keyspace (Dict, engine/dict.h) and of big hashes and
// sets (StrTable, engine/str_table.h), one template for both.
//
// Layout. The bucket array is an array of 64-byte buckets, one cache line each:
//
//   slot[7]   7 node pointers
//   tag[7]    one byte of each slot node's hash (bits 56..63)
//   chained   1 when slot[6] heads a chain of two or more nodes (through the node's own link)
//
// A node goes in the first empty slot of its bucket; when all seven are taken it is pushed on
// the chain that starts at slot[6] (the node's intrusive link, Traits::Next). A lookup reads the
// bucket's line, compares the tag of each occupied slot with the key's, and touches only the
// nodes whose tag matches (a false match is 1 in 256 per slot), plus the nodes of an overflow
// chain. Why: a node holds its key and, in the keyspace, its value (one allocation, entry.h), so
// with one pointer per bucket and chains through the nodes, every node of a chain before the
// one looked for was a cache and TLB miss: with 100,000 keys of 1 KB values that was a fifth
// of a pipelined SET's time (docs/benchmarks.md). Here a lookup costs the bucket's line and the
// node looked for.
//
// Why chaining and not open addressing: SCAN, HSCAN and SSCAN must return every element present
// for the whole scan at least once, even while the table grows or shrinks. Redis's
// reverse-binary cursor gives that guarantee for a power-of-two table in which an element's
// bucket is a function of its hash and the table size only (a bucket of 2^n buckets splits into
// two of 2^(n+1)). Open addressing moves elements to other buckets; buckets that overflow into
// their own chain do not.
//
// Load: the table doubles when it would hold more than kMaxLoad nodes per bucket on average and
// halves (to at most half that load) under an eighth of it. The keyspace's Dict uses 5: 2.5 to 5
// nodes per bucket between resizes, 13-26 bytes of bucket array per key (the chained table's
// were 8-16), and an overflowing bucket is rare (one in eight at a load of 5, one in thirty at
// 3.75). StrTable uses 8, to keep a field's or member's memory where it was (8-16 bytes of
// bucket array), at the price of more overflow chains, whose nodes are small. Resizes are done
// at once, not incrementally: the keyspace is split into many shards and a big hash is one key,
// so one table is a fraction of the data and a resize is a pause of at most some milliseconds,
// amortised O(1) per insertion.
//
// Traits (a struct of static members):
//   using Node = ...;                         the node type (owned by the table)
//   static Node*& Next(Node* n);              the node's intrusive link
//   static std::string_view Key(const Node*); its key
//   static uint64_t Hash(std::string_view);   the hash the callers pass in
//   static void Free(Node* n);                frees a node (Clear, SweepBuckets)
//   static constexpr int kHashShift;          the bucket index is (hash >> kHashShift) & mask
//   static constexpr size_t kMaxLoad;         nodes per bucket on average before it doubles
//
// Links: FindLink returns the address of the pointer that holds the node (a bucket slot or a
// predecessor's link), so Replace and Unlink need no second lookup. A link stays valid until the
// next insertion or removal.
//
// Not thread-safe: the owner's lock (the shard's, or the key's shard for a collection) guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "engine/random.h"

namespace fdb {

template <class Traits>
class HashTable {
 public:
  using Node = typename Traits::Node;
  static constexpr int kSlots = 7;
  static constexpr size_t kMaxLoad = Traits::kMaxLoad;  // nodes per bucket before it doubles

  HashTable() = default;
  ~HashTable() { Clear(); }
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;
  HashTable(HashTable&& o) noexcept : buckets_(o.buckets_), mask_(o.mask_), size_(o.size_) {
    o.buckets_ = nullptr;
    o.mask_ = 0;
    o.size_ = 0;
  }
  HashTable& operator=(HashTable&& o) noexcept {
    if (this != &o) {
      Clear();
      buckets_ = o.buckets_;
      mask_ = o.mask_;
      size_ = o.size_;
      o.buckets_ = nullptr;
      o.mask_ = 0;
      o.size_ = 0;
    }
    return *this;
  }

  size_t size() const { return size_; }
  // Buckets (0 when the table is empty); each holds kSlots nodes before it chains.
  size_t bucket_count() const { return buckets_ ? mask_ + 1 : 0; }
  // Bytes of the bucket array.
  size_t bucket_bytes() const { return bucket_count() * sizeof(Bucket); }

  // `hash` must be Traits::Hash(key).
  Node* Find(std::string_view key, uint64_t hash) const {
    Node* const* link = const_cast<HashTable*>(this)->FindLink(key, hash);
    return link ? *link : nullptr;
  }
  // The link that holds the node of `key`, or nullptr.
  Node** FindLink(std::string_view key, uint64_t hash) {
    if (buckets_ == nullptr) return nullptr;
    Bucket& b = buckets_[Index(hash)];
    const uint8_t tag = Tag(hash);
    for (int i = 0; i < kSlots; i++) {
      if (b.slot[i] == nullptr) continue;
      if (i == kSlots - 1 && b.chained) {
        for (Node** link = &b.slot[i]; *link != nullptr; link = &Traits::Next(*link)) {
          if (Traits::Key(*link) == key) return link;
        }
      } else if (b.tag[i] == tag && Traits::Key(b.slot[i]) == key) {
        return &b.slot[i];
      }
    }
    return nullptr;
  }
  // Takes ownership of n. REQUIRES: no node with n's key; hash == Traits::Hash(key of n).
  void Insert(Node* n, uint64_t hash) {
    if (buckets_ == nullptr) {
      Resize(1);
    } else if (size_ + 1 > (mask_ + 1) * kMaxLoad) {
      Resize((mask_ + 1) * 2);
    }
    Place(n, hash);
    size_++;
  }
  // Puts n (same key) in place of the node *link holds, and returns that node (not freed).
  Node* Replace(Node** link, Node* n) {
    Node* old = *link;
    Traits::Next(n) = Traits::Next(old);
    Traits::Next(old) = nullptr;
    *link = n;
    return old;
  }
  // Removes the node *link holds and returns it (not freed). May shrink the table.
  Node* Unlink(Node** link) {
    Node* old = *link;
    Remove(BucketOfLink(link, old), link);
    MaybeShrink();
    return old;
  }
  // Frees every node and the bucket array.
  void Clear() {
    if (buckets_ != nullptr) {
      for (size_t i = 0; i <= mask_; i++) {
        for (int s = 0; s < kSlots; s++) {
          for (Node* n = buckets_[i].slot[s]; n != nullptr;) {
            Node* next = Traits::Next(n);
            Traits::Free(n);
            n = next;
          }
        }
      }
      free(buckets_);
    }
    buckets_ = nullptr;
    mask_ = 0;
    size_ = 0;
  }
  // Room for n nodes without a resize (image decoding).
  void Reserve(size_t n) {
    size_t want = BucketsFor(n);
    if (want > bucket_count()) Resize(want);
  }

  // Calls fn(Node*) on every node; fn may not modify the table.
  template <class F>
  void ForEach(F&& fn) const {
    if (buckets_ == nullptr) return;
    for (size_t i = 0; i <= mask_; i++) VisitBucket(buckets_[i], fn);
  }

  // One step of a scan: visits every node of one bucket and returns the next cursor, 0 when done
  // (Redis's reverse-binary cursor). Every node present for the whole scan is visited at least
  // once, across resizes.
  template <class F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    if (buckets_ == nullptr) return 0;
    VisitBucket(buckets_[cursor & mask_], fn);
    // Increment the reversed cursor: set the unmasked high bits, reverse, add one, reverse.
    cursor |= ~static_cast<uint64_t>(mask_);
    cursor = ReverseBits(cursor);
    cursor++;
    return ReverseBits(cursor);
  }

  // A random node, every node about as likely (FairRandomPick, engine/random.h), or nullptr
  // when the table is empty.
  Node* Random() const {
    if (size_ == 0) return nullptr;
    return FairRandomPick<Node>(mask_, [this](uint64_t i, size_t k, Node** out) {
      return NodeOfBucket(buckets_[i], k, out);
    });
  }

  // Removes and frees the nodes for which pred(Node*) is true, visiting at most `max_buckets`
  // buckets from `*cursor` on (advanced, wraps to 0); returns the number freed. on_drop(Node*)
  // sees each node before it is freed. Used by active expiry.
  template <class Pred, class OnDrop>
  size_t SweepBuckets(uint64_t* cursor, size_t max_buckets, Pred&& pred, OnDrop&& on_drop) {
    if (buckets_ == nullptr) {
      *cursor = 0;
      return 0;
    }
    size_t freed = 0;
    size_t idx = *cursor & mask_;
    for (size_t n = 0; n < max_buckets && n <= mask_; n++) {
      Bucket& b = buckets_[idx];
      for (int s = 0; s < kSlots; s++) {
        Node** link = &b.slot[s];
        while (*link != nullptr) {
          Node* e = *link;
          if (pred(e)) {
            Remove(&b, link);
            on_drop(e);
            Traits::Free(e);
            freed++;
          } else {
            link = &Traits::Next(e);
          }
        }
      }
      idx = (idx + 1) & mask_;
    }
    *cursor = idx;
    // Shrinking changes only the cursor's range, which the mask above absorbs; do it so a table
    // emptied by expiry gives its memory back.
    MaybeShrink();
    return freed;
  }

 private:
  struct alignas(64) Bucket {
    Node* slot[kSlots];
    uint8_t tag[kSlots];
    uint8_t chained;  // Invariant: 1 iff slot[kSlots - 1] has a successor
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  size_t Index(uint64_t hash) const { return (hash >> Traits::kHashShift) & mask_; }
  // The top byte: independent of the index bits below it for any table of fewer than 2^48
  // buckets.
  static uint8_t Tag(uint64_t hash) { return static_cast<uint8_t>(hash >> 56); }

  // Reverses the bits of v: the scan cursor increments in its high bits so that nodes moved by a
  // resize (which only adds or removes high bits of the index) are not skipped.
  static uint64_t ReverseBits(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
  }

  static size_t BucketsFor(size_t n) {
    size_t b = 1;
    while (b * kMaxLoad < n) b *= 2;
    return b;
  }

  // Puts n in bucket Index(hash) (no resize, no count).
  void Place(Node* n, uint64_t hash) {
    Bucket& b = buckets_[Index(hash)];
    for (int i = 0; i < kSlots; i++) {
      if (b.slot[i] == nullptr) {
        Traits::Next(n) = nullptr;
        b.slot[i] = n;
        b.tag[i] = Tag(hash);
        return;
      }
    }
    Traits::Next(n) = b.slot[kSlots - 1];
    b.slot[kSlots - 1] = n;
    b.chained = 1;
  }

  // The bucket that holds the node `old`, given the link that holds it.
  Bucket* BucketOfLink(Node** link, Node* old) {
    auto p = reinterpret_cast<uintptr_t>(link);
    auto base = reinterpret_cast<uintptr_t>(buckets_);
    if (p - base < bucket_bytes()) return reinterpret_cast<Bucket*>(p & ~uintptr_t{63});
    // A link inside an overflow chain: rare, so hashing the key again is fine.
    return &buckets_[Index(Traits::Hash(Traits::Key(old)))];
  }

  // Removes the node *link holds from bucket b (no shrink).
  void Remove(Bucket* b, Node** link) {
    Node* old = *link;
    *link = Traits::Next(old);
    Traits::Next(old) = nullptr;
    size_--;
    Node* last = b->slot[kSlots - 1];
    if (b->chained && Traits::Next(last) == nullptr) {
      // The chain is down to one node: slot[kSlots - 1] is an ordinary slot again.
      b->chained = 0;
      b->tag[kSlots - 1] = Tag(Traits::Hash(Traits::Key(last)));
    }
  }

  template <class F>
  static void VisitBucket(const Bucket& b, F& fn) {
    for (int s = 0; s < kSlots; s++) {
      for (Node* n = b.slot[s]; n != nullptr; n = Traits::Next(n)) fn(n);
    }
  }

  // The number of nodes in b; with k < that number, *out = the k-th of them.
  static size_t NodeOfBucket(const Bucket& b, size_t k, Node** out) {
    size_t count = 0;
    for (int s = 0; s < kSlots; s++) {
      for (Node* n = b.slot[s]; n != nullptr; n = Traits::Next(n)) {
        if (count == k) *out = n;
        count++;
      }
    }
    return count;
  }

  void Resize(size_t buckets) {
    auto* nb = static_cast<Bucket*>(aligned_alloc(alignof(Bucket), buckets * sizeof(Bucket)));
    if (nb == nullptr) throw std::bad_alloc();
    memset(static_cast<void*>(nb), 0, buckets * sizeof(Bucket));
    Bucket* old = buckets_;
    size_t old_count = bucket_count();
    buckets_ = nb;
    mask_ = buckets - 1;
    for (size_t i = 0; i < old_count; i++) {
      for (int s = 0; s < kSlots; s++) {
        for (Node* n = old[i].slot[s]; n != nullptr;) {
          Node* next = Traits::Next(n);
          Place(n, Traits::Hash(Traits::Key(n)));
          n = next;
        }
      }
    }
    free(old);
  }

  void MaybeShrink() {
    if (size_ == 0) {
      free(buckets_);
      buckets_ = nullptr;
      mask_ = 0;
      return;
    }
    // Shrink when under an eighth of the maximum load, to at most half of it.
    if (mask_ > 0 && size_ * 8 < (mask_ + 1) * kMaxLoad) Resize(BucketsFor(size_ * 2));
  }

  Bucket* buckets_ = nullptr;  // nullptr when the table is empty
  size_t mask_ = 0;            // bucket count - 1
  size_t size_ = 0;
};

}  // namespace fdb
