#include "http/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "base/limits.h"
#include "base/logging.h"
#include "http/civetweb_tls.h"
#include "http/dashboard.h"
#include "http/metrics.h"
#include "http/request.h"
#include "net/tls.h"
#include "server/config.h"

namespace fdb {

namespace {

// The routes, in one place: an exact path, the one method it takes (a GET route takes HEAD too,
// which gets the headers alone), its handler. A POST's body is read whole first, at most
// limits::kHttpMaxBodyBytes; no other route reads one.
struct Route {
  const char* path;
  const char* method;
  void (*handler)(ServerContext& ctx, Dashboard& dashboard, const HttpRequest& req,
                  HttpResponse& r);
};

void ServeMetrics(ServerContext& ctx, Dashboard& dashboard, const HttpRequest& req,
                  HttpResponse& r) {
  // Protected mode holds for the figures too: with `bind` beyond loopback (Redis's default) and
  // no password, only local scrapers get them, as only local clients get INFO.
  if (dashboard.ProtectedModeRefuses(req, r)) return;
  r.content_type = kMetricsContentType;
  r.body = RenderMetrics(ctx);
}

// The dashboard's (http/dashboard.h).
template <void (Dashboard::*method)(const HttpRequest&, HttpResponse&)>
void ServeDashboard(ServerContext&, Dashboard& d, const HttpRequest& req, HttpResponse& r) {
  (d.*method)(req, r);
}

constexpr Route kRoutes[] = {
    {"/metrics", "GET", ServeMetrics},
    {"/", "GET", ServeDashboard<&Dashboard::ServeAsset>},
    {"/dashboard.js", "GET", ServeDashboard<&Dashboard::ServeAsset>},
    {"/dashboard.css", "GET", ServeDashboard<&Dashboard::ServeAsset>},
    {"/api/session", "GET", ServeDashboard<&Dashboard::Session>},
    {"/api/stats", "GET", ServeDashboard<&Dashboard::Stats>},
    {"/api/login", "POST", ServeDashboard<&Dashboard::Login>},
    {"/api/logout", "POST", ServeDashboard<&Dashboard::Logout>},
    {"/api/command", "POST", ServeDashboard<&Dashboard::Command>},
};

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    default:
      return "Error";
  }
}

void Send(mg_connection* conn, const HttpResponse& r, bool head) {
  // Connection: close, as keep-alive is off: one request per connection, so a worker is never
  // held by an idle client between requests. The page's policy: its own script and style only
  // (no inline script, so markup that slipped into the page could not run), in no frame of
  // another site.
  std::string extra;
  for (const auto& [name, value] : r.headers) extra += name + ": " + value + "\r\n";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'\r\n"
            "Referrer-Policy: no-referrer\r\n%sConnection: close\r\n\r\n",
            r.status, StatusText(r.status), r.content_type.c_str(), r.body.size(), extra.c_str());
  if (!head && !r.body.empty()) mg_write(conn, r.body.data(), r.body.size());
}

// civetweb's own messages (a bind failure, a bad request) go to FDB's log, not to stderr.
int LogMessage(const mg_connection*, const char* message) {
  FDB_LOG_VERBOSE("http: %s", message);
  return 1;
}

// Stops civetweb, which listens on `ports` (its listening_ports: "addr:port,..."). Why more than
// mg_stop: civetweb's accept thread polls its sockets for 2 s at a time and sees the stop only
// when the poll returns, so mg_stop alone takes up to 2 s, on an I/O thread when CONFIG SET
// moves the listener, and at every shutdown. A connection to each address ends the poll at
// once: it is made until mg_stop returns (one made before the stop was seen is accepted and
// served as an empty request, which a worker ends at its EOF).
void StopCivetweb(mg_context* mg, const std::string& ports) {
  std::vector<sockaddr_in> wake;
  size_t start = 0;
  while (start < ports.size()) {
    size_t end = ports.find(',', start);
    if (end == std::string::npos) end = ports.size();
    const std::string entry = ports.substr(start, end - start);
    start = end + 1;
    const size_t colon = entry.rfind(':');
    if (colon == std::string::npos || entry[0] == '[') continue;  // IPv6: polls out its 2 s
    std::string host = entry.substr(0, colon);
    if (host == "0.0.0.0") host = "127.0.0.1";
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(entry.c_str() + colon + 1)));
    if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) == 1) wake.push_back(sa);
  }
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(mg);
    stopped.store(true);
  });
  // Bounded: past the request deadline mg_stop is waiting for workers, not for the poll.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::kHttpRequestTimeoutMs);
  while (!stopped.load() && std::chrono::steady_clock::now() < give_up) {
    for (const sockaddr_in& sa : wake) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      (void)connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
      close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopper.join();
}

}  // namespace

HttpServer::HttpServer(ServerContext& ctx) : ctx_(ctx), dashboard_(ctx) {
  // Idempotent in civetweb (a count of users), and must come before mg_start.
  mg_init_library(0);
}

HttpServer::~HttpServer() {
  Stop();
  mg_exit_library();
}

int HttpServer::port() const {
  std::lock_guard<std::mutex> l(mu_);
  return port_;
}

