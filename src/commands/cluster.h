// Cluster mode (cluster-enabled yes): the Redis Cluster protocol over a topology this node is
// given, never one it works out itself.
//
// Model: as Apache Kvrocks's cluster, an external controller (fdb-controller, docs/cluster.md)
// keeps the desired topology in etcd, where Raft decides it, and pushes the whole of it to every
// node with CLUSTERX SETNODES <nodes> <version>. A node applies a version newer than its own and
// refuses an older one, so pushes that arrive out of order cannot undo a newer topology. The
// alternative rejected: Redis Cluster's gossip bus and epoch voting, a consensus protocol of its
// own that took Redis years to get right; here there is no bus and no failure detection, the
// controller probes the nodes and decides.
//
// From its topology a node answers CLUSTER SLOTS / SHARDS / NODES / INFO, routes every command
// with keys (Route: MOVED, ASK, CROSSSLOT, CLUSTERDOWN, TRYAGAIN, as Redis's getNodeByQuery) and
// takes the replication role the topology gives it: a replica replicates its primary
// (REPLICAOF), a primary stops replicating. Only database 0 exists in cluster mode.
//
// Thread-safety: the topology is an immutable snapshot (ClusterState) replaced whole under mu_
// and read through an atomic shared_ptr, so routing a command takes no lock. Routing a command
// costs nothing while cluster mode is off: the dispatcher tests enabled() first.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "base/slot.h"
#include "base/status.h"
#include "commands/registry.h"

namespace fdb {

class ServerContext;
class ReplyBuilder;
struct ClientState;

// One node of the topology, as a line of CLUSTERX SETNODES:
//   <id> <ip> <port> master|slave <primary-id or -> [<slot>|<first>-<last> ...]
struct ClusterNode {
  std::string id;  // 40 characters, [0-9a-z]
  std::string ip;
  int port = 0;
  bool primary = true;
  std::string primary_id;                  // a replica's primary
  std::vector<std::pair<int, int>> slots;  // a primary's slot ranges, inclusive, ascending
};

// A topology as applied, with what this node derives from it.
struct ClusterState {
  int64_t version = -1;  // -1: no topology was given yet
  std::string myid;
  int myself = -1;  // index in nodes, or -1 when the topology does not name this node
  std::vector<ClusterNode> nodes;
  // The index in nodes of each slot's primary, or -1 while the slot is unassigned.
  std::array<int16_t, kNumSlots> owner;
  int slots_assigned = 0;
  // Slots on the move (CLUSTERX MIGRATE on the source, CLUSTERX IMPORT on the target): the id
  // of the node they go to / come from. Local to this node, not versioned: the controller
  // flips the owner with a new version once the move is done, which ends them.
  std::map<int, std::string> migrating;
  std::map<int, std::string> importing;

  // The node with this id, or nullptr.
  const ClusterNode* Find(std::string_view id) const;
  // cluster_state: ok once every slot is assigned.
  bool Ok() const { return slots_assigned == kNumSlots; }
};

class Cluster {
 public:
  explicit Cluster(ServerContext& server);

  // Reads cluster-enabled (immutable) and picks the node ID: the run ID until CLUSTERX
  // SETNODEID gives one. Called at startup, before any client (ServerContext::ApplyConfig).
  void Configure();
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  std::shared_ptr<const ClusterState> state() const {
    return state_.load(std::memory_order_acquire);
  }

  // CLUSTERX SETNODES: parses `nodes` (lines as ClusterNode's) and applies it when `version`
  // is newer than the current one, or with `force` whatever it is. Errors leave the topology
  // as it was.
  [[nodiscard]] Status SetNodes(std::string_view nodes, int64_t version, bool force);
  // CLUSTERX SETSLOT <slot> NODE <id> <version>: gives `slot` to primary `id`; `version` must
  // be the current one plus one (as Kvrocks: the controller changed exactly this).
  [[nodiscard]] Status SetSlot(int slot, std::string_view id, int64_t version);
  // CLUSTERX SETNODEID: this node's ID (the topology finds the node by it).
  [[nodiscard]] Status SetNodeId(std::string_view id);
  // CLUSTERX MIGRATING / IMPORTING: marks `slot` as leaving for / arriving from node `id`;
  // an empty id clears the mark.
  [[nodiscard]] Status SetMigrating(int slot, std::string_view id);
  [[nodiscard]] Status SetImporting(int slot, std::string_view id);

  // Routing, as Redis's getNodeByQuery. Whether this node may run `spec` (args) for `client`:
  // false when it may; else the redirection or refusal is replied and true returned. For EXEC
  // the keys are those of every queued command. A slot on the move needs to know whether the
  // keys exist here: the keys' shard is locked for that, after `release_locks` gave up any
  // lock the dispatcher keeps. REQUIRES: enabled().
  // `scratch`: the caller's vector for key indexes. `shards_held`: the caller holds every
  // shard (a script's call), so none is locked here. `slot_out`, when given, gets the call's
  // slot (-1: no keys).
  bool Refuses(const CommandSpec& spec, CmdArgs args, const ClientState& client, ReplyBuilder& rb,
               std::vector<size_t>* scratch, absl::FunctionRef<void()> release_locks,
               bool shards_held, int* slot_out = nullptr);

  // Replies of the CLUSTER subcommands, from the current topology.
  void ReplySlots(ReplyBuilder& rb) const;
  void ReplyShards(ReplyBuilder& rb) const;
  std::string NodesText() const;  // CLUSTER NODES
  std::string InfoText() const;   // CLUSTER INFO

 private:
  // Installs `next` and applies its replication role to this node. REQUIRES: mu_ held.
  void Install(std::shared_ptr<ClusterState> next);
  // The slot of every key of the call into `slot` (-1: no keys), the keys into `keys`, and
  // whether the call writes; false on keys of different slots. For EXEC, the keys of the
  // queued commands.
  bool SlotOf(const CommandSpec& spec, CmdArgs args, const ClientState& client, int* slot,
              bool* write, absl::InlinedVector<std::string_view, 4>* keys,
              std::vector<size_t>* scratch) const;

  ServerContext& server_;
  std::atomic<bool> enabled_{false};
  std::mutex mu_;  // serializes changes of state_
  std::atomic<std::shared_ptr<const ClusterState>> state_;
};

// Redis's redirection and refusal texts (cluster.c clusterRedirectClient).
namespace cluster_errors {
inline constexpr char kCrossSlot[] = "CROSSSLOT Keys in request don't hash to the same slot";
inline constexpr char kUnbound[] = "CLUSTERDOWN Hash slot not served";
inline constexpr char kDown[] = "CLUSTERDOWN The cluster is down";
inline constexpr char kDownReadOnly[] =
    "CLUSTERDOWN The cluster is down and only accepts read commands";
inline constexpr char kTryAgain[] = "TRYAGAIN Multiple keys request during rehashing of slot";
inline constexpr char kDisabled[] = "ERR This instance has cluster support disabled";
inline constexpr char kSelect[] = "ERR SELECT is not allowed in cluster mode";
}  // namespace cluster_errors

}  // namespace fdb
