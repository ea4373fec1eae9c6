// Pub/sub: the channel registry and how a message reaches subscribers on every I/O thread.
//
// Model. A subscribed client is a `Subscriber`, made on its first subscription and owned
// jointly by the client (ClientState::pubsub) and by the registry's entries for its channels,
// patterns and shard channels. The registry (one mutex; see "Why one lock" below) maps each
// name to its subscribers, and keeps beside them the same subscribers split by I/O thread, as
// immutable lists (made again by the first publish after a subscription changed). PUBLISH
// takes the lock and, for the channel and then every pattern that matches (Redis's order),
// takes one delivery per receiving thread: the message and that thread's list. Its reply is
// the number of receivers, exact at the moment of the publish. After releasing the lock it
// hands the deliveries to each receiver's thread through the thread's `MessageSink`, in one
// call per thread (DeliverFrom). A receiver on the publisher's own thread gets the bytes
// appended to its output at once (a RESP3 client that publishes to itself gets them after
// PUBLISH's reply, as in Redis 7.2: its connection holds them until the command has replied);
// receivers on another thread get them through that thread's inbox, one wake-up
// (EventLoop::Post) per drained inbox, not per message. So a publish to N subscribers costs
// one delivery per thread, not per receiver (no per-receiver reference count crosses threads);
// the per-receiver work is the append to each connection's output, on the receiver's thread.
//
// Order. Deliveries from one publisher to one subscriber always take the same path (direct on
// the shared thread, or the same FIFO inbox), in the order the publisher made them: messages
// arrive in publish order per publisher. Messages of different publishers interleave as their
// PUBLISH calls took the registry lock.
//
// Lifetime, across threads. The registry's lists and in-flight deliveries hold the Subscriber
// by shared_ptr, so it outlives every message addressed to it. The connection it delivers to
// (`endpoint`) is touched only on its own thread, which detaches it (endpoint = nullptr) when
// the client closes, RESETs or leaves its last subscription, before the connection can be
// freed; a delivery that arrives after that is dropped. So a client may close while messages
// to it are in flight: they find the endpoint gone, and nothing dangles.
//
// A consequence of asynchronous delivery, which Redis (one thread) does not have: a message
// counted by PUBLISH may reach a client after that client's UNSUBSCRIBE reply (it is still
// delivered while the client has any subscription), or not at all when the client left its
// last subscription or closed meanwhile (as when a Redis client disconnects right after).
//
// Memory. A subscriber's output is bounded by `client-output-buffer-limit pubsub` where the
// bytes are appended (the connection). What waits in a thread's inbox is bounded by the same
// hard limit, counted once per queued message (a message to many receivers on that thread is
// queued once): a message that would take the inbox past it is dropped, and its receivers on
// that thread are closed when the thread comes back, as Redis closes clients over their
// limit. Only a thread that stops draining (DEBUG SLEEP, a long script) gets there: each of
// those receivers would have had at least that much waiting in Redis's output buffers, except
// when the queued messages went to other clients of that thread.
//
// Why one lock. A publish holds it for a hash lookup, a scan of the patterns and one pointer
// copy per receiving thread; a subscribe for one insertion. Sharding the channel map would
// still need every publish to read the pattern list. Measured with publishers on both I/O
// threads: the lock is ~1% of the server's CPU, no contention wait (docs/threading.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "base/mutex.h"

namespace fdb {

class ServerContext;
struct ClientState;

// The RESP bytes of one message in the RESP2 form (`*3 message <channel> <payload>`, `*4
// pmessage ...`, `*3 smessage ...`), built once per publish and shared by every receiver on
// every thread. A RESP3 receiver writes '>' (a push) in place of the first byte, '*': the rest
// of the bytes are the same in both protocols.
using PubSubMessage = std::shared_ptr<const std::string>;

// The receiving side of one connection, implemented by the network layer. Called only on the
// connection's own thread.
class PubSubEndpoint {
 public:
  virtual ~PubSubEndpoint() = default;
  // Appends `msg` to the connection's output (first byte by its protocol, see PubSubMessage).
  virtual void PushMessage(const std::string& msg) = 0;
  // The client's messages were dropped because too many were queued for it: it is closed, as
  // a client over its pubsub output buffer hard limit.
  virtual void CloseForPubSubLimit() = 0;
  // This node no longer serves the slot of shard channel `channel` (cluster mode): the client
  // leaves it and is told with a `sunsubscribe` push (PubSubShardChannelLost).
  virtual void ShardChannelLost(const std::string& channel) = 0;
};

class MessageSink;

// Heterogeneous lookup by std::string_view (absl's own string hash takes absl::string_view,
// which is not std::string_view in the abseil FDB builds with).
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct NameEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
using NameSet = absl::flat_hash_set<std::string, NameHash, NameEq>;

struct Subscriber {
  Subscriber(uint64_t id, MessageSink* s, PubSubEndpoint* e)
      : client_id(id), sink(s), endpoint(e) {}

  const uint64_t client_id;
  MessageSink* const sink;  // the client's I/O thread; outlives every subscriber
  // Where messages go; nullptr once detached (closed, RESET, or no subscription left). Read
  // and written only on the client's thread.
  PubSubEndpoint* endpoint;
  // A message to it was dropped because its thread's inbox passed the hard limit (see
  // "Memory" above): it is closed once, when its thread drains the inbox.
  std::atomic<bool> overflowed{false};

