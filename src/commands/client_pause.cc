#include "commands/client_pause.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "commands/dispatcher.h"
#include "commands/scripting.h"
#include "server/client_state.h"

namespace fdb {

int64_t ClientPause::Pause(Mode mode, int64_t now_ms, int64_t end_ms) {
  MutexLock l(mu_);
  // A pause that has ended is over: its mode does not carry into the next one.
  if (Current(now_ms) == kOff) {
    mode_.store(kOff, std::memory_order_release);
    end_ms_.store(0, std::memory_order_release);
  }
  if (mode > mode_.load(std::memory_order_acquire)) mode_.store(mode, std::memory_order_release);
  if (end_ms > end_ms_.load(std::memory_order_acquire)) {
    end_ms_.store(end_ms, std::memory_order_release);
  }
  return end_ms_.load(std::memory_order_acquire);
}

void ClientPause::Unpause() {
  MutexLock l(mu_);
  end_ms_.store(0, std::memory_order_release);
  mode_.store(kOff, std::memory_order_release);
}

ClientPause::Mode ClientPause::Current(int64_t now_ms) const {
  int m = mode_.load(std::memory_order_acquire);
  if (m == kOff || now_ms >= end_ms_.load(std::memory_order_acquire)) m = kOff;
  if (m == kOff && failover_hold()) return kWrite;
  return static_cast<Mode>(m);
}

bool MayReplicate(const CommandSpec& spec, CmdArgs args) {
  if (spec.flags & cmdflags::kWrite) return true;
  std::string_view name = spec.name;
  // Redis flags these may-replicate: PUBLISH and SPUBLISH go to replicas, PFCOUNT may rewrite
  // the HyperLogLog's cached cardinality.
  if (name == "publish" || name == "spublish" || name == "pfcount") return true;
  if (name == "eval" || name == "evalsha" || name == "fcall") return ScriptMayWrite(name, args);
  return false;
}

bool ClientPause::Holds(const CommandSpec& spec, CmdArgs args, const ClientState& client,
                        int64_t now_ms) const {
  Mode mode = Current(now_ms);
  if (mode == kOff) return false;
  if (mode == kAll) return true;
  if (MayReplicate(spec, args)) return true;
  if (std::string_view(spec.name) != "exec" || !client.in_multi) return false;
  const CommandRegistry& registry = CommandRegistry::Default();
  std::vector<std::string_view> argv;
  for (const auto& call : client.queued) {
    if (call.empty()) continue;
    const CommandSpec* s = registry.Find(call[0]);
    if (s != nullptr && s->container() && call.size() >= 2) {
      if (const CommandSpec* sub = registry.FindSub(*s, call[1])) s = sub;
    }
    if (s == nullptr) continue;
    argv.assign(call.begin(), call.end());
    if (MayReplicate(*s, argv)) return true;
  }
  return false;
}

}  // namespace fdb
