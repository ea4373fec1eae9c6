// Replication commands: REPLICAOF / SLAVEOF, REPLCONF, PSYNC / SYNC, ROLE, WAIT, and FDB.APPLY,
// the effects of one transaction of a primary as its replica applies them
// (commands/replication.h).

#include "absl/container/inlined_vector.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/numbers.h"
#include "commands/blocking.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/registry.h"
#include "engine/effects.h"
#include "engine/storage_engine.h"

namespace fdb {

namespace {

using namespace cmdflags;
using storage::RecordType;

void CmdReplicaOf(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  if (repl.failover_in_progress()) {
    return ctx.rb.Error("ERR REPLICAOF not allowed while failing over.");
  }
  if (EqualsUpper(args[1], "NO") && EqualsUpper(args[2], "ONE")) {
    if (repl.is_replica()) {
      FDB_LOG_NOTICE("MASTER MODE enabled (user request from '%s')", ctx.client.addr.c_str());
    }
    repl.ReplicaOf("", 0);
    return ctx.rb.Ok();
  }
  int64_t port;
  if (!ParseInt64(args[2], &port) || port < 0 || port > 65535) {
    return ctx.rb.Error("ERR Invalid master port");
  }
  const std::string host(args[1]);
  const std::string target = host + " " + std::to_string(port);
  if (repl.is_replica() && ctx.server.config().replicaof() == target) {
    return ctx.rb.SimpleString("OK Already connected to specified master");
  }
  FDB_LOG_NOTICE("REPLICAOF %s:%d enabled (user request from '%s')", host.c_str(),
                 static_cast<int>(port), ctx.client.addr.c_str());
  repl.ReplicaOf(host, static_cast<int>(port));
  ctx.rb.Ok();
}

// REPLCONF <option> <value> ...: what a replica tells its master before PSYNC. ACK and GETACK
// on an ordinary connection get no reply (a replica's acknowledgements are read by the
// replication sender once the socket is handed over).
void CmdReplconf(CmdArgs args, CommandContext& ctx) {
  if (args.size() % 2 == 0) return ctx.rb.Error(errors::kSyntax);
  for (size_t i = 1; i < args.size(); i += 2) {
    std::string_view opt = args[i];
    std::string_view val = args[i + 1];
    if (EqualsUpper(opt, "LISTENING-PORT")) {
      int64_t port;
      if (!ParseInt64(val, &port) || port < 0 || port > 65535) {
        return ctx.rb.Error("ERR value is out of range");
      }
      ctx.client.repl_listening_port = static_cast<int>(port);
    } else if (EqualsUpper(opt, "IP-ADDRESS")) {
      ctx.client.repl_ip = std::string(val);
    } else if (EqualsUpper(opt, "CAPA")) {
      if (EqualsUpper(val, "FDB")) ctx.client.repl_capa_fdb = true;
    } else if (EqualsUpper(opt, "ACK") || EqualsUpper(opt, "GETACK") || EqualsUpper(opt, "FACK")) {
      return;  // no reply, as Redis
    } else if (EqualsUpper(opt, "RDB-ONLY") || EqualsUpper(opt, "RDB-FILTER-ONLY")) {
      // Accepted: FDB's full sync has no RDB to filter.
    } else {
      return ctx.rb.Error("ERR Unrecognized REPLCONF option: " + std::string(opt));
    }
  }
  ctx.rb.Ok();
}

// PSYNC <replid> <offset> / SYNC: the connection hands its socket to replication after this
// command (net/connection.cc); the reply (+FULLRESYNC or +CONTINUE) comes from there.
void CmdPsync(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  const bool psync = EqualsUpper(args[0], "PSYNC");
  // PSYNC <replid> <offset> FAILOVER: the master hands over to this replica (FAILOVER).
  if (psync && args.size() > 3 && EqualsUpper(args[3], "FAILOVER") &&
      !repl.TakeOver(args[1], ctx.client.addr)) {
    return ctx.rb.Error("ERR PSYNC FAILOVER replid must match my replid.");
  }
  if (repl.is_replica() && !repl.link_up()) {
    return ctx.rb.Error("NOMASTERLINK Can't SYNC while not connected with my master");
  }
  ctx.client.psync_requested = true;
  if (psync) {
    int64_t off = -1;
    if (!ParseInt64(args[2], &off)) {
      FDB_LOG_WARNING("Replica %s asks for synchronization but with a wrong offset",
                      ctx.client.addr.c_str());
      return ctx.rb.Error(errors::kNotInteger);
    }
    ctx.client.psync_replid = std::string(args[1]);
    ctx.client.psync_offset = off;
  } else {
    ctx.client.psync_replid.clear();
    ctx.client.psync_offset = -1;
  }
}

// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a coordinated hand-over of the
// primary role to a replica (Replication::StartFailover).
void CmdFailover(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  // In cluster mode fdb-controller decides who is primary (docs/cluster.md).
  if (ctx.server.cluster().enabled())
    return ctx.rb.Error("ERR FAILOVER not allowed in cluster mode.");
  if (args.size() == 2 && EqualsUpper(args[1], "ABORT")) {
    if (!repl.AbortFailover("Failover manually aborted")) {
      return ctx.rb.Error("ERR No failover in progress.");
    }
    return ctx.rb.Ok();
  }
  int64_t timeout_ms = 0;
  int64_t port = 0;
  std::string host;
  bool force = false;
  for (size_t j = 1; j < args.size(); j++) {
    if (EqualsUpper(args[j], "TIMEOUT") && j + 1 < args.size() && timeout_ms == 0) {
      if (!ParseInt64(args[j + 1], &timeout_ms)) return ctx.rb.Error(errors::kNotInteger);
      if (timeout_ms <= 0) return ctx.rb.Error("ERR FAILOVER timeout must be greater than 0");
      j++;
    } else if (EqualsUpper(args[j], "TO") && j + 2 < args.size() && host.empty()) {
      if (!ParseInt64(args[j + 2], &port)) return ctx.rb.Error(errors::kNotInteger);
      host = std::string(args[j + 1]);
      j += 2;
    } else if (EqualsUpper(args[j], "FORCE") && !force) {
      force = true;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  std::string err = repl.StartFailover(host, static_cast<int>(port), timeout_ms, force);
  if (!err.empty()) return ctx.rb.Error(err);
  ctx.rb.Ok();
}

void CmdRole(CmdArgs, CommandContext& ctx) { ctx.server.replication().ReplyRole(ctx.rb); }

void CmdWait(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  if (repl.is_replica()) {
    return ctx.rb.Error(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
        "if a replica is configured to be writable (which is not the default) writes to replicas "
        "are just local and are not propagated.");
  }
  int64_t numreplicas, timeout;
  if (!ParseInt64(args[1], &numreplicas)) return ctx.rb.Error(errors::kNotInteger);
  if (!ParseInt64(args[2], &timeout)) {
    return ctx.rb.Error("ERR timeout is not an integer or out of range");
  }
  if (timeout < 0) return ctx.rb.Error("ERR timeout is negative");
  const uint64_t target = ctx.client.repl_offset;
  const int64_t acked = repl.Acked(target);
  // Inside MULTI (every shard held) nothing may wait: the count as it is now, as Redis.
  if (acked >= numreplicas || ctx.txn.holds_all_shards()) return ctx.rb.Integer(acked);
  if (!CanBlock(ctx)) {
    // An in-process client has no connection to park: it waits here.
    return ctx.rb.Integer(repl.Wait(target, numreplicas, timeout));
  }
  // The client blocks as BLPOP's does (its I/O thread serves others meanwhile); the
  // acknowledgements that complete the count answer it, or its timeout the count then.
  auto w = NewWaiter(ctx, {}, timeout > 0 ? NowMs() + timeout : 0);
  w->on_timeout = [&repl, target](ReplyBuilder& rb) { rb.Integer(repl.Acked(target)); };
  ctx.server.blocking().Block(ctx, w);
  repl.AddWaiter(target, numreplicas, std::move(w));
}

// One item of an FDB.APPLY frame: a record of the primary's log (engine/effects.h), decoded
// once (its key picks the shard to lock before it is applied).
struct ApplyItem {
  RecordType type;
  std::string_view payload;  // kFlushDb, kSwapDb
  PutEffect put;             // kPut
  KeyEffect ke;              // kDelete, kExpire
  DeltaEffect d;             // kDelta
};

// Decodes one item; *key is empty for one that changes every shard.
Status DecodeApplyItem(RecordType type, std::string_view payload, ApplyItem* item,
                       std::string_view* key) {
  item->type = type;
  item->payload = payload;
  *key = {};
  switch (type) {
    case RecordType::kPut: {
      Status s = DecodePut(payload, &item->put);
      *key = item->put.key;
      return s;
    }
    case RecordType::kDelete: {
      Status s = DecodeDelete(payload, &item->ke);
      *key = item->ke.key;
      return s;
    }
    case RecordType::kExpire: {
      Status s = DecodeExpire(payload, &item->ke);
      *key = item->ke.key;
      return s;
    }
    case RecordType::kDelta: {
      Status s = DecodeDelta(payload, &item->d);
      *key = item->d.key;
      return s;
    }
    case RecordType::kFlushDb:
    case RecordType::kSwapDb:
      return Status::OK();
    default:
      return Status::Corruption("unknown record type " + std::to_string(static_cast<int>(type)));
  }
}

Status ApplyItemTo(CommandContext& ctx, const ApplyItem& item) {
  Keyspace& ks = ctx.ks;
  Txn& txn = ctx.txn;
  switch (item.type) {
    case RecordType::kPut: {
      const PutEffect& put = item.put;
      auto made = EntryFromImage(put.key, put.type, put.value);
      if (!made.ok()) return made.status();
      Entry* e = *made;
      e->set_expire_ms(put.expire_ms);
      ks.Put(txn, put.db, KeyRef(put.key), e);
      return Status::OK();
    }
    case RecordType::kDelete:
      // now 0: the key is deleted whatever its deadline (the master decided).
      ks.Delete(txn, item.ke.db, KeyRef(item.ke.key), 0);
      return Status::OK();
    case RecordType::kExpire: {
      KeyRef k(item.ke.key);
      Entry* e = ks.Find(txn, item.ke.db, k, 0, false);
      if (e != nullptr) ks.SetExpire(txn, item.ke.db, e, item.ke.expire_ms);
      return Status::OK();
    }
    case RecordType::kDelta: {
      const DeltaEffect& d = item.d;
      KeyRef k(d.key);
      Entry* e = ks.Find(txn, d.db, k, 0, false);
      if (d.type == ValueType::kString) {
        uint64_t offset;
        std::string_view bytes;
        if (!DecodeStringRange(d.change, &offset, &bytes)) {
          return Status::Corruption("bad string range delta");
        }
        if (e != nullptr && e->type() != ValueType::kString) {
          return Status::Corruption("string delta applied to a " +
                                    std::string(TypeName(e->type())));
        }
        ks.WriteRange(txn, d.db, k, e, offset, bytes);
        return Status::OK();
      }
      if (e == nullptr)
        e = ks.Create(txn, d.db, k, Entry::NewObject(d.key, NewEmptyObject(d.type)));
      if (e->type() != d.type || e->encoding() != Encoding::kObject) {
        return Status::Corruption("delta of a " + std::string(TypeName(d.type)) + " applied to a " +
                                  TypeName(e->type()));
      }
      Status s = e->object()->ApplyDelta(d.change);
      if (!s.ok()) return s;
      ks.Delta(txn, d.db, k, e, d.change);
      return Status::OK();
    }
    case RecordType::kFlushDb: {
      if (item.payload.size() != 1) return Status::Corruption("bad flush record");
      ks.FlushDb(txn, static_cast<int8_t>(item.payload[0]));
      return Status::OK();
    }
    case RecordType::kSwapDb: {
      if (item.payload.size() != 2) return Status::Corruption("bad swapdb record");
      ks.SwapDb(txn, static_cast<uint8_t>(item.payload[0]), static_cast<uint8_t>(item.payload[1]));
      return Status::OK();
    }
    default:
      return Status::Corruption("unknown record type " +
                                std::to_string(static_cast<int>(item.type)));
  }
}

// FDB.APPLY <items> [<command>]: what one transaction of the master changed, applied as one
// transaction here, atomic with its shards locked; INFO commandstats counts it under the
// command's name too (as Redis's replica counts the command its master propagated). Only the
// replica's link to its master may run it.
// FDB.APPLY <items> [<name>] is one transaction of the master (name: the command Redis would
// propagate, counted in commandstats as a Redis replica counts it). The link applies the
// frames it has read back to back as one call, FDB.APPLY <items> <name> <items> <name> ...
// (an empty name: none), so they take their shards' locks and go to the log as one
// transaction: a replica keeps up at a cost per batch, not per write, as Redis's replica
// applies a whole read of its master's stream before it writes or acknowledges.
void CmdFdbApply(CmdArgs args, CommandContext& ctx) {
  if (!ctx.client.master) {
    return ctx.rb.Error("ERR FDB.APPLY is run by a replica's link to its master only");
  }
  const int64_t t0 = MonoUs();
  // Counted first: a decoded put's value may point into the item's own storage, which must
  // not move once decoded.
  size_t count = 0;
  for (size_t f = 1; f < args.size(); f += 2) {
    for (std::string_view in = args[f]; !in.empty(); count++) {
      uint64_t len;
      in.remove_prefix(1);
      if (!GetVarint(&in, &len) || len > in.size()) {
        return ctx.rb.Error("ERR corrupt FDB.APPLY frame");
      }
      in.remove_prefix(len);
    }
  }
  absl::InlinedVector<ApplyItem, 2> items;
  items.reserve(count);
  ShardLockSet locks;
  bool every_shard = false;
  for (size_t f = 1; f < args.size(); f += 2) {
    std::string_view in = args[f];
    while (!in.empty()) {
      const auto type = static_cast<RecordType>(static_cast<uint8_t>(in[0]));
      in.remove_prefix(1);
      uint64_t len;
      if (!GetVarint(&in, &len) || len > in.size()) {
        return ctx.rb.Error("ERR corrupt FDB.APPLY frame");
      }
      std::string_view key;
      Status s = DecodeApplyItem(type, in.substr(0, len), &items.emplace_back(), &key);
      in.remove_prefix(len);
      if (!s.ok()) return ctx.rb.Error("ERR corrupt FDB.APPLY frame: " + s.message());
      if (type == RecordType::kFlushDb || type == RecordType::kSwapDb) {
        every_shard = true;
      } else {
        locks.Add(Keyspace::ShardOf(key));
      }
    }
  }
  Keyspace& ks = ctx.ks;
  if (every_shard) {
    locks.LockAll(ks);
    ctx.txn.set_holds_all_shards(true);
  } else {
    locks.Lock(ks);
  }
  Status failed;
  for (const ApplyItem& item : items) {
    Status s = ApplyItemTo(ctx, item);
    if (!s.ok() && failed.ok()) failed = s;
  }
  // Committed under the locks, as the dispatcher commits a command.
  Status committed = ks.Commit(ctx.txn);
  ctx.txn.set_holds_all_shards(false);
  ctx.Dirty(items.size());
  if (!failed.ok()) {
    FDB_LOG_WARNING("A change from the master could not be applied: %s", failed.message().c_str());
    return ctx.rb.Error("ERR " + failed.message());
  }
  if (!committed.ok()) return ctx.rb.Error("ERR " + committed.message());
  if (ctx.stats != nullptr && args.size() >= 3) {
    // The batch's time is shared among its frames. Frames of one batch mostly carry one name:
    // the last one found is looked up again only when the name changes.
    const int64_t usec = (MonoUs() - t0) / static_cast<int64_t>(args.size() / 2);
    std::string_view last_name;
    const CommandSpec* spec = nullptr;
    for (size_t f = 2; f < args.size(); f += 2) {
      if (args[f].empty()) continue;
      if (args[f] != last_name) {
        last_name = args[f];
        spec = CommandRegistry::Default().Find(last_name);
      }
      if (spec == nullptr) continue;
      CommandCounters& c = ctx.stats->commands[spec->id];
      c.calls.store(c.calls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      c.usec.store(c.usec.load(std::memory_order_relaxed) + usec, std::memory_order_relaxed);
    }
  }
  ctx.rb.Ok();
}

}  // namespace

void RegisterReplicationFamily(CommandRegistry& r) {
  r.Register({"replicaof", 3, kAdmin | kNoScript | kStale, 0, 0, 0, CmdReplicaOf, "server",
              "Configures a server as replica of another, or promotes it to a master.", "5.0.0"});
  r.Register({"slaveof", 3, kAdmin | kNoScript | kStale, 0, 0, 0, CmdReplicaOf, "server",
              "Sets a Redis server as a replica of another, or promotes it to being a master.",
              "1.0.0"});
  r.Register({"replconf", -1, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdReplconf,
              "server", "An internal command for configuring the replication stream.", "3.0.0"});
  r.Register({"psync", -3, kAdmin | kNoScript | kNoMulti, 0, 0, 0, CmdPsync, "server",
              "An internal command used in replication.", "2.8.0"});
  r.Register({"sync", 1, kAdmin | kNoScript | kNoMulti, 0, 0, 0, CmdPsync, "server",
              "An internal command used in replication.", "1.0.0"});
  r.Register({"failover", -1, kAdmin | kNoScript | kStale, 0, 0, 0, CmdFailover, "server",
              "Starts a coordinated failover from a server to one of its replicas.", "6.2.0"});
  r.Register({"role", 1, kNoScript | kLoading | kStale | kFast, 0, 0, 0, CmdRole, "server",
              "Returns the replication role.", "2.8.12"});
  r.Register({"wait", 3, kNoScript, 0, 0, 0, CmdWait, "generic",
              "Blocks until the asynchronous replication of all preceding write commands sent by "
              "the connection is completed.",
              "3.0.0"});
  r.Register({"fdb.apply", -2, kWrite | kAdmin | kNoScript | kSelfLocking | kLoading | kStale, 0, 0,
              0, CmdFdbApply, "server",
              "An internal command: a replica applies transactions of its master.", "0.1.0"});
}

}  // namespace fdb
