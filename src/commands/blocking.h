// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP).
//
// Model: a client whose blocking command finds nothing to serve becomes a Waiter registered
// under each of its keys (FIFO per key). Any command that creates a key (Keyspace::Create /
// Put, through the keyspace's KeyCreated hook) marks it "ready" in the command's transaction
// (Txn::NoteReady) when someone waits on it; after that command has released its shard locks,
// the dispatcher serves the transaction's ready keys on the same thread: for each waiter of the
// key, in arrival order, it claims the waiter (state kBlocked -> kServing, so a timeout or
// disconnect racing with it on the waiter's own thread backs off), locks the shards of the
// ready key and of the waiter's extra keys, runs the waiter's serve callback (the non-blocking
// form of its command, for its db and RESP version) in a transaction of its own, and hands the
// reply with that transaction's log sequence to the waiter's I/O thread (ClientState::unblock),
// which holds the reply until the log commits it, as any other reply. A waiter the callback cannot
// serve (the key is empty again, or holds another type) goes back to kBlocked and keeps its place.
//
// Why serve on the pushing thread: the push and the pops it enables run back to back without a
// hop, and the waiter's I/O thread only has to write bytes. Why no lost wake-up: a command
// registers its waiter while it still holds its keys' shard locks, and a key can only be
// created under its shard lock, so the creator either sees the waiter or the waiter saw the
// key. Pushes pay one relaxed load of an atomic counter when nobody waits.
//
// Timeouts and disconnects are handled by the waiter's own I/O thread (Cancel): it claims the
// waiter (kBlocked -> kDone) and removes it from every key; if a server holds the claim at that
// moment, the client's fate is the server's (a disconnect sets `cancelled`, which the server
// checks before putting the waiter back).
//
// How a family uses it (see BlockingPop and BlockingMove in list_family.cc):
//
//   void CmdBzPopMin(CmdArgs args, CommandContext& ctx) {
//     ... parse the timeout first: ParseBlockTimeout(args.back(), ctx, &deadline_ms) ...
//     ... try the non-blocking form on each key in order; if one served, return ...
//     if (!CanBlock(ctx)) { reply the timeout reply (NullArray); return; }
//     auto w = NewWaiter(ctx, keys, deadline_ms);
//     w->serve = [..captured options..](CommandContext& c, std::string_view key) {
//       ... the same Op as the non-blocking form (OpZPop, OpPopCount, OpLMove), on `key` only;
//       write the reply to c.rb and return true, or return false (nothing written) when the
//       Op found nothing for this waiter (the key is empty again, or of another type: the Op's
//       status says which, and no reply was written to be taken back) ...
//     };
//     w->on_timeout = [](ReplyBuilder& rb) { rb.NullArray(); };
//     ctx.server.blocking().Block(ctx, std::move(w));  // writes no reply
//   }
//
// The serve callback runs with the shards of `key` and of w->extra_keys locked, inside a log
// batch, with c.db the waiter's database and c.rb in the waiter's RESP version. It must not
// touch other keys.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/keyspace.h"
#include "server/client_state.h"

namespace fdb {

class CommandContext;
class ReplyBuilder;
class ServerContext;
struct CommandSpec;
struct ThreadStats;

struct Waiter {
  enum State : int { kBlocked = 0, kServing = 1, kDone = 2 };

  int db = 0;
  std::vector<std::string> keys;        // waited on, in the order the command named them
  std::vector<std::string> extra_keys;  // also locked when serving (BLMOVE's destination)
  const CommandSpec* spec = nullptr;    // the blocking command (statistics, context)
  int64_t deadline_ms = 0;              // wall clock; 0 = forever
  uint64_t client_id = 0;
  // What the serve callback sees as its client: the blocked client's db, RESP version and
  // no-touch flag at the time it blocked (the real ClientState belongs to another thread).
  ClientState client;
  std::function<bool(CommandContext& ctx, std::string_view key)> serve;
  std::function<void(ReplyBuilder& rb)> on_timeout;
  // Hands a reply (and the log sequence it waits for, 0 if none) to the client's I/O thread.
  std::function<void(std::string reply, uint64_t log_seq)> deliver;

