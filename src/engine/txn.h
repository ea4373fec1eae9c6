// A command transaction: what one command changes, as typed effects in execution order.
//
// The model. The dispatcher makes one Txn per command (one for a whole EXEC, one per blocked
// client it serves); the keyspace makes its own for changes no command asked for (an eviction,
// active expiry). Every keyspace mutator takes the Txn explicitly and appends the effect of the
// change it made: a put (a full image), a delta (an in-place change of a collection, in its
// type's encoding), a delete, a new deadline, a flush, a swap. At commit, while the shards the
// change touched are still locked, the effects go to the keyspace's effect sinks in the order
// they were registered: first the log, which appends them as one record (or one framed batch)
// and so assigns the sequence the reply waits for; then whoever follows the data set's changes
// (replication, keyspace notifications, tracking invalidation, slot migration). Effects flow
// whether or not a log is configured (`appendonly no` still has sinks).
//
// Why explicit: command state used to travel through thread-locals (the open batch, its depth,
// the last sequence, "every shard is held", the keys made ready for blocked clients), so a
// reader of a handler could not see what a change would cause, and each new consumer of the
// change stream would have added another branch. A Txn is passed, never found.
//
// Thread-safety: a Txn belongs to the thread running its command; it is not shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/payload.h"

namespace fdb {

class Entry;
class MessageSink;  // commands/pubsub.h: an I/O thread's receiver of pub/sub messages
class Txn;

enum class EffectKind : uint8_t {
  kPut,     // the key's full value (entry) as of the change
  kDelta,   // an in-place change of the key's collection (`change`, in its type's encoding)
  kDelete,  // the key is gone
  kExpire,  // the key's deadline is now `expire_ms` (0: none)
  kFlush,   // every key of database `db` (-1: every database) is gone
  kSwapDb,  // databases `db` and `db2` swapped
};

// What a change means to whoever follows changes by name (keyspace notifications): the event
// Redis names for it ("lpush", "rename_from", "incrby"...) and its class, a bit of the command
// layer's notify-keyspace-events flags (opaque here). The command layer sets it on the
// transaction before a change (Txn::set_event) and every effect appended until the next
// set_event carries it. Why a tag on the transaction and not an effect of its own: the event
// name belongs to the command (INCR and INCRBY both make a put; Redis names both "incrby"),
// while the effect is what the change did; carried on the effect, the notification comes from
// the same path as the change, for every writer (a command, EXEC, a script), and costs
// nothing when nobody follows. `name2` is a second event of the same change (SET ... EX:
// "set" then "expire"), or, for one keyspace call that changes two keys (Keyspace::Move), the
// event of the second key (MOVE: "move_from", then "move_to").
struct EventTag {
  int cls = 0;
  const char* name = nullptr;  // nullptr: none named (the effect's kind decides, see below)
  int cls2 = 0;
  const char* name2 = nullptr;
};

// Why the keyspace made a change nobody asked for (an effect of a command is kCommand).
enum class EffectCause : uint8_t {
  kCommand,
  kExpired,  // a key past its deadline, deleted by lazy or active expiry
  kEvicted,  // a whole key deleted by a maxmemory-policy (not a value moved to disk)
};

// Up to this many named events per effect (a new key, the command's two, "del" after a
// collection was emptied).
inline constexpr int kMaxEffectEvents = 4;

struct Effect {
  EffectKind kind = EffectKind::kPut;
  int db = 0;
  int db2 = 0;     // kSwapDb
  int shard = -1;  // the key's shard; -1 for kFlush and kSwapDb (every shard)
  // The key (empty for kFlush and kSwapDb). A view valid only during Capture, like `entry` and
  // `change`: copying every key into its effect cost a malloc per write (keys of 16 bytes and
  // more), and the log sink has the key in the record it captures.
  std::string_view key;
  uint64_t hash = 0;
  int64_t expire_ms = 0;  // kExpire
  // kPut and kDelta: the entry as changed. Valid only during Capture: a later change in the same
  // transaction (a FLUSHALL in the same EXEC) may free it before the commit.
  Entry* entry = nullptr;
  // kDelta: the change in the collection type's encoding. A view valid only during Capture
  // (the caller's buffer); the log sink copies it into `record`.
  std::string_view change;
  // The log's encoding of this effect, captured by the log sink when the effect was made
  // (a later change must not alter what this effect says). Empty when no sink asked for it.
  storage::Payload record;
  bool captured = false;

