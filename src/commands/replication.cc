#include "commands/replication.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "absl/container/inlined_vector.h"
#include "base/clock.h"
#include "base/logging.h"
#include "commands/blocking.h"
#include "commands/dispatcher.h"
#include "commands/rdb_file.h"
#include "commands/rdb_load.h"
#include "commands/rdb_payload.h"
#include "commands/registry.h"
#include "commands/server_context.h"
#include "engine/effects.h"
#include "engine/str_table.h"  // VarintLength
#include "protocol/reply_builder.h"
#include "protocol/resp_parser.h"

namespace fdb {

namespace {

constexpr const char* kNoReplId = "0000000000000000000000000000000000000000";
// The sender dumps the next shard only once its replica's queue is below this, so a full
// sync holds about this much per replica beyond one shard's dump.
constexpr size_t kDumpQueueBytes = 4 << 20;
// A frame of the snapshot is cut after this many bytes of items.
constexpr size_t kDumpFrameBytes = 256 << 10;
constexpr int kPollMs = 100;

std::string RandomHex40() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ MonoUs());
  static const char* kHex = "0123456789abcdef";
  std::string out(40, '0');
  for (char& c : out) c = kHex[gen() & 15];
  return out;
}

void AppendBulk(std::string* out, std::string_view s) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

std::string Command(std::initializer_list<std::string_view> args) {
  return CommandResp(std::span<const std::string_view>(args.begin(), args.size()));
}

// `*2 $9 FDB.APPLY $n <items>`: one transaction's effects.
std::string ApplyFrame(std::string_view items) {
  std::string out;
  out.reserve(items.size() + 40);
  out.append("*2\r\n$9\r\nFDB.APPLY\r\n");
  AppendBulk(&out, items);
  return out;
}

void AppendPayload(const storage::Payload& p, std::string* out) {
  p.ForEachPiece([out](std::string_view piece) {
    out->append(piece);
    return true;
  });
}

// Writes all of `data` through t, fd's non-blocking transport, with a timeout; false on error.
bool WriteAll(Transport& t, int fd, std::string_view data, int timeout_ms) {
  while (!data.empty()) {
    ssize_t n = t.Write(data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd, static_cast<short>(t.WriteWantsRead() ? POLLIN : POLLOUT), 0};
      if (poll(&pfd, 1, timeout_ms) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Binds fd to `source` (bind-source-addr), any port, when it is an address of fd's family.
bool BindSource(int fd, int family, const std::string& source) {
  if (source.empty()) return true;
  if (family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, source.c_str(), &sa.sin_addr) != 1) return false;
    return bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  if (inet_pton(AF_INET6, source.c_str(), &sa.sin6_addr) != 1) return false;
  return bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
}

// Connects to host:port within timeout_ms, from `source` when not empty (bind-source-addr, as
// Redis's replica link); -1 on failure (non-blocking socket on success).
int ConnectTo(const std::string& host, int port, int timeout_ms, const std::string& source) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int r = BindSource(fd, ai->ai_family, source) ? connect(fd, ai->ai_addr, ai->ai_addrlen) : -1;
    if (r < 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      if (poll(&pfd, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          err == 0) {
        r = 0;
      }
    }
    if (r != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

}  // namespace

const char* ReplicatedName(const char* name) {
  if (name == nullptr) return nullptr;
  static const std::pair<std::string_view, const char*> kRenamed[] = {
      {"getset", "set"},        {"incrbyfloat", "set"},    {"brpoplpush", "rpoplpush"},
      {"blmove", "lmove"},      {"blpop", "lpop"},         {"brpop", "rpop"},
      {"blmpop", "lmpop"},      {"bzpopmin", "zpopmin"},   {"bzpopmax", "zpopmax"},
      {"bzmpop", "zmpop"},      {"getdel", "del"},         {"expire", "pexpireat"},
      {"pexpire", "pexpireat"}, {"expireat", "pexpireat"}, {"exec", nullptr},
      {"eval", nullptr},        {"evalsha", nullptr},      {"eval_ro", nullptr},
      {"evalsha_ro", nullptr},  {"fcall", nullptr},        {"fcall_ro", nullptr},
      {"fdb.apply", nullptr},
  };
  for (const auto& [from, to] : kRenamed) {
    if (from == name) return to;
  }
  return name;
}

bool PropagatedVerbatim(const char* name) {
  if (name == nullptr) return false;
  // Space-separated, with a space at each end (looked up once per command, on registration).
  static constexpr std::string_view kVerbatim =
      " "
      "append decr decrby del hdel hincrby hmset hset hsetnx incr incrby linsert lmove "
      "lpop lpush lpushx lrem lset ltrim mset msetnx persist pfadd pfmerge rename "
      "renamenx rpop rpoplpush rpush rpushx sadd sdiffstore setbit setnx setrange "
      "sinterstore smove srem sunionstore unlink zadd zdiffstore zincrby zinterstore "
      "zpopmax zpopmin zrangestore zrem zremrangebylex zremrangebyrank "
      "zremrangebyscore zunionstore ";
  return kVerbatim.find(" " + std::string(name) + " ") != std::string_view::npos;
}

std::string CommandResp(std::span<const std::string_view> args) {
  size_t size = 16;
  for (std::string_view a : args) size += a.size() + 16;
  std::string out;
  out.reserve(size);
  out.append("*").append(std::to_string(args.size())).append("\r\n");
  for (std::string_view a : args) AppendBulk(&out, a);
  return out;
}

// Set on I/O threads (Replication::DeferWakesOnThisThread); see FlushWakes.
thread_local bool tl_defer_wakes = false;
thread_local bool tl_wake_due = false;

struct ReplicaPeer {
  uint64_t id = 0;
  int fd = -1;
  std::unique_ptr<Transport> transport;  // fd's: plain, or the TLS session the replica began
  int wake_fd = -1;                      // eventfd: new bytes queued
  std::string ip;
  int port = 0;
  bool capa_fdb = false;
  // A Redis replica (no `capa fdb`): it gets an RDB file and Redis commands made from the
  // effects (Replication::Translate), not FDB.APPLY frames; its offsets are its own.
  bool redis = false;
  // Guarded by Replication::mu_.
  std::string rdb;         // a Redis replica's snapshot, sent when complete (its length first)
  std::string pending;     // its commands committed while its snapshot is made
  int stream_db = -1;      // the database its stream last SELECTed
  bool snapshot = false;   // in its full sync: its stream is filtered by `dumped`
  bool dump_done = false;  // every shard dumped; goes online at the next stream boundary
  std::string out;         // bytes to send
  // The sender's: the bytes it took from `out` and is writing (Drain). Once written it is
  // cleared and swapped with `out` at the next take, so the two buffers are reused in turn:
  // a buffer made and freed per write left the freed blocks cached by the sender thread's
  // allocator, memory that counted for maxmemory and was no one's.
  std::string chunk;
  // chunk's capacity, which is the replica's output as much as `out` (Replication::Memory).
  std::atomic<size_t> sending{0};
  // The sender is writing bytes it took from `out` (Replication::FlushPeers waits for both).
  std::atomic<bool> writing{false};
  const char* state = "wait_bgsave";
  // dumped[s]: shard s is in the snapshot. Written by the sender with shard s locked, read by
  // commits with shard s locked: the lock orders them (one byte per shard, no shared word).
  std::array<bool, limits::kNumShards> dumped{};
  std::atomic<uint64_t> ack{0};
  std::atomic<int64_t> ack_ms{0};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stop{false};
  std::string in;  // unparsed input (REPLCONF ACK)

  // Wakes the sender if it sleeps, or, on a thread that defers wake-ups, notes that one is due.
  void Wake() {
    if (!sleeping.load(std::memory_order_acquire)) return;
    if (tl_defer_wakes) {
      tl_wake_due = true;
      return;
    }
    WakeNow();
  }
  void WakeNow() {
    // One write per sleep: the first waker clears the flag the sender set.
    if (!sleeping.exchange(false, std::memory_order_acq_rel)) return;
    uint64_t one = 1;
    ssize_t r = write(wake_fd, &one, sizeof(one));
    (void)r;
  }
};

void Replication::DeferWakesOnThisThread() { tl_defer_wakes = true; }

void Replication::FlushWakes() {
  if (!tl_wake_due) return;
  tl_wake_due = false;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& p : peers_) p->WakeNow();
}

Replication::Replication(ServerContext& server) : server_(server) {
  replid_ = RandomHex40();
  replid2_ = kNoReplId;
  no_replicas_since_ms_ = NowMs();
}

Replication::~Replication() { Stop(); }

void Replication::Start() {
  std::string ro = server_.config().replicaof();
  std::string id;
  uint64_t off = 0;
  if (!ro.empty() && server_.storage() != nullptr && server_.storage()->ReplPosition(&id, &off) &&
      id.size() == 40) {
    // A replica restarted: it asks its master to continue from what its log holds.
    std::lock_guard<std::mutex> l(mu_);
    replid_ = id;
    offset_ = off;
    backlog_start_ = off;
    FDB_LOG_NOTICE("Replica position recovered: %s:%llu", id.c_str(),
                   static_cast<unsigned long long>(off));
  }
  if (!ro.empty()) {
    size_t sp = ro.find(' ');
    ReplicaOf(ro.substr(0, sp), std::atoi(ro.c_str() + sp + 1));
  }
  cron_ = std::thread([this] { CronMain(); });
}

void Replication::Stop() {
  if (stopping_.exchange(true)) return;
  { std::lock_guard<std::mutex> l(cron_mu_); }
  cron_cv_.notify_all();
  if (cron_.joinable()) cron_.join();
  StopLink(/*wait=*/true);
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& p : peers_) {
      p->stop.store(true);
      p->sleeping.store(true);
      p->WakeNow();
    }
  }
  ack_cv_.notify_all();
  // The senders hold their peers; wait until the last one is out.
  for (int i = 0; i < 500 && senders_.load() > 0; i++) usleep(10000);
}

