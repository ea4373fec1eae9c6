// The set family's Ops: typed arguments in, OpStatus / OpResult out, no RESP and no client
// (commands/op_status.h has the model). set_family.cc parses and replies around them; the unit
// tests (set_ops_test.cc) call them on a Keyspace directly.
//
// Every write finds its set with FindCollection (collection_util.h), changes it through one of
// SetObject's delta-returning mutators and hands that delta to Keyspace::Delta in the next
// statement (or deletes the key its change emptied); SPOP's delta names the members drawn, so
// replay does not depend on the draw. The *STORE commands Put a whole new set (a full image).
// REQUIRES (every Op): the caller holds the shard lock of every key it names.
//
// Pointers returned by the reads are valid until the next change of the key or the release of
// its shard lock, whichever comes first.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/op_status.h"
#include "engine/set_object.h"

namespace fdb {

// --- Writes ---

// SADD: adds the members, creating the set; returns how many were new.
// REQUIRES: at least one member.
[[nodiscard]] OpResult<int64_t> OpSAdd(const OpArgs& op, std::string_view key,
                                       std::span<const std::string_view> members);
// SREM: removes the members; returns how many were there. Deletes the key it empties.
[[nodiscard]] OpResult<int64_t> OpSRem(const OpArgs& op, std::string_view key,
                                       std::span<const std::string_view> members);
// SPOP key: one random member removed, nullopt when the key is missing.
[[nodiscard]] OpResult<std::optional<std::string>> OpSPop(const OpArgs& op, std::string_view key);
// SPOP key count: up to `count` random members removed (the whole set, and the key deleted,
// when count >= its size); empty when the key is missing.
[[nodiscard]] OpResult<std::vector<std::string>> OpSPopCount(const OpArgs& op, std::string_view key,
                                                             uint64_t count);
// SMOVE: moves member from src to dst; true when src held it. As Redis, a missing src is
// false before dst's type is checked, and src == dst changes nothing.
[[nodiscard]] OpResult<bool> OpSMove(const OpArgs& op, std::string_view src, std::string_view dst,
                                     std::string_view member);

// --- Reads ---

// The set at key, nullptr (kOk) when missing; kWrongType for another type.
[[nodiscard]] OpResult<const SetObject*> OpFindSet(const OpArgs& op, std::string_view key);
// SCARD: the number of members (0 when missing).
[[nodiscard]] OpResult<int64_t> OpSCard(const OpArgs& op, std::string_view key);

// --- Several sets ---

enum class SetOp { kInter, kUnion, kDiff };

// The sets at `keys`, nullptr for a missing key. As Redis, every key's type is checked, even
// after a missing one.
[[nodiscard]] OpResult<std::vector<const SetObject*>> OpLoadSets(
    const OpArgs& op, std::span<const std::string_view> keys);
// SINTER / SUNION / SDIFF of the sets at `keys`, as a new set the caller owns.
[[nodiscard]] OpResult<std::unique_ptr<SetObject>> OpSetCompute(
    const OpArgs& op, SetOp kind, std::span<const std::string_view> keys);
// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: Puts the result at dst (an empty result deletes dst).
struct SetStoreResult {
  int64_t size = 0;      // the members of the result
  bool changed = false;  // dst was written or deleted
};
[[nodiscard]] OpResult<SetStoreResult> OpSetStore(const OpArgs& op, SetOp kind,
                                                  std::string_view dst,
                                                  std::span<const std::string_view> keys);
// SINTERCARD: the size of the intersection, counting up to `limit` (0: no limit).
[[nodiscard]] OpResult<int64_t> OpSInterCard(const OpArgs& op,
                                             std::span<const std::string_view> keys,
                                             uint64_t limit);

}  // namespace fdb
