#include "server/transport.h"

#include <sys/socket.h>
#include <unistd.h>

namespace fdb {

namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ssize_t Read(char* buf, size_t len) override { return read(fd_, buf, len); }
  ssize_t Write(const char* buf, size_t len) override { return send(fd_, buf, len, MSG_NOSIGNAL); }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<Transport> NewPlainTransport(int fd) {
  return std::make_unique<PlainTransport>(fd);
}

}  // namespace fdb
