// Keyspace: the databases of FDB, split into lock-striped shards.
//
// Model: a key's Redis Cluster slot picks its shard (base/slot.h: shards are ranges of slots,
// so keys sharing a hash tag share a shard), and XXH3 of the whole key its bucket. Each shard
// holds one Dict per database (SELECT 0..15) under one mutex, so MOVE between databases
// touches a single shard, and SWAPDB swaps tables shard by shard under all locks.
//
// Locking: callers lock the shards a command touches before calling any method marked
// `REQUIRES: shard of key locked`. Multi-shard callers lock in ascending shard order (see
// ShardLockSet), which rules out deadlock; the command dispatcher does this from the command
// registry's key positions, so a multi-key command is atomic.
//
// Every mutation goes through this class and takes the command's transaction (engine/txn.h):
// each appends its typed effect there, and Commit hands the effects, in execution order and
// with the shard locks still held, to the effect sinks (the log first). Cache I/O (reading an
// evicted value back, writing an image so a value can be evicted) is a separate interface,
// ValueStore.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "base/adaptive_mutex.h"
#include "base/hash.h"
#include "base/limits.h"
#include "base/mutex.h"
#include "base/slot.h"
#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/txn.h"

namespace fdb {

// A key with what locates it: its shard (from its slot) and its hash (for the shard's tables).
struct KeyRef {
  explicit KeyRef(std::string_view k) : key(k), hash(HashKey(k)), shard(ShardOfKey(k)) {}
  // For a caller that knows the key's shard already (it locked it): skips the slot's CRC.
  // REQUIRES: shard == ShardOfKey(k), except during recovery from a checkpoint of an older
  // shard layout (StorageEngine::ReplayTarget), where keys are placed by that layout's shard.
  KeyRef(std::string_view k, int shard) : key(k), hash(HashKey(k)), shard(shard) {}
  std::string_view key;
  uint64_t hash;
  int shard;
};

// Cache I/O under the RAM budget: the storage engine implements it over its log. Called with
// the shard lock of the entry held.
class ValueStore {
 public:
  virtual ~ValueStore() = default;
  // False while the log cannot be written: nothing may change (lazy expiry waits).
  virtual bool CanWrite() { return true; }
  // Reads an evicted value back: a new in-RAM entry for e's key, or nullptr on error.
  virtual Entry* LoadValue(int db, const Entry* e) = 0;
  // Writes a full image of e's value (so it can be evicted); false on error.
  virtual bool WriteImage(int db, Entry* e) = 0;
  // RAM the log holds for records not yet durable. Not counted against maxmemory, as Redis
  // does not count its AOF buffer: evicting keys cannot shrink it (it drains with the next
  // fsync), so counting it would evict the whole keyspace after a burst of writes.
  virtual uint64_t LogBufferedBytes() const { return 0; }
};

// Told when a collection key is created or replaced (Create, Put, Move), with the key's shard
// locked: blocking commands (commands/blocking.h) wait for keys to appear. Also told when a
// collection is deleted (KeyCreated) or a database flushed (DbFlushed, db -1 = all), because a
// blocked XREADGROUP must then be told its stream is gone.
class KeyCreatedListener {
 public:
  virtual ~KeyCreatedListener() = default;
  virtual void KeyCreated(Txn& txn, int db, std::string_view key) = 0;
  virtual void DbFlushed(Txn& /*txn*/, int /*db*/) {}
};

// The fields below `mu` are guarded by it, but not ABSL_GUARDED_BY(mu): most code reaches a
// shard by index (ShardLockSet, shard(ShardOf(hash))) with the lock taken elsewhere, which the
// analysis cannot follow. Keyspace asserts the lock at run time instead
// (AdaptiveMutex::AssertHeld).
struct Shard {
  AdaptiveMutex mu;
  std::array<Dict, limits::kNumDatabases> dbs;
  // Guarded by mu: number of keys with a deadline per database, and the active-expiry cursor.
  std::array<size_t, limits::kNumDatabases> expires{};
  std::array<uint64_t, limits::kNumDatabases> expire_cursor{};
  // Guarded by mu: the keys clients WATCH in this shard, by WatchKey(db, key): a counter that
  // every change of the key bumps (Keyspace::Touch), and how many WATCHes hold the entry. Empty
  // unless a client watches a key here, so a change costs one emptiness check. Exact, as
  // Redis: a change to another key of the shard does not abort a transaction.
  struct Watched {
    uint64_t version = 0;
    uint32_t refs = 0;
  };
  absl::flat_hash_map<std::string, Watched> watched;
  // Guarded by mu: sequence of the last log record of a change in this shard (checkpoints).
  uint64_t log_seq = 0;
};

// maxmemory-policy, as Redis 7 names them. What `noeviction` means depends on persistence:
// with a log, FDB moves values to disk over the budget (its own tiering, the default); without
// one there is nowhere to move them, and writes are refused as in Redis. Every other policy
// deletes whole keys, with or without persistence (docs/compatibility.md, "maxmemory").
enum class EvictionPolicy : uint8_t {
  kNoEviction,
  kAllKeysLru,
  kAllKeysLfu,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
};
// The policy named `name` (lower case, as Config stores it); false if unknown.
bool ParseEvictionPolicy(std::string_view name, EvictionPolicy* out);

struct KeyspaceStats {
  std::atomic<uint64_t> expired_keys{0};
  // Whole keys deleted by a maxmemory-policy (INFO stats evicted_keys); values moved to disk
  // are cache_evictions.
  std::atomic<uint64_t> evicted_keys{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};
  std::atomic<uint64_t> cache_evictions{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
};

class Keyspace {
 public:
  Keyspace();
  ~Keyspace();

