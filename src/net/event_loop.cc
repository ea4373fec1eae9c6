#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/clock.h"
#include "base/logging.h"

namespace fdb {

namespace {
class WakeHandler : public EventHandler {
 public:
  void OnEvent(uint32_t) override {}
};
WakeHandler kWakeHandler;
}  // namespace

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) {
    FDB_LOG_WARNING("epoll/eventfd: %s", strerror(errno));
    abort();
  }
  // Edge-triggered: every write reports the eventfd once, so the loop never reads it (one
  // syscall fewer per wake-up; its counter cannot reach its 2^64 limit). A report that
  // PollWhileBlocked takes is remembered (wake_skipped_).
  Add(wakefd_, EPOLLIN | EPOLLET, &kWakeHandler);
}

EventLoop::~EventLoop() {
  close(wakefd_);
  close(epfd_);
}

void EventLoop::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  ssize_t r = write(wakefd_, &one, sizeof(one));
  (void)r;
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t r = write(wakefd_, &one, sizeof(one));
  (void)r;
}

bool EventLoop::Add(int fd, uint32_t events, EventHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::Modify(int fd, uint32_t events, EventHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

size_t EventLoop::AddTimer(int interval_ms, std::function<void()> fn) {
  timers_.push_back({interval_ms, MonoUs() / 1000 + interval_ms, std::move(fn)});
  return timers_.size() - 1;
}

void EventLoop::SetTimerEnabled(size_t id, bool on) {
  Timer& t = timers_[id];
  if (on && !t.enabled) t.next_ms = MonoUs() / 1000 + t.interval_ms;
  t.enabled = on;
}

void EventLoop::RunTasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> l(mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t();
}

void EventLoop::Dispatch(epoll_event* events, int n) {
  for (int i = 0; i < n; i++) {
    auto* h = static_cast<EventHandler*>(events[i].data.ptr);
    if (h == &kWakeHandler) {
      RunTasks();
      continue;
    }
    h->OnEvent(events[i].events);
  }
}

void EventLoop::PollWhileBlocked(EventHandler* skip) {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epfd_, events, kMaxEvents, 0);
  for (int i = 0; i < n; i++) {
    auto* h = static_cast<EventHandler*>(events[i].data.ptr);
    if (h == &kWakeHandler) {
      wake_skipped_ = true;
      continue;
    }
    if (h == skip) continue;
    h->OnEvent(events[i].events);
  }
}

void EventLoop::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_relaxed)) {
    int timeout = -1;
    int64_t now = MonoUs() / 1000;
    for (auto& t : timers_) {
      if (!t.enabled) continue;
      int64_t wait = t.next_ms - now;
      if (wait < 0) wait = 0;
      if (timeout < 0 || wait < timeout) timeout = static_cast<int>(wait);
    }
    if (before_sleep_) before_sleep_();
    // A wake-up PollWhileBlocked took: its tasks run now, before the events that came after.
    const bool skipped = wake_skipped_;
    wake_skipped_ = false;
    busy_since_us_.store(0, std::memory_order_relaxed);
    int n = epoll_wait(epfd_, events, kMaxEvents, skipped ? 0 : timeout);
    if (n < 0 && errno != EINTR) {
      FDB_LOG_WARNING("epoll_wait: %s", strerror(errno));
      abort();
    }
    busy_since_us_.store(MonoUs(), std::memory_order_relaxed);
    if (skipped) RunTasks();
    Dispatch(events, n);
    if (after_batch_) after_batch_();
    if (!timers_.empty()) {
      now = MonoUs() / 1000;
      for (auto& t : timers_) {
        if (t.enabled && now >= t.next_ms) {
          t.next_ms = now + t.interval_ms;
          t.fn();
        }
      }
    }
  }
  RunTasks();
}

}  // namespace fdb
