// MEMORY, SLOWLOG and LATENCY: what the server tells the operator about itself
// (commands/introspection.h).
#include "commands/introspection.h"

#include <malloc.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "base/limits.h"
#include "base/malloc_stats.h"
#include "base/numbers.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/help.h"
#include "server/client_state.h"

namespace fdb {

namespace {

bool EqualsLower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
  }
  return true;
}

int64_t UnixSeconds() { return static_cast<int64_t>(::time(nullptr)); }

}  // namespace

// --- SlowLog ---------------------------------------------------------------------------------

std::vector<bool> SlowLog::SecretArgs(CmdArgs args, const CommandSpec& spec) {
  // Which arguments hold secrets, as Redis's redactClientCommandArgument calls.
  std::vector<bool> redact(args.size(), false);
  std::string_view name = spec.name;
  if (name == "auth" || name == "acl|setuser") {
    for (size_t i = name == "auth" ? 1 : 2; i < args.size(); i++) redact[i] = true;
  } else if (name == "hello") {
    for (size_t i = 2; i < args.size(); i++) {
      if (EqualsLower(args[i], "auth") && i + 2 < args.size()) {
        redact[i + 1] = redact[i + 2] = true;
        i += 2;
      }
    }
  } else if (name == "migrate") {
    for (size_t i = 6; i < args.size(); i++) {
      if (EqualsLower(args[i], "auth") && i + 1 < args.size()) {
        redact[++i] = true;
      } else if (EqualsLower(args[i], "auth2") && i + 2 < args.size()) {
        redact[i + 1] = redact[i + 2] = true;
        i += 2;
      }
    }
  } else if (name == "config|set") {
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      if (EqualsLower(args[i], "masterauth") || EqualsLower(args[i], "masteruser") ||
          EqualsLower(args[i], "requirepass")) {
        redact[i + 1] = true;
      }
    }
  }
  return redact;
}

std::vector<std::string> SlowLog::LoggedArgs(CmdArgs args, const CommandSpec& spec) {
  const std::vector<bool> redact = SecretArgs(args, spec);
  size_t n = std::min(args.size(), kMaxArgs);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; i++) {
    if (n < args.size() && i == n - 1) {
      out.push_back("... (" + std::to_string(args.size() - i) + " more arguments)");
      break;
    }
    if (redact[i]) {
      out.emplace_back("(redacted)");
    } else if (args[i].size() > kMaxArgBytes) {
      out.push_back(std::string(args[i].substr(0, kMaxArgBytes)) + "... (" +
                    std::to_string(args[i].size() - kMaxArgBytes) + " more bytes)");
    } else {
      out.emplace_back(args[i]);
    }
  }
  return out;
}

