// PubSubRegistry: counts, receivers, encoding, the local/remote split, and concurrent
// publishers with subscribers coming and going (run under ASan by `make asan`).
#include "commands/pubsub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "base/slot.h"
#include "commands/introspection.h"
#include "commands/registry.h"
#include "commands/server_context.h"
#include "commands/test_util.h"

namespace fdb {
namespace {

// A sink that records what it is given, per receiver, as an I/O thread's inbox would; and
// how many deliveries it was handed, and what this thread sent to others (Send).
class RecordingSink : public MessageSink {
 public:
  void Deliver(std::vector<Delivery>& batch, bool local, int64_t) override {
    std::lock_guard<std::mutex> l(mu);
    deliveries += batch.size();
    for (Delivery& d : batch) {
      d.ForEach([&](Subscriber& s) { got.push_back({s.client_id, *d.msg, local}); });
    }
  }
  void Send(MessageSink* to, std::vector<Delivery>& batch, int64_t) override {
    sent += batch.size();
    to->Deliver(batch, /*local=*/false, 0);
  }
  size_t deliveries = 0;
  size_t sent = 0;
  struct Got {
    uint64_t client;
    std::string msg;
    bool local;
  };
  std::mutex mu;
  std::vector<Got> got;
};

class CountingSink : public MessageSink {
 public:
  void Deliver(std::vector<Delivery>& batch, bool, int64_t) override {
    for (Delivery& d : batch) d.ForEach([&](Subscriber&) { n++; });
  }
  std::atomic<int64_t> n{0};
};

class NullEndpoint : public PubSubEndpoint {
 public:
  void PushMessage(const std::string&) override {}
  void CloseForPubSubLimit() override {}
  void ShardChannelLost(const std::string&) override {}
};

std::shared_ptr<Subscriber> Sub(uint64_t id, MessageSink* sink) {
  static NullEndpoint endpoint;
  return std::make_shared<Subscriber>(id, sink, &endpoint);
}

using K = PubSubRegistry;

TEST(PubSubRegistryTest, EncodeIsRedisArray) {
  EXPECT_EQ(K::Encode("message", {}, "ch", "hi"),
            "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(K::Encode("pmessage", "c*", "ch", ""),
            "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n");
}

TEST(PubSubRegistryTest, PublishCountsChannelAndEveryMatchingPattern) {
  PubSubRegistry reg;
  RecordingSink a, b;
  auto s1 = Sub(1, &a), s2 = Sub(2, &b);
  reg.Add(K::kChannel, "news", s1);
  reg.Add(K::kPattern, "n*", s1);
  reg.Add(K::kPattern, "ne?s", s1);
  reg.Add(K::kPattern, "n*", s2);
  reg.Add(K::kPattern, "x*", s2);
  EXPECT_EQ(reg.Count(K::kChannel), 1);
  EXPECT_EQ(reg.Count(K::kPattern), 3);  // unique patterns
  EXPECT_EQ(reg.Publish("news", "m", false, &a, 0), 4);
  ASSERT_EQ(a.got.size(), 3u);
  EXPECT_EQ(a.got[0].msg, K::Encode("message", {}, "news", "m"));  // the channel first
  EXPECT_TRUE(a.got[0].local);                                     // the publisher's own thread
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(b.got[0].msg, K::Encode("pmessage", "n*", "news", "m"));
  EXPECT_FALSE(b.got[0].local);
  EXPECT_EQ(reg.Publish("other", "m", false, nullptr, 0), 0);
}

// A publish hands each receiving thread one delivery per message (the message and that
// thread's list of receivers), not one per receiver; every receiver still gets it, once.
TEST(PubSubRegistryTest, PublishHandsOneDeliveryPerThread) {
  PubSubRegistry reg;
  RecordingSink a, b;
  std::vector<std::shared_ptr<Subscriber>> subs;
  for (uint64_t i = 0; i < 1000; i++) {
    subs.push_back(Sub(i, i % 2 ? &b : &a));
    reg.Add(K::kChannel, "ch", subs.back());
  }
  reg.Add(K::kPattern, "c*", subs[1]);
  EXPECT_EQ(reg.Publish("ch", "m", false, &a, 0), 1001);
  EXPECT_EQ(a.deliveries, 1u);
  EXPECT_EQ(b.deliveries, 2u);  // the channel's message, then the pattern's
  EXPECT_EQ(a.sent, 2u);        // to b, from the publisher's thread a
  ASSERT_EQ(a.got.size(), 500u);
  ASSERT_EQ(b.got.size(), 501u);
  EXPECT_EQ(b.got.back().client, 1u);
  EXPECT_EQ(b.got.back().msg, K::Encode("pmessage", "c*", "ch", "m"));
  // A subscriber that left gets nothing from the next publish.
  reg.Remove(K::kChannel, "ch", subs[0].get());
  EXPECT_EQ(reg.Publish("ch", "m", false, &a, 0), 1000);
  EXPECT_EQ(a.got.size(), 500u + 499u);
  for (size_t i = 500; i < a.got.size(); i++) EXPECT_NE(a.got[i].client, 0u);
}

// MONITOR lines for a monitor on another thread take the outbox path of every other push
// (here->Send), so they stay in order with the messages and invalidations that thread sent
// before them.
TEST(PubSubRegistryTest, MonitorLinesGoThroughTheSendingThread) {
  Monitors monitors;
  RecordingSink here, other;
  auto m = Sub(7, &other);
  monitors.Add(m);
  const CommandSpec* get = CommandRegistry::Default().Find("get");
  ASSERT_NE(get, nullptr);
  std::vector<std::string_view> args = {"get", "k"};
  monitors.Feed(args, *get, 0, "127.0.0.1:1", &here, 0);
  EXPECT_EQ(here.sent, 1u);
  ASSERT_EQ(other.got.size(), 1u);
  EXPECT_NE(other.got[0].msg.find("\"get\" \"k\""), std::string::npos);
  // A monitor on the caller's own thread gets its line through the inbox, not at once.
  auto local = Sub(8, &here);
  monitors.Add(local);
  monitors.Feed(args, *get, 0, "127.0.0.1:1", &here, 0);
  EXPECT_EQ(here.sent, 2u);
  ASSERT_EQ(here.got.size(), 1u);
  EXPECT_FALSE(here.got[0].local);
}

TEST(PubSubRegistryTest, ShardChannelsIgnorePatternsAndChannels) {
  PubSubRegistry reg;
  RecordingSink a;
  auto s = Sub(1, &a);
  reg.Add(K::kChannel, "c", s);
  reg.Add(K::kPattern, "*", s);
  EXPECT_EQ(reg.Publish("c", "m", /*shard=*/true, nullptr, 0), 0);
  reg.Add(K::kShard, "c", s);
  EXPECT_EQ(reg.Publish("c", "m", true, nullptr, 0), 1);
  EXPECT_EQ(a.got.back().msg, K::Encode("smessage", {}, "c", "m"));
  EXPECT_EQ(reg.Count(K::kShard), 1);
}

TEST(PubSubRegistryTest, RemoveDropsEmptyNames) {
  PubSubRegistry reg;
  RecordingSink a;
  auto s1 = Sub(1, &a), s2 = Sub(2, &a);
  reg.Add(K::kChannel, "c", s1);
  reg.Add(K::kChannel, "c", s2);
  EXPECT_EQ(reg.NumSubscribers(K::kChannel, "c"), 2);
  reg.Remove(K::kChannel, "c", s1.get());
  EXPECT_EQ(reg.NumSubscribers(K::kChannel, "c"), 1);
  EXPECT_EQ(reg.Count(K::kChannel), 1);
  reg.Remove(K::kChannel, "c", s2.get());
  reg.Remove(K::kChannel, "c", s2.get());  // not there: nothing
  EXPECT_EQ(reg.Count(K::kChannel), 0);
  EXPECT_TRUE(reg.Names(K::kChannel, "").empty());
  EXPECT_EQ(reg.Publish("c", "m", false, nullptr, 0), 0);
}

TEST(PubSubRegistryTest, DropShardChannelsTellsEachThreadOfItsSlotsOnly) {
  PubSubRegistry reg;
  RecordingSink a, b;
  reg.Add(K::kShard, "{x}1", Sub(1, &a));
  reg.Add(K::kShard, "{x}1", Sub(2, &b));
  reg.Add(K::kShard, "{x}2", Sub(1, &a));
  reg.Add(K::kShard, "y", Sub(1, &a));
  reg.Add(K::kChannel, "{x}1", Sub(3, &a));  // not a shard channel: untouched
  const int lost = KeySlot("x");
  reg.DropShardChannels([&](int slot) { return slot == lost; });
  EXPECT_EQ(reg.NumSubscribers(K::kShard, "{x}1"), 0);
  EXPECT_EQ(reg.NumSubscribers(K::kShard, "{x}2"), 0);
  EXPECT_EQ(reg.NumSubscribers(K::kShard, "y"), 1);
  EXPECT_EQ(reg.NumSubscribers(K::kChannel, "{x}1"), 1);
  EXPECT_EQ(reg.Count(K::kShard), 1);
  // Client 1 (thread a) loses two channels, client 2 (thread b) one; never locally.
  std::vector<std::string> on_a;
  for (const auto& g : a.got) {
    EXPECT_EQ(g.client, 1u);
    EXPECT_FALSE(g.local);
    on_a.push_back(g.msg);
  }
  std::sort(on_a.begin(), on_a.end());
  EXPECT_EQ(on_a, (std::vector<std::string>{"{x}1", "{x}2"}));
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(b.got[0].client, 2u);
  EXPECT_EQ(b.got[0].msg, "{x}1");
}

TEST(PubSubRegistryTest, NamesMatchGlob) {
  PubSubRegistry reg;
  RecordingSink a;
  auto s = Sub(1, &a);
  for (const char* n : {"news.a", "news.b", "misc"}) reg.Add(K::kChannel, n, s);
  auto names = reg.Names(K::kChannel, "news.*");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"news.a", "news.b"}));
  EXPECT_EQ(reg.Names(K::kChannel, "").size(), 3u);
}