  std::atomic<int> state{kBlocked};
  std::atomic<bool> cancelled{false};
};

// Parses a blocking command's timeout (seconds, a float) into an absolute deadline (0 when
// the timeout is 0 = forever). Replies with Redis's error and returns false when invalid.
bool ParseBlockTimeout(std::string_view arg, CommandContext& ctx, int64_t* deadline_ms);

// Whether the running command may block: not inside EXEC (as Redis, a blocking command in a
// transaction times out at once) and only for clients that can be woken (a network client).
bool CanBlock(const CommandContext& ctx);

// A waiter for the running command's client, on `keys`, with the given deadline.
std::shared_ptr<Waiter> NewWaiter(CommandContext& ctx, std::vector<std::string> keys,
                                  int64_t deadline_ms);

class BlockingRegistry : public KeyCreatedListener {
 public:
  BlockingRegistry() = default;
  BlockingRegistry(const BlockingRegistry&) = delete;
  BlockingRegistry& operator=(const BlockingRegistry&) = delete;

  // Registers w under its keys and marks ctx.client blocked on it (the connection stops
  // processing its input until it is unblocked). REQUIRES: the shards of w->keys are locked
  // (the dispatcher holds them while the command runs); CanBlock(ctx).
  void Block(CommandContext& ctx, std::shared_ptr<Waiter> w);

  // Called when key `key` of db is created (it may now have what a waiter wants). Cheap when
  // nobody waits. REQUIRES: the key's shard locked.
  void KeyCreated(Txn& txn, int db, std::string_view key) override {
    if (blocked_.load(std::memory_order_relaxed) == 0) return;
    NoteReady(txn, db, key);
  }

  // After SWAPDB a and b: every waited key of either database may now hold what its waiters
  // want (the swap creates no key, so KeyCreated does not see it).
  void DbsSwapped(Txn& txn, int a, int b);
  // After FLUSHDB / FLUSHALL (db -1): every waited key of the flushed databases is ready, so a
  // blocked XREADGROUP learns its stream is gone.
  void DbFlushed(Txn& txn, int db) override;

  // Serves the keys a transaction made ready. Called by the dispatcher after the transaction
  // has released its locks. `stats` are the running thread's counters.
  void ServeReady(ServerContext& server, ThreadStats* stats,
                  std::vector<std::pair<int, std::string>> ready);

  // The waiter's own thread gives up on it (timeout, disconnect). Returns true when the waiter
  // is now done and removed (the caller replies the timeout, or nothing on disconnect); false
  // when a server holds it (its reply will be delivered).
  bool Cancel(const std::shared_ptr<Waiter>& w, bool disconnect);

  // CLIENT UNBLOCK: claims and removes the waiter of client `client_id` as Cancel does, and
  // returns it (the caller replies through its `deliver`); nullptr when that client is not
  // blocked or a server already holds it. Thread-safe.
  std::shared_ptr<Waiter> TakeClient(uint64_t client_id);

  // Every blocked client gets `error` and is unblocked, as Redis's disconnectAllBlockedClients
  // when a primary becomes a replica (what it waits for would come from its master's stream,
  // which it must not consume). Returns how many. Thread-safe.
  size_t UnblockAll(std::string_view error);

  size_t blocked_clients() const { return blocked_.load(std::memory_order_relaxed); }
  // Number of keys with waiters (for tests: nothing left behind).
  size_t WaitedKeys();

 private:
  struct KeyHash {
    size_t operator()(const std::pair<int, std::string>& k) const {
      return std::hash<std::string>()(k.second) ^ static_cast<size_t>(k.first);
    }
  };
  void NoteReady(Txn& txn, int db, std::string_view key);
  // Removes w from every key's queue. REQUIRES: mu_ held.
  void RemoveLocked(const Waiter* w);
  // Claims the first claimable waiter of (db, key), or nullptr.
  std::shared_ptr<Waiter> ClaimFirst(int db, const std::string& key);
  // After a serve callback could not serve w: back to kBlocked, unless it was cancelled.
  void Unclaim(const std::shared_ptr<Waiter>& w);

  std::mutex mu_;  // guards waiters_
  std::unordered_map<std::pair<int, std::string>, std::deque<std::shared_ptr<Waiter>>, KeyHash>
      waiters_;
  std::atomic<size_t> blocked_{0};
};

}  // namespace fdb
