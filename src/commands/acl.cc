#include "commands/acl.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "base/ascii.h"
#include "base/clock.h"
#include "base/glob.h"
#include "base/logging.h"
#include "base/numbers.h"
#include "commands/server_context.h"
#include "protocol/reply_builder.h"
#include "server/client_state.h"

namespace fdb {

namespace {

std::string Sha256Hex(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  static const char* kHex = "0123456789abcdef";
  std::string out(64, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

bool ValidHash(std::string_view h) {
  if (h.size() != 64) return false;
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool Has(std::string_view name, std::initializer_list<const char*> list) {
  for (const char* n : list) {
    if (name == n) return true;
  }
  return false;
}

enum Cat : int {
  kKeyspace,
  kRead,
  kWrite,
  kSet,
  kSortedSet,
  kList,
  kHash,
  kString,
  kBitmap,
  kHyperLogLog,
  kGeo,
  kStream,
  kPubSub,
  kAdmin,
  kFast,
  kSlow,
  kBlocking,
  kDangerous,
  kConnection,
  kTransaction,
  kScripting,
};

int CategoryIndex(std::string_view name) {
  const auto& names = AclCategoryNames();
  for (size_t i = 0; i < names.size(); i++) {
    if (names[i] == AsciiLower(name)) return static_cast<int>(i);
  }
  return -1;
}

// Which of a call's keys must be readable and/or writable, after Redis 7.0's key specs: a key
// the command reads data from (ACCESS) needs read permission, one it changes (INSERT, UPDATE,
// DELETE) write permission, and one it only tests (EXISTS, TYPE, the cardinalities) either.
// Returns kAclKeyRead | kAclKeyWrite bits; 0 = either suffices.
uint8_t KeyNeed(const CommandSpec& spec, CmdArgs args, size_t pos, size_t nth, size_t count) {
  std::string_view n = spec.name;
  constexpr uint8_t R = kAclKeyRead, W = kAclKeyWrite, RW = R | W;
  const bool first = nth == 0;
  const bool last = nth + 1 == count;
  // Existence tests and cardinalities.
  if (Has(n, {"exists",
              "touch",
              "type",
              "strlen",
              "hlen",
              "llen",
              "scard",
              "zcard",
              "xlen",
              "hexists",
              "hstrlen",
              "sismember",
              "smismember",
              "memory|usage",
              "ttl",
              "pttl",
              "expiretime",
              "pexpiretime",
              "object|encoding",
              "object|freq",
              "object|idletime",
              "object|refcount"})) {
    return 0;
  }
  if (n == "set") {
    for (size_t i = 3; i < args.size(); i++) {
      if (args[i].size() == 3 && AsciiLower(args[i]) == "get") return RW;
    }
    return W;
  }
  if (n == "bitfield") {
    for (size_t i = 2; i < args.size(); i++) {
      std::string a = AsciiLower(args[i]);
      if (a == "set" || a == "incrby") return RW;
    }
    return R;
  }
  if (n == "copy") return first ? R : W;
  if (Has(n, {"rename", "renamenx", "lmove", "rpoplpush", "blmove", "brpoplpush", "smove"})) {
    return first ? RW : W;
  }
  if (Has(n, {"sinterstore", "sunionstore", "sdiffstore", "zrangestore", "bitop"})) {
    // The destination is the first key (BITOP's too, after the operation).
    return first ? W : R;
  }
  if (Has(n, {"zunionstore", "zinterstore", "zdiffstore", "geosearchstore"})) {
    return first ? W : R;
  }
  if (n == "pfmerge") return first ? RW : R;
  if (Has(n, {"sort", "georadius", "georadiusbymember"})) {
    // The source first; a STORE / STOREDIST destination after it.
    return first ? R : W;
  }
  (void)pos;
  (void)last;
  if (Has(n, {"eval",   "evalsha",    "fcall",        "migrate",        "incr",     "decr",
              "incrby", "decrby",     "incrbyfloat",  "getset",         "getdel",   "getex",
              "lpop",   "rpop",       "spop",         "zpopmin",        "zpopmax",  "lmpop",
              "zmpop",  "blpop",      "brpop",        "blmpop",         "bzpopmin", "bzpopmax",
              "bzmpop", "hincrby",    "hincrbyfloat", "zincrby",        "setbit",   "xreadgroup",
              "xclaim", "xautoclaim", "move",         "restore-asking", "xsetid"})) {
    return RW;
  }
  if (spec.flags & cmdflags::kWrite) return W;
  return R;
}

bool KeyAllowed(const AclSelector& s, std::string_view key, uint8_t need) {
  if (s.all_keys) return true;
  for (const auto& [pattern, flags] : s.keys) {
    if (need == 0 ? flags != 0 : (flags & need) == need) {
      if (GlobMatch(pattern, key)) return true;
    }
  }
  return false;
}

bool ChannelAllowed(const AclSelector& s, std::string_view channel, bool is_pattern) {
  if (s.all_channels) return true;
  for (const std::string& p : s.channels) {
    if (is_pattern ? p == channel : GlobMatch(p, channel)) return true;
  }
  return false;
}

// The channel arguments of a call: (first index, is pattern); first = 0 when none.
std::pair<size_t, bool> ChannelArgs(const CommandSpec& spec, size_t* last, size_t argc) {
  std::string_view n = spec.name;
  if (n == "publish" || n == "spublish") {
    *last = 1;
    return {1, false};
  }
  if (n == "subscribe" || n == "ssubscribe") {
    *last = argc - 1;
    return {1, false};
  }
  if (n == "psubscribe") {
    *last = argc - 1;
    return {1, true};
  }
  return {0, false};
}

AclSelector NewSelector(size_t nspecs, bool all_channels) {
  AclSelector s;
  s.allowed.assign((nspecs + 63) / 64, 0);
  s.all_channels = all_channels;
  return s;
}

void SetBit(AclSelector& s, int id, bool on, bool* changed) {
  uint64_t& w = s.allowed[id / 64];
  uint64_t bit = uint64_t{1} << (id % 64);
  if (((w & bit) != 0) != on) *changed = true;
  if (on) {
    w |= bit;
  } else {
    w &= ~bit;
  }
  if (s.first.erase(id) > 0) *changed = true;
}

// Drops the recorded rules for `cmd` (and for its subcommands when `with_subs`).
void DropRules(std::string& rules, std::string_view cmd, bool with_subs) {
  std::istringstream in(rules);
  std::string r, out;
  while (in >> r) {
    std::string_view body = std::string_view(r).substr(1);
    bool same = body == cmd || (with_subs && body.size() > cmd.size() &&
                                body.substr(0, cmd.size()) == cmd && body[cmd.size()] == '|');
    if (r[1] == '@' || !same) {
      if (!out.empty()) out += ' ';
      out += r;
    }
  }
  rules = out;
}

void AddRule(std::string& rules, std::string_view rule) {
  if (!rules.empty()) rules += ' ';
  rules += rule;
}

// Applies one selector rule. Returns Redis's error text, or empty.
std::string ApplySelectorRule(AclSelector& s, std::string_view op) {
  const CommandRegistry& reg = CommandRegistry::Default();
  std::string lop = AsciiLower(op);
  if (lop == "allkeys" || op == "~*") {
    s.all_keys = true;
    s.keys.clear();
    return "";
  }
  if (lop == "resetkeys") {
    s.all_keys = false;
    s.keys.clear();
    return "";
  }
  if (lop == "allchannels" || op == "&*") {
    s.all_channels = true;
    s.channels.clear();
    return "";
  }
  if (lop == "resetchannels") {
    s.all_channels = false;
    s.channels.clear();
    return "";
  }
  if (lop == "allcommands" || lop == "+@all") {
    for (auto& w : s.allowed) w = ~uint64_t{0};
    s.first.clear();
    s.all_commands = true;
    s.rules.clear();
    return "";
  }
  if (lop == "nocommands" || lop == "-@all") {
    for (auto& w : s.allowed) w = 0;
    s.first.clear();
    s.all_commands = false;
    s.rules.clear();
    return "";
  }
  if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    uint8_t flags = 0;
    size_t at = 0;
    if (op[0] == '%') {
      for (at = 1; at < op.size() && op[at] != '~'; at++) {
        if (op[at] == 'R') {
          flags |= kAclKeyRead;
        } else if (op[at] == 'W') {
          flags |= kAclKeyWrite;
        } else {
          return "Syntax error";
        }
      }
      if (at >= op.size() || flags == 0) return "Syntax error";
    } else {
      flags = kAclKeyRead | kAclKeyWrite;
    }
    std::string pattern(op.substr(at + 1));
    if (s.all_keys) {
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
             "does not have any effect. Try 'resetkeys' to start with an empty list of "
             "patterns";
    }
    if (pattern == "*" && flags == (kAclKeyRead | kAclKeyWrite)) {
      s.all_keys = true;
      s.keys.clear();
      return "";
    }
    for (auto& [p, f] : s.keys) {
      if (p == pattern) {
        f |= flags;
        return "";
      }
    }
    s.keys.emplace_back(std::move(pattern), flags);
    return "";
  }
  if (!op.empty() && op[0] == '&') {
    if (s.all_channels) {
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    }
    std::string ch(op.substr(1));
    if (std::find(s.channels.begin(), s.channels.end(), ch) == s.channels.end()) {
      s.channels.push_back(std::move(ch));
    }
    return "";
  }
  if (op.size() >= 2 && (op[0] == '+' || op[0] == '-')) {
    const bool on = op[0] == '+';
    bool changed = false;
    if (op[1] == '@') {
      int cat = CategoryIndex(op.substr(2));
      if (cat < 0) return "Unknown command or category name in ACL";
      for (const CommandSpec& spec : reg.all()) {
        if (AclCategoriesOf(spec) & (uint64_t{1} << cat)) SetBit(s, spec.id, on, &changed);
      }
      AddRule(s.rules, AsciiLower(op));
      return "";
    }
    std::string body = AsciiLower(op.substr(1));
    size_t bar = body.find('|');
    const CommandSpec* cmd = reg.Find(std::string_view(body).substr(0, bar));
    if (cmd == nullptr) return "Unknown command or category name in ACL";
    if (bar == std::string::npos) {
      SetBit(s, cmd->id, on, &changed);
      for (const CommandSpec* sub : cmd->subcommands) SetBit(s, sub->id, on, &changed);
      if (!changed) return "";
      DropRules(s.rules, body, true);
      AddRule(s.rules, std::string(1, op[0]) + body);
      return "";
    }
    std::string rest = body.substr(bar + 1);
    if (cmd->container()) {
      size_t bar2 = rest.find('|');
      const CommandSpec* sub = reg.FindSub(*cmd, std::string_view(rest).substr(0, bar2));
      if (sub == nullptr) return "Unknown command or category name in ACL";
      if (bar2 != std::string::npos) return "Allowing first-arg of a subcommand is not supported";
      SetBit(s, sub->id, on, &changed);
      if (!changed) return "";
      DropRules(s.rules, body, false);
      AddRule(s.rules, std::string(1, op[0]) + body);
      return "";
    }
    // A first argument of a command without subcommands (+select|0).
    if (rest.find('|') != std::string::npos || rest.empty()) {
      return "Unknown command or category name in ACL";
    }
    if (!on) return "Unknown command or category name in ACL";
    if (s.Allows(cmd->id)) return "";
    auto& firsts = s.first[cmd->id];
    if (std::find(firsts.begin(), firsts.end(), rest) == firsts.end()) firsts.push_back(rest);
    DropRules(s.rules, body, false);
    AddRule(s.rules, std::string(1, op[0]) + body);
    return "";
  }
  return "Syntax error";
}

}  // namespace

const std::vector<std::string>& AclCategoryNames() {
  static const std::vector<std::string> names = {
      "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
      "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
      "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};
  return names;
}

uint64_t AclCategoriesOf(const CommandSpec& spec) {
  auto bit = [](int c) { return uint64_t{1} << c; };
  uint64_t m = 0;
  std::string_view g = spec.group ? spec.group : "";
  std::string_view n = spec.name;
  if (g == "generic") m |= bit(kKeyspace);
  if (g == "string") m |= bit(kString);
  if (g == "list") m |= bit(kList);
  if (g == "set") m |= bit(kSet);
  if (g == "sorted-set" || g == "sorted_set") m |= bit(kSortedSet);
  if (g == "hash") m |= bit(kHash);
  if (g == "bitmap") m |= bit(kBitmap);
  if (g == "hyperloglog") m |= bit(kHyperLogLog);
  if (g == "geo") m |= bit(kGeo);
  if (g == "stream") m |= bit(kStream);
  if (g == "pubsub") m |= bit(kPubSub);
  if (g == "connection") m |= bit(kConnection);
  if (g == "transactions" || g == "transaction") m |= bit(kTransaction);
  if (g == "scripting") m |= bit(kScripting);
  if ((spec.flags & cmdflags::kReadOnly) && g != "scripting") m |= bit(kRead);
  if (spec.flags & cmdflags::kWrite) m |= bit(kWrite);
  if (spec.flags & cmdflags::kAdmin) m |= bit(kAdmin) | bit(kDangerous);
  if (spec.flags & cmdflags::kBlocking) m |= bit(kBlocking);
  m |= (spec.flags & cmdflags::kFast) ? bit(kFast) : bit(kSlow);
  if (Has(n, {"flushall",       "flushdb",          "keys",        "swapdb",      "migrate",
              "restore",        "restore-asking",   "sort",        "info",        "role",
              "client|list",    "client|kill",      "client|info", "config|get",  "config|set",
              "config|rewrite", "config|resetstat", "monitor",     "shutdown",    "save",
              "bgsave",         "bgrewriteaof",     "debug",       "slowlog|get", "slowlog|reset",
              "latency|reset"})) {
    m |= bit(kDangerous);
  }
  return m;
}

std::string AclSelector::CommandsText() const {
  std::string out = all_commands ? "+@all" : "-@all";
  if (!rules.empty()) out += " " + rules;
  return out;
}

std::string AclSelector::KeysText() const {
  if (all_keys) return "~*";
  std::string out;
  for (const auto& [p, f] : keys) {
    if (!out.empty()) out += ' ';
    if (f == kAclKeyRead) {
      out += "%R~";
    } else if (f == kAclKeyWrite) {
      out += "%W~";
    } else {
      out += "~";
    }
    out += p;
  }
  return out;
}

std::string AclSelector::ChannelsText() const {
  if (all_channels) return "&*";
  std::string out;
  for (const std::string& c : channels) {
    if (!out.empty()) out += ' ';
    out += "&" + c;
  }
  return out;
}

std::string AclSelector::Describe(bool) const {
  std::string out;
  std::string k = KeysText();
  if (!k.empty()) out += k + " ";
  if (all_channels) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    std::string c = ChannelsText();
    if (!c.empty()) out += c + " ";
  }
  out += CommandsText();
  return out;
}

// ---------------------------------------------------------------------------------------------

Acl::Acl(ServerContext& server) : server_(server) {
  default_user_ = std::make_shared<AclUser>("default");
  AclUser& d = *default_user_;
  d.on = true;
  d.nopass = true;
  AclSelector root = NewSelector(CommandRegistry::Default().size(), true);
  (void)ApplySelectorRule(root, "+@all");
  root.all_keys = true;
  d.selectors.push_back(std::move(root));
  RefreshUnrestricted(d);
  users_["default"] = default_user_;
}

void Acl::RefreshUnrestricted(AclUser& u) const {
  const AclSelector& r = u.selectors[0];
  u.unrestricted.store(u.on && r.all_commands && r.rules.empty() && r.all_keys && r.all_channels,
                       std::memory_order_release);
}

void Acl::InitClient(ClientState& c) const {
  std::shared_lock l(mu_);
  bool auth = default_user_->on && default_user_->nopass;
  SetClientUser(c, default_user_);
  c.authenticated = auth;
}

bool Acl::DefaultNoPass() const {
  std::shared_lock l(mu_);
  return default_user_->nopass;
}

void Acl::SetClientUser(ClientState& c, std::shared_ptr<AclUser> user) {
  MutexLock l(c.info_mu);
  c.user = std::move(user);
}

std::shared_ptr<AclUser> Acl::Find(std::string_view name) const {
  std::shared_lock l(mu_);
  auto it = users_.find(std::string(name));
  return it == users_.end() ? nullptr : it->second;
}

std::shared_ptr<AclUser> Acl::Authenticate(std::string_view name, std::string_view pass,
                                           const ClientState& c) {
  {
    std::shared_lock l(mu_);
    auto it = users_.find(std::string(name));
    if (it != users_.end() && it->second->on) {
      const AclUser& u = *it->second;
      if (u.nopass) return it->second;
      std::string h = Sha256Hex(pass);
      bool ok = false;
      for (const std::string& p : u.passwords) {
        // Constant time over the digests (server/auth.h).
        ok |= CRYPTO_memcmp(p.data(), h.data(), 64) == 0;
      }
      if (ok) return it->second;
    }
  }
  if (!Log(c, "auth", "toplevel", "AUTH", name)) return nullptr;
  FDB_LOG_NOTICE("ACL: failed authentication as user '%.*s' from %s",
                 static_cast<int>(std::min<size_t>(name.size(), 128)), name.data(), c.addr.c_str());
  return nullptr;
}

Status Acl::ApplyRules(AclUser& u, const std::vector<std::string>& raw, bool* channels_shrunk) {
  const size_t nspecs = CommandRegistry::Default().size();
  bool pubsub_all = false;
  for (const auto& [k, v] : server_.config().Get("acl-pubsub-default")) {
    pubsub_all = v == "allchannels";
  }
  auto fail = [](std::string_view op, std::string_view why) {
    return Status::InvalidArgument("ERR Error in ACL SETUSER modifier '" + std::string(op) +
                                   "': " + std::string(why));
  };
  // Selectors given over several arguments ("(~key5", "+get", ")") are joined first.
  std::vector<std::string> ops;
  for (size_t i = 0; i < raw.size(); i++) {
    const std::string& a = raw[i];
    if (!a.empty() && a[0] == '(' && a.back() != ')') {
      std::string joined = a;
      size_t j = i + 1;
      for (; j < raw.size(); j++) {
        joined += " " + raw[j];
        if (!raw[j].empty() && raw[j].back() == ')') break;
      }
      if (j >= raw.size()) {
        return Status::InvalidArgument("ERR Unmatched parenthesis in acl selector starting at '" +
                                       a + "'.");
      }
      ops.push_back(joined);
      i = j;
    } else {
      ops.push_back(a);
    }
  }
  const std::string old_channels = u.selectors.empty() ? "" : u.selectors[0].ChannelsText();
  const bool old_all = !u.selectors.empty() && u.selectors[0].all_channels;
  for (const std::string& op : ops) {
    std::string lop = AsciiLower(op);
    if (lop == "on") {
      u.on = true;
    } else if (lop == "off") {
      u.on = false;
    } else if (lop == "nopass") {
      u.nopass = true;
      u.passwords.clear();
    } else if (lop == "resetpass") {
      u.nopass = false;
      u.passwords.clear();
    } else if (lop == "skip-sanitize-payload" || lop == "sanitize-payload") {
      // Accepted: FDB always validates RESTORE payloads.
    } else if (lop == "clearselectors") {
      u.selectors.resize(1);
    } else if (lop == "reset") {
      u.nopass = false;
      u.passwords.clear();
      u.on = false;
      AclSelector root = NewSelector(nspecs, pubsub_all);
      u.selectors.clear();
      u.selectors.push_back(std::move(root));
    } else if (!op.empty() && (op[0] == '>' || op[0] == '#')) {
      std::string h;
      if (op[0] == '>') {
        h = Sha256Hex(std::string_view(op).substr(1));
      } else {
        h = op.substr(1);
        if (!ValidHash(h)) {
          return fail(op,
                      "The password hash must be exactly 64 characters and contain only "
                      "lowercase hexadecimal characters");
        }
      }
      if (std::find(u.passwords.begin(), u.passwords.end(), h) == u.passwords.end()) {
        u.passwords.push_back(h);
      }
      u.nopass = false;
    } else if (!op.empty() && (op[0] == '<' || op[0] == '!')) {
      std::string h;
      if (op[0] == '<') {
        h = Sha256Hex(std::string_view(op).substr(1));
      } else {
        h = op.substr(1);
        if (!ValidHash(h)) {
          return fail(op,
                      "The password hash must be exactly 64 characters and contain only "
                      "lowercase hexadecimal characters");
        }
      }
      auto it = std::find(u.passwords.begin(), u.passwords.end(), h);
      if (it == u.passwords.end()) {
        return fail(op, "The password you are trying to remove from the user does not exist");
      }
      u.passwords.erase(it);
    } else if (op.size() >= 2 && op[0] == '(' && op.back() == ')') {
      AclSelector s = NewSelector(nspecs, pubsub_all);
      std::istringstream in(op.substr(1, op.size() - 2));
      std::string sop;
      while (in >> sop) {
        std::string err = ApplySelectorRule(s, sop);
        if (!err.empty()) return fail(op, err);
      }
      u.selectors.push_back(std::move(s));
    } else {
      std::string err = ApplySelectorRule(u.selectors[0], op);
      if (!err.empty()) return fail(op, err);
    }
  }
  // Subscribers lose their connection when their channels are taken away (Redis's
  // ACLKillPubsubClientsIfNeeded): unless the new permissions keep every old pattern.
  const AclSelector& r = u.selectors[0];
  bool kept = r.all_channels;
  if (!kept && !old_all) {
    kept = true;
    std::istringstream in(old_channels);
    std::string c;
    while (in >> c) {
      if (std::find(r.channels.begin(), r.channels.end(), c.substr(1)) == r.channels.end()) {
        kept = false;
      }
    }
  }
  *channels_shrunk = !kept;
  return Status::OK();
}

Status Acl::SetUser(std::string_view name, const std::vector<std::string>& rules) {
  for (char c : name) {
    if (c == ' ' || c == '\0') {
      return Status::InvalidArgument("ERR Usernames can't contain spaces or null characters");
    }
  }
  std::shared_ptr<AclUser> target;
  bool shrunk = false;
  {
    std::unique_lock l(mu_);
    auto it = users_.find(std::string(name));
    // The rules apply to a copy: an error leaves the user as it was (and a new user absent).
    AclUser copy{std::string(name)};
    if (it != users_.end()) {
      copy.on = it->second->on;
      copy.nopass = it->second->nopass;
      copy.passwords = it->second->passwords;
      copy.selectors = it->second->selectors;
    } else {
      bool pubsub_all = false;
      for (const auto& [k, v] : server_.config().Get("acl-pubsub-default")) {
        pubsub_all = v == "allchannels";
      }
      copy.selectors.push_back(NewSelector(CommandRegistry::Default().size(), pubsub_all));
    }
    Status s = ApplyRules(copy, rules, &shrunk);
    if (!s.ok()) return s;
    if (it == users_.end()) {
      target = std::make_shared<AclUser>(std::string(name));
      users_[std::string(name)] = target;
      shrunk = false;
    } else {
      target = it->second;
    }
    target->on = copy.on;
    target->nopass = copy.nopass;
    target->passwords = std::move(copy.passwords);
    target->selectors = std::move(copy.selectors);
    RefreshUnrestricted(*target);
  }
  if (shrunk) KillClientsOf({target.get()}, /*subscribed_only=*/true);
  return Status::OK();
}

void Acl::KillClientsOf(const std::vector<const AclUser*>& users, bool subscribed_only) const {
  server_.clients().ForEach([&](ClientState& c) {
    const AclUser* u;
    {
      MutexLock l(c.info_mu);
      u = c.user.get();
    }
    if (u == nullptr || std::find(users.begin(), users.end(), u) == users.end()) return;
    if (subscribed_only &&
        c.sub_channels.load() + c.sub_patterns.load() + c.sub_shard_channels.load() == 0) {
      return;
    }
    if (c.kill_requested.exchange(true)) return;
    if (c.request_close) c.request_close();
  });
}

int Acl::DelUsers(const std::vector<std::string>& names, Status* error) {
  for (const std::string& n : names) {
    if (n == "default") {
      *error = Status::InvalidArgument("ERR The 'default' user cannot be removed");
      return 0;
    }
  }
  std::vector<std::shared_ptr<AclUser>> gone;
  {
    std::unique_lock l(mu_);
    for (const std::string& n : names) {
      auto it = users_.find(n);
      if (it == users_.end()) continue;
      gone.push_back(it->second);
      users_.erase(it);
    }
  }
  std::vector<const AclUser*> ptrs;
  for (auto& g : gone) ptrs.push_back(g.get());
  if (!ptrs.empty()) KillClientsOf(ptrs, false);
  return static_cast<int>(gone.size());
}

std::vector<std::string> Acl::UserNames() const {
  std::shared_lock l(mu_);
  std::vector<std::string> out;
  for (const auto& [n, u] : users_) out.push_back(n);
  return out;
}

std::string Acl::DescribeUser(const AclUser& u) const {
  std::string out = "user " + u.name() + (u.on ? " on" : " off");
  if (u.nopass) out += " nopass";
  for (const std::string& p : u.passwords) out += " #" + p;
  out += " " + u.selectors[0].Describe(true);
  for (size_t i = 1; i < u.selectors.size(); i++) {
    out += " (" + u.selectors[i].Describe(false) + ")";
  }
  return out;
}

std::vector<std::string> Acl::List() const {
  std::shared_lock l(mu_);
  std::vector<std::string> out;
  for (const auto& [n, u] : users_) out.push_back(DescribeUser(*u));
  return out;
}

bool Acl::ReplyGetUser(std::string_view name, ReplyBuilder& rb) const {
  std::shared_lock l(mu_);
  auto it = users_.find(std::string(name));
  if (it == users_.end()) return false;
  const AclUser& u = *it->second;
  rb.MapHeader(6);
  rb.Bulk("flags");
  std::vector<std::string> flags;
  flags.push_back(u.on ? "on" : "off");
  if (u.nopass) flags.push_back("nopass");
  rb.SetHeader(flags.size());
  for (const auto& f : flags) rb.Bulk(f);
  rb.Bulk("passwords");
  rb.ArrayHeader(u.passwords.size());
  for (const auto& p : u.passwords) rb.Bulk(p);
  const AclSelector& r = u.selectors[0];
  rb.Bulk("commands");
  rb.Bulk(r.CommandsText());
  rb.Bulk("keys");
  rb.Bulk(r.KeysText());
  rb.Bulk("channels");
  rb.Bulk(r.ChannelsText());
  rb.Bulk("selectors");
  rb.ArrayHeader(u.selectors.size() - 1);
  for (size_t i = 1; i < u.selectors.size(); i++) {
    const AclSelector& s = u.selectors[i];
    rb.MapHeader(3);
    rb.Bulk("commands");
    rb.Bulk(s.CommandsText());
    rb.Bulk("keys");
    rb.Bulk(s.KeysText());
    rb.Bulk("channels");
    rb.Bulk(s.ChannelsText());
  }
  return true;
}

AclVerdict Acl::Check(const AclUser& user, const CommandSpec& spec, CmdArgs args) const {
  std::shared_lock l(mu_);
  AclVerdict best;
  best.denial = AclDenial::kCommand;
  best.object = spec.name;
  size_t best_idx = 0;
  std::vector<size_t> keys;
  bool keys_done = false;
  for (const AclSelector& s : user.selectors) {
    bool cmd_ok = s.Allows(spec.id);
    if (!cmd_ok && !spec.container() && args.size() >= 2) {
      auto it = s.first.find(spec.id);
      if (it != s.first.end()) {
        std::string a = AsciiLower(args[1]);
        cmd_ok = std::find(it->second.begin(), it->second.end(), a) != it->second.end();
      }
    }
    if (!cmd_ok) continue;
    bool ok = true;
    if (!s.all_keys && spec.first_key > 0) {
      if (!keys_done) {
        CommandRegistry::KeyIndexes(spec, args, &keys);
        keys_done = true;
        // A numkeys past the arguments is a syntax error, not keys (EVAL "" 3 a b).
        if (spec.keys != nullptr && args.size() >= 3) {
          int64_t numkeys = 0;
          std::string_view n = spec.name;
          if ((n.substr(0, 4) == "eval" || n.substr(0, 5) == "fcall") &&
              ParseInt64(args[2], &numkeys) && numkeys > static_cast<int64_t>(args.size()) - 3) {
            keys.clear();
          }
        }
      }
      for (size_t n = 0; n < keys.size(); n++) {
        size_t i = keys[n];
        if (!KeyAllowed(s, args[i], KeyNeed(spec, args, i, n, keys.size()))) {
          if (best.denial == AclDenial::kCommand || i > best_idx) {
            best.denial = AclDenial::kKey;
            best.object = std::string(args[i]);
            best_idx = i;
          }
          ok = false;
          break;
        }
      }
    }
    if (ok && !s.all_channels) {
      size_t last = 0;
      auto [from, pattern] = ChannelArgs(spec, &last, args.size());
      for (size_t i = from; from > 0 && i <= last && i < args.size(); i++) {
        if (!ChannelAllowed(s, args[i], pattern)) {
          if (best.denial == AclDenial::kCommand || i > best_idx) {
            best.denial = AclDenial::kChannel;
            best.object = std::string(args[i]);
            best_idx = i;
          }
          ok = false;
          break;
        }
      }
    }
    if (ok) return AclVerdict{};
  }
  return best;
}

bool Acl::CanReadAllKeys(const ClientState& c) const {
  if (c.user == nullptr || c.user->unrestricted.load(std::memory_order_relaxed)) return true;
  std::shared_lock l(mu_);
  for (const AclSelector& s : c.user->selectors) {
    if (s.all_keys) return true;
    for (const auto& [p, f] : s.keys) {
      if (p == "*" && (f & kAclKeyRead)) return true;
    }
  }
  return false;
}

std::string Acl::NoPermText(const AclVerdict& v) {
  switch (v.denial) {
    case AclDenial::kCommand:
      return "NOPERM this user has no permissions to run the '" + v.object + "' command";
    case AclDenial::kKey:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    case AclDenial::kChannel:
      return "NOPERM this user has no permissions to access one of the channels used as "
             "arguments";
    case AclDenial::kNone:
      break;
  }
  return "";
}

std::string Acl::DryRunText(const AclVerdict& v) {
  switch (v.denial) {
    case AclDenial::kCommand:
      return "This user has no permissions to run the '" + v.object + "' command";
    case AclDenial::kKey:
      return "This user has no permissions to access the '" + v.object + "' key";
    case AclDenial::kChannel:
      return "This user has no permissions to access the '" + v.object + "' channel";
    case AclDenial::kNone:
      break;
  }
  return "OK";
}

// ---------------------------------------------------------------------------------------------
// ACL LOG.

bool Acl::Log(const ClientState& c, std::string_view reason, std::string_view context,
              std::string_view object, std::string_view username) {
  int64_t max_len = 128;
  for (const auto& [k, v] : server_.config().Get("acllog-max-len")) max_len = std::stoll(v);
  const int64_t now = NowMs();
  std::string info = ClientInfoString(c, now);
  std::lock_guard l(log_mu_);
  // A repeat of a recent entry (within 60 s) counts on it, as Redis.
  for (auto it = log_.begin(); it != log_.end(); ++it) {
    if (it->reason == reason && it->context == context && it->object == object &&
        it->username == username && now - it->created_ms < 60000) {
      LogEntry e = std::move(*it);
      log_.erase(it);
      e.count++;
      e.created_ms = now;
      e.client_info = std::move(info);
      log_.push_front(std::move(e));
      return false;
    }
  }
  log_.push_front(LogEntry{1, std::string(reason), std::string(context), std::string(object),
                           std::string(username), std::move(info), now});
  while (static_cast<int64_t>(log_.size()) > max_len) log_.pop_back();
  return true;
}

void Acl::ReplyLog(ReplyBuilder& rb, int64_t count) const {
  std::lock_guard l(log_mu_);
  const int64_t now = NowMs();
  size_t n = std::min<size_t>(log_.size(), static_cast<size_t>(std::max<int64_t>(count, 0)));
  rb.ArrayHeader(n);
  for (size_t i = 0; i < n; i++) {
    const LogEntry& e = log_[i];
    rb.MapHeader(7);
    rb.Bulk("count");
    rb.Integer(static_cast<int64_t>(e.count));
    rb.Bulk("reason");
    rb.Bulk(e.reason);
    rb.Bulk("context");
    rb.Bulk(e.context);
    rb.Bulk("object");
    rb.Bulk(e.object);
    rb.Bulk("username");
    rb.Bulk(e.username);
    rb.Bulk("age-seconds");
    rb.Double(static_cast<double>(now - e.created_ms) / 1000.0);
    rb.Bulk("client-info");
    rb.Bulk(e.client_info);
  }
}

void Acl::ResetLog() {
  std::lock_guard l(log_mu_);
  log_.clear();
}

// ---------------------------------------------------------------------------------------------
// Files.

namespace {

// Splits a line into words, honouring "..." and '...' quotes (Redis's sdssplitargs, simply).
bool SplitWords(const std::string& line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) i++;
    if (i >= line.size()) break;
    std::string w;
    if (line[i] == '"' || line[i] == '\'') {
      char q = line[i++];
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '\\' && q == '"' && i + 1 < line.size()) {
          w += line[i + 1];
          i += 2;
        } else if (line[i] == q) {
          closed = true;
          i++;
          break;
        } else {
          w += line[i++];
        }
      }
      if (!closed) return false;
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) w += line[i++];
    }
    out->push_back(std::move(w));
  }
  return true;
}

}  // namespace

