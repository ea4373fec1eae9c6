// DUMP, RESTORE and MIGRATE (Redis 7 semantics), with Redis's payload format
// (commands/rdb_payload.h): a value dumped from Redis restores here and one dumped here restores
// into Redis, so MIGRATE moves keys to either.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/clock.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/rdb_payload.h"

namespace fdb {

namespace {

void CmdDump(CmdArgs args, CommandContext& ctx) {
  const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.NullBulk();
  ctx.rb.Bulk(DumpPayload(e));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void CmdRestore(CmdArgs args, CommandContext& ctx) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t i = 4; i < args.size(); i++) {
    bool more = i + 1 < args.size();
    if (EqualsUpper(args[i], "REPLACE")) {
      replace = true;
    } else if (EqualsUpper(args[i], "ABSTTL")) {
      absttl = true;
    } else if (EqualsUpper(args[i], "IDLETIME") && more && freq == -1) {
      if (!ParseInt64(args[++i], &idle)) return ctx.rb.Error(errors::kNotInteger);
      if (idle < 0) return ctx.rb.Error("ERR Invalid IDLETIME value, must be >= 0");
    } else if (EqualsUpper(args[i], "FREQ") && more && idle == -1) {
      if (!ParseInt64(args[++i], &freq)) return ctx.rb.Error(errors::kNotInteger);
      if (freq < 0 || freq > 255) {
        return ctx.rb.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      }
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  int64_t ttl;
  if (!ParseInt64(args[2], &ttl)) return ctx.rb.Error(errors::kNotInteger);
  if (ttl < 0) return ctx.rb.Error("ERR Invalid TTL value, must be >= 0");
  KeyRef k(args[1]);
  if (!replace && ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, false) != nullptr) {
    return ctx.rb.Error("BUSYKEY Target key name already exists.");
  }
  std::string_view payload = args[3];
  if (!VerifyDumpPayload(payload)) {
    return ctx.rb.Error("ERR DUMP payload version or checksum are wrong");
  }
  RestoredValue v;
  if (!ParseDumpPayload(payload, &v).ok()) return ctx.rb.Error("ERR Bad data format");
  int64_t deadline = 0;
  if (ttl > 0) {
    deadline = absttl ? ttl : (ttl > INT64_MAX - ctx.now_ms ? INT64_MAX : ctx.now_ms + ttl);
  }
  const size_t first = ctx.txn.effects().size();
  // A deadline already past: the key is not created (an existing one is replaced by nothing).
  if (deadline != 0 && deadline <= ctx.now_ms) {
    if (ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms)) ctx.Dirty();
    return ctx.rb.Ok();
  }
  Entry* e = v.type == ValueType::kString ? Entry::NewString(args[1], v.str)
                                          : Entry::NewObject(args[1], v.obj.release());
  e->set_expire_ms(deadline);
  Entry* put = ctx.ks.Put(ctx.txn, ctx.db, k, e);
  if (put != nullptr && (idle >= 0 || freq >= 0)) put->set_lru(ctx.ks.AccessFieldFor(idle, freq));
  // As Redis: replicas get the command, a relative TTL as the deadline with ABSTTL added.
  if (ttl > 0 && !absttl) {
    std::vector<std::string_view> as(args.begin(), args.end());
    const std::string at = std::to_string(deadline);
    as[2] = at;
    as.push_back("ABSTTL");
    ctx.PropagateAs(first, as);
  } else {
    ctx.PropagateAs(first, args);
  }
  ctx.Dirty();
  ctx.rb.Ok();
}

// --- MIGRATE ---------------------------------------------------------------------------------
//
// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
//         [AUTH2 username password] [KEYS key [key ...]]
//
// As Redis's: the keys' DUMP payloads go to the target as RESTORE commands (after AUTH and
// SELECT) on a connection of its own, waited for synchronously with `timeout` milliseconds for
// the connect and for each read and write; each key the target accepted is deleted here unless
// COPY. The command runs holding its keys' shard locks, so no other client sees a key both here
// and there, and it blocks its I/O thread for as long as the target takes (Redis blocks the whole
// server). Connections are not cached between calls (INFO's migrate_cached_sockets stays 0).

// Where the key arguments are: after KEYS when given, else the third argument.
void MigrateKeys(CmdArgs args, std::vector<size_t>* out) {
  out->clear();
  for (size_t i = 6; i < args.size(); i++) {
    if (EqualsUpper(args[i], "AUTH")) {
      i++;
    } else if (EqualsUpper(args[i], "AUTH2")) {
      i += 2;
    } else if (EqualsUpper(args[i], "KEYS")) {
      if (!args[3].empty()) break;  // the command's error; no keys
      for (size_t j = i + 1; j < args.size(); j++) out->push_back(j);
      return;
    }
  }
  if (args.size() > 3) out->push_back(3);
}

// A blocking connection to the target with a timeout on every step.
class MigrateConn {
 public:
  explicit MigrateConn(int64_t timeout_ms) : timeout_ms_(timeout_ms) {}
  ~MigrateConn() {
    if (fd_ >= 0) close(fd_);
  }
  MigrateConn(const MigrateConn&) = delete;
  MigrateConn& operator=(const MigrateConn&) = delete;