  // The shard of a key: its slot's (base/slot.h). Part of the on-disk format (checkpoints).
  static int ShardOf(std::string_view key) { return ShardOfKey(key); }
  Shard& shard(int i) { return *shards_[i]; }
  // Scripts taking shards out of order now (ShardLockSet::Escalate).
  int escalating() const { return escalating_.load(std::memory_order_acquire); }
  // Ages of escalating scripts: a ticket per script run that escalates, smaller is older.
  uint64_t NextEscalationTicket() { return escalation_tickets_.fetch_add(1) + 1; }
  void BeginEscalation(uint64_t ticket);
  void EndEscalation(uint64_t ticket);
  bool OlderEscalationWaits(uint64_t ticket);

  // The bytes the replicas' output holds (the stream queued for them and the backlog beyond
  // its configured size), and the clients being closed, sampled with malloc's figure and left
  // out of what maxmemory is checked against, as Redis's freeMemoryGetNotCountedMemory:
  // evicting keys cannot shrink that output (each eviction adds a DEL to it), so counting it
  // would drain the data set while a replica is slow. Called from any thread. REQUIRES: set
  // before threads start.
  void set_not_counted_buffers(std::function<uint64_t()> fn) { not_counted_ = std::move(fn); }
  // The value store (null: no persistence, values live in RAM only). REQUIRES: before use.
  void set_value_store(ValueStore* v) { store_ = v; }
  ValueStore* value_store() const { return store_; }
  // Effect sinks, called in the order added; `front` puts one before the others (the log, which
  // must assign the sequence before any sink that follows the changes). REQUIRES: while no
  // command runs.
  void AddSink(EffectSink* sink, bool front = false) {
    sinks_.insert(front ? sinks_.begin() : sinks_.end(), sink);
  }
  // A follower (keyspace notifications, tracking invalidation) is a sink called after every
  // other one, and only while followers are on (set_followers_on): off, it costs one relaxed
  // load per effect, and with no other sink no effect is made at all. REQUIRES: while no
  // command runs; followers are never removed.
  void AddFollower(EffectSink* sink) { followers_.push_back(sink); }
  // Whether the followers want effects now (the server sets it from notify-keyspace-events and
  // client tracking). Thread-safe.
  void set_followers_on(bool on) { followers_on_.store(on, std::memory_order_relaxed); }
  bool followers_on() const { return followers_on_.load(std::memory_order_relaxed); }
  bool effects_wanted() const { return !sinks_.empty() || followers_on(); }
  void RemoveSink(EffectSink* sink);
  // Hands txn's effects since its last commit to every sink in order and clears them; the
  // log sink records the sequence it assigned in txn. A sink's failure stops there and is
  // returned. REQUIRES: the shards of the effects still locked.
  [[nodiscard]] Status Commit(Txn& txn);
  void set_key_listener(KeyCreatedListener* l) { key_listener_ = l; }
  KeyspaceStats& stats() { return stats_; }

  // The current LRU clock (seconds mod 2^16); set by the server's clock tick.
  static uint16_t LruClock();

