#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/glob.h"
#include "base/limits.h"
#include "base/numbers.h"
#include "protocol/resp_parser.h"

namespace fdb {

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool ParseYesNo(std::string_view v, bool* out) {
  std::string l = Lower(v);
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

}  // namespace

bool ParseMemory(std::string_view s, int64_t* out) {
  std::string l = Lower(s);
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

namespace {

template <class T>
std::function<Status(Config&, std::string_view)> IntSetter(const char* name,
                                                           std::atomic<T> Config::*field,
                                                           int64_t min, int64_t max, bool memory) {
  return [=](Config& c, std::string_view v) -> Status {
    int64_t x;
    bool ok = memory ? ParseMemory(v, &x) : ParseInt64(v, &x);
    if (!ok) {
      return Status::InvalidArgument(memory ? "argument must be a memory value"
                                            : "argument couldn't be parsed into an integer");
    }
    if (x < min || x > max) {
      return Status::InvalidArgument("argument must be between " + std::to_string(min) + " and " +
                                     std::to_string(max) + " inclusive");
    }
    (c.*field).store(static_cast<T>(x));
    return Status::OK();
  };
}

// The setter of an enable-*-command / enable-protected-configs parameter (Redis's
// protected_action_enum).
std::function<Status(Config&, std::string_view)> ProtectedActionSetter(
    std::atomic<ProtectedAction> Config::*field) {
  return [=](Config& c, std::string_view v) -> Status {
    std::string l = Lower(v);
    ProtectedAction a;
    if (l == "no") {
      a = ProtectedAction::kNo;
    } else if (l == "yes") {
      a = ProtectedAction::kYes;
    } else if (l == "local") {
      a = ProtectedAction::kLocal;
    } else {
      return Status::InvalidArgument("argument(s) must be one of the following: no, yes, local");
    }
    (c.*field).store(a);
    return Status::OK();
  };
}

std::function<std::string(const Config&)> ProtectedActionGetter(
    std::atomic<ProtectedAction> Config::*field) {
  return [=](const Config& c) -> std::string {
    switch ((c.*field).load()) {
      case ProtectedAction::kYes:
        return "yes";
      case ProtectedAction::kLocal:
        return "local";
      case ProtectedAction::kNo:
        break;
    }
    return "no";
  };
}

}  // namespace

Config::Config()
    : proto_max_bulk_len_(limits::kProtoMaxBulkLenDefault),
      query_buffer_limit_(limits::kQueryBufferLimitDefault),
      maxclients_(limits::kMaxClientsDefault),
      obuf_hard_{limits::kOutputBufferHardLimitDefault, limits::kReplicaOutputHardDefault,
                 limits::kPubsubOutputHardDefault},
      obuf_soft_{0, limits::kReplicaOutputSoftDefault, limits::kPubsubOutputSoftDefault},
      obuf_soft_seconds_{0, limits::kReplicaOutputSoftSecondsDefault,
                         limits::kPubsubOutputSoftSecondsDefault} {
  auto str_get = [](std::string Config::*f) {
    return [f](const Config& c) {
      MutexLock l(c.mu_);
      return c.*f;
    };
  };
  auto str_set = [](std::string Config::*f) {
    return [f](Config& c, std::string_view v) {
      MutexLock l(c.mu_);
      c.*f = std::string(v);
      return Status::OK();
    };
  };
  auto int_get = [](auto f) {
    return [f](const Config& c) { return std::to_string((c.*f).load()); };
  };
  params_ = {
      {"bind", false, str_get(&Config::bind_), str_set(&Config::bind_)},
      {"port", false, int_get(&Config::port_), IntSetter("port", &Config::port_, 0, 65535, false)},
      // Protected in Redis (a client that can move `dir` can make the server write files where
      // it likes); in FDB also immutable, since the open log and its LOCK stay where they are.
      {"dir", false, str_get(&Config::dir_), str_set(&Config::dir_), /*protected_config=*/true},
      {"io-threads", false, int_get(&Config::threads_),
       IntSetter("io-threads", &Config::threads_, 0, 128, false)},
      {"threads", false, int_get(&Config::threads_),
       IntSetter("threads", &Config::threads_, 0, 128, false)},
      {"maxclients", true, int_get(&Config::maxclients_),
       IntSetter("maxclients", &Config::maxclients_, 1, 1000000, false)},
      {"proto-max-bulk-len", true, int_get(&Config::proto_max_bulk_len_),
       IntSetter("proto-max-bulk-len", &Config::proto_max_bulk_len_, 1024 * 1024, INT64_MAX, true)},
      {"client-query-buffer-limit", true, int_get(&Config::query_buffer_limit_),
       IntSetter("client-query-buffer-limit", &Config::query_buffer_limit_, 1024 * 1024, INT64_MAX,
                 true)},
      {"client-output-buffer-limit", true,
       [](const Config& c) {
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
       [](Config& c, std::string_view v) {
         // Redis's syntax: groups of `<class> <hard> <soft> <soft-seconds>`, any subset of
         // the classes; all groups are checked before any is applied.
         std::vector<std::string> w;
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
           std::string cls = Lower(w[i]);
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
                 "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
           }
           groups.push_back(g);
         }
         for (const Group& g : groups) {
           c.obuf_hard_[g.cls].store(g.hard);
           c.obuf_soft_[g.cls].store(g.soft);
           c.obuf_soft_seconds_[g.cls].store(g.secs);
         }
         return Status::OK();
       }},
      {"maxmemory-clients", true,
       [](const Config& c) {
         int64_t v = c.maxmemory_clients_.load();
         return v < 0 ? std::to_string(-v) + "%" : std::to_string(v);
       },
       [](Config& c, std::string_view v) {
         // As Redis: bytes (with the memory units), or a percentage of maxmemory ("10%").
         int64_t x;
         if (!v.empty() && v.back() == '%') {
           if (!ParseInt64(v.substr(0, v.size() - 1), &x) || x < 0 || x > 100) {
             return Status::InvalidArgument("argument must be a memory or percent value");
           }
           c.maxmemory_clients_.store(-x);
           return Status::OK();
         }
         if (!ParseMemory(v, &x)) {
           return Status::InvalidArgument("argument must be a memory or percent value");
         }
         c.maxmemory_clients_.store(x);
         return Status::OK();
       }},
      {"maxmemory", true, int_get(&Config::maxmemory_),
       IntSetter("maxmemory", &Config::maxmemory_, 0, INT64_MAX, true)},
      {"maxmemory-samples", true, int_get(&Config::maxmemory_samples_),
       IntSetter("maxmemory-samples", &Config::maxmemory_samples_, 1, 64, false)},
      {"maxmemory-eviction-tenacity", true, int_get(&Config::maxmemory_eviction_tenacity_),
       IntSetter("maxmemory-eviction-tenacity", &Config::maxmemory_eviction_tenacity_, 0, 100,
                 false)},
      {"lfu-log-factor", true, int_get(&Config::lfu_log_factor_),
       IntSetter("lfu-log-factor", &Config::lfu_log_factor_, 0, INT32_MAX, false)},
      {"lfu-decay-time", true, int_get(&Config::lfu_decay_time_),
       IntSetter("lfu-decay-time", &Config::lfu_decay_time_, 0, INT32_MAX, false)},
      {"maxmemory-policy", true, str_get(&Config::maxmemory_policy_),
       [](Config& c, std::string_view v) {
         static const char* kPolicies[] = {"noeviction",      "allkeys-lru",  "volatile-lru",
                                           "allkeys-lfu",     "volatile-lfu", "allkeys-random",
                                           "volatile-random", "volatile-ttl"};
         std::string l = Lower(v);
         for (const char* p : kPolicies) {
           if (l == p) {
             MutexLock g(c.mu_);
             c.maxmemory_policy_ = l;
             return Status::OK();
           }
         }
         return Status::InvalidArgument(
             "argument(s) must be one of the following: noeviction, "
             "allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, "
             "allkeys-random, volatile-random, volatile-ttl");
       }},
      {"hz", true, int_get(&Config::hz_), IntSetter("hz", &Config::hz_, 1, 500, false)},
      {"timeout", true, int_get(&Config::timeout_),
       IntSetter("timeout", &Config::timeout_, 0, INT32_MAX, false)},
      {"tcp-keepalive", true, int_get(&Config::tcp_keepalive_),
       IntSetter("tcp-keepalive", &Config::tcp_keepalive_, 0, INT32_MAX, false)},
      {"databases", false, int_get(&Config::databases_),
       [](Config& c, std::string_view v) {
         if (v != "16") return Status::InvalidArgument("argument must be 16 (fixed in FDB)");
         return Status::OK();
       }},
      {"requirepass", true, str_get(&Config::requirepass_),
       [](Config& c, std::string_view v) {
         MutexLock l(c.mu_);
         c.requirepass_ = std::string(v);
         c.requirepass_set_.store(!v.empty(), std::memory_order_release);
         return Status::OK();
       }},
      {"save", true, str_get(&Config::save_), str_set(&Config::save_)},
      {"cache-size", true, int_get(&Config::cache_size_),
       IntSetter("cache-size", &Config::cache_size_, 0, INT64_MAX, false)},
      {"compression", false,
       [](const Config& c) { return std::string(c.compression_.load() ? "yes" : "no"); },
       [](Config& c, std::string_view v) {
         bool b;
         if (!ParseYesNo(v, &b)) return Status::InvalidArgument("argument must be 'yes' or 'no'");
         c.compression_.store(b);
         return Status::OK();
       }},
      {"appendonly", false, str_get(&Config::appendonly_),
       [](Config& c, std::string_view v) {
         bool b;
         if (!ParseYesNo(v, &b)) return Status::InvalidArgument("argument must be 'yes' or 'no'");
         MutexLock l(c.mu_);
         c.appendonly_ = b ? "yes" : "no";
         return Status::OK();
       }},
      {"appendfsync", true, str_get(&Config::appendfsync_),
       [](Config& c, std::string_view v) {
         std::string l = Lower(v);
         if (l != "always" && l != "everysec" && l != "no") {
           return Status::InvalidArgument(
               "argument(s) must be one of the following: always, everysec, no");
         }
         MutexLock g(c.mu_);
         c.appendfsync_ = l;
         return Status::OK();
       }},
      {"loglevel", true, str_get(&Config::loglevel_),
       [](Config& c, std::string_view v) {
         std::string l = Lower(v);
         if (l != "debug" && l != "verbose" && l != "notice" && l != "warning" && l != "nothing") {
           return Status::InvalidArgument(
               "argument(s) must be one of the following: debug, "
               "verbose, notice, warning, nothing");
         }
         MutexLock g(c.mu_);
         c.loglevel_ = l;
         return Status::OK();
       }},
      {"logfile", false, str_get(&Config::logfile_), str_set(&Config::logfile_)},
      {"enable-debug-command", false, ProtectedActionGetter(&Config::enable_debug_command_),
       ProtectedActionSetter(&Config::enable_debug_command_)},
      {"enable-protected-configs", false, ProtectedActionGetter(&Config::enable_protected_configs_),
       ProtectedActionSetter(&Config::enable_protected_configs_)},
      {"enable-module-command", false, ProtectedActionGetter(&Config::enable_module_command_),
       ProtectedActionSetter(&Config::enable_module_command_)},
      {"daemonize", false, [](const Config&) { return std::string("no"); },
       [](Config&, std::string_view v) {
         if (Lower(v) != "no") return Status::InvalidArgument("FDB does not daemonize");
         return Status::OK();
       }},
  };
}

const Config::Param* Config::FindParam(std::string_view name) const {
  std::string l = Lower(name);
  for (const auto& p : params_) {
    if (l == p.name) return &p;
  }
  return nullptr;
}

bool Config::Known(std::string_view name) const { return FindParam(name) != nullptr; }

bool Config::IsProtected(std::string_view name) const {
  const Param* p = FindParam(name);
  return p != nullptr && p->protected_config;
}

Status Config::Set(std::string_view name, std::string_view value, bool from_config_set) {
  const Param* p = FindParam(name);
  if (p == nullptr) return Status::NotFound(std::string(name));
  if (from_config_set && !p->settable) {
    return Status::InvalidArgument("can't set immutable config");
  }
  return p->set(*this, value);
}

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : params_) {
    if (std::string_view(p.name) == "threads") continue;  // alias of io-threads
    if (GlobMatch(pattern, p.name, true)) out.emplace_back(p.name, p.get(*this));
  }
  return out;
}

