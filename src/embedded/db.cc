// The embedded API: a ServerContext driven through the command dispatcher, replies parsed
// back from RESP2. See include/fdb/db.h for the contract.
//
// Why go through RESP instead of calling the Ops: the dispatcher is the one place that
// enforces arity, locks shards in order, batches a command's log records and counts stats; a
// second path around it would drift. Building and parsing a reply costs a copy of the value,
// which is small next to the shard lock and the log append of a write.
#include "fdb/db.h"

#include <charconv>
#include <chrono>
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
#include "commands/server_context.h"
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

struct DB::Impl {
  std::unique_ptr<ServerContext> ctx;

  std::mutex sessions_mu;
  // Keyed by calling thread. A thread id reused by a new thread inherits the session of a
  // thread that has exited, which is harmless: that thread can no longer use it.
  std::map<std::thread::id, std::unique_ptr<Session>> sessions;  // guarded by sessions_mu

  std::mutex expire_mu;
  std::condition_variable expire_cv;
  bool stopping = false;  // guarded by expire_mu
  std::thread expirer;

  Session* SessionForThisThread() {
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
    return s.get();
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
      if (ctx->keyspace().OverBudget()) ctx->keyspace().EvictUntilUnderBudget(1u << 20);
      ctx->keyspace().SampleUsedMemory();
      if (ctx->keyspace().OverMaxmemory()) (void)ctx->keyspace().EvictKeys();
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

Result<std::optional<std::string>> DB::Get(std::string_view key) {
  Result<Reply> r = impl_->RunTyped({"GET", key});
  if (!r.ok()) return r.status();
  if (r->type == Reply::Type::kNull) return std::optional<std::string>();
  if (r->type != Reply::Type::kBulk) return UnexpectedReply("GET");
  return std::optional<std::string>(std::move(r->str));
}

Status DB::Set(std::string_view key, std::string_view value, std::optional<int64_t> ttl_ms) {
  Result<Reply> r = ttl_ms ? impl_->RunTyped({"SET", key, value, "PX", std::to_string(*ttl_ms)})
                           : impl_->RunTyped({"SET", key, value});
  return r.status();
}

namespace {
Result<int64_t> AsInteger(Result<Reply> r, std::string_view cmd) {
  if (!r.ok()) return r.status();
  if (r->type != Reply::Type::kInteger) return UnexpectedReply(cmd);
  return r->integer;
}
Result<bool> AsBool(Result<Reply> r, std::string_view cmd) {
  Result<int64_t> n = AsInteger(std::move(r), cmd);
  if (!n.ok()) return n.status();
  return *n > 0;
}
}  // namespace

Result<bool> DB::Delete(std::string_view key) {
  return AsBool(impl_->RunTyped({"DEL", key}), "DEL");
}

Result<bool> DB::Exists(std::string_view key) {
  return AsBool(impl_->RunTyped({"EXISTS", key}), "EXISTS");
}

Result<int64_t> DB::IncrBy(std::string_view key, int64_t delta) {
  std::string d = std::to_string(delta);
  return AsInteger(impl_->RunTyped({"INCRBY", key, d}), "INCRBY");
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
  std::string t = std::to_string(ttl_ms);
  return AsBool(impl_->RunTyped({"PEXPIRE", key, t}), "PEXPIRE");
}

Result<int64_t> DB::TtlMs(std::string_view key) {
  return AsInteger(impl_->RunTyped({"PTTL", key}), "PTTL");
}

Status DB::Save() {
  // Without persistence there is nothing to checkpoint; SAVE would say so with an error the
  // caller did not cause, so succeed as Redis does with no RDB file configured.
  if (impl_->ctx->storage() == nullptr) return Status::OK();
  return impl_->RunTyped({"SAVE"}).status();
}

}  // namespace fdb
