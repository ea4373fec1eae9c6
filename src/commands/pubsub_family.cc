// Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
// PUBLISH, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB.
//
// The registry and the delivery across threads are in commands/pubsub.h. The replies are
// Redis 7's: each (un)subscription is confirmed by its own `[kind, name, count]` (a push in
// RESP3), where count is the client's channels plus patterns, or its shard channels for the
// shard commands. RESP2 subscribed mode (only these commands, PING, QUIT and RESET) is
// enforced by the dispatcher from the kSubscribedOk flag of the registry rows.
#include <algorithm>
#include <memory>

#include "base/limits.h"
#include "commands/context.h"
#include "commands/pubsub.h"

namespace fdb {

namespace {

using Kind = PubSubRegistry::Kind;

NameSet& SetOf(Subscriber& s, Kind kind) {
  switch (kind) {
    case PubSubRegistry::kChannel:
      return s.channels;
    case PubSubRegistry::kPattern:
      return s.patterns;
    case PubSubRegistry::kShard:
      break;
  }
  return s.shard_channels;
}

// The count a (un)subscription reply carries (Redis's type.subscriptionCount).
int64_t ReplyCount(const ClientState& c, Kind kind) {
  if (kind == PubSubRegistry::kShard) return c.sub_shard_channels.load(std::memory_order_relaxed);
  return c.sub_channels.load(std::memory_order_relaxed) +
         c.sub_patterns.load(std::memory_order_relaxed);
}

void StoreCounts(ClientState& c, const Subscriber& s) {
  c.sub_channels.store(static_cast<int>(s.channels.size()), std::memory_order_relaxed);
  c.sub_patterns.store(static_cast<int>(s.patterns.size()), std::memory_order_relaxed);
  c.sub_shard_channels.store(static_cast<int>(s.shard_channels.size()), std::memory_order_relaxed);
}

void ReplyConfirm(CommandContext& ctx, std::string_view what, const std::string_view* name,
                  Kind kind) {
  ctx.rb.PushHeader(3);
  ctx.rb.Bulk(what);
  if (name != nullptr) {
    ctx.rb.Bulk(*name);
  } else {
    ctx.rb.NullBulk();
  }
  ctx.rb.Integer(ReplyCount(ctx.client, kind));
}

void Subscribe(CmdArgs args, CommandContext& ctx, Kind kind, const char* cmd, const char* what) {
  ClientState& c = ctx.client;
  if (c.pubsub_sink == nullptr || c.pubsub_endpoint == nullptr) {
    // As Redis for a client that expects one reply per command (its Lua scripts): the embedded
    // API has nowhere to deliver messages.
    return ctx.rb.Error(std::string("ERR ") + cmd + " isn't allowed for a DENY BLOCKING client");
  }
  if (c.pubsub == nullptr) {
    c.pubsub = std::make_shared<Subscriber>(c.id, c.pubsub_sink, c.pubsub_endpoint);
  }
  Subscriber& s = *c.pubsub;
  for (size_t i = 1; i < args.size(); i++) {
    if (SetOf(s, kind).emplace(args[i]).second) {
      ctx.server.pubsub().Add(kind, args[i], c.pubsub);
      c.pubsub_bytes += args[i].size() + limits::kSubscriptionOverhead;
      StoreCounts(c, s);
    }
    ReplyConfirm(ctx, what, &args[i], kind);
  }
}

// Leaves the named subscriptions (all of this kind without names). The client leaves
// subscribed mode once it has none of any kind left.
void Unsubscribe(CmdArgs args, CommandContext& ctx, Kind kind, const char* what) {
  ClientState& c = ctx.client;
  PubSubRegistry& reg = ctx.server.pubsub();
  std::shared_ptr<Subscriber> s = c.pubsub;
  if (args.size() > 1) {
    for (size_t i = 1; i < args.size(); i++) {
      if (s != nullptr) {
        auto& set = SetOf(*s, kind);
        auto it = set.find(args[i]);
        if (it != set.end()) {
          set.erase(it);
          reg.Remove(kind, args[i], s.get());
          c.pubsub_bytes -= args[i].size() + limits::kSubscriptionOverhead;
          StoreCounts(c, *s);
        }
      }
      ReplyConfirm(ctx, what, &args[i], kind);
    }
  } else if (s == nullptr || SetOf(*s, kind).empty()) {
    // Subscribed to nothing: Redis still replies, with a null name.
    ReplyConfirm(ctx, what, nullptr, kind);
  } else {
    std::vector<std::string> names(SetOf(*s, kind).begin(), SetOf(*s, kind).end());
    for (const std::string& n : names) {
      SetOf(*s, kind).erase(n);
      reg.Remove(kind, n, s.get());
      c.pubsub_bytes -= n.size() + limits::kSubscriptionOverhead;
      StoreCounts(c, *s);
      std::string_view v = n;
      ReplyConfirm(ctx, what, &v, kind);
    }
  }
  if (s != nullptr && s->channels.empty() && s->patterns.empty() && s->shard_channels.empty()) {
    PubSubLeaveAll(ctx.server, c);  // detaches: messages still in flight are dropped
  }
}

}  // namespace

std::string PubSubShardChannelLost(ServerContext& server, ClientState& c,
                                   std::string_view channel) {
  const std::shared_ptr<Subscriber> s = c.pubsub;
  if (s == nullptr) return "";
  auto it = s->shard_channels.find(channel);
  if (it == s->shard_channels.end()) return "";  // it left the channel meanwhile
  s->shard_channels.erase(it);
  c.pubsub_bytes -= channel.size() + limits::kSubscriptionOverhead;
  StoreCounts(c, *s);
  // What SUNSUBSCRIBE of the channel would have replied (the registry already let it go).
  std::string push = "*3\r\n";
  AppendBulk(push, "sunsubscribe");
  AppendBulk(push, channel);
  push += ":" + std::to_string(ReplyCount(c, PubSubRegistry::kShard)) + "\r\n";
  if (s->channels.empty() && s->patterns.empty() && s->shard_channels.empty()) {
    PubSubLeaveAll(server, c);
  }
  return push;
}

namespace {

void CmdSubscribe(CmdArgs args, CommandContext& ctx) {
  Subscribe(args, ctx, PubSubRegistry::kChannel, "SUBSCRIBE", "subscribe");
}
void CmdPSubscribe(CmdArgs args, CommandContext& ctx) {
  Subscribe(args, ctx, PubSubRegistry::kPattern, "PSUBSCRIBE", "psubscribe");
}
void CmdSSubscribe(CmdArgs args, CommandContext& ctx) {
  Subscribe(args, ctx, PubSubRegistry::kShard, "SSUBSCRIBE", "ssubscribe");
}
void CmdUnsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubRegistry::kChannel, "unsubscribe");
}
void CmdPUnsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubRegistry::kPattern, "punsubscribe");
}
void CmdSUnsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubRegistry::kShard, "sunsubscribe");
}

