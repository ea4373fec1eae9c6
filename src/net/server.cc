#include "net/server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"

namespace fdb {

Server::~Server() {
  for (auto& t : threads_) t->Stop();
  threads_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (tls_listen_fd_ >= 0) close(tls_listen_fd_);
}

int Server::TlsPortSetting() const {
  auto got = ctx_.config().Get("tls-port");
  return got.empty() ? 0 : std::atoi(got[0].second.c_str());
}

Status Server::OpenListener(std::string bind, int port, int* fd_out, int* bound_port) {
  // `bind` may list several addresses as Redis's; FDB listens on the first.
  if (auto sp = bind.find(' '); sp != std::string::npos) bind = bind.substr(0, sp);
  if (!bind.empty() && bind[0] == '-') bind.erase(0, 1);  // Redis's "optional address" mark
  if (bind == "*") bind = "0.0.0.0";
  if (bind == "::*") bind = "::";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  if (getaddrinfo(bind.c_str(), port_str.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::InvalidArgument("cannot resolve bind address '" + bind + "'");
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::string err = strerror(errno);
    freeaddrinfo(res);
    return Status::IOError("socket: " + err);
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    std::string err = strerror(errno);
    freeaddrinfo(res);
    close(fd);
    return Status::IOError("could not bind " + bind + ":" + port_str + ": " + err);
  }
  freeaddrinfo(res);
  if (listen(fd, 511) != 0) {
    std::string err = strerror(errno);
    close(fd);
    return Status::IOError("listen: " + err);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound_port = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  *fd_out = fd;
  return Status::OK();
}

Status Server::Start() {
  Config& cfg = ctx_.config();
  int bound_port = 0;
  const int tls_port = TlsPortSetting();
  // As Redis: a replica's link over TLS needs the context (its client side) without a TLS port.
  if (tls_port != 0 || cfg.Number("tls-replication") != 0) {
    // As Redis: the reason was logged (Failed to load certificate...), the start fails.
    if (!tls_.Configure(cfg).ok()) {
      return Status::InvalidArgument("Failed to configure TLS. Check logs for more info.");
    }
    int tls_bound = 0;
    Status ts = OpenListener(cfg.bind(), tls_port, &tls_listen_fd_, &tls_bound);
    if (!ts.ok()) {
      // Redis's line: tools that start servers (Redis's own test suite) look for it to retry on
      // another port.
      FDB_LOG_WARNING("%s", ts.message().c_str());
      return Status::IOError("Failed listening on port " + std::to_string(tls_port) +
                             " (TLS), aborting.");
    }
    tls_port_ = tls_bound;
  }
  // `port 0` with a tls-port: TLS only, as Redis. (Without one, port 0 is any free port.)
  if (cfg.port() != 0 || tls_port == 0) {
    Status ls = OpenListener(cfg.bind(), static_cast<int>(cfg.port()), &listen_fd_, &bound_port);
    if (!ls.ok()) {
      FDB_LOG_WARNING("%s", ls.message().c_str());
      return Status::IOError("Failed listening on port " + std::to_string(cfg.port()) +
                             " (TCP), aborting.");
    }
  }
  port_.store(bound_port);
  ctx_.listening_port.store(bound_port);

  int n = cfg.threads();
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  ctx_.request_shutdown = [this] {
    // No new connection from here, before SHUTDOWN's connection closes: a client that sees it
    // close finds the port refusing, as after Redis's exit.
    {
      std::lock_guard<std::mutex> l(listen_mu_);
      if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
      if (tls_listen_fd_ >= 0) ::shutdown(tls_listen_fd_, SHUT_RDWR);
    }
    shutdown_.store(true);
    kill(getpid(), SIGTERM);  // wakes Run()'s sigtimedwait
  };
  ctx_.rebind = [this](const std::string& bind, int port) { return Rebind(bind, port); };
  ctx_.reconfigure_tls = [this] { return ReconfigureTls(); };
  ctx_.new_tls_client = [this](int fd) { return tls_.NewClientTransport(fd); };
  for (int i = 0; i < n; i++) {
    threads_.push_back(std::make_unique<IoThread>(ctx_, listen_fd_, i, tls_listen_fd_, &tls_));
  }
  std::vector<IoThread*> peers;
  for (auto& t : threads_) peers.push_back(t.get());
  for (auto& t : threads_) t->SetPeers(peers);
  for (auto& t : threads_) t->Start();
  return Status::OK();
}

Status Server::Rebind(const std::string& bind, int port) {
  std::lock_guard<std::mutex> l(listen_mu_);
  int fd = -1, bound_port = 0;
  if (port != 0 || tls_port_ == 0) {  // port 0 beside a TLS port: no plain listener
    Status s = OpenListener(bind, port, &fd, &bound_port);
    if (!s.ok()) return s;
  }
  port_.store(bound_port);
  ctx_.listening_port.store(bound_port);
  SwitchListener(&listen_fd_, fd, /*tls=*/false);
  return Status::OK();
}

void Server::SwitchListener(int* current, int fd, bool tls) {
  // Every loop swaps its listener on its own thread (the accept path reads it there); the old
  // socket is closed when the last of them has let go of it. Connections already accepted stay.
  // It stops listening now, though: its port is free when CONFIG SET replies (a CONFIG SET
  // tls-port of the old port number right after must not find it taken), and a loop that has
  // not switched yet sees it hung up (accept fails; nothing is lost) until its switch runs.
  if (*current >= 0) shutdown(*current, SHUT_RDWR);
  auto old = std::shared_ptr<int>(new int(*current), [](int* p) {
    if (*p >= 0) close(*p);
    delete p;
  });
  *current = fd;
  for (auto& t : threads_) {
    if (tls) {
      t->SwitchTlsListener(fd, old);
    } else {
      t->SwitchListener(fd, old);
    }
  }
}

Status Server::ReconfigureTls() {
  std::lock_guard<std::mutex> l(listen_mu_);
  const int want = TlsPortSetting();
  if ((want != 0 || ctx_.config().Number("tls-replication") != 0) &&
      !tls_.Configure(ctx_.config()).ok()) {
    return Status::InvalidArgument("Unable to update TLS configuration. Check server logs.");
  }
  if (want == tls_port_) return Status::OK();
  int fd = -1, bound = 0;
  if (want != 0) {
    Status s = OpenListener(ctx_.config().bind(), want, &fd, &bound);
    if (!s.ok()) return Status::IOError("Unable to listen on this port");
  }
  tls_port_ = bound;
  SwitchListener(&tls_listen_fd_, fd, /*tls=*/true);
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
