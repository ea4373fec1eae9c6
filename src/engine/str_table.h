// StrTable: the big encoding of hashes and sets ("hashtable"): an intrusive chained hash table of
// single-allocation nodes keyed by a byte string.
//
// A node is one malloc'd block: the chain link, then `varint key_len, key` and, for hashes,
// `varint value_len, value`. A hash field therefore costs one allocation of 8 + 2 + |f| + |v|
// bytes plus ~1.3 bucket pointers, against Redis's dictEntry (24) + two sds strings + ~1.3
// buckets, so a field is cheaper here than in Redis 7.0 (docs/format.md, "Hash image").
//
// Why chaining and not an absl flat table: HSCAN and SSCAN must return every element present for
// the whole scan at least once, even while the table grows or shrinks. Redis's reverse-binary
// cursor gives that guarantee for power-of-two chained tables (as the keyspace's Dict), and an
// open-addressing table has no stable slot for an element. The price is one pointer per element.
//
// Resizes happen at once (not incrementally as Redis's dict): growth doubles the bucket array and
// rehashes every key, which for a million elements is a pause of some milliseconds, amortised
// O(1) per insertion. The table shrinks when less than 1/8 full.
//
// Not thread-safe: the owning key's shard lock guards it.
#pragma once

#define XXH_INLINE_ALL
#include <malloc.h>
#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "engine/random.h"