void Replication::NewReplId() { replid_ = RandomHex40(); }

// ---------------------------------------------------------------------------------------------
// The stream.

void Replication::EnsureBacklogLocked() {
  if (backlog_on_) return;
  backlog_on_ = true;
  backlog_start_ = offset_;
  backlog_.clear();
  active_.store(true, std::memory_order_relaxed);
  server_.UpdateFollowers();
}

void Replication::TrimBacklogLocked() {
  const size_t cap =
      static_cast<size_t>(std::max<int64_t>(server_.config().repl_backlog_size(), 16384));
  if (backlog_.size() <= 2 * cap) return;
  const size_t drop = backlog_.size() - cap;
  backlog_.erase(0, drop);
  backlog_start_ += drop;
}

void Replication::AppendStreamLocked(std::string_view bytes) {
  if (!backlog_on_) return;
  backlog_.append(bytes);
  offset_ += bytes.size();
  TrimBacklogLocked();
  const int64_t hard = server_.config().output_limit(Config::kReplica).hard;
  for (auto& p : peers_) {
    if (p->snapshot || p->redis) continue;
    p->out.append(bytes);
    LimitQueueLocked(*p, hard);
    p->Wake();
  }
}

void Replication::LimitQueueLocked(ReplicaPeer& p, int64_t hard) {
  // client-output-buffer-limit replica's hard limit, as Redis: a replica that does not read
  // is dropped rather than let its queue grow without bound (it syncs again).
  if (hard <= 0 || static_cast<int64_t>(p.out.size()) <= hard || p.stop.load()) return;
  FDB_LOG_WARNING(
      "Replica %s:%d scheduled to be closed ASAP for overcoming of output buffer "
      "limits.",
      p.ip.c_str(), p.port);
  p.stop.store(true);
  p.sleeping.store(true);
}

void Replication::Capture(Effect& effect) {
  // With a log, its sink captured the record already (it runs first). Without one, the
  // effect's value is in RAM (nothing is on disk), so the record is made here.
  if (!effect.captured && server_.storage() == nullptr) (void)CaptureRecord(effect, 0);
}

Status Replication::Commit(Txn& txn) {
  if (!active()) return Status::OK();
  const bool replica = is_replica();
  // On a replica only its master's changes are passed on (and those as received, by the
  // link), as Redis does not propagate a writable replica's own writes.
  if (replica && !txn.from_master()) return Status::OK();
  if (replica) {
    // A replica renders only for its own replicas in a full sync (the link passes the rest on)
    // and for its Redis replicas (its master's changes as commands).
    std::lock_guard<std::mutex> l(mu_);
    for (const Effect& e : txn.effects()) {
      if (e.db >= 0) stream_db_ = e.db;
    }
    if (snapshot_peers_ == 0 && redis_peers_.load(std::memory_order_relaxed) == 0) {
      return Status::OK();
    }
  }
  // The frame `*2|3 $9 FDB.APPLY $<n> <items> [$<len> <name>]`, made before mu_ is taken
  // (every committing thread takes it) and in one allocation: the items' length is summed
  // first. Each item is remembered with its shard for the replicas in their snapshot.
  struct Span {
    size_t start, end;
    int shard;
  };
  absl::InlinedVector<Span, 4> spans;
  int last_db = -1;
  size_t items_size = 0;
  for (const Effect& e : txn.effects()) {
    if (!e.captured) continue;
    items_size += 1 + VarintLength(e.record.size()) + e.record.size();
    if (e.db >= 0) last_db = e.db;
  }
  if (items_size == 0) return Status::OK();
  const char* name = txn.replicated_name();
  const std::string items_len = std::to_string(items_size);
  std::string frame;
  frame.reserve(32 + items_len.size() + items_size + (name != nullptr ? 32 : 0));
  frame.append(name != nullptr ? "*3\r\n$9\r\nFDB.APPLY\r\n$" : "*2\r\n$9\r\nFDB.APPLY\r\n$");
  frame.append(items_len);
  frame.append("\r\n");
  for (const Effect& e : txn.effects()) {
    if (!e.captured) continue;
    const size_t start = frame.size();
    frame.push_back(static_cast<char>(RecordTypeOf(e.kind)));
    PutVarint(&frame, e.record.size());
    AppendPayload(e.record, &frame);
    spans.push_back({start, frame.size(), e.shard});
  }
  frame.append("\r\n");
  if (name != nullptr) AppendBulk(&frame, name);
  // A Redis replica that attaches after this check finds this commit's shards not yet in its
  // snapshot (their dump waits for the shard locks this commit holds), so it needs none of it.
  std::vector<RedisCommand> redis_cmds;
  if (redis_peers_.load(std::memory_order_relaxed) > 0) redis_cmds = Translate(txn);
  std::lock_guard<std::mutex> l(mu_);
  if (last_db >= 0) stream_db_ = last_db;
  if (!redis_cmds.empty()) QueueForRedisLocked(redis_cmds);
  if (!replica) {
    AppendStreamLocked(frame);
    txn.set_repl_offset(offset_);
  }
  if (snapshot_peers_ == 0) return Status::OK();
  for (auto& p : peers_) {
    if (!p->snapshot) continue;
    std::string kept;
    for (const Span& s : spans) {
      if (s.shard < 0 || p->dumped[s.shard]) kept.append(frame, s.start, s.end - s.start);
    }
    if (kept.empty()) continue;
    p->out.append(ApplyFrame(kept));
    LimitQueueLocked(*p, server_.config().output_limit(Config::kReplica).hard);
    p->Wake();
  }
  return Status::OK();
}

void Replication::Inject(const std::vector<std::string_view>& args) {
  std::string cmd = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) AppendBulk(&cmd, a);
  std::lock_guard<std::mutex> l(mu_);
  if (!backlog_on_ || replica_.load()) return;
  AppendStreamLocked(cmd);
}

void Replication::Propagate(int db, std::span<const std::string_view> args, bool from_master) {
  if (!active()) return;
  const bool replica = is_replica();
  if (replica && !from_master) return;
  std::string cmd = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) AppendBulk(&cmd, a);
  const int64_t hard = server_.config().output_limit(Config::kReplica).hard;
  std::lock_guard<std::mutex> l(mu_);
  if (!backlog_on_) return;
  if (!replica) AppendStreamLocked(cmd);
  for (auto& p : peers_) {
    if (p->redis) {
      // In a full sync it follows the snapshot, as Redis's replica gets what ran meanwhile.
      std::string& out = p->snapshot ? p->pending : p->out;
      if (db != p->stream_db) {
        out += Command({"SELECT", std::to_string(db)});
        p->stream_db = db;
      }
      out += cmd;
    } else if (p->snapshot && !replica) {
      p->out += cmd;  // AppendStreamLocked passes over a replica in its snapshot
    } else {
      continue;
    }
    if (!p->snapshot || !p->redis) {
      LimitQueueLocked(*p, hard);
      p->Wake();
    }
  }
}

