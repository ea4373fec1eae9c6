// HashObject: the value of a Redis hash (HSET, HGET, ...).
//
// Two encodings, as Redis 7 (OBJECT ENCODING names are Redis's):
//   listpack   up to hash-max-listpack-entries fields whose field and value are at most
//              hash-max-listpack-value bytes (engine/encoding_limits.h): one malloc'd buffer
//              of `varint len, bytes` strings,
//              field then value, in insertion order, searched linearly. 1 byte of overhead per
//              string (Redis's listpack: 2), and the buffer is realloc'd to its exact size.
//   hashtable  beyond that: a StrTable (engine/str_table.h) of nodes holding field and value in
//              one allocation, looked up with one hash of the field.
// A hash converts to the hashtable when a write passes either threshold, and never back while it
// lives (as Redis); Decode chooses by size under the thresholds of the moment (Redis's load).
//
// Images and deltas (docs/format.md, "Hash image and deltas"):
//   image := count:varint (field:bytes value:bytes){count}
//            (a listpack buffer is exactly the part after count)
//   delta := 'S' count:varint (field:bytes value:bytes){count}   set fields (HSET, HINCRBY...)
//          | 'D' count:varint field:bytes{count}                  delete fields (HDEL)
// A delta carries resulting values (HINCRBYFLOAT logs the new value), so replay is
// deterministic.
//
// Not thread-safe: the key's shard lock guards it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/collections.h"
#include "engine/encoding_limits.h"
#include "engine/str_table.h"

namespace fdb {

class HashObject final : public ValueObject {
 public:
  static constexpr uint8_t kDeltaSet = 'S';
  static constexpr uint8_t kDeltaDel = 'D';

  HashObject() = default;
  ~HashObject() override;
  HashObject(const HashObject&) = delete;
  HashObject& operator=(const HashObject&) = delete;

  ValueType type() const override { return ValueType::kHash; }
  const char* encoding_name() const override { return big_ ? "hashtable" : "listpack"; }
  size_t MemoryUsage() const override;
  size_t Size() const override { return big_ ? ht_->size() : lp_count_; }
  size_t FreeEffort() const override { return big_ ? ht_->size() : 1; }
  void SerializeParts(std::string* out, const ImageParts& parts) const override;
  Status ApplyDelta(std::string_view delta) override;
  ValueObject* Clone() const override;

  static Result<HashObject*> Decode(std::string_view image);

  bool is_listpack() const { return !big_; }
  // The value of `field`; false when absent. The view is valid until the next change.
  bool Get(std::string_view field, std::string_view* value) const;
  // Sets field to value; returns true when the field is new.
  bool Set(std::string_view field, std::string_view value);
  // Removes field; returns whether it existed.
  bool Delete(std::string_view field);

  // The mutators the Ops use: each changes the hash and writes the delta of that change to
  // `delta` (replacing its contents) in the same call, so a change and its logged effect
  // cannot drift apart; the caller hands `delta` to Keyspace::Delta.
  // Sets fv[0] = fv[1], fv[2] = fv[3], ...; returns how many fields are new.
  // REQUIRES: fv.size() is even.
  size_t SetFields(std::span<const std::string_view> fv, std::string* delta);
  // Removes the fields named; returns how many existed. Every name is in the delta (a missing
  // field replays as a no-op), so the delta is built in the same pass.
  size_t DeleteFields(std::span<const std::string_view> fields, std::string* delta);

  // Calls fn(field, value) for every field (listpack: in insertion order). fn may not change
  // the hash.
  template <class F>
  void ForEach(F&& fn) const {
    if (big_) {
      ht_->ForEach([&](const StrNode* n) { fn(n->key(), n->value()); });
      return;
    }
    const char* p = lp_;
    for (uint32_t i = 0; i < lp_count_; i++) {
      std::string_view f = DecodeString(p, &p);
      std::string_view v = DecodeString(p, &p);
      fn(f, v);
    }
  }
  // A random field and its value. REQUIRES: Size() > 0.
  void Random(std::string_view* field, std::string_view* value) const;
  // One step of HSCAN from `cursor`: calls fn(field, value) and returns the next cursor (0 when
  // done). A listpack is returned whole in one step, as Redis does.
  template <class F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    if (!big_) {
      ForEach(fn);
      return 0;
    }
    return ht_->Scan(cursor, [&](const StrNode* n) { fn(n->key(), n->value()); });
  }

  // Starts a delta in `out` (SetFields and DeleteFields build theirs with it).
  static void BeginDelta(std::string* out, uint8_t op, size_t count) {
    out->push_back(static_cast<char>(op));
    coding::PutVarint(out, count);
  }

 private:
  void ConvertToHashtable();
  // Whether the listpack may take `field` set to `value` (as if the field were new) under the
  // thresholds: Redis's hashTypeTryConversion, checked before the write.
  bool ListpackTakes(std::string_view field, std::string_view value) const {
    const size_t max_value = EncodingLimits::hash_max_listpack_value();
    // Two length varints take at most 10 bytes each.
    return field.size() <= max_value && value.size() <= max_value &&
           lp_len_ + field.size() + value.size() + 20 <= EncodingLimits::kBufferBytesMax;
  }
  // The offset of field's entry in the listpack, or -1.
  int64_t LpFind(std::string_view field) const;

  union {
    char* lp_ = nullptr;  // listpack: the buffer (nullptr when empty)
    StrTable* ht_;        // hashtable
  };
  uint32_t lp_len_ = 0;    // listpack bytes
  uint32_t lp_count_ = 0;  // listpack fields
  bool big_ = false;
};

}  // namespace fdb
