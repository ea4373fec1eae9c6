// The embedded API: a ServerContext without sockets. The typed calls (Get, Set, Delete, ...)
// run the commands' own Ops (commands/op_status.h) under their key's shard lock, in a
// transaction committed exactly as the dispatcher commits a command's: no RESP is built or
// parsed, and no lock is taken but the key's shard. Execute() runs any command through the
// dispatcher, as a network client's, and parses its RESP2 reply.
//
// What the typed path does that the dispatcher would (and why it is short): refuse a write
// while the log cannot be written (MISCONF) and, over maxmemory, evict before a write that may
// grow memory (OOM when nothing can go); count the call in INFO commandstats; commit the
// transaction before the shard is unlocked; wait for the durability policy after. Arity,
// authentication, MULTI and subcommands do not apply to a typed call.
#include "fdb/db.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"
#include "commands/dispatcher.h"
#include "commands/generic_ops.h"
#include "commands/hash_ops.h"
#include "commands/list_ops.h"
#include "commands/server_context.h"
#include "commands/set_ops.h"
#include "commands/string_ops.h"
#include "commands/zset_ops.h"
#include "protocol/reply_builder.h"

namespace fdb {
namespace {

// A tiny RESP2 reply parser. The input is produced by our own ReplyBuilder in RESP2 mode, so
// anything it does not understand is a programmer error surfaced as Corruption rather than
// a crash. Nesting is bounded so a bad buffer cannot exhaust the stack.
constexpr int kMaxReplyDepth = 64;

class ReplyParser {
 public:
  explicit ReplyParser(std::string_view in) : in_(in) {}

  Status Parse(Reply* out, int depth = 0) {
    if (depth > kMaxReplyDepth) return Bad("nested too deeply");
    if (pos_ >= in_.size()) return Bad("truncated");
    char type = in_[pos_++];
    std::string_view line;
    if (!Line(&line)) return Bad("missing CRLF");
    switch (type) {
      case '+':
        out->type = Reply::Type::kStatus;
        out->str.assign(line);
        return Status::OK();
      case '-':
        out->type = Reply::Type::kError;
        out->str.assign(line);
        return Status::OK();
      case ':':
        out->type = Reply::Type::kInteger;
        return Int(line, &out->integer) ? Status::OK() : Bad("bad integer");
      case '$': {
        int64_t n;
        if (!Int(line, &n)) return Bad("bad bulk length");
        if (n < 0) {
          out->type = Reply::Type::kNull;
          return Status::OK();
        }
        size_t len = static_cast<size_t>(n);
        if (in_.size() - pos_ < len + 2 || in_.substr(pos_ + len, 2) != "\r\n") {
          return Bad("truncated bulk");
        }
        out->type = Reply::Type::kBulk;
        out->str.assign(in_.substr(pos_, len));
        pos_ += len + 2;
        return Status::OK();
      }
      case '*': {
        int64_t n;
        if (!Int(line, &n)) return Bad("bad array length");
        if (n < 0) {
          out->type = Reply::Type::kNull;
          return Status::OK();
        }
        // Every element takes at least 3 bytes, so a length beyond that is corrupt, not a
        // reason to allocate.
        if (static_cast<uint64_t>(n) > (in_.size() - pos_) / 3) return Bad("bad array length");
        out->type = Reply::Type::kArray;
        out->elements.resize(static_cast<size_t>(n));
        for (Reply& e : out->elements) {
          Status s = Parse(&e, depth + 1);
          if (!s.ok()) return s;
        }
        return Status::OK();
      }
      default:
        return Bad("unknown type byte");
    }
  }

  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  bool Line(std::string_view* line) {
    size_t end = in_.find("\r\n", pos_);
    if (end == std::string_view::npos) return false;
    *line = in_.substr(pos_, end - pos_);
    pos_ = end + 2;
    return true;
  }
  static bool Int(std::string_view s, int64_t* v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size();
  }
  static Status Bad(std::string_view what) {
    return Status::Corruption("embedded: unparsable reply: " + std::string(what));
  }