  // --- Access tracking: LRU or LFU, in the entry's 16-bit lru field. ---
  //
  // In LRU mode (the default) the field is LruClock() at the last access. In LFU mode (an
  // allkeys-lfu / volatile-lfu maxmemory-policy) it is Redis's LFU pair squeezed into 16 bits:
  // the high byte is the time of the last decrement in minutes mod 256, the low byte a
  // logarithmic access counter that starts at kLfuInitVal and decays by one per idle minute.
  // Redis keeps 16 bits of minutes; 8 bits wrap after ~4 hours, after which a long-idle key
  // may look recently decayed. That only makes eviction less precise, never wrong.
  //
  // The server sets the mode from `maxmemory-policy` at startup and on CONFIG SET; entries
  // written in the other mode read as nonsense until touched again (as in Redis).
  static constexpr uint8_t kLfuInitVal = 5;
  // CLIENT PAUSE (commands/client_pause.h): until `until_ms` (wall clock) no key is expired nor
  // evicted; a key past its deadline reads as missing and is deleted once the pause is over,
  // as Redis keeps the data set static while clients are paused. 0 ends the pause.
  void PauseChanges(int64_t until_ms) { changes_paused_until_ms_.store(until_ms); }
  bool ChangesPaused(int64_t now_ms) const {
    return now_ms < changes_paused_until_ms_.load(std::memory_order_relaxed);
  }
  // A replica's keyspace (commands/replication.h): keys past their deadline read as missing
  // but are not deleted (lazily, actively, or by a maxmemory-policy): the master's deletions
  // arrive through the stream, and a key it has not deleted yet may still change there.
  // Two exceptions, as Redis's writable replica: a key given its deadline by the replica's own
  // write (`replica-read-only no`) is the replica's to expire, lazily and by
  // ExpireReplicaKeys; and a write command of the replica's own finds an expired key deleted
  // (INCR starts from nothing), as the master would.
  void set_replica_mode(bool on);
  bool replica_mode() const { return replica_mode_.load(std::memory_order_relaxed); }
  // The replica's own expiring keys past their deadline are deleted (the cron, on a replica,
  // instead of ActiveExpireCycle). Returns how many.
  size_t ExpireReplicaKeys(int64_t now_ms);
  void set_lfu_mode(bool on) { lfu_mode_.store(on, std::memory_order_relaxed); }
  bool lfu_mode() const { return lfu_mode_.load(std::memory_order_relaxed); }
  // Redis's lfu-log-factor (how many hits one counter step costs) and lfu-decay-time (minutes
  // per decrement of an idle key's counter; 0: never decay).
  void SetLfuParams(int log_factor, int decay_minutes) {
    lfu_log_factor_.store(log_factor, std::memory_order_relaxed);
    lfu_decay_minutes_.store(decay_minutes, std::memory_order_relaxed);
  }
  // The access field of a key last used `idle_s` seconds ago (LRU mode) or with access counter
  // `freq` (LFU mode): RESTORE's IDLETIME and FREQ. A negative argument keeps NewAccessField's.
  uint16_t AccessFieldFor(int64_t idle_s, int freq) const;
  // The access counter of an LFU field after decay (OBJECT FREQ).
  uint8_t LfuDecayedCounter(uint16_t field) const;
  // Seconds since the last access of an LRU field (OBJECT IDLETIME), modulo 2^16.
  static uint16_t LruIdleSeconds(uint16_t field) {
    return static_cast<uint16_t>(LruClock() - field);
  }

  // --- Single-key operations. REQUIRES: shard of key locked. ---

  // The live entry for key, or nullptr. An expired entry is deleted (lazy expiry) and not
  // returned. `touch` updates the entry's LRU clock (CLIENT NO-TOUCH turns it off).
  Entry* Find(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool touch = true);
  // Like Find, and counts a keyspace hit or miss (for read commands).
  Entry* FindForRead(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool touch = true);
  // Inserts or replaces the entry for k with `e` (whose key must be k.key); frees the old one.
  // The expiry of `e` is taken as is. Returns e.
  Entry* Put(Txn& txn, int db, const KeyRef& k, Entry* e);
  // Records that `e` (already in the table) changed in place (e.g. INCR on an int).
  void Changed(Txn& txn, int db, const Entry* e);
  // The same, for a caller that has the key's hash at hand.
  void Changed(Txn& txn, int db, const KeyRef& k, const Entry* e);
  // Collections changed in place. A command that creates a collection inserts its empty
  // object with Create (nothing is logged: an empty collection is not a value) and then
  // records each change with Delta; replaying a delta on a missing key creates the collection.
  // A command that empties a collection deletes the key (Delete) instead of recording a delta.
  // REQUIRES (Create): the key is absent and `e` holds an empty collection (Entry::NewObject).
  Entry* Create(Txn& txn, int db, const KeyRef& k, Entry* e);
  // Records an in-place change of e's collection: `change` is the type's delta encoding of it.
  // Bumps the shard's version (WATCH), re-accounts the value's memory, logs the delta.
  void Delta(Txn& txn, int db, const KeyRef& k, Entry* e, std::string_view change);
  // Strings changed in place (SETBIT, BITFIELD, SETRANGE): writes `bytes` at `offset` of the
  // string value of e (nullptr: the key is missing and is created, empty before the write),
  // zero-filling past its end, and logs a string range delta (docs/format.md, "String range
  // deltas") rather than the whole value. Returns the key's entry now (e may be replaced: see
  // Entry::WriteRange). REQUIRES: e is k's live string entry or nullptr.
  Entry* WriteRange(Txn& txn, int db, const KeyRef& k, Entry* e, uint64_t offset,
                    std::string_view bytes);
  // Deletes the key; returns whether it existed (expired keys count as missing). `lazy`
  // (UNLINK): a value whose FreeEffort passes kLazyFreeEffort is freed on a background thread,
  // as Redis's dbAsyncDelete.
  bool Delete(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool lazy = false);
  // Redis's LAZYFREE_THRESHOLD.
  static constexpr size_t kLazyFreeEffort = 64;
  // Sets or clears (ms == 0) the deadline of an existing entry.
  void SetExpire(Txn& txn, int db, Entry* e, int64_t ms);
  // Removes the entry for k without freeing it (for MOVE/RENAME), or nullptr.
  // Nothing is logged and the caller owns the entry: it must Put it back (MOVE does, through
  // Move) or log its removal; Delete is Detach + log + free. `load` reads an evicted value back
  // first (needed when the entry is put back: its image is logged again).
  Entry* Detach(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool load = true);
  // Moves a live key from database `from` to `to` (same shard: the hash picks the shard),
  // keeping its value, deadline and access clock, and logs the delete and the put. Returns
  // false, changing nothing, when the key is missing in `from` or present in `to`.
  bool Move(Txn& txn, int from, int to, const KeyRef& k, int64_t now_ms);

