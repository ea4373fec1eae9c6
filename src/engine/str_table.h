// StrTable: the big encoding of hashes and sets ("hashtable"): a HashTable (engine/hash_table.h,
// shared with the keyspace's Dict) of single-allocation nodes keyed by a byte string.
//
// A node is one malloc'd block: the overflow chain link, then `varint key_len, key` and, for
// hashes, `varint value_len, value`. A hash field therefore costs one allocation of
// 8 + 2 + |f| + |v| bytes plus 8-16 bytes of bucket array (64-byte buckets of 4-8 nodes, with a
// byte of every slot node's hash, so a lookup touches few nodes besides the one it looks for),
// against Redis's dictEntry (24) + two sds strings + ~1.3 bucket pointers (docs/format.md, "Hash
// image").
//
// Why a chained table and not an absl flat table, and how it resizes: engine/hash_table.h.
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

#include "engine/hash_table.h"

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

struct StrTraits {
  using Node = StrNode;
  static StrNode*& Next(StrNode* n) { return n->next; }
  static std::string_view Key(const StrNode* n) { return n->key(); }
  static uint64_t Hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }
  static void Free(StrNode* n) { free(n); }
  static constexpr int kHashShift = 0;
  // Memory first: 8-16 bytes of bucket array per element, as the chained table had.
  static constexpr size_t kMaxLoad = 8;
};

// The table of a big hash or set: a HashTable of StrNode that also counts the bytes its nodes
// hold (MEMORY USAGE, maxmemory), and frees the nodes it replaces or removes.
class StrTable {
 public:
  StrTable() = default;
  ~StrTable() = default;
  StrTable(const StrTable&) = delete;
  StrTable& operator=(const StrTable&) = delete;

  static uint64_t Hash(std::string_view s) { return StrTraits::Hash(s); }

  size_t size() const { return table_.size(); }
  // RAM held: the bucket array and every node's block.
  size_t bytes() const { return table_.bucket_bytes() + node_bytes_; }

  // The link pointing at the node of `key` (a bucket slot or a predecessor's next), or nullptr.
  // Valid until the next insertion or removal. `hash` must be Hash(key).
  StrNode** FindLink(std::string_view key, uint64_t hash) { return table_.FindLink(key, hash); }
  StrNode* Find(std::string_view key) const { return table_.Find(key, Hash(key)); }
  // Takes ownership of n. REQUIRES: no node with n's key; hash == Hash(n->key()).
  void Insert(StrNode* n, uint64_t hash) {
    table_.Insert(n, hash);
    node_bytes_ += n->AllocatedBytes();
  }
  // Puts n (same key) in place of *link's node, which is freed.
  void Replace(StrNode** link, StrNode* n) {
    StrNode* old = table_.Replace(link, n);
    node_bytes_ += n->AllocatedBytes();
    node_bytes_ -= old->AllocatedBytes();
    free(old);
  }
  // Accounts for a node whose block was resized by the caller (REQUIRES: same address).
  void Reaccount(size_t old_bytes, size_t new_bytes) { node_bytes_ += new_bytes - old_bytes; }
  // Removes and frees *link's node. May shrink the table (every link is invalidated).
  void Erase(StrNode** link) {
    StrNode* n = table_.Unlink(link);
    node_bytes_ -= n->AllocatedBytes();
    free(n);
  }
  bool Erase(std::string_view key) {
    StrNode** link = FindLink(key, Hash(key));
    if (link == nullptr) return false;
    Erase(link);
    return true;
  }
  void Clear() {
    table_.Clear();
    node_bytes_ = 0;
  }
  // Room for n elements without a resize (image decoding).
  void Reserve(size_t n) { table_.Reserve(n); }

  // fn(const StrNode*) on every node.
  template <class F>
  void ForEach(F&& fn) const {
    table_.ForEach([&](const StrNode* n) { fn(n); });
  }

  // One step of a scan (Redis's reverse-binary cursor): visits every node of one bucket and
  // returns the next cursor, 0 when done. Every node present for the whole scan is visited at
  // least once, across resizes.
  template <class F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    return table_.Scan(cursor, [&](const StrNode* n) { fn(n); });
  }

  // A random node, every node about as likely (FairRandomPick). REQUIRES: size() > 0.
  const StrNode* Random() const { return table_.Random(); }

 private:
  HashTable<StrTraits> table_;
  size_t node_bytes_ = 0;
};

}  // namespace fdb