// Publishers on several threads while subscribers are added and removed: every publish counts
// the receivers it delivered to, and nothing outlives its owner (ASan).
TEST(PubSubRegistryTest, ConcurrentPublishAndChurn) {
  PubSubRegistry reg;
  CountingSink sink;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> counted{0};
  std::vector<std::thread> pubs;
  for (int t = 0; t < 3; t++) {
    pubs.emplace_back([&] {
      while (!stop.load()) counted += reg.Publish("ch", "payload", false, nullptr, 0);
    });
  }
  for (int i = 0; i < 2000; i++) {
    auto s = Sub(static_cast<uint64_t>(i), &sink);
    reg.Add(K::kChannel, "ch", s);
    reg.Add(K::kPattern, "c*", s);
    reg.Remove(K::kChannel, "ch", s.get());
    reg.Remove(K::kPattern, "c*", s.get());
  }
  stop = true;
  for (auto& t : pubs) t.join();
  EXPECT_EQ(sink.n.load(), counted.load());
  EXPECT_EQ(reg.Count(K::kChannel), 0);
  EXPECT_EQ(reg.Count(K::kPattern), 0);
}

// Through the dispatcher: the embedded API's clients have no sink and cannot subscribe.
TEST(PubSubCommandsTest, ClientWithoutSinkCannotSubscribe) {
  CommandTester t;
  EXPECT_EQ(t.Run({"subscribe", "c"}),
            Err("ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client"));
  EXPECT_EQ(t.Run({"publish", "c", "m"}), Int(0));
  EXPECT_EQ(t.Run({"unsubscribe"}), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
}

TEST(PubSubCommandsTest, SubscribedModeAndLeaving) {
  CommandTester t;
  RecordingSink sink;
  NullEndpoint endpoint;
  t.client().pubsub_sink = &sink;
  t.client().pubsub_endpoint = &endpoint;
  EXPECT_EQ(t.Run({"subscribe", "c"}), "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
  EXPECT_EQ(t.Run({"get", "k"}),
            Err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                "/ RESET are allowed in this context"));
  EXPECT_EQ(t.Run({"ping"}), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(t.Run({"publish", "c", "m"}).substr(0, 1), "-");  // not allowed in RESP2 mode
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"publish", "c", "m"}), Int(1));
  EXPECT_EQ(t.Run({"ping"}), "+PONG\r\n");
  EXPECT_EQ(t.Run({"reset"}), "+RESET\r\n");
  EXPECT_FALSE(t.client().subscribed());
  EXPECT_EQ(t.server().pubsub().Count(K::kChannel), 0);
}

}  // namespace
}  // namespace fdb