  std::string_view in_;
  size_t pos_ = 0;
};

Status ErrorStatus(const Reply& r) { return Status::InvalidArgument(r.str); }

Status UnexpectedReply(std::string_view cmd) {
  return Status::Corruption("embedded: unexpected reply type for " + std::string(cmd));
}

}  // namespace

// One calling thread's connection-equivalent: a dispatcher (not thread-safe: scratch vectors)
// and a client state (selected db, MULTI queue). Each has its own ThreadStats because the
// counters are updated with load+store by their single owner, which would lose counts if
// threads shared them.
struct Session {
  Session(ServerContext& ctx) : stats(ctx.NewThreadStats()), dispatcher(ctx, stats) {}
  ThreadStats* stats;
  Dispatcher dispatcher;
  ClientState client;
};

// The commands the typed calls run, for INFO commandstats.
struct TypedSpecs {
  const CommandSpec* get;
  const CommandSpec* set;
  const CommandSpec* del;
  const CommandSpec* exists;
  const CommandSpec* incrby;
  const CommandSpec* pexpire;
  const CommandSpec* pttl;
  const CommandSpec *hset, *hget, *hdel, *hlen, *hgetall;
  const CommandSpec *lpush, *rpush, *lpop, *rpop, *lrange, *llen;
  const CommandSpec *sadd, *srem, *sismember, *smembers, *scard;
  const CommandSpec *zadd, *zscore, *zrem, *zcard;
};

std::atomic<uint64_t> g_next_impl_id{1};

struct DB::Impl {
  std::unique_ptr<ServerContext> ctx;
  // Tells this DB's sessions from those of a DB destroyed before it at the same address.
  const uint64_t id = g_next_impl_id.fetch_add(1);
  TypedSpecs specs{};

  std::mutex sessions_mu;
  // Keyed by calling thread. A thread id reused by a new thread inherits the session of a
  // thread that has exited, which is harmless: that thread can no longer use it.
  std::map<std::thread::id, std::unique_ptr<Session>> sessions;  // guarded by sessions_mu

  std::mutex expire_mu;
  std::condition_variable expire_cv;
  bool stopping = false;  // guarded by expire_mu
  std::thread expirer;

  // The calling thread's session. The last one found is remembered per thread (with the DB's
  // id, never reused), so a typed call takes no lock to find it; sessions live until the DB is
  // destroyed.
  Session* SessionForThisThread() {
    struct Last {
      uint64_t id = 0;
      Session* session = nullptr;
    };
    thread_local Last last;
    if (last.id == id) return last.session;
    std::lock_guard<std::mutex> l(sessions_mu);
    auto& s = sessions[std::this_thread::get_id()];
    if (!s) {
      s = std::make_unique<Session>(*ctx);
      s->client.id = ctx->NextClientId();
      s->client.addr = "embedded";
      s->client.laddr = "embedded";
      s->client.created_ms = NowMs();
      ctx->clients().Add(&s->client);
    }
    last = {id, s.get()};
    return s.get();
  }