Status Config::ParseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--") {
      if (i == 1 && !a.empty() && a[0] != '-') {  // `fdb-server fdb.conf` as redis-server
        config_file = std::string(a);
        Status s = LoadFile(config_file);
        if (!s.ok()) return s;
        continue;
      }
      return Status::InvalidArgument("unexpected argument '" + std::string(a) + "'");
    }
    std::string name(a.substr(2));
    if (name == "config") {
      if (i + 1 >= argc) return Status::InvalidArgument("--config needs a file");
      config_file = argv[++i];
      Status s = LoadFile(config_file);
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
    if (j == i + 1) return Status::InvalidArgument("missing value for --" + name);
    if (name == "fsync") name = "appendfsync";
    for (char& c : name) c = c == '_' ? '-' : c;  // --cache_size as --cache-size
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
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open config file '" + path + "'");
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    std::vector<std::string> words;
    if (!SplitInlineArgs(line, &words)) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": unbalanced quotes");
    }
    if (words.empty() || words[0][0] == '#') continue;
    std::string value;
    for (size_t k = 1; k < words.size(); k++) {
      if (k > 1) value += ' ';
      value += words[k];
    }
    std::string name = words[0];
    if (name == "fsync") name = "appendfsync";
    Status s = Set(name, value, false);
    if (!s.ok()) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": '" + name +
                                     "': " + s.message());
    }
  }
  return Status::OK();
}

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
std::string Config::appendfsync() const {
  MutexLock l(mu_);
  return appendfsync_;
}
std::string Config::loglevel() const {
  MutexLock l(mu_);
  return loglevel_;
}
std::string Config::logfile() const {
  MutexLock l(mu_);
  return logfile_;
}
bool Config::persistence() const {
  MutexLock l(mu_);
  return appendonly_ == "yes";
}
std::string Config::maxmemory_policy() const {
  MutexLock l(mu_);
  return maxmemory_policy_;
}

}  // namespace fdb