  // --- WATCH (REQUIRES: the key's shard locked) ---

  // Registers a watch of the key and returns its version (what WatchedChanged compares).
  uint64_t Watch(int db, const KeyRef& k);
  // Whether the key changed since Watch returned `version`, or, having been live then
  // (`was_live`), has reached its deadline since (Redis counts an expired watched key as
  // changed even before it is deleted).
  bool WatchedChanged(int db, const KeyRef& k, uint64_t version, bool was_live, int64_t now_ms);
  // Drops one watch of the key (Watch's counterpart).
  void Unwatch(int db, const KeyRef& k);
  // The key exists and has not reached its deadline (no lazy expiry, no access recorded).
  bool IsLive(int db, const KeyRef& k, int64_t now_ms);

  // --- Whole-keyspace operations; they lock shards themselves, unless txn holds them all. ---

  size_t DbSize(const Txn& txn, int db);
  size_t ExpiresCount(const Txn& txn, int db);
  // Empties db (db < 0: all). The tables are swapped out under the locks and freed after they
  // are released, so other clients wait only for the swap. `async` frees large tables on a
  // background thread instead of the caller's (FLUSHDB / FLUSHALL ASYNC).
  // The flush is committed at once, under every lock, unless txn holds every shard (EXEC):
  // no other thread's record may come between the flush and its record.
  void FlushDb(Txn& txn, int db, bool async = false);
  // Below this many keys a flush frees on the caller's thread even when async: a thread costs
  // more than freeing a few thousand entries. At most kLazyFreeThreadsMax frees run in the
  // background at once; beyond that the caller frees, which bounds threads and memory held.
  static constexpr size_t kLazyFreeMinKeys = 64 * 1024;
  static constexpr int kLazyFreeThreadsMax = 2;
  // Flushes whose tables are still being freed in the background.
  int LazyFreeRunning() const { return lazyfree_threads_->load(std::memory_order_relaxed); }
  // Values and keys freed in the background so far (INFO lazyfreed_objects): one per value
  // UNLINK handed over, one per key of a flushed table; CONFIG RESETSTAT zeroes it.
  uint64_t LazyFreed() const { return lazyfreed_->load(std::memory_order_relaxed); }
  void ResetLazyFreed() { lazyfreed_->store(0, std::memory_order_relaxed); }
  void SwapDb(Txn& txn, int a, int b);
  // A random live key of db, or nullopt-like empty string with found=false.
  bool RandomKey(const Txn& txn, int db, int64_t now_ms, std::string* out);
  // Calls fn(key) for each live key (under each shard's lock in turn).
  void ForEachKey(const Txn& txn, int db, int64_t now_ms,
                  const std::function<void(const Entry*)>& fn);
  // One step of SCAN across shards. Cursor = dict cursor << 8 | shard.
  uint64_t Scan(const Txn& txn, int db, uint64_t cursor, int64_t now_ms,
                const std::function<void(const Entry*)>& fn);
  // Deletes expired keys, visiting about `buckets_per_shard` keys (buckets_per_shard /
  // Dict::kMaxLoad buckets) of each database with deadlines in each shard; a table where more than
  // 1/10 of the keys examined had expired is swept again (as Redis's adaptive cycle), within a time
  // budget of kActiveExpireBudgetUs per call. Returns keys deleted. `budget_us` overrides the time
  // budget (tests that check the adaptivity, not the clock).
  size_t ActiveExpireCycle(int64_t now_ms, size_t buckets_per_shard,
                           int64_t budget_us = kActiveExpireBudgetUs);
  // The time one ActiveExpireCycle may take: 25 ms, a quarter of a cycle at hz=10, the share
  // of CPU Redis gives its slow expire cycle.
  static constexpr int64_t kActiveExpireBudgetUs = 25000;
  // Number of keys over every database.
  size_t TotalKeys(const Txn& txn);

