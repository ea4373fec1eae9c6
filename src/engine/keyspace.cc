#include "engine/keyspace.h"

#include <algorithm>
#include <random>
#include <thread>

#include "base/clock.h"
#include "base/malloc_stats.h"
#include "engine/effects.h"

namespace fdb {

namespace {
thread_local std::mt19937_64 tl_rng{std::random_device{}()};
// The origin EvictKeys was given, for the transactions of the keys it evicts (EvictEntry).
thread_local MessageSink* tl_evict_origin = nullptr;
}  // namespace

Keyspace::Keyspace() {
  shards_.reserve(limits::kNumShards);
  for (int i = 0; i < limits::kNumShards; i++) shards_.push_back(std::make_unique<Shard>());
}

Keyspace::~Keyspace() = default;

void Keyspace::RemoveSink(EffectSink* sink) {
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

Status Keyspace::Commit(Txn& txn) {
  if (!txn.has_effects()) return Status::OK();
  Status s;
  for (EffectSink* sink : sinks_) {
    s = sink->Commit(txn);
    if (!s.ok()) break;
  }
  // The followers see only what the others took (a refused commit is not followed).
  if (s.ok() && followers_on()) {
    for (EffectSink* sink : followers_) (void)sink->Commit(txn);
  }
  txn.ClearEffects();
  return s;
}

void Keyspace::Emit(Txn& txn, Effect&& effect) {
  // Effects are made for sinks: with none (no log, nothing following the changes) there is
  // nothing to hand them to.
  if (!effects_wanted()) return;
  effect.event = txn.event();
  for (EffectSink* sink : sinks_) sink->Capture(effect);
  if (followers_on()) {
    for (EffectSink* sink : followers_) sink->Capture(effect);
  }
  txn.effects().push_back(std::move(effect));
}

namespace {

// A database and a key as one string (the db byte first): the key of the WATCH tables and of
// a replica's own expiring keys.
std::string DbKey(int db, std::string_view key) {
  std::string w;
  w.reserve(1 + key.size());
  w.push_back(static_cast<char>(db));
  w.append(key);
  return w;
}

}  // namespace

void Keyspace::set_replica_mode(bool on) {
  replica_mode_.store(on, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(replica_keys_mu_);
  replica_keys_.clear();
}

bool Keyspace::ReplicaExpires(int db, std::string_view key) {
  std::lock_guard<std::mutex> l(replica_keys_mu_);
  return replica_keys_.contains(DbKey(db, key));
}

size_t Keyspace::ExpireReplicaKeys(int64_t now_ms) {
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> l(replica_keys_mu_);
    if (replica_keys_.empty()) return 0;
    keys.assign(replica_keys_.begin(), replica_keys_.end());
  }
  size_t deleted = 0;
  for (const std::string& w : keys) {
    const int db = static_cast<uint8_t>(w[0]);
    const KeyRef k(std::string_view(w).substr(1));
    Txn txn;
    ShardGuard l(*shards_[k.shard]);
    Entry** link = shards_[k.shard]->dbs[db].FindLink(k.key, k.hash);
    if (link != nullptr && (*link)->has_expire() && (*link)->expire_ms() > now_ms) continue;
    // Lazy expiry deletes it (and forgets it); a key gone or without a deadline is forgotten.
    if (link != nullptr && Live(txn, db, k, now_ms, /*load=*/false) == nullptr) deleted++;
    (void)Commit(txn);
    std::lock_guard<std::mutex> rl(replica_keys_mu_);
    replica_keys_.erase(w);
  }
  return deleted;
}

void Keyspace::EmitKey(Txn& txn, EffectKind kind, int db, const KeyRef& k, Entry* e,
                       int64_t expire_ms, EffectCause cause, bool created) {
  if (replica_mode() && !txn.from_master() && cause == EffectCause::kCommand &&
      ((kind == EffectKind::kPut && e != nullptr && e->has_expire()) ||
       (kind == EffectKind::kExpire && expire_ms > 0))) {
    std::lock_guard<std::mutex> l(replica_keys_mu_);
    replica_keys_.insert(DbKey(db, k.key));
  }
  if (!effects_wanted()) return;
  Effect effect;
  effect.kind = kind;
  effect.db = db;
  effect.shard = k.shard;
  effect.key = k.key;
  effect.hash = k.hash;
  effect.entry = e;
  effect.expire_ms = expire_ms;
  effect.cause = cause;
  effect.created = created;
  Emit(txn, std::move(effect));
}

uint16_t Keyspace::LruClock() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint16_t>(ts.tv_sec);
}

namespace {
uint8_t LfuMinutes() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint8_t>(ts.tv_sec / 60);
}
}  // namespace

bool ParseEvictionPolicy(std::string_view name, EvictionPolicy* out) {
  static constexpr std::pair<std::string_view, EvictionPolicy> kNames[] = {
      {"noeviction", EvictionPolicy::kNoEviction},
      {"allkeys-lru", EvictionPolicy::kAllKeysLru},
      {"allkeys-lfu", EvictionPolicy::kAllKeysLfu},
      {"allkeys-random", EvictionPolicy::kAllKeysRandom},
      {"volatile-lru", EvictionPolicy::kVolatileLru},
      {"volatile-lfu", EvictionPolicy::kVolatileLfu},
      {"volatile-random", EvictionPolicy::kVolatileRandom},
      {"volatile-ttl", EvictionPolicy::kVolatileTtl},
  };
  for (const auto& [n, p] : kNames) {
    if (n == name) {
      *out = p;
      return true;
    }
  }
  return false;
}

uint8_t Keyspace::LfuDecayedCounter(uint16_t field) const {
  // Redis's LFUDecrAndReturn: one step down per lfu-decay-time minutes elapsed.
  int decay = lfu_decay_minutes_.load(std::memory_order_relaxed);
  uint8_t counter = static_cast<uint8_t>(field & 0xff);
  if (decay <= 0) return counter;
  uint8_t elapsed = static_cast<uint8_t>(LfuMinutes() - (field >> 8));
  int periods = elapsed / decay;
  return periods > counter ? 0 : static_cast<uint8_t>(counter - periods);
}

uint16_t Keyspace::NewAccessField() const {
  if (lfu_mode()) return static_cast<uint16_t>((LfuMinutes() << 8) | kLfuInitVal);
  return LruClock();
}

uint16_t Keyspace::AccessFieldFor(int64_t idle_s, int freq) const {
  if (lfu_mode()) {
    if (freq < 0) return NewAccessField();
    return static_cast<uint16_t>((LfuMinutes() << 8) | std::min(freq, 255));
  }
  if (idle_s < 0) return NewAccessField();
  return static_cast<uint16_t>(LruClock() -
                               static_cast<uint16_t>(std::min<int64_t>(idle_s, 65535)));
}

