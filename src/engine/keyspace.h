// Keyspace: the databases of FDB, split into lock-striped shards.
//
// Model: a key's hash picks its shard (low bits) and its bucket (higher bits). Each shard
// holds one Dict per database (SELECT 0..15) under one mutex, so MOVE between databases
// touches a single shard, and SWAPDB swaps tables shard by shard under all locks.
//
// Locking: callers lock the shards a command touches before calling any method marked
// `REQUIRES: shard of key locked`. Multi-shard callers lock in ascending shard order (see
// ShardLockSet), which rules out deadlock; the command dispatcher does this from the command
// registry's key positions, so a multi-key command is atomic.
//
// Every mutation goes through this class, so the effects can be appended to the storage log
// in execution order (ChangeObserver, called with the shard lock held).
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

#include "base/hash.h"
#include "base/limits.h"
#include "engine/dict.h"
#include "engine/entry.h"

namespace fdb {

struct KeyRef {
  explicit KeyRef(std::string_view k) : key(k), hash(HashKey(k)) {}
  std::string_view key;
  uint64_t hash;
};

// Receives every effect, in execution order per shard, while the shard's lock is held.
// The storage engine implements it to append effect records to its log.
class ChangeObserver {
 public:
  virtual ~ChangeObserver() = default;
  virtual void OnPut(int db, const Entry* e) = 0;        // full image of the key's value
  virtual void OnDelete(int db, std::string_view key) = 0;
  virtual void OnExpire(int db, std::string_view key, int64_t expire_ms) = 0;  // 0 = persist
  virtual void OnFlush(int db) = 0;                      // db < 0: every database
  virtual void OnSwapDb(int a, int b) = 0;
};

struct Shard {
  std::mutex mu;
  std::array<Dict, limits::kNumDatabases> dbs;
  // Guarded by mu: number of keys with a deadline per database, and the active-expiry cursor.
  std::array<size_t, limits::kNumDatabases> expires{};
  std::array<uint64_t, limits::kNumDatabases> expire_cursor{};
};

struct KeyspaceStats {
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
};

class Keyspace {
 public:
  Keyspace();
  ~Keyspace();

  static int ShardOf(uint64_t hash) { return static_cast<int>(hash & (limits::kNumShards - 1)); }
  Shard& shard(int i) { return *shards_[i]; }

  void set_observer(ChangeObserver* o) { observer_ = o; }
  KeyspaceStats& stats() { return stats_; }

  // The current LRU clock (seconds mod 2^16); set by the server's clock tick.
  static uint16_t LruClock();

  // --- Single-key operations. REQUIRES: shard of key locked. ---

  // The live entry for key, or nullptr. An expired entry is deleted (lazy expiry) and not
  // returned. `touch` updates the entry's LRU clock (CLIENT NO-TOUCH turns it off).
  Entry* Find(int db, const KeyRef& k, int64_t now_ms, bool touch = true);
  // Like Find, and counts a keyspace hit or miss (for read commands).
  Entry* FindForRead(int db, const KeyRef& k, int64_t now_ms, bool touch = true);
  // Inserts or replaces the entry for k with `e` (whose key must be k.key); frees the old one.
  // The expiry of `e` is taken as is. Returns e.
  Entry* Put(int db, const KeyRef& k, Entry* e);
  // Records that `e` (already in the table) changed in place (e.g. INCR on an int).
  void Changed(int db, const Entry* e);
  // Deletes the key; returns whether it existed (expired keys count as missing).
  bool Delete(int db, const KeyRef& k, int64_t now_ms);
  // Sets or clears (ms == 0) the deadline of an existing entry.
  void SetExpire(int db, Entry* e, int64_t ms);
  // Removes the entry for k without freeing it (for MOVE/RENAME), or nullptr.
  Entry* Detach(int db, const KeyRef& k, int64_t now_ms);

  // --- Whole-keyspace operations; they lock shards themselves. ---

  size_t DbSize(int db);
  size_t ExpiresCount(int db);
  void FlushDb(int db);  // db < 0: all
  void SwapDb(int a, int b);
  // A random live key of db, or nullopt-like empty string with found=false.
  bool RandomKey(int db, int64_t now_ms, std::string* out);
  // Calls fn(key) for each live key (under each shard's lock in turn).
  void ForEachKey(int db, int64_t now_ms, const std::function<void(const Entry*)>& fn);
  // One step of SCAN across shards. Cursor = dict cursor << 8 | shard.
  uint64_t Scan(int db, uint64_t cursor, int64_t now_ms,
                const std::function<void(const Entry*)>& fn);
  // Deletes expired keys, visiting at most `buckets_per_shard` buckets of each database with
  // deadlines in each shard. Returns keys deleted.
  size_t ActiveExpireCycle(int64_t now_ms, size_t buckets_per_shard);
  // Sum of MemoryUsage over entries, approximate (for INFO).
  size_t TotalKeys();

 private:
  void Unlinked(int db, Shard& s, Entry* e);

  std::vector<std::unique_ptr<Shard>> shards_;
  ChangeObserver* observer_ = nullptr;
  KeyspaceStats stats_;
};

// Locks a set of shards in ascending order; unlocks on destruction.
class ShardLockSet {
 public:
  ShardLockSet() = default;
  ~ShardLockSet() { Unlock(); }
  ShardLockSet(const ShardLockSet&) = delete;
  ShardLockSet& operator=(const ShardLockSet&) = delete;

  void Add(int shard) { pending_.push_back(shard); }
  void Lock(Keyspace& ks);
  void LockAll(Keyspace& ks);
  void Unlock();
  bool empty() const { return locked_.empty(); }

 private:
  Keyspace* ks_ = nullptr;
  std::vector<int> pending_;
  std::vector<int> locked_;
};

}  // namespace fdb
