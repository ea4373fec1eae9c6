// The list family's Ops: typed arguments in, OpStatus / OpResult out, no RESP and no client
// (commands/op_status.h has the model). list_family.cc parses and replies around them, the
// blocking pops' serve callbacks call the same Ops, and the unit tests (list_ops_test.cc) call
// them on a Keyspace directly.
//
// Every write finds its list with FindCollection (collection_util.h), changes it through one of
// ListObject's delta-returning mutators and hands that delta to Keyspace::Delta in the next
// statement, or deletes the key its change emptied. The deltas are effects: a pop logs how many
// elements left which end, LSET / LINSERT the resolved index, LTRIM the range kept.
// REQUIRES (every Op): the caller holds the shard lock of every key it names.
//
// Pointers returned by the reads are valid until the next change of the key or the release of
// its shard lock, whichever comes first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/op_status.h"
#include "engine/list_object.h"

namespace fdb {

// --- Writes ---

// LPUSH / RPUSH (front: LPUSH): pushes vals, creating the list; returns the new length.
// LPUSHX / RPUSHX (only_existing): a missing key is left missing and the length is 0.
// REQUIRES: at least one value.
[[nodiscard]] OpResult<int64_t> OpPush(const OpArgs& op, std::string_view key, bool front,
                                       std::span<const std::string_view> vals,
                                       bool only_existing = false);
// LPOP / RPOP key: the element removed from one end, nullopt when the key is missing.
[[nodiscard]] OpResult<std::optional<std::string>> OpPop(const OpArgs& op, std::string_view key,
                                                         bool front);
// LPOP / RPOP key count, LMPOP and the blocking pops: up to `count` elements removed from one
// end, in pop order; nullopt when the key is missing (an empty vector when count is 0).
[[nodiscard]] OpResult<std::optional<std::vector<std::string>>> OpPopCount(const OpArgs& op,
                                                                           std::string_view key,
                                                                           bool front,
                                                                           uint64_t count);
// LSET: kKeyNotFound, kIndexOutOfRange (index negative from the tail, as Redis).
[[nodiscard]] OpStatus OpLSet(const OpArgs& op, std::string_view key, int64_t index,
                              std::string_view value);
// LINSERT: inserts value before (or after) the first element equal to pivot. The new length,
// 0 when the key is missing, -1 when pivot is not in the list.
[[nodiscard]] OpResult<int64_t> OpLInsert(const OpArgs& op, std::string_view key, bool after,
                                          std::string_view pivot, std::string_view value);
// LREM: removes up to |count| elements equal to value (from the head when count > 0, the tail
// when < 0, all when 0); returns how many.
[[nodiscard]] OpResult<int64_t> OpLRem(const OpArgs& op, std::string_view key, int64_t count,
                                       std::string_view value);
// LTRIM: keeps [start, end] (Redis's indexes); returns how many elements were removed.
[[nodiscard]] OpResult<int64_t> OpLTrim(const OpArgs& op, std::string_view key, int64_t start,
                                        int64_t end);
// LMOVE / RPOPLPUSH: pops from src's from_left end and pushes to dst's to_left end; the
// element, or nullopt when src is missing. kWrongType (nothing changed) when either key holds
// another type.
[[nodiscard]] OpResult<std::optional<std::string>> OpLMove(const OpArgs& op, std::string_view src,
                                                           std::string_view dst, bool from_left,
                                                           bool to_left);

// --- Reads ---

// The list at key, nullptr (kOk) when missing; kWrongType for another type.
[[nodiscard]] OpResult<const ListObject*> OpFindList(const OpArgs& op, std::string_view key);
// LLEN: the length (0 when missing).
[[nodiscard]] OpResult<int64_t> OpLLen(const OpArgs& op, std::string_view key);
// LRANGE resolved: the list and the elements [start, start + n) to walk with ForRange (n 0 when
// the key is missing or the range is empty).
struct ListRange {
  const ListObject* list = nullptr;
  size_t start = 0;
  size_t n = 0;
};
[[nodiscard]] OpResult<ListRange> OpLRange(const OpArgs& op, std::string_view key, int64_t start,
                                           int64_t end);
// LINDEX: the element, nullopt when the key is missing or the index out of range.
[[nodiscard]] OpResult<std::optional<std::string>> OpLIndex(const OpArgs& op, std::string_view key,
                                                            int64_t index);
// LPOS: the indexes of the elements equal to elem, by Redis's RANK / COUNT / MAXLEN rules
// (count 0: every match; count -1, no COUNT given: the first match only; rank negative: from
// the tail). nullopt when the key is missing.
// REQUIRES: rank != 0 and rank != INT64_MIN, count >= -1, maxlen >= 0.
[[nodiscard]] OpResult<std::optional<std::vector<int64_t>>> OpLPos(const OpArgs& op,
                                                                   std::string_view key,
                                                                   std::string_view elem,
                                                                   int64_t rank, int64_t count,
                                                                   int64_t maxlen);

}  // namespace fdb
