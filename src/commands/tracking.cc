#include "commands/tracking.h"

#include <algorithm>

#include "base/limits.h"
#include "base/numbers.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/server_context.h"
#include "protocol/reply_builder.h"
#include "server/client_state.h"

namespace fdb {

namespace {

// The value part of an invalidation: the keys as an array, or a null in the receiver's
// protocol (RESP3 `_`, RESP2 `$-1`, as Redis's shared.null).
void AppendKeys(std::string& out, const std::vector<std::string>& keys, bool null, bool resp3) {
  if (null) {
    out += resp3 ? "_\r\n" : "$-1\r\n";
    return;
  }
  out += '*';
  out += std::to_string(keys.size());
  out += "\r\n";
  for (const std::string& k : keys) AppendBulk(out, k);
}

bool HasPrefix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// Redis's stringCheckPrefix: one is a prefix of the other.
bool Overlap(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  return a.compare(0, n, b.substr(0, n)) == 0;
}

}  // namespace

void Tracking::UpdateActive() {
  clients_count_.store(static_cast<int64_t>(clients_.size()), std::memory_order_relaxed);
  bcast_clients_ = 0;
  for (const auto& [id, cl] : clients_) bcast_clients_ += cl.bcast ? 1 : 0;
}

void Tracking::Enable(ClientState& c, uint64_t redirect, bool bcast, bool optin, bool optout,
                      bool noloop, const std::vector<std::string>& prefixes) {
  ClientState::Tracking& t = c.tracking;
  if (!t.on) t.prefixes.clear();
  t.on = true;
  t.bcast = bcast;
  t.optin = optin;
  t.optout = optout;
  t.noloop = noloop;
  t.redirect = redirect;
  if (bcast) {
    if (prefixes.empty() &&
        std::find(t.prefixes.begin(), t.prefixes.end(), "") == t.prefixes.end()) {
      t.prefixes.emplace_back();
    }
    for (const std::string& p : prefixes) {
      if (std::find(t.prefixes.begin(), t.prefixes.end(), p) == t.prefixes.end()) {
        t.prefixes.push_back(p);
      }
    }
  }
  t.prefixes_bytes = 0;
  for (const std::string& p : t.prefixes) {
    t.prefixes_bytes += p.size() + limits::kSubscriptionOverhead;
  }
  {
    MutexLock l(mu_);
    Client& cl = clients_[c.id];
    cl.redirect = redirect;
    cl.bcast = bcast;
    cl.noloop = noloop;
    cl.broken = false;
    cl.prefixes = t.prefixes;
    UpdateActive();
  }
  server_.UpdateFollowers();
}

void Tracking::Disable(ClientState& c) {
  if (!c.tracking.on) return;
  c.tracking = ClientState::Tracking{};
  {
    MutexLock l(mu_);
    clients_.erase(c.id);  // its ids left in keys_ are skipped, and dropped with their keys
    // With no tracking client left the sink goes off and stops seeing changes (a FLUSHALL
    // among them), so what the table remembers would go stale: it is emptied.
    if (clients_.empty()) {
      keys_.clear();
      items_ = 0;
    }
    UpdateActive();
  }
  server_.UpdateFollowers();
}

bool Tracking::RedirectBroken(uint64_t client_id) const {
  MutexLock l(mu_);
  auto it = clients_.find(client_id);
  return it != clients_.end() && it->second.broken;
}

Tracking::Stats Tracking::GetStats() const {
  MutexLock l(mu_);
  Stats s;
  s.keys = static_cast<int64_t>(keys_.size());
  s.items = items_;
  s.clients = static_cast<int64_t>(clients_.size());
  NameSet prefixes;
  for (const auto& [id, cl] : clients_) {
    for (const std::string& p : cl.prefixes) prefixes.insert(p);
  }
  s.prefixes = static_cast<int64_t>(prefixes.size());
  return s;
}

void Tracking::AfterCommand(const CommandSpec& spec, CmdArgs args, ClientState& c, Txn* in_txn) {
  ClientState::Tracking& t = c.tracking;
  // A script's keys are remembered by the script itself, when it ran a read (Remember).
  if (!t.bcast && (spec.flags & cmdflags::kReadOnly) && spec.first_key > 0 &&
      std::string_view(spec.group) != "scripting") {
    std::vector<size_t> idx;
    CommandRegistry::KeyIndexes(spec, args, &idx);
    std::vector<std::string_view> keys;
    keys.reserve(idx.size());
    for (size_t i : idx) keys.push_back(args[i]);
    Remember(keys, c, in_txn);
  }
  // A CACHING choice holds for the next command only (CLIENT commands and MULTI's queueing
  // aside, as Redis).
  if (!c.in_multi && std::string_view(spec.name).substr(0, 7) != "client|") t.caching = false;
}

void Tracking::Remember(CmdArgs keys, ClientState& c, Txn* in_txn) {
  ClientState::Tracking& t = c.tracking;
  // As Redis's trackingRememberKeys: OPTIN remembers only after CACHING YES, OPTOUT always
  // but after CACHING NO.
  const bool remember = t.optin ? t.caching : t.optout ? !t.caching : true;
  if (t.bcast || !remember || keys.empty()) return;
  if (in_txn != nullptr && in_txn->has_effects()) {
    for (std::string_view k : keys) in_txn->NoteRead(k);
  }
  std::vector<Pending> pending;
  {
    MutexLock l(mu_);
    for (std::string_view k : keys) {
      if (keys_[k].insert(c.id).second) items_++;
    }
    FitTable(&pending);
  }
  Send(pending, c.pubsub_sink);
}

void Tracking::FitTable(std::vector<Pending>* out) {
  // Over tracking-table-max-keys: keys are dropped (and their clients told, since they will
  // not be told of a later change) until the table fits.
  const int64_t max = server_.config().tracking_table_max_keys();
  while (max > 0 && static_cast<int64_t>(keys_.size()) > max) {
    std::string victim = keys_.begin()->first;
    TakeKey(victim, 0, out);
  }
}

void Tracking::EnforceLimit() {
  if (!active()) return;
  std::vector<Pending> pending;
  {
    MutexLock l(mu_);
    FitTable(&pending);
  }
  Send(pending, nullptr);
}

void Tracking::TakeKey(std::string_view key, uint64_t writer, std::vector<Pending>* out,
                       uint64_t keep) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  bool kept = false;
  for (uint64_t id : it->second) {
    if (keep != 0 && id == keep) {
      kept = true;
      continue;
    }
    auto cl = clients_.find(id);
    if (cl == clients_.end() || cl->second.bcast) continue;  // tracking off since
    if (cl->second.noloop && id == writer) continue;
    out->push_back({id, {std::string(key)}, false});
  }
  items_ -= static_cast<int64_t>(it->second.size());
  if (kept) {
    it->second.clear();
    it->second.insert(keep);
    items_++;
    return;
  }
  keys_.erase(it);
}