  // Runs op(OpArgs&, const KeyRef&) -> Status on one key as the command `spec`, as the
  // dispatcher runs a command: refusals first, then the Op and the commit under the key's
  // shard lock, then the wait for the durability policy. REQUIRES: op does not call the DB.
  template <class Op>
  Status OnKey(const CommandSpec* spec, std::string_view key, const Op& op) {
    Session* s = SessionForThisThread();
    Keyspace& ks = ctx->keyspace();
    StorageEngine* storage = ctx->storage();
    const bool write = (spec->flags & cmdflags::kWrite) != 0;
    CommandCounters& counters = s->stats->commands[spec->id];
    auto reject = [&](std::string text) {
      counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
      return Status::InvalidArgument(std::move(text));
    };
    if (ks.OverMaxmemory() && ks.EvictKeys() == Keyspace::EvictResult::kFail &&
        (spec->flags & cmdflags::kDenyOom)) {
      return reject(errors::kOom);
    }
    auto refusal = [&]() -> std::optional<Status> {
      if (!write || storage == nullptr) return std::nullopt;
      Status health = storage->Health();
      if (health.ok()) return std::nullopt;
      return reject(health.message() +
                    ". Commands that may modify the data set are disabled until the log can be "
                    "written again.");
    };
    if (auto r = refusal()) return *r;
    const int64_t start_us = MonoUs();
    KeyRef k(key);
    Txn txn;
    Status result;
    {
      std::lock_guard<AdaptiveMutex> lock(ks.shard(k.shard).mu);
      // Again under the lock, as the dispatcher does: a discard after a log failure takes every
      // shard lock, so a write that passes here is appended before the discard looks.
      if (auto r = refusal()) return *r;
      OpArgs args{ks, txn, s->client.db.load(std::memory_order_relaxed), NowMs(),
                  !s->client.no_touch.load(std::memory_order_relaxed)};
      try {
        result = op(args, k);
      } catch (...) {
        (void)ks.Commit(txn);  // what the Op changed is in memory: the log must say so too
        throw;
      }
      if (!ks.Commit(txn).ok() && storage != nullptr) {
        return Status::IOError(storage->Health().message() + ". The change may not be durable.");
      }
    }
    counters.calls.store(counters.calls.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    counters.usec.store(counters.usec.load(std::memory_order_relaxed) + (MonoUs() - start_us),
                        std::memory_order_relaxed);
    if (!result.ok()) {
      counters.failed.store(counters.failed.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
      return result;
    }
    // The call returns once the change is as durable as the policy says, as a network reply
    // is held (Connection, IoThread::AfterBatch).
    if (storage != nullptr && txn.sequence() > 0) return storage->WaitForPolicy(txn.sequence());
    return Status::OK();
  }

  void Dirty(uint64_t n = 1) { ctx->dirty.fetch_add(n, std::memory_order_relaxed); }

  // Runs op(OpArgs, key) -> OpResult<T> as `spec` (OnKey) and returns its value, an error
  // status as Redis's text; dirty(value) says how many changes count toward SAVE's dirty.
  template <class T, class Op, class DirtyCount>
  Result<T> RunOp(const CommandSpec* spec, std::string_view key, const Op& op,
                  const DirtyCount& dirty) {
    std::optional<T> out;
    Status s = OnKey(spec, key, [&](const OpArgs& args, const KeyRef& k) {
      auto r = op(args, k.key);
      if (!r.ok()) return Status::InvalidArgument(OpStatusText(r.status()));
      out.emplace(std::move(*r));
      return Status::OK();
    });
    if (!s.ok()) return s;
    if (uint64_t n = dirty(*out); n > 0) Dirty(n);
    return std::move(*out);
  }

  // Active expiry at limits::kActiveExpireHz, as the network server's cron does: keys that are
  // never read again still leave memory and disk. The same tick evicts values over the cache
  // budget: a command evicts only from its own shard and never a value it changed in place
  // (its delta is not in the log yet), so without the tick a collection changed by every
  // command would stay in RAM.
  void ExpireLoop() {
    const auto period = std::chrono::milliseconds(1000 / limits::kActiveExpireHz);
    std::unique_lock<std::mutex> l(expire_mu);
    while (!stopping) {
      expire_cv.wait_for(l, period, [this] { return stopping; });
      if (stopping) break;
      l.unlock();
      if (ctx->active_expire_enabled.load()) {
        ctx->keyspace().ActiveExpireCycle(NowMs(), limits::kActiveExpireKeysPerShard);
      }
      ctx->keyspace().HousekeepMemory();
      l.lock();
    }
  }

  Result<Reply> Run(const std::vector<std::string_view>& args) {
    if (args.empty()) return Status::InvalidArgument("embedded: empty command");
    Session* s = SessionForThisThread();
    std::string out;
    ReplyBuilder rb(&out);
    rb.set_resp3(false);  // the parser below speaks RESP2 only, whatever HELLO said
    ExecResult done = s->dispatcher.Execute(args, s->client, rb);
    // The reply may leave only once the command's records are as durable as the policy says,
    // exactly as a network reply is held (Connection, IoThread::AfterBatch).
    if (StorageEngine* st = ctx->storage(); st != nullptr && done.sequence > 0) {
      Status ws = st->WaitForPolicy(done.sequence);
      if (!ws.ok()) return ws;
    }
    Reply r;
    ReplyParser p(out);
    Status ps = p.Parse(&r);
    if (!ps.ok()) return ps;
    // MULTI-queued or pipelined forms never yield two replies for one call; guard anyway.
    if (!p.AtEnd()) return Status::Corruption("embedded: more than one reply to one command");
    return r;
  }

  // Runs a command for a typed method: an error reply becomes a Status.
  Result<Reply> RunTyped(const std::vector<std::string_view>& args) {
    Result<Reply> r = Run(args);
    if (!r.ok()) return r;
    if (r->type == Reply::Type::kError) return ErrorStatus(*r);
    return r;
  }
};

DB::DB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<DB>> DB::Open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = std::make_unique<ServerContext>();
  ServerContext& ctx = *impl->ctx;
  Config& cfg = ctx.config();
  const std::pair<const char*, std::string> settings[] = {
      {"dir", options.dir},
      {"appendfsync", options.fsync},
      {"maxmemory", std::to_string(options.maxmemory)},
      {"cache-size", std::to_string(options.cache_size)},
      {"compression", options.compression ? "yes" : "no"},
      {"appendonly", options.persistence ? "yes" : "no"},
  };
  for (const auto& [name, value] : settings) {
    Status s = cfg.Set(name, value, false);
    if (!s.ok()) return s;
  }
  ctx.ApplyConfig();
  if (options.persistence) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) {
      return Status::IOError("cannot create data directory '" + options.dir + "': " + ec.message());
    }
    Status s = ctx.OpenStorage();
    if (!s.ok()) return s;
  }
  // Again after recovery, as fdb-server does: the fsync policy is pushed into the engine.
  ctx.ApplyConfig();
  const CommandRegistry& reg = CommandRegistry::Default();
  impl->specs = {
      reg.Find("get"),       reg.Find("set"),      reg.Find("del"),   reg.Find("exists"),
      reg.Find("incrby"),    reg.Find("pexpire"),  reg.Find("pttl"),  reg.Find("hset"),
      reg.Find("hget"),      reg.Find("hdel"),     reg.Find("hlen"),  reg.Find("hgetall"),
      reg.Find("lpush"),     reg.Find("rpush"),    reg.Find("lpop"),  reg.Find("rpop"),
      reg.Find("lrange"),    reg.Find("llen"),     reg.Find("sadd"),  reg.Find("srem"),
      reg.Find("sismember"), reg.Find("smembers"), reg.Find("scard"), reg.Find("zadd"),
      reg.Find("zscore"),    reg.Find("zrem"),     reg.Find("zcard")};
  impl->expirer = std::thread([p = impl.get()] { p->ExpireLoop(); });
  return std::unique_ptr<DB>(new DB(std::move(impl)));
}