void SlowLog::Record(CmdArgs args, const CommandSpec& spec, int64_t duration_us,
                     ClientState& client, size_t max_len) {
  Entry e;
  e.time_s = UnixSeconds();
  e.duration_us = duration_us;
  e.args = LoggedArgs(args, spec);
  e.addr = client.addr;
  e.name = client.Name();
  MutexLock l(mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLog::Entry> SlowLog::Get(int64_t count) const {
  MutexLock l(mu_);
  size_t n = count < 0 ? entries_.size() : std::min(entries_.size(), static_cast<size_t>(count));
  return std::vector<Entry>(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(n));
}

size_t SlowLog::Len() const {
  MutexLock l(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  MutexLock l(mu_);
  entries_.clear();
}

// --- Monitors --------------------------------------------------------------------------------

void Monitors::Add(const std::shared_ptr<Subscriber>& s) {
  MutexLock l(mu_);
  for (const auto& m : monitors_) {
    if (m->client_id == s->client_id) return;
  }
  monitors_.push_back(s);
  count_.store(static_cast<int64_t>(monitors_.size()), std::memory_order_relaxed);
}

void Monitors::Remove(uint64_t client_id) {
  MutexLock l(mu_);
  for (size_t i = 0; i < monitors_.size(); i++) {
    if (monitors_[i]->client_id == client_id) {
      monitors_.erase(monitors_.begin() + static_cast<ptrdiff_t>(i));
      break;
    }
  }
  count_.store(static_cast<int64_t>(monitors_.size()), std::memory_order_relaxed);
}

std::string Monitors::Line(int64_t unix_us, int db, std::string_view addr, CmdArgs args,
                           const CommandSpec& spec) {
  char head[96];
  snprintf(head, sizeof(head), "%lld.%06lld [%d ", static_cast<long long>(unix_us / 1000000),
           static_cast<long long>(unix_us % 1000000), db);
  std::string line = head;
  line.append(addr);
  line += ']';
  const std::vector<bool> redact = SlowLog::SecretArgs(args, spec);
  for (size_t i = 0; i < args.size(); i++) {
    line += ' ';
    if (redact[i]) {
      line += "\"(redacted)\"";
      continue;
    }
    // As Redis's sdscatrepr: quoted, with escapes for what is not printable.
    line += '"';
    for (unsigned char c : args[i]) {
      switch (c) {
        case '\\':
          line += "\\\\";
          break;
        case '"':
          line += "\\\"";
          break;
        case '\n':
          line += "\\n";
          break;
        case '\r':
          line += "\\r";
          break;
        case '\t':
          line += "\\t";
          break;
        case '\a':
          line += "\\a";
          break;
        case '\b':
          line += "\\b";
          break;
        default:
          if (std::isprint(c)) {
            line += static_cast<char>(c);
          } else {
            char hex[8];
            snprintf(hex, sizeof(hex), "\\x%02x", c);
            line += hex;
          }
      }
    }
    line += '"';
  }
  return line;
}

void Monitors::Feed(CmdArgs args, const CommandSpec& spec, int db, std::string_view addr,
                    MessageSink* here, int64_t hard_limit) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const int64_t unix_us = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  std::string text = "+" + Line(unix_us, db, addr, args, spec) + "\r\n";
  // A status line can hold no CR or LF; the arguments' own were escaped above.
  auto msg = std::make_shared<const std::string>(std::move(text));
  std::vector<std::shared_ptr<Subscriber>> to;
  {
    MutexLock l(mu_);
    to = monitors_;
  }
  // One delivery batch per I/O thread, in this command's order. A monitor on another thread
  // gets them on the path of every other push from here (the outbox: the lines of one read
  // batch in one hand-over, in order with the messages and invalidations that batch sent it);
  // one on this thread through the inbox, so a script's lines, told from inside it, keep their
  // place before the lines of the commands that follow it.
  std::vector<Delivery> batch;
  while (!to.empty()) {
    MessageSink* sink = to.front()->sink;
    batch.clear();
    for (size_t i = 0; i < to.size();) {
      if (to[i]->sink == sink) {
        batch.push_back({std::move(to[i]), msg});
        to.erase(to.begin() + static_cast<ptrdiff_t>(i));
      } else {
        i++;
      }
    }
    if (here != nullptr && sink != here) {
      here->Send(sink, batch, hard_limit);
    } else {
      sink->Deliver(batch, /*local=*/false, hard_limit);
    }
  }
}

// --- ErrorStats ----------------------------------------------------------------------------

void ErrorStats::OnError(std::string_view msg) {
  total_.fetch_add(1, std::memory_order_relaxed);
  // As Redis's afterErrorReply: the code is the text before the first space when that comes
  // within 32 bytes, else "ERR".
  size_t space = msg.substr(0, 32).find(' ');
  std::string_view code = space == std::string_view::npos ? "ERR" : msg.substr(0, space);
  MutexLock l(mu_);
  auto it = codes_.find(code);
  if (it != codes_.end()) {
    it->second++;
  } else if (codes_.size() < kMaxCodes) {
    codes_.emplace(std::string(code), 1);
  }
}

std::vector<std::pair<std::string, uint64_t>> ErrorStats::Codes() const {
  MutexLock l(mu_);
  return {codes_.begin(), codes_.end()};
}

void ErrorStats::Reset() {
  MutexLock l(mu_);
  codes_.clear();
  total_.store(0, std::memory_order_relaxed);
}

// --- LatencyMonitor --------------------------------------------------------------------------

void LatencyMonitor::Add(std::string_view event, int64_t latency_ms, int64_t now_s) {
  MutexLock l(mu_);
  auto it = series_.find(event);
  if (it == series_.end()) it = series_.emplace(std::string(event), Series()).first;
  Series& s = it->second;
  s.max_ms = std::max(s.max_ms, latency_ms);
  // One sample per second: a second's later samples keep the largest.
  if (!s.samples.empty() && s.samples.back().time_s == now_s) {
    s.samples.back().latency_ms = std::max(s.samples.back().latency_ms, latency_ms);
    return;
  }
  s.samples.push_back({now_s, latency_ms});
  if (s.samples.size() > kSamples) s.samples.pop_front();
}

std::vector<LatencyMonitor::Event> LatencyMonitor::Latest() const {
  MutexLock l(mu_);
  std::vector<Event> out;
  for (const auto& [name, s] : series_) {
    if (s.samples.empty()) continue;
    out.push_back({name, s.samples.back(), s.max_ms});
  }
  return out;
}

std::vector<LatencyMonitor::Sample> LatencyMonitor::History(std::string_view event) const {
  MutexLock l(mu_);
  auto it = series_.find(event);
  if (it == series_.end()) return {};
  return std::vector<Sample>(it->second.samples.begin(), it->second.samples.end());
}

size_t LatencyMonitor::Reset(const std::vector<std::string>& events) {
  MutexLock l(mu_);
  if (events.empty()) {
    size_t n = series_.size();
    series_.clear();
    return n;
  }
  size_t n = 0;
  for (const std::string& e : events) n += series_.erase(e);
  return n;
}

std::string LatencyMonitor::Doctor() const {
  std::vector<Event> events = Latest();
  if (events.empty()) {
    return "I have no latency reports to show: no event crossed latency-monitor-threshold "
           "since the last reset (or the monitor is off: latency-monitor-threshold 0).\n";
  }
  std::string out = "Latency events seen since the last reset:\n\n";
  int i = 1;
  for (const Event& e : events) {
    std::vector<Sample> h = History(e.name);
    int64_t sum = 0;
    for (const Sample& s : h) sum += s.latency_ms;
    char line[256];
    snprintf(line, sizeof(line),
             "%d. %s: %zu latency spikes (average %lldms), worst %lldms, last %lldms at %lld.\n",
             i++, e.name.c_str(), h.size(),
             static_cast<long long>(h.empty() ? 0 : sum / static_cast<int64_t>(h.size())),
             static_cast<long long>(e.max_ms), static_cast<long long>(e.last.latency_ms),
             static_cast<long long>(e.last.time_s));
    out += line;
  }
  out +=
      "\n\"command\" and \"fast-command\" are single commands that ran longer than the "
      "threshold: SLOWLOG GET names them.\n";
  return out;
}

std::string LatencyMonitor::Graph(std::string_view event) const {
  std::vector<Sample> h = History(event);
  if (h.empty()) return {};
  int64_t max = 0, min = INT64_MAX;
  for (const Sample& s : h) {
    max = std::max(max, s.latency_ms);
    min = std::min(min, s.latency_ms);
  }
  constexpr int kRows = 4;
  std::string out = std::string(event) + " - high " + std::to_string(max) + " ms, low " +
                    std::to_string(min) + " ms (all time high " + std::to_string(max) + " ms)\n";
  out += std::string(80, '-') + "\n";
  for (int row = kRows; row >= 1; row--) {
    for (const Sample& s : h) {
      int64_t level = max == 0 ? 0 : (s.latency_ms * kRows + max - 1) / max;
      out += level >= row ? (level == row ? '_' : '#') : ' ';
    }
    out += '\n';
  }
  out += '\n';
  return out;
}

// --- Commands --------------------------------------------------------------------------------

namespace {

// MEMORY USAGE key [SAMPLES count]: the bytes the key and its value take in RAM (for a value
// moved to disk: its entry, plus the value's size on disk, which a read brings back).
void CmdMemoryUsage(CmdArgs args, CommandContext& ctx) {
  for (size_t i = 3; i < args.size(); i++) {
    int64_t samples;
    if (EqualsUpper(args[i], "SAMPLES") && i + 1 < args.size()) {
      if (!ParseInt64(args[++i], &samples)) return ctx.rb.Error(errors::kNotInteger);
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  const Entry* e =
      ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[2]), ctx.now_ms, /*touch=*/false);
  if (e == nullptr) return ctx.rb.NullBulk();
  size_t bytes = e->MemoryUsage();
  if (e->on_disk()) bytes += e->disk_value_len();
  ctx.rb.Integer(static_cast<int64_t>(bytes));
}

void CmdMemoryStats(CmdArgs, CommandContext& ctx) {
  Keyspace& ks = ctx.ks;
  ks.SampleUsedMemory();
  const uint64_t used = ks.UsedMemory();
  const uint64_t peak = std::max<uint64_t>(ctx.server.used_memory_peak.load(), used);
  const uint64_t dataset = ks.DatasetBytes();
  const int64_t clients = std::max<int64_t>(0, ctx.server.client_memory.load());
  size_t keys = 0;
  for (int db = 0; db < limits::kNumDatabases; db++) keys += ks.DbSize(ctx.txn, db);
  const uint64_t overhead = used > dataset ? used - dataset : 0;
  auto pct = [](uint64_t a, uint64_t b) { return b ? 100.0 * static_cast<double>(a) / b : 0.0; };
  ReplyBuilder& rb = ctx.rb;
  rb.MapHeader(14);
  rb.Bulk("peak.allocated");
  rb.Integer(static_cast<int64_t>(peak));
  rb.Bulk("total.allocated");
  rb.Integer(static_cast<int64_t>(used));
  rb.Bulk("startup.allocated");
  rb.Integer(0);
  const Replication::MemoryUse repl = ctx.server.replication().Memory();
  rb.Bulk("replication.backlog");
  rb.Integer(static_cast<int64_t>(repl.backlog));
  rb.Bulk("clients.slaves");
  rb.Integer(static_cast<int64_t>(repl.replicas));
  rb.Bulk("clients.normal");
  rb.Integer(clients);
  rb.Bulk("aof.buffer");
  rb.Integer(0);
  rb.Bulk("overhead.total");
  rb.Integer(static_cast<int64_t>(overhead));
  rb.Bulk("keys.count");
  rb.Integer(static_cast<int64_t>(keys));
  rb.Bulk("keys.bytes-per-key");
  rb.Integer(keys ? static_cast<int64_t>(dataset / keys) : 0);
  rb.Bulk("dataset.bytes");
  rb.Integer(static_cast<int64_t>(dataset));
  rb.Bulk("dataset.percentage");
  rb.Double(pct(dataset, used));
  rb.Bulk("peak.percentage");
  rb.Double(pct(used, peak));
  rb.Bulk("fragmentation");
  rb.Double(used ? static_cast<double>(ProcessRssBytes()) / static_cast<double>(used) : 0.0);
}

void CmdMemoryDoctor(CmdArgs, CommandContext& ctx) {
  ctx.rb.Verbatim(
      "Hi Sam, I can't find any memory issue in your instance. FDB keeps values beyond "
      "maxmemory on disk; INFO memory and MEMORY STATS show what is in RAM.\n");
}

void CmdMemoryMallocStats(CmdArgs, CommandContext& ctx) {
  ctx.rb.Verbatim("Stats not supported for the current allocator\n");
}

void CmdMemoryPurge(CmdArgs, CommandContext& ctx) {
  malloc_trim(0);
  ctx.rb.Ok();
}

void CmdMemoryHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(ctx.rb, "MEMORY",
            {"DOCTOR", "    Return memory problems reports.", "MALLOC-STATS",
             "    Return internal statistics report from the memory allocator.", "PURGE",
             "    Attempt to purge dirty pages for reclamation by the allocator.", "STATS",
             "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all)."});
}

// --- SLOWLOG ---

void CmdSlowlogGet(CmdArgs args, CommandContext& ctx) {
  int64_t count = 10;
  if (args.size() == 3) {
    if (!ParseInt64(args[2], &count)) return ctx.rb.Error(errors::kNotInteger);
    if (count < -1) return ctx.rb.Error("ERR count should be greater than or equal to -1");
  }
  std::vector<SlowLog::Entry> entries = ctx.server.slowlog().Get(count);
  ctx.rb.ArrayHeader(entries.size());
  for (const SlowLog::Entry& e : entries) {
    ctx.rb.ArrayHeader(6);
    ctx.rb.Integer(static_cast<int64_t>(e.id));
    ctx.rb.Integer(e.time_s);
    ctx.rb.Integer(e.duration_us);
    ctx.rb.ArrayHeader(e.args.size());
    for (const std::string& a : e.args) ctx.rb.Bulk(a);
    ctx.rb.Bulk(e.addr);
    ctx.rb.Bulk(e.name);
  }
}

void CmdSlowlogLen(CmdArgs, CommandContext& ctx) {
  ctx.rb.Integer(static_cast<int64_t>(ctx.server.slowlog().Len()));
}

void CmdSlowlogReset(CmdArgs, CommandContext& ctx) {
  ctx.server.slowlog().Reset();
  ctx.rb.Ok();
}

void CmdSlowlogHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(ctx.rb, "SLOWLOG",
            {"GET [<count>]",
             "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
             "    Entries are made of:",
             "    id, timestamp, time in microseconds, arguments array, client IP and port,",
             "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
             "    Reset the slowlog."});
}

// --- LATENCY ---

void CmdLatencyLatest(CmdArgs, CommandContext& ctx) {
  std::vector<LatencyMonitor::Event> events = ctx.server.latency().Latest();
  ctx.rb.ArrayHeader(events.size());
  for (const auto& e : events) {
    ctx.rb.ArrayHeader(4);
    ctx.rb.Bulk(e.name);
    ctx.rb.Integer(e.last.time_s);
    ctx.rb.Integer(e.last.latency_ms);
    ctx.rb.Integer(e.max_ms);
  }
}

void CmdLatencyHistory(CmdArgs args, CommandContext& ctx) {
  std::vector<LatencyMonitor::Sample> h = ctx.server.latency().History(args[2]);
  ctx.rb.ArrayHeader(h.size());
  for (const auto& s : h) {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Integer(s.time_s);
    ctx.rb.Integer(s.latency_ms);
  }
}

void CmdLatencyReset(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> events(args.begin() + 2, args.end());
  ctx.rb.Integer(static_cast<int64_t>(ctx.server.latency().Reset(events)));
}

void CmdLatencyDoctor(CmdArgs, CommandContext& ctx) {
  ctx.rb.Verbatim(ctx.server.latency().Doctor());
}

void CmdLatencyGraph(CmdArgs args, CommandContext& ctx) {
  std::string g = ctx.server.latency().Graph(args[2]);
  if (g.empty()) {
    return ctx.rb.Error("ERR No samples available for event '" + std::string(args[2]) + "'");
  }
  ctx.rb.Verbatim(g);
}

// LATENCY HISTOGRAM [command ...]: for each command called since the last CONFIG RESETSTAT,
// its calls and the cumulative count of calls per power-of-two bucket of microseconds (the
// buckets where the count grows), as Redis's.
void CmdLatencyHistogram(CmdArgs args, CommandContext& ctx) {
  const CommandRegistry& reg = CommandRegistry::Default();
  std::vector<const CommandSpec*> specs;
  auto add_with_subs = [&](const CommandSpec* s) {
    if (s->container()) {
      for (const CommandSpec* sub : s->subcommands) specs.push_back(sub);
    } else {
      specs.push_back(s);
    }
  };
  if (args.size() == 2) {
    for (const CommandSpec* s : reg.TopLevel()) add_with_subs(s);
  } else {
    for (size_t i = 2; i < args.size(); i++) {
      if (const CommandSpec* s = reg.FindFull(args[i])) add_with_subs(s);
    }
  }
  struct Row {
    const CommandSpec* spec;
    uint64_t calls;
    uint64_t hist[kLatencyBuckets];
  };
  std::vector<Row> rows;
  for (const CommandSpec* s : specs) {
    Row r{s, 0, {}};
    ctx.server.ForEachThreadStats([&](ThreadStats& t) {
      const CommandCounters& c = t.commands[static_cast<size_t>(s->id)];
      for (size_t b = 0; b < kLatencyBuckets; b++) {
        uint64_t n = c.hist[b].load(std::memory_order_relaxed);
        r.hist[b] += n;
        r.calls += n;
      }
    });
    if (r.calls > 0) rows.push_back(r);
  }
  ctx.rb.MapHeader(rows.size());
  for (const Row& r : rows) {
    ctx.rb.Bulk(r.spec->name);
    ctx.rb.MapHeader(2);
    ctx.rb.Bulk("calls");
    ctx.rb.Integer(static_cast<int64_t>(r.calls));
    ctx.rb.Bulk("histogram_usec");
    size_t buckets = 0;
    for (uint64_t n : r.hist) buckets += n > 0;
    ctx.rb.MapHeader(buckets);
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kLatencyBuckets; b++) {
      if (r.hist[b] == 0) continue;
      cumulative += r.hist[b];
      ctx.rb.Integer(int64_t{1} << b);
      ctx.rb.Integer(static_cast<int64_t>(cumulative));
    }
  }
}

void CmdLatencyHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(ctx.rb, "LATENCY",
            {"DOCTOR", "    Return a human readable latency analysis report.", "GRAPH <event>",
             "    Return an ASCII latency graph for the <event> class.", "HISTORY <event>",
             "    Return time-latency samples for the <event> class.", "LATEST",
             "    Return the latest latency samples for all events.", "RESET [<event> ...]",
             "    Reset latency data of one or more <event> classes.",
             "    (default: reset all data for all event classes)", "HISTOGRAM [COMMAND ...]",
             "    Return a cumulative distribution of latencies in the format of a histogram "
             "for the specified command names.",
             "    If no commands are specified then all histograms are replied."});
}

}  // namespace

// clang-format off
void RegisterIntrospectionFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"memory", -2, 0, 0, 0, 0, nullptr, "server", "A container for memory diagnostics commands.", "4.0.0"});
  r.Register({"memory|usage", -3, kReadOnly, 2, 2, 1, CmdMemoryUsage, "server", "Estimates the memory usage of a key.", "4.0.0"});
  r.Register({"memory|stats", 2, kSelfLocking, 0, 0, 0, CmdMemoryStats, "server", "Returns details about memory usage.", "4.0.0"});
  r.Register({"memory|doctor", 2, 0, 0, 0, 0, CmdMemoryDoctor, "server", "Outputs a memory problems report.", "4.0.0"});
  r.Register({"memory|malloc-stats", 2, 0, 0, 0, 0, CmdMemoryMallocStats, "server", "Returns the allocator statistics.", "4.0.0"});
  r.Register({"memory|purge", 2, 0, 0, 0, 0, CmdMemoryPurge, "server", "Asks the allocator to release memory.", "4.0.0"});
  r.Register({"memory|help", 2, kLoading | kStale, 0, 0, 0, CmdMemoryHelp, "server", "Returns helpful text about the different subcommands.", "4.0.0"});
  r.Register({"slowlog", -2, 0, 0, 0, 0, nullptr, "server", "A container for slow log commands.", "2.2.12"});
  r.Register({"slowlog|get", -2, kAdmin | kLoading | kStale, 0, 0, 0, CmdSlowlogGet, "server", "Returns the slow log's entries.", "2.2.12"});
  r.Register({"slowlog|len", 2, kAdmin | kLoading | kStale, 0, 0, 0, CmdSlowlogLen, "server", "Returns the number of entries in the slow log.", "2.2.12"});
  r.Register({"slowlog|reset", 2, kAdmin | kLoading | kStale, 0, 0, 0, CmdSlowlogReset, "server", "Clears all entries from the slow log.", "2.2.12"});
  r.Register({"slowlog|help", 2, kLoading | kStale, 0, 0, 0, CmdSlowlogHelp, "server", "Show helpful text about the different subcommands", "6.2.0"});
  r.Register({"latency", -2, 0, 0, 0, 0, nullptr, "server", "A container for latency diagnostics commands.", "2.8.13"});
  r.Register({"latency|latest", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyLatest, "server", "Returns the latest latency samples for all events.", "2.8.13"});
  r.Register({"latency|history", 3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyHistory, "server", "Returns timestamp-latency samples for an event.", "2.8.13"});
  r.Register({"latency|reset", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyReset, "server", "Resets the latency data for one or more events.", "2.8.13"});
  r.Register({"latency|doctor", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyDoctor, "server", "Returns a human-readable latency analysis report.", "2.8.13"});
  r.Register({"latency|graph", 3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyGraph, "server", "Returns a latency graph for an event.", "2.8.13"});
  r.Register({"latency|histogram", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdLatencyHistogram, "server", "Returns the cumulative distribution of latencies of a subset or all commands.", "7.0.0"});
  r.Register({"latency|help", 2, kStale | kLoading, 0, 0, 0, CmdLatencyHelp, "server", "Returns helpful text about the different subcommands.", "2.8.13"});
}
// clang-format on

}  // namespace fdb
