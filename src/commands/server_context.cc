#include "commands/server_context.h"

#include <cstdio>
#include <random>

#include "base/clock.h"
#include "base/logging.h"
#include "commands/registry.h"
#include "engine/encoding_limits.h"
#include "engine/list_object.h"

namespace fdb {

void ClientRegistry::Add(ClientState* c) {
  std::lock_guard<std::mutex> l(mu_);
  clients_[c->id] = c;
}

void ClientRegistry::Remove(ClientState* c) {
  std::lock_guard<std::mutex> l(mu_);
  clients_.erase(c->id);
}

size_t ClientRegistry::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return clients_.size();
}

void ClientRegistry::ForEach(const std::function<void(ClientState&)>& fn) const {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [id, c] : clients_) fn(*c);
}

void ClientRegistry::WithClient(uint64_t id, const std::function<void(ClientState&)>& fn) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clients_.find(id);
  if (it != clients_.end()) fn(*it->second);
}

ServerContext::ServerContext() : start_time_ms_(NowMs()) {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 40; i++) run_id_ += kHex[rd() % 16];
  last_save_s = start_time_ms_ / 1000;
  keyspace_.set_key_listener(&blocking_);
  keyspace_.AddFollower(&notifier_);
  keyspace_.AddFollower(&tracking_);
  keyspace_.AddFollower(&replication_);
  keyspace_.set_not_counted_buffers(
      [this] { return replication_.Memory().not_counted + ClosingClientsMemory(); });
}

bool ServerContext::MinReplicasRefuseWrites() {
  const int64_t want = config_.min_replicas_to_write();
  const int64_t max_lag = config_.min_replicas_max_lag();
  if (want <= 0 || max_lag <= 0 || replication_.is_replica()) return false;
  return replication_.GoodReplicas(max_lag) < want;
}

void ServerContext::UpdateFollowers() {
  // Keyspace notifications are on when some class and K or E are set (Redis needs both).
  const int events = config_.notify_keyspace_events();
  const bool notify = (events & (notify::kKeyspace | notify::kKeyevent)) != 0 &&
                      (events & ~(notify::kKeyspace | notify::kKeyevent)) != 0;
  keyspace_.set_followers_on(notify || tracking_.active() || replication_.active());
}

void ServerContext::BeginShutdown() {
  {
    std::lock_guard<std::mutex> l(shutdown_mu_);
    shutting_down_.store(true, std::memory_order_release);
  }
  shutdown_cv_.notify_all();
}

bool ServerContext::SleepUnlessShutdown(std::chrono::microseconds d) {
  std::unique_lock<std::mutex> l(shutdown_mu_);
  return !shutdown_cv_.wait_for(l, d, [this] { return shutting_down(); });
}

void ServerContext::ApplyConfig() {
  LogLevel level;
  if (ParseLogLevel(config_.loglevel(), &level)) SetLogLevel(level);  // Config validated it
  UpdateFollowers();
  cluster_.Configure();
  // requirepass is the default user's password (Redis's ACLUpdateDefaultUserPassword): only
  // when it was set since the last call, so passwords given by ACL SETUSER stay otherwise.
  if (config_.requirepass_version() != requirepass_applied_) {
    requirepass_applied_ = config_.requirepass_version();
    acl_.SetRequirePass(config_.requirepass());
  }
  tracking_.EnforceLimit();  // a lowered tracking-table-max-keys applies at once
  // The lists made from now on take these; a list keeps the ones it was made with.
  ListObject::SetDefaultOptions({config_.list_max_listpack_size(), config_.list_compress_depth()});
  // Before recovery too (fdb-server applies the config before opening the log): images and
  // deltas replayed take their encodings under these thresholds.
  EncodingLimits::Values enc;
  enc.hash_max_listpack_entries = static_cast<uint64_t>(config_.hash_max_listpack_entries());
  enc.hash_max_listpack_value = static_cast<uint64_t>(config_.hash_max_listpack_value());
  enc.set_max_intset_entries = static_cast<uint64_t>(config_.set_max_intset_entries());
  enc.set_max_listpack_entries = static_cast<uint64_t>(config_.set_max_listpack_entries());
  enc.set_max_listpack_value = static_cast<uint64_t>(config_.set_max_listpack_value());
  enc.zset_max_listpack_entries = static_cast<uint64_t>(config_.zset_max_listpack_entries());
  enc.zset_max_listpack_value = static_cast<uint64_t>(config_.zset_max_listpack_value());
  EncodingLimits::Set(enc);
  keyspace_.set_lfu_mode(config_.maxmemory_policy().find("lfu") != std::string::npos);
  keyspace_.SetLfuParams(config_.lfu_log_factor(), config_.lfu_decay_time());
  EvictionPolicy policy = EvictionPolicy::kNoEviction;
  (void)ParseEvictionPolicy(config_.maxmemory_policy(), &policy);  // Config validated the name
  keyspace_.SetEviction(policy, config_.maxmemory_samples(), config_.maxmemory_eviction_tenacity());
  keyspace_.SampleUsedMemory();
  keyspace_.SetBudget(static_cast<uint64_t>(config_.maxmemory()),
                      static_cast<uint64_t>(config_.cache_size()));
  if (storage_) {
    auto p = storage::ParseFsyncPolicy(config_.appendfsync());
    if (p.ok()) storage_->SetFsyncPolicy(p.value());
  }
}

