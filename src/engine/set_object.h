// SetObject: the value of a Redis set (SADD, SMEMBERS, ...).
//
// Three encodings (OBJECT ENCODING names are Redis's), with the thresholds of
// engine/encoding_limits.h:
//   intset     only integers in canonical form (as string2ll reads them), at most
//              set-max-intset-entries: a sorted array of 2-, 4- or 8-byte integers, the width
//              the largest member needs, searched by bisection (Redis's intset).
//   listpack   at most set-max-listpack-entries members of at most set-max-listpack-value
//              bytes: one buffer of `varint len, bytes` strings, searched linearly (Redis 7.2's
//              small set; Redis 7.0 uses a hashtable here).
//   hashtable  beyond that: a StrTable (engine/str_table.h) of key-only nodes.
// A set moves intset -> listpack -> hashtable (or intset -> hashtable) when a write passes a
// threshold, as Redis 7.2's setTypeAdd, and never back while it lives; Decode replays the
// members, so a reloaded set takes the encoding its contents call for (Redis's load).
//
// Images and deltas (docs/format.md, "Set image and deltas"):
//   image := 'I' count:varint signed{count}       every member an integer (an intset)
//          | 'S' count:varint member:bytes{count}
//   delta := 'A' count:varint member:bytes{count}  members added (SADD, SMOVE's destination)
//          | 'R' count:varint member:bytes{count}  members removed (SREM, SPOP, SMOVE's source)
// SPOP logs the members it removed, so replay does not depend on a random draw.
//
// Not thread-safe: the key's shard lock guards it.
#pragma once

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "engine/collections.h"
#include "engine/encoding_limits.h"
#include "engine/str_table.h"

namespace fdb {

class SetObject final : public ValueObject {
 public:
  static constexpr uint8_t kDeltaAdd = 'A';
  static constexpr uint8_t kDeltaRemove = 'R';

  enum class Enc : uint8_t { kIntset, kListpack, kHashtable };

  SetObject() = default;
  ~SetObject() override;
  SetObject(const SetObject&) = delete;
  SetObject& operator=(const SetObject&) = delete;

  ValueType type() const override { return ValueType::kSet; }
  const char* encoding_name() const override;
  size_t MemoryUsage() const override;
  size_t Size() const override { return enc_ == Enc::kHashtable ? ht_->size() : count_; }
  size_t FreeEffort() const override { return enc_ == Enc::kHashtable ? ht_->size() : 1; }
  void SerializeParts(std::string* out, const ImageParts& parts) const override;
  Status ApplyDelta(std::string_view delta) override;
  ValueObject* Clone() const override;

  static Result<SetObject*> Decode(std::string_view image);

  Enc encoding() const { return enc_; }
  // Adds member; returns whether it was new.
  bool Add(std::string_view member);
  // Removes member; returns whether it was there.
  bool Remove(std::string_view member);
  bool Contains(std::string_view member) const;

  // The mutators the Ops use: each changes the set and writes the delta of that change to
  // `delta` (replacing its contents) in the same call, so a change and its logged effect
  // cannot drift apart; the caller hands `delta` to Keyspace::Delta.
  // Adds the members; returns how many were new. Every member named is in the delta (adding
  // a present one replays as a no-op), so the delta is built in the same pass.
  size_t AddMembers(std::span<const std::string_view> members, std::string* delta);
  // Removes the members; returns how many were there. Every member named is in the delta.
  size_t RemoveMembers(std::span<const std::string_view> members, std::string* delta);
  // Removes `count` random members (SPOP), calling fn(member) for each; the delta names the
  // members drawn, so replay does not depend on the draw. REQUIRES: count <= Size().
  template <class F>
  void PopRandom(uint64_t count, std::string* delta, F&& fn) {
    delta->clear();
    BeginDelta(delta, kDeltaRemove, count);
    std::string m;
    for (uint64_t i = 0; i < count; i++) {
      Random(&m);
      Remove(m);
      coding::PutBytes(delta, m);
      fn(std::move(m));
    }
  }

  // Calls fn(member) for every member (intset: ascending). The view lives for the call only.
  // fn may not change the set.
  template <class F>
  void ForEach(F&& fn) const {
    switch (enc_) {
      case Enc::kIntset: {
        char buf[24];
        for (uint32_t i = 0; i < count_; i++) fn(FormatInt(IntAt(i), buf));
        return;
      }
      case Enc::kListpack: {
        const char* p = buf_;
        for (uint32_t i = 0; i < count_; i++) fn(DecodeString(p, &p));
        return;
      }
      case Enc::kHashtable:
        ht_->ForEach([&](const StrNode* n) { fn(n->key()); });
        return;
    }
  }
  // One step of SSCAN: small encodings are returned whole (cursor 0), as Redis does.
  template <class F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    if (enc_ != Enc::kHashtable) {
      ForEach(fn);
      return 0;
    }
    return ht_->Scan(cursor, [&](const StrNode* n) { fn(n->key()); });
  }
  // A random member, copied into *out. REQUIRES: Size() > 0.
  void Random(std::string* out) const;

  static void BeginDelta(std::string* out, uint8_t op, size_t count) {
    out->push_back(static_cast<char>(op));
    coding::PutVarint(out, count);
  }

 private:
  static std::string_view FormatInt(int64_t v, char* buf) {
    auto r = std::to_chars(buf, buf + 24, v);
    return {buf, static_cast<size_t>(r.ptr - buf)};
  }
  int64_t IntAt(uint32_t i) const;
  void SetIntAt(uint32_t i, int64_t v);
  // Index of v in the intset, or of where it would be inserted (*found says which).
  uint32_t IntSearch(int64_t v, bool* found) const;
  bool IntAdd(int64_t v);
  void ConvertTo(Enc to);
  // Whether an intset may become a listpack to take the non-integer `member` (Redis 7.2's
  // setTypeAddAux). Inline: an empty set (the first SADD of a key) decides here.
  bool IntsetToListpackTakes(std::string_view member) const {
    const size_t max_value = EncodingLimits::set_max_listpack_value();
    return count_ + 1 <= EncodingLimits::set_max_listpack_entries() && member.size() <= max_value &&
           (count_ == 0 || IntsFitListpack(max_value));
  }
  // Whether the integers, as strings of at most `max_value` bytes, fit a listpack.
  bool IntsFitListpack(size_t max_value) const;
  int64_t LpFind(std::string_view m) const;

  union {
    char* buf_ = nullptr;  // intset / listpack buffer (nullptr when empty)
    StrTable* ht_;
  };
  uint32_t len_ = 0;    // listpack bytes
  uint32_t count_ = 0;  // intset / listpack members
  Enc enc_ = Enc::kIntset;
  uint8_t width_ = 2;  // intset bytes per integer: 2, 4 or 8
};

}  // namespace fdb
