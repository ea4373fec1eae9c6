// The parameter table and its three readers (command line, config file, CONFIG GET / SET /
// REWRITE).
//
// The model is Redis 7.0's config.c: a static table of typed rows (bool, enum, integer, string,
// special), each with its flags, default and alias, and generic code per type for parsing,
// range checks, error texts, formatting and rewriting. Adding a parameter is adding a row.
// The alternative rejected: one setter closure per parameter (what this file was), which
// repeated the parsing and the error texts for every parameter and could not rewrite a file.
//
// Where FDB departs from Redis on purpose, the row says why: a few ranges (hz, maxmemory-samples,
// maxclients), parameters FDB cannot change while running (port, bind, appendonly), defaults of
// its own (port 6380, appendonly yes, save ""), and values refused because ignoring them would
// be unsafe (replicaof, aclfile, rename-command, user, loadmodule).
#include "server/config.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/ascii.h"
#include "base/glob.h"
#include "base/limits.h"
#include "base/numbers.h"
#include "protocol/resp_parser.h"

namespace fdb {

namespace {

bool ParseYesNo(std::string_view v, bool* out) {
  std::string l = AsciiLower(v);
  if (l == "yes") {
    *out = true;
    return true;
  }
  if (l == "no") {
    *out = false;
    return true;
  }
  return false;
}

// The words of a several-word value as Redis's CONFIG SET splits it (sdssplitlen on single
// spaces, so two spaces make an empty word); the config file's words arrive joined by one.
std::vector<std::string> SplitSpaces(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t sp = v.find(' ', start);
    out.emplace_back(v.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

// strtoll over the whole word, as Redis's special parsers (save, oom-score-adj-values) use it:
// leading blanks and a sign are fine, trailing characters are not, and "" is 0.
bool StrToLL(const std::string& s, long long* out, int base = 10) {
  char* end = nullptr;
  errno = 0;
  *out = strtoll(s.c_str(), &end, base);
  return errno == 0 && *end == '\0';
}

// Redis's sdscatrepr: the value in double quotes with C escapes, as CONFIG REWRITE writes
// string parameters.
std::string Repr(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
      case '"':
        out += '\\';
        out += static_cast<char>(c);
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (std::isprint(c)) {
          out += static_cast<char>(c);
        } else {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        }
    }
  }
  return out + "\"";
}

// A byte count as CONFIG REWRITE writes it: the largest of gb/mb/kb that divides it.
std::string FormatMemory(int64_t bytes) {
  constexpr int64_t kGb = 1024LL * 1024 * 1024, kMb = 1024 * 1024, kKb = 1024;
  if (bytes != 0 && bytes % kGb == 0) return std::to_string(bytes / kGb) + "gb";
  if (bytes != 0 && bytes % kMb == 0) return std::to_string(bytes / kMb) + "mb";
  if (bytes != 0 && bytes % kKb == 0) return std::to_string(bytes / kKb) + "kb";
  return std::to_string(bytes);
}

std::string FormatOctal(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%llo", static_cast<unsigned long long>(v));
  return buf;
}

// "%f" without trailing zeros (Redis's trimDoubleString), for latency percentiles.
std::string FormatPercentile(double d) {
  char buf[128];
  snprintf(buf, sizeof(buf), "%f", d);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

// Redis's validateProcTitleTemplate: `{name}` variables from a fixed set, `{{` and `}}` as
// literal braces, nothing unbalanced.
bool ValidProcTitleTemplate(std::string_view t) {
  // A template that expands to nothing (empty, or only blanks) is refused too.
  if (t.find_first_not_of(' ') == std::string_view::npos) return false;
  static const char* kVars[] = {"title",    "listen-addr", "server-mode", "port",
                                "tls-port", "unixsocket",  "config-file"};
  for (size_t i = 0; i < t.size(); i++) {
    if (t[i] == '{') {
      if (i + 1 < t.size() && t[i + 1] == '{') {
        i++;
        continue;
      }
      size_t close = t.find('}', i + 1);
      if (close == std::string_view::npos) return false;
      std::string_view var = t.substr(i + 1, close - i - 1);
      bool known = false;
      for (const char* v : kVars) known = known || var == v;
      if (!known) return false;
      i = close;
    } else if (t[i] == '}') {
      if (i + 1 < t.size() && t[i + 1] == '}') {
        i++;
        continue;
      }
      return false;
    }
  }
  return true;
}

enum class Kind : uint8_t { kBool, kEnum, kInt, kString, kSpecial };

// Row flags. The first four are Redis's (IMMUTABLE_CONFIG, PROTECTED_CONFIG, HIDDEN_CONFIG,
// MULTI_ARG_CONFIG), then the numeric ones (MEMORY_CONFIG, OCTAL_CONFIG), then FDB's.
enum ParamFlag : uint32_t {
  kImmutable = 1u << 0,    // CONFIG SET refuses it
  kProtected = 1u << 1,    // CONFIG SET only if enable-protected-configs allows the client
  kHidden = 1u << 2,       // CONFIG GET reports it only when asked by its exact name
  kMultiArg = 1u << 3,     // several words (a config file line may have more than one)
  kMemory = 1u << 4,       // kInt: memory units (1k, 1kb...), rewritten as kb/mb/gb
  kOctal = 1u << 5,        // kInt: read and shown in octal (unixsocketperm)
  kEmptyIsNull = 1u << 6,  // kString: empty means unset, and CONFIG REWRITE drops the line
  kNoEffect = 1u << 7,     // accepted and reported, no mechanism in FDB (compatibility.md)
  kNotReported = 1u << 8,  // `threads`: FDB's spelling of io-threads, never in CONFIG GET
};

struct EnumValue {
  const char* name;
  int64_t value;
};

// Redis's enums (config.c), in Redis's order: the order of the error text and, for two names
// of one value (oom-score-adj yes/relative), the one CONFIG GET shows.
constexpr EnumValue kSupervisedEnum[] = {{"upstart", Config::kSupervisedUpstart},
                                         {"systemd", Config::kSupervisedSystemd},
                                         {"auto", Config::kSupervisedAuto},
                                         {"no", Config::kSupervisedNo},
                                         {nullptr, 0}};
// syslog.h's facility codes, which base/logging.h's OpenSyslog takes as they are.
static_assert(LOG_USER == 8 && LOG_LOCAL0 == 128 && LOG_LOCAL7 == 184);
constexpr EnumValue kSyslogFacilityEnum[] = {
    {"user", 8},     {"local0", 128}, {"local1", 136}, {"local2", 144}, {"local3", 152},
    {"local4", 160}, {"local5", 168}, {"local6", 176}, {"local7", 184}, {nullptr, 0}};
constexpr EnumValue kReplDisklessLoadEnum[] = {
    {"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {nullptr, 0}};
constexpr EnumValue kOomScoreAdjEnum[] = {
    {"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}, {nullptr, 0}};
constexpr EnumValue kAclPubsubDefaultEnum[] = {
    {"allchannels", 1}, {"resetchannels", 0}, {nullptr, 0}};
constexpr EnumValue kSanitizeDumpPayloadEnum[] = {
    {"no", 0}, {"yes", 1}, {"clients", 2}, {nullptr, 0}};
constexpr EnumValue kProtectedActionEnum[] = {
    {"no", static_cast<int64_t>(ProtectedAction::kNo)},
    {"yes", static_cast<int64_t>(ProtectedAction::kYes)},
    {"local", static_cast<int64_t>(ProtectedAction::kLocal)},
    {nullptr, 0}};
constexpr EnumValue kClusterEndpointTypeEnum[] = {
    {"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}, {nullptr, 0}};
constexpr EnumValue kPropagationErrorBehaviorEnum[] = {
    {"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}, {nullptr, 0}};
constexpr EnumValue kTlsAuthClientsEnum[] = {{"no", 0}, {"yes", 1}, {"optional", 2}, {nullptr, 0}};
// FDB's three enums keep the order their error texts always had (FDB's unit and black-box
// tests assert them); loglevel has 7.2's `nothing` as well.
constexpr EnumValue kMaxmemoryPolicyEnum[] = {
    {"noeviction", 0},      {"allkeys-lru", 1},  {"volatile-lru", 2},
    {"allkeys-lfu", 3},     {"volatile-lfu", 4}, {"allkeys-random", 5},
    {"volatile-random", 6}, {"volatile-ttl", 7}, {nullptr, 0}};
constexpr EnumValue kAppendfsyncEnum[] = {{"always", 0}, {"everysec", 1}, {"no", 2}, {nullptr, 0}};
constexpr EnumValue kLoglevelEnum[] = {{"debug", 0},   {"verbose", 1}, {"notice", 2},
                                       {"warning", 3}, {"nothing", 4}, {nullptr, 0}};

const char* EnumName(const EnumValue* e, int64_t v) {
  for (; e->name != nullptr; e++) {
    if (e->value == v) return e->name;
  }
  return "unknown";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keyspace event classes.

int ParseKeyspaceEvents(std::string_view classes) {
  int flags = 0;
  for (char c : classes) {
    switch (c) {
      case 'A':
        flags |= notify::kAll;
        break;
      case 'g':
        flags |= notify::kGeneric;
        break;
      case '$':
        flags |= notify::kString;
        break;
      case 'l':
        flags |= notify::kList;
        break;
      case 's':
        flags |= notify::kSet;
        break;
      case 'h':
        flags |= notify::kHash;
        break;
      case 'z':
        flags |= notify::kZset;
        break;
      case 'x':
        flags |= notify::kExpired;
        break;
      case 'e':
        flags |= notify::kEvicted;
        break;
      case 'K':
        flags |= notify::kKeyspace;
        break;
      case 'E':
        flags |= notify::kKeyevent;
        break;
      case 't':
        flags |= notify::kStream;
        break;
      case 'm':
        flags |= notify::kKeyMiss;
        break;
      case 'd':
        flags |= notify::kModule;
        break;
      case 'n':
        flags |= notify::kNew;
        break;
      default:
        return -1;
    }
  }
  return flags;
}

std::string KeyspaceEventsToString(int flags) {
  std::string s;
  if ((flags & notify::kAll) == notify::kAll) {
    s += 'A';  // as Redis, `A` hides the letters outside it too (n)
  } else {
    static constexpr std::pair<int, char> kLetters[] = {
        {notify::kGeneric, 'g'}, {notify::kString, '$'},  {notify::kList, 'l'},
        {notify::kSet, 's'},     {notify::kHash, 'h'},    {notify::kZset, 'z'},
        {notify::kExpired, 'x'}, {notify::kEvicted, 'e'}, {notify::kStream, 't'},
        {notify::kModule, 'd'},  {notify::kNew, 'n'}};
    for (auto [bit, letter] : kLetters) {
      if (flags & bit) s += letter;
    }
  }
  if (flags & notify::kKeyspace) s += 'K';
  if (flags & notify::kKeyevent) s += 'E';
  if (flags & notify::kKeyMiss) s += 'm';
  return s;
}

bool ParseMemory(std::string_view s, int64_t* out) {
  std::string l = AsciiLower(s);
  int64_t mul = 1;
  auto ends = [&](const char* suf) {
    size_t n = strlen(suf);
    return l.size() > n && l.compare(l.size() - n, n, suf) == 0;
  };
  size_t cut = 0;
  if (ends("kb"))
    mul = 1024, cut = 2;
  else if (ends("mb"))
    mul = 1024LL * 1024, cut = 2;
  else if (ends("gb"))
    mul = 1024LL * 1024 * 1024, cut = 2;
  else if (ends("k"))
    mul = 1000, cut = 1;
  else if (ends("m"))
    mul = 1000LL * 1000, cut = 1;
  else if (ends("g"))
    mul = 1000LL * 1000 * 1000, cut = 1;
  else if (ends("b"))
    mul = 1, cut = 1;
  int64_t v;
  std::string num = l.substr(0, l.size() - cut);
  if (num.empty()) return false;
  if (!ParseInt64(num, &v)) {
    // Redis accepts leading zeros here ("0100"); fall back to a plain digit check.
    if (num.find_first_not_of("0123456789") != std::string::npos || num.size() > 18) return false;
    v = std::stoll(num);
  }
  if (v < 0) return false;
  if (v > INT64_MAX / mul) return false;
  *out = v * mul;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The table.

struct Config::Param {
  const char* name = nullptr;
  const char* alias = nullptr;  // Redis's other name for it, reported by CONFIG GET too
  Kind kind = Kind::kInt;
  uint32_t flags = 0;
  int64_t def = 0;                // numeric kinds (bool: 0/1, enum: the value)
  const char* def_str = nullptr;  // kString (nullptr: unset)
  int64_t min = 0, max = 0;       // kInt, inclusive
  const EnumValue* enums = nullptr;
  // Where the value lives: a member the server reads, or (nullptr) the row's generic slot.
  std::atomic<int64_t> Config::*num = nullptr;
  std::string Config::*str = nullptr;
  // An extra check of a parsed value: the error text, or nullptr when the value is fine.
  const char* (*check_num)(int64_t) = nullptr;
  const char* (*check_str)(std::string_view) = nullptr;
  // kSpecial: parse and store (`startup`: from the file or the command line), show, rewrite.
  Status (*set)(Config&, const Param&, std::string_view, bool startup) = nullptr;
  std::string (*get)(const Config&, const Param&) = nullptr;
  void (*rewrite)(const Config&, const Param&, RewriteState&) = nullptr;
  // What it means, in one line: `fdb-server --help` and the config file `--print-config` writes
  // (server/config_help.h) are generated from it. Every row has one (config_help_test.cc).
  const char* doc = nullptr;
  size_t row = 0;  // index in the table

  Param Doc(const char* text) && {
    doc = text;
    return std::move(*this);
  }
};

// CONFIG REWRITE's state, as Redis's rewriteConfigState: the old file's lines, and for each
// parameter the lines that held it, used up in order by the new values.
struct Config::RewriteState {
  std::vector<std::string> lines;
  std::map<std::string, std::vector<size_t>> option_lines;  // name -> line numbers, in order
  std::set<std::string> rewritten;  // options the rewrite handled: their unused lines go
  bool needs_signature = true;

  static constexpr const char* kSignature = "# Generated by CONFIG REWRITE";

  // Puts `line` where `option` was, or appends it when the option was not in the file and
  // `force` (its value is not the default).
  void Line(const std::string& option, std::string line, bool force) {
    rewritten.insert(option);
    auto it = option_lines.find(option);
    if (it == option_lines.end()) {
      if (!force) return;
      if (needs_signature) {
        lines.emplace_back(kSignature);
        needs_signature = false;
      }
      lines.push_back(std::move(line));
      return;
    }
    lines[it->second.front()] = std::move(line);
    it->second.erase(it->second.begin());
    if (it->second.empty()) option_lines.erase(it);
  }
  void MarkProcessed(const std::string& option) { rewritten.insert(option); }
  // Redis's rewriteConfigStringOption / SdsOption.
  void String(const std::string& name, const std::string& value, const char* def,
              bool empty_is_null) {
    if (empty_is_null && value.empty()) {
      MarkProcessed(name);  // unset: no line at all, so the next start leaves it unset
      return;
    }
    bool force = !(def != nullptr && value == def);
    Line(name, name + " " + Repr(value), force);
  }
};

const std::vector<Config::Param>& Config::Table() {
  static const std::vector<Param> table = [] {
    using P = Param;
    auto Bool = [](const char* name, const char* alias, uint32_t flags, bool def,
                   std::atomic<int64_t> Config::*num = nullptr) {
      P p;
      p.name = name, p.alias = alias, p.kind = Kind::kBool, p.flags = flags, p.def = def;
      p.num = num;
      return p;
    };
    auto Int = [](const char* name, const char* alias, uint32_t flags, int64_t min, int64_t max,
                  int64_t def, std::atomic<int64_t> Config::*num = nullptr) {
      P p;
      p.name = name, p.alias = alias, p.kind = Kind::kInt, p.flags = flags;
      p.min = min, p.max = max, p.def = def, p.num = num;
      return p;
    };
    auto Enum = [](const char* name, uint32_t flags, const EnumValue* e, int64_t def,
                   std::atomic<int64_t> Config::*num = nullptr) {
      P p;
      p.name = name, p.kind = Kind::kEnum, p.flags = flags, p.enums = e, p.def = def;
      p.num = num;
      return p;
    };
    auto Str = [](const char* name, const char* alias, uint32_t flags, const char* def,
                  std::string Config::*str = nullptr) {
      P p;
      p.name = name, p.alias = alias, p.kind = Kind::kString, p.flags = flags, p.def_str = def;
      p.str = str;
      return p;
    };
    auto Special = [](const char* name, const char* alias, uint32_t flags,
                      Status (*set)(Config&, const Param&, std::string_view, bool),
                      std::string (*get)(const Config&, const Param&),
                      void (*rewrite)(const Config&, const Param&, RewriteState&)) {
      P p;
      p.name = name, p.alias = alias, p.kind = Kind::kSpecial, p.flags = flags;
      p.set = set, p.get = get, p.rewrite = rewrite;
      return p;
    };
    auto with_check = [](P p, const char* (*check)(int64_t)) {
      p.check_num = check;
      return p;
    };
    auto with_str_check = [](P p, const char* (*check)(std::string_view)) {
      p.check_str = check;
      return p;
    };
    // shutdown-on-sigint / -sigterm: Redis's flag set (default, or any of save, nosave, now,
    // force), kept in the row's string slot in canonical order.
    auto set_shutdown_flags = [](Config& c, const Param& p, std::string_view v, bool) -> Status {
      static const char* kFlags[] = {"default", "save", "nosave", "now", "force"};
      bool seen[5] = {};
      for (const std::string& w : SplitSpaces(v)) {
        std::string l = AsciiLower(w);
        bool ok = false;
        for (int k = 0; k < 5; k++) {
          if (l == kFlags[k]) seen[k] = ok = true;
        }
        if (!ok) {
          return Status::InvalidArgument(
              "argument(s) must be one of the following: default, save, nosave, now, force");
        }
      }
      std::string out;
      for (int k = 1; k < 5; k++) {
        if (seen[k]) out += (out.empty() ? "" : " ") + std::string(kFlags[k]);
      }
      MutexLock l(c.mu_);
      c.Str(p) = out.empty() ? "default" : out;
      return Status::OK();
    };
    auto get_string_slot = [](const Config& c, const Param& p) {
      MutexLock l(c.mu_);
      return c.Str(p);
    };
    auto rewrite_shutdown_flags = [](const Config& c, const Param& p, RewriteState& st) {
      std::string v = c.GetParam(p);
      st.Line(p.name, std::string(p.name) + " " + v, v != "default");
    };
    constexpr uint32_t kNo = kNoEffect;
    constexpr int64_t kIntMax = INT_MAX, kIntMin = INT_MIN, kLongMax = LONG_MAX;
    constexpr int64_t kLLongMax = LLONG_MAX;
    constexpr int64_t kMb = 1024 * 1024;

    std::vector<P> t = {
        // --- What FDB honours (and its own parameters), in the order CONFIG GET has always
        // listed them.
        // CONFIG SET of bind and port moves the listener (the new one is opened before the old
        // one is closed; see Server::Rebind).
        // Redis's default, every IPv4 and (if the host has it) every IPv6 address: protected
        // mode keeps clients beyond loopback out while the default user has no password.
        with_str_check(Str("bind", nullptr, kMultiArg, "* -::*", &Config::bind_),
                       [](std::string_view v) -> const char* {
                         // Redis's CONFIG_BINDADDR_MAX.
                         return SplitSpaces(v).size() > 16 ? "Too many bind addresses specified."
                                                           : nullptr;
                       })
            .Doc("addresses to listen on (* every IPv4 one, ::* every IPv6 one, a leading - "
                 "optional, \"\" none)"),
        Int("port", nullptr, 0, 0, 65535, 6380, &Config::port_)
            .Doc("TCP port of the RESP listener (0: any free port; with a tls-port, 0 is no plain "
                 "port)"),
        // FDB's own: the HTTP listener (src/http/, GET /metrics), off by default; CONFIG SET
        // opens, moves or closes it (ServerContext::reconfigure_http).
        Int("http-port", nullptr, 0, 0, 65535, 0, &Config::http_port_)
            .Doc("TCP port of the HTTP listener on the bind addresses, serving GET /metrics for "
                 "Prometheus (0: off)"),
        // FDB's own: HTTPS on http-port with the RESP listener's TLS settings (tls-cert-file,
        // tls-key-file, tls-ca-cert-file, tls-auth-clients, tls-protocols, tls-ciphers...).
        Bool("http-tls", nullptr, 0, false, &Config::http_tls_)
            .Doc("the HTTP listener speaks HTTPS only, with the tls-* certificate, key, CA, "
                 "protocols and ciphers"),
        // Protected in Redis (a client that can move `dir` can make the server write files
        // where it likes); in FDB also immutable, since the open log and its LOCK stay where
        // they are.
        Str("dir", nullptr, kImmutable | kProtected, "./fdb_data", &Config::dir_)
            .Doc("data directory: the log segments, the MANIFEST, checkpoints and the LOCK file"),
        // 0: one I/O thread per core (Redis's minimum is 1, a single thread).
        Int("io-threads", nullptr, kImmutable, 0, 128, 0, &Config::threads_)
            .Doc("I/O threads, each with its own event loop and connections (0: one per core)"),
        Int("threads", nullptr, kImmutable | kNotReported, 0, 128, 0, &Config::threads_)
            .Doc("FDB's name for io-threads (not reported by CONFIG GET)"),
        // FDB bounds maxclients to what one process can hold open (Redis: UINT_MAX).
        Int("maxclients", nullptr, 0, 1, 1000000, limits::kMaxClientsDefault, &Config::maxclients_)
            .Doc("connections beyond it get 'ERR max number of clients reached'"),
        Int("proto-max-bulk-len", nullptr, kMemory, kMb, kLongMax, limits::kProtoMaxBulkLenDefault,
            &Config::proto_max_bulk_len_)
            .Doc("largest bulk string a request may carry"),
        Int("client-query-buffer-limit", nullptr, kMemory, kMb, kLongMax,
            limits::kQueryBufferLimitDefault, &Config::query_buffer_limit_)
            .Doc("a client whose pending request exceeds it is closed"),
        Special(
            "client-output-buffer-limit", nullptr, kMultiArg,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              // Redis's syntax: groups of `<class> <hard> <soft> <soft-seconds>`, any subset
              // of the classes; all groups are checked before any is applied.
              std::vector<std::string> w;
              if (v.empty()) return Status::OK();  // no groups: nothing changes, as Redis
              if (!SplitInlineArgs(v, &w) || w.empty() || w.size() % 4 != 0) {
                return Status::InvalidArgument(
                    "Wrong number of arguments in buffer limit configuration.");
              }
              struct Group {
                int cls;
                int64_t hard, soft, secs;
              };
              std::vector<Group> groups;
              for (size_t i = 0; i < w.size(); i += 4) {
                std::string cls = AsciiLower(w[i]);
                int k = cls == "normal"                      ? 0
                        : cls == "replica" || cls == "slave" ? 1
                        : cls == "pubsub"                    ? 2
                                                             : -1;
                if (k < 0) {
                  return Status::InvalidArgument(
                      "Invalid client class specified in buffer limit configuration.");
                }
                Group g{k, 0, 0, 0};
                if (!ParseMemory(w[i + 1], &g.hard) || !ParseMemory(w[i + 2], &g.soft) ||
                    !ParseInt64(w[i + 3], &g.secs) || g.secs < 0) {
                  return Status::InvalidArgument(
                      "Error in hard, soft or soft_seconds setting in buffer limit "
                      "configuration.");
                }
                groups.push_back(g);
              }
              for (const Group& g : groups) {
                c.obuf_hard_[g.cls].store(g.hard);
                c.obuf_soft_[g.cls].store(g.soft);
                c.obuf_soft_seconds_[g.cls].store(g.secs);
              }
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              static const char* kNames[] = {"normal", "slave", "pubsub"};
              std::string out;
              for (int i = 0; i < 3; i++) {
                if (i > 0) out += ' ';
                out += std::string(kNames[i]) + " " + std::to_string(c.obuf_hard_[i].load()) + " " +
                       std::to_string(c.obuf_soft_[i].load()) + " " +
                       std::to_string(c.obuf_soft_seconds_[i].load());
              }
              return out;
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              static const char* kNames[] = {"normal", "replica", "pubsub"};
              static const int64_t kDefaults[3][3] = {
                  {limits::kOutputBufferHardLimitDefault, 0, 0},
                  {limits::kReplicaOutputHardDefault, limits::kReplicaOutputSoftDefault,
                   limits::kReplicaOutputSoftSecondsDefault},
                  {limits::kPubsubOutputHardDefault, limits::kPubsubOutputSoftDefault,
                   limits::kPubsubOutputSoftSecondsDefault}};
              for (int i = 0; i < 3; i++) {
                int64_t h = c.obuf_hard_[i].load(), s = c.obuf_soft_[i].load();
                int64_t secs = c.obuf_soft_seconds_[i].load();
                bool force =
                    h != kDefaults[i][0] || s != kDefaults[i][1] || secs != kDefaults[i][2];
                st.Line(p.name,
                        std::string(p.name) + " " + kNames[i] + " " + FormatMemory(h) + " " +
                            FormatMemory(s) + " " + std::to_string(secs),
                        force);
              }
            })
            .Doc("<class> <hard> <soft> <soft-seconds>: when a client's pending replies close it"),
        Special(
            "maxmemory-clients", nullptr, 0,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              // As Redis: bytes (with the memory units), or a percentage of maxmemory ("10%").
              int64_t x = 0;
              if (v.empty()) {  // Redis's memtoull reads no digits as 0
                c.maxmemory_clients_.store(0);
                return Status::OK();
              }
              if (v.back() == '%') {
                if (!ParseInt64(v.substr(0, v.size() - 1), &x) || x < 0) {
                  return Status::InvalidArgument("argument must be a memory or percent value");
                }
                if (x > 100) {
                  return Status::InvalidArgument(
                      "percentage argument must be less or equal to 100");
                }
                c.maxmemory_clients_.store(-x);
                return Status::OK();
              }
              if (!ParseMemory(v, &x)) {
                return Status::InvalidArgument("argument must be a memory or percent value");
              }
              c.maxmemory_clients_.store(x);
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              int64_t v = c.maxmemory_clients_.load();
              return v < 0 ? std::to_string(-v) + "%" : std::to_string(v);
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              int64_t v = c.maxmemory_clients_.load();
              std::string value = v < 0 ? std::to_string(-v) + "%" : FormatMemory(v);
              st.Line(p.name, std::string(p.name) + " " + value, v != 0);
            })
            .Doc("bytes or a % of maxmemory for all clients' buffers; the biggest are closed "
                 "beyond it (0: off)"),
        Int("maxmemory", nullptr, kMemory, 0, INT64_MAX, 0, &Config::maxmemory_)
            .Doc("bytes of values kept in RAM (beyond: evicted to disk, or per maxmemory-policy); "
                 "0: unbounded"),
        // At most 64 keys sampled per eviction (Redis: INT_MAX): the pool is sized for it.
        Int("maxmemory-samples", nullptr, 0, 1, 64, 5, &Config::maxmemory_samples_)
            .Doc("keys sampled per eviction by the whole-key maxmemory policies"),
        Int("maxmemory-eviction-tenacity", nullptr, 0, 0, 100, 10,
            &Config::maxmemory_eviction_tenacity_)
            .Doc("how long one command may evict before it runs anyway (10: 500 us, 100: "
                 "unlimited)"),
        Int("lfu-log-factor", nullptr, 0, 0, kIntMax, 10, &Config::lfu_log_factor_)
            .Doc("LFU counter: hits per counter step"),
        Int("lfu-decay-time", nullptr, 0, 0, kIntMax, 1, &Config::lfu_decay_time_)
            .Doc("LFU counter: minutes per decay step (0: no decay)"),
        Enum("maxmemory-policy", 0, kMaxmemoryPolicyEnum, 0, &Config::maxmemory_policy_)
            .Doc("over maxmemory: noeviction moves values to disk (with persistence); the others "
                 "delete whole keys"),
        // Redis accepts any hz and clamps it to 1..500; FDB refuses what it would clamp.
        Int("hz", nullptr, 0, 1, 500, 10, &Config::hz_)
            .Doc("housekeeping (active expiry) cycles per second"),
        Int("timeout", nullptr, 0, 0, kIntMax, 0, &Config::timeout_)
            .Doc("close a client idle for this many seconds (0: never)"),
        Int("tcp-keepalive", nullptr, kNo, 0, kIntMax, 300, &Config::tcp_keepalive_)
            .Doc("seconds between TCP keepalive probes (FDB keeps the kernel's settings)"),
        // FDB's keyspace has a fixed number of databases (limits::kNumDatabases).
        with_check(Int("databases", nullptr, kImmutable, 1, kIntMax, limits::kNumDatabases,
                       &Config::databases_),
                   [](int64_t v) -> const char* {
                     return v == limits::kNumDatabases ? nullptr
                                                       : "argument must be 16 (fixed in FDB)";
                   })
            .Doc("number of databases (fixed at 16 in FDB)"),
        Special(
            "requirepass", nullptr, 0,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              MutexLock l(c.mu_);
              c.requirepass_ = std::string(v);
              c.requirepass_set_.store(!v.empty(), std::memory_order_release);
              c.requirepass_version_.fetch_add(1, std::memory_order_relaxed);
              return Status::OK();
            },
            [](const Config& c, const Param&) { return c.requirepass(); },
            [](const Config& c, const Param& p, RewriteState& st) {
              st.String(p.name, c.requirepass(), nullptr, true);
            })
            .Doc("password of the default user (AUTH / HELLO AUTH); empty: none"),
        // With its log FDB persists through it; without (appendonly no), `save` points write
        // RDB files as Redis's (commands/rdb_snapshot.h).
        Special(
            "save", nullptr, kMultiArg,
            [](Config& c, const Param&, std::string_view v, bool startup) -> Status {
              std::vector<std::string> w = SplitSpaces(v);
              bool reset = w.size() == 1 && w[0].empty();
              if (reset) w.clear();
              if (w.size() % 2 != 0) return Status::InvalidArgument("Invalid save parameters");
              std::string pairs;
              for (size_t j = 0; j < w.size(); j++) {
                long long x;
                if (!StrToLL(w[j], &x) || (j % 2 == 0 && x < 1) || (j % 2 == 1 && x < 0)) {
                  return Status::InvalidArgument("Invalid save parameters");
                }
                if (!pairs.empty()) pairs += ' ';
                pairs += std::to_string(j % 2 == 0 ? x : static_cast<int>(x));
              }
              MutexLock l(c.mu_);
              // As Redis's config file: `save ""` clears, the first `save` line replaces the
              // default and the next ones add to it; CONFIG SET replaces.
              if (!startup || reset || !c.save_loaded_) c.save_.clear();
              if (startup) c.save_loaded_ = true;
              if (!pairs.empty()) c.save_ += (c.save_.empty() ? "" : " ") + pairs;
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              MutexLock l(c.mu_);
              return c.save_;
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              std::string save;
              {
                MutexLock l(c.mu_);
                save = c.save_;
              }
              std::vector<std::string> w =
                  save.empty() ? std::vector<std::string>{} : SplitSpaces(save);
              if (w.empty()) st.Line(p.name, "save \"\"", true);
              for (size_t j = 0; j + 1 < w.size(); j += 2) {
                st.Line(p.name, "save " + w[j] + " " + w[j + 1], true);
              }
              st.MarkProcessed(p.name);
            })
            .Doc("RDB snapshot points (<seconds> <changes>...) of a server without its log "
                 "(appendonly no); with it, FDB persists through the log"),
        Int("cache-size", nullptr, 0, 0, INT64_MAX, 0, &Config::cache_size_)
            .Doc("the RAM cache's bound counted in values rather than bytes (0: unbounded)"),
        Bool("compression", nullptr, kImmutable, false, &Config::compression_)
            .Doc(
                "store values of 256 bytes or more zstd-compressed in the log when it saves space"),
        // FDB's default is yes (the log); `no` keeps the data set in memory only. FDB cannot
        // turn its log on or off while running (Redis can): immutable.
        Bool("appendonly", nullptr, kImmutable, true, &Config::appendonly_)
            .Doc("persistence through the log; no keeps the data set in memory only"),
        Enum("appendfsync", 0, kAppendfsyncEnum, 1, &Config::appendfsync_)
            .Doc("always: acknowledge a write once fsynced; everysec: at most ~1 s lost on power "
                 "loss; no: the OS decides"),
        Enum("loglevel", 0, kLoglevelEnum, 2, &Config::loglevel_)
            .Doc("log lines below this level are dropped"),
        Str("logfile", nullptr, kImmutable, "", &Config::logfile_)
            .Doc("file the log lines are appended to (empty: standard error)"),
        Enum("enable-debug-command", kImmutable, kProtectedActionEnum, 0,
             &Config::enable_debug_command_)
            .Doc("who may run DEBUG: no, local (clients on loopback), yes"),
        Enum("enable-protected-configs", kImmutable, kProtectedActionEnum, 0,
             &Config::enable_protected_configs_)
            .Doc("who may CONFIG SET protected parameters (dir): no, local, yes"),
        Enum("enable-module-command", kImmutable | kNo, kProtectedActionEnum, 0,
             &Config::enable_module_command_)
            .Doc("who may run MODULE (FDB has no MODULE command)"),
        // FDB stays in the foreground (the service manager runs it); `daemonize yes` is
        // accepted, so a redis.conf starts it, and warned about at startup.
        Bool("daemonize", nullptr, kImmutable, false, &Config::daemonize_)
            .Doc("fork into the background (fdb-server stays in the foreground; yes is warned "
                 "about)"),
        Str("pidfile", nullptr, kImmutable | kEmptyIsNull, nullptr, &Config::pidfile_)
            .Doc("file the server's pid is written to at start and removed from at exit (empty: "
                 "none)"),

        // --- Redis's encodings (the list's shape lists made from then on take; the others
        // stored, no effect: FDB's collections have their own), then the introspection,
        // scripting and messaging limits.
        Int("list-max-listpack-size", "list-max-ziplist-size", 0, kIntMin, kIntMax, -2,
            &Config::list_max_listpack_size_)
            .Doc("a list node's bound: -1..-5 = 4..64 KB, N > 0 = N elements (lists made after)"),
        Int("list-compress-depth", nullptr, 0, 0, kIntMax, 0, &Config::list_compress_depth_)
            .Doc("nodes kept raw at each end of a list, the others LZF-compressed (0: none)"),
        // The hash, set and sorted-set thresholds apply (ServerContext::ApplyConfig hands them
        // to engine/encoding_limits.h); set-max-listpack-* are Redis 7.2's.
        Int("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, 0, kLongMax, 512,
            &Config::hash_max_listpack_entries_)
            .Doc("largest hash kept as a listpack, in fields"),
        Int("hash-max-listpack-value", "hash-max-ziplist-value", kMemory, 0, kLongMax, 64,
            &Config::hash_max_listpack_value_)
            .Doc("largest hash field or value kept in a listpack"),
        Int("set-max-intset-entries", nullptr, 0, 0, kLongMax, 512,
            &Config::set_max_intset_entries_)
            .Doc("largest set of integers kept as an intset"),
        Int("set-max-listpack-entries", nullptr, 0, 0, kLongMax, 128,
            &Config::set_max_listpack_entries_)
            .Doc("largest set kept as a listpack, in members"),
        Int("set-max-listpack-value", nullptr, kMemory, 0, kLongMax, 64,
            &Config::set_max_listpack_value_)
            .Doc("largest set member kept in a listpack"),
        Int("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, 0, kLongMax, 128,
            &Config::zset_max_listpack_entries_)
            .Doc("largest sorted set kept as a listpack, in members"),
        Int("zset-max-listpack-value", "zset-max-ziplist-value", kMemory, 0, kLongMax, 64,
            &Config::zset_max_listpack_value_)
            .Doc("largest sorted set member kept in a listpack (at most 255 bytes apply)"),
        Int("slowlog-log-slower-than", nullptr, 0, -1, kLLongMax, 10000,
            &Config::slowlog_log_slower_than_)
            .Doc(
                "commands slower than this many microseconds go to the SLOWLOG (-1: none, 0: all)"),
        Int("slowlog-max-len", nullptr, 0, 0, kLongMax, 128, &Config::slowlog_max_len_)
            .Doc("SLOWLOG entries kept"),
        Int("latency-monitor-threshold", nullptr, 0, 0, kLLongMax, 0,
            &Config::latency_monitor_threshold_)
            .Doc("events slower than this many milliseconds go to LATENCY (0: off)"),
        Int("busy-reply-threshold", "lua-time-limit", 0, 0, kLongMax, 5000,
            &Config::busy_reply_threshold_)
            .Doc("milliseconds a script or function runs before other clients get BUSY"),
        Special(
            "notify-keyspace-events", nullptr, 0,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              int flags = ParseKeyspaceEvents(v);
              if (flags < 0) {
                return Status::InvalidArgument(
                    "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
              }
              c.notify_keyspace_events_.store(flags);
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              return KeyspaceEventsToString(static_cast<int>(c.notify_keyspace_events_.load()));
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              int flags = static_cast<int>(c.notify_keyspace_events_.load());
              st.Line(p.name, std::string(p.name) + " " + Repr(KeyspaceEventsToString(flags)),
                      flags != 0);
            })
            .Doc("keyspace notification classes to publish (Ag$lshzxeKEtmdn; empty: none)"),
        Int("hll-sparse-max-bytes", nullptr, kMemory, 0, kLongMax, 3000,
            &Config::hll_sparse_max_bytes_)
            .Doc("largest sparse HyperLogLog before it becomes dense"),
        Int("stream-node-max-bytes", nullptr, kMemory, 0, kLongMax, 4096,
            &Config::stream_node_max_bytes_)
            .Doc("bytes of a stream's node before a new one starts"),
        Int("stream-node-max-entries", nullptr, 0, 0, kLLongMax, 100,
            &Config::stream_node_max_entries_)
            .Doc("entries of a stream's node before a new one starts"),
        Int("tracking-table-max-keys", nullptr, 0, 0, kLongMax, 1000000,
            &Config::tracking_table_max_keys_)
            .Doc("keys remembered for client-side caching (0: unbounded)"),
        Int("acllog-max-len", nullptr, 0, 0, kLongMax, 128).Doc("ACL LOG entries kept"),
        Enum("acl-pubsub-default", 0, kAclPubsubDefaultEnum, 0)
            .Doc("channels of a new ACL user: resetchannels (none) or allchannels"),
        Bool("latency-tracking", nullptr, 0, true)
            .Doc("per-command latency histograms (INFO latencystats)"),
        Special(
            "latency-tracking-info-percentiles", nullptr, kMultiArg,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              std::vector<std::string> w = SplitSpaces(v);
              if (w.size() == 1 && w[0].empty()) w.clear();
              std::string out;
              for (const std::string& s : w) {
                char* end = nullptr;
                double d = strtod(s.c_str(), &end);
                if (s.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0]))) {
                  return Status::InvalidArgument(
                      "Invalid latency-tracking-info-percentiles parameters");
                }
                if (d > 100.0 || d < 0.0) {
                  return Status::InvalidArgument(
                      "latency-tracking-info-percentiles parameters should sit between "
                      "[0.0,100.0]");
                }
                if (!out.empty()) out += ' ';
                out += FormatPercentile(d);
              }
              MutexLock l(c.mu_);
              c.latency_tracking_info_percentiles_ = out;
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              MutexLock l(c.mu_);
              return c.latency_tracking_info_percentiles_;
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              std::string v;
              {
                MutexLock l(c.mu_);
                v = c.latency_tracking_info_percentiles_;
              }
              // As Redis: always written, `""` for none, so the default does not come back.
              st.Line(p.name, std::string(p.name) + " " + (v.empty() ? "\"\"" : v), true);
            })
            .Doc("percentiles INFO latencystats reports"),
        Int("active-expire-effort", nullptr, kNo, 1, 10, 1)
            .Doc("Redis's effort of the active expiry cycle (1-10)"),
        Bool("lazyfree-lazy-eviction", nullptr, kNo, false)
            .Doc("Redis's background freeing of evicted keys"),
        Bool("lazyfree-lazy-expire", nullptr, kNo, false)
            .Doc("Redis's background freeing of expired keys"),
        Bool("lazyfree-lazy-server-del", nullptr, kNo, false)
            .Doc("Redis's background freeing of keys the server deletes"),
        Bool("lazyfree-lazy-user-del", nullptr, kNo, false).Doc("Redis's DEL as UNLINK"),
        Bool("lazyfree-lazy-user-flush", nullptr, kNo, false)
            .Doc("Redis's FLUSHALL / FLUSHDB as ASYNC"),
        Bool("activerehashing", nullptr, kNo, true)
            .Doc("Redis's incremental rehashing in the housekeeping cycle"),
        Bool("dynamic-hz", nullptr, kNo, true).Doc("Redis's hz raised with the number of clients"),
        Int("shutdown-timeout", nullptr, kNo, 0, kIntMax, 10)
            .Doc("seconds Redis waits for replicas at shutdown"),
        // save / nosave / force apply (net/server.cc); `now` has nothing to skip: FDB's shutdown
        // does not wait for replicas.
        Special("shutdown-on-sigint", nullptr, kMultiArg, set_shutdown_flags, get_string_slot,
                rewrite_shutdown_flags)
            .Doc("the shutdown's flags on SIGINT (default, save, nosave, now, force)"),
        Special("shutdown-on-sigterm", nullptr, kMultiArg, set_shutdown_flags, get_string_slot,
                rewrite_shutdown_flags)
            .Doc("the shutdown's flags on SIGTERM (default, save, nosave, now, force)"),
        Int("socket-mark-id", nullptr, kImmutable | kNo, 0, UINT_MAX, 0)
            .Doc("Redis's SO_MARK of listening sockets"),
        Int("tcp-backlog", nullptr, kImmutable | kNo, 0, kIntMax, 511)
            .Doc("Redis's listen() backlog"),
        // Listened on beside the TCP addresses (net/server.cc); its clients count as local.
        Str("unixsocket", nullptr, kImmutable | kEmptyIsNull, nullptr)
            .Doc("path of a Unix socket to listen on too (removed at exit)"),
        Int("unixsocketperm", nullptr, kImmutable | kOctal, 0, 0777, 0)
            .Doc("permissions of the unixsocket file, in octal (0: as the umask leaves them)"),
        Bool("protected-mode", nullptr, 0, true, &Config::protected_mode_)
            .Doc("while the default user has no password, serve only clients on loopback or the "
                 "unixsocket"),
        Str("bind-source-addr", nullptr, kEmptyIsNull, nullptr)
            .Doc("source address of outgoing connections (a replica's link to its master)"),
        Enum("sanitize-dump-payload", kNo, kSanitizeDumpPayloadEnum, 0)
            .Doc("Redis's deep check of RESTORE payloads"),
        Str("ignore-warnings", nullptr, kNo, "").Doc("Redis's startup warnings to silence"),

        // --- Process and logging details of redis-server.
        // systemd: sd_notify(3) READY=1 once recovered and listening, STOPPING=1 at shutdown
        // (packaging/fdb.service is Type=notify); upstart is accepted and warned about.
        Enum("supervised", kImmutable, kSupervisedEnum, 0, &Config::supervised_)
            .Doc("tell a supervisor when ready: systemd (sd_notify), auto (systemd if "
                 "NOTIFY_SOCKET is set), no"),
        Bool("syslog-enabled", nullptr, kImmutable, false, &Config::syslog_enabled_)
            .Doc("also send the log lines to the system logger (syslog)"),
        // FDB's own ident (Redis: "redis"), so its messages are told apart from a Redis's.
        Str("syslog-ident", nullptr, kImmutable, "fdb", &Config::syslog_ident_)
            .Doc("program name of the syslog messages"),
        // The values are syslog.h's LOG_USER, LOG_LOCAL0...
        Enum("syslog-facility", kImmutable, kSyslogFacilityEnum, 128, &Config::syslog_facility_)
            .Doc("syslog facility: user or local0-local7"),
        // The "logo" is one line on standard output with the port and the pid (see
        // fdb_server_main.cc).
        Bool("always-show-logo", nullptr, kImmutable, false, &Config::always_show_logo_)
            .Doc(
                "write a startup line with the port and pid, and a ready line, to standard output"),
        Bool("set-proc-title", nullptr, kImmutable | kNo, true).Doc("Redis's process title"),
        with_str_check(
            Str("proc-title-template", nullptr, kNo, "{title} {listen-addr} {server-mode}"),
            [](std::string_view v) -> const char* {
              return ValidProcTitleTemplate(v)
                         ? nullptr
                         : "template format is invalid or contains unknown variables";
            })
            .Doc("Redis's process title template"),
        Bool("crash-log-enabled", nullptr, kNo, true).Doc("Redis's crash report in the log"),
        Bool("crash-memcheck-enabled", nullptr, kNo, true).Doc("Redis's memory test after a crash"),
        Bool("disable-thp", nullptr, kImmutable | kNo, true)
            .Doc("Redis's transparent huge pages switch-off"),
        Bool("jemalloc-bg-thread", nullptr, kNo, true).Doc("Redis's jemalloc purging thread"),
        Enum("oom-score-adj", kNo, kOomScoreAdjEnum, 0)
            .Doc("Redis's control of the process's OOM score"),
        Special(
            "oom-score-adj-values", nullptr, kMultiArg | kNo,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              std::vector<std::string> w = SplitSpaces(v);
              if (w.size() != 3) return Status::InvalidArgument("wrong number of arguments");
              std::string out;
              for (const std::string& s : w) {
                long long x;
                if (!StrToLL(s, &x) || x < -2000 || x > 2000) {
                  return Status::InvalidArgument(
                      "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
                }
                if (!out.empty()) out += ' ';
                out += std::to_string(x);
              }
              MutexLock l(c.mu_);
              c.oom_score_adj_values_ = out;
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              MutexLock l(c.mu_);
              return c.oom_score_adj_values_;
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              std::string v;
              {
                MutexLock l(c.mu_);
                v = c.oom_score_adj_values_;
              }
              st.Line(p.name, std::string(p.name) + " " + v, v != "0 200 800");
            })
            .Doc("Redis's OOM score adjustments of master, replica and child"),
        Str("server_cpulist", nullptr, kImmutable | kEmptyIsNull | kNo, nullptr)
            .Doc("Redis's CPU affinity of the main thread"),
        Str("bio_cpulist", nullptr, kImmutable | kEmptyIsNull | kNo, nullptr)
            .Doc("Redis's CPU affinity of background I/O threads"),
        Str("aof_rewrite_cpulist", nullptr, kImmutable | kEmptyIsNull | kNo, nullptr)
            .Doc("Redis's CPU affinity of AOF rewrites"),
        Str("bgsave_cpulist", nullptr, kImmutable | kEmptyIsNull | kNo, nullptr)
            .Doc("Redis's CPU affinity of BGSAVE"),
        // Redis on Debian has no active defragmenter either, and refuses it the same way.
        with_check(Bool("activedefrag", nullptr, kNo, false),
                   [](int64_t v) -> const char* {
                     return v ? "Active defragmentation cannot be enabled: it requires a Redis "
                                "server compiled with a modified Jemalloc like the one shipped "
                                "by default with the Redis source distribution"
                              : nullptr;
                   })
            .Doc("Redis's active defragmentation (refused, as on Debian's Redis)"),
        Int("active-defrag-ignore-bytes", nullptr, kNo | kMemory, 1, kLLongMax, 100 * kMb)
            .Doc("Redis's fragmentation below which defragmentation waits"),
        Int("active-defrag-threshold-lower", nullptr, kNo, 0, 1000, 10)
            .Doc("Redis's fragmentation % at which defragmentation starts"),
        Int("active-defrag-threshold-upper", nullptr, kNo, 0, 1000, 100)
            .Doc("Redis's fragmentation % at which defragmentation works hardest"),
        Int("active-defrag-cycle-min", nullptr, kNo, 1, 99, 1)
            .Doc("Redis's least CPU % of defragmentation"),
        Int("active-defrag-cycle-max", nullptr, kNo, 1, 99, 25)
            .Doc("Redis's most CPU % of defragmentation"),
        Int("active-defrag-max-scan-fields", nullptr, kNo, 1, kLongMax, 1000)
            .Doc("Redis's collection size defragmented in one step"),
        Bool("io-threads-do-reads", nullptr, kImmutable | kNo, false)
            .Doc("Redis's reads on I/O threads (FDB's I/O threads always read)"),
        // ACL users' file (commands/acl.h), read at startup and by ACL LOAD / SAVE.
        Str("aclfile", nullptr, kImmutable, "")
            .Doc("file of ACL users (relative to dir), read at startup and by ACL LOAD, written by "
                 "ACL SAVE"),

        // --- RDB and AOF files of redis-server (FDB has its own log and checkpoints).
        Bool("rdbcompression", nullptr, kNo, true).Doc("Redis's LZF compression of RDB strings"),
        Bool("rdbchecksum", nullptr, kImmutable | kNo, true).Doc("Redis's RDB checksum"),
        Bool("rdb-del-sync-files", nullptr, kNo, false)
            .Doc("Redis's deletion of replication RDB files"),
        Bool("stop-writes-on-bgsave-error", nullptr, kNo, true)
            .Doc("Redis's refusal of writes after a failed BGSAVE"),
        Bool("rdb-save-incremental-fsync", nullptr, kNo, true)
            .Doc("Redis's fsync every 4 MB of an RDB file"),
        with_str_check(Str("dbfilename", nullptr, kProtected, "dump.rdb"),
                       [](std::string_view v) -> const char* {
                         return v.find('/') != std::string_view::npos
                                    ? "dbfilename can't be a path, just a filename"
                                    : nullptr;
                       })
            .Doc("the RDB file SAVE, BGSAVE and save points write without the log (appendonly no)"),
        with_str_check(Str("appendfilename", nullptr, kImmutable | kNo, "appendonly.aof"),
                       [](std::string_view v) -> const char* {
                         if (v.empty()) return "appendfilename can't be empty";
                         return v.find('/') != std::string_view::npos
                                    ? "appendfilename can't be a path, just a filename"
                                    : nullptr;
                       })
            .Doc("Redis's AOF file name"),
        with_str_check(Str("appenddirname", nullptr, kImmutable | kNo, "appendonlydir"),
                       [](std::string_view v) -> const char* {
                         if (v.empty()) return "appenddirname can't be empty";
                         return v.find('/') != std::string_view::npos
                                    ? "appenddirname can't be a path, just a dirname"
                                    : nullptr;
                       })
            .Doc("Redis's AOF directory name"),
        Bool("no-appendfsync-on-rewrite", nullptr, kNo, false)
            .Doc("Redis's fsync pause during AOF rewrites"),
        Int("auto-aof-rewrite-percentage", nullptr, kNo, 0, kIntMax, 100)
            .Doc("Redis's AOF growth % that triggers a rewrite"),
        Int("auto-aof-rewrite-min-size", nullptr, kNo | kMemory, 0, kLLongMax, 64 * kMb)
            .Doc("Redis's smallest AOF that is rewritten"),
        Bool("aof-load-truncated", nullptr, kNo, true).Doc("Redis's loading of a truncated AOF"),
        Bool("aof-use-rdb-preamble", nullptr, kNo, true)
            .Doc("Redis's RDB preamble in rewritten AOFs"),
        Bool("aof-timestamp-enabled", nullptr, kNo, false).Doc("Redis's timestamps in the AOF"),
        Bool("aof-rewrite-incremental-fsync", nullptr, kNo, true)
            .Doc("Redis's fsync every 4 MB of an AOF rewrite"),
        Bool("aof-disable-auto-gc", nullptr, kNo, false)
            .Doc("Redis's automatic deletion of old AOF files"),
        // Testing knobs of redis-server that the Redis test suite sets by exact name.
        Int("rdb-key-save-delay", nullptr, kHidden, kIntMin, kIntMax, 0)
            .Doc("testing delay per key of an RDB file written (microseconds)"),
        Int("key-load-delay", nullptr, kHidden | kNo, kIntMin, kIntMax, 0)
            .Doc("Redis's testing delay per key loaded"),
        Int("loading-process-events-interval-bytes", nullptr, kHidden | kNo, 1024, kIntMax, 2 * kMb)
            .Doc("Redis's bytes loaded between event loop runs"),
        Int("watchdog-period", nullptr, kHidden | kNo, 0, kIntMax, 0)
            .Doc("Redis's software watchdog period"),
        Bool("use-exit-on-panic", nullptr, kHidden | kNo, false)
            .Doc("Redis's exit() instead of abort() on panic"),

        // --- Replication (commands/replication.h). `replicaof` is set by the config file or
        // the REPLICAOF command (Sentinel's CONFIG REWRITE then keeps it), never by CONFIG SET.
        Special(
            "replicaof", "slaveof", kImmutable | kMultiArg,
            [](Config& c, const Param&, std::string_view v, bool) -> Status {
              std::vector<std::string> w = SplitSpaces(v);
              if (w.size() != 2) return Status::InvalidArgument("wrong number of arguments");
              if (AsciiLower(w[0]) == "no" && AsciiLower(w[1]) == "one") {
                MutexLock l(c.mu_);
                c.replicaof_.clear();
                return Status::OK();
              }
              long long port;
              if (!StrToLL(w[1], &port) || port < 0 || port > 65535) {
                return Status::InvalidArgument("Invalid master port");
              }
              MutexLock l(c.mu_);
              c.replicaof_ = w[0] + " " + w[1];
              return Status::OK();
            },
            [](const Config& c, const Param&) {
              MutexLock l(c.mu_);
              return c.replicaof_;
            },
            [](const Config& c, const Param& p, RewriteState& st) {
              std::string v = c.replicaof();
              if (v.empty()) {
                st.MarkProcessed(p.name);
              } else {
                st.Line(p.name, std::string(p.name) + " " + v, true);
              }
            })
            .Doc("the primary this server replicates (host port), or none"),
        Str("masterauth", nullptr, kEmptyIsNull, nullptr).Doc("password for the primary"),
        Str("masteruser", nullptr, kEmptyIsNull, nullptr).Doc("user name for the primary"),
        Bool("replica-serve-stale-data", "slave-serve-stale-data", 0, true)
            .Doc("a replica answers while out of sync"),
        Bool("replica-read-only", "slave-read-only", 0, true).Doc("a replica refuses writes"),
        Bool("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, true)
            .Doc("a replica leaves eviction to its primary"),
        Bool("replica-lazy-flush", "slave-lazy-flush", kNo, false)
            .Doc("a replica flushes asynchronously before a full sync"),
        Int("replica-priority", "slave-priority", 0, 0, kIntMax, 100)
            .Doc("Sentinel's promotion priority of a replica"),
        Str("replica-announce-ip", "slave-announce-ip", kEmptyIsNull, nullptr)
            .Doc("address a replica announces to its primary"),
        Int("replica-announce-port", "slave-announce-port", 0, 0, 65535, 0)
            .Doc("port a replica announces to its primary"),
        Bool("replica-announced", nullptr, 0, true).Doc("whether Sentinel reports this replica"),
        Bool("replica-ignore-disk-write-errors", nullptr, kNo, false)
            .Doc("a replica goes on after a failed write to disk"),
        Int("repl-ping-replica-period", "repl-ping-slave-period", 0, 1, kIntMax, 10)
            .Doc("seconds between pings to replicas"),
        Int("repl-timeout", nullptr, 0, 1, kIntMax, 60)
            .Doc("seconds before a silent replication link is dropped"),
        Bool("repl-disable-tcp-nodelay", nullptr, kNo, false)
            .Doc("fewer, larger packets on the replication link"),
        Int("repl-backlog-size", nullptr, kMemory, 1, kLLongMax, kMb, &Config::repl_backlog_size_)
            .Doc("bytes of the replication backlog"),
        Int("repl-backlog-ttl", nullptr, kNo, 0, kLongMax, 3600)
            .Doc("seconds the backlog is kept without replicas"),
        Bool("repl-diskless-sync", nullptr, kNo, true)
            .Doc("full syncs sent over the socket rather than through a file"),
        Int("repl-diskless-sync-delay", nullptr, kNo, 0, kIntMax, 5)
            .Doc("seconds a diskless sync waits for more replicas"),
        Int("repl-diskless-sync-max-replicas", nullptr, kNo, 0, kIntMax, 0)
            .Doc("replicas that start a diskless sync at once"),
        Enum("repl-diskless-load", kNo, kReplDisklessLoadEnum, 0)
            .Doc("how a replica loads a full sync: disabled, on-empty-db, swapdb"),
        // While both are non-zero, writes are refused (NOREPLICAS) without that many replicas
        // that acknowledged the stream in the last min-replicas-max-lag seconds, as Redis.
        Int("min-replicas-to-write", "min-slaves-to-write", 0, 0, kIntMax, 0,
            &Config::min_replicas_to_write_)
            .Doc("with min-replicas-max-lag, both non-zero: writes need that many good replicas "
                 "(NOREPLICAS)"),
        Int("min-replicas-max-lag", "min-slaves-max-lag", 0, 0, kIntMax, 10,
            &Config::min_replicas_max_lag_)
            .Doc("seconds of lag of a good replica (see min-replicas-to-write)"),
        Enum("propagation-error-behavior", kNo, kPropagationErrorBehaviorEnum, 0)
            .Doc("what a replica does when a replicated command fails"),

        // --- Cluster (commands/cluster.h): the node applies the topology fdb-controller gives
        // it; the gossip bus's parameters are accepted and reported only.
        Bool("cluster-enabled", nullptr, kImmutable, false, &Config::cluster_enabled_)
            .Doc("Redis Cluster mode: serve the slots the topology pushed by CLUSTERX SETNODES "
                 "gives this node and redirect the others (MOVED, ASK; docs/cluster.md)"),
        Str("cluster-config-file", nullptr, kImmutable | kNo, "nodes.conf")
            .Doc("Redis Cluster's node configuration file"),
        Int("cluster-node-timeout", nullptr, kNo, 0, kLLongMax, 15000)
            .Doc("milliseconds before a cluster node is failing"),
        Int("cluster-port", nullptr, kImmutable | kNo, 0, 65535, 0).Doc("Redis Cluster bus port"),
        Str("cluster-announce-ip", nullptr, kEmptyIsNull | kNo, nullptr)
            .Doc("address announced to the cluster"),
        with_str_check(Str("cluster-announce-hostname", nullptr, kEmptyIsNull | kNo, nullptr),
                       [](std::string_view v) -> const char* {
                         if (v.size() >= 256) return "Hostnames must be less than 256 characters";
                         for (char ch : v) {
                           if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' &&
                               ch != '.') {
                             return "Hostnames may only contain alphanumeric characters, "
                                    "hyphens or dots";
                           }
                         }
                         return nullptr;
                       })
            .Doc("host name announced to the cluster"),
        Int("cluster-announce-port", nullptr, kNo, 0, 65535, 0)
            .Doc("client port announced to the cluster"),
        Int("cluster-announce-bus-port", nullptr, kNo, 0, 65535, 0)
            .Doc("bus port announced to the cluster"),
        Int("cluster-announce-tls-port", nullptr, kNo, 0, 65535, 0)
            .Doc("TLS port announced to the cluster"),
        Enum("cluster-preferred-endpoint-type", kNo, kClusterEndpointTypeEnum, 0)
            .Doc("endpoint type in redirections: ip, hostname, unknown-endpoint"),
        Bool("cluster-require-full-coverage", nullptr, kNo, true)
            .Doc("refuse queries while slots are uncovered"),
        Bool("cluster-replica-no-failover", "cluster-slave-no-failover", kNo, false)
            .Doc("a replica never fails over on its own"),
        Int("cluster-replica-validity-factor", "cluster-slave-validity-factor", kNo, 0, kIntMax, 10)
            .Doc("how stale a replica may be to fail over"),
        Int("cluster-migration-barrier", nullptr, kNo, 0, kIntMax, 1)
            .Doc("replicas a primary keeps before one migrates"),
        Bool("cluster-allow-replica-migration", nullptr, kNo, true)
            .Doc("replicas migrate to orphaned primaries"),
        Bool("cluster-allow-reads-when-down", nullptr, kNo, false)
            .Doc("serve reads while the cluster is down"),
        Bool("cluster-allow-pubsubshard-when-down", nullptr, kNo, true)
            .Doc("serve shard channels while the cluster is down"),
        Int("cluster-link-sendbuf-limit", nullptr, kNo | kMemory, 0, INT64_MAX, 0)
            .Doc("bytes of a cluster link's send buffer before it is freed"),

        // --- TLS (net/tls.h). CONFIG SET of any of them builds a new TLS context
        // (Server::ReconfigureTls). FDB has no replication or cluster links: the parameters of
        // TLS on those are accepted and reported only.
        Int("tls-port", nullptr, 0, 0, 65535, 0)
            .Doc("TLS port (0: off); CONFIG SET opens, moves or closes it"),
        Str("tls-cert-file", nullptr, kEmptyIsNull, nullptr)
            .Doc("the server's certificate (chain), PEM"),
        Str("tls-key-file", nullptr, kEmptyIsNull, nullptr).Doc("the server's private key, PEM"),
        Str("tls-key-file-pass", nullptr, kEmptyIsNull, nullptr).Doc("passphrase of tls-key-file"),
        Str("tls-client-cert-file", nullptr, kEmptyIsNull | kNo, nullptr)
            .Doc("certificate for outgoing TLS links (replication, cluster)"),
        Str("tls-client-key-file", nullptr, kEmptyIsNull | kNo, nullptr)
            .Doc("key for outgoing TLS links (replication, cluster)"),
        Str("tls-client-key-file-pass", nullptr, kEmptyIsNull | kNo, nullptr)
            .Doc("passphrase of tls-client-key-file"),
        Str("tls-dh-params-file", nullptr, kEmptyIsNull, nullptr)
            .Doc("DH parameters (empty: OpenSSL's built-in groups)"),
        Str("tls-ca-cert-file", nullptr, kEmptyIsNull, nullptr)
            .Doc("CA certificates that sign client certificates, PEM"),
        Str("tls-ca-cert-dir", nullptr, kEmptyIsNull, nullptr)
            .Doc("directory of CA certificates that sign client certificates"),
        Str("tls-protocols", nullptr, kEmptyIsNull, nullptr)
            .Doc("TLS versions served: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (empty: TLSv1.2 TLSv1.3)"),
        Str("tls-ciphers", nullptr, kEmptyIsNull, nullptr)
            .Doc("cipher list of TLS 1.2 and older (empty: OpenSSL's)"),
        Str("tls-ciphersuites", nullptr, kEmptyIsNull, nullptr)
            .Doc("TLS 1.3 cipher suites (empty: OpenSSL's)"),
        Enum("tls-auth-clients", 0, kTlsAuthClientsEnum, 1)
            .Doc("yes: a client must present a certificate; optional: verified if given; no"),
        Bool("tls-replication", nullptr, kNo, false).Doc("TLS on replication links"),
        Bool("tls-cluster", nullptr, kNo, false).Doc("TLS on the cluster bus"),
        Bool("tls-prefer-server-ciphers", nullptr, 0, false).Doc("the server's cipher order wins"),
        Bool("tls-session-caching", nullptr, 0, true).Doc("server-side TLS session resumption"),
        Int("tls-session-cache-size", nullptr, 0, 0, kIntMax, 20 * 1024).Doc("TLS sessions cached"),
        Int("tls-session-cache-timeout", nullptr, 0, 0, kIntMax, 300)
            .Doc("seconds a cached TLS session lives"),
    };
    for (size_t i = 0; i < t.size(); i++) t[i].row = i;
    return t;
  }();
  return table;
}

// ---------------------------------------------------------------------------------------------
// Config.

Config::Config() {
  const std::vector<Param>& table = Table();
  nums_.reset(new std::atomic<int64_t>[table.size()]);
  given_.assign(table.size(), false);
  obuf_hard_[kNormal].store(limits::kOutputBufferHardLimitDefault);
  obuf_soft_[kNormal].store(0);
  obuf_soft_seconds_[kNormal].store(0);
  obuf_hard_[kReplica].store(limits::kReplicaOutputHardDefault);
  obuf_soft_[kReplica].store(limits::kReplicaOutputSoftDefault);
  obuf_soft_seconds_[kReplica].store(limits::kReplicaOutputSoftSecondsDefault);
  obuf_hard_[kPubsub].store(limits::kPubsubOutputHardDefault);
  obuf_soft_[kPubsub].store(limits::kPubsubOutputSoftDefault);
  obuf_soft_seconds_[kPubsub].store(limits::kPubsubOutputSoftSecondsDefault);
  MutexLock l(mu_);
  strs_.assign(table.size(), std::string());
  for (const Param& p : table) {
    nums_[p.row].store(0);
    switch (p.kind) {
      case Kind::kBool:
      case Kind::kEnum:
      case Kind::kInt:
        Num(p).store(p.def);
        break;
      case Kind::kString:
        Str(p) = p.def_str != nullptr ? p.def_str : "";
        break;
      case Kind::kSpecial:
        break;
    }
  }
  oom_score_adj_values_ = "0 200 800";
  latency_tracking_info_percentiles_ = "50 99 99.9";
  for (const Param& p : table) {
    if (std::string_view(p.name).starts_with("shutdown-on-sig")) strs_[p.row] = "default";
  }
}

Config::~Config() = default;

int64_t Config::Number(std::string_view name) const {
  const Param* p = FindParam(name);
  return p == nullptr ? 0 : Num(*p).load(kRelaxed);
}

std::string Config::String(std::string_view name) const {
  const Param* p = FindParam(name);
  if (p == nullptr) return {};
  MutexLock l(mu_);
  return Str(*p);
}

std::string Config::save() const {
  MutexLock l(mu_);
  return save_;
}

std::string Config::replicaof() const {
  MutexLock l(mu_);
  return replicaof_;
}

void Config::set_replicaof(std::string host_port) {
  MutexLock l(mu_);
  replicaof_ = std::move(host_port);
}

std::atomic<int64_t>& Config::Num(const Param& p) const {
  if (p.num != nullptr) return const_cast<Config*>(this)->*(p.num);
  return nums_[p.row];
}

std::string& Config::Str(const Param& p) const {
  if (p.str != nullptr) return const_cast<Config*>(this)->*(p.str);
  return strs_[p.row];
}

const Config::Param* Config::FindParam(std::string_view name) const {
  std::string l = AsciiLower(name);
  for (const Param& p : Table()) {
    if (l == p.name || (p.alias != nullptr && l == p.alias)) return &p;
  }
  return nullptr;
}

bool Config::Known(std::string_view name) const { return FindParam(name) != nullptr; }

bool Config::IsProtected(std::string_view name) const {
  const Param* p = FindParam(name);
  return p != nullptr && (p->flags & kProtected) != 0;
}

bool Config::IsImmutable(std::string_view name) const {
  const Param* p = FindParam(name);
  return p != nullptr && (p->flags & kImmutable) != 0;
}

std::string Config::CanonicalName(std::string_view name) const {
  const Param* p = FindParam(name);
  return p == nullptr ? std::string() : std::string(p->name);
}

Status Config::SetParam(const Param& p, std::string_view v, bool startup) {
  switch (p.kind) {
    case Kind::kBool: {
      bool b;
      if (!ParseYesNo(v, &b)) return Status::InvalidArgument("argument must be 'yes' or 'no'");
      if (p.check_num != nullptr) {
        if (const char* err = p.check_num(b)) return Status::InvalidArgument(err);
      }
      Num(p).store(b ? 1 : 0);
      return Status::OK();
    }
    case Kind::kEnum: {
      std::string l = AsciiLower(v);
      for (const EnumValue* e = p.enums; e->name != nullptr; e++) {
        if (l == e->name) {
          Num(p).store(e->value);
          return Status::OK();
        }
      }
      std::string err = "argument(s) must be one of the following: ";
      for (const EnumValue* e = p.enums; e->name != nullptr; e++) {
        if (e != p.enums) err += ", ";
        err += e->name;
      }
      return Status::InvalidArgument(err);
    }
    case Kind::kInt: {
      int64_t x = 0;
      std::string s(v);
      bool ok;
      bool overflow = false;
      if (p.flags & kMemory) {
        ok = ParseMemory(v, &x);
        // As Redis's memtoull: no digits is 0, and too many saturate (then fail the range).
        if (!ok && v.empty()) ok = true, x = 0;
        if (!ok && v.find_first_not_of("0123456789") == std::string_view::npos) {
          ok = overflow = true;
        }
      } else if (p.flags & kOctal) {
        long long o = 0;
        ok = !s.empty() && StrToLL(s, &o, 8);
        x = o;
      } else {
        ok = ParseInt64(v, &x);
      }
      if (!ok) {
        return Status::InvalidArgument((p.flags & kMemory) ? "argument must be a memory value"
                                       : (p.flags & kOctal)
                                           ? "argument couldn't be parsed as an octal number"
                                           : "argument couldn't be parsed into an integer");
      }
      if (overflow || x < p.min || x > p.max) {
        bool octal = (p.flags & kOctal) != 0;
        return Status::InvalidArgument(
            "argument must be between " + (octal ? FormatOctal(p.min) : std::to_string(p.min)) +
            " and " + (octal ? FormatOctal(p.max) : std::to_string(p.max)) + " inclusive");
      }
      if (p.check_num != nullptr) {
        if (const char* err = p.check_num(x)) return Status::InvalidArgument(err);
      }
      Num(p).store(x);
      return Status::OK();
    }
    case Kind::kString: {
      if (p.check_str != nullptr) {
        if (const char* err = p.check_str(v)) return Status::InvalidArgument(err);
      }
      MutexLock l(mu_);
      Str(p) = std::string(v);
      return Status::OK();
    }
    case Kind::kSpecial:
      return p.set(*this, p, v, startup);
  }
  return Status::OK();
}

std::string Config::GetParam(const Param& p) const {
  switch (p.kind) {
    case Kind::kBool:
      return Num(p).load() ? "yes" : "no";
    case Kind::kEnum:
      return EnumName(p.enums, Num(p).load());
    case Kind::kInt:
      return (p.flags & kOctal) ? FormatOctal(Num(p).load()) : std::to_string(Num(p).load());
    case Kind::kString: {
      MutexLock l(mu_);
      return Str(p);
    }
    case Kind::kSpecial:
      return p.get(*this, p);
  }
  return "";
}

Status Config::Set(std::string_view name, std::string_view value, bool from_config_set) {
  const Param* p = FindParam(name);
  if (p == nullptr) return Status::NotFound(std::string(name));
  if (from_config_set && (p->flags & kImmutable)) {
    // What Redis can change while running and FDB cannot (its listener, log and data
    // directory) may still be "set" to the value it has: tools that write back what CONFIG GET
    // read (Redis's own test suite does) see no difference.
    const std::string_view n = p->name;
    if ((n == "appendonly" || n == "dir" || n == "compression") && value == GetParam(*p)) {
      return Status::OK();
    }
    return Status::InvalidArgument("can't set immutable config");
  }
  Status s = SetParam(*p, value, !from_config_set);
  if (s.ok() && !from_config_set) given_[p->row] = true;
  return s;
}

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (pattern.find_first_of("*?[") == std::string_view::npos) {
    // An exact name, as Redis: hidden parameters too, reported under the name asked for.
    const Param* p = FindParam(pattern);
    if (p != nullptr && !(p->flags & kNotReported)) out.emplace_back(pattern, GetParam(*p));
    return out;
  }
  for (const Param& p : Table()) {
    if (p.flags & (kHidden | kNotReported)) continue;
    if (GlobMatch(pattern, p.name, true)) out.emplace_back(p.name, GetParam(p));
    if (p.alias != nullptr && GlobMatch(pattern, p.alias, true)) {
      out.emplace_back(p.alias, GetParam(p));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Command line and config file.

Status Config::ParseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--") {
      if (i == 1 && !a.empty() && a[0] != '-') {  // `fdb-server fdb.conf` as redis-server
        Status s = LoadFile(std::string(a));
        if (!s.ok()) return s;
        continue;
      }
      return Status::InvalidArgument("unexpected argument '" + std::string(a) + "'");
    }
    std::string name(a.substr(2));
    if (name == "config") {
      if (i + 1 >= argc) return Status::InvalidArgument("--config needs a file");
      Status s = LoadFile(argv[++i]);
      if (!s.ok()) return s;
      continue;
    }
    // A parameter takes the words up to the next `--flag` (so `--save ""` and `--save "3600 1"`
    // both work, as in redis-server).
    std::string value;
    int j = i + 1;
    bool first = true;
    while (j < argc && std::string_view(argv[j]).substr(0, 2) != "--") {
      if (!first) value += ' ';
      value += argv[j];
      first = false;
      j++;
    }
    // As redis-server, a bare `--save` (nothing before the next flag) is `save ""`.
    if (j == i + 1 && name != "save") {
      return Status::InvalidArgument("missing value for --" + name);
    }
    if (name == "fsync") name = "appendfsync";
    for (char& c : name) c = c == '_' ? '-' : c;  // --cache_size as --cache-size
    if (name == "user") {                         // ACL users, as `user` lines (commands/acl.h)
      acl_user_lines.push_back(value);
      i = j - 1;
      continue;
    }
    Status s = Set(name, value, false);
    if (!s.ok()) {
      if (s.code() == Status::kNotFound) {
        return Status::InvalidArgument("unknown option --" + name);
      }
      return Status::InvalidArgument("bad value for --" + name + ": " + s.message());
    }
    i = j - 1;
  }
  return Status::OK();
}

Status Config::LoadFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  config_file = ec ? path : abs.lexically_normal().string();
  return LoadFileAt(path, 0);
}

Status Config::LoadFileAt(const std::string& path, int depth) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open config file '" + path + "'");
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& name, const std::string& msg) {
    return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": '" + name +
                                   "': " + msg);
  };
  while (std::getline(in, line)) {
    lineno++;
    // As Redis: a comment is a line whose first non-blank character is `#`, whatever follows
    // (quotes included).
    size_t first = line.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || line[first] == '#') continue;
    std::vector<std::string> words;
    if (!SplitInlineArgs(line, &words)) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": unbalanced quotes");
    }
    if (words.empty() || words[0][0] == '#') continue;
    std::string name = AsciiLower(words[0]);
    if (name == "fsync") name = "appendfsync";
    const Param* p = FindParam(name);
    if (p == nullptr) {
      // Redis's directives that are not parameters.
      if (name == "include" && words.size() == 2) {
        if (depth >= limits::kConfigIncludeDepthMax) {
          return fail(name, "includes nested too deeply");
        }
        const std::string& inc = words[1];
        if (inc.find_first_of("*?[") == std::string::npos) {
          Status s = LoadFileAt(inc, depth + 1);
          if (!s.ok()) return s;
          continue;
        }
        // A glob that matches nothing is fine (an empty conf.d), as Redis.
        glob_t g;
        if (glob(inc.c_str(), 0, nullptr, &g) == 0) {
          for (size_t k = 0; k < g.gl_pathc; k++) {
            Status s = LoadFileAt(g.gl_pathv[k], depth + 1);
            if (!s.ok()) {
              globfree(&g);
              return s;
            }
          }
          globfree(&g);
        }
        continue;
      }
      // Deprecated in Redis and ignored by it.
      if ((name == "list-max-ziplist-entries" || name == "list-max-ziplist-value" ||
           name == "lua-replicate-commands") &&
          words.size() == 2) {
        continue;
      }
      // Ignoring these would leave a server more open (renamed or ACL-restricted commands,
      // users) or missing what a module provides than its configuration says.
      if (name == "user" && words.size() >= 2) {  // ACL users (commands/acl.h)
        std::string line;
        for (size_t k = 1; k < words.size(); k++) line += (k > 1 ? " " : "") + words[k];
        acl_user_lines.push_back(std::move(line));
        continue;
      }
      if (name == "rename-command" || name == "user" || name == "loadmodule" ||
          name == "sentinel" || name.find('.') != std::string::npos) {
        return fail(name, "not supported by FDB");
      }
      return fail(name, "Bad directive or wrong number of arguments");
    }
    if (!(p->flags & kMultiArg) && words.size() != 2) {
      return fail(name, "wrong number of arguments");
    }
    std::string value;
    for (size_t k = 1; k < words.size(); k++) {
      if (k > 1) value += ' ';
      value += words[k];
    }
    Status s = Set(name, value, false);
    if (!s.ok()) return fail(name, s.message());
  }
  return Status::OK();
}

