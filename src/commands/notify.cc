#include "commands/notify.h"

#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "commands/server_context.h"
#include "server/config.h"

namespace fdb {

namespace {

// Redis 7.0's event of each command that changes keys (t_*.c, db.c, expire.c, sort.c). A
// command whose events depend on its arguments (SET ... EX, ZADD INCR, LMOVE's directions,
// GETEX) gets its first here and the rest from its handler or Op.
struct Row {
  const char* command;
  int cls;
  const char* event;
};
constexpr Row kEvents[] = {
    // strings
    {"set", notify::kString, "set"},
    {"setnx", notify::kString, "set"},
    {"setex", notify::kString, "set"},
    {"psetex", notify::kString, "set"},
    {"getset", notify::kString, "set"},
    {"mset", notify::kString, "set"},
    {"msetnx", notify::kString, "set"},
    {"append", notify::kString, "append"},
    {"setrange", notify::kString, "setrange"},
    {"incr", notify::kString, "incrby"},
    {"decr", notify::kString, "incrby"},
    {"incrby", notify::kString, "incrby"},
    {"decrby", notify::kString, "incrby"},
    {"incrbyfloat", notify::kString, "incrbyfloat"},
    {"setbit", notify::kString, "setbit"},
    {"bitfield", notify::kString, "setbit"},
    {"bitop", notify::kString, "set"},
    {"pfadd", notify::kString, "pfadd"},
    {"pfmerge", notify::kString, "pfadd"},
    {"geoadd", notify::kZset, "zadd"},
    {"georadius", notify::kZset, "georadiusstore"},
    {"georadiusbymember", notify::kZset, "georadiusstore"},
    {"geosearchstore", notify::kZset, "geosearchstore"},
    {"getdel", notify::kGeneric, "del"},
    // generic
    {"del", notify::kGeneric, "del"},
    {"unlink", notify::kGeneric, "del"},
    {"expire", notify::kGeneric, "expire"},
    {"pexpire", notify::kGeneric, "expire"},
    {"expireat", notify::kGeneric, "expire"},
    {"pexpireat", notify::kGeneric, "expire"},
    {"persist", notify::kGeneric, "persist"},
    {"rename", notify::kGeneric, "rename_from"},
    {"renamenx", notify::kGeneric, "rename_from"},
    {"copy", notify::kGeneric, "copy_to"},
    {"restore", notify::kGeneric, "restore"},
    {"restore-asking", notify::kGeneric, "restore"},
    {"sort", notify::kGeneric, "sortstore"},
    // lists
    {"lpush", notify::kList, "lpush"},
    {"lpushx", notify::kList, "lpush"},
    {"rpush", notify::kList, "rpush"},
    {"rpushx", notify::kList, "rpush"},
    {"linsert", notify::kList, "linsert"},
    {"lset", notify::kList, "lset"},
    {"ltrim", notify::kList, "ltrim"},
    {"lrem", notify::kList, "lrem"},
    {"lpop", notify::kList, "lpop"},
    {"rpop", notify::kList, "rpop"},
    {"blpop", notify::kList, "lpop"},
    {"brpop", notify::kList, "rpop"},
    {"rpoplpush", notify::kList, "rpop"},
    {"brpoplpush", notify::kList, "rpop"},
    {"lmove", notify::kList, "lpop"},
    {"blmove", notify::kList, "lpop"},
    {"lmpop", notify::kList, "lpop"},
    {"blmpop", notify::kList, "lpop"},
    // sets
    {"sadd", notify::kSet, "sadd"},
    {"srem", notify::kSet, "srem"},
    {"spop", notify::kSet, "spop"},
    {"smove", notify::kSet, "srem"},
    {"sinterstore", notify::kSet, "sinterstore"},
    {"sunionstore", notify::kSet, "sunionstore"},
    {"sdiffstore", notify::kSet, "sdiffstore"},
    // hashes
    {"hset", notify::kHash, "hset"},
    {"hmset", notify::kHash, "hset"},
    {"hsetnx", notify::kHash, "hset"},
    {"hdel", notify::kHash, "hdel"},
    {"hincrby", notify::kHash, "hincrby"},
    {"hincrbyfloat", notify::kHash, "hincrbyfloat"},
    // sorted sets
    {"zadd", notify::kZset, "zadd"},
    {"zincrby", notify::kZset, "zincr"},
    {"zrem", notify::kZset, "zrem"},
    {"zremrangebyscore", notify::kZset, "zremrangebyscore"},
    {"zremrangebyrank", notify::kZset, "zremrangebyrank"},
    {"zremrangebylex", notify::kZset, "zremrangebylex"},
    {"zpopmin", notify::kZset, "zpopmin"},
    {"zpopmax", notify::kZset, "zpopmax"},
    {"bzpopmin", notify::kZset, "zpopmin"},
    {"bzpopmax", notify::kZset, "zpopmax"},
    {"zmpop", notify::kZset, "zpopmin"},
    {"bzmpop", notify::kZset, "zpopmin"},
    {"zunionstore", notify::kZset, "zunionstore"},
    {"zinterstore", notify::kZset, "zinterstore"},
    {"zdiffstore", notify::kZset, "zdiffstore"},
    {"zrangestore", notify::kZset, "zrangestore"},
};

constexpr int kTypeClasses = notify::kString | notify::kList | notify::kSet | notify::kHash |
                             notify::kZset | notify::kStream;

void Add(Effect& effect, int cls, const char* name, int flags) {
  if ((flags & cls) == 0 || name == nullptr || effect.n_events == kMaxEffectEvents) return;
  effect.events[effect.n_events++] = {cls, name};
}

}  // namespace

EventTag CommandEvent(std::string_view command_name) {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string, EventTag>();
    for (const Row& r : kEvents) (*t)[r.command] = EventTag{r.cls, r.event};
    return t;
  }();
  auto it = table->find(std::string(command_name));
  return it == table->end() ? EventTag{} : it->second;
}

