// EventLoop: one epoll loop, run by one I/O thread.
//
// Everything registered with a loop is touched only by its thread. Other threads talk to it
// through Post(), which queues a task and wakes the loop through an eventfd.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

struct epoll_event;

namespace fdb {

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void OnEvent(uint32_t events) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Stop(). REQUIRES: called from the loop's own thread.
  void Run();
  // Thread-safe.
  void Stop();
  void Post(std::function<void()> task);

  // REQUIRES: loop thread (or before Run).
  bool Add(int fd, uint32_t events, EventHandler* h);
  bool Modify(int fd, uint32_t events, EventHandler* h);
  void Remove(int fd);
  // Calls fn every interval_ms on the loop thread; returns the timer's id.
  size_t AddTimer(int interval_ms, std::function<void()> fn);
  // A disabled timer neither fires nor shortens the wait for events (a timer needed only
  // sometimes, such as the blocked clients' timeouts, costs no wake-ups the rest of the time).
  // Enabling it starts a fresh interval. REQUIRES: loop thread.
  void SetTimerEnabled(size_t id, bool on);
  // Calls fn after each batch of events (group commit of the replies of that batch).
  void SetAfterBatch(std::function<void()> fn) { after_batch_ = std::move(fn); }
  // Calls fn each time the loop is about to wait for events (Redis's beforeSleep), after the
  // batch and the timers: what they queued for other threads goes once per turn of the loop.
  void SetBeforeSleep(std::function<void()> fn) { before_sleep_ = std::move(fn); }

  // Handles the events ready now, without waiting, except those of `skip` and the posted
  // tasks (they wait for the loop): Redis's processEventsWhileBlocked, for a script that has
  // run past busy-reply-threshold, so the thread's other clients get BUSY instead of waiting.
  // REQUIRES: the loop thread, inside a handler.
  void PollWhileBlocked(EventHandler* skip);

  // When the loop began handling its current batch of events (MonoUs), or 0 while it waits
  // for events. Read by other threads to avoid handing work to a loop stuck in a long command.
  int64_t busy_since_us() const { return busy_since_us_.load(std::memory_order_relaxed); }

 private:
  void RunTasks();
  void Dispatch(::epoll_event* events, int n);
  struct Timer {
    int interval_ms;
    int64_t next_ms;
    std::function<void()> fn;
    bool enabled = true;
  };

  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> busy_since_us_{0};  // see busy_since_us()
  std::mutex mu_;                          // guards tasks_
  std::vector<std::function<void()>> tasks_;
  // PollWhileBlocked took a wake-up (reported once: the eventfd is edge-triggered) and left
  // its tasks queued: Run runs them before it waits again. Loop thread only.
  bool wake_skipped_ = false;
  std::vector<Timer> timers_;
  std::function<void()> after_batch_;
  std::function<void()> before_sleep_;
};

}  // namespace fdb
