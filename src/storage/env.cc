#include "storage/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace fdb::storage {
namespace {

Status PosixError(const std::string& context, int err) {
  return Status::IOError(context + ": " + std::strerror(err));
}

// Retries on EINTR; other errors are returned.
int RetryOnEintr(auto fn) {
  int r;
  do {
    r = fn();
  } while (r < 0 && errno == EINTR);
  return r;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    // pwrite at our own offset rather than O_APPEND, so that after Truncate the next write
    // lands exactly at the cut, whatever the kernel's file position.
    while (!data.empty()) {
      const uint64_t at = size_.load(std::memory_order_relaxed);
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      size_.store(at + static_cast<uint64_t>(n), std::memory_order_release);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  Status Sync() override {
    if (RetryOnEintr([&] { return ::fdatasync(fd_); }) < 0) return PosixError(path_, errno);
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (RetryOnEintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) < 0) {
      return PosixError(path_, errno);
    }
    size_.store(size, std::memory_order_release);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int r = ::close(fd_);
    fd_ = -1;
    if (r < 0) return PosixError(path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }

 private:
  std::string path_;
  int fd_;
  // Atomic: a Sync (and Size) may run on one thread while another appends (the log's
  // background fsync, storage/log_writer.h).
  std::atomic<uint64_t> size_{0};
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, size_t n, char* dst) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) < 0) return PosixError(path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = RetryOnEintr(
        [&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": " + std::strerror(errno));
      return PosixError(path, errno);
    }
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return PosixError(path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return PosixError(dir, errno);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) < 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) < 0) return PosixError(from + " -> " + to, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = RetryOnEintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return PosixError(dir, errno);
    int r = RetryOnEintr([&] { return ::fsync(fd); });
    int err = errno;
    ::close(fd);
    if (r < 0) return PosixError(dir, err);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_WRONLY | O_CLOEXEC); });
    if (fd < 0) return PosixError(path, errno);
    int r = RetryOnEintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); });
    if (r == 0) r = RetryOnEintr([&] { return ::fsync(fd); });
    int err = errno;
    ::close(fd);
    if (r < 0) return PosixError(path, err);
    return Status::OK();
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();  // never destroyed: used by detached threads at exit
  return env;
}

Result<std::string> ReadFileToString(Env* env, const std::string& path) {
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  std::string data(*size, '\0');
  auto n = (*file)->Read(0, data.size(), data.data());
  if (!n.ok()) return n.status();
  data.resize(*n);
  return data;
}

}  // namespace fdb::storage