void KeyspaceNotifier::Capture(Effect& effect) {
  const int flags = server_.config().notify_keyspace_events();
  if ((flags & (notify::kKeyspace | notify::kKeyevent)) == 0) return;
  if (effect.kind == EffectKind::kFlush || effect.kind == EffectKind::kSwapDb) return;
  const EventTag& tag = effect.event;
  switch (effect.cause) {
    case EffectCause::kExpired:
      Add(effect, notify::kExpired, "expired", flags);
      break;
    case EffectCause::kEvicted:
      Add(effect, notify::kEvicted, "evicted", flags);
      break;
    case EffectCause::kCommand:
      if (effect.created) Add(effect, notify::kNew, "new", flags);
      if (effect.kind == EffectKind::kDelete) {
        // A key deleted by a command: a type's command that emptied its collection tells
        // its own event, then "del" (LPOP of the last element: "lpop", "del"); a generic one
        // names the deletion ("rename_from", "move_from") or it is a "del" (DEL, GETDEL, an
        // EXPIRE in the past). A store command whose result is empty deletes its destination:
        // a "del" alone (SINTERSTORE, ZUNIONSTORE...).
        const bool store = tag.name != nullptr && std::strstr(tag.name, "store") != nullptr;
        if (tag.name != nullptr && (tag.cls & kTypeClasses) != 0 && !store) {
          Add(effect, tag.cls, tag.name, flags);
          Add(effect, notify::kGeneric, "del", flags);
        } else if (tag.name != nullptr && std::strstr(tag.name, "_from") != nullptr) {
          Add(effect, tag.cls, tag.name, flags);
        } else {
          Add(effect, notify::kGeneric, "del", flags);
        }
      } else if (effect.kind == EffectKind::kExpire && tag.name == nullptr) {
        Add(effect, notify::kGeneric, effect.expire_ms != 0 ? "expire" : "persist", flags);
      } else {
        Add(effect, tag.cls, tag.name, flags);
        Add(effect, tag.cls2, tag.name2, flags);
      }
      break;
  }
  if (effect.n_events > 0) effect.follow_key.assign(effect.key);
}

Status KeyspaceNotifier::Commit(Txn& txn) {
  const int flags = server_.config().notify_keyspace_events();
  if ((flags & (notify::kKeyspace | notify::kKeyevent)) == 0) return Status::OK();
  PubSubRegistry& pubsub = server_.pubsub();
  const int64_t hard = server_.config().output_limit(Config::kPubsub).hard;
  std::string channel;
  for (const Effect& effect : txn.effects()) {
    for (int i = 0; i < effect.n_events; i++) {
      std::string_view name = effect.events[i].name;
      if (flags & notify::kKeyspace) {
        channel = "__keyspace@" + std::to_string(effect.db) + "__:";
        channel += effect.follow_key;
        (void)pubsub.Publish(channel, name, /*shard=*/false, txn.origin(), hard);
      }
      if (flags & notify::kKeyevent) {
        channel = "__keyevent@" + std::to_string(effect.db) + "__:";
        channel += name;
        (void)pubsub.Publish(channel, effect.follow_key, /*shard=*/false, txn.origin(), hard);
      }
    }
  }
  return Status::OK();
}

}  // namespace fdb
