#include "storage/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/file_names.h"
#include "storage/format.h"

namespace fdb::storage {
namespace {

// The PID written by the holder, or "unknown" if it has not written it yet (it truncates and
// writes right after locking, so a racing reader may see an empty file).
std::string ReadHolder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
  std::string path = JoinPath(dir, kLockFileName);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  int r;
  do {
    r = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    std::string holder = ReadHolder(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy("data directory " + dir + " is in use by another FDB instance (pid " +
                          holder + " holds " + path + ")");
    }
    return Status::IOError(path + ": flock: " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) < 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError(path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DirLock>(new DirLock(std::move(path), fd));
}

DirLock::~DirLock() { ::close(fd_); }

}  // namespace fdb::storage