  // For the sinks that follow changes by name (notifications, tracking). `event` is the
  // transaction's tag when the effect was made; `created`: the key did not exist before this
  // change (Redis's "new"). A following sink that needs the key after Capture copies it into
  // `follow_key` and the events it decided into `events` (empty unless such a sink is on).
  EventTag event;
  EffectCause cause = EffectCause::kCommand;
  bool created = false;
  uint8_t n_events = 0;
  struct Named {
    int cls;
    const char* name;
  };
  Named events[kMaxEffectEvents];
  std::string follow_key;
};

// Receives effects. Capture runs as each effect is appended (the shard locked, the value as the
// change left it); Commit runs once per commit with every effect since the last commit, still
// under the locks of the change. A sink earlier in the list has committed when a later one
// runs; a sink's failure stops the commit there (the later sinks do not see effects that were
// not made durable).
class EffectSink {
 public:
  virtual ~EffectSink() = default;
  virtual void Capture(Effect& effect) {}
  [[nodiscard]] virtual Status Commit(Txn& txn) = 0;
};

class Txn {
 public:
  Txn() = default;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // The effects appended since the last commit, in execution order.
  std::vector<Effect>& effects() { return effects_; }
  const std::vector<Effect>& effects() const { return effects_; }
  bool has_effects() const { return !effects_.empty(); }
  // After a commit: the effects and the commands noted with them are gone.
  void ClearEffects() {
    effects_.clear();
    commands_.clear();
  }

  // For Redis replicas (Replication::Translate): a command that Redis propagates as it was
  // sent, as RESP, with the effects it made (effects()[first, end)). The dispatcher notes them
  // only while a Redis replica is attached.
  struct SentCommand {
    size_t first;
    size_t end;
    std::string resp;
  };
  void NoteCommand(size_t first, std::string resp) {
    commands_.push_back({first, effects_.size(), std::move(resp)});
  }
  const std::vector<SentCommand>& commands() const { return commands_; }

  // True while the transaction holds every shard lock (EXEC): whole-keyspace operations then
  // skip locking (the locks are not recursive), a flush waits for the end of the transaction
  // to be logged, and blocking commands do not block.
  bool holds_all_shards() const { return holds_all_shards_; }
  // The clock the commands of a script see: its start, as Redis 7 freezes time for a script
  // (keys do not expire half-way through it). 0: each command reads the clock.
  int64_t frozen_now_ms() const { return frozen_now_ms_; }
  void set_frozen_now_ms(int64_t ms) { frozen_now_ms_ = ms; }
  void set_holds_all_shards(bool on) { holds_all_shards_ = on; }

  // The highest log sequence this transaction's commits were given (0: nothing logged). A
  // reply that depends on the transaction is held until this sequence is committed.
  uint64_t sequence() const { return sequence_; }
  void set_sequence(uint64_t seq) {
    if (seq > sequence_) sequence_ = seq;
  }

  // The event tag of the effects appended from now on (see EventTag).
  const EventTag& event() const { return event_; }
  void set_event(const EventTag& tag) { event_ = tag; }
  void set_event(int cls, const char* name) { event_ = EventTag{cls, name}; }

  // The pub/sub receiver of the thread running the transaction (nullptr: none, or not known),
  // for the sinks that publish (keyspace notifications): subscribers on that thread get the
  // messages directly, as a PUBLISH by the same client would, so the two stay in order.
  MessageSink* origin() const { return origin_; }
  // The id of the client whose command this is (0: none; CLIENT TRACKING's NOLOOP).
  uint64_t client_id() const { return client_id_; }
  void set_origin(MessageSink* s, uint64_t client_id) {
    origin_ = s;
    client_id_ = client_id;
  }

