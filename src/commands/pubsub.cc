#include "commands/pubsub.h"

#include <algorithm>

#include "base/glob.h"
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

void PubSubRegistry::Add(Kind kind, std::string_view name, const std::shared_ptr<Subscriber>& s) {
  MutexLock l(mu_);
  auto [it, inserted] = maps_[kind].try_emplace(name);
  if (inserted) counts_[kind].fetch_add(1, std::memory_order_relaxed);
  it->second.push_back(s);
}

void PubSubRegistry::Remove(Kind kind, std::string_view name, const Subscriber* s) {
  MutexLock l(mu_);
  auto it = maps_[kind].find(name);
  if (it == maps_[kind].end()) return;
  SubList& list = it->second;
  // Order within a channel does not matter (Redis keeps a dict of clients): swap and pop.
  for (size_t i = 0; i < list.size(); i++) {
    if (list[i].get() == s) {
      list[i] = std::move(list.back());
      list.pop_back();
      break;
    }
  }
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
  // Reused per thread: a publish allocates nothing but the message itself (once, shared by
  // every receiver).
  thread_local std::vector<Delivery> out;
  thread_local std::vector<Delivery> batch;
  out.clear();
  {
    MutexLock l(mu_);
    auto it = maps_[kind].find(channel);
    if (it != maps_[kind].end()) {
      auto msg = std::make_shared<const std::string>(
          Encode(shard ? "smessage" : "message", {}, channel, payload));
      for (const auto& s : it->second) out.push_back({s, msg});
    }
    if (patterns) {
      for (const auto& [pattern, subs] : maps_[kPattern]) {
        if (!GlobMatch(pattern, channel)) continue;
        auto msg =
            std::make_shared<const std::string>(Encode("pmessage", pattern, channel, payload));
        for (const auto& s : subs) out.push_back({s, msg});
      }
    }
  }
  const int64_t receivers = static_cast<int64_t>(out.size());
  if (out.empty()) return 0;
  // The common case, every receiver on one thread: one call, no regrouping.
  MessageSink* first = out[0].to->sink;
  if (std::all_of(out.begin(), out.end(), [&](const Delivery& d) { return d.to->sink == first; })) {
    if (first != nullptr) DeliverFrom(here, first, out, hard_limit);
    out.clear();
    return receivers;
  }
  // One call per receiving thread, each batch in the order above (stable: a client's channel
  // message before its pattern messages). Threads are few; a linear scan finds the next one.
  size_t done = 0;
  while (done < out.size()) {
    MessageSink* sink = nullptr;
    bool chosen = false;
    batch.clear();
    for (Delivery& d : out) {
      if (d.to == nullptr) continue;  // taken by an earlier batch
      if (!chosen) {
        sink = d.to->sink;
        chosen = true;
      }
      if (d.to->sink != sink) continue;
      done++;
      batch.push_back(std::move(d));  // leaves d.to empty
    }
    // A subscriber always has a sink (only clients with one may subscribe).
    if (sink != nullptr) DeliverFrom(here, sink, batch, hard_limit);
  }
  batch.clear();
  out.clear();
  return receivers;
}

std::vector<std::string> PubSubRegistry::Names(Kind kind, std::string_view pattern) const {
  std::vector<std::string> out;
  MutexLock l(mu_);
  for (const auto& [name, subs] : maps_[kind]) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSubRegistry::NumSubscribers(Kind kind, std::string_view name) const {
  MutexLock l(mu_);
  auto it = maps_[kind].find(name);
  return it == maps_[kind].end() ? 0 : static_cast<int64_t>(it->second.size());
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
