// EventLoop::Post: every posted task runs, with the eventfd edge-triggered and never read:
// whether the loop sleeps when it is posted, or a script's PollWhileBlocked takes the wake-up.
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

// A task posted while a busy script polls the loop (PollWhileBlocked skips posted tasks and
// takes their one report of the eventfd) still runs once the script is done, without another
// Post to wake the loop.
TEST(EventLoopTest, TaskPostedWhileBlockedRunsAfter) {
  EventLoop loop;
  std::thread t([&] { loop.Run(); });
  std::promise<void> ran;
  std::promise<void> first;
  loop.Post([&] {
    std::thread other([&] { loop.Post([&] { ran.set_value(); }); });
    other.join();
    loop.PollWhileBlocked(nullptr);
    first.set_value();
  });
  first.get_future().wait();
  ran.get_future().wait();  // hangs if the taken wake-up was lost
  loop.Stop();
  t.join();
}

}  // namespace
}  // namespace fdb
