// The command registry: one declarative row per command.
//
// A row gives the name, arity (negative: at least -arity arguments, counting the name), flags,
// the positions of key arguments (first, last, step; last < 0 counts from the end), and the
// handler. The dispatcher enforces arity and authentication, locks the shards of the keys, and
// times the call; COMMAND, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS are generated from the rows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/txn.h"

namespace fdb {

class CommandContext;
using CmdArgs = std::span<const std::string_view>;
using CommandHandler = void (*)(CmdArgs args, CommandContext& ctx);
// Key positions of a call whose keys first/last/step cannot describe (a numkeys argument, as
// LMPOP, ZUNIONSTORE, SINTERCARD). Positions past the end or a bad count yield what can be
// read; the handler reports the error.
using KeysFn = void (*)(CmdArgs args, std::vector<size_t>* out);
// Whether a call reaches keys its arguments do not list (SORT's BY and GET patterns): the
// dispatcher then locks every shard for it.
using LockAllFn = bool (*)(CmdArgs args);

namespace cmdflags {
inline constexpr uint32_t kWrite = 1 << 0;
inline constexpr uint32_t kReadOnly = 1 << 1;
inline constexpr uint32_t kDenyOom = 1 << 2;
inline constexpr uint32_t kAdmin = 1 << 3;
inline constexpr uint32_t kPubSub = 1 << 4;
inline constexpr uint32_t kNoScript = 1 << 5;
inline constexpr uint32_t kBlocking = 1 << 6;
inline constexpr uint32_t kLoading = 1 << 7;
inline constexpr uint32_t kStale = 1 << 8;
inline constexpr uint32_t kFast = 1 << 9;
inline constexpr uint32_t kNoAuth = 1 << 10;  // allowed before authentication
// The handler locks shards itself (keyless commands that touch the whole keyspace, SCAN).
inline constexpr uint32_t kSelfLocking = 1 << 11;
// MULTI, EXEC, DISCARD, WATCH: handled by the dispatcher's transaction logic.
inline constexpr uint32_t kTransaction = 1 << 12;
// Redis's CMD_PROTECTED (DEBUG): refused unless enable-debug-command allows the client.
inline constexpr uint32_t kProtected = 1 << 13;
// Redis's CMD_NO_MULTI: refused while queueing a MULTI block (SAVE would take the shard locks
// EXEC already holds; SHUTDOWN ends the server mid-transaction).
inline constexpr uint32_t kNoMulti = 1 << 14;
// Allowed in RESP2 subscribed mode (the SUBSCRIBE family, PING, QUIT, RESET); every other
// command is refused there (the dispatcher, with Redis's error).
inline constexpr uint32_t kSubscribedOk = 1 << 15;
}  // namespace cmdflags

struct CommandSpec {
  const char* name;  // lower case
  int arity;
  uint32_t flags;
  int first_key;
  int last_key;
  int step;
  CommandHandler handler;
  const char* group;    // "string", "generic", "server", "connection", ...
  const char* summary;  // for COMMAND DOCS
  const char* since;
  int id = -1;            // index in the registry, assigned on registration
  KeysFn keys = nullptr;  // when set, overrides first/last/step (first_key must still be > 0)
  LockAllFn lock_all = nullptr;
  // Container commands (CONFIG, CLIENT, ...) have subcommands: rows of their own named
  // "parent|sub", with their own arity, flags and statistics, as in Redis 7. A container's own
  // handler (COMMAND's) runs only when it is called without a subcommand.
  bool container() const { return !subcommands.empty(); }
  std::vector<const CommandSpec*> subcommands = {};  // filled in by the registry
  // The keyspace event of the command's changes (commands/notify.h), set on registration.
  EventTag event = {};
  // The name Redis 7.0 propagates the command as (ReplicatedName, commands/replication.h), set
  // on registration; nullptr for EXEC and scripts.
  const char* replicated_name = nullptr;
  // Whether Redis 7.0 propagates the command as it was sent, its changes following from the
  // command alone (PropagatedVerbatim, commands/replication.h), set on registration: the
  // stream to a Redis replica then carries the command rather than the changed values.
  bool verbatim = false;
};

class CommandRegistry {
 public:
  // The registry with every family registered.
  static const CommandRegistry& Default();

  // REQUIRES: every row is registered before the registry is used (rows are not moved after).
  void Register(CommandSpec spec);
  // Case-insensitive lookup of a top-level command; nullptr if unknown.
  const CommandSpec* Find(std::string_view name) const;
  // Like Find, and also accepts a subcommand's full name ("config|get"), for COMMAND INFO.
  const CommandSpec* FindFull(std::string_view name) const;
  // The subcommand row of a container, e.g. FindSub(config, "GET"); nullptr if unknown.
  const CommandSpec* FindSub(const CommandSpec& parent, std::string_view sub) const;
  // Top-level rows only (what COMMAND lists).
  std::vector<const CommandSpec*> TopLevel() const;
  const std::vector<CommandSpec>& all() const { return specs_; }
  size_t size() const { return specs_.size(); }

  // Key argument indexes of a call (args[0] is the command name), from the row's keys function
  // or first/last/step.
  static void KeyIndexes(const CommandSpec& spec, CmdArgs args, std::vector<size_t>* out);
  // The keys of `numkeys` at args[numkeys_pos] followed by that many keys, plus the key at
  // `extra_key` if > 0 (the destination of ZUNIONSTORE). For KeysFn implementations.
  static void NumKeysAt(CmdArgs args, size_t numkeys_pos, size_t extra_key,
                        std::vector<size_t>* out);

 private:
  void Link();  // fills in containers' subcommand lists once every row is registered
  std::vector<CommandSpec> specs_;
  // Looked up by absl::string_view (Debian's abseil has its own string_view), without a copy.
  absl::flat_hash_map<std::string, size_t> by_name_;
};

// Each family registers its rows.
void RegisterStringFamily(CommandRegistry& r);
void RegisterGenericFamily(CommandRegistry& r);
void RegisterServerFamily(CommandRegistry& r);
void RegisterTransactionFamily(CommandRegistry& r);
void RegisterHashFamily(CommandRegistry& r);
void RegisterListFamily(CommandRegistry& r);
void RegisterSetFamily(CommandRegistry& r);
void RegisterZSetFamily(CommandRegistry& r);
void RegisterPubSubFamily(CommandRegistry& r);
void RegisterIntrospectionFamily(CommandRegistry& r);
void RegisterSortFamily(CommandRegistry& r);
void RegisterStreamFamily(CommandRegistry& r);
void RegisterDumpFamily(CommandRegistry& r);
void RegisterScriptingFamily(CommandRegistry& r);  // scripting.cc
void RegisterBitopsFamily(CommandRegistry& r);
void RegisterHyperLogLogFamily(CommandRegistry& r);
void RegisterGeoFamily(CommandRegistry& r);
void RegisterAclFamily(CommandRegistry& r);          // acl_family.cc
void RegisterReplicationFamily(CommandRegistry& r);  // replication_family.cc
void RegisterClusterFamily(CommandRegistry& r);      // cluster_family.cc

}  // namespace fdb
