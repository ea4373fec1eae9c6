#include "commands/dispatcher.h"

#include <cctype>

#include "base/clock.h"
#include "base/logging.h"
#include "commands/acl.h"
#include "commands/errors.h"
#include "commands/replication.h"
#include "commands/scripting.h"

namespace fdb {

bool EqualsUpper(std::string_view arg, std::string_view upper) {
  if (arg.size() != upper.size()) return false;
  for (size_t i = 0; i < arg.size(); i++) {
    if (std::toupper(static_cast<unsigned char>(arg[i])) != upper[i]) return false;
  }
  return true;
}

std::string UnknownCommandError(CmdArgs args) {
  // As Redis: the name cut at 128 bytes, then arguments quoted while the argument text is
  // under 128 bytes, each cut to what is left of those 128.
  std::string list;
  for (size_t i = 1; i < args.size() && list.size() < 128; i++) {
    size_t room = 128 - list.size();
    list += "'";
    list += args[i].substr(0, room);
    list += "' ";
  }
  return "ERR unknown command '" + std::string(args[0].substr(0, 128)) +
         "', with args beginning with: " + list;
}

std::string SubscribedContextError(std::string_view name) {
  return "ERR Can't execute '" + std::string(name) +
         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
         "context";
}

std::string WrongArityError(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

namespace {

// Whether a command of the client's MULTI queue has `flag` (`has`), or lacks it (`!has`).
bool QueuedFlag(const CommandRegistry& registry, const ClientState& client, uint32_t flag,
                bool has) {
  for (const auto& call : client.queued) {
    if (call.empty()) continue;
    const CommandSpec* spec = registry.Find(call[0]);
    if (spec != nullptr && spec->container() && call.size() >= 2) {
      if (const CommandSpec* sub = registry.FindSub(*spec, call[1])) spec = sub;
    }
    if (spec != nullptr && ((spec->flags & flag) != 0) == has) return true;
  }
  return false;
}

}  // namespace

void Dispatcher::RefuseExec(ClientState& client, ReplyBuilder& rb, std::string_view reason) {
  client.in_multi = false;
  client.multi_error = false;
  client.queued.clear();
  ReleaseLocks();
  ReleaseWatches(server_.keyspace(), client, /*all_shards_held=*/false);
  rb.Error("EXECABORT Transaction discarded because of: " + std::string(reason));
}

ExecResult Dispatcher::Execute(CmdArgs args, ClientState& client, ReplyBuilder& rb) {
  Txn txn;
  // The client runs on this thread: its pub/sub receiver is this thread's (see Txn::origin).
  txn.set_origin(client.pubsub_sink, client.id);
  txn.set_from_master(client.master);
  if (client.master && !client.master_replid.empty()) {
    txn.set_repl_position(client.master_replid, client.master_offset_after);
  }
  ExecuteCommand(args, client, rb, txn);
  // ASKING lets in the one command after it, or the transaction after it (commands/cluster.h).
  if (client.cluster_asking != 0 && !client.in_multi) client.cluster_asking--;
  ExecResult result{txn.sequence()};
  if (txn.repl_offset() != 0) client.repl_offset = txn.repl_offset();  // WAIT's target
  if (kept_shard_ >= 0 && kept_uses_ >= kMaxKeptCommands) ReleaseLocks();
  // The clients blocked on keys the command created are served after its locks are released,
  // each in a transaction of its own (their replies wait for their own records).
  if (!txn.ready_keys().empty()) {
    ReleaseLocks();
    server_.blocking().ServeReady(server_, stats_, std::move(txn.ready_keys()));
  }
  return result;
}

void Dispatcher::ExecuteCommand(CmdArgs args, ClientState& client, ReplyBuilder& rb, Txn& txn,
                                const CommandSpec* known) {
  const CommandSpec* spec = known != nullptr ? known : registry_.Find(args[0]);
  if (spec == nullptr) {
    if (client.in_multi) client.multi_error = true;
    rb.Error(UnknownCommandError(args));
    return;
  }
  int argc = static_cast<int>(args.size());
  if (known == nullptr && spec->container() && argc >= 2) {
    const CommandSpec* sub = registry_.FindSub(*spec, args[1]);
    if (sub == nullptr) {
      std::string upper_name = spec->name;
      for (char& c : upper_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      rb.Error("ERR unknown subcommand '" + std::string(args[1].substr(0, 128)) + "'. Try " +
               upper_name + " HELP.");
      if (client.in_multi) client.multi_error = true;
      return;
    }
    spec = sub;
  }
  CommandCounters& counters = stats_->commands[spec->id];
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(WrongArityError(spec->name));
    if (client.in_multi) client.multi_error = true;
    return;
  }
  // As Redis: after the arity check, before authentication. DEBUG SLEEP alone can stop an I/O
  // thread for an hour, so it is for the operator, not for every client.
  if ((spec->flags & cmdflags::kProtected) &&
      !ProtectedActionAllowed(server_.config().enable_debug_command(), client.local)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(errors::kDebugNotAllowed);
    if (client.in_multi) client.multi_error = true;
    return;
  }
  if (!(spec->flags & cmdflags::kNoAuth) && !client.authenticated.load(std::memory_order_relaxed)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(errors::kNoAuth);
    return;
  }
  // ACL: one atomic load for a user allowed everything (the default user out of the box).
  // AUTH and HELLO (no-auth commands) are never refused, as Redis.
  if (client.user != nullptr && !client.user->unrestricted.load(std::memory_order_relaxed) &&
      !(spec->flags & cmdflags::kNoAuth) && AclRefuses(*spec, args, client, rb, txn)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    if (client.in_multi) client.multi_error = true;
    return;
  }
  // Cluster mode (commands/cluster.h): a call with keys this node does not serve is redirected,
  // as Redis's, after the ACL check. Inside EXEC the whole block was routed before; a script's
  // calls are checked one by one (keys it did not declare must be local too).
  if (server_.cluster().enabled() && !client.master && (in_script_ || !txn.holds_all_shards()) &&
      ClusterRefuses(*spec, args, client, rb)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    return;
  }
  // A script running past busy-reply-threshold holds every shard: the others get BUSY. As
  // Redis's rejectCommand, a refused EXEC ends its transaction with EXECABORT and the refusal.
  if (!txn.holds_all_shards()) {
    const bool is_exec = client.in_multi && std::string_view(spec->name) == "exec";
    std::string busy;
    ReplyBuilder busy_rb(&busy);
    if (ScriptBusyRefuses(*spec, args, is_exec ? busy_rb : rb)) {
      if (is_exec) {
        // The watches stay registered until the client's next EXEC, DISCARD, UNWATCH or close:
        // releasing them here would wait for the shard locks the script holds (and on the
        // script's own thread, which serves this client while it polls, never get them).
        client.in_multi = false;
        client.multi_error = false;
        client.queued.clear();
        std::string_view text = busy;
        if (text.size() >= 3) text = text.substr(1, text.size() - 3);  // "-...\r\n"
        rb.Error("EXECABORT Transaction discarded because of: " + std::string(text));
        return;
      }
      if (client.in_multi) client.multi_error = true;
      return;
    }
  }
  client.last_cmd.store(spec->name, std::memory_order_relaxed);
  // Once a shutdown has begun (on any thread) nothing changes the data set: what the final
  // checkpoint and log hold is what clients were told. Inside EXEC (every shard held) the
  // transaction already began and is finished whole; EXEC itself is refused, since its queued
  // commands may write.
  if (server_.shutting_down() && !txn.holds_all_shards() &&
      ((spec->flags & cmdflags::kWrite) || std::string_view(spec->name) == "exec")) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    if (std::string_view(spec->name) == "exec") {
      client.in_multi = false;
      client.queued.clear();
      ReleaseLocks();
      ReleaseWatches(server_.keyspace(), client, false);
    }
    rb.Error(errors::kShuttingDown);
    return;
  }
  // A replica (commands/replication.h): while a full sync loads the data set, only what
  // Redis allows during loading runs; with the link down and replica-serve-stale-data no,
  // only what it allows on stale data; a read-only replica takes writes from its master only.
  if (!client.master && !txn.holds_all_shards() && server_.replication().is_replica() &&
      ReplicaRefuses(*spec, client, rb)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    if (client.in_multi) client.multi_error = true;
    return;
  }
  // maxmemory, as Redis's processCommand: over the budget, evict by the policy before the
  // command; when nothing could be evicted, refuse what would grow memory. Commands inside EXEC
  // are not checked again (EXEC was, as a whole).
  if (!txn.holds_all_shards() && !client.master && server_.keyspace().OverMaxmemory()) {
    ReleaseLocks();
    client.pushes_before_reply = true;
    bool out_of_memory =
        server_.keyspace().EvictKeys(client.pubsub_sink) == Keyspace::EvictResult::kFail;
    client.pushes_before_reply = false;
    std::string_view name = spec->name;
    bool is_exec = name == "exec" && client.in_multi;
    bool reject = (spec->flags & cmdflags::kDenyOom) != 0;
    // EXEC is refused when it would run a command that is; queueing is refused for anything
    // but EXEC, DISCARD, QUIT and RESET, since the queue itself takes memory without bound.
    if (is_exec) reject = QueuedDenyOom(client);
    if (client.in_multi && !is_exec && name != "discard" && name != "quit" && name != "reset") {
      reject = true;
    }
    if (out_of_memory && reject) {
      counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
      if (is_exec) return RefuseExec(client, rb, errors::kOom);
      if (client.in_multi) client.multi_error = true;
      rb.Error(errors::kOom);
      return;
    }
  }
  // min-replicas-to-write: FDB has no replicas, so while it is set writes are refused, as Redis
  // refuses them without enough good replicas; EXEC of a transaction that writes ends it.
  if (!txn.holds_all_shards() && server_.MinReplicasRefuseWrites()) {
    const bool is_exec = client.in_multi && std::string_view(spec->name) == "exec";
    if ((spec->flags & cmdflags::kWrite) ||
        (is_exec && QueuedFlag(registry_, client, cmdflags::kWrite, /*has=*/true))) {
      counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
      if (is_exec) return RefuseExec(client, rb, errors::kNoReplicas);
      if (client.in_multi) client.multi_error = true;
      rb.Error(errors::kNoReplicas);
      return;
    }
  }
  // RESP2 subscribed mode: a RESP2 client reads every reply as a message, so only the
  // commands whose replies look like one are allowed (Redis's check, after maxmemory's).
  // Inside EXEC the block was accepted as a whole.
  if (client.subscribed() && !client.resp3.load(std::memory_order_relaxed) &&
      !(spec->flags & cmdflags::kSubscribedOk) && !txn.holds_all_shards()) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    if (client.in_multi) client.multi_error = true;
    rb.Error(SubscribedContextError(spec->name));
    return;
  }
  // CLIENT PAUSE (commands/client_pause.h): a held command waits, unanswered, for the pause to
  // end; the connection runs it again then. Inside EXEC or a script nothing is held.
  // (No clock read unless a pause was set and not ended by UNPAUSE, or a failover holds.)
  if (!txn.holds_all_shards() && server_.client_pause().maybe_active() && client.unblock &&
      server_.client_pause().Holds(*spec, args, client, NowMs())) {
    ReleaseLocks();
    client.postponed = true;
    return;
  }
  if ((spec->flags & cmdflags::kTransaction) || client.in_multi) {
    ReleaseLocks();  // EXEC locks every shard
    // INFO commandstats counts MULTI, EXEC and DISCARD as Redis: EXEC fails only by its own
    // error (without MULTI, aborted), not by its commands'. Queued commands are not counted.
    const std::string_view name = spec->name;
    const bool own = name == "multi" || name == "exec" || name == "discard";
    const bool fails = ((name == "exec" || name == "discard") && !client.in_multi) ||
                       (name == "multi" && client.in_multi);
    const bool aborts = name == "exec" && client.in_multi && client.multi_error;
    const int64_t t0 = own ? MonoUs() : 0;
    if (HandleTransaction(*spec, args, client, rb, txn)) {
      if (own) {
        counters.calls.store(counters.calls.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
        counters.usec.store(counters.usec.load(std::memory_order_relaxed) + (MonoUs() - t0),
                            std::memory_order_relaxed);
        if (fails || aborts) {
          counters.failed.store(counters.failed.load(std::memory_order_relaxed) + 1,
                                std::memory_order_relaxed);
        }
      }
      return;
    }
  }

  StorageEngine* storage = server_.storage();
  // While the log cannot be written, nothing may change: refused before it runs, a write
  // certainly did not happen. Reads go on. Checked again below with the shards locked.
  auto refused = [&] {
    // Inside EXEC the transaction was checked once as a whole (Exec): refusing some of its
    // commands would apply the others alone.
    if (storage == nullptr || !(spec->flags & cmdflags::kWrite) || txn.holds_all_shards()) {
      return false;
    }
    Status health = storage->Health();
    if (health.ok()) return false;
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(health.message() +
             ". Commands that may modify the data set are disabled until the log can be "
             "written again.");
    return true;
  };
  if (refused()) return;
  // MONITOR: a script is told before the commands it runs, everything else once it ran.
  const bool monitored = server_.monitors().active() && !(spec->flags & cmdflags::kAdmin);
  const bool script_call = monitored && IsScriptCall(*spec);
  if (script_call) FeedMonitors(*spec, args, client, txn.origin());
  int64_t start_us = MonoUs();
  const uint64_t errors_before = rb.errors();
  // A write's reply is staged until its effects are committed (inside EXEC, the whole
  // transaction's reply is staged by Exec).
  const bool stage = (spec->flags & cmdflags::kWrite) && !txn.holds_all_shards();
  {
    ShardLockSet locks;
    if (spec->lock_all != nullptr && spec->lock_all(args)) {
      ReleaseLocks();
      locks.LockAll(server_.keyspace(), txn.holds_all_shards());
    } else if (!txn.holds_all_shards() && !(spec->flags & cmdflags::kSelfLocking) &&
               spec->first_key > 0) {
      CommandRegistry::KeyIndexes(*spec, args, &key_idx_);
      int one = -1;  // the single shard of every key, or -2 when there are several
      for (size_t i : key_idx_) {
        int sh = Keyspace::ShardOf(args[i]);
        one = one == -1 || one == sh ? sh : -2;
        locks.Add(sh);
      }
      if (keep_locks_ && one >= 0 && !(spec->flags & cmdflags::kBlocking)) {
        if (kept_shard_ != one) {
          ReleaseLocks();
          server_.keyspace().shard(one).mu.lock();
          kept_shard_ = one;
          kept_uses_ = 0;
        }
        kept_uses_++;
      } else {
        ReleaseLocks();
        locks.Lock(server_.keyspace());
      }
    } else {
      ReleaseLocks();
    }
    // Under the locks: a failure's discard takes every shard lock, so a write that passes this
    // check has its records appended before the discard looks at them (and is undone with
    // them), and one that starts after the failure is refused here. Without this a write could
    // run on a state a discard has just restored and need a discard of its own.
    if (refused()) return;
    const int64_t now_ms = txn.frozen_now_ms() != 0 ? txn.frozen_now_ms() : NowMs();
    CommandContext ctx(rb, server_, client, *spec, now_ms, txn);
    ctx.stats = stats_;
    txn.set_replicated_name(spec->replicated_name);
    if (spec->flags & cmdflags::kWrite) txn.set_local_write(true);
    if (stage) rb.BeginStaged(&staged_);
    const size_t effects_before = txn.effects().size();
    const size_t noted_before = txn.commands().size();
    try {
      spec->handler(args, ctx);
      // Unless the handler said what it propagates as (CommandContext::PropagateAs).
      if (spec->verbatim && txn.commands().size() == noted_before) {
        ctx.PropagateAs(effects_before, args);
      }
    } catch (...) {
      // An allocation failure unwinds the handler: what it changed is in the keyspace, so its
      // effects are committed (under its locks) before the connection is closed, and the log
      // holds what memory holds. Inside EXEC, Exec commits the whole transaction.
      if (stage) rb.DropStaged();
      if (!txn.holds_all_shards()) (void)server_.keyspace().Commit(txn);
      throw;
    }
    // The command's effects are committed as one, before its shards are unlocked: log order
    // is execution order, and a multi-key command is atomic on disk. Inside EXEC the whole
    // transaction commits at its end. A read's commit (a lazy expiry's delete) cannot change
    // what it replies.
    if (!txn.holds_all_shards()) {
      Status committed = server_.keyspace().Commit(txn);
      if (!committed.ok() && storage != nullptr && stage) {
        // Not logged, so not acknowledged: the error is the reply.
        rb.DropStaged();
        rb.Error(storage->Health().message() + ". The change may not be durable.");
      } else if (stage) {
        rb.CommitStaged();
      }
      // A large reply (GETDEL of a big value) is not kept around in the scratch buffer.
      if (staged_.capacity() > kMaxKeptStagedBytes) std::string().swap(staged_);
    }
  }
  int64_t dur = MonoUs() - start_us;

  counters.calls.store(counters.calls.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  counters.usec.store(counters.usec.load(std::memory_order_relaxed) + dur,
                      std::memory_order_relaxed);
  std::atomic<uint64_t>& bucket = counters.hist[LatencyBucket(dur)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (client.blocked != nullptr && !client.in_multi) {
    auto call = std::make_unique<ClientState::BlockedCall>();
    call->spec = spec;
    call->args.assign(args.begin(), args.end());
    call->duration_us = dur;
    client.blocked_call = std::move(call);
  } else {
    RecordSlow(*spec, args, client, dur);
  }
  if (monitored && !script_call) FeedMonitors(*spec, args, client, txn.origin());
  // Keep the lock only for a command that takes a while on average on this thread (waiting
  // for the lock included): a cheap command's lock is better released at once, so the other
  // threads' commands on the shard run in parallel with this thread's parsing and replies.
  if (kept_shard_ >= 0) {
    uint64_t calls = counters.calls.load(std::memory_order_relaxed);
    uint64_t usec = counters.usec.load(std::memory_order_relaxed);
    if (usec < kKeepLockMinUs * calls) ReleaseLocks();
  }
  if (rb.errors() != errors_before) {
    counters.failed.store(counters.failed.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  }
  // Client-side caching: a tracking client's read remembers its keys (commands/tracking.h).
  // Inside EXEC the effects so far are not committed yet: the read is noted in the
  // transaction, so that its commit does not invalidate a key for the client that read it
  // after writing it.
  if (client.tracking.on) {
    server_.tracking().AfterCommand(*spec, args, client, txn.holds_all_shards() ? &txn : nullptr);
  }
}

bool Dispatcher::ClusterRefuses(const CommandSpec& spec, CmdArgs args, ClientState& client,
                                ReplyBuilder& rb) {
  if (in_script_) {
    // The script holds every shard; a redirection means nothing to it, so the call fails
    // with Redis's error for a script that reaches keys of another node.
    std::string redirect;
    ReplyBuilder redirect_rb(&redirect);
    int slot = -1;
    if (server_.cluster().Refuses(
            spec, args, client, redirect_rb, &key_idx_, [] {},
            /*shards_held=*/true, &slot)) {
      rb.Error("ERR Script attempted to access a non local key in a cluster node script");
      return true;
    }
    if (script_slot_ == nullptr || slot < 0) return false;
    if (*script_slot_ < 0) *script_slot_ = slot;
    if (*script_slot_ == slot) return false;
    rb.Error("ERR Script attempted to access keys that do not hash to the same slot");
    return true;
  }
  if (!server_.cluster().Refuses(
          spec, args, client, rb, &key_idx_, [this] { ReleaseLocks(); },
          /*shards_held=*/false)) {
    return false;
  }
  // As Redis: a redirected EXEC discards its transaction; a queued command's fails it at EXEC.
  if (client.in_multi && std::string_view(spec.name) == "exec") {
    client.in_multi = false;
    client.multi_error = false;
    client.queued.clear();
    ReleaseLocks();
    ReleaseWatches(server_.keyspace(), client, /*all_shards_held=*/false);
  } else if (client.in_multi) {
    client.multi_error = true;
  }
  return true;
}

bool Dispatcher::ReplicaRefuses(const CommandSpec& spec, ClientState& client, ReplyBuilder& rb) {
  Replication& repl = server_.replication();
  if (repl.loading() && !(spec.flags & cmdflags::kLoading)) {
    rb.Error("LOADING Redis is loading the dataset in memory");
    return true;
  }
  // As Redis's rejectCommand: EXEC is judged by what it would run (the server may have become a
  // stale or read-only replica since the commands were queued), and a refused EXEC ends its
  // transaction with EXECABORT and the refusal.
  const bool is_exec = client.in_multi && std::string_view(spec.name) == "exec";
  auto refuse = [&](std::string_view text) {
    if (is_exec) {
      RefuseExec(client, rb, text);
    } else {
      rb.Error(text);
    }
    return true;
  };
  if (!repl.link_up() && server_.config().Number("replica-serve-stale-data") == 0 &&
      (!(spec.flags & cmdflags::kStale) ||
       (is_exec && QueuedFlag(registry_, client, cmdflags::kStale, /*has=*/false)))) {
    return refuse(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  }
  if (((spec.flags & cmdflags::kWrite) ||
       (is_exec && QueuedFlag(registry_, client, cmdflags::kWrite, /*has=*/true))) &&
      server_.config().Number("replica-read-only") != 0) {
    return refuse("READONLY You can't write against a read only replica.");
  }
  return false;
}

bool Dispatcher::AclRefuses(const CommandSpec& spec, CmdArgs args, ClientState& client,
                            ReplyBuilder& rb, const Txn& txn) {
  Acl& acl = server_.acl();
  AclVerdict v = acl.Check(*client.user, spec, args);
  if (v.denial == AclDenial::kNone) return false;
  client.last_cmd.store(spec.name, std::memory_order_relaxed);  // the log's client-info cmd=
  // Where it was refused, as Redis's ACL LOG context: a script's redis.call, a MULTI block
  // (queued or at EXEC), or a command of its own.
  const bool at_exec = txn.holds_all_shards() && !in_script_;
  const char* context = in_script_ ? "lua" : (client.in_multi || at_exec) ? "multi" : "toplevel";
  const char* reason = v.denial == AclDenial::kCommand ? "command"
                       : v.denial == AclDenial::kKey   ? "key"
                                                       : "channel";
  if (acl.Log(client, reason, context, v.object, client.user->name())) {
    FDB_LOG_NOTICE("ACL: user '%s' from %s denied %s '%s' (%s)", client.user->name().c_str(),
                   client.addr.c_str(), reason, v.object.substr(0, 128).c_str(), context);
  }
  if (in_script_) {
    rb.Error(std::string("ERR The user executing the script ") +
             (v.denial == AclDenial::kCommand ? "can't run this command or subcommand"
              : v.denial == AclDenial::kKey
                  ? "can't access at least one of the keys mentioned in the command arguments"
                  : "can't publish to the channel mentioned in the command"));
  } else if (at_exec) {
    rb.Error(std::string("NOPERM ACLs rules changed between the moment the transaction was "
                         "accumulated and the EXEC call. This command is no longer allowed for "
                         "the following reason: ") +
             (v.denial == AclDenial::kCommand ? "no permission to execute the command or subcommand"
              : v.denial == AclDenial::kKey
                  ? "no permission to touch the specified keys"
                  : "no permission to access one of the channels used as arguments"));
  } else {
    rb.Error(Acl::NoPermText(v));
  }
  return true;
}

void Dispatcher::RecordSlow(const CommandSpec& spec, CmdArgs args, ClientState& client,
                            int64_t dur_us) {
  const Config& config = server_.config();
  int64_t slower_than = config.slowlog_log_slower_than();
  if (slower_than >= 0 && dur_us >= slower_than) {
    server_.slowlog().Record(args, spec, dur_us, client,
                             static_cast<size_t>(config.slowlog_max_len()));
  }
  int64_t threshold_ms = config.latency_monitor_threshold();
  if (threshold_ms > 0 && dur_us / 1000 >= threshold_ms) {
    server_.latency().Add((spec.flags & cmdflags::kFast) ? "fast-command" : "command",
                          dur_us / 1000, NowMs() / 1000);
  }
}

void Dispatcher::RecordUnblocked(ClientState& client) {
  if (client.blocked_call == nullptr) return;
  std::unique_ptr<ClientState::BlockedCall> call = std::move(client.blocked_call);
  std::vector<std::string_view> args(call->args.begin(), call->args.end());
  RecordSlow(*call->spec, args, client, call->duration_us);
}

bool Dispatcher::IsScriptCall(const CommandSpec& spec) {
  std::string_view n = spec.name;
  return n == "eval" || n == "evalsha" || n == "eval_ro" || n == "evalsha_ro" || n == "fcall" ||
         n == "fcall_ro";
}

void Dispatcher::FeedMonitors(const CommandSpec& spec, CmdArgs args, const ClientState& client,
                              MessageSink* here) {
  // Lines go through the monitors' threads' inboxes, even to a monitor on this thread (a
  // script's commands, told from inside it, then keep their place before the commands that
  // follow it); to another thread by way of this thread's outbox (Monitors::Feed).
  server_.monitors().Feed(args, spec, client.db.load(std::memory_order_relaxed),
                          in_script_ ? std::string_view("lua") : std::string_view(client.addr),
                          here, server_.config().output_limit(Config::kNormal).hard);
}

bool Dispatcher::QueuedDenyOom(const ClientState& client) const {
  for (const auto& call : client.queued) {
    if (call.empty()) continue;
    const CommandSpec* spec = registry_.Find(call[0]);
    if (spec != nullptr && spec->container() && call.size() >= 2) {
      const CommandSpec* sub = registry_.FindSub(*spec, call[1]);
      if (sub != nullptr) spec = sub;
    }
    if (spec != nullptr && (spec->flags & cmdflags::kDenyOom)) return true;
  }
  return false;
}

bool Dispatcher::HandleTransaction(const CommandSpec& spec, CmdArgs args, ClientState& client,
                                   ReplyBuilder& rb, Txn& txn) {
  std::string_view name = spec.name;
  if (name == "multi") {
    if (client.in_multi) {
      rb.Error("ERR MULTI calls can not be nested");
    } else {
      client.in_multi = true;
      client.multi_error = false;
      client.queued.clear();
      rb.Ok();
      if (server_.monitors().active()) FeedMonitors(spec, args, client, txn.origin());
    }
    return true;
  }
  if (name == "exec") {
    Exec(client, rb, txn);
    // After the commands it ran, as Redis (whatever EXEC answered).
    if (server_.monitors().active()) FeedMonitors(spec, args, client, txn.origin());
    return true;
  }
  if (name == "discard") {
    if (!client.in_multi) {
      rb.Error("ERR DISCARD without MULTI");
      return true;
    }
    client.in_multi = false;
    client.queued.clear();
    ReleaseWatches(server_.keyspace(), client, txn.holds_all_shards());
    rb.Ok();
    if (server_.monitors().active()) FeedMonitors(spec, args, client, txn.origin());
    return true;
  }
  if (name == "watch" && client.in_multi) {
    rb.Error("ERR WATCH inside MULTI is not allowed");
    return true;
  }
  if (!client.in_multi || name == "quit" || name == "reset" || name == "watch") return false;
  if (spec.flags & cmdflags::kNoMulti) {
    // As Redis's processCommand: refused, and the transaction fails at EXEC.
    client.multi_error = true;
    rb.Error("ERR Command not allowed inside a transaction");
    return true;
  }
  // Inside MULTI: queue a copy of the call.
  client.queued.emplace_back(args.begin(), args.end());
  size_t bytes = sizeof(std::vector<std::string>);
  for (const std::string& a : client.queued.back()) bytes += sizeof(std::string) + a.capacity();
  client.queued_bytes.store(client.queued_bytes.load(std::memory_order_relaxed) + bytes,
                            std::memory_order_relaxed);
  rb.SimpleString("QUEUED");
  return true;
}

void Dispatcher::Exec(ClientState& client, ReplyBuilder& rb, Txn& txn) {
  if (!client.in_multi) {
    rb.Error("ERR EXEC without MULTI");
    return;
  }
  client.in_multi = false;
  std::vector<std::vector<std::string>> queued;
  queued.swap(client.queued);
  ShardLockSet all;
  all.LockAll(server_.keyspace(), txn.holds_all_shards());
  // Whatever happens next, the watches end with this EXEC.
  bool watched_changed = false;
  const int64_t now_ms = NowMs();
  for (const ClientState::WatchedKey& w : client.watched) {
    watched_changed = watched_changed || server_.keyspace().WatchedChanged(
                                             w.db, KeyRef(w.key), w.version, w.was_live, now_ms);
  }
  ReleaseWatches(server_.keyspace(), client, /*all_shards_held=*/true);
  if (client.multi_error) {
    client.multi_error = false;
    rb.Error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  StorageEngine* storage = server_.storage();
  if (storage != nullptr) {
    // As Redis, a transaction with a write is refused as a whole while writes are refused
    // (checked under every lock, so no discard can come between this and its commands).
    Status health = storage->Health();
    bool writes = false;
    for (const auto& call : queued) {
      const CommandSpec* spec = registry_.Find(call[0]);
      if (spec != nullptr && (spec->flags & cmdflags::kWrite)) writes = true;
    }
    if (writes && !health.ok()) {
      rb.Error("EXECABORT Transaction discarded because of: " + health.message());
      return;
    }
  }
  if (watched_changed) {
    rb.NullArray();
    return;
  }
  // Every shard is held: the queued commands see and leave one consistent state, and their
  // effects are committed as one batch, under every lock.
  txn.set_holds_all_shards(true);
  // The transaction's reply is staged until its effects are committed (see ExecuteCommand).
  rb.BeginStaged(&staged_);
  rb.ArrayHeader(queued.size());
  std::vector<std::string_view> argv;
  try {
    for (const auto& call : queued) {
      argv.assign(call.begin(), call.end());
      ExecuteCommand(argv, client, rb, txn);
    }
  } catch (...) {
    rb.DropStaged();
    txn.set_holds_all_shards(false);
    (void)server_.keyspace().Commit(txn);  // see ExecuteCommand: memory and log agree
    throw;
  }
  txn.set_holds_all_shards(false);
  if (!server_.keyspace().Commit(txn).ok() && storage != nullptr) {
    rb.DropStaged();
    rb.Error(storage->Health().message() + ". The transaction may not be durable.");
  } else {
    rb.CommitStaged();
  }
  if (staged_.capacity() > kMaxKeptStagedBytes) std::string().swap(staged_);
}

}  // namespace fdb
