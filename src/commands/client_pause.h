// CLIENT PAUSE / CLIENT UNPAUSE, as Redis 7.0.
//
// The model: a pause is a server-wide state (a mode and an end time) that every I/O thread
// reads before each command. A command the pause holds is not refused: the dispatcher leaves
// it unanswered (ClientState::postponed), the connection keeps a copy of it and reads nothing
// more from that client, and its I/O thread runs it again once the pause no longer holds it
// (checked every 10 ms by the thread's timer, so CLIENT UNPAUSE takes effect within a tick).
// Redis parks the client in its single event loop; FDB has one loop per I/O thread, so the
// state is atomics rather than a list of blocked clients.
//
// What is held, as Redis 7.0's processCommand:
//   ALL    every command of every client (CLIENT UNPAUSE included: only the timeout ends it);
//   WRITE  commands that write or may replicate: write commands, PUBLISH, SPUBLISH, PFCOUNT,
//          EVAL / EVALSHA / FCALL unless the script or function declares `no-writes`, and EXEC
//          of a queue holding any of those. Reads, EVAL_RO / FCALL_RO and admin commands run.
// A command inside EXEC or a script is never held (its EXEC was, as a whole), nor are
// in-process clients (the embedded API), which have no connection to park.
//
// While a pause lasts, keys are not expired nor evicted (the data set is static, as Redis):
// an expired key reads as missing and is deleted once the pause is over (Keyspace::PauseChanges).
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/mutex.h"
#include "commands/registry.h"

namespace fdb {

struct ClientState;

class ClientPause {
 public:
  enum Mode : int { kOff = 0, kWrite = 1, kAll = 2 };

  // CLIENT PAUSE: as Redis, a second pause keeps the more restrictive mode and the later end.
  // A pause whose end has passed is over, whatever its mode. Returns the end time in force.
  int64_t Pause(Mode mode, int64_t now_ms, int64_t end_ms);
  // CLIENT UNPAUSE. It does not end a failover's hold.
  void Unpause();
  // FAILOVER holds writes, as CLIENT PAUSE WRITE, from its start until it ends or is aborted,
  // apart from any client's pause (Redis's PAUSE_DURING_FAILOVER purpose).
  void SetFailoverHold(bool on) { failover_hold_.store(on, std::memory_order_release); }
  bool failover_hold() const { return failover_hold_.load(std::memory_order_acquire); }
  // Whether any pause may hold a command now (no clock read): the dispatcher's fast test.
  bool maybe_active() const {
    return end_ms_.load(std::memory_order_acquire) != 0 ||
           failover_hold_.load(std::memory_order_acquire);
  }
  // The mode in force at `now_ms` (kOff once the end time has passed).
  Mode Current(int64_t now_ms) const;
  int64_t end_ms() const { return end_ms_.load(std::memory_order_acquire); }

  // Whether a pause holds this call (`spec` already resolved to a subcommand, `args` the call)
  // for `client`, whose MULTI queue EXEC would run.
  bool Holds(const CommandSpec& spec, CmdArgs args, const ClientState& client,
             int64_t now_ms) const;

  // Clients whose command is held right now (INFO blocked_clients counts them, as Redis).
  std::atomic<int64_t> postponed_clients{0};

 private:
  Mutex mu_;  // serialises Pause and Unpause; readers read the atomics
  std::atomic<int> mode_{kOff};
  std::atomic<int64_t> end_ms_{0};
  std::atomic<bool> failover_hold_{false};
};

// Whether a call writes or may replicate (Redis's CMD_WRITE | CMD_MAY_REPLICATE, with scripts'
// declared flags): what CLIENT PAUSE WRITE holds.
bool MayReplicate(const CommandSpec& spec, CmdArgs args);

}  // namespace fdb
