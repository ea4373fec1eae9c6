#include "commands/blocking.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "base/clock.h"
#include "commands/context.h"
#include "commands/string_ops.h"

namespace fdb {

namespace {

constexpr const char* kTimeoutNotFloat = "ERR timeout is not a float or out of range";
constexpr const char* kTimeoutNegative = "ERR timeout is negative";

}  // namespace

bool ParseBlockTimeout(std::string_view arg, CommandContext& ctx, int64_t* deadline_ms) {
  long double secs;
  if (!ParseLongDouble(arg, &secs) || std::isnan(secs)) {
    ctx.rb.Error(kTimeoutNotFloat);
    return false;
  }
  // As Redis 7.0's getTimeoutFromObjectOrReply: milliseconds rounded up, so a small timeout
  // (0.001, which is a hair under a millisecond in binary) waits a millisecond instead of
  // forever. A value past the 64-bit range (1e300, inf) is what Redis's overflowing conversion
  // makes of it: negative.
  long double ms = std::ceil(secs * 1000.0L);
  if (ms < 0 || !(ms < 9.2e18L)) {
    ctx.rb.Error(kTimeoutNegative);
    return false;
  }
  int64_t t = static_cast<int64_t>(ms);
  if (t > 0) {
    // A deadline past the clock's range is never reached: forever.
    t = t > INT64_MAX - ctx.now_ms ? 0 : t + ctx.now_ms;
  }
  *deadline_ms = t;
  return true;
}

bool CanBlock(const CommandContext& ctx) {
  return !ctx.txn.holds_all_shards() && static_cast<bool>(ctx.client.unblock);
}

std::shared_ptr<Waiter> NewWaiter(CommandContext& ctx, std::vector<std::string> keys,
                                  int64_t deadline_ms) {
  auto w = std::make_shared<Waiter>();
  w->db = ctx.db;
  w->keys = std::move(keys);
  w->spec = &ctx.spec;
  w->deadline_ms = deadline_ms;
  w->client_id = ctx.client.id;
  w->client.id = ctx.client.id;
  w->client.db.store(ctx.db, std::memory_order_relaxed);
  w->client.resp3.store(ctx.rb.resp3(), std::memory_order_relaxed);
  w->client.no_touch.store(ctx.client.no_touch.load(std::memory_order_relaxed),
                           std::memory_order_relaxed);
  w->deliver = ctx.client.unblock;
  return w;
}

void BlockingRegistry::Block(CommandContext& ctx, std::shared_ptr<Waiter> w) {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < w->keys.size(); i++) {
      const std::string& k = w->keys[i];
      if (std::find(w->keys.begin(), w->keys.begin() + i, k) != w->keys.begin() + i) continue;
      waiters_[{w->db, k}].push_back(w);
    }
    blocked_.fetch_add(1, std::memory_order_relaxed);
  }
  ctx.client.blocked = std::move(w);
  ctx.client.is_blocked.store(true, std::memory_order_relaxed);
}

void BlockingRegistry::NoteReady(Txn& txn, int db, std::string_view key) {
  std::pair<int, std::string> k(db, std::string(key));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (waiters_.find(k) == waiters_.end()) return;
  }
  txn.NoteReady(db, key);
}

void BlockingRegistry::DbsSwapped(Txn& txn, int a, int b) {
  if (blocked_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [k, q] : waiters_) {
    if (!q.empty() && (k.first == a || k.first == b)) txn.NoteReady(k.first, k.second);
  }
}

void BlockingRegistry::DbFlushed(Txn& txn, int db) {
  if (blocked_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [k, q] : waiters_) {
    if (!q.empty() && (db < 0 || k.first == db)) txn.NoteReady(k.first, k.second);
  }
}

void BlockingRegistry::RemoveLocked(const Waiter* w) {
  for (const std::string& k : w->keys) {
    auto it = waiters_.find({w->db, k});
    if (it == waiters_.end()) continue;
    auto& q = it->second;
    q.erase(std::remove_if(q.begin(), q.end(),
                           [w](const std::shared_ptr<Waiter>& x) { return x.get() == w; }),
            q.end());
    if (q.empty()) waiters_.erase(it);
  }
}

bool BlockingRegistry::Cancel(const std::shared_ptr<Waiter>& w, bool disconnect) {
  if (disconnect) w->cancelled.store(true);
  int expected = Waiter::kBlocked;
  if (!w->state.compare_exchange_strong(expected, Waiter::kDone)) return false;
  std::lock_guard<std::mutex> l(mu_);
  RemoveLocked(w.get());
  blocked_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

std::shared_ptr<Waiter> BlockingRegistry::TakeClient(uint64_t client_id) {
  std::shared_ptr<Waiter> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, q] : waiters_) {
      for (const auto& x : q) {
        if (x->client_id == client_id) {
          w = x;
          break;
        }
      }
      if (w != nullptr) break;
    }
  }
  if (w == nullptr || !Cancel(w, /*disconnect=*/false)) return nullptr;
  return w;
}

