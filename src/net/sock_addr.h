// A socket's address as "ip:port" (CLIENT LIST's addr and laddr, log lines).
#pragma once

#include <string>

namespace fdb {

// The peer's address (peer) or the local one; "?:0" when the socket has none.
std::string SockAddr(int fd, bool peer);

}  // namespace fdb
