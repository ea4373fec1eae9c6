#include "net/server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"
#include "server/config.h"

namespace fdb {

Server::~Server() {
  for (auto& t : threads_) t->Stop();
  threads_.clear();
  for (int fd : listen_fds_) close(fd);
  for (int fd : tls_listen_fds_) close(fd);
  if (unix_fd_ >= 0) close(unix_fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
}

int Server::TlsPortSetting() const {
  auto got = ctx_.config().Get("tls-port");
  return got.empty() ? 0 : std::atoi(got[0].second.c_str());
}

namespace {

// A listening socket on addr:port of `family` (addr nullptr: every address of it), or -1 with
// *error (errno's value) and *why set.
int ListenOn(const char* addr, int family, int port, int* error, std::string* why) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  // Numeric addresses only: a name would make CONFIG SET wait on DNS.
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const std::string port_str = std::to_string(port);
  if (int rc = getaddrinfo(addr, port_str.c_str(), &hints, &res); rc != 0 || res == nullptr) {
    *error = EINVAL;
    *why = rc != 0 ? gai_strerror(rc) : "no address";
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    // As Redis: an IPv6 socket takes IPv6 only, so `* ::*` can hold both on one port.
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 511) != 0) {
      const int e = errno;
      close(fd);
      fd = -1;
      errno = e;
    }
  }
  if (fd < 0) {
    *error = errno;
    *why = strerror(errno);
  }
  freeaddrinfo(res);
  return fd;
}

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

Status Server::OpenListeners(const std::string& bind, int port, std::vector<int>* fds_out,
                             int* bound_port) {
  std::vector<int> fds;
  int want_port = port;
  for (const BindAddress& b : BindAddresses(bind)) {
    const std::string& addr = b.addr;
    const bool optional = b.optional;
    const int family = b.ipv6() ? AF_INET6 : AF_INET;
    const bool any = b.any();
    int error = 0;
    std::string why;
    int fd = ListenOn(any ? nullptr : addr.c_str(), family, want_port, &error, &why);
    if (fd < 0) {
      // Redis's warning, and its rules for what is skipped rather than fatal.
      FDB_LOG_WARNING("Warning: Could not create server TCP listening socket %s:%d: %s",
                      addr.c_str(), want_port, why.c_str());
      if (error == EADDRNOTAVAIL && optional) continue;
      if (error == ENOPROTOOPT || error == EPROTONOSUPPORT || error == ESOCKTNOSUPPORT ||
          error == EPFNOSUPPORT || error == EAFNOSUPPORT) {
        continue;
      }
      for (int f : fds) close(f);
      return Status::IOError("could not bind " + addr + ":" + std::to_string(want_port) + ": " +
                             why);
    }
    // Port 0: the free port the first address got is the one every address listens on.
    if (want_port == 0) want_port = LocalPort(fd);
    fds.push_back(fd);
  }
  *bound_port = fds.empty() ? 0 : want_port;
  *fds_out = std::move(fds);
  return Status::OK();
}

Status Server::MoveListeners(std::vector<int>* current, ListenerKind kind, const std::string& bind,
                             int port, const std::string& old_bind, int old_port, int* bound_port) {
  std::vector<int> fds;
  if (current->empty() || port != old_port) {
    // Another port: the new sockets are opened while the old ones still listen.
    Status s = OpenListeners(bind, port, &fds, bound_port);
    if (!s.ok()) return s;
    SwitchListeners(current, std::move(fds), kind);
    return Status::OK();
  }
  // The same port: the old sockets may hold the very addresses wanted (`127.0.0.1` to
  // `127.0.0.1 ::1`), so they let go first and come back if the new ones fail, as Redis's
  // changeBindAddr. Meanwhile (microseconds) a connection to the port is refused.
  SwitchListeners(current, {}, kind);
  Status s = OpenListeners(bind, port, &fds, bound_port);
  if (!s.ok()) {
    std::vector<int> back;
    int back_port = 0;
    if (OpenListeners(old_bind, old_port, &back, &back_port).ok()) {
      SwitchListeners(current, std::move(back), kind);
    } else {
      FDB_LOG_WARNING("could not listen on %s port %d again: no listener there now",
                      old_bind.c_str(), old_port);
    }
    return s;
  }
  SwitchListeners(current, std::move(fds), kind);
  return Status::OK();
}