// A transaction's effects as the Redis commands that make them: SET or RESTORE of the key's
// value as it is now (a delta's key is read here, under the commit's shard locks), DEL,
// PEXPIREAT / PERSIST, FLUSHDB / FLUSHALL, SWAPDB; in MULTI / EXEC when there are several, so a
// Redis replica applies them at once. Each Redis replica gets them after a SELECT when its
// stream is on another database; one in its snapshot only those of shards already dumped.
std::vector<Replication::RedisCommand> Replication::Translate(Txn& txn) {
  using Cmd = RedisCommand;
  std::vector<Cmd> cmds;
  Keyspace& ks = server_.keyspace();
  auto put_value = [&](int db, int shard, std::string_view key, const Entry* e) {
    const int64_t ms = e->has_expire() ? e->expire_ms() : 0;
    if (e->type() == ValueType::kString) {
      std::string scratch;
      std::string_view v = e->StringValue(&scratch);
      cmds.push_back({db, shard,
                      ms > 0 ? Command({"SET", key, v, "PXAT", std::to_string(ms)})
                             : Command({"SET", key, v})});
      return;
    }
    const std::string payload = DumpPayload(e);
    cmds.push_back(
        {db, shard,
         ms > 0 ? Command({"RESTORE", key, std::to_string(ms), payload, "REPLACE", "ABSTTL"})
                : Command({"RESTORE", key, "0", payload, "REPLACE"})});
  };
  // The commands Redis propagates as sent stand for their effects (Txn::NoteCommand): the
  // first captured effect the command made brings the command, the others nothing. An effect
  // the command did not cause (a lazy expiry's delete) still goes as itself, in its place; a
  // command whose effects span several shards or databases goes as its effects (a replica in
  // its full sync filters the stream by shard).
  const std::vector<Effect>& effects = txn.effects();
  const std::vector<Txn::SentCommand>& sent = txn.commands();
  std::vector<bool> whole(sent.size(), true);
  for (size_t k = 0; k < sent.size(); k++) {
    int shard = -1, db = -1;
    for (size_t i = sent[k].first; i < sent[k].end && i < effects.size(); i++) {
      const Effect& e = effects[i];
      if (!e.captured || e.cause != EffectCause::kCommand) continue;
      if ((shard >= 0 && e.shard != shard) || (db >= 0 && e.db != db) || e.db < 0) {
        whole[k] = false;
      }
      shard = e.shard;
      db = e.db;
    }
    if (shard < 0) whole[k] = false;
  }
  size_t k = 0;
  bool sent_k = false;
  for (size_t i = 0; i < effects.size(); i++) {
    const Effect& e = effects[i];
    if (!e.captured) continue;
    while (k < sent.size() && sent[k].end <= i) {
      k++;
      sent_k = false;
    }
    if (k < sent.size() && i >= sent[k].first && whole[k] && e.cause == EffectCause::kCommand) {
      if (!sent_k) cmds.push_back({e.db, e.shard, sent[k].resp});
      sent_k = true;
      continue;
    }
    std::string_view rec;
    std::string flat;
    e.record.ForEachPiece([&](std::string_view piece) {
      flat.append(piece);
      return true;
    });
    rec = flat;
    switch (RecordTypeOf(e.kind)) {
      case storage::RecordType::kPut: {
        PutEffect put;
        if (!DecodePut(rec, &put).ok()) break;
        auto made = EntryFromImage(put.key, put.type, put.value);
        if (!made.ok()) break;
        Entry* v = *made;
        v->set_expire_ms(put.expire_ms);
        put_value(put.db, e.shard, put.key, v);
        Entry::Free(v);
        break;
      }
      case storage::RecordType::kDelta: {
        DeltaEffect d;
        if (!DecodeDelta(rec, &d).ok()) break;
        Txn read;
        // Time 0: the value as it is, whatever its deadline (no expiry here).
        const Entry* v = ks.Find(read, d.db, KeyRef(d.key), 0, false);
        if (v != nullptr) {
          put_value(d.db, e.shard, d.key, v);
        } else {
          cmds.push_back({d.db, e.shard, Command({"DEL", d.key})});
        }
        break;
      }
      case storage::RecordType::kDelete: {
        KeyEffect ke;
        if (DecodeDelete(rec, &ke).ok()) cmds.push_back({ke.db, e.shard, Command({"DEL", ke.key})});
        break;
      }
      case storage::RecordType::kExpire: {
        KeyEffect ke;
        if (!DecodeExpire(rec, &ke).ok()) break;
        cmds.push_back({ke.db, e.shard,
                        ke.expire_ms > 0
                            ? Command({"PEXPIREAT", ke.key, std::to_string(ke.expire_ms)})
                            : Command({"PERSIST", ke.key})});
        break;
      }
      case storage::RecordType::kFlushDb: {
        if (rec.size() != 1) break;
        const int db = static_cast<int8_t>(rec[0]);
        cmds.push_back(db < 0 ? Cmd{-1, -1, Command({"FLUSHALL"})}
                              : Cmd{db, -1, Command({"FLUSHDB"})});
        break;
      }
      case storage::RecordType::kSwapDb: {
        if (rec.size() != 2) break;
        cmds.push_back({-1, -1,
                        Command({"SWAPDB", std::to_string(static_cast<uint8_t>(rec[0])),
                                 std::to_string(static_cast<uint8_t>(rec[1]))})});
        break;
      }
      default:
        break;
    }
  }
  return cmds;
}

void Replication::QueueForRedisLocked(const std::vector<RedisCommand>& cmds) {
  const int64_t hard = server_.config().output_limit(Config::kReplica).hard;
  for (auto& p : peers_) {
    if (!p->redis) continue;
    std::string& out = p->snapshot ? p->pending : p->out;
    // As Redis, a transaction's MULTI goes in its first command's database: that SELECT comes
    // before it.
    std::string head, block;
    size_t n = 0;
    for (const RedisCommand& c : cmds) {
      if (p->snapshot && (c.shard < 0 || !p->dumped[c.shard])) continue;
      // A command of every database (FLUSHALL, SWAPDB) first in the stream still gets a
      // SELECT before it, as Redis's stream always starts with one.
      const int db = c.db < 0 && p->stream_db < 0 ? std::max(stream_db_, 0) : c.db;
      if (db >= 0 && db != p->stream_db) {
        (n == 0 ? head : block) += Command({"SELECT", std::to_string(db)});
        p->stream_db = db;
      }
      block += c.bytes;
      n++;
    }
    if (n == 0) continue;
    out += head;
    if (n > 1) {
      out += Command({"MULTI"});
      out += block;
      out += Command({"EXEC"});
    } else {
      out += block;
    }
    if (!p->snapshot) {
      LimitQueueLocked(*p, hard);
      p->Wake();
    }
  }
}

Replication::MemoryUse Replication::Memory() {
  MemoryUse m;
  const uint64_t backlog_size =
      static_cast<uint64_t>(std::max<int64_t>(server_.config().repl_backlog_size(), 0));
  // A string within its inline capacity holds no memory of its own.
  auto heap = [](const std::string& b) -> uint64_t {
    return b.capacity() > std::string().capacity() ? b.capacity() : 0;
  };
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& p : peers_) {
    const uint64_t out =
        heap(p->out) + heap(p->pending) + heap(p->rdb) + p->sending.load(std::memory_order_relaxed);
    m.not_counted += out;
    // A replica CLIENT KILL or its output limit dropped is gone (its sender frees the
    // output within one poll).
    if (!p->stop.load(std::memory_order_relaxed)) m.replicas += out;
  }
  m.backlog = heap(backlog_);
  if (m.backlog > backlog_size) m.not_counted += m.backlog - backlog_size;
  return m;
}

uint64_t Replication::offset() {
  std::lock_guard<std::mutex> l(mu_);
  return offset_;
}

// ---------------------------------------------------------------------------------------------
// Primary side: the replicas.

void Replication::AttachReplica(int fd, std::unique_ptr<Transport> transport,
                                const ReplicaHello& hello, std::string unsent) {
  auto p = std::make_shared<ReplicaPeer>();
  p->fd = fd;
  p->transport = std::move(transport);
  p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  p->ip = hello.ip;
  p->port = hello.listening_port;
  p->capa_fdb = hello.capa_fdb;
  p->ack_ms.store(NowMs());
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  bool full = true;
  {
    std::lock_guard<std::mutex> l(mu_);
    p->id = ++next_peer_id_;
    p->out = std::move(unsent);
    EnsureBacklogLocked();
    // Partial resync: the replica's ID is ours (or our previous one up to where it was
    // valid) and the bytes after its offset are still in the backlog.
    if (hello.psync && hello.offset > 0 && p->capa_fdb) {
      const uint64_t want = static_cast<uint64_t>(hello.offset);  // the first byte it needs
      const bool same_history =
          hello.replid == replid_ ||
          (hello.replid == replid2_ && hello.offset <= second_offset_ && second_offset_ > 0);
      if (same_history && want >= backlog_start_ + 1 && want <= offset_ + 1) {
        full = false;
        p->out += "+CONTINUE " + replid_ + "\r\n";
        p->out.append(backlog_, want - 1 - backlog_start_, std::string::npos);
        p->state = "online";
        p->ack.store(want - 1);
      }
    }
    if (!full) {
      sync_partial_ok.fetch_add(1);
    } else if (hello.psync && hello.replid != "?") {
      sync_partial_err.fetch_add(1);
    }
    if (full) {
      if (!p->capa_fdb) {
        // A Redis replica: an RDB file, then Redis commands (SYNC: no +FULLRESYNC line).
        p->redis = true;
        if (hello.psync) p->out += "+FULLRESYNC " + replid_ + " 0\r\n";
        p->snapshot = true;
        p->state = "send_bulk";
        RdbWriter rdb(&p->rdb);
        // As Redis: the file names the database the stream is on, and the stream's first
        // command after it is a SELECT all the same (Redis forces one after every full sync).
        rdb.Aux("repl-stream-db", std::to_string(stream_db_));
        p->stream_db = -1;
        rdb.Aux("repl-id", replid_);
        rdb.Aux("repl-offset", "0");
        sync_full.fetch_add(1);
        snapshot_peers_++;
        redis_peers_++;
      } else {
        p->out += "+FULLRESYNC " + replid_ + " " + std::to_string(offset_) + "\r\n";
        p->snapshot = true;
        p->state = "send_bulk";
        sync_full.fetch_add(1);
        snapshot_peers_++;
      }
    }
    peers_.push_back(p);
  }
  if (full) {
    FDB_LOG_NOTICE("Replica %s:%d asks for synchronization: full sync", p->ip.c_str(), p->port);
  } else {
    FDB_LOG_NOTICE("Replica %s:%d: partial resynchronization accepted", p->ip.c_str(), p->port);
  }
  senders_.fetch_add(1);
  std::thread([this, p, full] { SenderMain(p, full); }).detach();
}

void Replication::DropPeer(ReplicaPeer& p, const char* why) {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 0; i < peers_.size(); i++) {
    if (peers_[i].get() != &p) continue;
    if (p.snapshot) snapshot_peers_--;
    if (p.redis) redis_peers_--;
    p.snapshot = false;
    peers_.erase(peers_.begin() + static_cast<long>(i));
    if (peers_.empty()) no_replicas_since_ms_ = NowMs();
    if (!stopping_.load()) {
      FDB_LOG_NOTICE("Connection with replica %s:%d lost (%s)", p.ip.c_str(), p.port, why);
    }
    break;
  }
  ack_cv_.notify_all();
}