void Keyspace::Accessed(Entry* e) const {
  if (!lfu_mode()) {
    e->set_lru(LruClock());
    return;
  }
  // Redis's updateLFU: decay, then a logarithmic increment: the more hits a key has, the less
  // likely one more hit raises the counter, so 8 bits cover a million accesses.
  uint8_t counter = LfuDecayedCounter(e->lru());
  if (counter < 255) {
    double base = counter > kLfuInitVal ? counter - kLfuInitVal : 0;
    double p = 1.0 / (base * lfu_log_factor_.load(std::memory_order_relaxed) + 1);
    double r = static_cast<double>(tl_rng() >> 11) * 0x1.0p-53;
    if (r < p) counter++;
  }
  e->set_lru(static_cast<uint16_t>((LfuMinutes() << 8) | counter));
}

void Keyspace::Unlinked(int db, Shard& s, Entry* e) {
  if (e->has_expire()) s.expires[db]--;
  Removed(e);
}

uint64_t Keyspace::ValueBytes(const Entry* e) {
  switch (e->encoding()) {
    case Encoding::kInt:
      return 8;
    case Encoding::kInline:
    case Encoding::kLarge:
      return e->StringLength();
    case Encoding::kObject:
      // What was accounted when it entered the table or last changed (Reaccount), so the
      // accounting stays balanced however the object changed in between.
      return e->object()->accounted_bytes();
    case Encoding::kOnDisk:
      return 0;
  }
  return 0;
}

void Keyspace::Reaccount(const Entry* e) {
  if (e->encoding() != Encoding::kObject) return;
  const ValueObject* o = e->object();
  size_t now = o->MemoryUsage();
  size_t before = o->accounted_bytes();
  if (now == before) return;
  if (now > before) {
    data_bytes_.fetch_add(now - before, std::memory_order_relaxed);
    ram_bytes_.fetch_add(now - before, std::memory_order_relaxed);
  } else {
    data_bytes_.fetch_sub(before - now, std::memory_order_relaxed);
    ram_bytes_.fetch_sub(before - now, std::memory_order_relaxed);
  }
  o->set_accounted_bytes(now);
}

uint64_t Keyspace::Footprint(const Entry* e) {
  // What the key's latest image costs in the log: record header and payload framing, the key,
  // the value.
  uint64_t value = e->on_disk() ? e->disk_value_len() : ValueBytes(e);
  return 17 + 16 + e->key_len() + value;
}

namespace {
// What an entry costs besides its value: the 40-byte header, malloc's 8-byte chunk header and
// rounding (8 on average), and about one bucket pointer, plus the key.
uint64_t IndexBytes(const Entry* e) { return 56 + e->key_len(); }
}  // namespace

void Keyspace::Added(const Entry* e) {
  if (e->encoding() == Encoding::kObject)
    e->object()->set_accounted_bytes(e->object()->MemoryUsage());
  data_bytes_.fetch_add(Footprint(e), std::memory_order_relaxed);
  index_bytes_.fetch_add(IndexBytes(e), std::memory_order_relaxed);
  if (!e->on_disk()) {
    ram_bytes_.fetch_add(ValueBytes(e), std::memory_order_relaxed);
    ram_values_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Keyspace::Removed(const Entry* e) {
  data_bytes_.fetch_sub(Footprint(e), std::memory_order_relaxed);
  index_bytes_.fetch_sub(IndexBytes(e), std::memory_order_relaxed);
  if (!e->on_disk()) {
    ram_bytes_.fetch_sub(ValueBytes(e), std::memory_order_relaxed);
    ram_values_.fetch_sub(1, std::memory_order_relaxed);
  }
}

Entry* Keyspace::LoadAt(int db, Shard& s, Entry** link) {
  Entry* old = *link;
  Entry* loaded = store_ ? store_->LoadValue(db, old) : nullptr;
  if (loaded == nullptr) return nullptr;
  loaded->set_lru(old->lru());
  s.dbs[db].Replace(link, loaded);
  Removed(old);
  Added(loaded);
  Entry::Free(old);
  stats_.cache_misses.fetch_add(1, std::memory_order_relaxed);
  if (OverBudget()) EvictFromShard(ShardOf(loaded->key()), 2, loaded, true);
  return loaded;
}

Entry* Keyspace::Find(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool touch) {
  Entry* e = Live(txn, db, k, now_ms, /*load=*/true);
  if (e != nullptr && touch) Accessed(e);
  return e;
}

Entry* Keyspace::Live(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool load) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link == nullptr) return nullptr;
  Entry* e = *link;
  if (e->has_expire() && e->expire_ms() <= now_ms) {
    // Lazy expiry: the key is gone for every reader from its deadline on; delete it now and
    // log the deletion so replay agrees. While the log cannot be written the key only reads as
    // missing: it is deleted once the deletion can be logged.
    // A replica never expires keys itself: its master's deletion comes through the stream.
    if ((store_ && !store_->CanWrite()) || ChangesPaused(now_ms)) return nullptr;
    if (replica_mode() && (txn.from_master() || !txn.local_write()) && !ReplicaExpires(db, k.key)) {
      return nullptr;
    }
    // No WATCH is touched, as Redis: for a watcher that saw the key live, EXEC finds it gone
    // (WatchedChanged); one that saw it already expired sees no logical change.
    s.dbs[db].Unlink(link);
    Unlinked(db, s, e);
    EmitKey(txn, EffectKind::kDelete, db, k, nullptr, 0, EffectCause::kExpired);
    Entry::Free(e);
    stats_.expired_keys.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (!load) return e;
  if (e->on_disk()) return LoadAt(db, s, link);  // may evict others: `link` is stale after it
  if (store_) stats_.cache_hits.fetch_add(1, std::memory_order_relaxed);
  return e;
}

void Keyspace::TouchWatched(Shard& s, int db, std::string_view key) {
  auto it = s.watched.find(DbKey(db, key));
  if (it != s.watched.end()) it->second.version++;
}

void Keyspace::TouchWatchedInDb(Shard& s, int db, int db2) {
  if (s.watched.empty()) return;
  // Only a live key is a change, as Redis 7.0's touchAllWatchedKeysInDb: a key already past its
  // deadline that a flush removes or a swap moves (or brings) is no logical change.
  const int64_t now_ms = NowMs();
  auto live = [&](int d, const KeyRef& k) {
    const Entry* e = s.dbs[d].Find(k.key, k.hash);
    return e != nullptr && !(e->has_expire() && e->expire_ms() <= now_ms);
  };
  for (auto& [wk, w] : s.watched) {
    int d = static_cast<unsigned char>(wk[0]);
    std::string_view key = std::string_view(wk).substr(1);
    if (d != db && d != db2) continue;
    KeyRef k(key);
    if (live(db, k) || (db2 >= 0 && live(db2, k))) w.version++;
  }
}

uint64_t Keyspace::Watch(int db, const KeyRef& k) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  Shard::Watched& w = s.watched[DbKey(db, k.key)];
  w.refs++;
  return w.version;
}

bool Keyspace::WatchedChanged(int db, const KeyRef& k, uint64_t version, bool was_live,
                              int64_t now_ms) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  auto it = s.watched.find(DbKey(db, k.key));
  if (it == s.watched.end() || it->second.version != version) return true;
  return was_live && !IsLive(db, k, now_ms);
}

