#include "engine/keyspace.h"

#include <algorithm>
#include <random>

#include "base/clock.h"

namespace fdb {

namespace {
thread_local std::mt19937_64 tl_rng{std::random_device{}()};
}

Keyspace::Keyspace() {
  shards_.reserve(limits::kNumShards);
  for (int i = 0; i < limits::kNumShards; i++) shards_.push_back(std::make_unique<Shard>());
}

Keyspace::~Keyspace() = default;

uint16_t Keyspace::LruClock() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint16_t>(ts.tv_sec);
}

void Keyspace::Unlinked(int db, Shard& s, Entry* e) {
  if (e->has_expire()) s.expires[db]--;
}

Entry* Keyspace::Find(int db, const KeyRef& k, int64_t now_ms, bool touch) {
  Shard& s = *shards_[ShardOf(k.hash)];
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link == nullptr) return nullptr;
  Entry* e = *link;
  if (e->has_expire() && e->expire_ms() <= now_ms) {
    // Lazy expiry: the key is gone for every reader from its deadline on; delete it now and
    // log the deletion so replay agrees.
    s.dbs[db].Unlink(link);
    Unlinked(db, s, e);
    if (observer_) observer_->OnDelete(db, e->key());
    Entry::Free(e);
    stats_.expired_keys.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (touch) e->set_lru(LruClock());
  return e;
}

Entry* Keyspace::FindForRead(int db, const KeyRef& k, int64_t now_ms, bool touch) {
  Entry* e = Find(db, k, now_ms, touch);
  (e ? stats_.keyspace_hits : stats_.keyspace_misses).fetch_add(1, std::memory_order_relaxed);
  return e;
}

Entry* Keyspace::Put(int db, const KeyRef& k, Entry* e) {
  Shard& s = *shards_[ShardOf(k.hash)];
  e->set_lru(LruClock());
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link != nullptr) {
    Entry* old = s.dbs[db].Replace(link, e);
    Unlinked(db, s, old);
    Entry::Free(old);
  } else {
    s.dbs[db].Insert(e, k.hash);
  }
  if (e->has_expire()) s.expires[db]++;
  if (observer_) observer_->OnPut(db, e);
  return e;
}

void Keyspace::Changed(int db, const Entry* e) {
  if (observer_) observer_->OnPut(db, e);
}

bool Keyspace::Delete(int db, const KeyRef& k, int64_t now_ms) {
  Entry* e = Detach(db, k, now_ms);
  if (e == nullptr) return false;
  if (observer_) observer_->OnDelete(db, k.key);
  Entry::Free(e);
  return true;
}

Entry* Keyspace::Detach(int db, const KeyRef& k, int64_t now_ms) {
  if (Find(db, k, now_ms, false) == nullptr) return nullptr;
  Shard& s = *shards_[ShardOf(k.hash)];
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  Entry* e = s.dbs[db].Unlink(link);
  Unlinked(db, s, e);
  return e;
}

void Keyspace::SetExpire(int db, Entry* e, int64_t ms) {
  Shard& s = *shards_[ShardOf(HashKey(e->key()))];
  if (e->has_expire()) s.expires[db]--;
  e->set_expire_ms(ms);
  if (e->has_expire()) s.expires[db]++;
  if (observer_) observer_->OnExpire(db, e->key(), ms);
}

size_t Keyspace::DbSize(int db) {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> l(s->mu);
    n += s->dbs[db].size();
  }
  return n;
}

size_t Keyspace::ExpiresCount(int db) {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> l(s->mu);
    n += s->expires[db];
  }
  return n;
}

size_t Keyspace::TotalKeys() {
  size_t n = 0;
  for (int db = 0; db < limits::kNumDatabases; db++) n += DbSize(db);
  return n;
}

void Keyspace::FlushDb(int db) {
  ShardLockSet locks;
  locks.LockAll(*this);
  for (auto& s : shards_) {
    for (int i = 0; i < limits::kNumDatabases; i++) {
      if (db >= 0 && i != db) continue;
      s->dbs[i].Clear();
      s->expires[i] = 0;
      s->expire_cursor[i] = 0;
    }
  }
  if (observer_) observer_->OnFlush(db);
}