namespace fdb {

// Varints of node headers and packed buffers (the same encoding as coding::PutVarint).
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 128) {
    v >>= 7;
    n++;
  }
  return n;
}
inline char* EncodeVarint(char* p, uint64_t v) {
  while (v >= 128) {
    *p++ = static_cast<char>(v | 128);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
// Decodes a varint from trusted memory (written by EncodeVarint). Returns the byte after it.
inline const char* DecodeVarint(const char* p, uint64_t* v) {
  uint8_t b = static_cast<uint8_t>(*p++);
  if (b < 128) {
    *v = b;
    return p;
  }
  uint64_t r = b & 127;
  for (int shift = 7;; shift += 7) {
    b = static_cast<uint8_t>(*p++);
    r |= static_cast<uint64_t>(b & 127) << shift;
    if (b < 128) break;
  }
  *v = r;
  return p;
}
// realloc that throws std::bad_alloc instead of returning nullptr (the packed buffers of the
// small hash and set encodings).
inline char* Realloc(char* p, size_t n) {
  char* r = static_cast<char*>(realloc(p, n));
  if (r == nullptr) throw std::bad_alloc();
  return r;
}

// A string stored as `varint len, bytes` at p; *next is set past it.
inline std::string_view DecodeString(const char* p, const char** next) {
  uint64_t n;
  p = DecodeVarint(p, &n);
  *next = p + n;
  return {p, n};
}

struct StrNode {
  StrNode* next;
  char data[];  // varint key_len, key [, varint value_len, value]

  std::string_view key() const {
    const char* end;
    return DecodeString(data, &end);
  }
  // REQUIRES: the node was made with a value.
  std::string_view value() const {
    const char* p;
    DecodeString(data, &p);
    return DecodeString(p, &p);
  }
  // Allocates a node (malloc; freed with Free). With `has_value` false the node holds a key only.
  static StrNode* New(std::string_view key, std::string_view value, bool has_value) {
    size_t n = sizeof(StrNode) + VarintLength(key.size()) + key.size();
    if (has_value) n += VarintLength(value.size()) + value.size();
    auto* node = static_cast<StrNode*>(malloc(n));
    if (node == nullptr) throw std::bad_alloc();
    node->next = nullptr;
    char* p = EncodeVarint(node->data, key.size());
    if (!key.empty()) memcpy(p, key.data(), key.size());
    p += key.size();
    if (has_value) {
      p = EncodeVarint(p, value.size());
      if (!value.empty()) memcpy(p, value.data(), value.size());
    }
    return node;
  }
  // Overwrites the value in place when the node's block has room for it; false otherwise.
  bool SetValueInPlace(std::string_view v) {
    const char* vp;
    DecodeString(data, &vp);
    uint64_t old_len;
    const char* old_bytes = DecodeVarint(vp, &old_len);
    if (VarintLength(v.size()) != static_cast<size_t>(old_bytes - vp)) return false;
    size_t need = static_cast<size_t>(old_bytes - reinterpret_cast<const char*>(this)) + v.size();
    if (v.size() != old_len && need > malloc_usable_size(this)) return false;
    char* p = EncodeVarint(const_cast<char*>(vp), v.size());
    if (!v.empty()) memmove(p, v.data(), v.size());
    return true;
  }
  size_t AllocatedBytes() const { return malloc_usable_size(const_cast<StrNode*>(this)); }
};

class StrTable {
 public:
  StrTable() = default;
  ~StrTable() { Clear(); }
  StrTable(const StrTable&) = delete;
  StrTable& operator=(const StrTable&) = delete;

  static uint64_t Hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

  size_t size() const { return size_; }
  // RAM held: the bucket array and every node's block.
  size_t bytes() const { return (buckets_ ? (mask_ + 1) * sizeof(StrNode*) : 0) + node_bytes_; }

  // The link pointing at the node of `key` (a bucket or a predecessor's next), or nullptr. Valid
  // until the next insertion or removal. `hash` must be Hash(key).
  StrNode** FindLink(std::string_view key, uint64_t hash) {
    if (buckets_ == nullptr) return nullptr;
    StrNode** link = &buckets_[hash & mask_];
    while (*link != nullptr) {
      if ((*link)->key() == key) return link;
      link = &(*link)->next;
    }
    return nullptr;
  }
  StrNode* Find(std::string_view key) const {
    if (buckets_ == nullptr) return nullptr;
    for (StrNode* n = buckets_[Hash(key) & mask_]; n != nullptr; n = n->next) {
      if (n->key() == key) return n;
    }
    return nullptr;
  }
  // Takes ownership of n. REQUIRES: no node with n's key; hash == Hash(n->key()).
  void Insert(StrNode* n, uint64_t hash) {
    if (buckets_ == nullptr) {
      Resize(kInitialBuckets);
    } else if (size_ + 1 > mask_ + 1) {
      Resize((mask_ + 1) * 2);
    }
    StrNode** b = &buckets_[hash & mask_];
    n->next = *b;
    *b = n;
    size_++;
    node_bytes_ += n->AllocatedBytes();
  }
  // Puts n (same key) in place of *link's node, which is freed.
  void Replace(StrNode** link, StrNode* n) {
    StrNode* old = *link;
    n->next = old->next;
    *link = n;
    node_bytes_ += n->AllocatedBytes();
    node_bytes_ -= old->AllocatedBytes();
    free(old);
  }
  // Accounts for a node whose block was resized by the caller (REQUIRES: same address).
  void Reaccount(size_t old_bytes, size_t new_bytes) { node_bytes_ += new_bytes - old_bytes; }
  // Removes and frees *link's node. May shrink the table (every link is invalidated).
  void Erase(StrNode** link) {
    StrNode* n = *link;
    *link = n->next;
    size_--;
    node_bytes_ -= n->AllocatedBytes();
    free(n);
    if (size_ == 0) {
      Clear();
    } else if (mask_ + 1 > kInitialBuckets && size_ < (mask_ + 1) / 8) {
      Resize(RoundUpPow2(size_ * 2));
    }
  }
  bool Erase(std::string_view key) {
    StrNode** link = FindLink(key, Hash(key));
    if (link == nullptr) return false;
    Erase(link);
    return true;
  }
  void Clear() {
    if (buckets_ != nullptr) {
      for (size_t i = 0; i <= mask_; i++) {
        for (StrNode* n = buckets_[i]; n != nullptr;) {
          StrNode* next = n->next;
          free(n);
          n = next;
        }
      }
      free(buckets_);
    }
    buckets_ = nullptr;
    mask_ = 0;
    size_ = 0;
    node_bytes_ = 0;
  }
  // Room for n elements without a resize (image decoding).
  void Reserve(size_t n) {
    if (n > (buckets_ ? mask_ + 1 : 0)) Resize(RoundUpPow2(n));
  }

  template <class F>
  void ForEach(F&& fn) const {
    if (buckets_ == nullptr) return;
    for (size_t i = 0; i <= mask_; i++) {
      for (const StrNode* n = buckets_[i]; n != nullptr; n = n->next) fn(n);
    }
  }

  // One step of a scan (Redis's reverse-binary cursor): visits every node of one bucket and
  // returns the next cursor, 0 when done. Every node present for the whole scan is visited at
  // least once, across resizes.
  template <class F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    if (buckets_ == nullptr) return 0;
    for (const StrNode* n = buckets_[cursor & mask_]; n != nullptr; n = n->next) fn(n);
    cursor |= ~static_cast<uint64_t>(mask_);
    cursor = Rev(cursor);
    cursor++;
    return Rev(cursor);
  }

  // A random node, every node about as likely (FairRandomNode). REQUIRES: size() > 0.
  const StrNode* Random() const {
    return FairRandomNode(buckets_, mask_, [](StrNode* n) { return n->next; });
  }

 private:
  static constexpr size_t kInitialBuckets = 4;

  static size_t RoundUpPow2(size_t n) {
    size_t b = kInitialBuckets;
    while (b < n) b *= 2;
    return b;
  }
  static uint64_t Rev(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
  }
  void Resize(size_t buckets) {
    auto** nb = static_cast<StrNode**>(calloc(buckets, sizeof(StrNode*)));
    if (nb == nullptr) throw std::bad_alloc();
    size_t nmask = buckets - 1;
    if (buckets_ != nullptr) {
      for (size_t i = 0; i <= mask_; i++) {
        for (StrNode* n = buckets_[i]; n != nullptr;) {
          StrNode* next = n->next;
          StrNode** b = &nb[Hash(n->key()) & nmask];
          n->next = *b;
          *b = n;
          n = next;
        }
      }
      free(buckets_);
    }
    buckets_ = nb;
    mask_ = nmask;
  }

  StrNode** buckets_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t node_bytes_ = 0;
};

}  // namespace fdb