Status Acl::ParseAclLines(const std::vector<std::string>& lines, const std::string& where,
                          std::map<std::string, std::shared_ptr<AclUser>>* out) {
  const size_t nspecs = CommandRegistry::Default().size();
  int lineno = 0;
  for (const std::string& raw : lines) {
    lineno++;
    std::string line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::vector<std::string> w;
    const std::string at = where.empty() ? "" : where + ":" + std::to_string(lineno) + ": ";
    if (!SplitWords(line, &w)) {
      return Status::InvalidArgument(at + "unbalanced quotes in acl line.");
    }
    if (w.size() < 2 || w[0] != "user") {
      return Status::InvalidArgument(at +
                                     "should start with user keyword followed by the username.");
    }
    if (out->count(w[1]) > 0) {
      return Status::InvalidArgument(at + "Duplicate user '" + w[1] + "' found");
    }
    auto u = std::make_shared<AclUser>(w[1]);
    u->selectors.push_back(NewSelector(nspecs, false));
    // Users from files start from nothing (no channels), as Redis's ACLSetUser(u, "reset").
    std::vector<std::string> rules(w.begin() + 2, w.end());
    bool shrunk;
    Status s = ApplyRules(*u, rules, &shrunk);
    if (!s.ok()) {
      // Redis's form: "file:line: reason. WARNING: ...", the reason without the modifier.
      std::string msg = s.message();
      if (msg.rfind("ERR ", 0) == 0) msg = msg.substr(4);
      if (size_t q = msg.find("': ");
          msg.rfind("Error in ACL SETUSER", 0) == 0 && q != std::string::npos) {
        msg = msg.substr(q + 3);
      }
      return Status::InvalidArgument(at + msg +
                                     ". WARNING: ACL errors detected, no change to the "
                                     "previously active ACL rules was performed");
    }
    (*out)[w[1]] = u;
  }
  return Status::OK();
}