void Keyspace::SwapDb(int a, int b) {
  ShardLockSet locks;
  locks.LockAll(*this);
  for (auto& s : shards_) {
    std::swap(s->dbs[a], s->dbs[b]);
    std::swap(s->expires[a], s->expires[b]);
    std::swap(s->expire_cursor[a], s->expire_cursor[b]);
  }
  if (observer_) observer_->OnSwapDb(a, b);
}

bool Keyspace::RandomKey(int db, int64_t now_ms, std::string* out) {
  // Pick a random shard weighted by trying a few times, then fall back to a full pass so an
  // almost empty keyspace still finds its keys.
  for (int attempt = 0; attempt < 2 * limits::kNumShards; attempt++) {
    Shard& s = *shards_[tl_rng() & (limits::kNumShards - 1)];
    std::lock_guard<std::mutex> l(s.mu);
    for (int tries = 0; tries < 8 && s.dbs[db].size() > 0; tries++) {
      Entry* e = s.dbs[db].Random(tl_rng());
      if (e->has_expire() && e->expire_ms() <= now_ms) continue;
      *out = std::string(e->key());
      return true;
    }
  }
  bool found = false;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> l(s->mu);
    s->dbs[db].ForEach([&](Entry* e) {
      if (found || (e->has_expire() && e->expire_ms() <= now_ms)) return;
      *out = std::string(e->key());
      found = true;
    });
    if (found) return true;
  }
  return false;
}

void Keyspace::ForEachKey(int db, int64_t now_ms, const std::function<void(const Entry*)>& fn) {
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> l(s->mu);
    s->dbs[db].ForEach([&](Entry* e) {
      if (e->has_expire() && e->expire_ms() <= now_ms) return;
      fn(e);
    });
  }
}

uint64_t Keyspace::Scan(int db, uint64_t cursor, int64_t now_ms,
                        const std::function<void(const Entry*)>& fn) {
  int shard = static_cast<int>(cursor & (limits::kNumShards - 1));
  uint64_t dict_cursor = cursor >> 8;
  Shard& s = *shards_[shard];
  {
    std::lock_guard<std::mutex> l(s.mu);
    dict_cursor = s.dbs[db].Scan(dict_cursor, [&](Entry* e) {
      if (e->has_expire() && e->expire_ms() <= now_ms) return;
      fn(e);
    });
  }
  if (dict_cursor == 0) {
    shard++;
    if (shard == limits::kNumShards) return 0;
  }
  return (dict_cursor << 8) | static_cast<uint64_t>(shard);
}

size_t Keyspace::ActiveExpireCycle(int64_t now_ms, size_t buckets_per_shard) {
  size_t deleted = 0;
  for (auto& sp : shards_) {
    Shard& s = *sp;
    std::lock_guard<std::mutex> l(s.mu);
    for (int db = 0; db < limits::kNumDatabases; db++) {
      if (s.expires[db] == 0) continue;
      size_t n = s.dbs[db].SweepBuckets(
          &s.expire_cursor[db], buckets_per_shard,
          [&](Entry* e) { return e->has_expire() && e->expire_ms() <= now_ms; },
          [&](Entry* e) {
            s.expires[db]--;
            if (observer_) observer_->OnDelete(db, e->key());
          });
      deleted += n;
    }
  }
  stats_.expired_keys.fetch_add(deleted, std::memory_order_relaxed);
  return deleted;
}

void ShardLockSet::Lock(Keyspace& ks) {
  ks_ = &ks;
  std::sort(pending_.begin(), pending_.end());
  pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
  for (int s : pending_) {
    ks.shard(s).mu.lock();
    locked_.push_back(s);
  }
  pending_.clear();
}

void ShardLockSet::LockAll(Keyspace& ks) {
  pending_.clear();
  for (int i = 0; i < limits::kNumShards; i++) pending_.push_back(i);
  Lock(ks);
}

void ShardLockSet::Unlock() {
  for (auto it = locked_.rbegin(); it != locked_.rend(); ++it) ks_->shard(*it).mu.unlock();
  locked_.clear();
}

}  // namespace fdb