void Publish(CmdArgs args, CommandContext& ctx, bool shard) {
  const int64_t hard = ctx.server.config().output_limit(Config::kPubsub).hard;
  ctx.rb.Integer(
      ctx.server.pubsub().Publish(args[1], args[2], shard, ctx.client.pubsub_sink, hard));
  // As Redis: the message goes to the replicas too, whose subscribers get it.
  ctx.server.replication().Propagate(ctx.db, args, ctx.client.master);
}
void CmdPublish(CmdArgs args, CommandContext& ctx) { Publish(args, ctx, false); }
void CmdSPublish(CmdArgs args, CommandContext& ctx) { Publish(args, ctx, true); }

void ReplyNames(CommandContext& ctx, Kind kind, CmdArgs args) {
  std::vector<std::string> names =
      ctx.server.pubsub().Names(kind, args.size() > 2 ? args[2] : std::string_view());
  std::sort(names.begin(), names.end());
  ctx.rb.ArrayHeader(names.size());
  for (const std::string& n : names) ctx.rb.Bulk(n);
}

void ReplyNumSub(CommandContext& ctx, Kind kind, CmdArgs args) {
  // A flat array of name, count in both protocols, as Redis.
  ctx.rb.ArrayHeader((args.size() - 2) * 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb.Bulk(args[i]);
    ctx.rb.Integer(ctx.server.pubsub().NumSubscribers(kind, args[i]));
  }
}