  // --- The RAM cache. ---
  //
  // The budget bounds the values held in RAM: `max_bytes` of value bytes (maxmemory) and
  // `max_values` values (cache_size); 0 means unbounded. Over budget, the values of the least
  // recently used keys are evicted (sampled, as Redis's approximate LRU), keeping key, type,
  // deadline and the location of the value in the log; reading the key reads it back.
  void SetBudget(uint64_t max_bytes, uint64_t max_values) {
    budget_bytes_.store(max_bytes, std::memory_order_relaxed);
    budget_values_.store(max_values, std::memory_order_relaxed);
  }
  // True when values over the budget move to disk: a log to move them to, and no whole-key
  // policy chosen. REQUIRES (for the budget checks below): set_value_store and SetEviction done.
  bool values_to_disk() const {
    return store_ != nullptr &&
           policy_.load(std::memory_order_relaxed) == EvictionPolicy::kNoEviction;
  }
  // Over the value budget of the values-to-disk mode (false in every other mode).
  bool OverBudget() const {
    if (!values_to_disk()) return false;
    uint64_t b = budget_bytes_.load(std::memory_order_relaxed);
    uint64_t v = budget_values_.load(std::memory_order_relaxed);
    return (b != 0 && ram_bytes_.load(std::memory_order_relaxed) > b) ||
           (v != 0 && ram_values_.load(std::memory_order_relaxed) > v);
  }
  uint64_t RamValueBytes() const { return ram_bytes_.load(std::memory_order_relaxed); }
  uint64_t RamValues() const { return ram_values_.load(std::memory_order_relaxed); }
  // Approximate bytes of live data (keys and values, in RAM or on disk), for compaction.
  uint64_t DataBytes() const { return data_bytes_.load(std::memory_order_relaxed); }
  // Evicts up to `max` values from shard `shard`, never `keep`. REQUIRES: the shard locked.
  //
  // A large hot value is not evicted either: one whose bytes exceed 1/kLargeValueDivisor of
  // the budget and that was used within kHotValueSeconds. Evicting it writes a full image of
  // it (for a list of 20M elements, ~100 MB) and the next command on it reads that image back,
  // so under pipelined pushes it was written and read ten times a second (116 s instead of 3 s,
  // and the images piled up in RSS). Such a value stays resident while it is in use and the
  // budget's pressure goes to the other keys; once idle it is written out once and dropped. So
  // while one value alone exceeds the budget, RAM exceeds the budget by that value
  // (docs/collections.md, "One value larger than the budget"). The alternatives rejected: a
  // rate on image bytes still rewrites the whole value every period, O(value) per period for
  // an O(1) push; paging parts of a collection out needs a paged format for every type.
  // `in_command`: called inside a command whose effects are not committed yet; a value
  // without an image is not evicted then (its image would reach the log before the command's
  // own records).
  size_t EvictFromShard(int shard, size_t max, const Entry* keep = nullptr,
                        bool in_command = false);
  static constexpr uint64_t kLargeValueDivisor = 4;
  static constexpr int kHotValueSeconds = 2;
  // Evicts across shards (locking each in turn) until under budget or `max` evictions.
  size_t EvictUntilUnderBudget(size_t max);