int HttpServer::Dispatch(mg_connection* conn, void* self) {
  auto* server = static_cast<HttpServer*>(self);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  const std::string remote_ip = info->remote_addr;
  req.remote_addr = remote_ip + ":" + std::to_string(info->remote_port);
  req.remote_local = remote_ip == "127.0.0.1" || remote_ip == "::1";
  req.https = info->is_ssl != 0;
  if (const char* host = mg_get_header(conn, "Host")) req.host = host;
  // CLIENT LIST's laddr: the Host the client asked for when it reads as an address (civetweb
  // tells the listening port, not the address); it is only shown.
  const bool host_is_addr =
      !req.host.empty() && req.host.size() < 64 &&
      req.host.find_first_not_of("0123456789abcdefABCDEF.:[]") == std::string::npos;
  req.local_addr = host_is_addr ? req.host : "*:" + std::to_string(info->server_port);
  for (auto [name, field] : {std::pair{"Cookie", &req.cookie},
                             {"Content-Type", &req.content_type},
                             {"X-CSRF-Token", &req.csrf_token},
                             {"Origin", &req.origin}}) {
    if (const char* v = mg_get_header(conn, name)) *field = v;
  }
  const bool head = req.method == "HEAD";
  HttpResponse r;
  const Route* route = nullptr;
  for (const Route& candidate : kRoutes) {
    if (req.path == candidate.path) route = &candidate;
  }
  const bool get = std::string_view(route ? route->method : "") == "GET";
  if (route == nullptr) {
    r.status = 404;
    r.body = "not found\n";
  } else if (req.method != route->method && !(get && head)) {
    r.status = 405;
    r.body = "method not allowed\n";
    r.headers.emplace_back("Allow", get ? "GET, HEAD" : route->method);
  } else if (!get && info->content_length < 0) {
    r.status = 411;  // chunked, or no Content-Length: a body of unknown size is not read
    r.body = "a POST needs a Content-Length\n";
  } else if (!get && static_cast<uint64_t>(info->content_length) > limits::kHttpMaxBodyBytes) {
    r.status = 413;
    r.body = "the body is larger than " + std::to_string(limits::kHttpMaxBodyBytes) + " bytes\n";
  } else {
    if (!get) {
      req.body.resize(static_cast<size_t>(info->content_length));
      size_t got = 0;
      while (got < req.body.size()) {
        const int n = mg_read(conn, req.body.data() + got, req.body.size() - got);
        if (n <= 0) break;  // closed, or past the request deadline
        got += static_cast<size_t>(n);
      }
      req.body.resize(got);
    }
    if (req.body.size() == static_cast<size_t>(get ? 0 : info->content_length)) {
      route->handler(server->ctx_, server->dashboard_, req, r);
    } else {
      r.status = 400;
      r.body = "the body ended before its Content-Length\n";
    }
  }
  Send(conn, r, head);
  return r.status;
}

int HttpServer::ExternalSslCtx(void** ssl_ctx, void* self) {
  if (*ssl_ctx != nullptr) {  // the context stops
    SSL_CTX_free(static_cast<SSL_CTX*>(*ssl_ctx));
    return 1;
  }
  SSL_CTX* ctx = static_cast<HttpServer*>(self)->starting_ssl_ctx_;
  if (ctx == nullptr) return -1;
  SSL_CTX_up_ref(ctx);
  *ssl_ctx = ctx;
  return 1;
}

