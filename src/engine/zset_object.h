// Sorted sets: members ordered by (score, member), with O(log n) rank operations.
//
// Model: two encodings, as Redis's.
//   - "listpack": up to zset-max-listpack-entries members of at most zset-max-listpack-value
//     bytes (engine/encoding_limits.h; and at most 255, the reach of the 1-byte length), in one
//     malloc'd buffer of entries `score:8 len:1 member{len}` sorted by (score, member). Every
//     operation is a linear scan; at the default size that is faster than any pointer structure
//     and costs 9 bytes of overhead per member.
//   - "skiplist": Redis's skiplist with spans (rank of a node = sum of spans on the search
//     path), each node one allocation holding its score, level links and the member bytes
//     inline, plus a member index: a chained HashTable (engine/hash_table.h) linked through the
//     nodes, so it stores no copy of the member and its reverse-binary cursor gives ZSCAN
//     Redis's guarantee. Per member that is one node of 32 + 12 * level + len bytes and 8-16
//     bytes of bucket array, against Redis's skiplist node, sds and dictEntry (~100 bytes for a
//     short member).
// A zset converts to the skiplist when a write passes either threshold and never converts back
// while it lives (as Redis); a zset decoded from an image or built whole (ZUNIONSTORE...) takes
// the encoding its contents call for under the thresholds of the moment.
//
// Alternative rejected: an order-statistic B-tree. It packs members more densely and scans
// better, but a skiplist with inline members already beats Redis's memory per member, and its
// rank arithmetic is the well-trodden one.
//
// Ranks are 0-based in ascending (score, member) order throughout. Not thread-safe: the
// keyspace shard lock of the owning key guards the object.
//
// Deltas (docs/format.md, "Sorted-set image and deltas") record effects: members with their
// resulting scores, or removed members; never the command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "engine/collections.h"
#include "engine/encoding_limits.h"

namespace fdb {

// A score interval as ZRANGEBYSCORE takes it ("(1.5", "-inf", "+inf").
struct ZScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;  // exclusive bounds
};

// One end of a member interval as ZRANGEBYLEX takes it: "[a" (inclusive), "(a" (exclusive),
// "-" (below every member) or "+" (above every member).
struct ZLexBound {
  enum Kind : uint8_t { kValue, kNegInf, kPosInf };
  Kind kind = kValue;
  bool ex = false;
  std::string value;
};

struct ZLexRange {
  ZLexBound min, max;
};

// One command's changes to a zset as one delta, collected while the changes are made: the
// ZSetObject mutators that take a ZSetDelta (SetScore, RemoveMember) change the set and record
// the change in the same call, so the two cannot drift apart; Finish writes the delta the Op
// hands to Keyspace::Delta. A delta holds one kind of change ('S' or 'R'), and its count
// comes first, so the entries are collected in `body` (a buffer the caller reuses) until then.
class ZSetDelta {
 public:
  enum Kind : char { kSet = 'S', kRemove = 'R' };
  // REQUIRES: body outlives this object; it is cleared here.
  ZSetDelta(Kind kind, std::string* body) : kind_(kind), body_(body) { body_->clear(); }
  size_t count() const { return n_; }
  // Writes the whole delta (kind, count, entries) to *out, replacing its contents.
  void Finish(std::string* out) const;

 private:
  friend class ZSetObject;
  Kind kind_;
  std::string* body_;
  size_t n_ = 0;
};

class ZSetObject final : public ValueObject {
 public:
  // Longest member the packed encoding can hold (its 1-byte length), whatever
  // zset-max-listpack-value says.
  static constexpr size_t kPackedMemberMax = 255;

  ZSetObject();
  ~ZSetObject() override;
  ZSetObject(const ZSetObject&) = delete;
  ZSetObject& operator=(const ZSetObject&) = delete;

  ValueType type() const override { return ValueType::kZSet; }
  const char* encoding_name() const override { return packed() ? "listpack" : "skiplist"; }
  size_t MemoryUsage() const override;
  size_t Size() const override { return size_; }
  size_t FreeEffort() const override { return packed() ? 1 : size_; }
  void SerializeParts(std::string* out, const ImageParts& parts) const override;
  Status ApplyDelta(std::string_view delta) override;
  ValueObject* Clone() const override;

  bool packed() const { return sl_ == nullptr; }