  // --- maxmemory with a whole-key policy, or noeviction without persistence. ---
  //
  // The budget is then checked against the process's used memory (UsedMemory), as Redis checks
  // zmalloc's count, not against value bytes: without a disk behind it, everything the process
  // allocates for the data set has to fit.
  void SetEviction(EvictionPolicy policy, int samples, int tenacity) {
    policy_.store(policy, std::memory_order_relaxed);
    samples_.store(samples < 1 ? 1 : samples, std::memory_order_relaxed);
    tenacity_.store(tenacity, std::memory_order_relaxed);
  }
  EvictionPolicy policy() const { return policy_.load(std::memory_order_relaxed); }
  // INFO memory's used_memory: malloc's in-use bytes at the last sample (base/malloc_stats.h
  // says why malloc's and not accounted bytes), plus the change in the keyspace's accounted
  // bytes since then, so that writes and evictions between two samples count at once.
  uint64_t UsedMemory() const;
  // Keys and values in RAM, as the keyspace accounts them (MEMORY STATS' dataset.bytes).
  uint64_t DatasetBytes() const { return AccountedBytes(); }
  // Takes a fresh sample of malloc's in-use bytes (INFO, MEMORY, the tick). Thread-safe.
  void SampleUsedMemory();
  // The housekeeping tick's memory work: values over the RAM budget to disk, then, only when
  // maxmemory is set, a fresh sample and whole-key eviction. Without maxmemory nothing reads
  // the sample between two INFO calls (which take their own), and mallinfo2 is not free: it
  // walks every arena's free lists under the arena's lock (about 1 ms on a heap of 100k
  // overwritten keys, ten times a second, stalling the I/O threads' mallocs meanwhile).
  void HousekeepMemory();
  // What maxmemory is checked against: UsedMemory without the log's buffers (see
  // ValueStore::LogBufferedBytes), the replicas' output and the clients being closed
  // (set_not_counted_buffers), as of the last sample.
  uint64_t MaxmemoryUsed() const {
    uint64_t used = UsedMemory();
    uint64_t not_counted = sampled_not_counted_.load(std::memory_order_relaxed);
    return used > not_counted ? used - not_counted : 0;
  }
  // True when maxmemory is exceeded by what FDB cannot give back. Without values-to-disk that
  // is used memory, as Redis. With it, values move to disk to keep RAM within the budget, but
  // the index (every key and its entry) and the server's own tables stay in RAM: when those
  // (limits::kTieringMinRamBytes plus the index) pass maxmemory no move can bring RAM under it, and
  // commands that may grow memory are refused as Redis's noeviction does (docs/compatibility.md,
  // "maxmemory").
  bool OverMaxmemory() const {
    uint64_t b = budget_bytes_.load(std::memory_order_relaxed);
    if (b == 0) return false;
    if (values_to_disk()) {
      return index_bytes_.load(std::memory_order_relaxed) + limits::kTieringMinRamBytes > b;
    }
    return MaxmemoryUsed() > b;
  }
  enum class EvictResult {
    kOk,       // under the budget (again)
    kRunning,  // still over, the time limit of maxmemory-eviction-tenacity reached: the
               // command runs and the next one (or the tick) goes on evicting, as Redis
    kFail,     // over and nothing left to evict (noeviction, or volatile-* without deadlines)
  };
  // Deletes whole keys by the policy until used memory is within the budget, logging each
  // deletion. Locks each shard it visits. REQUIRES: the caller holds no shard lock (the
  // dispatcher releases its own first; it is never called inside EXEC).
  // REQUIRES: the caller holds no shard lock (unless it holds all of them).
  // `origin`: the pub/sub receiver of the calling thread (Txn::origin), so that the evictions'
  // invalidations and notifications reach that thread's clients at once, before the reply of
  // the command that evicted (nullptr: through the receivers' inboxes).
  EvictResult EvictKeys(MessageSink* origin = nullptr);
  // Deletes one key chosen by the policy (the step EvictKeys repeats while over maxmemory),
  // whatever the memory used; false when no key qualifies. REQUIRES: no shard lock held.
  bool EvictOneKey();

  // --- Recovery: applied before the server starts, without locks or logging. ---
  void RecoverPut(int db, const KeyRef& k, Entry* e);
  void RecoverDelete(int db, const KeyRef& k);
  // The entry of k (nullptr if absent), for replaying a delta; it may be evicted (on_disk).
  Entry* RecoverFind(int db, const KeyRef& k);
  // Re-accounts e's memory after a delta was applied to it in place during recovery.
  void RecoverChanged(const Entry* e);
  // Replays a string range delta (`change` in its encoding) on k's value, creating the key
  // when missing. REQUIRES: k's entry, if any, is a string in RAM.
  [[nodiscard]] Status RecoverWriteRange(int db, const KeyRef& k, std::string_view change);
  void RecoverExpire(int db, const KeyRef& k, int64_t expire_ms);
  void RecoverFlushShard(int shard, int db);
  void RecoverSwapShard(int shard, int a, int b);
  // Moves every entry placed in another shard than its own (ShardOf(key)) to its own. Used
  // after recovering from a checkpoint of an older shard layout, which places keys by that
  // layout's shard (docs/format.md, "Checkpoints"). Returns the number of entries moved.
  size_t RecoverReshard();

  // --- Undoing a discarded write (StorageEngine::OnDiscard). REQUIRES: every shard locked;
  // `from` is a scratch keyspace no one else uses. Nothing is logged. ---
  // The entries of `key` in every database become `from`'s (moved out of it; absent there:
  // deleted here). Bumps the shard's version, so a WATCH on the key aborts its EXEC.
  void ReplaceKeyFrom(Keyspace& from, std::string_view key);
  // Every database becomes `from`'s.
  void ReplaceAllFrom(Keyspace& from);