Status ServerContext::OpenStorage() {
  if (!config_.persistence()) return Status::OK();
  StorageOptions o;
  o.dir = config_.dir();
  auto p = storage::ParseFsyncPolicy(config_.appendfsync());
  if (!p.ok()) return p.status();
  o.fsync = p.value();
  o.compress_min = config_.compression() ? 256 : 0;
  auto engine = StorageEngine::Open(o, &keyspace_);
  if (!engine.ok()) return engine.status();
  storage_ = std::move(engine.value());
  last_save_s = storage_->stats().last_save_s ? storage_->stats().last_save_s : last_save_s.load();
  return Status::OK();
}

void ServerContext::CloseStorage() {
  if (!storage_) return;
  Status s = storage_->Close();
  if (!s.ok()) FDB_LOG_WARNING("closing the log: %s", s.ToString().c_str());
  storage_.reset();
}

ThreadStats* ServerContext::NewThreadStats() {
  std::lock_guard<std::mutex> l(stats_mu_);
  thread_stats_.push_back(std::make_unique<ThreadStats>(CommandRegistry::Default().size()));
  return thread_stats_.back().get();
}

void ServerContext::ForEachThreadStats(const std::function<void(ThreadStats&)>& fn) {
  std::lock_guard<std::mutex> l(stats_mu_);
  for (auto& t : thread_stats_) fn(*t);
}

uint64_t ServerContext::Dirty() {
  uint64_t n = dirty.load();
  ForEachThreadStats([&](ThreadStats& t) { n += t.dirty.load(std::memory_order_relaxed); });
  return n;
}

void ServerContext::ResetDirty() {
  dirty = 0;
  ForEachThreadStats([](ThreadStats& t) { t.dirty.store(0, std::memory_order_relaxed); });
}

uint64_t ServerContext::ClosingClientsMemory() const {
  uint64_t n = 0;
  clients_.ForEach([&n](ClientState& c) {
    if (c.kill_requested.load(std::memory_order_relaxed)) {
      n += c.tot_mem.load(std::memory_order_relaxed);
    }
  });
  return n;
}

void ServerContext::ResetStats() {
  ForEachThreadStats([](ThreadStats& t) {
    for (auto& c : t.commands) {
      c.calls = 0;
      c.usec = 0;
      c.failed = 0;
      c.rejected = 0;
      for (auto& h : c.hist) h = 0;
    }
    t.net_input_bytes = 0;
    t.net_output_bytes = 0;
  });
  keyspace_.stats().expired_keys = 0;
  keyspace_.ResetLazyFreed();
  error_stats_.Reset();
  keyspace_.stats().evicted_keys = 0;
  keyspace_.stats().keyspace_hits = 0;
  keyspace_.stats().keyspace_misses = 0;
  total_connections = 0;
  rejected_connections = 0;
  evicted_clients = 0;
  output_limit_disconnections = 0;
}

}  // namespace fdb
