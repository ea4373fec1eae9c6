// AdaptiveMutex: a mutex that spins briefly before it sleeps (glibc's adaptive mutex).
//
// Why: the keyspace's shard locks guard short critical sections (a hash lookup, a skiplist
// insert: 0.1-3 µs). With a plain futex mutex, two I/O threads serving clients of one hot key
// hand the lock to each other through futex sleeps and wake-ups, which cost more than the work
// they guard (a ZADD benchmark on one key spent a third of its CPU in the scheduler). Spinning
// for about the length of a critical section first lets the waiter take the lock while it is
// still running. Meets the Lockable requirements, so std::lock_guard and friends work.
#pragma once

#include <pthread.h>

namespace fdb {

class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
};

}  // namespace fdb