std::vector<std::string> Config::StartupWarnings() const {
  std::vector<std::string> out;
  static const std::string kAtDefault =
      "parameters accepted at their default value, without effect in FDB: ";
  std::string at_default;
  const Config fresh;  // the defaults
  for (const Param& p : Table()) {
    if (!given_[p.row] || !(p.flags & kNoEffect)) continue;
    std::string v = GetParam(p);
    if (v == fresh.GetParam(p)) {
      // Several lines rather than one that the log would cut (kMaxLogMessage, base/logging.h).
      if (at_default.size() > 600) {
        out.push_back(kAtDefault + at_default);
        at_default.clear();
      }
      at_default += (at_default.empty() ? "" : ", ") + std::string(p.name);
    } else {
      out.push_back("'" + std::string(p.name) + " " + v +
                    "' is accepted but has no effect in FDB (docs/compatibility.md)");
    }
  }
  if (!at_default.empty()) out.push_back(kAtDefault + at_default);
  if (daemonize()) {
    out.push_back("'daemonize yes' does not apply: fdb-server stays in the foreground");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CONFIG REWRITE.

void Config::RewriteParam(const Param& p, RewriteState& st) const {
  const std::string name = p.name;
  switch (p.kind) {
    case Kind::kBool: {
      int64_t v = Num(p).load();
      st.Line(name, name + (v ? " yes" : " no"), v != p.def);
      return;
    }
    case Kind::kEnum: {
      int64_t v = Num(p).load();
      st.Line(name, name + " " + EnumName(p.enums, v), v != p.def);
      return;
    }
    case Kind::kInt: {
      int64_t v = Num(p).load();
      std::string text = (p.flags & kMemory)  ? FormatMemory(v)
                         : (p.flags & kOctal) ? FormatOctal(v)
                                              : std::to_string(v);
      st.Line(name, name + " " + text, v != p.def);
      return;
    }
    case Kind::kString: {
      std::string v;
      {
        MutexLock l(mu_);
        v = Str(p);
      }
      if (name == "bind") {
        // As Redis: the addresses unquoted, nothing when at the default.
        if (v == p.def_str) {
          st.MarkProcessed(name);
        } else {
          st.Line(name, name + " " + (v.empty() ? "\"\"" : v), true);
        }
        return;
      }
      if (name == "dir") {
        st.Line(name, name + " " + Repr(v), true);  // as Redis: always written
        return;
      }
      st.String(name, v, p.def_str, (p.flags & kEmptyIsNull) != 0);
      return;
    }
    case Kind::kSpecial:
      p.rewrite(*this, p, st);
      return;
  }
}

Status Config::Rewrite(const std::vector<std::string>* users) const {
  if (config_file.empty())
    return Status::InvalidArgument("The server is running without a config file");
  // Step 1: the old file (a missing one is an empty one), each line kept, each parameter's
  // lines noted under its own name (aliases and `slave` spellings too).
  RewriteState st;
  {
    std::ifstream in(config_file);
    if (!in && errno != ENOENT) {
      return Status::IOError(strerror(errno));
    }
    std::string line;
    while (in && std::getline(in, line)) {
      size_t b = line.find_first_not_of(" \t\r\n");
      size_t e = line.find_last_not_of(" \t\r\n");
      line = b == std::string::npos ? std::string() : line.substr(b, e - b + 1);
      if (line.empty() || line[0] == '#') {
        if (st.needs_signature && line == RewriteState::kSignature) st.needs_signature = false;
        st.lines.push_back(line);
        continue;
      }
      std::vector<std::string> words;
      const Param* p = nullptr;
      if (SplitInlineArgs(line, &words) && !words.empty()) p = FindParam(words[0]);
      if (p == nullptr && !words.empty() && words[0] == "user") {
        st.lines.push_back(line);
        st.option_lines["user"].push_back(st.lines.size() - 1);
        continue;
      }
      if (p == nullptr) {
        // Unparsable, or not a parameter (include, a removed option): kept as a comment, as
        // Redis does.
        st.lines.push_back("# ??? " + line);
        continue;
      }
      st.lines.push_back(line);
      std::string option = p->name;
      if (p->flags & kNotReported) option = "io-threads";
      st.option_lines[option].push_back(st.lines.size() - 1);
    }
  }
  // Step 2: every parameter under its own name, replacing or appending.
  for (const Param& p : Table()) {
    if (p.flags & kNotReported) continue;
    RewriteParam(p, st);
  }
  // ACL users, as Redis's rewriteConfigUserOption: one `user` line per user.
  if (users != nullptr) {
    std::string text;
    for (const std::string& u : *users) text += (text.empty() ? "" : "\n") + u;
    auto it = st.option_lines.find("user");
    if (it != st.option_lines.end() && !it->second.empty()) {
      for (size_t n : it->second) st.lines[n].clear();
      st.lines[it->second[0]] = text;
    } else if (!text.empty()) {
      st.lines.push_back(text);
    }
  }
  // Step 3: lines of handled parameters that no value used any more are blanked.
  for (const auto& [option, nums] : st.option_lines) {
    if (st.rewritten.count(option) == 0) continue;
    for (size_t n : nums) st.lines[n].clear();
  }
  // Step 4: the content, each run of empty lines made one, written to a temporary file that
  // replaces the old one by rename, so a crash leaves the old file or the new one.
  std::string content;
  bool was_empty = false;
  for (const std::string& l : st.lines) {
    if (l.empty()) {
      if (was_empty) continue;
      was_empty = true;
    } else {
      was_empty = false;
    }
    content += l;
    content += '\n';
  }
  std::string tmp = config_file + ".XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::IOError(strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::IOError(strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  mode_t mask = umask(0);
  umask(mask);
  if (fsync(fd) != 0 || fchmod(fd, 0644 & ~mask) != 0 ||
      rename(tmp.c_str(), config_file.c_str()) != 0) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return Status::IOError(strerror(err));
  }
  close(fd);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// The table as --help and --print-config show it (server/config_help.h).

namespace {

// A value as a config file line holds it: quoted when it is empty or would not read back as one
// word (a several-word parameter takes its words as they are).
std::string FileValue(std::string_view v, bool multi_arg) {
  if (v.empty()) return "\"\"";
  if (multi_arg) return std::string(v);
  for (unsigned char c : v) {
    if (!std::isgraph(c) || c == '"' || c == '\'' || c == '\\') return Repr(v);
  }
  return std::string(v);
}

}  // namespace

std::vector<Config::ParamInfo> Config::Describe() const {
  const Config fresh;  // the defaults
  std::vector<ParamInfo> out;
  for (const Param& p : Table()) {
    ParamInfo info;
    info.name = p.name;
    info.alias = p.alias != nullptr ? p.alias : "";
    info.doc = p.doc != nullptr ? p.doc : "";
    const bool multi = (p.flags & kMultiArg) != 0;
    auto value = [&](const Config& c) {
      if (p.kind == Kind::kInt && (p.flags & kMemory)) return FormatMemory(c.Num(p).load());
      return FileValue(c.GetParam(p), multi);
    };
    info.default_value = value(fresh);
    info.value = value(*this);
    // replicaof's unset value reads back as "no one", not as "" (two words are required).
    if (info.name == "replicaof" && info.default_value == "\"\"") info.default_value = "no one";
    if (info.name == "replicaof" && info.value == "\"\"") info.value = "no one";
    switch (p.kind) {
      case Kind::kBool:
        info.accepts = "yes|no";
        break;
      case Kind::kEnum:
        for (const EnumValue* e = p.enums; e->name != nullptr; e++) {
          info.accepts += (info.accepts.empty() ? "" : "|") + std::string(e->name);
        }
        break;
      case Kind::kInt:
        if (p.flags & kMemory) {
          info.accepts = "bytes (1k, 1kb, 1mb, 1gb...)";
        } else if (p.flags & kOctal) {
          info.accepts = "octal " + FormatOctal(p.min) + ".." + FormatOctal(p.max);
        } else {
          info.accepts = std::to_string(p.min) + ".." + std::to_string(p.max);
        }
        break;
      case Kind::kString:
        info.accepts = multi ? "words" : "string";
        break;
      case Kind::kSpecial:
        info.accepts = multi ? "words" : "string";
        break;
    }
    info.immutable = (p.flags & kImmutable) != 0;
    info.no_effect = (p.flags & kNoEffect) != 0;
    info.hidden = (p.flags & kHidden) != 0;
    info.reported = (p.flags & kNotReported) == 0;
    info.given = given_[p.row];
    out.push_back(std::move(info));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Getters.

int64_t Config::maxmemory_clients_bytes() const {
  int64_t v = maxmemory_clients_.load(std::memory_order_relaxed);
  if (v < 0) {
    int64_t mm = maxmemory_.load(std::memory_order_relaxed);
    // Without maxmemory a percentage of it is no limit (as Redis).
    v = mm > 0 ? static_cast<int64_t>(static_cast<double>(mm) * static_cast<double>(-v) / 100.0)
               : 0;
  }
  if (v > 0 && v < limits::kMaxMemoryClientsMin) v = limits::kMaxMemoryClientsMin;
  return v;
}

std::string Config::bind() const {
  MutexLock l(mu_);
  return bind_;
}
std::string Config::dir() const {
  MutexLock l(mu_);
  return dir_;
}
std::string Config::requirepass() const {
  MutexLock l(mu_);
  return requirepass_;
}
std::string Config::logfile() const {
  MutexLock l(mu_);
  return logfile_;
}
std::string Config::pidfile() const {
  MutexLock l(mu_);
  return pidfile_;
}
std::string Config::syslog_ident() const {
  MutexLock l(mu_);
  return syslog_ident_;
}
std::string Config::appendfsync() const { return EnumName(kAppendfsyncEnum, appendfsync_.load()); }
std::string Config::loglevel() const { return EnumName(kLoglevelEnum, loglevel_.load()); }
std::string Config::maxmemory_policy() const {
  return EnumName(kMaxmemoryPolicyEnum, maxmemory_policy_.load());
}

std::vector<BindAddress> BindAddresses(std::string_view bind) {
  std::vector<BindAddress> out;
  for (std::string& w : SplitSpaces(bind)) {
    if (w.empty()) continue;
    BindAddress a;
    a.optional = w[0] == '-';
    a.addr = a.optional ? w.substr(1) : std::move(w);
    if (!a.addr.empty()) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace fdb
