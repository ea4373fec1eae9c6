// One HTTP request and its response as the routes see them (http/http_server.cc reads and
// writes them with civetweb; the handlers never touch civetweb).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb {

struct HttpRequest {
  std::string method;
  std::string path;           // without the query string
  std::string remote_addr;    // the peer, "ip:port"
  std::string local_addr;     // our end, "ip:port"
  bool remote_local = false;  // the peer is 127.0.0.1 or ::1 (Redis's islocalClient)
  bool https = false;         // it came over TLS (http-tls)
  // Headers the routes read ("" when absent).
  std::string cookie, content_type, csrf_token, origin, host;
  std::string body;  // POST only, at most limits::kHttpMaxBodyBytes
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the fixed ones
};

}  // namespace fdb
