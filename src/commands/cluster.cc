#include "commands/cluster.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/numbers.h"
#include "commands/pubsub.h"
#include "commands/server_context.h"
#include "protocol/reply_builder.h"

namespace fdb {

namespace {

// Kvrocks's node IDs: 40 characters, as Redis's (hex there; any [0-9a-z] here).
bool ValidNodeId(std::string_view id) {
  if (id.size() != 40) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
    size_t s = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') i++;
    if (i > s) out.push_back(line.substr(s, i - s));
  }
  return out;
}

// Each primary's slot ranges, from the owner table (ascending, merged).
void RebuildRanges(ClusterState& st) {
  for (ClusterNode& n : st.nodes) n.slots.clear();
  st.slots_assigned = 0;
  for (int s = 0; s < kNumSlots;) {
    int o = st.owner[s];
    int e = s;
    while (e + 1 < kNumSlots && st.owner[e + 1] == o) e++;
    if (o >= 0) {
      st.nodes[o].slots.emplace_back(s, e);
      st.slots_assigned += e - s + 1;
    }
    s = e + 1;
  }
}

// The marks of slots on the move that still make sense under the new owners: a slot leaves
// only while it is this node's, and arrives only while it is not yet.
void KeepMoves(const ClusterState& prev, ClusterState& next) {
  for (const auto& [slot, id] : prev.migrating) {
    if (next.myself >= 0 && next.owner[slot] == next.myself && next.Find(id) != nullptr) {
      next.migrating.emplace(slot, id);
    }
  }
  for (const auto& [slot, id] : prev.importing) {
    if (next.owner[slot] != next.myself && next.Find(id) != nullptr) {
      next.importing.emplace(slot, id);
    }
  }
}

std::string Addr(const ClusterNode& n) { return n.ip + ":" + std::to_string(n.port); }

}  // namespace

