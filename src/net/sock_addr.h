// A socket's address as "ip:port" (CLIENT LIST's addr and laddr, log lines), as Redis shows
// it: "[ip6]:port" for IPv6, "path:0" for a Unix socket's local end.
#pragma once

#include <string>

namespace fdb {

// The peer's address (peer) or the local one; "?:0" when the socket has none.
std::string SockAddr(int fd, bool peer);

}  // namespace fdb