void CmdPubSubChannels(CmdArgs args, CommandContext& ctx) {
  ReplyNames(ctx, PubSubRegistry::kChannel, args);
}
void CmdPubSubShardChannels(CmdArgs args, CommandContext& ctx) {
  ReplyNames(ctx, PubSubRegistry::kShard, args);
}
void CmdPubSubNumSub(CmdArgs args, CommandContext& ctx) {
  ReplyNumSub(ctx, PubSubRegistry::kChannel, args);
}
void CmdPubSubShardNumSub(CmdArgs args, CommandContext& ctx) {
  ReplyNumSub(ctx, PubSubRegistry::kShard, args);
}
void CmdPubSubNumPat(CmdArgs, CommandContext& ctx) {
  ctx.rb.Integer(ctx.server.pubsub().Count(PubSubRegistry::kPattern));
}

void CmdPubSubHelp(CmdArgs, CommandContext& ctx) {
  static constexpr const char* kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Print this help."};
  ctx.rb.ArrayHeader(std::size(kLines));
  for (const char* l : kLines) ctx.rb.SimpleString(l);
}

}  // namespace

void RegisterPubSubFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"subscribe", -2, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdSubscribe, "pubsub", "Listens for messages published to channels.", "2.0.0"});
  r.Register({"unsubscribe", -1, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdUnsubscribe, "pubsub", "Stops listening to messages posted to channels.", "2.0.0"});
  r.Register({"psubscribe", -2, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdPSubscribe, "pubsub", "Listens for messages published to channels that match one or more patterns.", "2.0.0"});
  r.Register({"punsubscribe", -1, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdPUnsubscribe, "pubsub", "Stops listening to messages published to channels that match one or more patterns.", "2.0.0"});
  r.Register({"ssubscribe", -2, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdSSubscribe, "pubsub", "Listens for messages published to shard channels.", "7.0.0"});
  r.Register({"sunsubscribe", -1, kPubSub | kNoScript | kLoading | kStale | kSubscribedOk, 0, 0, 0, CmdSUnsubscribe, "pubsub", "Stops listening to messages posted to shard channels.", "7.0.0"});
  r.Register({"publish", 3, kPubSub | kLoading | kStale | kFast, 0, 0, 0, CmdPublish, "pubsub", "Posts a message to a channel.", "2.0.0"});
  r.Register({"spublish", 3, kPubSub | kLoading | kStale | kFast, 0, 0, 0, CmdSPublish, "pubsub", "Post a message to a shard channel", "7.0.0"});
  r.Register({"pubsub", -2, 0, 0, 0, 0, nullptr, "pubsub", "A container for Pub/Sub commands.", "2.8.0"});
  r.Register({"pubsub|channels", -2, kPubSub | kLoading | kStale, 0, 0, 0, CmdPubSubChannels, "pubsub", "Returns the active channels.", "2.8.0"});
  r.Register({"pubsub|numsub", -2, kPubSub | kLoading | kStale, 0, 0, 0, CmdPubSubNumSub, "pubsub", "Returns a count of subscribers to channels.", "2.8.0"});
  r.Register({"pubsub|numpat", 2, kPubSub | kLoading | kStale, 0, 0, 0, CmdPubSubNumPat, "pubsub", "Returns a count of unique pattern subscriptions.", "2.8.0"});
  r.Register({"pubsub|shardchannels", -2, kPubSub | kLoading | kStale, 0, 0, 0, CmdPubSubShardChannels, "pubsub", "Returns the active shard channels.", "7.0.0"});
  r.Register({"pubsub|shardnumsub", -2, kPubSub | kLoading | kStale, 0, 0, 0, CmdPubSubShardNumSub, "pubsub", "Returns the count of subscribers of shard channels.", "7.0.0"});
  r.Register({"pubsub|help", 2, kLoading | kStale, 0, 0, 0, CmdPubSubHelp, "pubsub", "Returns helpful text about the different subcommands.", "6.2.0"});
  // clang-format on
}

}  // namespace fdb
