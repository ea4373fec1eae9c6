// Server: binds the listening sockets, runs the I/O threads, and runs housekeeping (active
// expiry) on the calling thread until a shutdown is requested by SHUTDOWN or a signal.
//
// Listeners, as Redis 7.0's: one TCP socket per address of `bind` on `port` (none for `bind
// ""`), the same on `tls-port`, and the Unix socket `unixsocket`. Every I/O thread accepts on
// each of them (EPOLLEXCLUSIVE wakes one thread per connection).
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

  // Binds bind:port and unixsocket from the configuration and starts the I/O threads. Fails
  // when an address cannot be had (Redis's rules: see OpenListeners) or nothing is listened on.
  Status Start();
  // Blocks, doing housekeeping, until SHUTDOWN or SIGTERM/SIGINT; then stops the threads.
  // REQUIRES: SIGTERM and SIGINT blocked in every thread (main blocks them before Start).
  void Run();
  int port() const { return port_; }
  // CONFIG SET bind / port: opens listeners on bind:port, hands them to every I/O thread and
  // closes the old ones once they all let go of them (a new `bind` moves the TLS listeners
  // too, as Redis's). On error the old addresses are listened on again. Thread-safe.
  Status Rebind(const std::string& bind, int port);
  // CONFIG SET tls-*: with a tls-port, builds a new TLS context from the configuration (new
  // connections use it, existing ones keep theirs), then opens, moves or closes the TLS
  // listener to match tls-port. Errors as Redis's CONFIG SET texts; the old context and
  // listener stay. Thread-safe.
  Status ReconfigureTls();

 private:
  void Housekeeping();
  // Listening sockets on `port` at every address of `bind`, as Redis's listenToPort: `*` is
  // every IPv4 address, `::*` every IPv6 one (IPv6 only), an address with a `:` is IPv6; an
  // address with a leading `-` is optional, skipped when the host does not have it
  // (EADDRNOTAVAIL), and any address is skipped when its protocol is not there (no IPv6).
  // Port 0 is a free port, the same one for every address. An empty `bind` opens nothing. On
  // error nothing stays open. *bound_port: the port listened on (0: no socket).
  static Status OpenListeners(const std::string& bind, int port, std::vector<int>* fds,
                              int* bound_port);
  // Replaces *current (listening on old_bind:old_port) with sockets on bind:port
  // (SwitchListeners). On another port the new ones are opened first and an error leaves
  // *current as it was; on the same port *current lets go first (its addresses may be the ones
  // wanted, as Redis's changeBindAddr does) and on error old_bind:old_port is listened on
  // again. REQUIRES: listen_mu_ held.
  Status MoveListeners(std::vector<int>* current, ListenerKind kind, const std::string& bind,
                       int port, const std::string& old_bind, int old_port, int* bound_port);
  // The Unix socket at `unixsocket` (a file left there is replaced, as Redis), with
  // `unixsocketperm` when not 0.
  Status OpenUnixSocket();
  // Hands `fds` to every thread in place of *current, which are closed once they all let go of
  // them. Listeners being turned off stop listening at once, so their port can be bound again
  // by the next CONFIG SET. REQUIRES: listen_mu_ held.
  void SwitchListeners(std::vector<int>* current, std::vector<int> fds, ListenerKind kind);
  int TlsPortSetting() const;

  ServerContext& ctx_;
  std::mutex listen_mu_;  // serializes Rebind and ReconfigureTls
  std::vector<int> listen_fds_;
  std::vector<int> tls_listen_fds_;
  std::string bind_;  // the addresses listen_fds_ and tls_listen_fds_ were opened on
  int tls_port_ = 0;  // the TLS listeners' port (0: none)
  int unix_fd_ = -1;
  std::string unix_path_;  // unix_fd_'s file, removed at exit
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
