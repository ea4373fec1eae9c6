// Mutex and MutexLock: std::mutex and a scoped lock that clang's thread-safety analysis can see.
//
// libstdc++ does not annotate std::mutex or std::lock_guard, so a member ABSL_GUARDED_BY a
// std::mutex is not checked (clang refuses the attribute). Mutex is a std::mutex that is an
// ABSL_LOCKABLE capability, and MutexLock (for Mutex or AdaptiveMutex) tells the analysis what it
// holds, so `make threadsafety` checks every access to a guarded member. Same cost as
// std::mutex and std::lock_guard. Code that needs a std::condition_variable keeps std::mutex
// (its wait takes std::unique_lock<std::mutex>) and its "guarded by" comments.
#pragma once

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace fdb {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its lifetime (std::lock_guard, annotated).
template <class M>
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(M& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  M& mu_;
};

}  // namespace fdb
