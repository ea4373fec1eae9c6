// Server: binds the listening socket, runs the I/O threads, and runs housekeeping (active
// expiry) on the calling thread until a shutdown is requested by SHUTDOWN or a signal.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/status.h"
#include "commands/server_context.h"
#include "net/io_thread.h"

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

 private:
  void Housekeeping();

  ServerContext& ctx_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::atomic<bool> shutdown_{false};
  // Housekeeping state (main thread only).
  static constexpr int64_t kTrimIntervalMs = 5000;
  uint64_t trimmed_at_evictions_ = 0;
  int64_t last_trim_ms_ = 0;
};

}  // namespace fdb
