// Access control: users, their permissions, and the check every command passes (Redis 7.0's
// ACL, with selectors).
//
// The model. A user has flags (on/off, nopass), a set of SHA-256 password hashes, and one or
// more selectors: the root selector and the `(...)` ones added after it. A selector allows a
// set of commands (a bit per registry row, subcommands included, plus first arguments of
// commands without subcommands, `+select|0`), key patterns with read and/or write permission
// (`~p`, `%R~p`, `%W~p`, `allkeys`) and channel patterns (`&p`, `allchannels`). A call is
// allowed when one selector allows its command, every one of its keys and every one of its
// channels. The command rules are kept as given (compacted: a later rule for the same command
// replaces an earlier one, `+@all` / `-@all` start over) so ACL GETUSER and ACL LIST print
// them back as the user wrote them, as Redis does.
//
// Threads. The user table is read by every I/O thread and changed by ACL SETUSER / DELUSER /
// LOAD from any of them: it is guarded by one reader-writer mutex. A client holds a
// shared_ptr to its user's AclUser, a stable object whose permissions are changed in place
// under that mutex. The hot path reads only `AclUser::unrestricted`, an atomic that is true
// while the user is on and may run every command on every key and channel (the default user
// as configured out of the box): then nothing else is looked at. The alternative rejected,
// an immutable snapshot per change read through an atomic shared_ptr, costs a reference count
// on every command for every user.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "commands/registry.h"

namespace fdb {

struct ClientState;
class ServerContext;

// Redis's ACL categories, in ACL CAT's order.
const std::vector<std::string>& AclCategoryNames();
// The categories of a registry row, as a bit set over AclCategoryNames(); derived from its
// flags and group.
uint64_t AclCategoriesOf(const CommandSpec& spec);

// Key permissions of a pattern (`%R~`, `%W~`, `~` = both).
inline constexpr uint8_t kAclKeyRead = 1;
inline constexpr uint8_t kAclKeyWrite = 2;

struct AclSelector {
  std::vector<uint64_t> allowed;                  // a bit per registry row (CommandSpec::id)
  std::map<int, std::vector<std::string>> first;  // allowed first args (lower case) per row id
  bool all_commands = false;                      // based on +@all (future commands allowed)
  std::string rules;  // the command rules after the +@all / -@all base, space-separated
  bool all_keys = false;
  std::vector<std::pair<std::string, uint8_t>> keys;  // pattern, kAclKey* flags
  bool all_channels = false;
  std::vector<std::string> channels;

  bool Allows(int id) const { return (allowed[id / 64] >> (id % 64)) & 1; }
  std::string Describe(bool root) const;  // "~* &* +@all", "%R~a resetchannels -@all +get"
  std::string CommandsText() const;       // "+@all -@string", as GETUSER's commands
  std::string KeysText() const;
  std::string ChannelsText() const;
};

class AclUser {
 public:
  explicit AclUser(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  // On, and allowed every command, key and channel without selectors to check.
  std::atomic<bool> unrestricted{false};

  // Guarded by Acl::mu_.
  bool on = false;
  bool nopass = false;
  std::vector<std::string> passwords;  // hex SHA-256, in the order added
  std::vector<AclSelector> selectors;  // [0] is the root selector

 private:
  const std::string name_;
};

// Why a call was refused.
enum class AclDenial { kNone, kCommand, kKey, kChannel };
struct AclVerdict {
  AclDenial denial = AclDenial::kNone;
  std::string object;  // the command's full name, the key or the channel
};

class Acl {
 public:
  explicit Acl(ServerContext& server);

  // The default user (never removed).
  std::shared_ptr<AclUser> default_user() const { return default_user_; }
  // A new connection's user and whether it starts authenticated (the default user is on and
  // nopass), as Redis's createClient.
  void InitClient(ClientState& c) const;
  // Whether the default user has no password (protected mode applies then).
  bool DefaultNoPass() const;