 private:
  // Entry::WriteRange on k's entry e (nullptr: created), with the table and accounting kept
  // up to date; returns the entry now in the table. Nothing is logged.
  Entry* WriteRangeAt(Shard& s, int db, const KeyRef& k, Entry* e, uint64_t offset,
                      std::string_view bytes);
  std::atomic<int> escalating_{0};
  std::atomic<uint64_t> escalation_tickets_{0};
  Mutex escalation_mu_;
  std::vector<uint64_t> escalation_waiting_ ABSL_GUARDED_BY(escalation_mu_);

  void Unlinked(int db, Shard& s, Entry* e);
  // A key of s changed: bumps its watch version if a client watches it.
  static void Touch(Shard& s, int db, std::string_view key) {
    if (!s.watched.empty()) TouchWatched(s, db, key);
  }
  static void TouchWatched(Shard& s, int db, std::string_view key);
  // Every watched key of db that is live in s (in db, or in db2 when >= 0) is touched: what a
  // flush or a swap of databases changes.
  static void TouchWatchedInDb(Shard& s, int db, int db2);
  // Accounting of an entry entering or leaving a table.
  void Added(const Entry* e);
  void Removed(const Entry* e);
  static uint64_t ValueBytes(const Entry* e);
  // Brings the accounting of a collection changed in place up to date.
  void Reaccount(const Entry* e);
  static uint64_t Footprint(const Entry* e);
  // The live entry for k, or nullptr: deletes it when expired (lazy expiry) and, with `load`,
  // reads an evicted value back into the table first.
  Entry* Live(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool load);
  // Replaces *link's on-disk entry by its value read back; nullptr on error.
  Entry* LoadAt(int db, Shard& s, Entry** link);
  // Appends an effect to txn (the sinks capture what they need of it now).
  void Emit(Txn& txn, Effect&& effect);
  void EmitKey(Txn& txn, EffectKind kind, int db, const KeyRef& k, Entry* e = nullptr,
               int64_t expire_ms = 0, EffectCause cause = EffectCause::kCommand,
               bool created = false);
  // Appends a flush or swap and commits it at once unless txn holds every shard (see FlushDb).
  // REQUIRES: every shard locked.
  void CommitGlobal(Txn& txn, EffectKind kind, int db, int db2);
  uint16_t NewAccessField() const;
  void Accessed(Entry* e) const;
  // A value in use lately (see EvictFromShard on large hot values).
  bool IsHot(const Entry* e) const;
  // Keys plus values, as the keyspace accounts them (what UsedMemory adds between samples).
  uint64_t AccountedBytes() const {
    return ram_bytes_.load(std::memory_order_relaxed) +
           index_bytes_.load(std::memory_order_relaxed);
  }
  // Samples shard `shard` and deletes its best candidate; with `exhaustive`, a shard whose
  // samples missed its few candidates (volatile keys among many others) is searched whole.
  // With `pooled`, the samples go into the pool and nothing is deleted: true when any was
  // taken, and *pooled is how many distinct keys they may have been.
  bool EvictKeyInShard(int shard, bool exhaustive, int* pooled = nullptr);
  // Higher is a better victim under the current policy.
  int64_t EvictionScore(const Entry* e) const;
  // Deletes `key` of `db` if it still exists and still scores at least `score` (or the pool
  // has nothing better left); false when it went away or was used meanwhile (then re-pooled).
  // REQUIRES: pool_mu_ held.
  bool EvictPooled(int db, const std::string& key, int64_t score);
  // Deletes the unlinked-to-be entry at `link` as DEL would. REQUIRES: shard `s` locked.
  void EvictEntry(int db, Shard& s, Entry** link);

  // Redis's eviction pool (evict.c): the best candidates of past samples, kept across
  // evictions, ascending by score. Sampling alone picks a key used a second ago whenever the
  // few keys drawn hold no idle one; the pool remembers idle keys seen earlier, so LRU/LFU/TTL
  // eviction stays close to exact. Keys are copied (the entries may go away); a candidate is
  // checked again when it is taken. Lock order: pool_mu_ before any shard lock.
  struct EvictionCandidate {
    int64_t score;
    int db;
    std::string key;
  };
  static constexpr size_t kEvictionPoolSize = 16;
  std::mutex pool_mu_;
  std::vector<EvictionCandidate> pool_;
  void PoolInsert(int64_t score, int db, std::string_view key);