  // The client's subscriptions; its own thread only (UNSUBSCRIBE without arguments, counts).
  NameSet channels;
  NameSet patterns;
  NameSet shard_channels;
};

using SubList = std::vector<std::shared_ptr<Subscriber>>;

// One message for one receiver (`to`), or for every receiver in `group` (a publish's list of
// a channel's subscribers on one thread; `to` is then null). Every receiver is on the thread
// of the sink the delivery is handed to.
struct Delivery {
  std::shared_ptr<Subscriber> to;
  PubSubMessage msg;  // with shard_channel_lost: the channel's name
  std::shared_ptr<const SubList> group;
  // Not a message: the receivers lose the shard channel `msg` (DropShardChannels).
  bool shard_channel_lost = false;

  // Calls fn(Subscriber&) for each receiver, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (to != nullptr) {
      fn(*to);
      return;
    }
    for (const auto& s : *group) fn(*s);
  }
  // The thread (sink) of the receivers.
  MessageSink* sink() const { return to != nullptr ? to->sink : group->front()->sink; }
};

// One per I/O thread (the network layer implements it): takes messages for the subscribers
// that live on its thread.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // Delivers `batch` (in order) to its subscribers. `local`: the caller runs on this sink's
  // thread (deliver now); else thread-safe (queue, wake the thread). `hard_limit`: the pubsub
  // output hard limit in bytes (0: none), which also bounds what waits in the queue.
  virtual void Deliver(std::vector<Delivery>& batch, bool local, int64_t hard_limit) = 0;
  // Hands `batch` for another sink `to` over from this sink's thread (the caller's). By
  // default at once (to->Deliver); an I/O thread gathers what its commands send to each other
  // thread and hands it over once per read batch, before the replies of those commands leave
  // (IoThread::FlushOutbox): one inbox entry list and one wake-up per publishing batch and
  // target thread, not per message.
  virtual void Send(MessageSink* to, std::vector<Delivery>& batch, int64_t hard_limit) {
    to->Deliver(batch, /*local=*/false, hard_limit);
  }
};

// Delivers `batch` (receivers on `to`'s thread) from the thread of `here` (nullptr: a thread
// without a sink): locally when they are the same, else through here->Send. Every push one
// thread makes for another (messages, invalidations) takes this one path, so pushes from one
// thread to one client keep their order.
inline void DeliverFrom(MessageSink* here, MessageSink* to, std::vector<Delivery>& batch,
                        int64_t hard_limit) {
  if (to == here) {
    to->Deliver(batch, /*local=*/true, hard_limit);
  } else if (here != nullptr) {
    here->Send(to, batch, hard_limit);
  } else {
    to->Deliver(batch, /*local=*/false, hard_limit);
  }
}

class PubSubRegistry {
 public:
  enum Kind : int { kChannel = 0, kPattern = 1, kShard = 2 };

  PubSubRegistry() = default;
  PubSubRegistry(const PubSubRegistry&) = delete;
  PubSubRegistry& operator=(const PubSubRegistry&) = delete;

  // Adds / removes s under `name`. REQUIRES: the caller keeps s's own sets in step (the
  // registry holds each (kind, name, subscriber) at most once). Thread-safe.
  void Add(Kind kind, std::string_view name, const std::shared_ptr<Subscriber>& s);
  void Remove(Kind kind, std::string_view name, const Subscriber* s);

  // Publishes `payload` on `channel` (a shard channel when `shard`: no patterns) and returns
  // the number of receivers. `here`: the publisher's thread's sink (nullptr: none); receivers
  // there get the message at once. Thread-safe.
  int64_t Publish(std::string_view channel, std::string_view payload, bool shard, MessageSink* here,
                  int64_t hard_limit);

  // Cluster mode, when this node stops serving slots: every shard channel whose slot
  // `lost(slot)` is dropped, and each of its subscribers is told on its own thread
  // (PubSubEndpoint::ShardChannelLost), as Redis's removeChannelsInSlot. Thread-safe.
  void DropShardChannels(absl::FunctionRef<bool(int slot)> lost);

  // PUBSUB CHANNELS / SHARDCHANNELS: the names with subscribers matching `pattern` (all when
  // empty), in no particular order.
  std::vector<std::string> Names(Kind kind, std::string_view pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB: the subscribers of one name.
  int64_t NumSubscribers(Kind kind, std::string_view name) const;
  // INFO and PUBSUB NUMPAT: names with at least one subscriber.
  int64_t Count(Kind kind) const;

  // The RESP2 bytes of a message (see PubSubMessage); `pattern` empty for message/smessage.
  static std::string Encode(std::string_view kind, std::string_view pattern,
                            std::string_view channel, std::string_view payload);

 private:
  struct Entry {
    SubList subs;
    // subs split by thread (sink), each list in subs's order: what a publish hands each
    // thread. Emptied by every change of subs; made again by the next publish, so a burst of
    // subscriptions costs one split, not one per subscription.
    std::vector<std::pair<MessageSink*, std::shared_ptr<const SubList>>> by_sink;
    void Split();
  };
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, Entry, NameHash, NameEq> maps_[3] ABSL_GUARDED_BY(mu_);
  // Names with subscribers, per kind, readable without the lock: a publish to a server with
  // no subscription at all (or no pattern) skips the lock (or the pattern scan).
  std::atomic<int64_t> counts_[3] = {0, 0, 0};
};

// The client's subscriptions, for the commands. A client with any subscription is in
// subscribed mode (ClientState::pubsub is set).
// Leaves every subscription without replying and detaches the client's endpoint: RESET and
// the connection's close. REQUIRES: the client's own thread.
void PubSubLeaveAll(ServerContext& server, ClientState& client);
// The client's side of DropShardChannels: leaves `channel` if subscribed and returns the
// `sunsubscribe` push to send it (RESP2 form, see PubSubMessage), else "". Leaves subscribed
// mode with the last subscription. REQUIRES: the client's own thread.
std::string PubSubShardChannelLost(ServerContext& server, ClientState& client,
                                   std::string_view channel);

}  // namespace fdb