Status Server::OpenUnixSocket() {
  const std::string path = ctx_.config().String("unixsocket");
  const auto perm = static_cast<mode_t>(ctx_.config().Number("unixsocketperm"));
  sockaddr_un sa{};
  if (path.size() >= sizeof(sa.sun_path)) {
    return Status::InvalidArgument("Failed opening Unix socket: path too long");
  }
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.data(), path.size());
  unlink(path.c_str());  // as Redis: a socket file a previous run left behind is replaced
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      listen(fd, 511) != 0) {
    const std::string why = strerror(errno);
    if (fd >= 0) close(fd);
    return Status::IOError("Failed opening Unix socket: " + why);
  }
  unix_path_ = path;  // ours from here: removed at exit
  if (perm != 0 && chmod(path.c_str(), perm) != 0) {
    FDB_LOG_WARNING("unixsocketperm: chmod %s: %s", path.c_str(), strerror(errno));
  }
  unix_fd_ = fd;
  return Status::OK();
}

Status Server::Start() {
  Config& cfg = ctx_.config();
  bind_ = cfg.bind();
  const int tls_port = TlsPortSetting();
  // As Redis: a replica's link over TLS needs the context (its client side) without a TLS port.
  if (tls_port != 0 || cfg.Number("tls-replication") != 0) {
    // As Redis: the reason was logged (Failed to load certificate...), the start fails.
    if (!tls_.Configure(cfg).ok()) {
      return Status::InvalidArgument("Failed to configure TLS. Check logs for more info.");
    }
  }
  if (tls_port != 0) {
    int tls_bound = 0;
    Status ts = OpenListeners(bind_, tls_port, &tls_listen_fds_, &tls_bound);
    if (!ts.ok()) {
      // Redis's line: tools that start servers (Redis's own test suite) look for it to retry on
      // another port.
      FDB_LOG_WARNING("%s", ts.message().c_str());
      return Status::IOError("Failed listening on port " + std::to_string(tls_port) +
                             " (TLS), aborting.");
    }
    tls_port_ = tls_bound != 0 ? tls_bound : tls_port;
  }
  // `port 0` with a tls-port: TLS only, as Redis. (Without one, port 0 is any free port.)
  int bound_port = 0;
  if (cfg.port() != 0 || tls_port == 0) {
    Status ls = OpenListeners(bind_, static_cast<int>(cfg.port()), &listen_fds_, &bound_port);
    if (!ls.ok()) {
      FDB_LOG_WARNING("%s", ls.message().c_str());
      return Status::IOError("Failed listening on port " + std::to_string(cfg.port()) +
                             " (TCP), aborting.");
    }
  }
  if (!cfg.String("unixsocket").empty()) {
    if (Status us = OpenUnixSocket(); !us.ok()) return us;
  }
  if (listen_fds_.empty() && tls_listen_fds_.empty() && unix_fd_ < 0) {
    return Status::InvalidArgument("Configured to not listen anywhere, exiting.");
  }
  // Without a TCP listener (`bind ""`) the configured port is still the one announced (a
  // replica's REPLCONF listening-port), as Redis's.
  const int port = bound_port != 0 ? bound_port : static_cast<int>(cfg.port());
  port_.store(port);
  ctx_.listening_port.store(port);

  int n = cfg.threads();
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  ctx_.request_shutdown = [this] {
    // No new connection from here, before SHUTDOWN's connection closes: a client that sees it
    // close finds the port refusing, as after Redis's exit.
    {
      std::lock_guard<std::mutex> l(listen_mu_);
      for (int fd : listen_fds_) ::shutdown(fd, SHUT_RDWR);
      for (int fd : tls_listen_fds_) ::shutdown(fd, SHUT_RDWR);
      if (unix_fd_ >= 0) ::shutdown(unix_fd_, SHUT_RDWR);
    }
    shutdown_.store(true);
    kill(getpid(), SIGTERM);  // wakes Run()'s sigtimedwait
  };
  ctx_.rebind = [this](const std::string& bind, int port) { return Rebind(bind, port); };
  ctx_.reconfigure_tls = [this] { return ReconfigureTls(); };
  ctx_.new_tls_client = [this](int fd) { return tls_.NewClientTransport(fd); };
  for (int i = 0; i < n; i++) {
    auto t = std::make_unique<IoThread>(ctx_, i, &tls_);
    for (int fd : listen_fds_) t->AddListener(fd, ListenerKind::kTcp);
    for (int fd : tls_listen_fds_) t->AddListener(fd, ListenerKind::kTls);
    if (unix_fd_ >= 0) t->AddListener(unix_fd_, ListenerKind::kUnix);
    threads_.push_back(std::move(t));
  }
  std::vector<IoThread*> peers;
  for (auto& t : threads_) peers.push_back(t.get());
  for (auto& t : threads_) t->SetPeers(peers);
  for (auto& t : threads_) t->Start();
  return Status::OK();
}