const ClusterNode* ClusterState::Find(std::string_view id) const {
  for (const ClusterNode& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Cluster::Cluster(ServerContext& server) : server_(server) {
  auto st = std::make_shared<ClusterState>();
  st->owner.fill(-1);
  state_.store(std::move(st));
}

void Cluster::Configure() {
  enabled_.store(server_.config().cluster_enabled(), std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  if (!cur->myid.empty()) return;
  auto next = std::make_shared<ClusterState>(*cur);
  next->myid = server_.run_id();
  state_.store(std::move(next), std::memory_order_release);
}

Status Cluster::SetNodeId(std::string_view id) {
  if (!ValidNodeId(id)) return Status::InvalidArgument("Invalid cluster node id");
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  auto next = std::make_shared<ClusterState>(*cur);
  next->myid = std::string(id);
  next->myself = -1;
  for (size_t i = 0; i < next->nodes.size(); i++) {
    if (next->nodes[i].id == id) next->myself = static_cast<int>(i);
  }
  next->migrating.clear();
  next->importing.clear();
  Install(std::move(next));
  return Status::OK();
}

Status Cluster::SetNodes(std::string_view text, int64_t version, bool force) {
  if (version < 0) return Status::InvalidArgument("Invalid version of cluster");
  auto next = std::make_shared<ClusterState>();
  next->owner.fill(-1);
  next->version = version;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::vector<std::string_view> w = SplitWords(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (w.empty()) continue;
    if (w.size() < 5) return Status::InvalidArgument("Invalid cluster nodes info");
    ClusterNode n;
    if (!ValidNodeId(w[0])) return Status::InvalidArgument("Invalid cluster node id");
    n.id = std::string(w[0]);
    n.ip = std::string(w[1]);
    int64_t port;
    if (!ParseInt64(w[2], &port) || port <= 0 || port > 65535) {
      return Status::InvalidArgument("Invalid cluster node port");
    }
    n.port = static_cast<int>(port);
    if (w[3] == "master") {
      n.primary = true;
      if (w[4] != "-")
        return Status::InvalidArgument("Invalid cluster node info: a master has no master");
    } else if (w[3] == "slave" || w[3] == "replica") {
      n.primary = false;
      if (!ValidNodeId(w[4])) return Status::InvalidArgument("Invalid cluster node id");
      n.primary_id = std::string(w[4]);
      if (w.size() > 5)
        return Status::InvalidArgument("Invalid cluster node info: a slave has no slots");
    } else {
      return Status::InvalidArgument("Invalid cluster node role");
    }
    if (next->Find(n.id) != nullptr) return Status::InvalidArgument("Duplicate cluster node id");
    if (next->nodes.size() >= static_cast<size_t>(INT16_MAX)) {
      return Status::InvalidArgument("Too many cluster nodes");
    }
    const int16_t index = static_cast<int16_t>(next->nodes.size());
    for (size_t i = 5; i < w.size(); i++) {
      std::string_view r = w[i];
      size_t dash = r.find('-');
      int64_t a, b;
      if (!ParseInt64(r.substr(0, dash), &a) ||
          !ParseInt64(dash == std::string_view::npos ? r : r.substr(dash + 1), &b) || a < 0 ||
          b >= kNumSlots || a > b) {
        return Status::InvalidArgument("Slot is out of range");
      }
      for (int64_t s = a; s <= b; s++) {
        if (next->owner[s] >= 0) return Status::InvalidArgument("Slot distribution is overlapped");
        next->owner[s] = index;
      }
    }
    next->nodes.push_back(std::move(n));
  }
  for (const ClusterNode& n : next->nodes) {
    if (n.primary) continue;
    const ClusterNode* p = next->Find(n.primary_id);
    if (p == nullptr || !p->primary) {
      return Status::InvalidArgument("Invalid cluster node info: a slave's master is not a master");
    }
  }
  RebuildRanges(*next);
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  if (!force && version <= cur->version)
    return Status::InvalidArgument("Invalid version of cluster");
  next->myid = cur->myid;
  for (size_t i = 0; i < next->nodes.size(); i++) {
    if (next->nodes[i].id == next->myid) next->myself = static_cast<int>(i);
  }
  KeepMoves(*cur, *next);
  FDB_LOG_NOTICE("Cluster topology version %lld applied: %zu nodes, %d slots assigned%s",
                 static_cast<long long>(version), next->nodes.size(), next->slots_assigned,
                 next->myself < 0 ? " (this node is not in it)" : "");
  Install(std::move(next));
  return Status::OK();
}

Status Cluster::SetSlot(int slot, std::string_view id, int64_t version) {
  if (slot < 0 || slot >= kNumSlots) return Status::InvalidArgument("Slot is out of range");
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  if (version != cur->version + 1) return Status::InvalidArgument("Invalid version of cluster");
  auto next = std::make_shared<ClusterState>(*cur);
  next->version = version;
  next->migrating.clear();
  next->importing.clear();
  int index = -1;
  for (size_t i = 0; i < next->nodes.size(); i++) {
    if (next->nodes[i].id == id) index = static_cast<int>(i);
  }
  if (index < 0) return Status::InvalidArgument("No such node");
  if (!next->nodes[index].primary) return Status::InvalidArgument("The node is not a master");
  next->owner[slot] = static_cast<int16_t>(index);
  RebuildRanges(*next);
  KeepMoves(*cur, *next);
  Install(std::move(next));
  return Status::OK();
}

Status Cluster::SetMigrating(int slot, std::string_view id) {
  if (slot < 0 || slot >= kNumSlots) return Status::InvalidArgument("Slot is out of range");
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  auto next = std::make_shared<ClusterState>(*cur);
  if (id.empty()) {
    next->migrating.erase(slot);
  } else {
    if (cur->myself < 0 || cur->owner[slot] != cur->myself) {
      return Status::InvalidArgument("I'm not the owner of hash slot " + std::to_string(slot));
    }
    const ClusterNode* to = cur->Find(id);
    if (to == nullptr || !to->primary || to->id == cur->myid) {
      return Status::InvalidArgument("I don't know about node " + std::string(id));
    }
    next->migrating[slot] = std::string(id);
  }
  state_.store(std::move(next), std::memory_order_release);
  return Status::OK();
}

Status Cluster::SetImporting(int slot, std::string_view id) {
  if (slot < 0 || slot >= kNumSlots) return Status::InvalidArgument("Slot is out of range");
  std::lock_guard<std::mutex> l(mu_);
  auto cur = state();
  auto next = std::make_shared<ClusterState>(*cur);
  if (id.empty()) {
    next->importing.erase(slot);
  } else {
    if (cur->myself >= 0 && cur->owner[slot] == cur->myself) {
      return Status::InvalidArgument("I'm already the owner of hash slot " + std::to_string(slot));
    }
    if (cur->Find(id) == nullptr) {
      return Status::InvalidArgument("I don't know about node " + std::string(id));
    }
    next->importing[slot] = std::string(id);
  }
  state_.store(std::move(next), std::memory_order_release);
  return Status::OK();
}

namespace {

// Whether this node serves `slot` in `st`: its primary is this node, or this node's primary.
bool Serves(const ClusterState& st, int slot) {
  const int owner = st.owner[slot];
  if (owner < 0 || st.myself < 0) return false;
  if (owner == st.myself) return true;
  const ClusterNode& me = st.nodes[st.myself];
  return !me.primary && me.primary_id == st.nodes[owner].id;
}

}  // namespace

void Cluster::Install(std::shared_ptr<ClusterState> next) {
  std::shared_ptr<const ClusterState> st = std::move(next);
  std::shared_ptr<const ClusterState> old = state_.exchange(st, std::memory_order_acq_rel);
  // As Redis's removeChannelsInSlot: the shard channels of a slot this node (or, for a
  // replica, its primary) no longer serves lose their subscribers, each told with a
  // `sunsubscribe` push, so clients resubscribe where the slot went.
  if (old != nullptr) {
    server_.pubsub().DropShardChannels(
        [&](int slot) { return Serves(*old, slot) && !Serves(*st, slot); });
  }
  if (st->myself < 0) return;
  // The replication role the topology gives this node (as Kvrocks's SetMasterSlaveRepl).
  const ClusterNode& me = st->nodes[st->myself];
  Replication& repl = server_.replication();
  if (me.primary) {
    if (repl.is_replica()) {
      FDB_LOG_NOTICE("Cluster topology makes this node a master");
      repl.ReplicaOf("", 0);
    }
    return;
  }
  const ClusterNode* p = st->Find(me.primary_id);
  if (repl.MasterAddr() != Addr(*p)) {
    FDB_LOG_NOTICE("Cluster topology makes this node a replica of %s", Addr(*p).c_str());
    repl.ReplicaOf(p->ip, p->port);
  }
}

bool Cluster::SlotOf(const CommandSpec& spec, CmdArgs args, const ClientState& client, int* slot,
                     bool* write, absl::InlinedVector<std::string_view, 4>* keys,
                     std::vector<size_t>* scratch) const {
  *slot = -1;
  *write = (spec.flags & cmdflags::kWrite) != 0;
  auto add = [&](const CommandSpec& s, CmdArgs call) {
    if ((s.flags & cmdflags::kPubSub) && s.first_key <= 0) {
      // Shard channels hash to slots as keys do (Redis 7.0's pubsubshard): SPUBLISH's channel
      // and every channel of SSUBSCRIBE / SUNSUBSCRIBE. They are not keys: a slot being moved
      // serves them on its owner until the move ends (no ASK), as Redis's getNodeByQuery.
      const std::string_view name = s.name;
      size_t last = 0;
      if (name == "spublish") {
        last = 1;
      } else if (name == "ssubscribe" || name == "sunsubscribe") {
        last = call.size() - 1;
      }
      for (size_t i = 1; i <= last && i < call.size(); i++) {
        int cs = KeySlot(call[i]);
        if (*slot >= 0 && cs != *slot) return false;
        *slot = cs;
      }
      return true;
    }
    if (s.first_key <= 0) return true;
    CommandRegistry::KeyIndexes(s, call, scratch);
    for (size_t i : *scratch) {
      int ks = KeySlot(call[i]);
      if (*slot >= 0 && ks != *slot) return false;
      *slot = ks;
      keys->push_back(call[i]);
    }
    return true;
  };
  if (!client.in_multi || std::string_view(spec.name) != "exec") return add(spec, args);
  // EXEC: the keys of every queued command must share one slot (Redis checks the queue as one).
  const CommandRegistry& registry = CommandRegistry::Default();
  std::vector<std::string_view> call;
  for (const auto& queued : client.queued) {
    if (queued.empty()) continue;
    const CommandSpec* s = registry.Find(queued[0]);
    if (s != nullptr && s->container() && queued.size() >= 2) {
      if (const CommandSpec* sub = registry.FindSub(*s, queued[1])) s = sub;
    }
    if (s == nullptr) continue;
    if (s->flags & cmdflags::kWrite) *write = true;
    call.assign(queued.begin(), queued.end());
    if (!add(*s, call)) return false;
  }
  return true;
}

bool Cluster::Refuses(const CommandSpec& spec, CmdArgs args, const ClientState& client,
                      ReplyBuilder& rb, std::vector<size_t>* scratch,
                      absl::FunctionRef<void()> release_locks, bool shards_held, int* slot_out) {
  int slot;
  bool write;
  absl::InlinedVector<std::string_view, 4> keys;  // no allocation for most calls
  if (!SlotOf(spec, args, client, &slot, &write, &keys, scratch)) {
    rb.Error(cluster_errors::kCrossSlot);
    return true;
  }
  if (slot_out != nullptr) *slot_out = slot;
  if (slot < 0) return false;  // no keys: any node runs it
  std::shared_ptr<const ClusterState> st = state();
  const int owner = st->owner[slot];
  if (owner < 0) {
    rb.Error(cluster_errors::kUnbound);
    return true;
  }
  if (!st->Ok() && server_.config().Number("cluster-require-full-coverage") != 0) {
    if (server_.config().Number("cluster-allow-reads-when-down") == 0) {
      rb.Error(cluster_errors::kDown);
      return true;
    }
    if (write) {
      rb.Error(cluster_errors::kDownReadOnly);
      return true;
    }
  }
  const bool mine = owner == st->myself;
  const std::string* moving_to = nullptr;
  const std::string* coming_from = nullptr;
  if (mine) {
    auto it = st->migrating.find(slot);
    if (it != st->migrating.end()) moving_to = &it->second;
  } else {
    auto it = st->importing.find(slot);
    if (it != st->importing.end()) coming_from = &it->second;
  }
  if (moving_to != nullptr || coming_from != nullptr) {
    // The migration's own commands: MIGRATE on the source moves whichever keys are there,
    // RESTORE-ASKING on the target is the key arriving (Redis's CMD_ASKING).
    const std::string_view name = spec.name;
    if (name == "migrate" || (coming_from != nullptr && name == "restore-asking")) return false;
    // Which of the keys are here decides: on the source, a key already moved (or never there)
    // is the target's; on the target, only an ASKING client may touch the slot, and a
    // multi-key call only once all its keys arrived.
    size_t missing = 0;
    bool multiple = false;
    {
      release_locks();
      ShardLockSet lock;
      lock.Add(ShardOfSlot(slot));
      lock.Lock(server_.keyspace(), shards_held);
      const int64_t now_ms = NowMs();
      for (std::string_view k : keys) {
        if (k != keys[0]) multiple = true;
        if (!server_.keyspace().IsLive(0, KeyRef(k), now_ms)) missing++;
      }
    }
    if (moving_to != nullptr && missing > 0) {
      if (missing < keys.size()) {
        rb.Error(cluster_errors::kTryAgain);
        return true;
      }
      const ClusterNode* to = st->Find(*moving_to);
      rb.Error("ASK " + std::to_string(slot) + " " + Addr(*to));
      return true;
    }
    if (coming_from != nullptr && client.cluster_asking != 0) {
      if (multiple && missing > 0) {
        rb.Error(cluster_errors::kTryAgain);
        return true;
      }
      return false;
    }
  }
  if (mine) return false;
  // A READONLY client's read of its primary's slot is served by the replica (maybe stale).
  if (client.cluster_readonly && !write && st->myself >= 0 &&
      st->nodes[st->myself].primary_id == st->nodes[owner].id) {
    return false;
  }
  rb.Error("MOVED " + std::to_string(slot) + " " + Addr(st->nodes[owner]));
  return true;
}

void Cluster::ReplySlots(ReplyBuilder& rb) const {
  std::shared_ptr<const ClusterState> st = state();
  struct Run {
    int first, last, owner;
  };
  std::vector<Run> runs;
  for (int p = 0; p < static_cast<int>(st->nodes.size()); p++) {
    for (const auto& [a, b] : st->nodes[p].slots) runs.push_back({a, b, p});
  }
  std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) { return x.first < y.first; });
  auto node = [&](const ClusterNode& n) {
    rb.ArrayHeader(4);
    rb.Bulk(n.ip);
    rb.Integer(n.port);
    rb.Bulk(n.id);
    rb.MapHeader(0);  // Redis 7's networking metadata (hostname): none
  };
  rb.ArrayHeader(runs.size());
  for (const Run& r : runs) {
    const ClusterNode& p = st->nodes[r.owner];
    std::vector<const ClusterNode*> replicas;
    for (const ClusterNode& n : st->nodes) {
      if (!n.primary && n.primary_id == p.id) replicas.push_back(&n);
    }
    rb.ArrayHeader(3 + replicas.size());
    rb.Integer(r.first);
    rb.Integer(r.last);
    node(p);
    for (const ClusterNode* n : replicas) node(*n);
  }
}

void Cluster::ReplyShards(ReplyBuilder& rb) const {
  std::shared_ptr<const ClusterState> st = state();
  size_t primaries = 0;
  for (const ClusterNode& n : st->nodes) primaries += n.primary;
  rb.ArrayHeader(primaries);
  const uint64_t my_offset = server_.replication().offset();
  auto node = [&](const ClusterNode& n) {
    rb.MapHeader(7);
    rb.Bulk("id");
    rb.Bulk(n.id);
    rb.Bulk("port");
    rb.Integer(n.port);
    rb.Bulk("ip");
    rb.Bulk(n.ip);
    rb.Bulk("endpoint");
    rb.Bulk(n.ip);
    rb.Bulk("role");
    rb.Bulk(n.primary ? "master" : "replica");
    rb.Bulk("replication-offset");
    rb.Integer(n.id == st->myid ? static_cast<int64_t>(my_offset) : 0);
    rb.Bulk("health");
    rb.Bulk("online");
  };
  for (const ClusterNode& p : st->nodes) {
    if (!p.primary) continue;
    std::vector<const ClusterNode*> members{&p};
    for (const ClusterNode& n : st->nodes) {
      if (!n.primary && n.primary_id == p.id) members.push_back(&n);
    }
    rb.MapHeader(2);
    rb.Bulk("slots");
    rb.ArrayHeader(2 * p.slots.size());
    for (const auto& [a, b] : p.slots) {
      rb.Integer(a);
      rb.Integer(b);
    }
    rb.Bulk("nodes");
    rb.ArrayHeader(members.size());
    for (const ClusterNode* n : members) node(*n);
  }
}

std::string Cluster::NodesText() const {
  std::shared_ptr<const ClusterState> st = state();
  const int64_t epoch = std::max<int64_t>(st->version, 0);
  std::string out;
  if (st->myself < 0) {
    // Not in the topology (or none yet): only this node, as a fresh Redis node lists itself.
    out = st->myid + " :" + std::to_string(server_.listening_port.load()) +
          "@0 myself,master - 0 0 " + std::to_string(epoch) + " connected\n";
  }
  for (const ClusterNode& n : st->nodes) {
    const bool me = n.id == st->myid;
    out += n.id + " " + Addr(n) + "@0 " + (me ? "myself," : "") + (n.primary ? "master" : "slave") +
           " " + (n.primary ? "-" : n.primary_id) + " 0 0 " + std::to_string(epoch) + " connected";
    for (const auto& [a, b] : n.slots) {
      out += " " + std::to_string(a);
      if (b != a) out += "-" + std::to_string(b);
    }
    if (me) {
      for (const auto& [slot, id] : st->migrating) {
        out += " [" + std::to_string(slot) + "->-" + id + "]";
      }
      for (const auto& [slot, id] : st->importing) {
        out += " [" + std::to_string(slot) + "-<-" + id + "]";
      }
    }
    out += "\n";
  }
  return out;
}

std::string Cluster::InfoText() const {
  std::shared_ptr<const ClusterState> st = state();
  int size = 0;
  for (const ClusterNode& n : st->nodes) size += n.primary && !n.slots.empty();
  const int64_t epoch = std::max<int64_t>(st->version, 0);
  std::string out;
  auto field = [&](const char* name, const std::string& v) {
    out += name;
    out += ":";
    out += v;
    out += "\r\n";
  };
  field("cluster_state", st->Ok() ? "ok" : "fail");
  field("cluster_slots_assigned", std::to_string(st->slots_assigned));
  field("cluster_slots_ok", std::to_string(st->slots_assigned));
  field("cluster_slots_pfail", "0");
  field("cluster_slots_fail", "0");
  field("cluster_known_nodes", std::to_string(std::max<size_t>(st->nodes.size(), 1)));
  field("cluster_size", std::to_string(size));
  field("cluster_current_epoch", std::to_string(epoch));
  field("cluster_my_epoch", std::to_string(epoch));
  field("cluster_stats_messages_sent", "0");
  field("cluster_stats_messages_received", "0");
  field("total_cluster_links_buffer_limit_exceeded", "0");
  return out;
}

}  // namespace fdb