size_t BlockingRegistry::UnblockAll(std::string_view error) {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, q] : waiters_) {
      for (const auto& w : q) ids.push_back(w->client_id);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  size_t n = 0;
  for (uint64_t id : ids) {
    std::shared_ptr<Waiter> w = TakeClient(id);
    if (w == nullptr) continue;  // served or gone meanwhile
    std::string reply;
    ReplyBuilder rb(&reply);
    rb.set_resp3(w->client.resp3.load(std::memory_order_relaxed));
    rb.Error(error);
    if (w->deliver) w->deliver(std::move(reply), 0);
    n++;
  }
  return n;
}

void BlockingRegistry::Unclaim(const std::shared_ptr<Waiter>& w) {
  w->state.store(Waiter::kBlocked);
  // A disconnect that came while the waiter was claimed could not remove it: do it now. Either
  // this load sees `cancelled`, or Cancel's exchange saw kBlocked and removed it.
  if (w->cancelled.load()) {
    int expected = Waiter::kBlocked;
    if (w->state.compare_exchange_strong(expected, Waiter::kDone)) {
      std::lock_guard<std::mutex> l(mu_);
      RemoveLocked(w.get());
      blocked_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

size_t BlockingRegistry::WaitedKeys() {
  std::lock_guard<std::mutex> l(mu_);
  return waiters_.size();
}

void BlockingRegistry::ServeReady(ServerContext& server, ThreadStats* stats,
                                  std::vector<std::pair<int, std::string>> pending) {
  auto add = [&pending](std::pair<int, std::string> k) {
    if (std::find(pending.begin(), pending.end(), k) == pending.end()) {
      pending.push_back(std::move(k));
    }
  };
  while (!pending.empty()) {
    std::vector<std::pair<int, std::string>> ready;
    ready.swap(pending);
    // Keys to look at again: a waiter of the key was being served by another thread for
    // another of its keys, and may come back blocked if that failed.
    std::vector<std::pair<int, std::string>> again;
    for (const auto& [db, key] : ready) {
      std::vector<std::shared_ptr<Waiter>> queue;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = waiters_.find({db, key});
        if (it == waiters_.end()) continue;
        queue.assign(it->second.begin(), it->second.end());
      }
      // In arrival order. A waiter that cannot be served (wrong type for it, or nothing left)
      // keeps its place; once the key is gone, nobody else can be served either.
      for (const std::shared_ptr<Waiter>& w : queue) {
        int expected = Waiter::kBlocked;
        if (!w->state.compare_exchange_strong(expected, Waiter::kServing)) {
          if (expected == Waiter::kServing &&
              std::find(again.begin(), again.end(), std::make_pair(db, key)) == again.end()) {
            again.emplace_back(db, key);
          }
          continue;
        }
        std::string out;
        ReplyBuilder rb(&out);
        rb.set_resp3(w->client.resp3.load(std::memory_order_relaxed));
        bool served;
        bool key_exists = true;
        uint64_t seq = 0;
        {
          ShardLockSet locks;
          locks.Add(Keyspace::ShardOf(key));
          for (const std::string& k : w->extra_keys) locks.Add(Keyspace::ShardOf(k));
          locks.Lock(server.keyspace());
          Txn txn;
          // The served client's own invalidations (client-side caching) follow its reply.
          std::string own_pushes;
          txn.set_origin(nullptr, w->client.id);
          txn.set_own_pushes(&own_pushes);
          txn.set_replicated_name(w->spec->replicated_name);
          CommandContext ctx(rb, server, w->client, *w->spec, NowMs(), txn);
          ctx.stats = stats;
          try {
            served = w->serve(ctx, key);
          } catch (...) {
            // An allocation failure mid-serve (BLMOVE popped, then failed to push): what the
            // callback changed is committed under its locks, so the log holds what memory
            // holds, and the waiter goes back to waiting.
            (void)server.keyspace().Commit(txn);
            Unclaim(w);
            throw;
          }
          if (!served) {
            out.clear();
            key_exists = ctx.ks.Find(txn, db, KeyRef(key), ctx.now_ms, false) != nullptr;
          }
          Status committed = server.keyspace().Commit(txn);
          if (!committed.ok() && served && server.storage() != nullptr) {
            out.clear();
            rb.Error(server.storage()->Health().message() + ". The change may not be durable.");
          }
          seq = txn.sequence();
          if (served) out += own_pushes;
          // A pop that moved an element (BLMOVE) may have created a key others wait for.
          for (auto& k : txn.ready_keys()) add(std::move(k));
        }
        if (!served) {
          Unclaim(w);
          if (!key_exists) break;
          continue;
        }
        if (stats != nullptr && w->spec->id >= 0) {
          CommandCounters& c = stats->commands[w->spec->id];
          c.calls.store(c.calls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
        w->state.store(Waiter::kDone);
        {
          std::lock_guard<std::mutex> l(mu_);
          RemoveLocked(w.get());
          blocked_.fetch_sub(1, std::memory_order_relaxed);
        }
        if (w->deliver) w->deliver(std::move(out), seq);
      }
    }
    if (!again.empty()) {
      // The other thread holds the claim only while it runs one serve callback.
      std::this_thread::yield();
      for (auto& k : again) add(std::move(k));
    }
  }
}

}  // namespace fdb
