// The stream type (Redis 7.0 streams): an append-only log of entries (an ID and field-value
// pairs) plus consumer groups.
//
// Model. Entries are packed in nodes, as Redis's radix tree of listpacks: an absl::btree_map from
// a node's first ID to a node, and each node one buffer of up to stream-node-max-entries
// entries or stream-node-max-bytes bytes (the command layer passes the limits in). A node opens
// with its "master" field names (those of its first entry); an entry with the same field names
// stores only its values. IDs are stored as differences from the node's key, so a typical entry
// of three small fields costs a few bytes beyond its values. XDEL marks an entry deleted in place
// (a tombstone, as Redis) and frees its node when the last live entry of the node goes; trimming
// drops whole nodes and tombstones the rest of a partly trimmed node.
//
// The alternative rejected: a std::map of entries (one heap object per entry, ~100 bytes of
// overhead each against Redis's ~10).
//
// Consumer groups are ordinary maps (groups and consumers by name, so XINFO lists them in
// Redis's order; the PEL by ID) — their size follows the number of unacknowledged messages, not
// the stream's.
//
// Persistence. The full image (Serialize / Decode) holds the entries, the stream's metadata
// (last ID, entries added, max deleted ID) and every group with its PEL and consumers. A
// change is logged as a delta made of one or more sub-records, each a primitive change
// (append an entry, tombstone one, trim a prefix, set the metadata, create/destroy a group, set
// a group's position, create/delete a consumer, set/remove a PEL entry). Every mutator below is
// one primitive that changes the stream and appends its sub-record to `delta` in the same call,
// and ApplyDelta replays a sub-record through the same primitive, so replay equals the live
// change by construction. Sub-records hold effects only: absolute times, resolved IDs, the
// resulting counters (docs/format.md, "Stream image and deltas").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "engine/collections.h"
#include "engine/entry.h"

namespace fdb {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
  static StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
  std::string ToString() const;
  // The next / previous ID; false at the end of the ID space.
  bool Incr();
  bool Decr();
};

class StreamObject final : public ValueObject {
 public:
  // Redis's SCG_INVALID_ENTRIES_READ: a group's read counter that is not known.
  static constexpr int64_t kInvalidEntriesRead = -1;

  struct Consumer;
  struct Nack {
    int64_t delivery_ms = 0;
    uint64_t delivery_count = 0;
    Consumer* consumer = nullptr;
  };
  struct Consumer {
    std::string name;
    int64_t seen_ms = 0;
    absl::btree_set<StreamId> pel;
  };
  struct Group {
    StreamId last_id;
    int64_t entries_read = kInvalidEntriesRead;
    absl::btree_map<StreamId, Nack> pel;
    std::map<std::string, std::unique_ptr<Consumer>, std::less<>> consumers;
  };
  using Groups = std::map<std::string, std::unique_ptr<Group>, std::less<>>;
  // An entry's fields and values, alternating (views valid until the next change).
  using FieldValues = std::span<const std::string_view>;
  using EntryFn = absl::FunctionRef<bool(StreamId id, FieldValues fv)>;

  StreamObject() = default;
  ~StreamObject() override = default;
  StreamObject(const StreamObject&) = delete;
  StreamObject& operator=(const StreamObject&) = delete;

  ValueType type() const override { return ValueType::kStream; }
  const char* encoding_name() const override { return "stream"; }
  size_t MemoryUsage() const override { return bytes_; }
  size_t Size() const override { return length_; }
  // Redis's estimate: every node, and every group with as many pending entries as the first.
  size_t FreeEffort() const override {
    return nodes_.size() +
           (groups_.empty() ? 0 : groups_.size() * (1 + groups_.begin()->second->pel.size()));
  }
  void SerializeParts(std::string* out, const ImageParts& parts) const override;
  Status ApplyDelta(std::string_view delta) override;
  ValueObject* Clone() const override;

  static Result<StreamObject*> Decode(std::string_view image);

  // --- Metadata ---
  uint64_t length() const { return length_; }
  StreamId last_id() const { return last_id_; }
  StreamId max_deleted_id() const { return max_deleted_id_; }
  uint64_t entries_added() const { return entries_added_; }
  // The first / last live entry's ID (0-0 when empty).
  StreamId FirstId() const;
  StreamId LastEntryId() const;
  size_t node_count() const { return nodes_.size(); }

