#include "http/dashboard.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/clock.h"
#include "base/limits.h"
#include "commands/acl.h"
#include "commands/dispatcher.h"
#include "commands/errors.h"
#include "commands/registry.h"
#include "commands/server_stats.h"
#include "engine/storage_engine.h"
#include "http/embedded_files.h"
#include "http/resp_json.h"
#include "protocol/reply_builder.h"
#include "server/client_state.h"

namespace fdb {

namespace {

using nlohmann::json;

constexpr const char* kCookieName = "fdb_session";
constexpr const char* kJson = "application/json";

void Reply(HttpResponse& r, int status, const json& body) {
  r.status = status;
  r.content_type = kJson;
  r.body = body.dump();
}

void Fail(HttpResponse& r, int status, std::string_view error) {
  Reply(r, status, json{{"error", std::string(error)}});
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '\0');
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

// 128 random bits from OpenSSL's CSPRNG, as hex; empty when it fails (the caller refuses).
std::string RandomToken() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return "";
  return Hex(b, sizeof(b));
}

std::string Sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return Hex(d, sizeof(d));
}

// Secure over HTTPS: the browser then never sends the session over plain HTTP. Not over plain
// HTTP, where a Secure cookie would never come back.
std::string CookieHeader(std::string_view token, int64_t max_age_s, bool https) {
  return std::string(kCookieName) + "=" + std::string(token) + "; Path=/; HttpOnly; " +
         (https ? "Secure; " : "") + "SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
}

// Commands the page's clients cannot run: what needs a network connection (blocking, pushes,
// a reply mode, a protocol or user change), the transaction commands (the page runs one command
// per request; a MULTI left open would swallow the next panel's commands), and what hands the
// socket over (replication). Null when allowed, else the error reply.
const char* RefusedInConsole(const CommandRegistry& registry, CmdArgs args) {
  const CommandSpec* spec = registry.Find(args[0]);
  if (spec == nullptr) return nullptr;  // the dispatcher's unknown-command error
  if (spec->container() && args.size() >= 2) {
    if (const CommandSpec* sub = registry.FindSub(*spec, args[1])) spec = sub;
  }
  const std::string_view name = spec->name;
  constexpr const char* kBlocks =
      "ERR this command blocks or waits, which the dashboard's console does not do: use "
      "redis-cli";
  constexpr const char* kConnection =
      "ERR this command needs a connection of its own (subscriptions, MONITOR, MULTI, HELLO, "
      "AUTH, replication, reply modes), which the dashboard's console does not keep: use "
      "redis-cli";
  if (name == "xread" || name == "xreadgroup") {
    // Without BLOCK they are reads like any other.
    for (std::string_view a : args) {
      if (a.size() == 5 && (a[0] == 'b' || a[0] == 'B') && (a[1] | 0x20) == 'l' &&
          (a[2] | 0x20) == 'o' && (a[3] | 0x20) == 'c' && (a[4] | 0x20) == 'k') {
        return kBlocks;
      }
    }
    return nullptr;
  }
  if ((spec->flags & cmdflags::kBlocking) || name == "wait" || name == "waitaof") return kBlocks;
  if (spec->flags & cmdflags::kTransaction) return kConnection;
  static constexpr std::string_view kRefused[] = {
      "subscribe", "psubscribe", "ssubscribe",   "unsubscribe",    "punsubscribe", "sunsubscribe",
      "monitor",   "sync",       "psync",        "replconf",       "hello",        "auth",
      "quit",      "reset",      "client|reply", "client|tracking"};
  for (std::string_view r : kRefused) {
    if (name == r) return kConnection;
  }
  return nullptr;
}

// Whether a Host header names this machine by address ("127.0.0.1:9121", "[::1]:9121") or as
// localhost, not by a DNS name. With no password, a page of another site could point its own
// name at 127.0.0.1 (DNS rebinding) and be "same origin" with the dashboard; it cannot be an
// address literal.
bool HostIsLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t end = host.find(']');
    if (end == std::string_view::npos) return false;
    const std::string ip(host.substr(1, end - 1));
    in6_addr a6;
    return inet_pton(AF_INET6, ip.c_str(), &a6) == 1;
  }
  const std::string name(host.substr(0, host.find(':')));
  in_addr a4;
  return name == "localhost" || inet_pton(AF_INET, name.c_str(), &a4) == 1;
}

}  // namespace

struct Dashboard::SessionState {
  SessionState(ServerContext& ctx) : ctx(ctx) {}
  // The client leaves the client list with its session, once no request holds it.
  ~SessionState() { ctx.clients().Remove(&client); }