Status Server::Rebind(const std::string& bind, int port) {
  std::lock_guard<std::mutex> l(listen_mu_);
  const int old_port = port_.load();
  int bound = 0;
  const bool plain = port != 0 || tls_port_ == 0;  // port 0 beside a TLS port: no plain listener
  if (plain) {
    Status s = MoveListeners(&listen_fds_, ListenerKind::kTcp, bind, port, bind_, old_port, &bound);
    if (!s.ok()) return s;
  } else {
    SwitchListeners(&listen_fds_, {}, ListenerKind::kTcp);
  }
  // As Redis's changeBindAddr: the TLS listeners move to the new addresses too, and if they
  // cannot, the plain ones go back.
  if (bind != bind_ && tls_port_ != 0) {
    int tls_bound = 0;
    Status s = MoveListeners(&tls_listen_fds_, ListenerKind::kTls, bind, tls_port_, bind_,
                             tls_port_, &tls_bound);
    if (!s.ok()) {
      int ignored = 0;
      if (plain) {
        (void)MoveListeners(&listen_fds_, ListenerKind::kTcp, bind_, old_port, bind,
                            bound != 0 ? bound : port, &ignored);
      }
      return s;
    }
  }
  bind_ = bind;
  port_.store(bound != 0 ? bound : port);
  ctx_.listening_port.store(bound != 0 ? bound : port);
  return Status::OK();
}

void Server::SwitchListeners(std::vector<int>* current, std::vector<int> fds, ListenerKind kind) {
  // Every loop swaps its listeners on its own thread (the accept path reads them there); the
  // old sockets are closed when the last of them has let go. Connections already accepted stay.
  // They stop listening now, though: their port is free when CONFIG SET replies (a CONFIG SET
  // tls-port of the old port number right after must not find it taken), and a loop that has
  // not switched yet sees them hung up (accept fails; nothing is lost) until its switch runs.
  for (int fd : *current) shutdown(fd, SHUT_RDWR);
  std::shared_ptr<std::vector<int>> old(new std::vector<int>(std::move(*current)),
                                        [](std::vector<int>* v) {
                                          for (int fd : *v) close(fd);
                                          delete v;
                                        });
  *current = fds;
  for (auto& t : threads_) t->SwitchListeners(kind, fds, old);
}

Status Server::ReconfigureTls() {
  std::lock_guard<std::mutex> l(listen_mu_);
  const int want = TlsPortSetting();
  if ((want != 0 || ctx_.config().Number("tls-replication") != 0) &&
      !tls_.Configure(ctx_.config()).ok()) {
    return Status::InvalidArgument("Unable to update TLS configuration. Check server logs.");
  }
  if (want == tls_port_) return Status::OK();
  std::vector<int> fds;
  int bound = 0;
  if (want != 0) {
    Status s = OpenListeners(bind_, want, &fds, &bound);
    if (!s.ok()) return Status::IOError("Unable to listen on this port");
  }
  tls_port_ = bound != 0 ? bound : want;
  SwitchListeners(&tls_listen_fds_, std::move(fds), ListenerKind::kTls);
  return Status::OK();
}