void Tracking::Capture(Effect& effect) {
  if (!active() || effect.key.empty() || !effect.follow_key.empty()) return;
  effect.follow_key.assign(effect.key);
}

Status Tracking::Commit(Txn& txn) {
  if (!active()) return Status::OK();
  std::vector<Pending> pending;
  {
    MutexLock l(mu_);
    // BCAST: the keys of this commit per (client, prefix), one message each.
    absl::flat_hash_map<std::pair<uint64_t, size_t>, size_t> groups;
    // Keys the client read inside this EXEC: the last read's position among the effects.
    absl::flat_hash_map<std::string_view, size_t> read_after;
    for (const auto& [key, at] : txn.reads()) {
      size_t& pos = read_after[key];
      pos = std::max(pos, at);
    }
    size_t index = 0;
    for (const Effect& effect : txn.effects()) {
      const size_t i = index++;
      if (effect.kind == EffectKind::kFlush) {
        for (const auto& [id, cl] : clients_) pending.push_back({id, {}, true});
        keys_.clear();
        items_ = 0;
        continue;
      }
      if (effect.follow_key.empty()) continue;
      const std::string& key = effect.follow_key;
      // Expiry and eviction are nobody's command: NOLOOP does not hide them.
      const uint64_t writer = effect.cause == EffectCause::kCommand ? txn.client_id() : 0;
      auto r = read_after.find(key);
      const uint64_t keep = r != read_after.end() && r->second > i ? txn.client_id() : 0;
      TakeKey(key, writer, &pending, keep);
      if (bcast_clients_ == 0) continue;  // no prefix to match: no scan of every client
      for (const auto& [id, cl] : clients_) {
        if (!cl.bcast || (cl.noloop && id == writer)) continue;
        for (size_t p = 0; p < cl.prefixes.size(); p++) {
          if (!HasPrefix(key, cl.prefixes[p])) continue;
          auto [g, fresh] = groups.try_emplace({id, p}, pending.size());
          if (fresh) pending.push_back({id, {}, false});
          std::vector<std::string>& keys = pending[g->second].keys;
          if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
        }
      }
    }
  }
  Send(pending, txn.origin(), &txn);
  return Status::OK();
}