  ServerContext& ctx;
  std::string csrf;
  int64_t created_ms = 0;
  int64_t used_ms = 0;  // guarded by Dashboard::mu_
  std::mutex mu;        // held by the one request that uses `client`
  ClientState client;
};

// A dispatcher and the statistics it writes: one request's at a time.
struct Dashboard::Runner {
  explicit Runner(ServerContext& ctx) : stats(ctx.NewThreadStats()), dispatcher(ctx, stats) {}
  ThreadStats* stats;
  Dispatcher dispatcher;
};

Dashboard::Dashboard(ServerContext& ctx) : ctx_(ctx) {}

Dashboard::~Dashboard() { EndSessions(); }

void Dashboard::EndSessions() {
  std::lock_guard<std::mutex> l(mu_);
  sessions_.clear();
}

std::unique_ptr<Dashboard::Runner> Dashboard::TakeRunner() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_runners_.empty()) {
      std::unique_ptr<Runner> r = std::move(idle_runners_.back());
      idle_runners_.pop_back();
      return r;
    }
  }
  // At most one per civetweb worker ever exists: each request gives its runner back.
  return std::make_unique<Runner>(ctx_);
}

void Dashboard::GiveBack(std::unique_ptr<Runner> runner) {
  std::lock_guard<std::mutex> l(mu_);
  idle_runners_.push_back(std::move(runner));
}

bool Dashboard::ProtectedModeRefuses(const HttpRequest& req, HttpResponse& r) {
  if (req.remote_local || !ctx_.config().protected_mode() || !ctx_.acl().DefaultNoPass()) {
    return false;
  }
  std::string_view text = errors::kProtectedModeDenied;
  text.remove_prefix(1);  // "-"
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  Fail(r, 403, text);
  return true;
}

void Dashboard::ServeAsset(const HttpRequest& req, HttpResponse& r) {
  if (ProtectedModeRefuses(req, r)) return;
  const EmbeddedFile* a = FindDashboardAsset(req.path);
  if (a == nullptr) {
    r.status = 404;
    r.body = "not found\n";
    return;
  }
  r.content_type = a->content_type;
  r.body.assign(reinterpret_cast<const char*>(a->data), a->size);
}

bool Dashboard::PostAllowed(const HttpRequest& req, HttpResponse& r) {
  if (std::string_view(req.content_type).substr(0, 16) != kJson) {
    Fail(r, 415, "a POST must be application/json");
    return false;
  }
  // Browsers send Origin with every POST; a page of another site names its own.
  if (!req.origin.empty() && req.origin != "http://" + req.host) {
    Fail(r, 403, "cross-origin request refused");
    return false;
  }
  return true;
}

std::shared_ptr<Dashboard::SessionState> Dashboard::Find(const HttpRequest& req, HttpResponse& r) {
  char token[64] = {};
  const int n = req.cookie.empty()
                    ? -1
                    : mg_get_cookie(req.cookie.c_str(), kCookieName, token, sizeof(token));
  if (n != 32) {
    Fail(r, 401, "not logged in");
    return nullptr;
  }
  const std::string key = Sha256(std::string_view(token, 32));
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    Fail(r, 401, "not logged in");
    return nullptr;
  }
  SessionState& s = *it->second;
  if (now - s.used_ms > limits::kDashboardSessionIdleMs ||
      now - s.created_ms > limits::kDashboardSessionMaxMs ||
      s.client.kill_requested.load(std::memory_order_relaxed)) {
    sessions_.erase(it);
    Fail(r, 401, "the session has ended");
    return nullptr;
  }
  s.used_ms = now;
  return it->second;
}

void Dashboard::Session(const HttpRequest& req, HttpResponse& r) {
  if (ProtectedModeRefuses(req, r)) return;
  ClientState probe;
  ctx_.acl().InitClient(probe);
  json out{{"login_required", !probe.authenticated.load()}};
  HttpResponse ignored;
  if (std::shared_ptr<SessionState> s = Find(req, ignored)) {
    std::lock_guard<std::mutex> l(s->mu);
    out["user"] = s->client.user->name();
    out["csrf"] = s->csrf;
    out["client_id"] = s->client.id;
  } else {
    out["user"] = nullptr;
  }
  Reply(r, 200, out);
}