void Keyspace::Unwatch(int db, const KeyRef& k) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  auto it = s.watched.find(DbKey(db, k.key));
  if (it != s.watched.end() && --it->second.refs == 0) s.watched.erase(it);
}

bool Keyspace::IsLive(int db, const KeyRef& k, int64_t now_ms) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  const Entry* e = s.dbs[db].Find(k.key, k.hash);
  return e != nullptr && !(e->has_expire() && e->expire_ms() <= now_ms);
}

Entry* Keyspace::FindForRead(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool touch) {
  Entry* e = Find(txn, db, k, now_ms, touch);
  (e ? stats_.keyspace_hits : stats_.keyspace_misses).fetch_add(1, std::memory_order_relaxed);
  return e;
}

Entry* Keyspace::Put(Txn& txn, int db, const KeyRef& k, Entry* e) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  e->set_lru(NewAccessField());
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  const bool created = link == nullptr;
  // A collection overwritten by a string wakes its blocked readers too (a blocked XREADGROUP
  // is told its stream is gone).
  const bool was_collection = link != nullptr && (*link)->type() != ValueType::kString;
  if (link != nullptr) {
    // As Redis's dbOverwrite: in LFU mode an overwritten key keeps its access frequency.
    if (lfu_mode()) e->set_lru((*link)->lru());
    Entry* old = s.dbs[db].Replace(link, e);
    Unlinked(db, s, old);
    Entry::Free(old);
  } else {
    s.dbs[db].Insert(e, k.hash);
  }
  Added(e);
  if (e->has_expire()) s.expires[db]++;
  Touch(s, db, k.key);
  EmitKey(txn, EffectKind::kPut, db, k, e, 0, EffectCause::kCommand, created);
  if (key_listener_ != nullptr && (e->type() != ValueType::kString || was_collection)) {
    key_listener_->KeyCreated(txn, db, k.key);
  }
  // Writers pay for the room they take: over budget, evict from this (locked) shard.
  if (OverBudget()) EvictFromShard(k.shard, 2, e, true);
  return e;
}

Entry* Keyspace::Create(Txn& txn, int db, const KeyRef& k, Entry* e) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  e->set_lru(NewAccessField());
  s.dbs[db].Insert(e, k.hash);
  Added(e);
  if (e->has_expire()) s.expires[db]++;
  // Nothing is logged yet; the first Delta of this entry tells the key's creation.
  txn.set_created_entry(e);
  if (key_listener_ != nullptr) key_listener_->KeyCreated(txn, db, k.key);
  return e;
}

void Keyspace::Delta(Txn& txn, int db, const KeyRef& k, Entry* e, std::string_view change) {
  shards_[k.shard]->mu.AssertHeld();
  Touch(*shards_[k.shard], db, k.key);
  Reaccount(e);
  if (OverBudget()) EvictFromShard(k.shard, 2, e, true);
  if (!effects_wanted()) return;
  Effect effect;
  effect.kind = EffectKind::kDelta;
  if (txn.created_entry() == e) {
    effect.created = true;
    txn.set_created_entry(nullptr);
  }
  effect.db = db;
  effect.shard = k.shard;
  effect.key = k.key;
  effect.hash = k.hash;
  effect.entry = e;
  effect.change = change;  // a view: the sinks capture it now, it is not kept
  Emit(txn, std::move(effect));
}

Entry* Keyspace::WriteRangeAt(Shard& s, int db, const KeyRef& k, Entry* e, uint64_t offset,
                              std::string_view bytes) {
  if (e == nullptr) {
    e = Entry::NewInlineString(k.key, 0, /*raw=*/true);
    e->set_lru(NewAccessField());
    s.dbs[db].Insert(e, k.hash);
  } else {
    Removed(e);
  }
  Entry* now = e->WriteRange(offset, bytes);
  if (now != e) {
    s.dbs[db].Replace(s.dbs[db].FindLink(k.key, k.hash), now);
    Entry::Free(e);
  }
  Added(now);
  return now;
}

Entry* Keyspace::WriteRange(Txn& txn, int db, const KeyRef& k, Entry* e, uint64_t offset,
                            std::string_view bytes) {
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  const bool created = e == nullptr;
  // An expiring new key is impossible here (it is created without a deadline), so the
  // per-database deadline count is unchanged: the replacement keeps e's deadline.
  e = WriteRangeAt(s, db, k, e, offset, bytes);
  Touch(s, db, k.key);
  if (effects_wanted()) {
    std::string change;
    EncodeStringRange(offset, bytes, &change);
    Effect effect;
    effect.kind = EffectKind::kDelta;
    effect.created = created;
    effect.db = db;
    effect.shard = k.shard;
    effect.key = k.key;
    effect.hash = k.hash;
    effect.entry = e;
    effect.change = change;  // a view: the sinks capture it now, it is not kept
    Emit(txn, std::move(effect));
  }
  if (OverBudget()) EvictFromShard(k.shard, 2, e, true);
  return e;
}

void Keyspace::Changed(Txn& txn, int db, const Entry* e) { Changed(txn, db, KeyRef(e->key()), e); }

void Keyspace::Changed(Txn& txn, int db, const KeyRef& k, const Entry* e) {
  shards_[k.shard]->mu.AssertHeld();
  Touch(*shards_[k.shard], db, k.key);
  EmitKey(txn, EffectKind::kPut, db, k, const_cast<Entry*>(e));
}

bool Keyspace::Delete(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool lazy) {
  // A deleted value is not read back from disk first.
  Entry* e = Detach(txn, db, k, now_ms, /*load=*/false);
  if (e == nullptr) return false;
  EmitKey(txn, EffectKind::kDelete, db, k);
  if (key_listener_ != nullptr && e->type() != ValueType::kString) {
    key_listener_->KeyCreated(txn, db, k.key);
  }
  if (lazy && e->type() != ValueType::kString && !e->on_disk() &&
      e->object()->FreeEffort() > kLazyFreeEffort) {
    // The entry is out of the table and accounted as gone: nothing but this thread sees it.
    // As FlushDb: a bounded number of threads, beyond which the caller frees.
    auto running = lazyfree_threads_;
    if (running->fetch_add(1) < kLazyFreeThreadsMax) {
      std::thread([running, freed = lazyfreed_, e] {
        Entry::Free(e);
        freed->fetch_add(1, std::memory_order_relaxed);
        running->fetch_sub(1);
      }).detach();
      return true;
    }
    running->fetch_sub(1);
  }
  Entry::Free(e);
  return true;
}

Entry* Keyspace::Detach(Txn& txn, int db, const KeyRef& k, int64_t now_ms, bool load) {
  if (Live(txn, db, k, now_ms, load) == nullptr) return nullptr;
  Shard& s = *shards_[k.shard];
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  Entry* e = s.dbs[db].Unlink(link);
  Unlinked(db, s, e);
  Touch(s, db, k.key);
  return e;
}