  // AUTH / HELLO AUTH: the user when it exists, is on and the password matches; else null
  // (and the failure is logged in ACL LOG and the server log).
  std::shared_ptr<AclUser> Authenticate(std::string_view user, std::string_view pass,
                                        const ClientState& c);
  // Makes `c` authenticated as `user` (thread of `c` only).
  static void SetClientUser(ClientState& c, std::shared_ptr<AclUser> user);

  // Applies rules to a user (created when missing, as ACL SETUSER), atomically: on an error
  // nothing changes and the error is Redis's text ("Error in ACL SETUSER modifier ...").
  Status SetUser(std::string_view name, const std::vector<std::string>& rules);
  // Removes users and kills their connections; returns how many existed.
  // Fails for "default" with Redis's error.
  int DelUsers(const std::vector<std::string>& names, Status* error);
  std::shared_ptr<AclUser> Find(std::string_view name) const;
  std::vector<std::string> UserNames() const;        // sorted
  std::vector<std::string> List() const;             // "user NAME ..." lines, sorted by name
  std::string DescribeUser(const AclUser& u) const;  // REQUIRES: mu_ held (shared)
  // ACL GETUSER's reply, or false when there is no such user.
  bool ReplyGetUser(std::string_view name, class ReplyBuilder& rb) const;

  // The permission check. `args[0]` is the command; `spec` its row (subcommand resolved).
  // REQUIRES: `user` is not unrestricted (the caller's fast path).
  AclVerdict Check(const AclUser& user, const CommandSpec& spec, CmdArgs args) const;
  // Whether the client may read every key (SORT BY / GET patterns).
  bool CanReadAllKeys(const ClientState& c) const;

  // ACL LOG. Returns true when the event made a new entry, false when it was counted on a
  // recent similar one (the server log then says nothing more: a client repeating a refused
  // command does not flood it).
  bool Log(const ClientState& c, std::string_view reason, std::string_view context,
           std::string_view object, std::string_view username);
  void ReplyLog(class ReplyBuilder& rb, int64_t count) const;
  void ResetLog();

  // Startup: `user` lines of the config file and `aclfile` (not both, as Redis).
  Status LoadAtStartup(const std::vector<std::string>& user_lines, const std::string& aclfile);
  // ACL LOAD / SAVE over `path`. LOAD replaces every user (all or nothing) and kills the
  // connections of the users it replaced.
  Status LoadFile(const std::string& path);
  Status SaveFile(const std::string& path) const;

  // requirepass mirrors the default user's password, as Redis: a value sets it as the only
  // password, empty makes the user nopass.
  void SetRequirePass(std::string_view pass);

  // CLIENT KILL USER: kills the clients of a user; the number killed.
  // (The kill itself is the caller's; this says whether the user exists.)
  bool Exists(std::string_view name) const { return Find(name) != nullptr; }

  // One NOPERM reply text for a verdict (Redis 7.0's, without the leading '-').
  static std::string NoPermText(const AclVerdict& v);
  // ACL DRYRUN's text for a verdict.
  static std::string DryRunText(const AclVerdict& v);

 private:
  struct Parsed;  // a user's new state while rules are applied
  Status ApplyRules(AclUser& u, const std::vector<std::string>& rules, bool* channels_shrunk);
  void RefreshUnrestricted(AclUser& u) const;
  void KillClientsOf(const std::vector<const AclUser*>& users, bool subscribed_only) const;
  Status ParseAclLines(const std::vector<std::string>& lines, const std::string& where,
                       std::map<std::string, std::shared_ptr<AclUser>>* out);

  ServerContext& server_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<AclUser>> users_;  // guarded by mu_
  std::shared_ptr<AclUser> default_user_;

  struct LogEntry {
    uint64_t count;
    std::string reason, context, object, username, client_info;
    int64_t created_ms;
  };
  mutable std::mutex log_mu_;
  std::deque<LogEntry> log_;  // newest first; guarded by log_mu_
};

// Redis's client info line (CLIENT INFO), defined with CLIENT in server_family.cc.
std::string ClientInfoString(const ClientState& c, int64_t now_ms);

}  // namespace fdb