void Server::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // A signal's shutdown, as Redis's: scheduled (shutdown_asap), run by the tick below, which
  // DEBUG PAUSE-CRON holds and SHUTDOWN ABORT can take back. Its save runs on a thread of its
  // own, so that this loop still hears a second SIGINT, which ends the process at once.
  std::future<Status> attempt;
  int attempt_sig = 0;
  while (!shutdown_.load()) {
    int hz = ctx_.config().hz();
    timespec ts{0, 1000000000L / (hz > 0 ? hz : 10)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (shutdown_.load()) break;  // SHUTDOWN, which saved already
    if (sig == SIGTERM || sig == SIGINT) {
      const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      if (sig == SIGINT && ctx_.shutdown_asap.load()) {
        FDB_LOG_WARNING("You insist on shutting down the server, exiting now.");
        unlink(RdbSnapshots::TempPath(ctx_.config().dir(), getpid()).c_str());
        _exit(1);
      }
      FDB_LOG_WARNING("Received %s scheduling shutdown...", name);
      ctx_.shutdown_asap = true;
      attempt_sig = sig;
    }
    if (attempt.valid()) {
      if (attempt.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
      // A failed save was logged; the server goes on, as Redis's.
      if (attempt.get().ok()) {
        if (ctx_.shutdown_asap.load()) break;
      } else {
        ctx_.shutdown_asap = false;
      }
    } else if (ctx_.shutdown_asap.load() && !ctx_.cron_paused.load()) {
      // shutdown-on-sigint / -sigterm: Redis's flags (default: save when `save` points are set).
      const std::string flags = ctx_.config().String(attempt_sig == SIGINT ? "shutdown-on-sigint"
                                                                           : "shutdown-on-sigterm");
      const bool nosave = flags.find("nosave") != std::string::npos;
      const bool save = !nosave && flags.find("save") != std::string::npos;
      const bool force = flags.find("force") != std::string::npos;
      if (nosave) ctx_.shutdown_save = false;
      attempt = std::async(std::launch::async, [this, save, nosave, force] {
        return ctx_.snapshots().PrepareShutdown(save, nosave, force, /*shards_held=*/false);
      });
      continue;
    }
    Housekeeping();
  }
  // Before anything else: from here no thread executes a write, and a DEBUG SLEEP wakes, so
  // stopping the threads one by one below does not leave the later ones accepting writes.
  ctx_.BeginShutdown();
  FDB_LOG_WARNING("shutting down");
  // The link to a master applies writes on a thread of its own: stopped before the log is.
  ctx_.replication().Stop();
  // The log's progress listeners point at the I/O threads: drop them first.
  if (ctx_.storage() != nullptr) ctx_.storage()->ClearProgressListeners();
  // Every loop is told first and then joined, so the threads stop together, each as soon as
  // its running command returns.
  for (auto& t : threads_) t->loop().Stop();
  for (auto& t : threads_) t->Stop();
  threads_.clear();
  if (!unix_path_.empty()) {
    FDB_LOG_NOTICE("Removing the unix socket file.");
    unlink(unix_path_.c_str());
    unix_path_.clear();
  }
}

void Server::Housekeeping() {
  if (ctx_.cron_paused.load(std::memory_order_relaxed)) return;  // DEBUG PAUSE-CRON
  // Active expiry: sweep a slice of every table with deadlines. Keys that are never read again
  // still leave memory within a few cycles; the slice bounds the time any shard lock is held.
  // The RAM cache: writers evict as they go; this catches up when reads brought values back.
  // Whole-key policies: commands evict before they run; the tick re-anchors used memory on
  // malloc's figure and goes on where a command stopped at its time limit (or after CONFIG SET
  // maxmemory lowered the budget with no command coming).
  Keyspace& ks = ctx_.keyspace();
  ks.HousekeepMemory();
  ctx_.snapshots().Cron();
  // An evicted value leaves a freed chunk behind; malloc keeps such memory for reuse, so after
  // evictions give the free pages back to the OS, at most once every few seconds, so that RSS
  // follows the budget rather than the largest the cache ever was.
  uint64_t evictions = ks.stats().cache_evictions.load(std::memory_order_relaxed) +
                       ks.stats().evicted_keys.load(std::memory_order_relaxed);
  int64_t now_ms = NowMs();
  if (evictions != trimmed_at_evictions_ && now_ms - last_trim_ms_ >= kTrimIntervalMs) {
    malloc_trim(0);
    trimmed_at_evictions_ = evictions;
    last_trim_ms_ = now_ms;
  }
  if (!ctx_.active_expire_enabled.load()) return;
  if (ctx_.keyspace().replica_mode()) {
    // Its master's expiry deletes its keys; those its own writes gave a deadline are its own.
    ctx_.keyspace().ExpireReplicaKeys(NowMs());
    return;
  }
  const int64_t start_us = MonoUs();
  ctx_.keyspace().ActiveExpireCycle(NowMs(), limits::kActiveExpireKeysPerShard);
  // The latency monitor's "expire-cycle" event, as Redis's activeExpireCycle.
  const int64_t threshold_ms = ctx_.config().latency_monitor_threshold();
  const int64_t took_ms = (MonoUs() - start_us) / 1000;
  if (threshold_ms > 0 && took_ms >= threshold_ms) {
    ctx_.latency().Add("expire-cycle", took_ms, NowMs() / 1000);
  }
}

}  // namespace fdb
