// The sorted-set family's Ops: typed arguments in, OpStatus / OpResult out, no RESP and no
// client (commands/op_status.h has the model). zset_family.cc parses and replies around them,
// the blocking pops' serve callbacks call the same Ops, and the unit tests (zset_ops_test.cc)
// call them on a Keyspace directly.
//
// Every write finds its zset with FindCollection (collection_util.h) and changes it through
// ZSetObject's delta-recording mutators (SetScore, RemoveMember) into one ZSetDelta, which it
// hands to Keyspace::Delta when the command's changes are done, or deletes the key its change
// emptied. The deltas are effects: ZINCRBY logs the new score, ZPOPMIN the members it popped,
// ZREMRANGEBYSCORE the members it removed. The STORE commands Put a whole new zset.
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
#include <utility>
#include <vector>

#include "commands/op_status.h"
#include "engine/set_object.h"
#include "engine/zset_object.h"

namespace fdb {

// --- ZADD / ZINCRBY / ZREM ---

struct ZAddOptions {
  bool nx = false, xx = false, gt = false, lt = false;
  bool incr = false;  // ZINCRBY, ZADD INCR: the score is added to the current one
};
struct ZAddResult {
  int64_t added = 0;      // members that were new
  int64_t updated = 0;    // members whose score changed
  int64_t processed = 0;  // members the conditions let through (INCR: 0 means a null reply)
  double score = 0;       // the last score set (INCR's reply)
};
// ZADD: sets scores[i] on members[i] under the NX / XX / GT / LT / INCR conditions (Redis's
// zaddGenericCommand), creating the zset unless XX. kNanScore when an increment gives NaN
// (the changes before it stay and are logged). REQUIRES: scores.size() == members.size() > 0,
// and one pair with incr.
[[nodiscard]] OpResult<ZAddResult> OpZAdd(const OpArgs& op, std::string_view key,
                                          const ZAddOptions& opts, std::span<const double> scores,
                                          std::span<const std::string_view> members);
// ZREM: removes the members; returns how many were there. Deletes the key it empties.
[[nodiscard]] OpResult<int64_t> OpZRem(const OpArgs& op, std::string_view key,
                                       std::span<const std::string_view> members);

// --- Reads ---

// The zset at key, nullptr (kOk) when missing; kWrongType for another type.
[[nodiscard]] OpResult<const ZSetObject*> OpFindZSet(const OpArgs& op, std::string_view key);

// --- Ranges ---

enum class ZRangeBy { kAuto, kRank, kScore, kLex };
enum class ZDirection { kAuto, kForward, kReverse };

// A parsed range request (ZRANGE's arguments), reduced to ranks once the zset is known.
struct ZRangeSpec {
  ZRangeBy by = ZRangeBy::kAuto;
  ZDirection dir = ZDirection::kAuto;
  bool withscores = false;
  int64_t offset = 0, limit = -1;  // LIMIT; limit < 0: no limit
  int64_t start = 0, end = 0;      // by rank
  ZScoreRange score;
  ZLexRange lex;
};
// The ranks a range selects: `count` members from ascending rank `first`, ascending or (with
// `reverse`) descending.
struct ZRankWindow {
  size_t first = 0, count = 0;
  bool reverse = false;
};
// The window `s` selects in z: O(log n).
[[nodiscard]] ZRankWindow ZWindow(const ZSetObject& z, const ZRangeSpec& s);
// ZRANGE and its read-only variants: the zset (nullptr when missing) and its window.
struct ZRange {
  const ZSetObject* zset = nullptr;
  ZRankWindow window;
};
[[nodiscard]] OpResult<ZRange> OpZRange(const OpArgs& op, std::string_view key,
                                        const ZRangeSpec& s);
// ZRANGESTORE: Puts the range of src at dst (an empty range deletes dst).
struct ZStoreResult {
  int64_t size = 0;      // the members stored
  bool changed = false;  // dst was written or deleted
};
[[nodiscard]] OpResult<ZStoreResult> OpZRangeStore(const OpArgs& op, std::string_view dst,
                                                   std::string_view src, const ZRangeSpec& s);
// ZREMRANGEBYRANK / BYSCORE / BYLEX: removes the range (s.dir forward); returns how many.
[[nodiscard]] OpResult<int64_t> OpZRemRange(const OpArgs& op, std::string_view key,
                                            const ZRangeSpec& s);

// --- Pops ---

// ZPOPMIN / ZPOPMAX / ZMPOP and the blocking pops: up to `count` members (lowest first, or
// highest with `max`) from the first of `keys` that holds a zset. As Redis, a key of another
// type met before it is kWrongType (nothing popped); nullopt when no key holds a zset.
struct ZPopResult {
  size_t key_index = 0;  // which of `keys` was popped
  std::vector<std::pair<std::string, double>> members;
};
[[nodiscard]] OpResult<std::optional<ZPopResult>> OpZPop(const OpArgs& op,
                                                         std::span<const std::string_view> keys,
                                                         bool max, size_t count);

// --- ZUNION / ZINTER / ZDIFF ---

// One input of a set operation: a zset, a plain set (every score 1), or a missing key.
struct ZSource {
  const ZSetObject* zset = nullptr;
  const SetObject* set = nullptr;
  double weight = 1;
  size_t Size() const { return zset ? zset->Size() : set ? set->Size() : 0; }
};
// The sources at `keys` (Redis looks them up, and reports WRONGTYPE, before parsing options).
[[nodiscard]] OpResult<std::vector<ZSource>> OpZLoadSources(const OpArgs& op,
                                                            std::span<const std::string_view> keys);
enum class ZSetOpKind { kUnion, kInter, kDiff };
enum class ZAggregate { kSum, kMin, kMax };
// The operation's result as a new zset. Union and intersection visit the sources from the
// smallest, as Redis, so sums are added in Redis's order (`sources` is reordered).
[[nodiscard]] std::unique_ptr<ZSetObject> ZComputeSetOp(ZSetOpKind kind, ZAggregate aggregate,
                                                        std::vector<ZSource>& sources);
// ZINTERCARD: the size of the intersection, counting up to `limit` (0: no limit).
[[nodiscard]] int64_t ZInterCard(std::vector<ZSource>& sources, int64_t limit);
// The STORE forms: Puts `result` at dst (an empty result deletes dst).
[[nodiscard]] OpResult<ZStoreResult> OpZStore(const OpArgs& op, std::string_view dst,
                                              std::unique_ptr<ZSetObject> result);

}  // namespace fdb