bool Replication::ReadAcks(ReplicaPeer& p) {
  char buf[4096];
  for (;;) {
    ssize_t n = p.transport->Read(buf, sizeof(buf));
    if (n > 0) {
      p.in.append(buf, static_cast<size_t>(n));
      if (p.in.size() > (1 << 20)) return false;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;
  }
  RespParser parser;
  ParserLimits limits{1 << 20};
  size_t pos = 0;
  bool acked = false;
  while (pos < p.in.size()) {
    RespParser::Result r = parser.Parse(p.in.data() + pos, p.in.size() - pos, limits);
    if (r == RespParser::Result::kNeedMore) break;
    if (r == RespParser::Result::kError) return false;
    const char* base = p.in.data() + pos;
    std::vector<std::string_view> args;
    if (parser.inline_request()) {
      for (const std::string& a : parser.inline_args()) args.emplace_back(a);
    } else {
      for (size_t i = 0; i < parser.argc(); i++) args.push_back(parser.Arg(base, i));
    }
    if (args.size() >= 3 && EqualsUpper(args[0], "REPLCONF") && EqualsUpper(args[1], "ACK")) {
      uint64_t off = std::strtoull(std::string(args[2]).c_str(), nullptr, 10);
      if (off > p.ack.load()) p.ack.store(off);
      acked = !p.redis;  // a Redis replica's offsets count its own stream (not WAIT's)
    } else if (!args.empty() && !EqualsUpper(args[0], "REPLCONF")) {
      // A replica sends nothing else: as Redis, the reply would corrupt its stream, so it is
      // disconnected (and one that touches keys is told the keyspace is not its to use).
      const CommandRegistry& registry = CommandRegistry::Default();
      const CommandSpec* spec = registry.Find(args[0]);
      std::string name = spec != nullptr ? spec->name : std::string(args[0].substr(0, 64));
      if (spec != nullptr && spec->container() && args.size() >= 2) {
        if (const CommandSpec* sub = registry.FindSub(*spec, args[1])) {
          spec = sub;
          name = sub->name;
        }
      }
      if (spec != nullptr && spec->first_key > 0 && args.size() > 1) {
        FDB_LOG_WARNING(
            "== CRITICAL == This master is sending an error to its replica: 'Replica can't "
            "interact with the keyspace' after processing the command '%s'",
            name.c_str());
      }
      FDB_LOG_WARNING("Replica generated a reply to command '%s', disconnecting it: addr=%s:%d",
                      name.c_str(), p.ip.c_str(), p.port);
      return false;
    }
    pos += parser.consumed();
    parser.Reset();
  }
  p.in.erase(0, pos);
  p.ack_ms.store(NowMs());
  if (acked) {
    {
      std::lock_guard<std::mutex> l(mu_);
      ack_cv_.notify_all();
    }
    ServeWaits();
  }
  return true;
}

bool Replication::Drain(ReplicaPeer& p, size_t drain_to) {
  std::string& chunk = p.chunk;
  for (;;) {
    if (p.stop.load()) return false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (p.out.size() <= drain_to) return true;
      chunk.swap(p.out);  // `out` goes on in the buffer written out last time
      p.sending.store(chunk.capacity(), std::memory_order_relaxed);
      p.writing.store(true);
    }
    struct Written {
      ReplicaPeer& p;
      ~Written() { p.writing.store(false); }
    } written{p};
    std::string_view rest = chunk;
    while (!rest.empty()) {
      ssize_t n = p.transport->Write(rest.data(), rest.size());
      if (n > 0) {
        rest.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (p.stop.load()) return false;
        pollfd pfd{p.fd, POLLOUT | POLLIN, 0};
        if (poll(&pfd, 1, kPollMs) < 0 && errno != EINTR) return false;
        if ((pfd.revents & POLLIN) && !ReadAcks(p)) return false;
        if (pfd.revents & (POLLERR | POLLHUP)) return false;
        continue;
      }
      return false;
    }
    chunk.clear();
    if (chunk.capacity() > (8 << 20)) {
      std::string().swap(chunk);
      p.sending.store(0, std::memory_order_relaxed);
    }
  }
}

bool Replication::Dump(ReplicaPeer& p) {
  Keyspace& ks = server_.keyspace();
  StorageEngine* storage = server_.storage();
  std::string frames, items;
  auto cut = [&] {
    if (items.empty()) return;
    frames += ApplyFrame(items);
    items.clear();
  };
  for (int s = 0; s < limits::kNumShards; s++) {
    if (!Drain(p, kDumpQueueBytes)) return false;
    Shard& shard = ks.shard(s);
    {
      ShardGuard shard_lock(shard);
      for (int db = 0; db < limits::kNumDatabases; db++) {
        if (p.redis) {
          // A Redis replica's RDB: every shard's keys of a database under one selector.
          bool selected = false;
          shard.dbs[db].ForEach([&](Entry* e) {
            Entry* loaded = nullptr;
            if (e->on_disk()) {
              loaded = storage != nullptr ? storage->LoadValue(db, e) : nullptr;
              if (loaded == nullptr) return;  // the read error is logged; the key is left out
            }
            if (!selected) {
              RdbWriter(&items, RdbWriter::kContinue).SelectDb(db);
              selected = true;
            }
            const Entry* v = loaded != nullptr ? loaded : e;
            RdbWriter(&items, RdbWriter::kContinue)
                .Key(e->key(), v, e->has_expire() ? e->expire_ms() : 0);
            if (loaded != nullptr) Entry::Free(loaded);
          });
          continue;
        }
        shard.dbs[db].ForEach([&](Entry* e) {
          storage::Payload put;
          if (e->on_disk()) {
            Entry* loaded = storage != nullptr ? storage->LoadValue(db, e) : nullptr;
            if (loaded == nullptr) return;  // the read error is logged; the key is left out
            EncodePut(db, loaded, 0, &put);
            Entry::Free(loaded);
          } else {
            EncodePut(db, e, 0, &put);
          }
          items.push_back(static_cast<char>(storage::RecordType::kPut));
          PutVarint(&items, put.size());
          AppendPayload(put, &items);
          if (items.size() >= kDumpFrameBytes) cut();
        });
      }
      if (p.redis) {
        std::lock_guard<std::mutex> l(mu_);
        p.rdb.append(items);
        items.clear();
        p.dumped[s] = true;
        continue;
      }
      cut();
      std::lock_guard<std::mutex> l(mu_);
      p.out.append(frames);
      p.dumped[s] = true;
      if (!frames.empty()) p.Wake();
    }
    frames.clear();
  }
  std::lock_guard<std::mutex> l(mu_);
  p.dump_done = true;
  // A primary moves it online now: every later commit appends to the stream under mu_. A
  // replica's stream moves only between two frames of its master (FinishDumps).
  if (!is_replica()) FinishDumpsLocked();
  return true;
}

void Replication::FinishDumpsLocked() {
  for (auto& p : peers_) {
    if (!p->snapshot || !p->dump_done) continue;
    p->snapshot = false;
    snapshot_peers_--;
    p->state = "online";
    if (p->redis) {
      // The file whole, its length first, then what was committed while it was made.
      RdbWriter(&p->rdb, RdbWriter::kContinue).Finish();
      p->out += "$" + std::to_string(p->rdb.size()) + "\r\n";
      p->out += p->rdb;
      p->out += p->pending;
      std::string().swap(p->rdb);
      std::string().swap(p->pending);
      p->Wake();
      continue;
    }
    p->ack.store(offset_);
    p->out += Command({"FDB.SYNCED", std::to_string(offset_), replid_});
    p->Wake();
  }
}

void Replication::FinishDumps() {
  std::lock_guard<std::mutex> l(mu_);
  if (snapshot_peers_ > 0) FinishDumpsLocked();
}

void Replication::SenderMain(std::shared_ptr<ReplicaPeer> p, bool full) {
  bool ok = true;
  if (full && !p->stop.load()) ok = Dump(*p);
  if (ok && !p->stop.load()) {
    FDB_LOG_NOTICE("Synchronization with replica %s:%d succeeded", p->ip.c_str(), p->port);
  }
  while (ok) {
    ok = Drain(*p, 0);
    if (!ok) break;
    p->sleeping.store(true, std::memory_order_release);
    {
      // Re-check after announcing the sleep: a commit that queued before it saw no sleeper.
      std::lock_guard<std::mutex> l(mu_);
      if (!p->out.empty()) {
        p->sleeping.store(false);
        continue;
      }
    }
    pollfd pfds[2] = {{p->fd, POLLIN, 0}, {p->wake_fd, POLLIN, 0}};
    // Bytes TLS already decrypted raise no socket event.
    int r = poll(pfds, 2, p->transport->HasPending() ? 0 : kPollMs);
    if (p->transport->HasPending()) pfds[0].revents |= POLLIN;
    p->sleeping.store(false, std::memory_order_release);
    if (r < 0 && errno != EINTR) break;
    if (pfds[1].revents & POLLIN) {
      uint64_t v;
      ssize_t n = read(p->wake_fd, &v, sizeof(v));
      (void)n;
    }
    if ((pfds[0].revents & POLLIN) && !ReadAcks(*p)) break;
    if (pfds[0].revents & (POLLERR | POLLHUP)) break;
    // repl-timeout: a replica that has not acknowledged for that long is gone.
    const int64_t timeout_ms = server_.config().Number("repl-timeout") * 1000;
    if (timeout_ms > 0 && NowMs() - p->ack_ms.load() > timeout_ms) {
      DropPeer(*p, "timeout");
      ok = false;
      break;
    }
  }
  DropPeer(*p, "closed");
  p->transport->Shutdown();
  close(p->fd);
  close(p->wake_fd);
  senders_.fetch_sub(1);
}