void Dashboard::Login(const HttpRequest& req, HttpResponse& r) {
  if (ProtectedModeRefuses(req, r) || !PostAllowed(req, r)) return;
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Fail(r, 400, "the body must be a JSON object");
  auto field = [&](const char* name) -> std::string {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string user_name = field("user");
  if (user_name.empty()) user_name = "default";
  auto s = std::make_shared<SessionState>(ctx_);
  ClientState& c = s->client;
  c.addr = req.remote_addr;
  c.laddr = req.local_addr;
  c.local = req.remote_local;
  std::shared_ptr<AclUser> user;
  ctx_.acl().InitClient(c);
  if (c.authenticated.load() && !HostIsLiteral(req.host)) {
    return Fail(r, 403,
                "the default user has no password: the dashboard is served at an IP address or "
                "localhost only (a page of another site could point its own name here), or set a "
                "password");
  }
  if (user_name == "default" && c.authenticated.load() && !body.contains("password")) {
    user = ctx_.acl().default_user();  // no password: the page works as the default user
  } else {
    user = ctx_.acl().Authenticate(user_name, field("password"), c);
  }
  if (user == nullptr) return Fail(r, 401, errors::kWrongPass);
  const std::string token = RandomToken();
  s->csrf = RandomToken();
  if (token.empty() || s->csrf.empty()) return Fail(r, 500, "no random bytes for a session");
  Acl::SetClientUser(c, user);
  c.authenticated = true;
  c.id = ctx_.NextClientId();
  c.resp3 = true;
  c.created_ms = NowMs();
  c.last_interaction_ms = c.created_ms;
  {
    MutexLock l(c.info_mu);
    c.lib_name = "fdb-dashboard";
  }
  s->created_ms = s->used_ms = c.created_ms;
  ctx_.clients().Add(&c);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (sessions_.size() >= limits::kDashboardMaxSessions) {
      auto lru = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
        return a.second->used_ms < b.second->used_ms;
      });
      sessions_.erase(lru);
    }
    sessions_[Sha256(token)] = s;
  }
  r.headers.emplace_back("Set-Cookie",
                         CookieHeader(token, limits::kDashboardSessionMaxMs / 1000, req.https));
  Reply(r, 200, json{{"user", user->name()}, {"csrf", s->csrf}, {"client_id", c.id}});
}

bool Dashboard::CsrfMatches(const HttpRequest& req, const SessionState& s) {
  return req.csrf_token.size() == s.csrf.size() &&
         CRYPTO_memcmp(req.csrf_token.data(), s.csrf.data(), s.csrf.size()) == 0;
}

void Dashboard::Logout(const HttpRequest& req, HttpResponse& r) {
  if (!PostAllowed(req, r)) return;
  std::shared_ptr<SessionState> s = Find(req, r);
  if (s == nullptr) return;
  if (!CsrfMatches(req, *s)) return Fail(r, 403, "missing or wrong X-CSRF-Token");
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second == s) {
        sessions_.erase(it);
        break;
      }
    }
  }
  r.headers.emplace_back("Set-Cookie", CookieHeader("", 0, req.https));
  Reply(r, 200, json{{"user", nullptr}});
}

void Dashboard::Command(const HttpRequest& req, HttpResponse& r) {
  if (ProtectedModeRefuses(req, r) || !PostAllowed(req, r)) return;
  std::shared_ptr<SessionState> s = Find(req, r);
  if (s == nullptr) return;
  if (!CsrfMatches(req, *s)) return Fail(r, 403, "missing or wrong X-CSRF-Token");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  auto argv = body.is_object() ? body.find("argv") : body.end();
  if (!body.is_object() || argv == body.end() || !argv->is_array() || argv->empty()) {
    return Fail(r, 400, "the body must be {\"argv\": [\"COMMAND\", \"arg\", ...]}");
  }
  std::vector<std::string> owned(argv->size());
  for (size_t i = 0; i < argv->size(); i++) {
    if (!JsonToArg((*argv)[i], &owned[i])) {
      return Fail(r, 400, "each argument is a string or {\"b64\": \"...\"}");
    }
  }
  std::vector<std::string_view> args(owned.begin(), owned.end());
  if (const char* refusal = RefusedInConsole(CommandRegistry::Default(), args)) {
    return Reply(r, 200, json{{"reply", json{{"error", refusal}}}});
  }
  std::string out;
  ReplyBuilder rb(&out);
  rb.set_resp3(true);
  rb.set_limit(limits::kDashboardMaxReplyBytes);
  rb.set_error_sink(&ctx_.error_stats());
  ExecResult done;
  {
    std::lock_guard<std::mutex> l(s->mu);
    std::unique_ptr<Runner> runner = TakeRunner();
    s->client.last_interaction_ms = NowMs();
    s->client.commands.fetch_add(1, std::memory_order_relaxed);
    try {
      done = runner->dispatcher.Execute(args, s->client, rb);
    } catch (const std::exception& e) {
      // The dispatcher committed what the command changed before it rethrew, and with keep-locks
      // off no lock outlives the call.
      GiveBack(std::move(runner));
      return Fail(r, 500, std::string("the command failed: ") + e.what());
    }
    GiveBack(std::move(runner));
  }
  // The reply may leave only once the command's records are as durable as the policy says, as a
  // network reply is held (IoThread::AfterBatch).
  if (StorageEngine* st = ctx_.storage(); st != nullptr && done.sequence > 0) {
    Status ws = st->WaitForPolicy(done.sequence);
    if (!ws.ok()) return Reply(r, 200, json{{"reply", json{{"error", "ERR " + ws.message()}}}});
  }
  if (rb.overflowed()) {
    return Reply(
        r, 200,
        json{{"reply", json{{"error", "ERR the reply is larger than the dashboard shows (" +
                                          std::to_string(limits::kDashboardMaxReplyBytes >> 20) +
                                          " MB): page through it (SCAN, LRANGE, ...)"}}}});
  }
  Result<json> reply = RespToJson(out);
  if (!reply.ok()) return Fail(r, 500, reply.status().message());
  Reply(r, 200, json{{"reply", std::move(*reply)}});
}

