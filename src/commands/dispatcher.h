// The dispatcher runs one parsed request: looks up the command, checks arity and
// authentication, locks the shards of its keys in ascending order, calls the handler and
// records statistics. It is the single place where those rules are enforced.
#pragma once

#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "commands/context.h"

namespace fdb {

// What running one request came to.
struct ExecResult {
  // The log sequence of the request's own records (0: it logged nothing): its reply may
  // leave only once this sequence is committed by the fsync policy. The records of blocked
  // clients it served afterwards are theirs, not counted here.
  uint64_t sequence = 0;
};

class Dispatcher {
 public:
  Dispatcher(ServerContext& server, ThreadStats* stats)
      : server_(server), stats_(stats), registry_(CommandRegistry::Default()) {}
  bool Serves(const ServerContext& server, const ThreadStats* stats) const {
    return &server_ == &server && stats_ == stats;
  }

  // Executes `args` (args[0] is the command name) for `client`, appending the reply to rb.
  // Then serves the clients blocked on keys the command created (commands/blocking.h), after
  // its locks are released; inside EXEC that waits for the end of the transaction.
  ExecResult Execute(CmdArgs args, ClientState& client, ReplyBuilder& rb);

  // Runs one command inside `txn`, which holds every shard (a script's redis.call): no lock
  // is taken and its effects join the transaction's, committed by its owner.
  // `spec`, when given, is args' command (subcommand resolved) as the caller looked it up.
  // REQUIRES: txn.holds_all_shards().
  // Cluster mode: a script that may not reach keys of several slots (a shebang or a function
  // without allow-cross-slot-keys, as Redis 7.0) keeps the slot of its keys here while it runs
  // (-1 until its first key); nullptr when any slot of this node will do.
  void set_script_slot(int* slot) { script_slot_ = slot; }
  void ExecuteInTransaction(CmdArgs args, ClientState& client, ReplyBuilder& rb, Txn& txn,
                            const CommandSpec* spec = nullptr) {
    in_script_ = true;  // MONITOR shows these as the script's ("lua")
    ExecuteCommand(args, client, rb, txn, spec);
    in_script_ = false;
  }

  // Lock keeping for pipelines. With it on, a command on a single shard that takes at least
  // kKeepLockMinUs on average leaves that shard locked when it ends, and the next command reuses
  // the lock if it needs the same one shard (at most kMaxKeptCommands in a row). Pipelined commands
  // on one hot key then take the lock once per batch instead of once per command: when two I/O
  // threads serve clients of the same key, every hand-over of the lock moves the key's cache lines
  // to the other core and often costs a futex sleep and wake-up, which for a ZADD on a large sorted
  // set cost about a fifth of its throughput. The caller MUST call ReleaseLocks at the end of each
  // batch, before it waits for anything (the I/O thread does so after parsing a read's commands).
  // Commands that need other shards, all shards, or none of the kept one release it first, as do
  // transactions and serving blocked clients. Off by default (the embedded engine and tests
  // run one command at a time).
  void set_keep_locks(bool on) { keep_locks_ = on; }
  // The kept lock outlives the call that took it, which clang's thread-safety analysis cannot
  // follow (nor can it here and in ExecuteCommand, which takes it).
  void ReleaseLocks() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (kept_shard_ >= 0) {
      server_.keyspace().shard(kept_shard_).mu.unlock();
      kept_shard_ = -1;
    }
  }
  static constexpr int kMaxKeptCommands = 32;
  // A command whose calls on this thread took less than this on average (µs, lock wait
  // included) does not keep its lock.
  static constexpr uint64_t kKeepLockMinUs = 1;

 private:
  // Runs one command in `txn` (a fresh one, or EXEC's, which holds every shard and commits
  // once at its end). `spec`: as ExecuteInTransaction's, or null to look args[0] up.
  void ExecuteCommand(CmdArgs args, ClientState& client, ReplyBuilder& rb, Txn& txn,
                      const CommandSpec* spec = nullptr)
      ABSL_NO_THREAD_SAFETY_ANALYSIS;  // the kept shard lock (see ReleaseLocks)
  // Refuses a client's EXEC before it runs (OOM, NOREPLICAS): the transaction ends, its
  // watches are released, and the reply is EXECABORT with `reason`.
  // REQUIRES: the transaction does not hold every shard.
  void RefuseExec(ClientState& client, ReplyBuilder& rb, std::string_view reason)
      ABSL_NO_THREAD_SAFETY_ANALYSIS;  // the kept shard lock (see ReleaseLocks)
  // MULTI / EXEC / DISCARD / WATCH / UNWATCH: the transaction state lives in the client, and
  // EXEC runs the queued commands with every shard locked, so the block is atomic.
  // Whether a queued MULTI command is flagged denyoom (EXEC is refused under OOM then).
  bool QueuedDenyOom(const ClientState& client) const;
  // MONITOR (commands/introspection.h): EVAL and friends are told before they run.
  static bool IsScriptCall(const CommandSpec& spec);
  // `here`: the thread the command runs on (Txn::origin: a script's commands and the script
  // share it), or nullptr.
  void FeedMonitors(const CommandSpec& spec, CmdArgs args, const ClientState& client,
                    MessageSink* here);
  // The ACL check of a restricted user: false when allowed; else the refusal is logged (ACL
  // LOG, server log) and replied.
  bool AclRefuses(const CommandSpec& spec, CmdArgs args, ClientState& client, ReplyBuilder& rb,
                  const Txn& txn);
  // Cluster mode's redirections (MOVED, ASK, CROSSSLOT, ...), replied; false when this node
  // runs the call.
  bool ClusterRefuses(const CommandSpec& spec, CmdArgs args, ClientState& client, ReplyBuilder& rb);
  // A replica's refusals (LOADING, MASTERDOWN, READONLY), replied; false when allowed.
  bool ReplicaRefuses(const CommandSpec& spec, ClientState& client, ReplyBuilder& rb);
  // The slow log and the latency monitor, for a command that ran `dur_us`.
  void RecordSlow(const CommandSpec& spec, CmdArgs args, ClientState& client, int64_t dur_us);

 public:
  // A client's blocked call (ClientState::blocked_call) got its reply or timed out: SLOWLOG and
  // the latency monitor see it now.
  void RecordUnblocked(ClientState& client);

 private:
  bool HandleTransaction(const CommandSpec& spec, CmdArgs args, ClientState& client,
                         ReplyBuilder& rb, Txn& txn);
  void Exec(ClientState& client, ReplyBuilder& rb, Txn& txn);

  ServerContext& server_;
  ThreadStats* stats_;
  const CommandRegistry& registry_;
  std::vector<size_t> key_idx_;  // scratch
  std::string staged_;           // a write's reply until its effects are committed
  static constexpr size_t kMaxKeptStagedBytes = 64 * 1024;
  bool keep_locks_ = false;
  bool in_script_ = false;      // running a script's redis.call (ExecuteInTransaction)
  int* script_slot_ = nullptr;  // set_script_slot
  int kept_shard_ = -1;         // the shard this dispatcher keeps locked, or -1
  int kept_uses_ = 0;           // commands run under the kept lock since it was taken
};

// Redis's text for an unknown command.
std::string UnknownCommandError(CmdArgs args);
std::string WrongArityError(std::string_view name);
// Redis 7.0's text for a command refused in RESP2 subscribed mode (`name`: e.g. "get",
// "config|get").
std::string SubscribedContextError(std::string_view name);

}  // namespace fdb