int Replication::GoodReplicas(int64_t max_lag_s) {
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (auto& p : peers_) {
    if (!p->snapshot && now - p->ack_ms.load() <= max_lag_s * 1000) n++;
  }
  return n;
}

int64_t Replication::AckedLocked(uint64_t offset) {
  int64_t n = 0;
  for (auto& p : peers_) {
    if (!p->snapshot && !p->redis && p->ack.load() >= offset) n++;
  }
  return n;
}

int64_t Replication::Acked(uint64_t offset) {
  std::lock_guard<std::mutex> l(mu_);
  return AckedLocked(offset);
}

void Replication::AddWaiter(uint64_t offset, int64_t numreplicas, std::shared_ptr<Waiter> w) {
  {
    std::lock_guard<std::mutex> l(mu_);
    waits_.push_back({offset, numreplicas, std::move(w)});
    // Ask the replicas for their offsets now rather than at their next second.
    AppendStreamLocked(Command({"REPLCONF", "GETACK", "*"}));
  }
  ServeWaits();  // an acknowledgement may have come since the caller counted
}

void Replication::ServeWaits() {
  std::vector<std::pair<std::shared_ptr<Waiter>, int64_t>> done;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (waits_.empty()) return;
    for (size_t i = 0; i < waits_.size();) {
      WaitCall& c = waits_[i];
      const int64_t n = AckedLocked(c.offset);
      const bool over = c.waiter->state.load() == Waiter::kDone;  // timed out or gone
      if (over || n >= c.numreplicas) {
        if (!over) done.emplace_back(std::move(c.waiter), n);
        waits_[i] = std::move(waits_.back());
        waits_.pop_back();
        continue;
      }
      i++;
    }
  }
  // Answered outside mu_: the reply goes through the client's I/O thread.
  for (auto& [w, n] : done) {
    if (!server_.blocking().Cancel(w, /*disconnect=*/false)) continue;  // its timeout won
    std::string reply;
    ReplyBuilder rb(&reply);
    rb.set_resp3(w->client.resp3.load(std::memory_order_relaxed));
    rb.Integer(n);
    if (w->deliver) w->deliver(std::move(reply), 0);
  }
}

int64_t Replication::Wait(uint64_t offset, int64_t numreplicas, int64_t timeout_ms) {
  auto count = [&] {
    int64_t n = 0;
    for (auto& p : peers_) {
      if (!p->snapshot && !p->redis && p->ack.load() >= offset) n++;
    }
    return n;
  };
  std::unique_lock<std::mutex> l(mu_);
  int64_t n = count();
  if (n >= numreplicas) return n;
  // Ask the replicas for their offsets now rather than at their next second.
  AppendStreamLocked(Command({"REPLCONF", "GETACK", "*"}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!stopping_.load() && !server_.shutting_down()) {
    n = count();
    if (n >= numreplicas) break;
    if (timeout_ms > 0 && std::chrono::steady_clock::now() >= deadline) break;
    ack_cv_.wait_for(l, std::chrono::milliseconds(kPollMs));
  }
  return count();
}

void Replication::CronMain() {
  std::unique_lock<std::mutex> l(cron_mu_);
  while (!stopping_.load()) {
    cron_cv_.wait_for(l, std::chrono::milliseconds(kPollMs));
    if (stopping_.load()) break;
    UpdateFailover();
    const int64_t now = NowMs();
    const int64_t period_ms =
        std::max<int64_t>(server_.config().Number("repl-ping-replica-period"), 1) * 1000;
    if (!is_replica() && now - last_ping_ms_ >= period_ms) {
      last_ping_ms_ = now;
      std::lock_guard<std::mutex> ml(mu_);
      // As Redis: PING every period while replicas are attached, so they see the link alive.
      if (!peers_.empty()) {
        AppendStreamLocked(Command({"PING"}));
        for (auto& p : peers_) {
          if (p->redis && !p->snapshot) {
            p->out += Command({"PING"});
            p->Wake();
          }
        }
      }
    }
    FreeIdleBacklog(now);
  }
}

void Replication::FreeIdleBacklog(int64_t now) {
  // As Redis's replicationCron: a primary without replicas for repl-backlog-ttl seconds frees
  // its backlog and takes a new replication ID, so a replica coming back later syncs in full;
  // meanwhile commits render no frames. A replica keeps its backlog (it may be promoted).
  const int64_t ttl_s = server_.config().Number("repl-backlog-ttl");
  if (ttl_s <= 0 || is_replica()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!backlog_on_ || !peers_.empty() || now - no_replicas_since_ms_ <= ttl_s * 1000) return;
    if (failover_state_ != FailoverState::kNone) return;
    backlog_on_ = false;
    std::string().swap(backlog_);
    backlog_start_ = offset_;
    NewReplId();
    replid2_ = kNoReplId;
    second_offset_ = -1;
    active_.store(false, std::memory_order_relaxed);
  }
  server_.UpdateFollowers();
  FDB_LOG_NOTICE("Replication backlog freed after %lld seconds without connected replicas.",
                 static_cast<long long>(ttl_s));
}

// ---------------------------------------------------------------------------------------------
// Replica side: the link to the master.

void Replication::FlushPeers(int64_t timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    bool queued = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& p : peers_) {
        if (p->stop.load() || p->snapshot) continue;
        if (!p->out.empty() || p->writing.load()) {
          queued = true;
          p->WakeNow();
        }
      }
    }
    if (!queued || NowMs() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Replication::DisconnectPeersLocked() {
  for (auto& p : peers_) {
    p->stop.store(true);
    p->sleeping.store(true);
    p->WakeNow();
  }
}

int64_t Replication::KillReplicas() {
  std::lock_guard<std::mutex> l(mu_);
  const int64_t n = static_cast<int64_t>(peers_.size());
  DisconnectPeersLocked();
  return n;
}

std::string Replication::MasterAddr() {
  std::lock_guard<std::mutex> l(mu_);
  if (!replica_.load()) return {};
  return master_host_ + ":" + std::to_string(master_port_);
}

int64_t Replication::KillMasterLink() {
  int fd = link_fd_.load();
  if (fd < 0) return 0;
  shutdown(fd, SHUT_RDWR);
  return 1;
}

void Replication::StopLink(bool wait) {
  {
    std::lock_guard<std::mutex> l(mu_);
    link_generation_++;
  }
  int fd = link_fd_.load();
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
  // The link thread sees its generation is over at its next command or poll (within kPollMs)
  // and exits. REPLICAOF does not wait for it: inside EXEC (Sentinel's MULTI / REPLICAOF /
  // CONFIG REWRITE / EXEC) every shard is held, and the link may be waiting for one.
  while (wait && links_.load() > 0) usleep(1000);
}

void Replication::ReplicaOf(const std::string& host, int port) {
  std::lock_guard<std::mutex> ll(link_mu_);
  if (host.empty()) {
    UnsetMaster();
  } else {
    SetMaster(host, port);
  }
}

void Replication::UnsetMaster() {
  StopLink(/*wait=*/false);
  FlushPeers(kRoleChangeFlushMs);
  std::lock_guard<std::mutex> l(mu_);
  if (replica_.load()) {
    // PSYNC2: replicas of our old master may continue with us, up to where we were.
    replid2_ = replid_;
    second_offset_ = static_cast<int64_t>(offset_) + 1;
    NewReplId();
    FinishDumpsLocked();
    // As Redis: this server's own replicas sync again, and learn the new ID.
    DisconnectPeersLocked();
    // The old master's other replicas get repl-backlog-ttl to continue with this one.
    no_replicas_since_ms_ = NowMs();
    FDB_LOG_NOTICE("MASTER MODE enabled");
  }
  replica_.store(false);
  loading_.store(false);
  link_up_.store(false);
  link_state_ = LinkState::kNone;
  master_host_.clear();
  server_.keyspace().set_replica_mode(false);
  server_.config().set_replicaof("");
}

void Replication::SetMaster(const std::string& host, int port) {
  StopLink(/*wait=*/false);
  // As Redis: clients blocked on this server's keys are released; what they wait for would
  // now come from the master's stream, which they must not consume.
  server_.blocking().UnblockAll(
      "UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
      "replica?)");
  FlushPeers(kRoleChangeFlushMs);
  uint64_t gen;
  {
    std::lock_guard<std::mutex> l(mu_);
    master_host_ = host;
    master_port_ = port;
    link_state_ = LinkState::kConnect;
    link_down_since_ms_ = NowMs();
    gen = ++link_generation_;
    EnsureBacklogLocked();
    // As Redis: replicas of this server sync again, with its new master's history.
    DisconnectPeersLocked();
    replica_.store(true);
  }
  server_.keyspace().set_replica_mode(true);
  server_.config().set_replicaof(host + " " + std::to_string(port));
  FDB_LOG_NOTICE("Connecting to MASTER %s:%d", host.c_str(), port);
  links_.fetch_add(1);
  std::thread([this, host, port, gen] {
    LinkMain(host, port, gen);
    links_.fetch_sub(1);
  }).detach();
}

// ---------------------------------------------------------------------------------------------
// FAILOVER. The steps are Redis's: hold writes, wait for the target to acknowledge this
// primary's offset (asking with GETACK), become the target's replica, and send it PSYNC with
// FAILOVER, on which it promotes itself; its +CONTINUE ends the failover, an error aborts it
// (this server is a primary again). Lock order: link_mu_, then mu_.

std::string Replication::StartFailover(const std::string& host, int port, int64_t timeout_ms,
                                       bool force) {
  std::lock_guard<std::mutex> l(mu_);
  if (failover_state_ != FailoverState::kNone) return "ERR FAILOVER already in progress.";
  if (replica_.load()) return "ERR FAILOVER is not valid when server is a replica.";
  if (peers_.empty()) return "ERR FAILOVER requires connected replicas.";
  if (force && (timeout_ms == 0 || host.empty())) {
    return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
  }
  if (!host.empty()) {
    const ReplicaPeer* target = nullptr;
    for (auto& p : peers_) {
      if (p->ip == host && p->port == port) target = p.get();
    }
    if (target == nullptr) return "ERR FAILOVER target HOST and PORT is not a replica.";
    if (target->snapshot) return "ERR FAILOVER target replica is not online.";
    FDB_LOG_NOTICE("FAILOVER requested to %s:%d.", host.c_str(), port);
  } else {
    FDB_LOG_NOTICE("FAILOVER requested to any replica.");
  }
  failover_state_ = FailoverState::kWaitForSync;
  failover_host_ = host;
  failover_port_ = port;
  failover_end_ms_ = timeout_ms > 0 ? NowMs() + timeout_ms : 0;
  failover_force_ = force;
  failover_getack_at_ = UINT64_MAX;
  // Writes wait, and nothing expires, so the offset stands still for the target to reach.
  server_.client_pause().SetFailoverHold(true);
  server_.keyspace().PauseChanges(INT64_MAX);
  return {};
}

void Replication::ClearFailoverLocked() {
  failover_state_ = FailoverState::kNone;
  failover_host_.clear();
  failover_port_ = 0;
  failover_end_ms_ = 0;
  failover_force_ = false;
  server_.client_pause().SetFailoverHold(false);
  // Expiry resumes, unless a client's pause still lasts.
  server_.keyspace().PauseChanges(server_.client_pause().end_ms());
}

bool Replication::AbortFailover(const char* why) {
  std::lock_guard<std::mutex> ll(link_mu_);
  bool demoted;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failover_state_ == FailoverState::kNone) return false;
    if (failover_host_.empty()) {
      FDB_LOG_NOTICE("FAILOVER to any replica aborted: %s", why);
    } else {
      FDB_LOG_NOTICE("FAILOVER to %s:%d aborted: %s", failover_host_.c_str(), failover_port_, why);
    }
    demoted = failover_state_ == FailoverState::kInProgress;
  }
  if (demoted) UnsetMaster();
  std::lock_guard<std::mutex> l(mu_);
  ClearFailoverLocked();
  return true;
}