bool Keyspace::Move(Txn& txn, int from, int to, const KeyRef& k, int64_t now_ms) {
  if (from == to || Find(txn, to, k, now_ms, false) != nullptr) return false;
  Entry* e = Detach(txn, from, k, now_ms);
  if (e == nullptr) return false;
  // One call changes two keys: the tag's first event names the key leaving `from`, its second
  // the key arriving in `to` (MOVE: "move_from", "move_to").
  const EventTag tag = txn.event();
  txn.set_event(tag.cls, tag.name);
  EmitKey(txn, EffectKind::kDelete, from, k);
  uint16_t access = e->lru();
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  s.dbs[to].Insert(e, k.hash);
  Touch(s, to, k.key);
  Added(e);
  if (e->has_expire()) s.expires[to]++;
  e->set_lru(access);  // a move is not an access
  txn.set_event(tag.cls2, tag.name2);
  EmitKey(txn, EffectKind::kPut, to, k, e, 0, EffectCause::kCommand, /*created=*/true);
  txn.set_event(tag);
  if (key_listener_ != nullptr && e->type() != ValueType::kString) {
    key_listener_->KeyCreated(txn, to, k.key);
  }
  return true;
}

void Keyspace::SetExpire(Txn& txn, int db, Entry* e, int64_t ms) {
  KeyRef k(e->key());
  Shard& s = *shards_[k.shard];
  s.mu.AssertHeld();
  if (e->has_expire()) s.expires[db]--;
  e->set_expire_ms(ms);
  if (e->has_expire()) s.expires[db]++;
  Touch(s, db, k.key);
  EmitKey(txn, EffectKind::kExpire, db, k, nullptr, ms);
}

size_t Keyspace::DbSize(const Txn& txn, int db) {
  size_t n = 0;
  for (auto& s : shards_) {
    ShardGuard l(*s, txn.holds_all_shards());
    n += s->dbs[db].size();
  }
  return n;
}

size_t Keyspace::ExpiresCount(const Txn& txn, int db) {
  size_t n = 0;
  for (auto& s : shards_) {
    ShardGuard l(*s, txn.holds_all_shards());
    n += s->expires[db];
  }
  return n;
}

size_t Keyspace::TotalKeys(const Txn& txn) {
  size_t n = 0;
  for (int db = 0; db < limits::kNumDatabases; db++) n += DbSize(txn, db);
  return n;
}

void Keyspace::FlushDb(Txn& txn, int db, bool async) {
  std::vector<Dict> dropped;
  size_t keys = 0;
  {
    ShardLockSet locks;
    locks.LockAll(*this, txn.holds_all_shards());
    for (auto& s : shards_) {
      for (int i = 0; i < limits::kNumDatabases; i++) {
        if (db >= 0 && i != db) continue;
        TouchWatchedInDb(*s, i, -1);  // the watched keys that existed
        if (s->dbs[i].size() > 0) {
          keys += s->dbs[i].size();
          s->dbs[i].ForEach([this](Entry* e) { Removed(e); });
          dropped.push_back(std::move(s->dbs[i]));
        }
        s->expires[i] = 0;
        s->expire_cursor[i] = 0;
      }
    }
    CommitGlobal(txn, EffectKind::kFlush, db, 0);
    if (key_listener_ != nullptr) key_listener_->DbFlushed(txn, db);
  }
  if (async && keys >= kLazyFreeMinKeys) {
    auto running = lazyfree_threads_;
    if (running->fetch_add(1) < kLazyFreeThreadsMax) {
      std::thread([running, freed = lazyfreed_, keys, d = std::move(dropped)]() mutable {
        d.clear();
        freed->fetch_add(keys, std::memory_order_relaxed);
        running->fetch_sub(1);
      }).detach();
      return;
    }
    running->fetch_sub(1);
  }
  dropped.clear();  // frees the entries, outside the locks
}

void Keyspace::SwapDb(Txn& txn, int a, int b) {
  ShardLockSet locks;
  locks.LockAll(*this, txn.holds_all_shards());
  for (auto& s : shards_) {
    TouchWatchedInDb(*s, a, b);  // a watched key that exists in either database changes
    std::swap(s->dbs[a], s->dbs[b]);
    std::swap(s->expires[a], s->expires[b]);
    std::swap(s->expire_cursor[a], s->expire_cursor[b]);
  }
  CommitGlobal(txn, EffectKind::kSwapDb, a, b);
}

void Keyspace::CommitGlobal(Txn& txn, EffectKind kind, int db, int db2) {
  Effect effect;
  effect.kind = kind;
  effect.db = db;
  effect.db2 = db2;
  Emit(txn, std::move(effect));
  // A flush or swap holds every shard lock only while it runs: it is committed now (with what
  // the command changed before it), not at the end of the command, so that no other thread's
  // record can come between the change and its record. A transaction holding every shard
  // (EXEC) keeps them until its own commit, which keeps the order.
  if (!txn.holds_all_shards()) (void)Commit(txn);  // a failure refuses writes (MISCONF)
}

bool Keyspace::RandomKey(const Txn& txn, int db, int64_t now_ms, std::string* out) {
  // Pick a random shard weighted by trying a few times, then fall back to a full pass so an
  // almost empty keyspace still finds its keys.
  for (int attempt = 0; attempt < 2 * limits::kNumShards; attempt++) {
    Shard& s = *shards_[tl_rng() & (limits::kNumShards - 1)];
    ShardGuard l(s, txn.holds_all_shards());
    for (int tries = 0; tries < 8 && s.dbs[db].size() > 0; tries++) {
      Entry* e = s.dbs[db].Random();
      if (e->has_expire() && e->expire_ms() <= now_ms) continue;
      *out = std::string(e->key());
      return true;
    }
  }
  bool found = false;
  for (auto& s : shards_) {
    ShardGuard l(*s, txn.holds_all_shards());
    s->dbs[db].ForEach([&](Entry* e) {
      if (found || (e->has_expire() && e->expire_ms() <= now_ms)) return;
      *out = std::string(e->key());
      found = true;
    });
    if (found) return true;
  }
  return false;
}

void Keyspace::ForEachKey(const Txn& txn, int db, int64_t now_ms,
                          const std::function<void(const Entry*)>& fn) {
  for (auto& s : shards_) {
    ShardGuard l(*s, txn.holds_all_shards());
    s->dbs[db].ForEach([&](Entry* e) {
      if (e->has_expire() && e->expire_ms() <= now_ms) return;
      fn(e);
    });
  }
}