  bool Connect(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return false;
    bool ok = false;
    for (addrinfo* a = res; a != nullptr && !ok; a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      // As Redis's blocking connect: a refused connection also makes the socket writable, and
      // shows as a failure to write (its error text), not to connect.
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
          (errno == EINPROGRESS && Wait(fd, POLLOUT))) {
        fd_ = fd;
        ok = true;
      } else {
        close(fd);
      }
    }
    freeaddrinfo(res);
    return ok;
  }

  bool WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        if (!Wait(fd_, POLLOUT)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  // One reply line without its CRLF; false on error, timeout or end of stream. The replies
  // MIGRATE reads (AUTH, SELECT, RESTORE) are single lines.
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line->assign(buf_, 0, nl > 0 && buf_[nl - 1] == '\r' ? nl - 1 : nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      if (buf_.size() > (64u << 10)) return false;  // not a reply MIGRATE expects
      char tmp[4096];
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        if (!Wait(fd_, POLLIN)) return false;
      } else {
        return false;
      }
    }
  }

 private:
  bool Wait(int fd, short events) {
    pollfd p{fd, events, 0};
    int64_t deadline = NowMs() + timeout_ms_;
    for (;;) {
      int64_t left = deadline - NowMs();
      if (left <= 0) return false;
      int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  int64_t timeout_ms_;
  int fd_ = -1;
  std::string buf_;
};

void AppendCommand(std::string* out, const std::vector<std::string_view>& argv) {
  out->append("*").append(std::to_string(argv.size())).append("\r\n");
  for (std::string_view a : argv) {
    out->append("$").append(std::to_string(a.size())).append("\r\n");
    out->append(a).append("\r\n");
  }
}

void CmdMigrate(CmdArgs args, CommandContext& ctx) {
  bool copy = false, replace = false;
  std::string_view username, password;
  bool auth = false;
  size_t first_key = 3, num_keys = 1;
  for (size_t j = 6; j < args.size(); j++) {
    size_t more = args.size() - 1 - j;
    if (EqualsUpper(args[j], "COPY")) {
      copy = true;
    } else if (EqualsUpper(args[j], "REPLACE")) {
      replace = true;
    } else if (EqualsUpper(args[j], "AUTH")) {
      if (more < 1) return ctx.rb.Error(errors::kSyntax);
      password = args[++j];
      auth = true;
    } else if (EqualsUpper(args[j], "AUTH2")) {
      if (more < 2) return ctx.rb.Error(errors::kSyntax);
      username = args[++j];
      password = args[++j];
      auth = true;
    } else if (EqualsUpper(args[j], "KEYS")) {
      if (!args[3].empty()) {
        return ctx.rb.Error(
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty "
            "string");
      }
      first_key = j + 1;
      num_keys = args.size() - j - 1;
      break;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  int64_t timeout, dbid;
  if (!ParseInt64(args[5], &timeout) || !ParseInt64(args[4], &dbid)) {
    return ctx.rb.Error(errors::kNotInteger);
  }
  if (timeout <= 0) timeout = 1000;

  // The keys present, their payloads and what is left of their time to live.
  struct Item {
    std::string_view key;
    std::string payload;
    int64_t ttl_ms;
  };
  std::vector<Item> items;
  for (size_t j = 0; j < num_keys; j++) {
    std::string_view key = args[first_key + j];
    const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(key), ctx.now_ms, false);
    if (e == nullptr) continue;
    int64_t ttl = 0;
    if (e->expire_ms() != 0) {
      ttl = e->expire_ms() - ctx.now_ms;
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    items.push_back(Item{key, DumpPayload(e), ttl});
  }
  if (items.empty()) return ctx.rb.SimpleString("NOKEY");

  MigrateConn conn(timeout);
  if (!conn.Connect(std::string(args[1]), std::string(args[2]))) {
    return ctx.rb.Error("IOERR error or timeout connecting to the client");
  }
  std::string out;
  if (auth) {
    if (username.empty()) {
      AppendCommand(&out, {"AUTH", password});
    } else {
      AppendCommand(&out, {"AUTH", username, password});
    }
  }
  std::string db = std::to_string(dbid);
  AppendCommand(&out, {"SELECT", db});
  for (const Item& it : items) {
    std::string ttl = std::to_string(it.ttl_ms);
    // In cluster mode the target is importing the slot: RESTORE-ASKING is let in there
    // without an ASKING of its own, as Redis's migrateCommand sends it.
    std::vector<std::string_view> argv = {
        ctx.server.cluster().enabled() ? "RESTORE-ASKING" : "RESTORE", it.key, ttl, it.payload};
    if (replace) argv.push_back("REPLACE");
    AppendCommand(&out, argv);
  }
  if (!conn.WriteAll(out)) return ctx.rb.Error("IOERR error or timeout writing to target instance");
  std::string auth_reply, select_reply, line;
  if (auth && !conn.ReadLine(&auth_reply)) {
    return ctx.rb.Error("IOERR error or timeout reading to target instance");
  }
  if (!conn.ReadLine(&select_reply)) {
    return ctx.rb.Error("IOERR error or timeout reading to target instance");
  }
  std::string target_error;
  bool socket_error = false;
  int64_t deleted = 0;
  for (const Item& it : items) {
    if (!conn.ReadLine(&line)) {
      socket_error = true;
      break;
    }
    const std::string* err = nullptr;
    if (auth && !auth_reply.empty() && auth_reply[0] == '-') {
      err = &auth_reply;
    } else if (!select_reply.empty() && select_reply[0] == '-') {
      err = &select_reply;
    } else if (!line.empty() && line[0] == '-') {
      err = &line;
    }
    if (err != nullptr) {
      if (target_error.empty()) target_error = err->substr(1);
    } else if (!copy && ctx.ks.Delete(ctx.txn, ctx.db, KeyRef(it.key), ctx.now_ms)) {
      deleted++;
    }
  }
  ctx.Dirty(deleted);
  if (!target_error.empty()) {
    return ctx.rb.Error("ERR Target instance replied with error: " + target_error);
  }
  if (socket_error) return ctx.rb.Error("IOERR error or timeout reading to target instance");
  ctx.rb.Ok();
}

}  // namespace

// clang-format off
void RegisterDumpFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"dump", 2, kReadOnly, 1, 1, 1, CmdDump, "generic", "Returns a serialized representation of the value stored at a key.", "2.6.0"});
  r.Register({"restore", -4, kWrite | kDenyOom, 1, 1, 1, CmdRestore, "generic", "Creates a key from the serialized representation of a value.", "2.6.0"});
  r.Register({"restore-asking", -4, kWrite | kDenyOom, 1, 1, 1, CmdRestore, "server", "An internal command for migrating keys in a cluster.", "3.0.0"});
  CommandSpec migrate{"migrate", -6, kWrite, 3, 3, 1, CmdMigrate, "generic", "Atomically transfers a key from one Redis instance to another.", "2.6.0"};
  migrate.keys = MigrateKeys;
  r.Register(migrate);
}
// clang-format on

}  // namespace fdb