void Replication::UpdateFailover() {
  enum class Step { kWait, kAbort, kGo } step = Step::kWait;
  std::string host;
  int port = 0;
  {
    std::lock_guard<std::mutex> ll(link_mu_);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (failover_state_ != FailoverState::kWaitForSync) return;
      if (failover_end_ms_ != 0 && NowMs() >= failover_end_ms_) {
        if (failover_force_) {
          FDB_LOG_NOTICE("FAILOVER to %s:%d time out exceeded, failing over.",
                         failover_host_.c_str(), failover_port_);
          step = Step::kGo;
        } else {
          step = Step::kAbort;
        }
      } else {
        for (auto& p : peers_) {
          if (p->snapshot || p->redis || p->ack.load() != offset_) continue;
          if (!failover_host_.empty() && (p->ip != failover_host_ || p->port != failover_port_)) {
            continue;
          }
          failover_host_ = p->ip;
          failover_port_ = p->port;
          FDB_LOG_NOTICE("Failover target %s:%d is synced, failing over.", p->ip.c_str(), p->port);
          step = Step::kGo;
          break;
        }
        // Not yet: ask for acknowledgements now rather than at the replicas' next second.
        if (step == Step::kWait && failover_getack_at_ != offset_) {
          AppendStreamLocked(Command({"REPLCONF", "GETACK", "*"}));
          failover_getack_at_ = offset_;
        }
      }
      if (step == Step::kGo) {
        failover_state_ = FailoverState::kInProgress;
        host = failover_host_;
        port = failover_port_;
      }
    }
    if (step == Step::kGo) SetMaster(host, port);
  }
  if (step == Step::kAbort) AbortFailover("Replica never caught up before timeout");
}

bool Replication::TakeOver(std::string_view replid, const std::string& from) {
  std::lock_guard<std::mutex> ll(link_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (replid != replid_) return false;
  }
  FDB_LOG_NOTICE("MASTER MODE enabled (failover request from '%s')", from.c_str());
  UnsetMaster();
  return true;
}