  // Where messages to the transaction's own client go when they must follow a reply that is
  // not written yet (a blocked client served by another thread: its reply travels with them
  // appended); nullptr: delivered as any message. Bytes as the client reads them.
  std::string* own_pushes() const { return own_pushes_; }
  void set_own_pushes(std::string* out) { own_pushes_ = out; }

  // Keys the transaction's client read while earlier effects of the same transaction wait for
  // their commit (inside EXEC), each with how many effects came before the read. CLIENT
  // TRACKING: a key written and then read in one EXEC stays remembered for the reader, whose
  // read came after the write (Tracking::Commit), as in Redis, where the write's invalidation
  // went out before the read remembered the key.
  void NoteRead(std::string_view key) { reads_.emplace_back(std::string(key), effects_.size()); }
  const std::vector<std::pair<std::string, size_t>>& reads() const { return reads_; }

  // An entry inserted empty by Keyspace::Create: its first change is the key's creation.
  const Entry* created_entry() const { return created_entry_; }
  void set_created_entry(const Entry* e) { created_entry_ = e; }

  // Keys created as collections (a blocked client may wait for them), served by the
  // dispatcher once the transaction's locks are released.
  std::vector<std::pair<int, std::string>>& ready_keys() { return ready_keys_; }
  void NoteReady(int db, std::string_view key) {
    for (const auto& [d, k] : ready_keys_) {
      if (d == db && k == key) return;
    }
    ready_keys_.emplace_back(db, std::string(key));
  }

  // Replication (commands/replication.h). A transaction of the replica's link to its master
  // applies what the master's stream says: the replica passes that stream on to its own
  // replicas byte for byte, not re-encoded, so offsets agree along a chain.
  bool from_master() const { return from_master_; }
  void set_from_master(bool on) { from_master_ = on; }
  // The replication offset right after this transaction's changes entered the stream (0:
  // none did): WAIT counts the replicas that acknowledged it.
  uint64_t repl_offset() const { return repl_offset_; }
  void set_repl_offset(uint64_t offset) { repl_offset_ = offset; }
  // A write command of a client (not the master's stream): on a writable replica it deletes an
  // expired key it finds, as Redis's lookupKeyWrite (Keyspace::Live).
  bool local_write() const { return local_write_; }
  void set_local_write(bool on) { local_write_ = on; }
  // The name Redis would propagate the transaction's command as (GETSET as "set"; nullptr for
  // EXEC and scripts, which Redis propagates as the commands they ran): replicas count what
  // they apply under it. The first command named wins (EXEC, not the commands it runs).
  const char* replicated_name() const { return replicated_name_; }
  void set_replicated_name(const char* name) {
    if (named_) return;
    named_ = true;
    replicated_name_ = name;
  }
  // A replica's position in its master's stream once this transaction is applied: the log
  // writes it in the same batch as the effects (storage::RecordType::kReplState), so after a
  // crash the replica continues from exactly what it has. Empty: none.
  const std::string& repl_position_id() const { return repl_position_id_; }
  uint64_t repl_position_offset() const { return repl_position_offset_; }
  void set_repl_position(std::string_view replid, uint64_t offset) {
    repl_position_id_.assign(replid);
    repl_position_offset_ = offset;
  }

 private:
  std::vector<Effect> effects_;
  std::vector<SentCommand> commands_;
  std::vector<std::pair<int, std::string>> ready_keys_;
  std::vector<std::pair<std::string, size_t>> reads_;
  EventTag event_;
  const Entry* created_entry_ = nullptr;
  MessageSink* origin_ = nullptr;
  uint64_t client_id_ = 0;
  std::string* own_pushes_ = nullptr;
  uint64_t sequence_ = 0;
  uint64_t repl_offset_ = 0;
  const char* replicated_name_ = nullptr;
  bool named_ = false;
  bool local_write_ = false;
  std::string repl_position_id_;
  uint64_t repl_position_offset_ = 0;
  bool holds_all_shards_ = false;
  bool from_master_ = false;
  int64_t frozen_now_ms_ = 0;
};

}  // namespace fdb
