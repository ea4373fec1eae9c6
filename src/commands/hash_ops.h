// The hash family's Ops: typed arguments in, OpStatus / OpResult out, no RESP and no client
// (commands/op_status.h has the model). hash_family.cc parses and replies around them; the
// unit tests (hash_ops_test.cc) call them on a Keyspace directly.
//
// Every write finds its hash with FindCollection (collection_util.h), changes it through one of
// HashObject's delta-returning mutators and hands that delta to Keyspace::Delta in the next
// statement (or deletes the key its change emptied), so the change and its logged effect come
// from one call. REQUIRES (every Op): the caller holds the key's shard lock.
//
// Views returned by the reads (values, the HashObject itself) are valid until the next change
// of the key or the release of its shard lock, whichever comes first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "commands/op_status.h"
#include "engine/hash_object.h"

namespace fdb {

// --- Writes ---

// HSET / HMSET: sets fv[0] = fv[1], fv[2] = fv[3], ... creating the hash when missing; returns
// how many fields are new. REQUIRES: fv holds at least one pair (an even, non-zero count).
[[nodiscard]] OpResult<int64_t> OpHSet(const OpArgs& op, std::string_view key,
                                       std::span<const std::string_view> fv);
// HSETNX: sets the field only when absent; true when it did.
[[nodiscard]] OpResult<bool> OpHSetNx(const OpArgs& op, std::string_view key,
                                      std::string_view field, std::string_view value);
// HDEL: removes the fields named; returns how many existed. Deletes the key it empties.
[[nodiscard]] OpResult<int64_t> OpHDel(const OpArgs& op, std::string_view key,
                                       std::span<const std::string_view> fields);
// HINCRBY: the field's integer plus incr (a missing field counts as 0); logs the result.
// kHashNotInteger when the field is not an integer, kOverflow when the sum does not fit.
[[nodiscard]] OpResult<int64_t> OpHIncrBy(const OpArgs& op, std::string_view key,
                                          std::string_view field, int64_t incr);
// HINCRBYFLOAT: the field's number plus incr, as the text stored (and logged, never the
// increment). kHashNotFloat when the field is not a number, kNanOrInf for a NaN or infinite
// result. REQUIRES: incr is finite.
[[nodiscard]] OpResult<std::string> OpHIncrByFloat(const OpArgs& op, std::string_view key,
                                                   std::string_view field, long double incr);

// --- Reads ---

// The hash at key, nullptr (kOk) when missing; kWrongType for another type. The read-only
// commands that walk the whole hash (HGETALL, HRANDFIELD, HSCAN) iterate it.
[[nodiscard]] OpResult<const HashObject*> OpFindHash(const OpArgs& op, std::string_view key);
// HGET: the field's value, nullopt when the key or the field is missing.
[[nodiscard]] OpResult<std::optional<std::string_view>> OpHGet(const OpArgs& op,
                                                               std::string_view key,
                                                               std::string_view field);
// HLEN: the number of fields (0 when missing).
[[nodiscard]] OpResult<int64_t> OpHLen(const OpArgs& op, std::string_view key);

}  // namespace fdb