Status Acl::LoadAtStartup(const std::vector<std::string>& user_lines, const std::string& aclfile) {
  if (!user_lines.empty() && !aclfile.empty()) {
    return Status::InvalidArgument(
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
        "file path is invalid. This setup is very likely to lead to configuration errors and "
        "security holes, please define either an ACL file or declare users directly in your "
        "redis.conf, but not both.");
  }
  if (!aclfile.empty()) return LoadFile(aclfile);
  if (user_lines.empty()) return Status::OK();
  std::vector<std::string> lines;
  for (const std::string& l : user_lines) lines.push_back("user " + l);
  std::map<std::string, std::shared_ptr<AclUser>> parsed;
  Status s = ParseAclLines(lines, "", &parsed);
  if (!s.ok()) {
    if (s.message().find("Duplicate user") != std::string::npos) {
      return Status::InvalidArgument(
          "Duplicate user found. A user can only be defined once in config files");
    }
    return Status::InvalidArgument("Error in user declaration: " + s.message());
  }
  std::unique_lock l(mu_);
  for (auto& [n, u] : parsed) {
    if (n == "default") {
      default_user_->on = u->on;
      default_user_->nopass = u->nopass;
      default_user_->passwords = u->passwords;
      default_user_->selectors = u->selectors;
      RefreshUnrestricted(*default_user_);
    } else {
      RefreshUnrestricted(*u);
      users_[n] = u;
    }
  }
  return Status::OK();
}