uint64_t Keyspace::Scan(const Txn& txn, int db, uint64_t cursor, int64_t now_ms,
                        const std::function<void(const Entry*)>& fn) {
  int shard = static_cast<int>(cursor & (limits::kNumShards - 1));
  uint64_t dict_cursor = cursor >> 8;
  Shard& s = *shards_[shard];
  {
    ShardGuard l(s, txn.holds_all_shards());
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

size_t Keyspace::ActiveExpireCycle(int64_t now_ms, size_t buckets_per_shard, int64_t budget_us) {
  // Each table with deadlines gets one slice of buckets per cycle, so a table with a few
  // volatile keys is cleaned within a cycle or two of their deadlines. A slice in which more
  // than a tenth of the keys examined had expired suggests many more are waiting: the table
  // gets further slices (Redis's adaptive cycle) until that stops being true, the table has
  // been swept once, or the cycle's time budget is spent. One lock hold is one slice, so a
  // client waits at most one slice for a shard.
  size_t deleted = 0;
  // While the log cannot be written a deletion could not be logged (and would be discarded
  // and undone): expire later, as lazy expiry does.
  if (store_ && !store_->CanWrite()) return 0;
  if (ChangesPaused(now_ms)) return 0;  // CLIENT PAUSE keeps the data set as it is
  int64_t start_us = MonoUs();
  bool budget_left = true;
  // A bucket of the Dict holds up to Dict::kMaxLoad keys on average (between half that and
  // that): slices of that many fewer buckets examine about `buckets_per_shard` keys.
  const size_t slice_buckets = std::max<size_t>(1, buckets_per_shard / Dict::kMaxLoad);
  for (auto& sp : shards_) {
    Shard& s = *sp;
    for (int db = 0; db < limits::kNumDatabases; db++) {
      size_t swept = 0;
      while (true) {
        size_t examined = 0, n = 0, buckets = 0;
        {
          // One transaction per slice, committed under the slice's lock.
          Txn txn;
          ShardGuard l(s);
          if (s.expires[db] == 0) break;
          buckets = s.dbs[db].bucket_count();
          n = s.dbs[db].SweepBuckets(
              &s.expire_cursor[db], slice_buckets,
              [&](Entry* e) {
                examined++;
                return e->has_expire() && e->expire_ms() <= now_ms;
              },
              [&](Entry* e) {
                s.expires[db]--;
                Removed(e);  // no WATCH touched: as lazy expiry (Live)
                EmitKey(txn, EffectKind::kDelete, db, KeyRef(e->key()), nullptr, 0,
                        EffectCause::kExpired);
              });
          (void)Commit(txn);  // a failure refuses writes; the deletions are undone with them
        }
        deleted += n;
        swept += slice_buckets;
        if (n * 10 <= examined || swept >= buckets || !budget_left) break;
        budget_left = MonoUs() - start_us < budget_us;
      }
    }
  }
  stats_.expired_keys.fetch_add(deleted, std::memory_order_relaxed);
  return deleted;
}

size_t Keyspace::EvictFromShard(int shard, size_t max, const Entry* keep, bool in_command) {
  Shard& s = *shards_[shard];
  s.mu.AssertHeld();
  if (store_ == nullptr) return 0;
  size_t evicted = 0;
  // Approximate LRU, as Redis's: sample a few entries with values in RAM and evict the one
  // idle the longest. Sampling keeps eviction O(1) and needs no list threaded through entries.
  constexpr int kSamples = 5;
  constexpr int kTries = 24;
  const uint64_t large_bytes = budget_bytes_.load(std::memory_order_relaxed) / kLargeValueDivisor;
  while (evicted < max && OverBudget()) {
    Entry* best = nullptr;
    int best_db = 0;
    uint16_t best_idle = 0;
    int found = 0;
    for (int t = 0; t < kTries && found < kSamples; t++) {
      // A random database that has keys: falling back to db 0 made the keys of a shard whose
      // db 0 is empty nearly unevictable (one try in 16 would find them).
      int db = static_cast<int>(tl_rng() % limits::kNumDatabases);
      for (int n = 0; n < limits::kNumDatabases && s.dbs[db].size() == 0; n++) {
        db = (db + 1) % limits::kNumDatabases;
      }
      Entry* e = s.dbs[db].Random();
      if (e == nullptr || e == keep || e->on_disk()) continue;
      if (in_command && e->loc() == 0) continue;  // its image would overtake its own batch
      if (large_bytes != 0 && ValueBytes(e) > large_bytes && IsHot(e)) continue;
      found++;
      uint16_t idle = lfu_mode() ? static_cast<uint16_t>(255 - LfuDecayedCounter(e->lru()))
                                 : LruIdleSeconds(e->lru());
      if (best == nullptr || idle > best_idle) {
        best = e;
        best_db = db;
        best_idle = idle;
      }
    }
    if (best == nullptr) break;
    // Eviction never loses data: a value without a full image in the log gets one first.
    if (best->loc() == 0 && !store_->WriteImage(best_db, best)) break;
    KeyRef k(best->key());
    Entry** link = s.dbs[best_db].FindLink(k.key, k.hash);
    Entry* out = Entry::NewOnDisk(best->key(), best->type(), best->expire_ms(), best->loc(),
                                  ValueBytes(best));
    out->set_lru(best->lru());
    s.dbs[best_db].Replace(link, out);
    Removed(best);
    Added(out);
    Entry::Free(best);
    evicted++;
  }
  stats_.cache_evictions.fetch_add(evicted, std::memory_order_relaxed);
  return evicted;
}

bool Keyspace::IsHot(const Entry* e) const {
  // LRU: used within kHotValueSeconds. LFU: used in the current minute (an access stamps the
  // field's minute byte, so that is the finest time it keeps).
  if (lfu_mode()) return static_cast<uint8_t>(e->lru() >> 8) == LfuMinutes();
  return LruIdleSeconds(e->lru()) < kHotValueSeconds;
}

size_t Keyspace::EvictUntilUnderBudget(size_t max) {
  size_t total = 0;
  int idle_shards = 0;
  while (total < max && OverBudget() && idle_shards < limits::kNumShards) {
    int shard = static_cast<int>(evict_cursor_.fetch_add(1) % limits::kNumShards);
    std::lock_guard<AdaptiveMutex> l(shards_[shard]->mu);
    size_t n = EvictFromShard(shard, 16);
    total += n;
    idle_shards = n == 0 ? idle_shards + 1 : 0;
  }
  return total;
}

uint64_t Keyspace::UsedMemory() const {
  int64_t used = static_cast<int64_t>(sampled_used_.load(std::memory_order_relaxed)) +
                 static_cast<int64_t>(AccountedBytes()) -
                 static_cast<int64_t>(sampled_accounted_.load(std::memory_order_relaxed));
  return used > 0 ? static_cast<uint64_t>(used) : 0;
}

void Keyspace::SampleUsedMemory() {
  // The two stores are not one atomic step: a change that lands between them is counted in
  // both or neither for one tick, an error of one command's bytes until the next sample.
  uint64_t accounted = AccountedBytes();
  const uint64_t log_buffered = store_ ? store_->LogBufferedBytes() : 0;
  // The replicas' output is read before and after malloc's figure, and the larger taken: a
  // queue that grew meanwhile (a slow replica's, by megabytes when its buffer doubles) would
  // otherwise be in the figure and not in what is taken out of it, and that one sample would
  // evict keys for memory no eviction gives back.
  const uint64_t replicas_before = not_counted_ ? not_counted_() : 0;
  const int64_t start_us = MonoUs();
  sampled_used_.store(MallocUsedBytes(), std::memory_order_relaxed);
  sample_cost_us_.store(MonoUs() - start_us, std::memory_order_relaxed);
  const uint64_t replicas_after = not_counted_ ? not_counted_() : 0;
  sampled_not_counted_.store(log_buffered + std::max(replicas_before, replicas_after),
                             std::memory_order_relaxed);
  sampled_accounted_.store(accounted, std::memory_order_relaxed);
}

void Keyspace::HousekeepMemory() {
  if (OverBudget()) EvictUntilUnderBudget(1u << 20);
  if (budget_bytes_.load(std::memory_order_relaxed) == 0) return;
  SampleUsedMemory();
  if (OverMaxmemory()) (void)EvictKeys();
}

namespace {
// Redis's evictionTimeLimitUs: how long one call may evict before letting the command run
// (the rest is done by the next command or the tick). Tenacity 10 (the default) is 500 us,
// each step above multiplies by 1.15, 100 is unlimited (-1).
int64_t EvictionTimeLimitUs(int tenacity) {
  if (tenacity <= 10) return 50 * static_cast<int64_t>(tenacity < 0 ? 0 : tenacity) + 1;
  if (tenacity < 100) {
    double us = 500.0;
    for (int i = 10; i < tenacity; i++) us *= 1.15;
    return static_cast<int64_t>(us);
  }
  return -1;
}

bool IsVolatile(EvictionPolicy p) {
  return p == EvictionPolicy::kVolatileLru || p == EvictionPolicy::kVolatileLfu ||
         p == EvictionPolicy::kVolatileRandom || p == EvictionPolicy::kVolatileTtl;
}
}  // namespace

Keyspace::EvictResult Keyspace::EvictKeys(MessageSink* origin) {
  struct OriginScope {
    MessageSink* saved = tl_evict_origin;
    explicit OriginScope(MessageSink* o) { tl_evict_origin = o; }
    ~OriginScope() { tl_evict_origin = saved; }
  } origin_scope(origin);
  uint64_t budget = budget_bytes_.load(std::memory_order_relaxed);
  if (budget == 0) return EvictResult::kOk;
  // Values-to-disk deletes no key: over maxmemory there means the index alone is (OverMaxmemory).
  if (values_to_disk()) return OverMaxmemory() ? EvictResult::kFail : EvictResult::kOk;
  if (MaxmemoryUsed() <= budget) return EvictResult::kOk;
  if (policy() == EvictionPolicy::kNoEviction) return EvictResult::kFail;
  if (ChangesPaused(NowMs())) return EvictResult::kFail;  // CLIENT PAUSE: nothing is evicted
  // A replica deletes no key of its own (replica-ignore-maxmemory): its master evicts.
  if (replica_mode()) return EvictResult::kOk;
  const int64_t limit_us = EvictionTimeLimitUs(tenacity_.load(std::memory_order_relaxed));
  const int64_t start_us = MonoUs();
  // Over the budget by the bridged figure: take malloc's own before evicting, at most once a
  // millisecond (mallinfo2 walks the arenas). The bridge misses what the keyspace does not
  // account, a dict's bucket array doubling above all, and Redis keeps used memory within a
  // few KB of maxmemory under eviction; a sample per eviction burst keeps FDB there too.
  // mallinfo2 walks every free chunk under its arena's lock, so on a large fragmented heap one
  // sample can take a millisecond: the interval is at least 100 times the last sample's cost,
  // which keeps sampling under 1% of a thread's time under constant eviction.
  int64_t sampled_us = evict_sampled_us_.load(std::memory_order_relaxed);
  const int64_t interval_us =
      std::max<int64_t>(1000, 100 * sample_cost_us_.load(std::memory_order_relaxed));
  if (start_us - sampled_us >= interval_us &&
      evict_sampled_us_.compare_exchange_strong(sampled_us, start_us)) {
    SampleUsedMemory();
    if (MaxmemoryUsed() <= budget) return EvictResult::kOk;
  }
  size_t n = 0;
  // Used memory is malloc's figure as of the last sample plus the accounted change since. A
  // sample taken while something outside the keyspace briefly held memory stays too high until
  // the next one, and evicting against it would empty the keyspace for nothing: once the keys
  // evicted cover what the sample said was over (or no key is left), sample again, once.
  const uint64_t over = MaxmemoryUsed() - budget;
  const uint64_t accounted_before = AccountedBytes();
  bool resampled = false;
  auto resample = [&] {
    if (resampled) return false;
    resampled = true;
    SampleUsedMemory();
    return true;
  };
  while (MaxmemoryUsed() > budget) {
    if (!resampled && accounted_before > AccountedBytes() + over && resample()) continue;
    if (!EvictOneKey()) {
      if (resample()) continue;
      return EvictResult::kFail;
    }
    n++;
    if ((n & 15) == 0 && limit_us >= 0 && MonoUs() - start_us > limit_us) {
      return EvictResult::kRunning;
    }
  }
  return EvictResult::kOk;
}

bool Keyspace::EvictOneKey() {
  // As Redis, approximate: maxmemory-samples keys sampled in a random shard. A few random
  // shards are tried (an empty shard has nothing to offer); when they all come up empty, every
  // shard is searched once before saying no key qualifies, so a keyspace with a handful of
  // volatile keys still finds them and a failure is real. The random policies take the first
  // sample; the others go through the pool (see pool_), as Redis's evictionPoolPopulate.
  constexpr int kShardProbes = 16;
  const EvictionPolicy policy = this->policy();
  const bool random =
      policy == EvictionPolicy::kAllKeysRandom || policy == EvictionPolicy::kVolatileRandom;
  if (random) {
    for (int i = 0; i < kShardProbes; i++) {
      if (EvictKeyInShard(static_cast<int>(tl_rng() & (limits::kNumShards - 1)), false)) {
        return true;
      }
    }
  } else {
    std::lock_guard<std::mutex> pl(pool_mu_);
    // maxmemory-samples candidates a call, as Redis samples its whole keyspace: a shard of a
    // small keyspace holds a key or two, so more shards are sampled until enough were seen
    // (the pool is only as good as what goes into it).
    const int want = samples_.load(std::memory_order_relaxed);
    int seen = 0;
    for (int i = 0; i < kShardProbes && seen < want; i++) {
      int n = 0;
      if (EvictKeyInShard(static_cast<int>(tl_rng() & (limits::kNumShards - 1)), false, &n)) {
        seen += n;
      }
    }
    while (!pool_.empty()) {
      EvictionCandidate c = std::move(pool_.back());
      pool_.pop_back();
      if (EvictPooled(c.db, c.key, c.score)) return true;
    }
  }
  int start = static_cast<int>(tl_rng() & (limits::kNumShards - 1));
  for (int i = 0; i < limits::kNumShards; i++) {
    if (EvictKeyInShard((start + i) & (limits::kNumShards - 1), true)) return true;
  }
  return false;
}

int64_t Keyspace::EvictionScore(const Entry* e) const {
  // Idle seconds (LRU), 255 - frequency (LFU), nearest deadline first (TTL).
  switch (policy()) {
    case EvictionPolicy::kAllKeysLru:
    case EvictionPolicy::kVolatileLru:
      return LruIdleSeconds(e->lru());
    case EvictionPolicy::kAllKeysLfu:
    case EvictionPolicy::kVolatileLfu:
      return 255 - LfuDecayedCounter(e->lru());
    case EvictionPolicy::kVolatileTtl:
      return INT64_MAX - e->expire_ms();
    default:
      return 0;
  }
}

void Keyspace::PoolInsert(int64_t score, int db, std::string_view key) {
  // Ascending by score; a full pool drops its worst (the front). A key already pooled is
  // updated in place rather than held twice.
  for (size_t i = 0; i < pool_.size(); i++) {
    if (pool_[i].db == db && pool_[i].key == key) {
      pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  if (pool_.size() >= kEvictionPoolSize) {
    if (score <= pool_.front().score) return;
    pool_.erase(pool_.begin());
  }
  auto at = std::upper_bound(pool_.begin(), pool_.end(), score,
                             [](int64_t sc, const EvictionCandidate& c) { return sc < c.score; });
  pool_.insert(at, EvictionCandidate{score, db, std::string(key)});
}

bool Keyspace::EvictPooled(int db, const std::string& key, int64_t score) {
  KeyRef k(key);
  Shard& s = *shards_[k.shard];
  ShardGuard l(s);
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link == nullptr) return false;
  const Entry* e = *link;
  if (IsVolatile(policy()) && !e->has_expire()) return false;
  // Used since it was sampled: it goes back in at its new score, unless nothing better is left.
  int64_t now = EvictionScore(e);
  if (now < score && !pool_.empty() && pool_.back().score > now) {
    PoolInsert(now, db, key);
    return false;
  }
  EvictEntry(db, s, link);
  return true;
}

void Keyspace::EvictEntry(int db, Shard& s, Entry** link) {
  s.mu.AssertHeld();
  // Deleted as DEL would: the deletion is an effect of its own, committed under the shard's
  // lock (logged with persistence); WATCH sees it.
  Entry* e = s.dbs[db].Unlink(link);
  Unlinked(db, s, e);
  Touch(s, db, e->key());
  Txn txn;
  txn.set_origin(tl_evict_origin, 0);  // no client's write: NOLOOP clients are told too
  EmitKey(txn, EffectKind::kDelete, db, KeyRef(e->key()), nullptr, 0, EffectCause::kEvicted);
  (void)Commit(txn);  // a failure refuses writes (MISCONF)
  Entry::Free(e);
  stats_.evicted_keys.fetch_add(1, std::memory_order_relaxed);
}

bool Keyspace::EvictKeyInShard(int shard, bool exhaustive, int* pooled) {
  const bool pool = pooled != nullptr;
  const EvictionPolicy policy = this->policy();
  const bool volatile_only = IsVolatile(policy);
  Shard& s = *shards_[shard];
  ShardGuard l(s);
  int dbs[limits::kNumDatabases];
  int ndbs = 0;
  for (int db = 0; db < limits::kNumDatabases; db++) {
    if (volatile_only ? s.expires[db] > 0 : s.dbs[db].size() > 0) dbs[ndbs++] = db;
  }
  if (ndbs == 0) return false;
  const bool random =
      policy == EvictionPolicy::kAllKeysRandom || policy == EvictionPolicy::kVolatileRandom;
  const int samples = random ? 1 : samples_.load(std::memory_order_relaxed);
  size_t keys = 0;  // a shard of few keys yields as many distinct candidates at most
  for (int i = 0; i < ndbs; i++) keys += volatile_only ? s.expires[dbs[i]] : s.dbs[dbs[i]].size();
  Entry* best = nullptr;
  int best_db = 0;
  int64_t best_score = 0;
  auto consider = [&](int db, Entry* e) {
    if (volatile_only && !e->has_expire()) return;
    int64_t sc = EvictionScore(e);
    if (pool) PoolInsert(sc, db, e->key());
    if (best == nullptr || sc > best_score) {
      best = e;
      best_db = db;
      best_score = sc;
    }
  };
  // Volatile keys may be few among many: allow several draws per sample before giving up.
  for (int found = 0, draws = 0; found < samples && draws < samples * 8; draws++) {
    int db = dbs[tl_rng() % ndbs];
    Entry* e = s.dbs[db].Random();
    if (e == nullptr || (volatile_only && !e->has_expire())) continue;
    found++;
    consider(db, e);
  }
  if (best == nullptr && exhaustive) {
    for (int i = 0; i < ndbs; i++) s.dbs[dbs[i]].ForEach([&](Entry* e) { consider(dbs[i], e); });
  }
  if (best == nullptr) return false;
  if (pool) {
    *pooled = static_cast<int>(std::min<size_t>(static_cast<size_t>(samples), keys));
    return true;
  }
  KeyRef k(best->key());
  EvictEntry(best_db, s, s.dbs[best_db].FindLink(k.key, k.hash));
  return true;
}

void Keyspace::RecoverPut(int db, const KeyRef& k, Entry* e) {
  Shard& s = *shards_[k.shard];
  e->set_lru(NewAccessField());
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link != nullptr) {
    Entry* old = s.dbs[db].Replace(link, e);
    Unlinked(db, s, old);
    Entry::Free(old);
  } else {
    s.dbs[db].Insert(e, k.hash);
  }
  Added(e);
  if (e->has_expire()) s.expires[db]++;
}

Entry* Keyspace::RecoverFind(int db, const KeyRef& k) {
  return shards_[k.shard]->dbs[db].Find(k.key, k.hash);
}

void Keyspace::RecoverChanged(const Entry* e) { Reaccount(e); }

void Keyspace::RecoverDelete(int db, const KeyRef& k) {
  Shard& s = *shards_[k.shard];
  Entry** link = s.dbs[db].FindLink(k.key, k.hash);
  if (link == nullptr) return;
  Entry* e = s.dbs[db].Unlink(link);
  Unlinked(db, s, e);
  Entry::Free(e);
}

Status Keyspace::RecoverWriteRange(int db, const KeyRef& k, std::string_view change) {
  uint64_t offset;
  std::string_view bytes;
  if (!DecodeStringRange(change, &offset, &bytes)) return Status::Corruption("bad string range");
  Shard& s = *shards_[k.shard];
  Entry* e = s.dbs[db].Find(k.key, k.hash);
  if (e != nullptr && (e->type() != ValueType::kString || e->on_disk())) {
    return Status::Corruption("string range delta applied to a " +
                              std::string(TypeName(e->type())));
  }
  WriteRangeAt(s, db, k, e, offset, bytes);
  return Status::OK();
}

void Keyspace::RecoverExpire(int db, const KeyRef& k, int64_t expire_ms) {
  Shard& s = *shards_[k.shard];
  Entry* e = s.dbs[db].Find(k.key, k.hash);
  if (e == nullptr) return;
  if (e->has_expire()) s.expires[db]--;
  e->set_expire_ms(expire_ms);
  if (e->has_expire()) s.expires[db]++;
}

void Keyspace::RecoverFlushShard(int shard, int db) {
  Shard& s = *shards_[shard];
  for (int i = 0; i < limits::kNumDatabases; i++) {
    if (db >= 0 && i != db) continue;
    s.dbs[i].ForEach([this](Entry* e) { Removed(e); });
    s.dbs[i].Clear();
    s.expires[i] = 0;
  }
}

void Keyspace::RecoverSwapShard(int shard, int a, int b) {
  Shard& s = *shards_[shard];
  std::swap(s.dbs[a], s.dbs[b]);
  std::swap(s.expires[a], s.expires[b]);
}

size_t Keyspace::RecoverReshard() {
  size_t moved = 0;
  std::vector<Entry*> strays;
  for (int i = 0; i < limits::kNumShards; i++) {
    Shard& s = *shards_[i];
    for (int db = 0; db < limits::kNumDatabases; db++) {
      strays.clear();
      s.dbs[db].ForEach([&](Entry* e) {
        if (ShardOf(e->key()) != i) strays.push_back(e);
      });
      for (Entry* e : strays) {
        // A key is in one shard of the old layout, so it is not in its new shard yet.
        KeyRef k(e->key());
        Entry** link = s.dbs[db].FindLink(k.key, k.hash);
        s.dbs[db].Unlink(link);
        Shard& to = *shards_[k.shard];
        to.dbs[db].Insert(e, k.hash);
        if (e->has_expire()) {
          s.expires[db]--;
          to.expires[db]++;
        }
        moved++;
      }
    }
  }
  return moved;
}

void Keyspace::ReplaceKeyFrom(Keyspace& from, std::string_view key) {
  KeyRef k(key);
  const int shard = k.shard;
  Shard& s = *shards_[shard];
  s.mu.AssertHeld();
  Shard& f = *from.shards_[shard];
  for (int db = 0; db < limits::kNumDatabases; db++) {
    RecoverDelete(db, k);
    Entry** link = f.dbs[db].FindLink(k.key, k.hash);
    if (link == nullptr) continue;
    Entry* e = f.dbs[db].Unlink(link);
    from.Unlinked(db, f, e);
    e->set_lru(NewAccessField());
    s.dbs[db].Insert(e, k.hash);
    Added(e);
    if (e->has_expire()) s.expires[db]++;
  }
  for (int db = 0; db < limits::kNumDatabases; db++) Touch(s, db, k.key);
}

void Keyspace::ReplaceAllFrom(Keyspace& from) {
  for (int i = 0; i < limits::kNumShards; i++) {
    RecoverFlushShard(i, -1);
    Shard& s = *shards_[i];
    s.mu.AssertHeld();
    Shard& f = *from.shards_[i];
    for (int db = 0; db < limits::kNumDatabases; db++) {
      std::swap(s.dbs[db], f.dbs[db]);
      s.expires[db] = f.expires[db];
      s.dbs[db].ForEach([this](Entry* e) { Added(e); });
    }
    for (auto& [key, w] : s.watched) w.version++;
  }
}

// Not checked by clang's thread-safety analysis: the shards are picked by index (keyspace.h).
void ShardLockSet::Lock(Keyspace& ks, bool already_held) {
  ks_ = &ks;
  if (already_held) {
    pending_.clear();
    return;
  }
  std::sort(pending_.begin(), pending_.end());
  pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
  LockSorted(ks, pending_.data(), pending_.size());
  pending_.clear();
}

void ShardLockSet::LockAll(Keyspace& ks, bool already_held) {
  ks_ = &ks;
  pending_.clear();
  if (already_held) return;
  static const std::array<int, limits::kNumShards> kEvery = [] {
    std::array<int, limits::kNumShards> a;
    for (int i = 0; i < limits::kNumShards; i++) a[i] = i;
    return a;
  }();
  locked_.reserve(limits::kNumShards);
  LockSorted(ks, kEvery.data(), kEvery.size());
}

void ShardLockSet::LockSorted(Keyspace& ks, const int* shards,
                              size_t n) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  while (true) {
    size_t i = 0;
    for (; i < n; i++) {
      AdaptiveMutex& mu = ks.shard(shards[i]).mu;
      if (locked_.empty()) {
        mu.lock();
      } else if (!mu.try_lock()) {
        // Waiting with shards held: fine in ascending order, unless a script is taking shards
        // out of order (it may hold this one and wait for one of ours).
        bool got = false;
        while (!(got = mu.try_lock_for_us(1000)) && ks.escalating() == 0) {
        }
        if (!got) break;
      }
      locked_.push_back(shards[i]);
    }
    if (i == n) return;
    Unlock();
    std::this_thread::yield();
  }
}

bool ShardLockSet::Escalate(Keyspace& ks, const std::vector<int>& shards,
                            uint64_t ticket) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  bool waiting = false;
  int64_t waited_us = 0;
  bool ok = true;
  for (int s : shards) {
    AdaptiveMutex& mu = ks.shard(s).mu;
    if (mu.try_lock()) {
      locked_.push_back(s);
      continue;
    }
    if (!waiting) {
      ks.BeginEscalation(ticket);
      waiting = true;
    }
    // Other lockers give up what they hold while a script escalates, so only another
    // escalating script can hold this shard while it waits for one of ours: the younger of
    // two gives up after 100 ms of both waiting, in whichever order either takes shards (one
    // taking them in ascending order may still wait for one taking them out of order).
    bool got = false;
    while (!(got = mu.try_lock_for_us(1000))) {
      waited_us = ks.OlderEscalationWaits(ticket) ? waited_us + 1000 : 0;
      if (waited_us >= 100000) break;
    }
    if (!got) {
      ok = false;
      break;
    }
    locked_.push_back(s);
  }
  if (waiting) ks.EndEscalation(ticket);
  return ok;
}

void Keyspace::BeginEscalation(uint64_t ticket) {
  MutexLock l(escalation_mu_);
  escalation_waiting_.push_back(ticket);
  escalating_.fetch_add(1, std::memory_order_acq_rel);
}

void Keyspace::EndEscalation(uint64_t ticket) {
  MutexLock l(escalation_mu_);
  auto it = std::find(escalation_waiting_.begin(), escalation_waiting_.end(), ticket);
  if (it != escalation_waiting_.end()) escalation_waiting_.erase(it);
  escalating_.fetch_sub(1, std::memory_order_acq_rel);
}

bool Keyspace::OlderEscalationWaits(uint64_t ticket) {
  MutexLock l(escalation_mu_);
  for (uint64_t t : escalation_waiting_) {
    if (t < ticket) return true;
  }
  return false;
}

void ShardLockSet::Unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (auto it = locked_.rbegin(); it != locked_.rend(); ++it) ks_->shard(*it).mu.unlock();
  locked_.clear();
}

}  // namespace fdb