DB::~DB() {
  {
    std::lock_guard<std::mutex> l(impl_->expire_mu);
    impl_->stopping = true;
  }
  impl_->expire_cv.notify_all();
  impl_->expirer.join();
  ServerContext& ctx = *impl_->ctx;
  {
    std::lock_guard<std::mutex> l(impl_->sessions_mu);
    for (auto& [tid, s] : impl_->sessions) ctx.clients().Remove(&s->client);
    impl_->sessions.clear();
  }
  // A clean close checkpoints like SHUTDOWN (unless SHUTDOWN NOSAVE was executed), so the
  // next Open reads the index instead of replaying the log. A destructor cannot report, so a
  // failure goes to stderr as fdb-server's does; the log still holds every change.
  if (ctx.storage() != nullptr && ctx.shutdown_save.load()) {
    Status s = ctx.storage()->Save();
    if (!s.ok()) FDB_LOG_WARNING("checkpoint at close failed: %s", s.ToString().c_str());
  }
  ctx.CloseStorage();
}

Result<Reply> DB::Execute(const std::vector<std::string>& args) {
  std::vector<std::string_view> v(args.begin(), args.end());
  return impl_->Run(v);
}

namespace {
// An error status of an Op as the typed API reports it: Redis's text, kInvalidArgument.
Status OpError(OpStatus s) { return Status::InvalidArgument(OpStatusText(s)); }

Result<int64_t> AsInteger(Result<Reply> r, std::string_view cmd) {
  if (!r.ok()) return r.status();
  if (r->type != Reply::Type::kInteger) return UnexpectedReply(cmd);
  return r->integer;
}
}  // namespace