Status Acl::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::IOError("Error loading ACLs, opening file '" + path +
                           "': " + std::string(strerror(errno)));
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::map<std::string, std::shared_ptr<AclUser>> parsed;
  Status s = ParseAclLines(lines, path, &parsed);
  if (!s.ok()) return s;
  std::vector<std::shared_ptr<AclUser>> replaced;
  {
    std::unique_lock l(mu_);
    for (auto& [n, u] : users_) {
      if (n != "default") replaced.push_back(u);
    }
    users_.clear();
    auto d = parsed.find("default");
    if (d != parsed.end()) {
      default_user_->on = d->second->on;
      default_user_->nopass = d->second->nopass;
      default_user_->passwords = d->second->passwords;
      default_user_->selectors = d->second->selectors;
    } else {
      // A file without the default user leaves it as a fresh server has it.
      default_user_->on = true;
      default_user_->nopass = true;
      default_user_->passwords.clear();
      AclSelector root = NewSelector(CommandRegistry::Default().size(), true);
      (void)ApplySelectorRule(root, "+@all");
      root.all_keys = true;
      default_user_->selectors.assign(1, std::move(root));
    }
    RefreshUnrestricted(*default_user_);
    users_["default"] = default_user_;
    for (auto& [n, u] : parsed) {
      if (n == "default") continue;
      RefreshUnrestricted(*u);
      users_[n] = u;
    }
  }
  std::vector<const AclUser*> ptrs;
  for (auto& u : replaced) ptrs.push_back(u.get());
  if (!ptrs.empty()) KillClientsOf(ptrs, false);
  return Status::OK();
}

Status Acl::SaveFile(const std::string& path) const {
  std::string text;
  for (const std::string& l : List()) text += l + "\n";
  std::string tmp = path + ".tmp-" + std::to_string(NowMs());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::IOError("Opening temp ACL file for ACL SAVE: " + tmp);
    out << text;
    out.flush();
    if (!out) return Status::IOError("Writing ACL file for ACL SAVE: " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError("Renaming ACL file for ACL SAVE: " + path);
  }
  return Status::OK();
}

void Acl::SetRequirePass(std::string_view pass) {
  std::unique_lock l(mu_);
  default_user_->passwords.clear();
  if (pass.empty()) {
    default_user_->nopass = true;
  } else {
    default_user_->nopass = false;
    default_user_->passwords.push_back(Sha256Hex(pass));
  }
}

}  // namespace fdb