  std::vector<std::unique_ptr<Shard>> shards_;
  ValueStore* store_ = nullptr;
  std::vector<EffectSink*> sinks_;
  std::vector<EffectSink*> followers_;
  std::atomic<bool> replica_mode_{false};
  // Keys whose deadline a replica's own write set (db byte + key), which it expires itself.
  bool ReplicaExpires(int db, std::string_view key);
  std::mutex replica_keys_mu_;
  absl::flat_hash_set<std::string> replica_keys_;  // guarded by replica_keys_mu_
  std::atomic<bool> followers_on_{false};
  KeyCreatedListener* key_listener_ = nullptr;
  KeyspaceStats stats_;
  std::atomic<bool> lfu_mode_{false};
  std::atomic<int64_t> changes_paused_until_ms_{0};
  std::atomic<int> lfu_log_factor_{10};
  std::atomic<int> lfu_decay_minutes_{1};
  std::atomic<EvictionPolicy> policy_{EvictionPolicy::kNoEviction};
  std::atomic<int> samples_{5};
  std::atomic<int> tenacity_{10};
  // Bytes of entry headers and keys (AccountedBytes); values are in ram_bytes_.
  std::atomic<uint64_t> index_bytes_{0};
  // The last sample of malloc's in-use bytes, and AccountedBytes() when it was taken.
  std::atomic<uint64_t> sampled_used_{0};
  std::atomic<uint64_t> sampled_accounted_{0};
  // When EvictKeys last took a fresh sample (MonoUs), see there.
  std::atomic<int64_t> evict_sampled_us_{0};
  std::atomic<int64_t> sample_cost_us_{0};  // how long the last SampleUsedMemory took
  // The log's buffers and the replicas' output at the last sample (MaxmemoryUsed).
  std::atomic<uint64_t> sampled_not_counted_{0};
  std::function<uint64_t()> not_counted_;
  std::atomic<uint64_t> budget_bytes_{0};
  std::atomic<uint64_t> budget_values_{0};
  std::atomic<uint64_t> ram_bytes_{0};
  std::atomic<uint64_t> ram_values_{0};
  std::atomic<uint64_t> data_bytes_{0};
  std::atomic<uint32_t> evict_cursor_{0};
  // Background threads freeing flushed tables, shared with them so they can outlive us.
  std::shared_ptr<std::atomic<int>> lazyfree_threads_ = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<uint64_t>> lazyfreed_ = std::make_shared<std::atomic<uint64_t>>(0);
};

// Locks one shard for a whole-keyspace operation, unless the caller holds every shard already
// (a transaction that holds them all, Txn::holds_all_shards: the locks are not recursive).
// Either way the shard is held while the guard lives, which is what its annotations tell the
// thread-safety analysis; the conditional locking inside is hidden from it.
class ABSL_SCOPED_LOCKABLE ShardGuard {
 public:
  explicit ShardGuard(Shard& s, bool already_held = false)
      ABSL_EXCLUSIVE_LOCK_FUNCTION(s.mu) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : s_(already_held ? nullptr : &s) {
    if (s_) s_->mu.lock();
  }
  ~ShardGuard() ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (s_) s_->mu.unlock();
  }
  ShardGuard(const ShardGuard&) = delete;
  ShardGuard& operator=(const ShardGuard&) = delete;

 private:
  Shard* s_;
};

// Locks a set of shards in ascending order; unlocks on destruction. Not annotated for the
// thread-safety analysis: the shards are chosen at run time, by index.
//
// Deadlock: every locker takes shards in ascending order, which rules out a cycle, with one
// exception: a script running on its declared keys' shards that needs another shard after it
// has written (commands/scripting.cc) takes it out of order (Escalate), since it can neither
// give up what it holds nor start again. While such a script waits (Keyspace::escalating()),
// a locker that waits for a shard with others held gives them all up and starts again, so
// only escalating scripts ever wait holding shards; two of them waiting for each other are
// told apart by age, and the younger one gives up (Escalate returns false).
class ShardLockSet {
 public:
  ShardLockSet() = default;
  ~ShardLockSet() { Unlock(); }
  ShardLockSet(const ShardLockSet&) = delete;
  ShardLockSet& operator=(const ShardLockSet&) = delete;

  void Add(int shard) { pending_.push_back(shard); }
  // With `already_held` (the caller's transaction holds every shard) nothing is locked.
  void Lock(Keyspace& ks, bool already_held = false);
  void LockAll(Keyspace& ks, bool already_held = false);
  // Takes `shards` (ascending, none held yet) in addition to those held. `ticket` orders
  // escalating scripts by age (smaller is older). False when it had to give up: another
  // escalating script, older, waits for a shard this one holds.
  bool Escalate(Keyspace& ks, const std::vector<int>& shards, uint64_t ticket);
  void Unlock();
  bool empty() const { return locked_.empty(); }
  size_t size() const { return locked_.size(); }

 private:
  // Locks `shards` (ascending, unique) as described above.
  void LockSorted(Keyspace& ks, const int* shards, size_t n);
  Keyspace* ks_ = nullptr;
  // Inline for the common few shards: a command's lock set allocates nothing.
  absl::InlinedVector<int, 8> pending_;
  absl::InlinedVector<int, 8> locked_;
};

}  // namespace fdb
