// The dispatcher runs one parsed request: looks up the command, checks arity and
// authentication, locks the shards of its keys in ascending order, calls the handler and
// records statistics. It is the single place where those rules are enforced.
#pragma once

#include <string_view>
#include <vector>

#include "commands/context.h"

namespace fdb {

class Dispatcher {
 public:
  Dispatcher(ServerContext& server, ThreadStats* stats)
      : server_(server), stats_(stats), registry_(CommandRegistry::Default()) {}

  // Executes `args` (args[0] is the command name) for `client`, appending the reply to rb.
  // Then serves the clients blocked on keys the command created (commands/blocking.h), after
  // its locks are released; inside EXEC that waits for the end of the transaction.
  void Execute(CmdArgs args, ClientState& client, ReplyBuilder& rb);

 private:
  void ExecuteCommand(CmdArgs args, ClientState& client, ReplyBuilder& rb);
  // MULTI / EXEC / DISCARD / WATCH / UNWATCH: the transaction state lives in the client, and
  // EXEC runs the queued commands with every shard locked, so the block is atomic.
  bool HandleTransaction(const CommandSpec& spec, CmdArgs args, ClientState& client,
                         ReplyBuilder& rb);
  void Exec(ClientState& client, ReplyBuilder& rb);

  ServerContext& server_;
  ThreadStats* stats_;
  const CommandRegistry& registry_;
  std::vector<size_t> key_idx_;  // scratch
};

// Redis's text for an unknown command.
std::string UnknownCommandError(CmdArgs args);
std::string WrongArityError(std::string_view name);

}  // namespace fdb
