// The data directory's LOCK file: one process (one open FDB instance) per directory.
//
// flock(LOCK_EX | LOCK_NB) on DIR/LOCK, held for the instance's lifetime and released by the
// kernel when the process dies, so a crash never leaves a stale lock. The holder writes its
// PID into the file so that the refusal can name it - the most asked-for fix in embedded
// stores' issue trackers is an error that says who holds the lock.
// flock locks belong to the open file description, so two DirLocks in one process conflict
// too: a second embedded open of the same directory is refused like a second process.
// Alternative rejected: fcntl (POSIX) locks, which are per process and silently released when
// any descriptor of the file is closed.
//
// This is the one file in the data directory not written through Env: it is about the lock,
// not about data, and there is nothing to inject.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace fdb::storage {

class DirLock {
 public:
  // Takes the lock on `dir` (creating DIR/LOCK). Busy, naming the directory and the holder's
  // PID, if another instance holds it; IOError for other failures.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  ~DirLock();  // releases the lock (the file stays; its content is stale and harmless)
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DirLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace fdb::storage
