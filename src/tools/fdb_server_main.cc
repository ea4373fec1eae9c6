// fdb-server: the FDB network server.
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#ifdef FDB_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "base/logging.h"
#include "commands/server_context.h"
#include "http/http_server.h"
#include "net/server.h"
#include "server/config_help.h"

namespace {

// Whether to tell a service manager our state (Redis's `supervised`): systemd's Type=notify
// waits for READY=1 before it starts the units ordered after this one, so READY=1 is sent once
// the data is recovered and the listener is open, never before.
bool NotifySystemd(const fdb::Config& config) {
  switch (config.supervised()) {
    case fdb::Config::kSupervisedSystemd:
      return true;
    case fdb::Config::kSupervisedAuto:
      return getenv("NOTIFY_SOCKET") != nullptr;
    case fdb::Config::kSupervisedNo:
    case fdb::Config::kSupervisedUpstart:
      return false;
  }
  return false;
}

void Notify(bool enabled, const char* state) {
#ifdef FDB_HAVE_SYSTEMD
  // Without NOTIFY_SOCKET (not started by systemd) sd_notify does nothing and returns 0.
  if (enabled && sd_notify(0, state) < 0) FDB_LOG_WARNING("sd_notify(%s) failed", state);
#else
  (void)enabled;
  (void)state;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // The program's own flags; everything else is a parameter (server/config.h).
  bool print_config = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; i++) {
    if (i > 0 && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
      fputs(fdb::HelpText(fdb::Config(), FDB_VERSION).c_str(), stdout);
      return 0;
    }
    if (i > 0 && (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0)) {
      printf("fdb-server %s\n", FDB_VERSION);
      return 0;
    }
    if (i > 0 && strcmp(argv[i], "--print-config") == 0) {
      print_config = true;
      continue;
    }
    args.push_back(argv[i]);
  }
  if (print_config) {
    fdb::Config config;
    fdb::Status s = config.ParseArgs(static_cast<int>(args.size()), args.data());
    if (!s.ok()) {
      fprintf(stderr, "fdb-server: %s\n", s.message().c_str());
      return 2;
    }
    fputs(fdb::ConfigFileText(config).c_str(), stdout);
    return 0;
  }
  // One malloc arena for the whole process, set before any thread exists. With glibc's default
  // (an arena per thread, up to 8 per core), entries created on one I/O thread, evicted by the
  // housekeeping thread and re-created on another leave free chunks scattered over several
  // arenas where the next allocations cannot reuse them: with a RAM cache of 10% of the values,
  // RSS grew to 1.21x of budget + index at 200k keys, against 1.13x with one arena. Small
  // allocations take the per-thread tcache first, so the arena's lock is rarely contended.
  mallopt(M_ARENA_MAX, 1);
  // Blocks of 1 MB and more (a collection's full image written for eviction or a checkpoint,
  // a big reply) are mapped and unmapped on their own. glibc's default raises that threshold
  // to the largest block freed so far (up to 32 MB), after which such images are carved from
  // the heap and their freed space stays in RSS: with one list of 5M elements under
  // --maxmemory 8mb, peak RSS was 128 MB with the default and 95 MB with this.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Block the shutdown signals in every thread; Server::Run() waits for them synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto ctx = std::make_unique<fdb::ServerContext>();
  fdb::Status s = ctx->config().ParseArgs(argc, argv);
  if (!s.ok()) {
    fprintf(stderr, "fdb-server: %s\n(fdb-server --help lists the parameters)\n",
            s.message().c_str());
    return 2;
  }
  // From here on everything goes through the log (base/logging.h): to `logfile`, or stdout.
  // As redis-server, a log file that cannot be opened stops the start.
  s = fdb::OpenLogFile(ctx->config().logfile());
  if (!s.ok()) {
    fprintf(stderr, "fdb-server: %s\n", s.message().c_str());
    return 1;
  }
  if (ctx->config().syslog_enabled()) {
    fdb::OpenSyslog(ctx->config().syslog_ident(), ctx->config().syslog_facility());
  }
  const bool notify = NotifySystemd(ctx->config());
#ifndef FDB_HAVE_SYSTEMD
  if (ctx->config().supervised() == fdb::Config::kSupervisedSystemd) {
    FDB_LOG_WARNING(
        "'supervised systemd': this fdb-server was built without libsystemd and "
        "cannot notify systemd");
  }
#endif
  if (ctx->config().supervised() == fdb::Config::kSupervisedUpstart) {
    FDB_LOG_WARNING("'supervised upstart' is not supported: nothing is signalled to upstart");
  }
  ctx->ApplyConfig();
  // ACL users: `user` lines of the config file, or the ACL file (not both, as Redis).
  {
    std::string aclfile;
    for (const auto& [k, v] : ctx->config().Get("aclfile")) aclfile = v;
    if (!aclfile.empty() && std::filesystem::path(aclfile).is_relative()) {
      aclfile = (std::filesystem::path(ctx->config().dir()) / aclfile).string();
    }
    s = ctx->acl().LoadAtStartup(ctx->config().acl_user_lines, aclfile);
    if (!s.ok()) {
      FDB_LOG_WARNING("%s", s.message().c_str());
      return 1;
    }
  }
  // A redis.conf starts fdb-server; say what in it does not apply.
  for (const std::string& w : ctx->config().StartupWarnings()) FDB_LOG_WARNING("%s", w.c_str());
  // As redis-server: the pid file is written when one is configured, and a failure to write
  // it is only a warning (Debian's /run/redis may belong to another user).
  const std::string pidfile = ctx->config().pidfile();
  if (!pidfile.empty()) {
    if (FILE* f = fopen(pidfile.c_str(), "w")) {
      fprintf(f, "%d\n", static_cast<int>(getpid()));
      fclose(f);
    } else {
      FDB_LOG_WARNING("failed to write PID file '%s': %s", pidfile.c_str(), strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(ctx->config().dir(), ec);
  if (ec) {
    FDB_LOG_WARNING("cannot create data directory '%s': %s", ctx->config().dir().c_str(),
                    ec.message().c_str());
    return 1;
  }
  // Recover before listening: a client never sees a partly loaded keyspace.
  s = ctx->OpenStorage();
  if (!s.ok()) {
    FDB_LOG_WARNING("cannot open the data directory '%s': %s", ctx->config().dir().c_str(),
                    s.ToString().c_str());
    return 1;
  }
  if (ctx->storage() != nullptr) {
    fdb::StorageStats st = ctx->storage()->stats();
    FDB_LOG_NOTICE("recovered %zu keys (%llu log records) in %.3f s",
                   ctx->keyspace().TotalKeys(fdb::Txn()),
                   static_cast<unsigned long long>(st.recovered_records), st.recovery_seconds);
  }
  if (ctx->storage() == nullptr) {
    // Without the log: the RDB file SAVE, BGSAVE or the last shutdown wrote, as Redis loads it.
    s = ctx->snapshots().LoadAtStartup();
    if (!s.ok()) {
      FDB_LOG_WARNING("Fatal error loading the DB: %s. Exiting.", s.ToString().c_str());
      return 1;
    }
  }
  ctx->ApplyConfig();
  // The HTTP listener (http-port; off by default). Every figure a scrape reads exists once the
  // keyspace is recovered; the hook is set before any I/O thread may run CONFIG SET.
  fdb::HttpServer http(*ctx);
  s = http.Reconfigure();
  if (!s.ok()) {
    FDB_LOG_WARNING("%s", s.message().c_str());
    return 1;
  }
  ctx->reconfigure_http = [&http] { return http.Reconfigure(); };
  fdb::Server server(*ctx);
  s = server.Start();
  if (!s.ok()) {
    FDB_LOG_WARNING("%s", s.message().c_str());
    return 1;
  }
  // After the listener: a replica tells its master the port it listens on.
  ctx->replication().Start();
  // always-show-logo: redis-server then prints its logo, with the port and the pid, into its
  // log, and tools wait for it there: Redis's own test suite looks for " PID: <pid>" and then
  // "Ready to accept" before it talks to a server it started. These two lines go to standard
  // output whatever `logfile` says, as the logo does.
  if (ctx->config().always_show_logo()) {
    printf("fdb-server %s, standalone mode, Port: %d PID: %d\n", FDB_VERSION, server.port(),
           static_cast<int>(getpid()));
    printf("Ready to accept connections tcp\n");
    fflush(stdout);
  }
  FDB_LOG_NOTICE("ready to accept connections on %s:%d (threads %d, dir %s)",
                 ctx->config().bind().c_str(), server.port(),
                 ctx->config().threads() > 0
                     ? ctx->config().threads()
                     : static_cast<int>(std::thread::hardware_concurrency()),
                 ctx->config().dir().c_str());
  if (const std::string unixsocket = ctx->config().String("unixsocket"); !unixsocket.empty()) {
    FDB_LOG_NOTICE("The server is now ready to accept connections at %s", unixsocket.c_str());
  }
  Notify(notify, "READY=1");
  server.Run();
  // From here the service manager sees the stop as ours, not as a crash, while the checkpoint
  // below is written.
  Notify(notify, "STOPPING=1");
  // No scrape reads the keyspace or the log while they close.
  ctx->reconfigure_http = nullptr;
  http.Stop();
  // A clean stop writes a checkpoint (unless SHUTDOWN NOSAVE), so the next start reads the
  // index instead of replaying the log; then the log is flushed and closed.
  if (ctx->storage() != nullptr && ctx->shutdown_save.load()) {
    fdb::Status cs = ctx->storage()->Save();
    if (cs.ok()) {
      FDB_LOG_NOTICE("checkpoint written at shutdown");
    } else {
      FDB_LOG_WARNING("checkpoint at shutdown failed: %s", cs.ToString().c_str());
    }
  }
  ctx->CloseStorage();
  if (!pidfile.empty()) unlink(pidfile.c_str());
  FDB_LOG_WARNING("FDB is now ready to exit, bye bye...");
  return 0;
}