  // --- Reads ---
  // Calls fn for every live entry with start <= id <= end, ascending (descending when `rev`),
  // until fn returns false.
  void Range(StreamId start, StreamId end, bool rev, EntryFn fn) const;
  bool Contains(StreamId id) const;
  const Groups& groups() const { return groups_; }
  Group* FindGroup(std::string_view name) const;
  static Consumer* FindConsumer(const Group& g, std::string_view name);

  // Redis's entries-read estimate for `id` (kInvalidEntriesRead when unknown) and a group's lag
  // (-1 when unknown).
  int64_t EstimateEntriesRead(StreamId id) const;
  bool RangeHasTombstones(StreamId start) const;
  int64_t Lag(const Group& g) const;

  // --- Mutators: each changes the stream and appends its sub-record to *delta ---
  // Appends an entry. REQUIRES: id > last_id(), fv non-empty and of even size. The node limits
  // (0 = none) decide whether the entry opens a new node.
  void Append(StreamId id, FieldValues fv, size_t node_max_bytes, size_t node_max_entries,
              std::string* delta);
  // Tombstones a live entry; false (no sub-record) when there is none with that ID.
  bool Delete(StreamId id, std::string* delta);
  // Removes every live entry with an ID <= `through` (a trim: always a prefix of the stream).
  // Returns how many.
  uint64_t TrimThrough(StreamId through, std::string* delta);
  // XSETID: sets the metadata.
  void SetMeta(StreamId last_id, StreamId max_deleted, uint64_t entries_added, std::string* delta);
  // Group and consumer changes. Create* return nullptr when the name exists.
  Group* CreateGroup(std::string_view name, StreamId last_id, int64_t entries_read,
                     std::string* delta);
  bool DestroyGroup(std::string_view name, std::string* delta);
  void SetGroupPos(std::string_view group, StreamId last_id, int64_t entries_read,
                   std::string* delta);
  // Creates the consumer when missing, and sets its seen-time either way.
  Consumer* TouchConsumer(std::string_view group, std::string_view name, int64_t seen_ms,
                          std::string* delta);
  // Removes the consumer and its pending entries; returns how many were pending, -1 if none.
  int64_t DeleteConsumer(std::string_view group, std::string_view name, std::string* delta);
  // Sets (creating or moving) the PEL entry of `id` to belong to `consumer`, which must exist.
  void SetNack(std::string_view group, StreamId id, std::string_view consumer, int64_t delivery_ms,
               uint64_t delivery_count, std::string* delta);
  // Removes the PEL entry of `id`; false when there was none.
  bool Ack(std::string_view group, StreamId id, std::string* delta);

  // Which entries a MAXLEN / MINID trim removes: the last ID to go (for TrimThrough) and how
  // many go ({0-0, 0} when nothing).
  // `limit` (0 = none) caps the entries removed when `approx`; approx removes whole nodes only.
  struct TrimPlan {
    StreamId boundary;
    uint64_t removed = 0;
  };
  TrimPlan PlanTrimMaxLen(uint64_t maxlen, bool approx, uint64_t limit) const;
  TrimPlan PlanTrimMinId(StreamId minid, bool approx, uint64_t limit) const;

 private:
  struct Node {
    std::string buf;       // master fields, then entries (format in stream_object.cc)
    uint32_t count = 0;    // entries, live and deleted
    uint32_t deleted = 0;  // tombstones
  };
  using Nodes = absl::btree_map<StreamId, Node>;

  // Primitive changes without a delta (ApplyDelta's and the mutators' shared bodies).
  void DoAppend(StreamId id, FieldValues fv, size_t node_max_bytes, size_t node_max_entries);
  bool DoDelete(StreamId id);
  uint64_t DoTrimThrough(StreamId through);
  Status ApplyOne(std::string_view* in);
  // Walks one node's entries; fn(id, fv, offset of the flags byte) returns false to stop.
  template <class F>
  static void ForEachInNode(StreamId key, const Node& n, bool with_deleted, F&& fn);
  void Account(int64_t d) { bytes_ = static_cast<size_t>(static_cast<int64_t>(bytes_) + d); }
  static size_t NodeBytes(const Node& n);

  Nodes nodes_;
  Groups groups_;
  uint64_t length_ = 0;
  StreamId last_id_;
  StreamId max_deleted_id_;
  uint64_t entries_added_ = 0;
  size_t bytes_ = sizeof(StreamObject);
};

ValueObject* NewStreamObject();
Result<ValueObject*> DecodeStreamObject(std::string_view image);

}  // namespace fdb