void Tracking::Send(std::vector<Pending>& pending, MessageSink* here, const Txn* txn) {
  if (pending.empty()) return;
  const int64_t hard = server_.config().output_limit(Config::kPubsub).hard;
  std::vector<Delivery> out;
  std::vector<uint64_t> broken;
  for (Pending& p : pending) {
    uint64_t redirect = 0;
    {
      MutexLock l(mu_);
      auto it = clients_.find(p.id);
      if (it == clients_.end()) continue;
      redirect = it->second.redirect;
    }
    const uint64_t target = redirect != 0 ? redirect : p.id;
    std::shared_ptr<Subscriber> handle;
    bool resp3 = false, subscribed = false;
    server_.clients().WithClient(target, [&](ClientState& c) {
      handle = c.push_handle;
      resp3 = c.resp3.load(std::memory_order_relaxed);
      subscribed = c.sub_channels.load(std::memory_order_relaxed) +
                       c.sub_patterns.load(std::memory_order_relaxed) +
                       c.sub_shard_channels.load(std::memory_order_relaxed) >
                   0;
    });
    std::string msg;
    if (handle == nullptr) {
      if (redirect == 0) continue;  // the client itself closed
      // The redirect target has gone: a RESP3 client is told so, instead of the keys.
      broken.push_back(p.id);
      server_.clients().WithClient(p.id, [&](ClientState& c) {
        handle = c.push_handle;
        resp3 = c.resp3.load(std::memory_order_relaxed);
      });
      if (handle == nullptr || !resp3) continue;
      msg = "*2\r\n";
      AppendBulk(msg, "tracking-redir-broken");
      msg += ':' + std::to_string(redirect) + "\r\n";
    } else if (resp3) {
      msg = "*2\r\n";
      AppendBulk(msg, "invalidate");
      AppendKeys(msg, p.keys, p.null, true);
    } else if (redirect != 0 && subscribed) {
      msg = "*3\r\n";
      AppendBulk(msg, "message");
      AppendBulk(msg, "__redis__:invalidate");
      AppendKeys(msg, p.keys, p.null, false);
    } else {
      continue;  // RESP2 without a subscribed redirect target: no way to tell it
    }
    if (txn != nullptr && txn->own_pushes() != nullptr && target == txn->client_id()) {
      if (resp3) msg[0] = '>';
      *txn->own_pushes() += msg;  // after the reply it is about to get
      continue;
    }
    out.push_back({std::move(handle), std::make_shared<const std::string>(std::move(msg))});
  }
  if (!broken.empty()) {
    MutexLock l(mu_);
    for (uint64_t id : broken) {
      auto it = clients_.find(id);
      if (it != clients_.end()) it->second.broken = true;
    }
  }
  // One call per receiving thread, each in the order above.
  while (!out.empty()) {
    MessageSink* sink = out.front().to->sink;
    std::vector<Delivery> batch, rest;
    for (Delivery& d : out) (d.to->sink == sink ? batch : rest).push_back(std::move(d));
    if (sink != nullptr) DeliverFrom(here, sink, batch, hard);
    out.swap(rest);
  }
}

// --- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO --------------------------------------

