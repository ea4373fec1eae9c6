// AdaptiveMutex: a mutex that spins briefly before it sleeps (glibc's adaptive mutex).
//
// Why: the keyspace's shard locks guard short critical sections (a hash lookup, a skiplist
// insert: 0.1-3 µs). With a plain futex mutex, two I/O threads serving clients of one hot key
// hand the lock to each other through futex sleeps and wake-ups, which cost more than the work
// they guard (a ZADD benchmark on one key spent a third of its CPU in the scheduler). Spinning
// for about the length of a critical section first lets the waiter take the lock while it is
// still running. Meets the Lockable requirements, so std::lock_guard and friends work.
//
// Checked two ways. Statically, it is a capability for clang's thread-safety analysis
// (`make threadsafety`): members can be ABSL_GUARDED_BY one, and scoped guards that say so
// (ShardGuard) tell the analysis what they hold. std::lock_guard is not annotated, so the
// analysis does not see a lock taken through it. Dynamically, in builds without NDEBUG (Debug,
// ASan; the default RelWithDebInfo build keeps asserts, so it too) the mutex remembers its
// owner thread and AssertHeld() checks that the caller is it: the `// REQUIRES: ... locked`
// preconditions. With NDEBUG it costs nothing.
#pragma once

#include <pthread.h>
#include <time.h>

#include <cstdint>

#ifndef NDEBUG
#include <atomic>
#endif

#include "absl/base/thread_annotations.h"
#include "base/check.h"

namespace fdb {

class ABSL_LOCKABLE AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
#ifndef NDEBUG
    // A thread locking a mutex it holds would wait for itself forever: say so instead.
    FDB_CHECK_MSG(owner_.load(std::memory_order_relaxed) != pthread_self(),
                  "the calling thread already holds this AdaptiveMutex");
#endif
    pthread_mutex_lock(&mu_);
    SetOwner();
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (pthread_mutex_trylock(&mu_) != 0) return false;
    SetOwner();
    return true;
  }
  // Waits for the mutex at most `timeout_us` microseconds; true when it was taken.
  bool try_lock_for_us(int64_t timeout_us) ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t ns = deadline.tv_nsec + timeout_us * 1000;
    deadline.tv_sec += ns / 1000000000;
    deadline.tv_nsec = ns % 1000000000;
    if (pthread_mutex_clocklock(&mu_, CLOCK_MONOTONIC, &deadline) != 0) return false;
    SetOwner();
    return true;
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
#ifndef NDEBUG
    FDB_CHECK_MSG(owner_.load(std::memory_order_relaxed) == pthread_self(),
                  "unlock of an AdaptiveMutex the thread does not hold");
    owner_.store(pthread_t{}, std::memory_order_relaxed);
#endif
    pthread_mutex_unlock(&mu_);
  }

  // Aborts unless the calling thread holds the mutex (builds without NDEBUG; a no-op with it).
  // Tells the thread-safety analysis that the mutex is held from here on.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
#ifndef NDEBUG
    FDB_CHECK_MSG(owner_.load(std::memory_order_relaxed) == pthread_self(),
                  "the calling thread does not hold this AdaptiveMutex");
#endif
  }

 private:
  void SetOwner() {
#ifndef NDEBUG
    owner_.store(pthread_self(), std::memory_order_relaxed);
#endif
  }

  pthread_mutex_t mu_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#ifndef NDEBUG
  // The holder, or a zero pthread_t. Relaxed: only the holder writes it while holding mu_, and a
  // thread reading it compares it with itself, which only its own writes can make equal.
  std::atomic<pthread_t> owner_{};
#endif
};

}  // namespace fdb
