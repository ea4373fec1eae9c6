// Lua scripting (EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL): see docs/scripting.md.
//
// A script runs on the I/O thread that read it, in that thread's own Lua 5.1 state, holding
// every shard lock (as EXEC): it sees no other command's effects while it runs, and its effects
// are committed as one batch in the log. redis.call runs commands through the dispatcher, inside
// the script's transaction.
#pragma once

#include <string_view>

#include "commands/registry.h"
#include "protocol/reply_builder.h"

namespace fdb {

// While a script has run for longer than busy-reply-threshold, other clients' commands are
// refused with BUSY except the few Redis allows (SCRIPT KILL, FUNCTION KILL/STATS, SHUTDOWN
// NOSAVE). Returns true when it replied (the command must not run). Called by the dispatcher
// for every command that is not part of a running transaction.
bool ScriptBusyRefuses(const CommandSpec& spec, std::span<const std::string_view> args,
                       ReplyBuilder& rb);

// Scripts that ran on their declared keys' shards and met a key of another shard: started again
// holding every shard (before any write), or took that shard on the spot (after one).
struct ScriptLockStats {
  uint64_t restarts = 0;
  uint64_t escalations = 0;
};
ScriptLockStats GetScriptLockStats();

// Whether EVAL / EVALSHA / FCALL (`command`, lower case) would run a script that may write:
// one without a shebang, or whose shebang or function flags lack no-writes (CLIENT PAUSE
// WRITE holds those, as Redis).
bool ScriptMayWrite(std::string_view command, std::span<const std::string_view> args);

// How many scripts the script cache holds (INFO memory's number_of_cached_scripts).
size_t CachedScriptCount();

}  // namespace fdb