Result<bool> DB::Read(std::string_view key, void (*fn)(void* arg, std::string_view value),
                      void* arg) {
  bool found = false;
  Status s = impl_->OnKey(impl_->specs.get, key, [&](const OpArgs& op, const KeyRef& k) {
    IntText tmp;
    std::string_view v;
    OpStatus r = OpGet(op, k, &tmp, &v);
    if (r == OpStatus::kKeyNotFound) return Status::OK();
    if (r != OpStatus::kOk) return OpError(r);
    found = true;
    fn(arg, v);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return found;
}

Result<std::optional<std::string>> DB::Get(std::string_view key) {
  std::optional<std::string> value;
  Result<bool> r = Read(key, [&](std::string_view v) { value.emplace(v); });
  if (!r.ok()) return r.status();
  return value;
}

Status DB::Set(std::string_view key, std::string_view value, std::optional<int64_t> ttl_ms) {
  SetParams p;
  if (ttl_ms) {
    // As SET ... PX: a positive time, and now + ttl must not overflow.
    const int64_t now = NowMs();
    if (*ttl_ms <= 0 || *ttl_ms > INT64_MAX - now) {
      return Status::InvalidArgument("ERR invalid expire time in 'set' command");
    }
  }
  Status s = impl_->OnKey(impl_->specs.set, key, [&](const OpArgs& op, const KeyRef& k) {
    if (ttl_ms) p.deadline_ms = op.now_ms + *ttl_ms;
    (void)OpSet(op, k, value, p);
    return Status::OK();
  });
  if (s.ok()) impl_->Dirty();
  return s;
}

Result<bool> DB::Delete(std::string_view key) {
  int64_t n = 0;
  Status s = impl_->OnKey(impl_->specs.del, key, [&](const OpArgs& op, const KeyRef& k) {
    n = OpDel(op, std::span<const std::string_view>(&k.key, 1));
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (n > 0) impl_->Dirty();
  return n > 0;
}

Result<bool> DB::Exists(std::string_view key) {
  int64_t n = 0;
  Status s = impl_->OnKey(impl_->specs.exists, key, [&](const OpArgs& op, const KeyRef& k) {
    n = OpExists(op, std::span<const std::string_view>(&k.key, 1));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return n > 0;
}

Result<int64_t> DB::IncrBy(std::string_view key, int64_t delta) {
  int64_t value = 0;
  Status s = impl_->OnKey(impl_->specs.incrby, key, [&](const OpArgs& op, const KeyRef& k) {
    OpResult<int64_t> r = OpIncrBy(op, k, delta);
    if (!r.ok()) return OpError(r.status());
    value = *r;
    return Status::OK();
  });
  if (!s.ok()) return s;
  impl_->Dirty();
  return value;
}

Result<std::vector<std::string>> DB::Keys(std::string_view pattern) {
  Result<Reply> r = impl_->RunTyped({"KEYS", pattern});
  if (!r.ok()) return r.status();
  if (r->type != Reply::Type::kArray) return UnexpectedReply("KEYS");
  std::vector<std::string> keys;
  keys.reserve(r->elements.size());
  for (Reply& e : r->elements) {
    if (e.type != Reply::Type::kBulk) return UnexpectedReply("KEYS");
    keys.push_back(std::move(e.str));
  }
  return keys;
}

Result<int64_t> DB::DbSize() { return AsInteger(impl_->RunTyped({"DBSIZE"}), "DBSIZE"); }

Status DB::FlushDb() { return impl_->RunTyped({"FLUSHDB"}).status(); }

Result<bool> DB::Expire(std::string_view key, int64_t ttl_ms) {
  bool changed = false;
  Status s = impl_->OnKey(impl_->specs.pexpire, key, [&](const OpArgs& op, const KeyRef& k) {
    // As PEXPIRE: a negative time deletes the key; only overflow is an error.
    if (ttl_ms > INT64_MAX - op.now_ms) {
      return Status::InvalidArgument("ERR invalid expire time in 'pexpire' command");
    }
    changed = OpExpire(op, k.key, op.now_ms + ttl_ms, 0) == OpStatus::kOk;
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (changed) impl_->Dirty();
  return changed;
}

Result<int64_t> DB::TtlMs(std::string_view key) {
  int64_t ttl = 0;
  Status s = impl_->OnKey(impl_->specs.pttl, key, [&](const OpArgs& op, const KeyRef& k) {
    ttl = OpTtl(op, k.key, /*ms=*/true, /*absolute=*/false);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return ttl;
}

// ---- Collections: each runs its Op under the key's shard lock, as the command would ----

namespace {
// The typed calls that take a list of names refuse an empty one, as Redis's arity check does.
Status NeedArgs(std::span<const std::string_view> v, const char* cmd) {
  if (!v.empty()) return Status::OK();
  return Status::InvalidArgument(std::string("ERR wrong number of arguments for '") + cmd +
                                 "' command");
}
}  // namespace

namespace {
constexpr auto kReadOnly = [](const auto&) { return uint64_t{0}; };
constexpr auto kCount = [](int64_t n) { return static_cast<uint64_t>(n); };
constexpr auto kOne = [](const auto&) { return uint64_t{1}; };
}  // namespace

Result<bool> DB::HSet(std::string_view key, std::string_view field, std::string_view value) {
  const std::string_view fv[2] = {field, value};
  return impl_->RunOp<bool>(
      impl_->specs.hset, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<bool> {
        OpResult<int64_t> r = OpHSet(op, k, fv);
        if (!r.ok()) return r.status();
        return *r > 0;
      },
      kOne);
}

Result<std::optional<std::string>> DB::HGet(std::string_view key, std::string_view field) {
  return impl_->RunOp<std::optional<std::string>>(
      impl_->specs.hget, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<std::optional<std::string>> {
        auto r = OpHGet(op, k, field);
        if (!r.ok()) return r.status();
        if (!r->has_value()) return std::optional<std::string>();
        return std::optional<std::string>(std::string(**r));
      },
      kReadOnly);
}

Result<int64_t> DB::HDel(std::string_view key, std::span<const std::string_view> fields) {
  if (Status s = NeedArgs(fields, "hdel"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.hdel, key,
      [&](const OpArgs& op, std::string_view k) { return OpHDel(op, k, fields); }, kCount);
}

Result<int64_t> DB::HLen(std::string_view key) {
  return impl_->RunOp<int64_t>(
      impl_->specs.hlen, key, [&](const OpArgs& op, std::string_view k) { return OpHLen(op, k); },
      kReadOnly);
}

Result<std::vector<std::pair<std::string, std::string>>> DB::HGetAll(std::string_view key) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  return impl_->RunOp<Pairs>(
      impl_->specs.hgetall, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<Pairs> {
        auto h = OpFindHash(op, k);
        if (!h.ok()) return h.status();
        Pairs out;
        if (*h == nullptr) return out;
        out.reserve((*h)->Size());
        (*h)->ForEach([&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
        return out;
      },
      kReadOnly);
}

Result<int64_t> DB::LPush(std::string_view key, std::span<const std::string_view> values) {
  if (Status s = NeedArgs(values, "lpush"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.lpush, key,
      [&](const OpArgs& op, std::string_view k) { return OpPush(op, k, true, values); },
      [&](int64_t) { return static_cast<uint64_t>(values.size()); });
}

Result<int64_t> DB::RPush(std::string_view key, std::span<const std::string_view> values) {
  if (Status s = NeedArgs(values, "rpush"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.rpush, key,
      [&](const OpArgs& op, std::string_view k) { return OpPush(op, k, false, values); },
      [&](int64_t) { return static_cast<uint64_t>(values.size()); });
}

Result<std::optional<std::string>> DB::LPop(std::string_view key) {
  return impl_->RunOp<std::optional<std::string>>(
      impl_->specs.lpop, key,
      [&](const OpArgs& op, std::string_view k) { return OpPop(op, k, true); },
      [](const std::optional<std::string>& v) { return uint64_t{v.has_value()}; });
}

Result<std::optional<std::string>> DB::RPop(std::string_view key) {
  return impl_->RunOp<std::optional<std::string>>(
      impl_->specs.rpop, key,
      [&](const OpArgs& op, std::string_view k) { return OpPop(op, k, false); },
      [](const std::optional<std::string>& v) { return uint64_t{v.has_value()}; });
}

Result<std::vector<std::string>> DB::LRange(std::string_view key, int64_t start, int64_t stop) {
  using Elems = std::vector<std::string>;
  return impl_->RunOp<Elems>(
      impl_->specs.lrange, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<Elems> {
        auto r = OpLRange(op, k, start, stop);
        if (!r.ok()) return r.status();
        Elems out;
        out.reserve(r->n);
        if (r->n > 0) {
          r->list->ForRange(r->start, r->n, false, [&](const ListObject::Elem& el) {
            out.push_back(el.ToString());
            return true;
          });
        }
        return out;
      },
      kReadOnly);
}

Result<int64_t> DB::LLen(std::string_view key) {
  return impl_->RunOp<int64_t>(
      impl_->specs.llen, key, [&](const OpArgs& op, std::string_view k) { return OpLLen(op, k); },
      kReadOnly);
}

Result<int64_t> DB::SAdd(std::string_view key, std::span<const std::string_view> members) {
  if (Status s = NeedArgs(members, "sadd"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.sadd, key,
      [&](const OpArgs& op, std::string_view k) { return OpSAdd(op, k, members); }, kCount);
}

Result<int64_t> DB::SRem(std::string_view key, std::span<const std::string_view> members) {
  if (Status s = NeedArgs(members, "srem"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.srem, key,
      [&](const OpArgs& op, std::string_view k) { return OpSRem(op, k, members); }, kCount);
}

Result<bool> DB::SIsMember(std::string_view key, std::string_view member) {
  return impl_->RunOp<bool>(
      impl_->specs.sismember, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<bool> {
        auto set = OpFindSet(op, k);
        if (!set.ok()) return set.status();
        return *set != nullptr && (*set)->Contains(member);
      },
      kReadOnly);
}

Result<std::vector<std::string>> DB::SMembers(std::string_view key) {
  using Members = std::vector<std::string>;
  return impl_->RunOp<Members>(
      impl_->specs.smembers, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<Members> {
        auto set = OpFindSet(op, k);
        if (!set.ok()) return set.status();
        Members out;
        if (*set == nullptr) return out;
        out.reserve((*set)->Size());
        (*set)->ForEach([&](std::string_view m) { out.emplace_back(m); });
        return out;
      },
      kReadOnly);
}

Result<int64_t> DB::SCard(std::string_view key) {
  return impl_->RunOp<int64_t>(
      impl_->specs.scard, key, [&](const OpArgs& op, std::string_view k) { return OpSCard(op, k); },
      kReadOnly);
}

Result<bool> DB::ZAdd(std::string_view key, std::string_view member, double score) {
  if (std::isnan(score)) return Status::InvalidArgument("ERR value is not a valid float");
  return impl_->RunOp<bool>(
      impl_->specs.zadd, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<bool> {
        auto r = OpZAdd(op, k, ZAddOptions{}, std::span<const double>(&score, 1),
                        std::span<const std::string_view>(&member, 1));
        if (!r.ok()) return r.status();
        return r->added > 0;
      },
      kOne);
}

Result<std::optional<double>> DB::ZScore(std::string_view key, std::string_view member) {
  return impl_->RunOp<std::optional<double>>(
      impl_->specs.zscore, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<std::optional<double>> {
        auto z = OpFindZSet(op, k);
        if (!z.ok()) return z.status();
        if (*z == nullptr) return std::optional<double>();
        return (*z)->Score(member);
      },
      kReadOnly);
}

Result<int64_t> DB::ZRem(std::string_view key, std::span<const std::string_view> members) {
  if (Status s = NeedArgs(members, "zrem"); !s.ok()) return s;
  return impl_->RunOp<int64_t>(
      impl_->specs.zrem, key,
      [&](const OpArgs& op, std::string_view k) { return OpZRem(op, k, members); }, kCount);
}

Result<int64_t> DB::ZCard(std::string_view key) {
  return impl_->RunOp<int64_t>(
      impl_->specs.zcard, key,
      [&](const OpArgs& op, std::string_view k) -> OpResult<int64_t> {
        auto z = OpFindZSet(op, k);
        if (!z.ok()) return z.status();
        return static_cast<int64_t>(*z == nullptr ? 0 : (*z)->Size());
      },
      kReadOnly);
}

Status DB::Save() {
  // Without persistence there is nothing to checkpoint; SAVE would say so with an error the
  // caller did not cause, so succeed as Redis does with no RDB file configured.
  if (impl_->ctx->storage() == nullptr) return Status::OK();
  return impl_->RunTyped({"SAVE"}).status();
}

}  // namespace fdb