  // The score of m, if m is a member.
  std::optional<double> Score(std::string_view m) const;
  // Sets m's score, adding m if needed. Returns true when m was added; `previous` (if given)
  // receives m's score before the call (nullopt when m was added). REQUIRES: !isnan(score).
  bool Set(std::string_view m, double score, std::optional<double>* previous = nullptr);
  // Removes m; false if it was not a member.
  bool Remove(std::string_view m);
  // The mutators the Ops use. SetScore is Set, recorded in d when m was added or its score
  // changed; RemoveMember is Remove, recorded in d when m was a member. REQUIRES: d is a delta
  // of the matching kind.
  bool SetScore(std::string_view m, double score, ZSetDelta* d,
                std::optional<double>* previous = nullptr);
  bool RemoveMember(std::string_view m, ZSetDelta* d);
  // The 0-based ascending rank of m (and its score), if m is a member.
  std::optional<size_t> Rank(std::string_view m, double* score) const;

  // Number of members below a bound: members with score < min (<= min when exclusive), etc.
  // [CountBelowMin, CountUpToMax) is then the rank interval of the range.
  size_t CountBelowMin(const ZScoreRange& r) const;
  size_t CountUpToMax(const ZScoreRange& r) const;
  size_t CountBelowMin(const ZLexRange& r) const;
  size_t CountUpToMax(const ZLexRange& r) const;

  using Visitor = absl::FunctionRef<void(std::string_view member, double score)>;
  // Visits the members of ranks [start, start + count) clipped to the set, ascending; with
  // `reverse`, visits ranks start, start-1, ... (count of them, down to 0). Work is
  // O(log n + count) for the skiplist.
  void Visit(size_t start, size_t count, bool reverse, Visitor fn) const;
  // Visits every member, ascending.
  void VisitAll(Visitor fn) const { Visit(0, size_, false, fn); }
  // One step of ZSCAN from `cursor`: visits the members of one bucket of the member index and
  // returns the next cursor, 0 when done (Redis's reverse-binary cursor): every member present
  // for the whole scan is visited at least once, whatever is added or removed between steps. A
  // packed zset is visited whole in one step, as Redis does.
  uint64_t Scan(uint64_t cursor, Visitor fn) const;

  // Converts to the skiplist (for tests and for callers that know the set will grow).
  void ConvertToSkiplist();

  // Delta encodings (the change is appended to *out).
  //   set    := 'S' n:varint (member:bytes score:double){n}
  //   remove := 'R' n:varint member:bytes{n}
  static void BeginSetDelta(std::string* out, size_t n);
  static void AddSetDelta(std::string* out, std::string_view m, double score);
  static void BeginRemoveDelta(std::string* out, size_t n);
  static void AddRemoveDelta(std::string* out, std::string_view m);

  // Decodes an image (REQUIRES nothing of the input: Corruption on bad bytes).
  static Result<ZSetObject*> Decode(std::string_view image);

 private:
  struct SkipList;
  // Packed encoding: entries `score:8 len:1 member` back to back, sorted.
  static size_t PackedValueMax() {
    size_t v = EncodingLimits::zset_max_listpack_value();
    return v < kPackedMemberMax ? v : kPackedMemberMax;
  }
  // Whether the packed set may take the new member m (Redis's zsetAdd check).
  bool PackedTakes(std::string_view m) const {
    return size_ + 1 <= EncodingLimits::zset_max_listpack_entries() &&
           m.size() <= PackedValueMax() &&
           buf_len_ + 9 + m.size() <= EncodingLimits::kBufferBytesMax;
  }
  size_t PackedFind(std::string_view m, double* score) const;  // offset or npos
  void PackedInsert(std::string_view m, double score);
  void PackedErase(size_t off);
  void PackedReserve(size_t need);
  template <typename Pred>
  size_t PackedCountPrefix(Pred pred) const;
  void Account();

  char* buf_ = nullptr;  // packed entries
  uint32_t buf_len_ = 0;
  uint32_t buf_cap_ = 0;
  size_t size_ = 0;
  std::unique_ptr<SkipList> sl_;  // set once converted
};

// Parses a score as Redis's getDoubleFromObject (strtod; no leading space, no trailing bytes,
// no NaN, no overflow).
bool ParseScore(std::string_view s, double* out);
// Parses ZRANGEBYSCORE bounds as Redis's zslParseRange; false when either is not a float.
bool ParseScoreRange(std::string_view min, std::string_view max, ZScoreRange* out);
// Parses ZRANGEBYLEX bounds as Redis's zslParseLexRange; false when either is not valid.
bool ParseLexRange(std::string_view min, std::string_view max, ZLexRange* out);

}  // namespace fdb