void CmdClientTracking(CmdArgs args, CommandContext& ctx) {
  ClientState& c = ctx.client;
  uint64_t redirect = 0;
  bool bcast = false, optin = false, optout = false, noloop = false;
  std::vector<std::string> prefixes;
  for (size_t j = 3; j < args.size(); j++) {
    const bool more = j + 1 < args.size();
    if (EqualsUpper(args[j], "REDIRECT") && more) {
      j++;
      if (redirect != 0) {
        return ctx.rb.Error("ERR A client can only redirect to a single other client");
      }
      int64_t id;
      if (!ParseInt64(args[j], &id)) return ctx.rb.Error(errors::kNotInteger);
      bool found = false;
      ctx.server.clients().WithClient(static_cast<uint64_t>(id),
                                      [&](ClientState&) { found = true; });
      if (!found) return ctx.rb.Error("ERR The client ID you want redirect to does not exist");
      redirect = static_cast<uint64_t>(id);
    } else if (EqualsUpper(args[j], "BCAST")) {
      bcast = true;
    } else if (EqualsUpper(args[j], "OPTIN")) {
      optin = true;
    } else if (EqualsUpper(args[j], "OPTOUT")) {
      optout = true;
    } else if (EqualsUpper(args[j], "NOLOOP")) {
      noloop = true;
    } else if (EqualsUpper(args[j], "PREFIX") && more) {
      prefixes.emplace_back(args[++j]);
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  if (EqualsUpper(args[2], "OFF")) {
    ctx.server.tracking().Disable(c);
    return ctx.rb.Ok();
  }
  if (!EqualsUpper(args[2], "ON")) return ctx.rb.Error(errors::kSyntax);
  // Redis's checks, in its order and with its texts.
  if (!bcast && !prefixes.empty()) {
    return ctx.rb.Error("ERR PREFIX option requires BCAST mode to be enabled");
  }
  if (c.tracking.on && c.tracking.bcast != bcast) {
    return ctx.rb.Error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
  }
  if (bcast && (optin || optout)) {
    return ctx.rb.Error("ERR OPTIN and OPTOUT are not compatible with BCAST");
  }
  if (optin && optout) return ctx.rb.Error("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if ((optin && c.tracking.optout) || (optout && c.tracking.optin)) {
    return ctx.rb.Error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
  }
  if (bcast) {
    for (size_t i = 0; i < prefixes.size(); i++) {
      if (c.tracking.on) {
        for (const std::string& old : c.tracking.prefixes) {
          if (Overlap(old, prefixes[i])) {
            return ctx.rb.Error("ERR Prefix '" + prefixes[i] +
                                "' overlaps with an existing prefix '" + old +
                                "'. Prefixes for a single client must not overlap.");
          }
        }
      }
      for (size_t j = i + 1; j < prefixes.size(); j++) {
        if (Overlap(prefixes[i], prefixes[j])) {
          return ctx.rb.Error("ERR Prefix '" + prefixes[i] +
                              "' overlaps with another provided prefix '" + prefixes[j] +
                              "'. Prefixes for a single client must not overlap.");
        }
      }
    }
  }
  ctx.server.tracking().Enable(c, redirect, bcast, optin, optout, noloop, prefixes);
  ctx.rb.Ok();
}

void CmdClientCaching(CmdArgs args, CommandContext& ctx) {
  ClientState::Tracking& t = ctx.client.tracking;
  if (!t.on) {
    return ctx.rb.Error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
  }
  if (EqualsUpper(args[2], "YES")) {
    if (!t.optin) {
      return ctx.rb.Error(
          "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
    }
  } else if (EqualsUpper(args[2], "NO")) {
    if (!t.optout) {
      return ctx.rb.Error(
          "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
    }
  } else {
    return ctx.rb.Error(errors::kSyntax);
  }
  t.caching = true;
  ctx.rb.Ok();
}

void CmdClientGetRedir(CmdArgs, CommandContext& ctx) {
  const ClientState::Tracking& t = ctx.client.tracking;
  ctx.rb.Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
}

void CmdClientTrackingInfo(CmdArgs, CommandContext& ctx) {
  const ClientState::Tracking& t = ctx.client.tracking;
  std::vector<const char*> flags;
  if (!t.on) {
    flags.push_back("off");
  } else {
    flags.push_back("on");
    if (t.bcast) flags.push_back("bcast");
    if (t.optin) flags.push_back("optin");
    if (t.optin && t.caching) flags.push_back("caching-yes");
    if (t.optout) flags.push_back("optout");
    if (t.optout && t.caching) flags.push_back("caching-no");
    if (t.noloop) flags.push_back("noloop");
    if (t.redirect != 0 && ctx.server.tracking().RedirectBroken(ctx.client.id)) {
      flags.push_back("broken_redirect");
    }
  }
  ctx.rb.MapHeader(3);
  ctx.rb.Bulk("flags");
  ctx.rb.SetHeader(flags.size());
  for (const char* f : flags) ctx.rb.Bulk(f);
  ctx.rb.Bulk("redirect");
  ctx.rb.Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
  ctx.rb.Bulk("prefixes");
  ctx.rb.ArrayHeader(t.on ? t.prefixes.size() : 0);
  if (t.on) {
    for (const std::string& p : t.prefixes) ctx.rb.Bulk(p);
  }
}

}  // namespace fdb
