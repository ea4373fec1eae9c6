#include "commands/dispatcher.h"

#include <cctype>

#include "base/clock.h"
#include "commands/errors.h"

namespace fdb {

bool EqualsUpper(std::string_view arg, std::string_view upper) {
  if (arg.size() != upper.size()) return false;
  for (size_t i = 0; i < arg.size(); i++) {
    if (std::toupper(static_cast<unsigned char>(arg[i])) != upper[i]) return false;
  }
  return true;
}

std::string UnknownCommandError(CmdArgs args) {
  // Redis: "ERR unknown command '%.128s', with args beginning with: " then "'%.128s' " per arg.
  std::string msg = "ERR unknown command '";
  msg += args[0].substr(0, 128);
  msg += "', with args beginning with: ";
  for (size_t i = 1; i < args.size() && msg.size() < 128; i++) {
    msg += "'";
    msg += args[i].substr(0, 128 - std::min<size_t>(128, msg.size()));
    msg += "' ";
  }
  return msg;
}

std::string WrongArityError(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

void Dispatcher::Execute(CmdArgs args, ClientState& client, ReplyBuilder& rb) {
  const CommandSpec* spec = registry_.Find(args[0]);
  if (spec == nullptr) {
    rb.Error(UnknownCommandError(args));
    return;
  }
  CommandCounters& counters = stats_->commands[spec->id];
  int argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(WrongArityError(spec->name));
    return;
  }
  if (!(spec->flags & cmdflags::kNoAuth) && !client.authenticated.load(std::memory_order_relaxed)) {
    counters.rejected.store(counters.rejected.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    rb.Error(errors::kNoAuth);
    return;
  }
  client.last_cmd.store(spec->name, std::memory_order_relaxed);

  int64_t start_us = MonoUs();
  size_t reply_start = rb.buffer()->size();
  {
    ShardLockSet locks;
    if (!(spec->flags & cmdflags::kSelfLocking) && spec->first_key > 0) {
      CommandRegistry::KeyIndexes(*spec, args.size(), &key_idx_);
      for (size_t i : key_idx_) locks.Add(Keyspace::ShardOf(HashKey(args[i])));
      locks.Lock(server_.keyspace());
    }
    CommandContext ctx(rb, server_, client, *spec, NowMs());
    spec->handler(args, ctx);
  }
  int64_t dur = MonoUs() - start_us;
  counters.calls.store(counters.calls.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  counters.usec.store(counters.usec.load(std::memory_order_relaxed) + dur,
                      std::memory_order_relaxed);
  if (rb.buffer()->size() > reply_start && (*rb.buffer())[reply_start] == '-') {
    counters.failed.store(counters.failed.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  }
}

}  // namespace fdb
