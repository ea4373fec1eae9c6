// Dict: an intrusive chained hash table of Entry, keyed by the entry's key.
//
// Why chaining and not open addressing: SCAN must return every key present for the whole
// scan at least once even while the table grows or shrinks. Redis's reverse-binary cursor
// gives that guarantee for power-of-two chained tables, and FDB uses the same cursor. The
// chain link lives in the entry, so a key costs one allocation plus ~1.5 bucket pointers.
//
// Resizes are done at once rather than incrementally: the keyspace is split into many shards,
// so one table holds a small fraction of the keys and a resize is short.
//
// Not thread-safe: the owning shard's lock guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/entry.h"

namespace fdb {

class Dict {
 public:
  Dict() = default;
  ~Dict();
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;
  Dict(Dict&& o) noexcept;
  Dict& operator=(Dict&& o) noexcept;

  size_t size() const { return size_; }
  size_t bucket_count() const { return mask_ + 1; }

  // `hash` must be HashKey(key). Lookups are given the hash so a multi-shard caller hashes once.
  Entry* Find(std::string_view key, uint64_t hash) const;
  // Returns the link that points at the entry for `key` (a bucket or a predecessor's next
  // field), or nullptr. The link stays valid until the next insertion or removal.
  Entry** FindLink(std::string_view key, uint64_t hash);
  // REQUIRES: no entry with e's key exists.
  void Insert(Entry* e, uint64_t hash);
  // Puts `e` in place of the entry `*link` points at, and returns the old entry (not freed).
  Entry* Replace(Entry** link, Entry* e);
  // Removes the entry `*link` points at and returns it (not freed).
  Entry* Unlink(Entry** link);
  // Frees every entry.
  void Clear();

  // One step of a SCAN: visits the entries of one or more buckets, returns the next cursor
  // (0 when done). Every entry present for the whole iteration is visited at least once.
  uint64_t Scan(uint64_t cursor, const std::function<void(Entry*)>& fn) const;
  // A random entry, every entry about as likely (engine/random.h), or nullptr when empty.
  Entry* Random() const;
  // Calls fn on every entry; fn may not modify the dict.
  void ForEach(const std::function<void(Entry*)>& fn) const;

  // Drops entries for which `pred` returns true, visiting at most `max_buckets` buckets from
  // `*cursor` on (advanced, wraps to 0); returns the number freed. `on_drop` sees each entry
  // before it is freed. Used by active expiry.
  size_t SweepBuckets(uint64_t* cursor, size_t max_buckets, const std::function<bool(Entry*)>& pred,
                      const std::function<void(Entry*)>& on_drop);

  // Bucket index bits come from above the low byte of the hash, which picked the shard before
  // shards became slot ranges (base/slot.h); kept, as any bits of XXH3 serve.
  static constexpr int kHashShift = 8;

 private:
  size_t Index(uint64_t hash) const { return (hash >> kHashShift) & mask_; }
  void Resize(size_t buckets);
  void MaybeShrink();

  Entry** buckets_ = nullptr;
  size_t mask_ = 0;  // bucket count - 1; buckets_ == nullptr when the table is empty
  size_t size_ = 0;
};

}  // namespace fdb