namespace {

// A blocking-style reader over the link's non-blocking socket.
class LinkReader {
 public:
  LinkReader(Transport& t, int fd, std::function<bool()> stop)
      : t_(t), fd_(fd), stop_(std::move(stop)) {}
  // Reads more into buf (appending); false on EOF, error or stop. Waits up to kPollMs.
  bool Fill(std::string* buf, bool* got) {
    *got = false;
    if (!t_.HasPending()) {  // bytes TLS already decrypted raise no socket event
      pollfd pfd{fd_, static_cast<short>(t_.ReadWantsWrite() ? POLLOUT : POLLIN), 0};
      int r = poll(&pfd, 1, kPollMs);
      if (stop_()) return false;
      if (r == 0) return true;
      if (r < 0) return errno == EINTR;
    } else if (stop_()) {
      return false;
    }
    char tmp[64 * 1024];
    ssize_t n = t_.Read(tmp, sizeof(tmp));
    if (n > 0) {
      buf->append(tmp, static_cast<size_t>(n));
      *got = true;
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    return false;
  }
  // One CRLF-terminated line (without it), within timeout_ms; false on failure.
  bool Line(std::string* buf, std::string* line, int timeout_ms) {
    const int64_t end = NowMs() + timeout_ms;
    for (;;) {
      size_t nl = buf->find("\r\n");
      if (nl != std::string::npos) {
        *line = buf->substr(0, nl);
        buf->erase(0, nl + 2);
        return true;
      }
      if (NowMs() > end) return false;
      bool got;
      if (!Fill(buf, &got)) return false;
    }
  }

 private:
  Transport& t_;
  int fd_;
  std::function<bool()> stop_;
};

}  // namespace

void Replication::LinkMain(std::string host, int port, uint64_t generation) {
  auto stale = [this, generation] {
    return link_generation_.load(std::memory_order_acquire) != generation || stopping_.load();
  };
  auto set_state = [this, generation](LinkState s) {
    std::lock_guard<std::mutex> l(mu_);
    if (link_generation_ == generation) link_state_ = s;
  };
  ThreadStats* stats = server_.NewThreadStats();
  Dispatcher dispatcher(server_, stats);
  ClientState master;
  master.id = server_.NextClientId();
  master.master = true;
  master.addr = host + ":" + std::to_string(port);
  master.created_ms = NowMs();
  std::string reply;
  ReplyBuilder rb(&reply);

  while (!stale()) {
    set_state(LinkState::kConnecting);
    const int timeout_ms =
        static_cast<int>(std::max<int64_t>(server_.config().Number("repl-timeout"), 1) * 1000);
    int fd = ConnectTo(host, port, std::min(timeout_ms, 5000),
                       server_.config().String("bind-source-addr"));
    if (fd < 0 && failover_in_progress()) {
      AbortFailover("Failover target is not reachable");
      break;
    }
    if (fd < 0) {
      FDB_LOG_WARNING("Error condition on socket for SYNC: Connection refused (%s:%d)",
                      host.c_str(), port);
      for (int i = 0; i < 10 && !stale(); i++) usleep(100000);
      continue;
    }
    // tls-replication: the link is a TLS client of the master's TLS port, its certificate
    // checked against the CA; the handshake runs within the first write.
    std::unique_ptr<Transport> transport;
    if (server_.config().Number("tls-replication") == 0) {
      transport = NewPlainTransport(fd);
    } else if (server_.new_tls_client) {
      transport = server_.new_tls_client(fd);
    }
    if (transport == nullptr) {
      FDB_LOG_WARNING("Error condition on socket for SYNC: TLS is not configured (%s:%d)",
                      host.c_str(), port);
      close(fd);
      for (int i = 0; i < 10 && !stale(); i++) usleep(100000);
      continue;
    }
    link_fd_.store(fd);
    LinkReader reader(*transport, fd, stale);
    std::string buf, line;
    bool ok = true;
    auto ask = [&](const std::string& cmd, const char* what) {
      if (!WriteAll(*transport, fd, cmd, timeout_ms) || !reader.Line(&buf, &line, timeout_ms)) {
        ok = false;
        return;
      }
      if (!line.empty() && line[0] == '-') {
        if (std::string_view(what) == "AUTH") {
          FDB_LOG_WARNING("Unable to AUTH to MASTER: %s", line.c_str());  // Redis's text
        } else {
          FDB_LOG_WARNING("Master replied to %s: %s", what, line.c_str() + 1);
        }
        ok = false;
      }
    };
    set_state(LinkState::kHandshake);
    const std::string auth = server_.config().String("masterauth");
    if (!auth.empty()) {
      const std::string user = server_.config().String("masteruser");
      ask(user.empty() ? Command({"AUTH", auth}) : Command({"AUTH", user, auth}), "AUTH");
    }
    if (ok) ask(Command({"PING"}), "PING");
    if (ok) {
      int my_port = static_cast<int>(server_.config().Number("replica-announce-port"));
      if (my_port == 0) my_port = server_.listening_port.load();
      ask(Command({"REPLCONF", "listening-port", std::to_string(my_port)}), "REPLCONF");
    }
    const std::string announce_ip = server_.config().String("replica-announce-ip");
    if (ok && !announce_ip.empty()) {
      ask(Command({"REPLCONF", "ip-address", announce_ip}), "REPLCONF");
    }
    if (ok) {
      ask(Command({"REPLCONF", "capa", "eof", "capa", "psync2", "capa", "fdb"}), "REPLCONF");
    }
    std::string psync_id;
    uint64_t psync_from = 0;
    bool failing_over;
    {
      std::lock_guard<std::mutex> l(mu_);
      psync_id = replid_;
      psync_from = offset_ + 1;
      failing_over = failover_state_ == FailoverState::kInProgress;
    }
    if (ok) {
      // After a full sync, a restart or a REPLICAOF the replica asks to continue from where it
      // is; the master decides. In a failover, this server was the master: FAILOVER asks the
      // target to take over first.
      const std::string from = std::to_string(psync_from);
      if (!WriteAll(*transport, fd,
                    failing_over ? Command({"PSYNC", psync_id, from, "FAILOVER"})
                                 : Command({"PSYNC", psync_id, from}),
                    timeout_ms)) {
        ok = false;
      }
    }
    // +FULLRESYNC / +CONTINUE, after any newlines the master sends while it prepares.
    while (ok) {
      if (!reader.Line(&buf, &line, timeout_ms)) {
        ok = false;
        break;
      }
      // Redis sends bare newlines as keepalives until its snapshot starts.
      line.erase(0, line.find_first_not_of('\n') == std::string::npos
                        ? line.size()
                        : line.find_first_not_of('\n'));
      if (!line.empty()) break;
    }
    // The RDB file a Redis primary sends after +FULLRESYNC <replid> <offset> (`fullresync`):
    // `$<length>` or, diskless, `$EOF:<mark>`, then the file; what follows it in buf is the
    // command stream.
    auto load_rdb = [&](const std::string& fullresync) {
      std::string head;
      if (!reader.Line(&buf, &head, timeout_ms)) return false;
      const bool diskless = head.rfind("$EOF:", 0) == 0;
      uint64_t left = diskless ? 0 : std::strtoull(head.c_str() + 1, nullptr, 10);
      Txn txn;
      txn.set_from_master(true);
      Keyspace& ks = server_.keyspace();
      RdbLoader loader([&](int db, std::string_view key, RestoredValue v, int64_t expire_ms) {
        return PutRdbKey(ks, txn, db, key, std::move(v), expire_ms, NowMs());
      });
      if (diskless) loader.set_eof_mark(std::string_view(head).substr(5));
      for (;;) {
        std::string_view chunk = buf;
        if (!diskless && chunk.size() > left) chunk = chunk.substr(0, left);
        if (!chunk.empty()) {
          Result<size_t> n = loader.Feed(chunk);
          if (!n.ok()) {
            FDB_LOG_WARNING("Failed trying to load the MASTER synchronization DB: %s",
                            n.status().message().c_str());
            return false;
          }
          if (!diskless) left -= *n;
          {
            std::lock_guard<std::mutex> l(mu_);
            sync_bytes_ += *n;
          }
          buf.erase(0, *n);
        }
        if (loader.done()) break;
        if (!diskless && left == 0) {
          FDB_LOG_WARNING("The master's RDB file ended before its end marker");
          return false;
        }
        bool got;
        if (!reader.Fill(&buf, &got)) return false;
      }
      // +FULLRESYNC <replid> <offset>: the stream after the file starts at that offset.
      std::string id;
      uint64_t off = 0;
      {
        size_t a = fullresync.find(' ');
        size_t b = a == std::string::npos ? a : fullresync.find(' ', a + 1);
        if (b != std::string::npos) {
          id = fullresync.substr(a + 1, b - a - 1);
          off = std::strtoull(fullresync.c_str() + b + 1, nullptr, 10);
        }
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        if (id.size() == 40) replid_ = id;
        offset_ = off;
        replid2_ = kNoReplId;
        second_offset_ = -1;
        backlog_.clear();
        backlog_start_ = offset_;
      }
      loading_.store(false);
      if (server_.storage() != nullptr) (void)server_.storage()->LogReplPosition(id, off);
      FDB_LOG_NOTICE("MASTER <-> REPLICA sync: Finished with success (%llu keys from the RDB)",
                     static_cast<unsigned long long>(loader.keys_loaded()));
      return true;
    };
    bool snapshot = false;
    if (ok && line.rfind("+FULLRESYNC", 0) == 0) {
      snapshot = true;
      set_state(LinkState::kSync);
      loading_.store(true);
      FDB_LOG_NOTICE("Full resync from master: %s", line.c_str() + 1);
      {
        std::lock_guard<std::mutex> l(mu_);
        sync_bytes_ = 0;
      }
      {
        // Its own replicas' history ends here: they sync again.
        std::lock_guard<std::mutex> l(mu_);
        DisconnectPeersLocked();
      }
      // The replica's data set becomes the master's: start from nothing.
      Txn txn;
      txn.set_from_master(true);
      server_.keyspace().FlushDb(txn, -1);
      (void)server_.keyspace().Commit(txn);
      // A crash from here to the end of the sync leaves a partial data set: it must sync in
      // full again, whatever position the log held before.
      master.master_replid.clear();
      if (server_.storage() != nullptr) (void)server_.storage()->LogReplPosition("?", 0);
      // Skip the newlines the master may send before the stream.
      while (ok) {
        size_t i = 0;
        while (i < buf.size() && buf[i] == '\n') i++;
        buf.erase(0, i);
        if (!buf.empty()) break;
        bool got;
        ok = reader.Fill(&buf, &got);
      }
      if (ok && buf[0] == '$') {
        // A Redis primary (live migration): its RDB file, then its command stream.
        ok = load_rdb(line);
        if (ok) {
          snapshot = false;
          set_state(LinkState::kConnected);
          link_up_.store(true);
        }
      }
    } else if (ok && line.rfind("+CONTINUE", 0) == 0) {
      std::string id = line.size() > 10 ? line.substr(10) : std::string();
      std::lock_guard<std::mutex> l(mu_);
      if (!id.empty() && id != replid_) {
        replid2_ = replid_;
        second_offset_ = static_cast<int64_t>(offset_) + 1;
        replid_ = id;
      }
      FDB_LOG_NOTICE("Successful partial resynchronization with master");
    } else if (ok) {
      FDB_LOG_WARNING("Unexpected reply to PSYNC from master: %s", line.c_str());
      ok = false;
    }
    if (failing_over) {
      // The target took over (+CONTINUE, or, in edge cases, +FULLRESYNC), or it refused: then
      // this server is the primary again.
      if (ok) {
        std::lock_guard<std::mutex> l(mu_);
        if (failover_state_ == FailoverState::kInProgress) ClearFailoverLocked();
      } else {
        transport->Shutdown();
        close(fd);
        link_fd_.store(-1);
        AbortFailover("Failover target rejected psync request");
        break;
      }
    }
    if (ok && !snapshot) {
      set_state(LinkState::kConnected);
      link_up_.store(true);
    }

    // The stream.
    RespParser parser;
    ParserLimits limits{server_.config().proto_max_bulk_len() + 1024};
    int64_t last_ack_ms = 0;
    uint64_t last_seq = 0;
    std::vector<std::string_view> args;
    auto send_ack = [&] {
      // With a log, what is acknowledged is durable under its fsync policy (WAIT's promise).
      if (server_.storage() != nullptr && last_seq != 0) {
        (void)server_.storage()->WaitForPolicy(last_seq);
      }
      uint64_t off;
      {
        std::lock_guard<std::mutex> l(mu_);
        off = offset_;
      }
      last_ack_ms = NowMs();
      return WriteAll(*transport, fd, Command({"REPLCONF", "ACK", std::to_string(off)}),
                      timeout_ms);
    };
    // The master's bytes buf[from, from + bytes), applied: on to this server's own replicas
    // (or, in the snapshot, counted).
    auto pass_on = [&](size_t from, size_t bytes) {
      std::lock_guard<std::mutex> l(mu_);
      if (snapshot) {
        sync_bytes_ += bytes;
        return;
      }
      AppendStreamLocked(std::string_view(buf.data() + from, bytes));
      if (snapshot_peers_ > 0) FinishDumpsLocked();
    };
    // Runs one command of the master (or a batch of FDB.APPLY frames) whose bytes are
    // buf[from, from + bytes), then passes those bytes on to this server's own replicas.
    auto execute = [&](const std::vector<std::string_view>& cmd, size_t from, size_t bytes) {
      reply.clear();
      if (!snapshot) {
        std::lock_guard<std::mutex> l(mu_);
        if (master.master_replid != replid_) master.master_replid = replid_;
        master.master_offset_after = offset_ + bytes;
      }
      ExecResult done = dispatcher.Execute(cmd, master, rb);
      dispatcher.ReleaseLocks();
      if (!reply.empty() && reply[0] == '-') {
        // As Redis (propagation-error-behavior ignore): the replica goes on, and says so.
        std::string_view err = std::string_view(reply).substr(1);
        err = err.substr(0, std::min(err.find("\r\n"), size_t{256}));
        FDB_LOG_WARNING(
            "== CRITICAL == This replica is sending an error to its master: '%.*s' after "
            "processing the command '%.*s'",
            static_cast<int>(err.size()), err.data(),
            static_cast<int>(std::min(cmd[0].size(), size_t{128})), cmd[0].data());
      }
      if (done.sequence != 0) last_seq = done.sequence;
      pass_on(from, bytes);
    };
    // Frames read back to back are applied as one transaction (CmdFdbApply): FDB.APPLY
    // <items> <name> <items> <name> ..., flushed before anything else of the stream runs and
    // before buf changes (its views point into it).
    std::vector<std::string_view> batch;
    size_t batch_from = 0, batch_bytes = 0;
    auto flush_batch = [&] {
      if (batch.empty()) return;
      execute(batch, batch_from, batch_bytes);
      batch.clear();
      batch_bytes = 0;
    };
    constexpr size_t kBatchFrames = 256, kBatchBytes = 1 << 20;
    size_t pos = 0;
    while (ok && !stale()) {
      // Every complete command in buf.
      while (ok && pos < buf.size()) {
        if (stale()) {  // REPLICAOF ended this link: nothing more of this master is applied
          ok = false;
          break;
        }
        RespParser::Result r = parser.Parse(buf.data() + pos, buf.size() - pos, limits);
        if (r == RespParser::Result::kNeedMore) break;
        if (r == RespParser::Result::kError) {
          FDB_LOG_WARNING("Protocol error in the master's stream: %s", parser.error().c_str());
          ok = false;
          break;
        }
        const char* base = buf.data() + pos;
        const size_t consumed = parser.consumed();
        args.clear();
        if (parser.inline_request()) {
          for (const std::string& a : parser.inline_args()) args.emplace_back(a);
        } else {
          for (size_t i = 0; i < parser.argc(); i++) args.push_back(parser.Arg(base, i));
        }
        if (!parser.inline_request() && (args.size() == 2 || args.size() == 3) &&
            EqualsUpper(args[0], "FDB.APPLY")) {
          if (batch.empty()) {
            batch.push_back(args[0]);
            batch_from = pos;
          }
          batch.push_back(args[1]);
          batch.push_back(args.size() == 3 ? args[2] : std::string_view());
          batch_bytes += consumed;
          pos += consumed;
          parser.Reset();
          // With Redis replicas (or SYNC readers) of this replica each frame goes alone: they
          // get its commands as the master's transaction made them, not a batch's MULTI.
          if (batch.size() > 2 * kBatchFrames || batch_bytes >= kBatchBytes ||
              redis_peers_.load(std::memory_order_relaxed) > 0) {
            flush_batch();
          }
          continue;
        }
        flush_batch();
        bool getack = false;
        if (snapshot && !args.empty() && EqualsUpper(args[0], "FDB.SYNCED")) {
          // The snapshot is complete: from here on the stream's bytes are counted.
          std::lock_guard<std::mutex> l(mu_);
          offset_ = args.size() >= 2 ? std::strtoull(std::string(args[1]).c_str(), nullptr, 10) : 0;
          if (args.size() >= 3) replid_ = std::string(args[2]);
          replid2_ = kNoReplId;
          second_offset_ = -1;
          backlog_.clear();
          backlog_start_ = offset_;
          snapshot = false;
          loading_.store(false);
          link_up_.store(true);
          if (link_generation_ == generation) link_state_ = LinkState::kConnected;
          FDB_LOG_NOTICE("MASTER <-> REPLICA sync: Finished with success");
          if (server_.storage() != nullptr) {
            (void)server_.storage()->LogReplPosition(replid_, offset_);
          }
        } else if (!args.empty()) {
          getack = args.size() >= 2 && EqualsUpper(args[0], "REPLCONF") &&
                   EqualsUpper(args[1], "GETACK");
          if (!getack && !(args.size() == 1 && EqualsUpper(args[0], "PING"))) {
            execute(args, pos, consumed);
          } else {
            pass_on(pos, consumed);
          }
        }
        pos += consumed;
        parser.Reset();
        if (getack && !send_ack()) ok = false;
      }
      if (ok) flush_batch();
      if (!ok) break;
      if (pos > 0 && (pos == buf.size() || pos > (1 << 20))) {
        buf.erase(0, pos);
        pos = 0;
      }
      if (!snapshot && NowMs() - last_ack_ms >= 1000 && !send_ack()) break;
      FinishDumps();
      bool got;
      if (!reader.Fill(&buf, &got)) break;
      if (got) {
        std::lock_guard<std::mutex> l(mu_);
        last_io_ms_ = NowMs();
      }
    }
    int expected = fd;
    link_fd_.compare_exchange_strong(expected, -1);
    transport->Shutdown();
    close(fd);
    if (stale()) break;  // a newer link (or none) owns the state below now
    link_up_.store(false);
    if (snapshot) loading_.store(false);
    {
      std::lock_guard<std::mutex> l(mu_);
      link_down_since_ms_ = NowMs();
    }
    FDB_LOG_WARNING("Connection with master lost; reconnecting");
    set_state(LinkState::kConnect);
    // A link that was up reconnects at once (kPollMs): the master's backlog holds only so many
    // seconds of a busy stream, and a partial resync must start within them. A master that
    // cannot be reached is tried once a second (above).
    usleep(kPollMs * 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// Introspection.

std::vector<std::pair<std::string, std::string>> Replication::InfoFields() {
  std::vector<std::pair<std::string, std::string>> f;
  auto add = [&f](const char* k, std::string v) { f.emplace_back(k, std::move(v)); };
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> l(mu_);
  if (replica_.load()) {
    add("role", "slave");
    add("master_host", master_host_);
    add("master_port", std::to_string(master_port_));
    add("master_link_status", link_up_.load() ? "up" : "down");
    add("master_last_io_seconds_ago",
        std::to_string(last_io_ms_ == 0 ? -1 : (now - last_io_ms_) / 1000));
    add("master_sync_in_progress", loading_.load() ? "1" : "0");
    add("slave_read_repl_offset", std::to_string(offset_));
    add("slave_repl_offset", std::to_string(offset_));
    if (loading_.load()) {
      add("master_sync_total_bytes", "-1");
      add("master_sync_read_bytes", std::to_string(sync_bytes_));
      add("master_sync_left_bytes", "-1");
      add("master_sync_perc", "0.00");
      add("master_sync_last_io_seconds_ago", std::to_string((now - last_io_ms_) / 1000));
    }
    if (!link_up_.load()) {
      add("master_link_down_since_seconds", std::to_string((now - link_down_since_ms_) / 1000));
    }
    add("slave_priority", std::to_string(server_.config().Number("replica-priority")));
    add("slave_read_only", server_.config().Number("replica-read-only") ? "1" : "0");
    add("replica_announced", server_.config().Number("replica-announced") ? "1" : "0");
  } else {
    add("role", "master");
  }
  add("connected_slaves", std::to_string(peers_.size()));
  const int64_t min_write = server_.config().min_replicas_to_write();
  if (min_write > 0 && !replica_.load()) {
    int good = 0;
    for (auto& p : peers_) {
      if (!p->snapshot &&
          now - p->ack_ms.load() <= server_.config().min_replicas_max_lag() * 1000) {
        good++;
      }
    }
    add("min_slaves_good_slaves", std::to_string(good));
  }
  int i = 0;
  for (auto& p : peers_) {
    add(("slave" + std::to_string(i++)).c_str(),
        "ip=" + p->ip + ",port=" + std::to_string(p->port) + ",state=" + p->state +
            ",offset=" + std::to_string(p->ack.load()) +
            ",lag=" + std::to_string((now - p->ack_ms.load()) / 1000));
  }
  add("master_failover_state", failover_state_ == FailoverState::kNone ? "no-failover"
                               : failover_state_ == FailoverState::kWaitForSync
                                   ? "waiting-for-sync"
                                   : "failover-in-progress");
  add("master_replid", replid_);
  add("master_replid2", replid2_);
  add("master_repl_offset", std::to_string(offset_));
  add("second_repl_offset", std::to_string(second_offset_));
  add("repl_backlog_active", backlog_on_ ? "1" : "0");
  add("repl_backlog_size", std::to_string(server_.config().Number("repl-backlog-size")));
  add("repl_backlog_first_byte_offset", std::to_string(backlog_on_ ? backlog_start_ + 1 : 0));
  add("repl_backlog_histlen", std::to_string(backlog_.size()));
  return f;
}

void Replication::ReplyRole(ReplyBuilder& rb) {
  std::lock_guard<std::mutex> l(mu_);
  if (replica_.load()) {
    rb.ArrayHeader(5);
    rb.Bulk("slave");
    rb.Bulk(master_host_);
    rb.Integer(master_port_);
    const char* state = "connect";
    switch (link_state_) {
      case LinkState::kNone:
      case LinkState::kConnect:
        state = "connect";
        break;
      case LinkState::kConnecting:
        state = "connecting";
        break;
      case LinkState::kHandshake:
        state = "handshake";
        break;
      case LinkState::kSync:
        state = "sync";
        break;
      case LinkState::kConnected:
        state = "connected";
        break;
    }
    rb.Bulk(state);
    rb.Integer(loading_.load() ? -1 : static_cast<int64_t>(offset_));
    return;
  }
  rb.ArrayHeader(3);
  rb.Bulk("master");
  rb.Integer(static_cast<int64_t>(offset_));
  size_t online = 0;
  for (auto& p : peers_) online += p->snapshot ? 0 : 1;
  rb.ArrayHeader(online);
  for (auto& p : peers_) {
    if (p->snapshot) continue;
    rb.ArrayHeader(3);
    rb.Bulk(p->ip);
    rb.Bulk(std::to_string(p->port));
    rb.Bulk(std::to_string(p->ack.load()));
  }
}

}  // namespace fdb
