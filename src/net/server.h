// Server: binds the listening socket, runs the I/O threads, and runs housekeeping (active
// expiry) on the calling thread until a shutdown is requested by SHUTDOWN or a signal.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "commands/server_context.h"
#include "net/io_thread.h"
#include "net/tls.h"

namespace fdb {

class Server {
 public:
  explicit Server(ServerContext& ctx) : ctx_(ctx) {}
  ~Server();

  // Binds bind:port from the configuration and starts the I/O threads.
  Status Start();
  // Blocks, doing housekeeping, until SHUTDOWN or SIGTERM/SIGINT; then stops the threads.
  // REQUIRES: SIGTERM and SIGINT blocked in every thread (main blocks them before Start).
  void Run();
  int port() const { return port_; }
  // CONFIG SET bind / port: opens a listener on bind:port, hands it to every I/O thread and
  // closes the old one once they all let go of it. On error the old listener stays.
  // Thread-safe.
  Status Rebind(const std::string& bind, int port);
  // CONFIG SET tls-*: with a tls-port, builds a new TLS context from the configuration (new
  // connections use it, existing ones keep theirs), then opens, moves or closes the TLS
  // listener to match tls-port. Errors as Redis's CONFIG SET texts; the old context and
  // listener stay. Thread-safe.
  Status ReconfigureTls();

 private:
  void Housekeeping();
  // A listening socket on the first address of `bind` (Redis's list; `*` is every IPv4
  // address, `::*` every IPv6 one, a leading `-` marks an optional address).
  static Status OpenListener(std::string bind, int port, int* fd, int* bound_port);
  // Hands `fd` (-1: none) to every thread in place of *current, which is closed once they all
  // let go of it. A listener being turned off stops listening at once, so its port can be
  // bound again by the next CONFIG SET. REQUIRES: listen_mu_ held.
  void SwitchListener(int* current, int fd, bool tls);
  int TlsPortSetting() const;

  ServerContext& ctx_;
  std::mutex listen_mu_;  // serializes Rebind
  int listen_fd_ = -1;
  int tls_listen_fd_ = -1;
  int tls_port_ = 0;  // the TLS listener's port (0: none)
  TlsContext tls_;
  std::atomic<int> port_{0};
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::atomic<bool> shutdown_{false};
  // Housekeeping state (main thread only).
  static constexpr int64_t kTrimIntervalMs = 5000;
  uint64_t trimmed_at_evictions_ = 0;
  int64_t last_trim_ms_ = 0;
};

}  // namespace fdb
