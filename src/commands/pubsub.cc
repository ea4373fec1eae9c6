#include "commands/pubsub.h"

#include <algorithm>

#include "base/glob.h"
#include "base/slot.h"
#include "commands/server_context.h"
#include "protocol/reply_builder.h"
#include "server/client_state.h"

namespace fdb {

std::string PubSubRegistry::Encode(std::string_view kind, std::string_view pattern,
                                   std::string_view channel, std::string_view payload) {
  std::string out;
  out.reserve(32 + kind.size() + pattern.size() + channel.size() + payload.size());
  out += pattern.empty() ? "*3\r\n" : "*4\r\n";
  AppendBulk(out, kind);
  if (!pattern.empty()) AppendBulk(out, pattern);
  AppendBulk(out, channel);
  AppendBulk(out, payload);
  return out;
}

void PubSubRegistry::Entry::Split() {
  std::vector<std::pair<MessageSink*, SubList>> lists;
  for (const auto& s : subs) {
    auto it =
        std::find_if(lists.begin(), lists.end(), [&](const auto& l) { return l.first == s->sink; });
    if (it == lists.end()) it = lists.insert(lists.end(), {s->sink, {}});
    it->second.push_back(s);
  }
  by_sink.clear();
  for (auto& [sink, list] : lists) {
    // A subscriber always has a sink (only clients with one may subscribe).
    if (sink != nullptr)
      by_sink.emplace_back(sink, std::make_shared<const SubList>(std::move(list)));
  }
}

void PubSubRegistry::Add(Kind kind, std::string_view name, const std::shared_ptr<Subscriber>& s) {
  MutexLock l(mu_);
  auto [it, inserted] = maps_[kind].try_emplace(name);
  if (inserted) counts_[kind].fetch_add(1, std::memory_order_relaxed);
  it->second.subs.push_back(s);
  it->second.by_sink.clear();
}

void PubSubRegistry::Remove(Kind kind, std::string_view name, const Subscriber* s) {
  MutexLock l(mu_);
  auto it = maps_[kind].find(name);
  if (it == maps_[kind].end()) return;
  SubList& list = it->second.subs;
  // Order within a channel does not matter (Redis keeps a dict of clients): swap and pop.
  for (size_t i = 0; i < list.size(); i++) {
    if (list[i].get() == s) {
      list[i] = std::move(list.back());
      list.pop_back();
      break;
    }
  }
  it->second.by_sink.clear();
  if (list.empty()) {
    maps_[kind].erase(it);
    counts_[kind].fetch_sub(1, std::memory_order_relaxed);
  }
}

int64_t PubSubRegistry::Publish(std::string_view channel, std::string_view payload, bool shard,
                                MessageSink* here, int64_t hard_limit) {
  const Kind kind = shard ? kShard : kChannel;
  const bool patterns = !shard && counts_[kPattern].load(std::memory_order_relaxed) > 0;
  // Nobody subscribed to anything of this kind: nothing to lock. A SUBSCRIBE that raced with
  // this publish took effect after it, as if it had come a moment later.
  if (counts_[kind].load(std::memory_order_relaxed) == 0 && !patterns) return 0;
  // One delivery per receiving thread and message, in Redis's order (the channel's
  // subscribers, then each matching pattern's). Reused per thread: a publish allocates nothing
  // but the message itself (once per channel or pattern, shared by every receiver).
  thread_local std::vector<Delivery> out;
  thread_local std::vector<Delivery> batch;
  out.clear();
  int64_t receivers = 0;
  auto take = [&](Entry& e, const PubSubMessage& msg) {
    if (e.by_sink.empty()) e.Split();
    for (const auto& by : e.by_sink) out.push_back({nullptr, msg, by.second});
    receivers += static_cast<int64_t>(e.subs.size());
  };
  {
    MutexLock l(mu_);
    auto it = maps_[kind].find(channel);
    if (it != maps_[kind].end()) {
      take(it->second, std::make_shared<const std::string>(
                           Encode(shard ? "smessage" : "message", {}, channel, payload)));
    }
    if (patterns) {
      for (auto& [pattern, e] : maps_[kPattern]) {
        if (!GlobMatch(pattern, channel)) continue;
        take(e, std::make_shared<const std::string>(Encode("pmessage", pattern, channel, payload)));
      }
    }
  }
  if (out.empty()) return 0;
  // The common case, every receiver on one thread: one call, no regrouping.
  MessageSink* first = out[0].sink();
  if (std::all_of(out.begin(), out.end(), [&](const Delivery& d) { return d.sink() == first; })) {
    DeliverFrom(here, first, out, hard_limit);
    out.clear();
    return receivers;
  }
  // One call per receiving thread, each batch in the order above (stable: a client's channel
  // message before its pattern messages). Threads are few; a linear scan finds the next one.
  size_t done = 0;
  while (done < out.size()) {
    MessageSink* sink = nullptr;
    batch.clear();
    for (Delivery& d : out) {
      if (d.group == nullptr) continue;  // taken by an earlier batch
      if (sink == nullptr) sink = d.sink();
      if (d.sink() != sink) continue;
      done++;
      batch.push_back(std::move(d));  // leaves d.group empty
    }
    DeliverFrom(here, sink, batch, hard_limit);
  }
  batch.clear();
  out.clear();
  return receivers;
}

void PubSubRegistry::DropShardChannels(absl::FunctionRef<bool(int slot)> lost) {
  if (counts_[kShard].load(std::memory_order_relaxed) == 0) return;
  std::vector<Delivery> out;
  {
    MutexLock l(mu_);
    auto& map = maps_[kShard];
    for (auto it = map.begin(); it != map.end();) {
      if (!lost(KeySlot(it->first))) {
        ++it;
        continue;
      }
      Entry& e = it->second;
      if (e.by_sink.empty()) e.Split();
      auto name = std::make_shared<const std::string>(it->first);
      for (const auto& by : e.by_sink) out.push_back({nullptr, name, by.second, true});
      map.erase(it++);
      counts_[kShard].fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // Each receiving thread gets its own (queued, never dropped: no limit).
  for (Delivery& d : out) {
    std::vector<Delivery> one;
    MessageSink* sink = d.sink();
    one.push_back(std::move(d));
    sink->Deliver(one, /*local=*/false, /*hard_limit=*/0);
  }
}

std::vector<std::string> PubSubRegistry::Names(Kind kind, std::string_view pattern) const {
  std::vector<std::string> out;
  MutexLock l(mu_);
  for (const auto& [name, e] : maps_[kind]) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSubRegistry::NumSubscribers(Kind kind, std::string_view name) const {
  MutexLock l(mu_);
  auto it = maps_[kind].find(name);
  return it == maps_[kind].end() ? 0 : static_cast<int64_t>(it->second.subs.size());
}

int64_t PubSubRegistry::Count(Kind kind) const {
  return counts_[kind].load(std::memory_order_relaxed);
}

void PubSubLeaveAll(ServerContext& server, ClientState& client) {
  std::shared_ptr<Subscriber> s = std::move(client.pubsub);
  client.pubsub.reset();
  if (s == nullptr) return;
  s->endpoint = nullptr;  // messages still in flight to it are dropped on arrival
  PubSubRegistry& reg = server.pubsub();
  for (const std::string& n : s->channels) reg.Remove(PubSubRegistry::kChannel, n, s.get());
  for (const std::string& n : s->patterns) reg.Remove(PubSubRegistry::kPattern, n, s.get());
  for (const std::string& n : s->shard_channels) reg.Remove(PubSubRegistry::kShard, n, s.get());
  s->channels.clear();
  s->patterns.clear();
  s->shard_channels.clear();
  client.sub_channels.store(0, std::memory_order_relaxed);
  client.sub_patterns.store(0, std::memory_order_relaxed);
  client.sub_shard_channels.store(0, std::memory_order_relaxed);
  client.pubsub_bytes = 0;
}

}  // namespace fdb
