// CLUSTER, CLUSTERX, READONLY, READWRITE and ASKING: the commands of cluster mode
// (commands/cluster.h). CLUSTER answers from the topology this node was given, in Redis's reply
// formats; CLUSTERX (Kvrocks's names) is how fdb-controller gives it one. With cluster mode off
// every one of them answers as a Redis with cluster support disabled.
#include "base/numbers.h"
#include "commands/cluster.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/help.h"

namespace fdb {

namespace {

using namespace cmdflags;

// A slot argument of CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT / CLUSTERX: false (the error
// replied) when it is not an integer.
bool ParseSlot(std::string_view arg, int64_t* slot, CommandContext& ctx) {
  if (!ParseInt64(arg, slot)) {
    ctx.rb.Error(errors::kNotInteger);
    return false;
  }
  return true;
}

// Calls fn(key) for each live key of `slot` (database 0), with the slot's shard locked, until
// fn returns false. Slots have no key index of their own: the scan reads the slot's shard,
// 1/kNumShards of the keyspace.
template <class F>
void ForEachKeyInSlot(CommandContext& ctx, int slot, F&& fn) {
  ShardLockSet lock;
  const int shard = ShardOfSlot(slot);
  lock.Add(shard);
  lock.Lock(ctx.ks, ctx.txn.holds_all_shards());
  bool more = true;
  ctx.ks.shard(shard).dbs[0].ForEach([&](Entry* e) {
    if (!more || (e->has_expire() && e->expire_ms() <= ctx.now_ms)) return;
    if (KeySlot(e->key()) == slot) more = fn(e->key());
  });
}

void CmdCluster(CmdArgs args, CommandContext& ctx) {
  Cluster& cluster = ctx.server.cluster();
  if (!cluster.enabled()) return ctx.rb.Error(cluster_errors::kDisabled);
  const std::string_view sub = std::string_view(ctx.spec.name).substr(sizeof("cluster|") - 1);
  if (sub == "slots") return cluster.ReplySlots(ctx.rb);
  if (sub == "shards") return cluster.ReplyShards(ctx.rb);
  if (sub == "nodes") return ctx.rb.Verbatim(cluster.NodesText());
  if (sub == "info") return ctx.rb.Verbatim(cluster.InfoText());
  if (sub == "myid") return ctx.rb.Bulk(cluster.state()->myid);
  if (sub == "keyslot") return ctx.rb.Integer(KeySlot(args[2]));
  if (sub == "countkeysinslot") {
    int64_t slot;
    if (!ParseSlot(args[2], &slot, ctx)) return;
    if (slot < 0 || slot >= kNumSlots) return ctx.rb.Error("ERR Invalid slot");
    int64_t n = 0;
    ForEachKeyInSlot(ctx, static_cast<int>(slot), [&](std::string_view) {
      n++;
      return true;
    });
    return ctx.rb.Integer(n);
  }
  if (sub == "getkeysinslot") {
    int64_t slot, max_keys;
    if (!ParseSlot(args[3], &max_keys, ctx) || !ParseSlot(args[2], &slot, ctx)) return;
    if (max_keys < 0 || slot < 0 || slot >= kNumSlots) {
      return ctx.rb.Error("ERR Invalid slot or number of keys");
    }
    std::vector<std::string> keys;
    if (max_keys > 0) {
      ForEachKeyInSlot(ctx, static_cast<int>(slot), [&](std::string_view k) {
        keys.emplace_back(k);
        return static_cast<int64_t>(keys.size()) < max_keys;
      });
    }
    ctx.rb.ArrayHeader(keys.size());
    for (const std::string& k : keys) ctx.rb.Bulk(k);
    return;
  }
  if (sub == "replicas" || sub == "slaves") {
    auto st = cluster.state();
    const ClusterNode* p = st->Find(args[2]);
    if (p == nullptr) return ctx.rb.Error("ERR Unknown node " + std::string(args[2]));
    if (!p->primary) return ctx.rb.Error("ERR The specified node is not a master");
    std::vector<std::string> lines;
    std::string all = cluster.NodesText();
    for (size_t pos = 0; pos < all.size();) {
      size_t nl = all.find('\n', pos);
      std::string line = all.substr(pos, nl - pos);
      if (line.find(" slave " + p->id + " ") != std::string::npos) lines.push_back(line);
      pos = nl + 1;
    }
    ctx.rb.ArrayHeader(lines.size());
    for (const std::string& l : lines) ctx.rb.Bulk(l);
    return;
  }
  if (sub == "links") return ctx.rb.ArrayHeader(0);  // no cluster bus
  if (sub == "help") {
    return ReplyHelp(
        ctx.rb, "CLUSTER",
        {"SLOTS", "    Return information about slots range mappings.", "SHARDS",
         "    Return information about slot range mappings and the nodes.", "NODES",
         "    Return cluster configuration seen by node.", "INFO",
         "    Return information about the cluster.", "MYID", "    Return the node id.",
         "KEYSLOT <key>", "    Return the hash slot for <key>.", "COUNTKEYSINSLOT <slot>",
         "    Return the number of keys in <slot>.", "GETKEYSINSLOT <slot> <count>",
         "    Return key names stored by current node in a slot.", "REPLICAS <node-id>",
         "    Return <node-id> replicas."});
  }
  // ADDSLOTS, MEET, FAILOVER, SETSLOT, ...: Redis Cluster's own ways to change the topology.
  ctx.rb.Error("ERR CLUSTER " + std::string(args[1]) +
               " is not supported: the topology is set by fdb-controller (CLUSTERX SETNODES)");
}

void CmdReadOnlyMode(CmdArgs, CommandContext& ctx) {
  if (!ctx.server.cluster().enabled()) return ctx.rb.Error(cluster_errors::kDisabled);
  ctx.client.cluster_readonly = std::string_view(ctx.spec.name) == "readonly";
  ctx.rb.Ok();
}

void CmdAsking(CmdArgs, CommandContext& ctx) {
  if (!ctx.server.cluster().enabled()) return ctx.rb.Error(cluster_errors::kDisabled);
  ctx.client.cluster_asking = 2;  // this command and the next (the dispatcher counts down)
  ctx.rb.Ok();
}

void ReplyStatus(CommandContext& ctx, const Status& s) {
  if (s.ok()) return ctx.rb.Ok();
  ctx.rb.Error("ERR " + s.message());
}

// CLUSTERX, as Kvrocks's: VERSION, MYID, SETNODEID <id>, SETNODES <nodes> <version> [FORCE],
// SETSLOT <slot> NODE <id> <version>, MIGRATING / IMPORTING <slot> <id|"">.
void CmdClusterX(CmdArgs args, CommandContext& ctx) {
  Cluster& cluster = ctx.server.cluster();
  if (!cluster.enabled()) return ctx.rb.Error(cluster_errors::kDisabled);
  const std::string_view sub = std::string_view(ctx.spec.name).substr(sizeof("clusterx|") - 1);
  if (sub == "version") return ctx.rb.Integer(cluster.state()->version);
  if (sub == "myid") return ctx.rb.Bulk(cluster.state()->myid);
  if (sub == "setnodeid") return ReplyStatus(ctx, cluster.SetNodeId(args[2]));
  if (sub == "setnodes") {
    int64_t version;
    if (!ParseInt64(args[3], &version)) return ctx.rb.Error("ERR Invalid version of cluster");
    bool force = false;
    if (args.size() == 5) {
      if (!EqualsUpper(args[4], "FORCE")) return ctx.rb.Error(errors::kSyntax);
      force = true;
    } else if (args.size() > 5) {
      return ctx.rb.Error(errors::kSyntax);
    }
    return ReplyStatus(ctx, cluster.SetNodes(args[2], version, force));
  }
  if (sub == "setslot") {
    int64_t slot, version;
    if (!ParseSlot(args[2], &slot, ctx)) return;
    if (!EqualsUpper(args[3], "NODE")) return ctx.rb.Error(errors::kSyntax);
    if (!ParseInt64(args[5], &version)) return ctx.rb.Error("ERR Invalid version of cluster");
    if (slot < 0 || slot >= kNumSlots) return ctx.rb.Error("ERR Slot is out of range");
    return ReplyStatus(ctx, cluster.SetSlot(static_cast<int>(slot), args[4], version));
  }
  if (sub == "migrating" || sub == "importing") {
    int64_t slot;
    if (!ParseSlot(args[2], &slot, ctx)) return;
    if (slot < 0 || slot >= kNumSlots) return ctx.rb.Error("ERR Slot is out of range");
    const int s = static_cast<int>(slot);
    return ReplyStatus(ctx, sub == "migrating" ? cluster.SetMigrating(s, args[3])
                                               : cluster.SetImporting(s, args[3]));
  }
  ReplyHelp(
      ctx.rb, "CLUSTERX",
      {"VERSION", "    Return the version of the topology this node applied.", "MYID",
       "    Return the node id.", "SETNODEID <node-id>", "    Set the node id.",
       "SETNODES <nodes> <version> [FORCE]",
       "    Apply a topology: one line per node, '<id> <ip> <port> master|slave <master-id>|- "
       "[<slot>|<first>-<last> ...]'.",
       "SETSLOT <slot> NODE <node-id> <version>",
       "    Give <slot> to <node-id>; <version> is the current one plus one.",
       "MIGRATING <slot> <node-id>|\"\"", "    Mark <slot> as leaving for <node-id>.",
       "IMPORTING <slot> <node-id>|\"\"", "    Mark <slot> as arriving from <node-id>."});
}

}  // namespace

void RegisterClusterFamily(CommandRegistry& r) {
  // clang-format off
  r.Register({"readonly", 1, kFast | kLoading | kStale, 0, 0, 0, CmdReadOnlyMode, "cluster", "Enables read-only queries for a connection to a Redis Cluster replica node.", "3.0.0"});
  r.Register({"readwrite", 1, kFast | kLoading | kStale, 0, 0, 0, CmdReadOnlyMode, "cluster", "Enables read-write queries for a connection to a Redis Cluster replica node.", "3.0.0"});
  r.Register({"cluster", -2, 0, 0, 0, 0, nullptr, "cluster", "A container for Redis Cluster commands.", "3.0.0"});
  r.Register({"cluster|addslots", -3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Assign new hash slots to receiving node", "3.0.0"});
  r.Register({"cluster|addslotsrange", -4, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Assign new hash slots to receiving node", "7.0.0"});
  r.Register({"cluster|bumpepoch", 2, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Advance the cluster config epoch", "3.0.0"});
  r.Register({"cluster|count-failure-reports", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Return the number of failure reports active for a given node", "3.0.0"});
  r.Register({"cluster|countkeysinslot", 3, kStale, 0, 0, 0, CmdCluster, "cluster", "Return the number of local keys in the specified hash slot", "3.0.0"});
  r.Register({"cluster|delslots", -3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Set hash slots as unbound in receiving node", "3.0.0"});
  r.Register({"cluster|delslotsrange", -4, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Set hash slots as unbound in receiving node", "7.0.0"});
  r.Register({"cluster|failover", -2, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Forces a replica to perform a manual failover of its master.", "3.0.0"});
  r.Register({"cluster|flushslots", 2, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Delete a node's own slots information", "3.0.0"});
  r.Register({"cluster|forget", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Remove a node from the nodes table", "3.0.0"});
  r.Register({"cluster|getkeysinslot", 4, kStale, 0, 0, 0, CmdCluster, "cluster", "Return local key names in the specified hash slot", "3.0.0"});
  r.Register({"cluster|help", 2, kLoading | kStale, 0, 0, 0, CmdCluster, "cluster", "Show helpful text about the different subcommands", "5.0.0"});
  r.Register({"cluster|info", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Provides info about Redis Cluster node state", "3.0.0"});
  r.Register({"cluster|keyslot", 3, kStale, 0, 0, 0, CmdCluster, "cluster", "Returns the hash slot of the specified key", "3.0.0"});
  r.Register({"cluster|links", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Returns a list of all TCP links to and from peer nodes in cluster", "7.0.0"});
  r.Register({"cluster|meet", -4, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Force a node cluster to handshake with another node", "3.0.0"});
  r.Register({"cluster|myid", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Return the node id", "3.0.0"});
  r.Register({"cluster|nodes", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Get Cluster config for the node", "3.0.0"});
  r.Register({"cluster|replicas", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "List replica nodes of the specified master node", "5.0.0"});
  r.Register({"cluster|replicate", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Reconfigure a node as a replica of the specified master node", "3.0.0"});
  r.Register({"cluster|reset", -2, kAdmin | kNoScript | kStale, 0, 0, 0, CmdCluster, "cluster", "Reset a Redis Cluster node", "3.0.0"});
  r.Register({"cluster|saveconfig", 2, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Forces the node to save cluster state on disk", "3.0.0"});
  r.Register({"cluster|set-config-epoch", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Set the configuration epoch in a new node", "3.0.0"});
  r.Register({"cluster|setslot", -4, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "Bind a hash slot to a specific node", "3.0.0"});
  r.Register({"cluster|shards", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Get array of cluster slots to node mappings", "7.0.0"});
  r.Register({"cluster|slaves", 3, kAdmin | kStale, 0, 0, 0, CmdCluster, "cluster", "List replica nodes of the specified master node", "3.0.0"});
  r.Register({"cluster|slots", 2, kStale, 0, 0, 0, CmdCluster, "cluster", "Get array of Cluster slot to node mappings", "3.0.0"});
  r.Register({"asking", 1, kFast, 0, 0, 0, CmdAsking, "cluster", "Signals that a cluster client is following an -ASK redirect.", "3.0.0"});
  r.Register({"clusterx", -2, 0, 0, 0, 0, nullptr, "cluster", "A container for the commands that give a node its cluster topology (Kvrocks's).", "1.0.0"});
  r.Register({"clusterx|version", 2, kAdmin | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Returns the version of the applied topology.", "1.0.0"});
  r.Register({"clusterx|myid", 2, kAdmin | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Returns the node id.", "1.0.0"});
  r.Register({"clusterx|setnodeid", 3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Sets the node id.", "1.0.0"});
  r.Register({"clusterx|setnodes", -4, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Applies a versioned cluster topology.", "1.0.0"});
  r.Register({"clusterx|setslot", 6, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Gives one slot to a node, as the next topology version.", "1.0.0"});
  r.Register({"clusterx|migrating", 4, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Marks a slot as leaving this node.", "1.0.0"});
  r.Register({"clusterx|importing", 4, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Marks a slot as arriving on this node.", "1.0.0"});
  r.Register({"clusterx|help", 2, kLoading | kStale, 0, 0, 0, CmdClusterX, "cluster", "Returns helpful text about the different subcommands.", "1.0.0"});
  // clang-format on
}

}  // namespace fdb