mg_context* HttpServer::StartContext(const std::string& ports, SSL_CTX* ssl_ctx,
                                     std::string* error) {
  const std::string max_request = std::to_string(limits::kHttpMaxRequestBytes);
  const std::string threads = std::to_string(limits::kHttpThreads);
  const std::string queue = std::to_string(limits::kHttpConnectionQueue);
  const std::string backlog = std::to_string(limits::kHttpListenBacklog);
  const std::string timeout = std::to_string(limits::kHttpRequestTimeoutMs);
  // No document_root: civetweb serves no files and runs no CGI; every path is ours.
  const char* options[] = {"listening_ports",
                           ports.c_str(),
                           "num_threads",
                           threads.c_str(),
                           "connection_queue",
                           queue.c_str(),
                           "listen_backlog",
                           backlog.c_str(),
                           "max_request_size",
                           max_request.c_str(),
                           "request_timeout_ms",
                           timeout.c_str(),
                           "enable_keep_alive",
                           "no",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = LogMessage;
  if (ssl_ctx != nullptr) callbacks.external_ssl_ctx = ExternalSslCtx;
  starting_ssl_ctx_ = ssl_ctx;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = options;
  char text[256] = {};
  unsigned code = 0;
  mg_error_data err{};
  err.code = &code;
  err.text = text;
  err.text_buffer_size = sizeof(text);
  mg_context* mg = mg_start2(&init, &err);
  starting_ssl_ctx_ = nullptr;
  if (mg == nullptr) {
    *error = text[0] ? text : "cannot start the HTTP listener";
    return nullptr;
  }
  // "/" matches every path: Dispatch looks the route up itself, so unknown paths get our 404.
  mg_set_request_handler(mg, "/", Dispatch, this);
  return mg;
}

Status HttpServer::Reconfigure() {
  std::lock_guard<std::mutex> l(mu_);
  const std::string bind = ctx_.config().bind();
  const int port = ctx_.config().http_port();
  std::string tls;  // what HTTPS is served with; "" for plain HTTP
  if (ctx_.config().http_tls()) {
    for (const auto& [name, value] : ctx_.config().Get("tls-*")) tls += name + " " + value + "\n";
  }
  if (port == port_ && bind == bind_ && tls == tls_) return Status::OK();
  // `bind ""` is no TCP listener at all, this one included (as the RESP port's).
  if (port == 0 || bind.find_first_not_of(' ') == std::string::npos) {
    CloseLocked();
    return Status::OK();
  }
  // The new listener's SSL_CTX, freed below unless the listener starts with it.
  SSL_CTX* ssl_ctx = nullptr;
  if (!tls.empty()) {
    Status s = LoadCivetwebTls();
    if (!s.ok()) {
      FDB_LOG_WARNING("http: no HTTPS: %s", s.message().c_str());
      return s;
    }
    std::string why;
    ssl_ctx = NewServerSslContext(ctx_.config(), &why);
    if (ssl_ctx == nullptr) {
      FDB_LOG_WARNING("http: %s", why.c_str());
      return Status::InvalidArgument(why);
    }
    // As civetweb's own contexts: no read-ahead (it polls the socket when SSL_pending is 0, so
    // a request read ahead into OpenSSL's buffer with the handshake would never be seen), and
    // whole writes.
    SSL_CTX_set_read_ahead(ssl_ctx, 0);
    SSL_CTX_clear_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
  }
  const char* scheme = ssl_ctx != nullptr ? "s" : "";  // civetweb's mark of a TLS port
  // civetweb's listening_ports: "addr:port" for each address, the required ones and then the
  // optional ones (Redis's leading `-`), which are dropped if the whole list cannot be bound.
  const bool ipv6 = mg_check_feature(8) != 0;
  std::string required, optional;
  for (const BindAddress& b : BindAddresses(bind)) {
    std::string addr = b.addr;
    const bool is_optional = b.optional;
    if (addr == "*") addr = "0.0.0.0";
    if (addr == "::*") addr = "::";
    std::string entry;
    if (b.ipv6()) {
      if (!ipv6) {
        FDB_LOG_NOTICE("http: not listening on %s: this civetweb has no IPv6", addr.c_str());
        continue;
      }
      entry = "[" + addr + "]:" + std::to_string(port) + scheme;
    } else {
      entry = addr + ":" + std::to_string(port) + scheme;
    }
    std::string& list = is_optional ? optional : required;
    if (!list.empty()) list += ',';
    list += entry;
  }
  if (required.empty() && optional.empty()) {
    if (ssl_ctx != nullptr) SSL_CTX_free(ssl_ctx);
    return Status::InvalidArgument("no address of bind '" + bind + "' for the HTTP listener");
  }
  const std::string all = required.empty()   ? optional
                          : optional.empty() ? required
                                             : required + "," + optional;
  auto open = [&](std::string* error) {
    mg_context* mg = StartContext(all, ssl_ctx, error);
    if (mg == nullptr && !optional.empty() && !required.empty()) {
      mg = StartContext(required, ssl_ctx, error);
    }
    return mg;
  };
  std::string error;
  mg_context* mg = open(&error);
  if (mg == nullptr && mg_ != nullptr && port == port_) {
    // The old listener holds the port the new addresses want (bind changed, same port): let it
    // go first, and take it back if the new one still cannot listen.
    StopCivetweb(mg_, ports_);
    mg_ = nullptr;
    mg = open(&error);
    if (mg == nullptr) {
      // Best effort: the addresses the old listener had a moment ago.
      std::string ignored;
      mg_ = StartContext(ports_, ssl_ctx_, &ignored);
      if (mg_ == nullptr) {
        FDB_LOG_WARNING("http: the listener on %s is closed: %s", ports_.c_str(), ignored.c_str());
        CloseLocked();
      }
    }
  }
  if (mg == nullptr) {
    if (ssl_ctx != nullptr) SSL_CTX_free(ssl_ctx);
    FDB_LOG_WARNING("http: cannot listen on %s: %s", all.c_str(), error.c_str());
    return Status::IOError("cannot listen on " + all + ": " + error);
  }
  CloseLocked();
  mg_ = mg;
  ssl_ctx_ = ssl_ctx;
  tls_ = tls;
  bind_ = bind;
  port_ = port;
  ports_ = all;
  FDB_LOG_NOTICE("http: listening on %s%s", all.c_str(), ssl_ctx != nullptr ? " (HTTPS)" : "");
  return Status::OK();
}

void HttpServer::CloseLocked() {
  if (mg_ != nullptr) StopCivetweb(mg_, ports_);
  mg_ = nullptr;
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
  tls_.clear();
  port_ = 0;
  bind_.clear();
  ports_.clear();
}

void HttpServer::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  CloseLocked();
  // No request runs now: the sessions' clients leave the client list before the server closes.
  dashboard_.EndSessions();
}

}  // namespace fdb
