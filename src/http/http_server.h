// The HTTP listener (`http-port`): GET /metrics for Prometheus, and the dashboard at `/` with
// the JSON API it calls (http/dashboard.h).
//
// The model. HTTP is served by civetweb (Debian's libcivetweb), not by the RESP I/O threads:
// its own accept thread and kHttpThreads workers (base/limits.h), each serving one connection
// at a time, blocking. A scrape only reads the server's counters (commands/server_stats.h),
// taking the locks INFO takes, so it never stops a command for longer than INFO would; a
// dashboard's command runs on the worker as any client's command runs on an I/O thread. An HTTP
// client, however slow, never holds an I/O thread. The alternative rejected: HTTP
// on the I/O threads' event loops, which needs an HTTP parser of our own beside RESP's; a
// library's parser is better tested, and scrapes are rare enough that a thread of their own
// costs nothing.
//
// Limits (base/limits.h): 8 KB of request line and headers, 64 KB of body (POST routes only), a
// deadline on the whole request, keep-alive off, a bounded queue of accepted connections. Routes
// are one table in http_server.cc: a path, the methods it takes, its handler.
//
// Addresses: the `bind` addresses of the RESP listener, each of them (`*` is every IPv4 address,
// a leading `-` marks one that may be missing). Debian's civetweb is built without IPv6:
// IPv6 addresses are skipped with a log line while it is.
//
// HTTPS (`http-tls yes`): every address speaks TLS only, with an SSL_CTX built from the RESP
// listener's tls-* parameters (net/tls.h: certificate, key, CA, tls-auth-clients, protocols,
// ciphers), handed to civetweb; see http/civetweb_tls.h for how civetweb's TLS is made to run on
// Debian 12. A CONFIG SET of http-tls or of a tls-* parameter restarts the listener with a new
// context (a bad certificate keeps the old listener), as a move of its port does.
#pragma once

#include <mutex>
#include <string>

#include "base/status.h"
#include "commands/server_context.h"
#include "http/dashboard.h"

struct mg_context;
struct mg_connection;
typedef struct ssl_ctx_st SSL_CTX;

namespace fdb {

class HttpServer {
 public:
  explicit HttpServer(ServerContext& ctx);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Opens, moves or closes the listener to match `bind` and `http-port` (0: closed). A new
  // listener is opened before the old one closes; on error the old one stays and the error
  // names the address. Thread-safe (called at startup and by CONFIG SET on an I/O thread);
  // closing waits for requests in progress, at most kHttpRequestTimeoutMs.
  Status Reconfigure();
  // Closes the listener and waits for its threads. Before the ServerContext goes away.
  void Stop();
  // The port listened on (0: none).
  int port() const;

 private:
  // Starts civetweb on `ports` (its listening_ports syntax; every port HTTPS with `ssl_ctx`
  // when it is not null). nullptr and *error on failure.
  mg_context* StartContext(const std::string& ports, SSL_CTX* ssl_ctx, std::string* error);
  static int Dispatch(mg_connection* conn, void* self);
  // civetweb's external_ssl_ctx: hands it starting_ssl_ctx_ (a reference of its own) when a
  // context starts, and frees that reference when it stops.
  static int ExternalSslCtx(void** ssl_ctx, void* self);
  // Closes the listener, if any, and forgets what it served. mu_ held.
  void CloseLocked();

  ServerContext& ctx_;
  Dashboard dashboard_;    // thread-safe; its sessions outlive listener moves
  mutable std::mutex mu_;  // serializes Reconfigure and Stop; guards the fields below
  mg_context* mg_ = nullptr;
  std::string bind_;   // the `bind` setting mg_ follows
  std::string ports_;  // the addresses it listens on (civetweb's listening_ports)
  int port_ = 0;
  // The tls-* settings mg_ serves HTTPS with ("" for plain HTTP), and their SSL_CTX.
  std::string tls_;
  SSL_CTX* ssl_ctx_ = nullptr;
  SSL_CTX* starting_ssl_ctx_ = nullptr;  // for ExternalSslCtx, while StartContext runs
};

}  // namespace fdb