void Dashboard::Stats(const HttpRequest& req, HttpResponse& r) {
  if (ProtectedModeRefuses(req, r)) return;
  std::shared_ptr<SessionState> s = Find(req, r);
  if (s == nullptr) return;
  // The figures are INFO's: a user who may not run INFO does not see them either.
  std::shared_ptr<AclUser> user;
  {
    MutexLock l(s->client.info_mu);
    user = s->client.user;
  }
  if (!user->unrestricted.load(std::memory_order_relaxed)) {
    const CommandSpec* info = CommandRegistry::Default().Find("info");
    const std::string_view argv[] = {"info"};
    AclVerdict v = ctx_.acl().Check(*user, *info, argv);
    if (v.denial != AclDenial::kNone) return Fail(r, 403, Acl::NoPermText(v));
  }
  json out;
  out["now_ms"] = NowMs();
  out["uptime_s"] = UptimeSeconds(ctx_);
  out["version"] = FDB_VERSION;
  out["user"] = user->name();
  const ReplicationStats repl = GetReplicationStats(ctx_);
  out["role"] = repl.role;
  out["databases"] = limits::kNumDatabases;
  const GeneralStats g = GetGeneralStats(ctx_);
  out["commands_processed"] = g.commands_processed;
  out["keyspace_hits"] = g.keyspace_hits;
  out["keyspace_misses"] = g.keyspace_misses;
  out["net_input_bytes"] = g.net_input_bytes;
  out["net_output_bytes"] = g.net_output_bytes;
  out["expired_keys"] = g.expired_keys;
  out["evicted_keys"] = g.evicted_keys;
  // Every command's run time histogram, summed: the page takes p50 and p99 of each second's
  // difference.
  std::array<uint64_t, kLatencyBuckets> hist{};
  for (const CommandStat& c : GetCommandStats(ctx_)) {
    for (size_t b = 0; b < kLatencyBuckets; b++) hist[b] += c.hist[b];
  }
  out["latency_hist_us"] = hist;
  const ClientStats cs = GetClientStats(ctx_);
  out["clients"] = {{"connected", cs.connected}, {"blocked", cs.blocked}};
  const MemoryStats m = GetMemoryStats(ctx_);
  out["memory"] = {{"used", m.used}, {"rss", m.rss}, {"peak", m.peak}, {"maxmemory", m.maxmemory}};
  const CacheStats cache = GetCacheStats(ctx_);
  out["cache"] = {
      {"entries", cache.entries}, {"bytes", cache.bytes},   {"budget_bytes", cache.budget_bytes},
      {"hits", cache.hits},       {"misses", cache.misses}, {"evictions", cache.evictions}};
  json dbs = json::array();
  for (const DbStat& d : GetKeyspaceStats(ctx_, Txn())) {
    dbs.push_back({{"db", d.db}, {"keys", d.keys}, {"expires", d.expires}});
  }
  out["dbs"] = std::move(dbs);
  const PersistenceStats p = GetPersistenceStats(ctx_);
  out["persistence"] = {{"enabled", p.enabled},
                        {"fsyncs", p.storage.fsyncs},
                        {"fsync_us_total", p.storage.fsync_us_total},
                        {"fsync_hist_us", p.storage.fsync_latency_hist},
                        {"log_bytes", p.storage.log_bytes},
                        {"live_bytes", p.storage.live_bytes},
                        {"garbage_bytes", p.garbage_bytes},
                        {"segments", p.storage.segments},
                        {"compactions", p.storage.compactions},
                        {"healthy", p.storage.healthy}};
  Reply(r, 200, out);
}

}  // namespace fdb
