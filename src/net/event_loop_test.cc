// EventLoop::Post: a task reaches a loop that sleeps (woken) and one that is busy (run after
// its current batch, without a wake-up).
#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace fdb {
namespace {

TEST(EventLoopTest, PostWakesASleepingLoop) {
  EventLoop loop;
  std::thread t([&] { loop.Run(); });
  for (int i = 0; i < 100; i++) {
    std::promise<void> ran;
    loop.Post([&] { ran.set_value(); });
    ran.get_future().wait();  // a lost wake-up hangs here
  }
  loop.Stop();
  t.join();
}

// Tasks posted while the loop runs a task (from its own thread, and from another thread that
// the running task waits for) all run, and none of them needs a wake-up: the loop looks for
// tasks before it sleeps again.
TEST(EventLoopTest, PostToABusyLoopRunsWithoutAWakeup) {
  EventLoop loop;
  std::thread t([&] { loop.Run(); });
  std::promise<void> first;
  loop.Post([&] { first.set_value(); });
  first.get_future().wait();
  std::promise<uint64_t> done;
  loop.Post([&] {
    const uint64_t before = loop.wakeups();
    std::thread other([&] { loop.Post([] {}); });
    other.join();
    loop.Post([&, before] { loop.Post([&, before] { done.set_value(loop.wakeups() - before); }); });
  });
  EXPECT_EQ(done.get_future().get(), 0u);
  loop.Stop();
  t.join();
}

}  // namespace
}  // namespace fdb
