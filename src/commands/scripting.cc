// Lua scripting: EVAL / EVALSHA / EVAL_RO / EVALSHA_RO and SCRIPT, on Debian's Lua 5.1.
//
// The model (docs/scripting.md):
// - Each I/O thread has its own Lua state (LuaEnv), made on first use; the script cache (sha ->
//   body) is shared by every thread, and a thread compiles a cached script into its own state
//   the first time it runs it. SCRIPT FLUSH bumps a generation: every thread drops its state
//   before its next script.
// - Locking (docs/scripting.md, "Atomic over any keys"): the first run of a script on a thread
//   holds every shard (ShardLockSet::LockAll, as EXEC) and notes whether it touched a key
//   outside its declared keys' shards. A script that did not then runs holding only its declared
//   keys' shards, so scripts on disjoint shards run in parallel. If such a run meets a key of a
//   shard it does not hold, it starts again holding every shard when it has not written yet, or
//   takes that shard then and there (ShardLockSet::Escalate) when it has; either way the
//   script holds every shard from then on. Undeclared keys are as safe as declared ones. Its
//   transaction collects every effect of its redis.call's and commits them as one batch, under
//   the locks, before the reply leaves (staged, as a write's).
// - redis.call runs the command through the dispatcher inside that transaction (command table,
//   arity, wrong-type errors, statistics), after the checks Redis makes for scripts.
// - The sandbox: the globals table and the library tables are read-only proxies; reading an
//   undefined global raises Redis's error; loadfile, dofile, print and setfenv are gone.
#include "commands/scripting.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/clock.h"
#include "base/glob.h"
#include "base/limits.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/numbers.h"
#include "base/slot.h"
#include "commands/client_pause.h"
#include "commands/context.h"
#include "commands/dispatcher.h"
#include "commands/errors.h"
#include "commands/scripting_lua.h"

namespace fdb {

namespace {

// The Redis version scripts see as redis.REDIS_VERSION (as INFO's redis_version).
constexpr const char* kScriptRedisVersion = "7.2.4";
constexpr int kScriptRedisVersionNum = 0x070204;
// Memory one thread's Lua state may take; past it an allocation fails and the script gets
// Lua's "not enough memory" error.
constexpr size_t kMaxLuaMemory = 256u << 20;
// Lua instructions between two checks of the script's running time.
constexpr int kHookInstructions = 100000;

std::string Sha1Hex(std::string_view s) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out(40, '0');
  for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- process-wide state ----

// What the script running on one thread is doing, for BUSY, SCRIPT KILL and FUNCTION KILL from
// other threads (ScriptCache::runs).
struct RunningScript {
  std::atomic<bool> running{false};
  std::atomic<bool> busy{false};  // ran past busy-reply-threshold
  std::atomic<bool> kill{false};  // SCRIPT/FUNCTION KILL asked for its end
  std::atomic<bool> wrote{false};
  std::atomic<bool> is_function{false};
  // For FUNCTION STATS.
  Mutex info_mu;
  std::string name ABSL_GUARDED_BY(info_mu);
  std::vector<std::string> command ABSL_GUARDED_BY(info_mu);
  int64_t start_ms ABSL_GUARDED_BY(info_mu) = 0;
};

struct ScriptCache {
  Mutex mu;
  absl::flat_hash_map<std::string, std::string> bodies ABSL_GUARDED_BY(mu);  // sha -> body
  std::atomic<uint64_t> generation{1};
  // Every thread's RunningScript, and how many of them are busy now (the dispatcher's check of
  // every command reads only the count).
  Mutex runs_mu;
  std::vector<RunningScript*> runs ABSL_GUARDED_BY(runs_mu);
  std::atomic<int> busy_count{0};
  std::atomic<uint64_t> restarts{0};
  std::atomic<uint64_t> escalations{0};
};

ScriptCache& Cache() {
  static ScriptCache* cache = new ScriptCache;
  return *cache;
}

// The calling thread's RunningScript, listed in the cache while the thread lives.
RunningScript& ThreadRun() {
  struct Holder {
    RunningScript rs;
    Holder() {
      MutexLock l(Cache().runs_mu);
      Cache().runs.push_back(&rs);
    }
    ~Holder() {
      MutexLock l(Cache().runs_mu);
      auto& runs = Cache().runs;
      runs.erase(std::find(runs.begin(), runs.end(), &rs));
    }
  };
  thread_local Holder holder;
  return holder.rs;
}

// The first busy script (or, with `any`, the first running one) of any thread; nullptr when
// there is none. REQUIRES: Cache().runs_mu held.
RunningScript* FindRunning(bool busy_only) ABSL_EXCLUSIVE_LOCKS_REQUIRED(Cache().runs_mu) {
  for (RunningScript* rs : Cache().runs) {
    if (busy_only ? rs->busy.load(std::memory_order_acquire)
                  : rs->running.load(std::memory_order_acquire)) {
      return rs;
    }
  }
  return nullptr;
}

// How a script's run locks shards (the model at the top of this file).
enum class LockMode : uint8_t {
  kLearn,     // not run on this thread yet: every shard, noting the keys it touches
  kDeclared,  // its declared keys' shards
  kAll,       // every shard: it touched keys of other shards
};

// ---- one thread's Lua state ----

struct RunCtx;

// What a script invocation needs in its redis.call's: the run's own state (a fresh one per
// run, RunState's defaults) ...
struct RunState {
  CommandContext* ctx = nullptr;
  RunningScript* rs = nullptr;
  // Shard locks (commands/scripting.cc's model): `locks` is null when the caller (EXEC) holds
  // every shard. `held` are the shards held in kDeclared mode, `declared` the declared keys'
  // shards a learning run compares with.
  ShardLockSet* locks = nullptr;
  LockMode mode = LockMode::kAll;
  std::bitset<limits::kNumShards> held;
  std::bitset<limits::kNumShards> declared;
  bool deviated = false;  // touched a key outside `declared` (or every shard)
  bool wrote = false;     // ran a command that is not read-only
  bool restart = false;   // start again holding every shard
  uint64_t ticket = 0;    // its age, once it escalates
  Dispatcher* dispatcher = nullptr;
  bool read_only = false;
  bool allow_oom = false;    // the script's flags say allow-oom
  bool called_read = false;  // a read-only command ran (client-side caching, below)
  int resp = 2;
  int64_t start_us = 0;
  int64_t busy_after_us = 0;
  int64_t next_poll_us = 0;  // when busy: the next time the thread's other clients are served
};

// ... and scratch kept across runs (LuaEnv::scratch), so a script's calls do not allocate.
struct RunCtx : RunState {
  std::vector<size_t> key_idx;
  std::vector<int> missing;
  ClientState fake;    // the script's client: the caller's database, RESP per redis.setresp
  std::string out;     // a command's reply
  std::string staged;  // the script's own reply, staged until its effects commit
  std::vector<std::string_view> argv;
  std::vector<std::string> numbers;

  // Back to a fresh run's state, keeping the scratch buffers' memory.
  void Reset() {
    static_cast<RunState&>(*this) = RunState();
    fake.db.store(0, std::memory_order_relaxed);
    fake.resp3.store(false, std::memory_order_relaxed);
  }
};

int LuaErrorHandler(lua_State* L);  // below

class LuaEnv {
 public:
  LuaEnv() {
    L_ = lua_newstate(&LuaEnv::Alloc, this);
    SetupLua(L_);
    lua_pushcfunction(L_, LuaErrorHandler);
    error_handler_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  }
  ~LuaEnv() { lua_close(L_); }
  LuaEnv(const LuaEnv&) = delete;
  LuaEnv& operator=(const LuaEnv&) = delete;

  lua_State* L() { return L_; }
  static LuaEnv* Of(lua_State* L) {
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    return static_cast<LuaEnv*>(ud);
  }

  RunCtx* run = nullptr;  // set while a script runs
  RunCtx scratch;         // the RunCtx of this thread's runs (RunFunction)
  // The dispatcher of this thread's scripts' calls, kept so its scratch buffers are reused.
  std::optional<Dispatcher> dispatcher;
  // An EVAL script's KEYS and ARGV (SetArray): a registry reference and the entries it holds.
  struct ArgTable {
    int ref = LUA_NOREF;
    size_t size = 0;
  };
  ArgTable keys_table;
  ArgTable argv_table;
  // LuaErrorHandler as a Lua function, made once (pushing a C function makes a new closure).
  int error_handler_ref = LUA_NOREF;
  // Set while a library's code runs (FUNCTION LOAD): what redis.register_function collects.
  struct LoadedFunction {
    std::string name;
    int ref = LUA_NOREF;
    mutable LockMode mode = LockMode::kLearn;  // what its runs learned (RunFunction)
    std::string description;
    std::vector<std::string> flags;
    bool no_writes = false;
  };
  std::vector<LoadedFunction>* loading = nullptr;
  int64_t load_deadline_us = 0;
  // The functions of every library, loaded into this state (by lower-case name).
  uint64_t fn_generation = 0;
  absl::flat_hash_map<std::string, LoadedFunction> functions;
  uint64_t generation = 0;
  struct Compiled {
    int ref;         // the registry ref of its function
    bool no_writes;  // its shebang says flags=no-writes
    bool allow_oom;
    bool has_shebang;
    // Cluster mode: may reach keys of several slots (no shebang, or allow-cross-slot-keys).
    bool cross_slot_ok;
    mutable LockMode mode = LockMode::kLearn;  // what its runs learned (RunFunction)
  };
  absl::flat_hash_map<std::string, Compiled> compiled;  // by sha
  size_t used = 0;                                      // bytes allocated by the state

 private:
  static void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
    auto* env = static_cast<LuaEnv*>(ud);
    if (nsize == 0) {
      env->used -= osize;
      free(ptr);
      return nullptr;
    }
    if (nsize > osize && env->used + (nsize - osize) > kMaxLuaMemory) return nullptr;
    void* p = realloc(ptr, nsize);
    if (p != nullptr) env->used = env->used + nsize - osize;
    return p;
  }
  lua_State* L_;
};

LuaEnv& ThreadEnv() {
  thread_local std::unique_ptr<LuaEnv> env;
  uint64_t gen = Cache().generation.load(std::memory_order_acquire);
  if (env == nullptr || env->generation != gen) {
    env.reset();
    env = std::make_unique<LuaEnv>();
    env->generation = gen;
  }
  return *env;
}

// ---- conversions ----

// Pushes the Lua form of one RESP reply read from [p, end) (Redis's conversion for the
// script's protocol); returns where it ended. `raise_error`: a top-level error becomes the
// returned flag instead of a table on the stack.
const char* PushReply(lua_State* L, const char* p, const char* end, int depth);

const char* LineEnd(const char* p, const char* end) {
  const char* e = static_cast<const char*>(memchr(p, '\r', end - p));
  return e == nullptr ? end : e;
}

int64_t ParseLen(const char* p, const char* e) {
  int64_t n = 0;
  std::from_chars(p, e, n);
  return n;
}

void PushErrorTable(lua_State* L, std::string_view msg) {
  lua_newtable(L);
  lua_pushlstring(L, msg.data(), msg.size());
  lua_setfield(L, -2, "err");
}

const char* PushReply(lua_State* L, const char* p, const char* end, int depth) {
  if (p >= end) {
    lua_pushboolean(L, 0);
    return end;
  }
  luaL_checkstack(L, 4, "reached lua stack limit");
  char type = *p++;
  const char* e = LineEnd(p, end);
  const char* next = e + 2 <= end ? e + 2 : end;
  switch (type) {
    case '+':
      lua_newtable(L);
      lua_pushlstring(L, p, e - p);
      lua_setfield(L, -2, "ok");
      return next;
    case '-':
      PushErrorTable(L, std::string_view(p, e - p));
      return next;
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(ParseLen(p, e)));
      return next;
    case '$':
    case '=': {
      int64_t n = ParseLen(p, e);
      if (n < 0) {
        lua_pushboolean(L, 0);
        return next;
      }
      const char* s = next;
      if (type == '=') {
        // RESP3 verbatim: {verbatim_string = {format = "txt", string = "..."}}
        lua_newtable(L);
        lua_newtable(L);
        lua_pushlstring(L, s, n >= 4 ? 3 : 0);
        lua_setfield(L, -2, "format");
        lua_pushlstring(L, s + (n >= 4 ? 4 : 0), n >= 4 ? n - 4 : n);
        lua_setfield(L, -2, "string");
        lua_setfield(L, -2, "verbatim_string");
      } else {
        lua_pushlstring(L, s, n);
      }
      return s + n + 2;
    }
    case '*':
    case '~':
    case '>': {
      int64_t n = ParseLen(p, e);
      if (n < 0) {
        lua_pushboolean(L, 0);
        return next;
      }
      lua_newtable(L);
      if (type == '~') {
        // RESP3 set: {set = {member = true, ...}}
        lua_newtable(L);
        for (int64_t i = 0; i < n; i++) {
          next = PushReply(L, next, end, depth + 1);
          lua_pushboolean(L, 1);
          lua_settable(L, -3);
        }
        lua_setfield(L, -2, "set");
        return next;
      }
      for (int64_t i = 0; i < n; i++) {
        next = PushReply(L, next, end, depth + 1);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return next;
    }
    case '%': {
      int64_t n = ParseLen(p, e);
      lua_newtable(L);
      lua_newtable(L);
      for (int64_t i = 0; i < n; i++) {
        next = PushReply(L, next, end, depth + 1);
        next = PushReply(L, next, end, depth + 1);
        lua_settable(L, -3);
      }
      lua_setfield(L, -2, "map");
      return next;
    }
    case '_':
      lua_pushnil(L);
      return next;
    case '#':
      lua_pushboolean(L, p < e && *p == 't');
      return next;
    case ',': {
      lua_newtable(L);
      std::string s(p, e - p);
      lua_pushnumber(L, strtod(s.c_str(), nullptr));
      lua_setfield(L, -2, "double");
      return next;
    }
    case '(':
      lua_newtable(L);
      lua_pushlstring(L, p, e - p);
      lua_setfield(L, -2, "big_number");
      return next;
    default:
      lua_pushboolean(L, 0);
      return end;
  }
}

// Writes the Redis reply of the Lua value at the top of the stack (popping it), as Redis 7's
// luaReplyToRedisReply: `script_resp` is the protocol the script asked for (redis.setresp).
// Pushes t[name] without metamethods (a reply must not run script code outside the script).
void RawField(lua_State* L, int idx, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, idx < 0 ? idx - 1 : idx);
}

// The number of entries of the table at the top of the stack (any keys).
size_t TableSize(lua_State* L) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    n++;
  }
  return n;
}

void ReplyFromLua(lua_State* L, ReplyBuilder& rb, int script_resp, int depth) {
  if (depth > 200 || !lua_checkstack(L, 4)) {
    lua_pop(L, 1);
    rb.Error("ERR reached lua stack limit");
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t n;
      const char* s = lua_tolstring(L, -1, &n);
      rb.Bulk(std::string_view(s, n));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          rb.Integer(1);
        } else {
          rb.NullBulk();
        }
      } else {
        rb.Bool(lua_toboolean(L, -1));
      }
      break;
    case LUA_TNUMBER:
      rb.Integer(static_cast<int64_t>(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      // {err=...}, {ok=...}, {double=...}, {map=...}, {set=...}, {big_number=...},
      // {verbatim_string=...}, else an array up to the first nil.
      RawField(L, -1, "err");
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char* s = lua_tolstring(L, -1, &n);
        std::string msg(s, n);
        if (!msg.empty() && msg[0] == '-') msg.erase(0, 1);
        if (msg.empty()) msg = "ERR";
        rb.Error(msg);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      RawField(L, -1, "ok");
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char* s = lua_tolstring(L, -1, &n);
        std::string msg(s, n);
        for (char& c : msg) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        rb.SimpleString(msg);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      RawField(L, -1, "double");
      if (lua_type(L, -1) == LUA_TNUMBER) {
        rb.Double(lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      RawField(L, -1, "big_number");
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char* s = lua_tolstring(L, -1, &n);
        std::string v(s, n);
        for (char& c : v) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        if (rb.resp3()) {
          rb.buffer()->append("(" + v + "\r\n");
        } else {
          rb.Bulk(v);
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      RawField(L, -1, "verbatim_string");
      if (lua_type(L, -1) == LUA_TTABLE) {
        RawField(L, -1, "format");
        RawField(L, -2, "string");
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
          size_t fn, sn;
          const char* f = lua_tolstring(L, -2, &fn);
          const char* s = lua_tolstring(L, -1, &sn);
          rb.Verbatim(std::string_view(s, sn), std::string_view(f, fn));
          lua_pop(L, 4);
          return;
        }
        lua_pop(L, 2);
      }
      lua_pop(L, 1);
      RawField(L, -1, "map");
      if (lua_type(L, -1) == LUA_TTABLE) {
        size_t n = TableSize(L);
        rb.MapHeader(n);
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pushvalue(L, -2);  // key copy, for the reply
          ReplyFromLua(L, rb, script_resp, depth + 1);
          ReplyFromLua(L, rb, script_resp, depth + 1);  // the value
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      RawField(L, -1, "set");
      if (lua_type(L, -1) == LUA_TTABLE) {
        size_t n = TableSize(L);
        rb.SetHeader(n);
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pop(L, 1);
          lua_pushvalue(L, -1);
          ReplyFromLua(L, rb, script_resp, depth + 1);
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      size_t n = 0;
      while (true) {
        lua_rawgeti(L, -1, static_cast<int>(n + 1));
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        n++;
      }
      rb.ArrayHeader(n);
      for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, static_cast<int>(i));
        ReplyFromLua(L, rb, script_resp, depth + 1);
      }
      break;
    }
    default:
      rb.NullBulk();
      break;
  }
  lua_pop(L, 1);
}

// ---- the redis table ----

// Raises the error table on top of the stack (redis.call's failures).
int RaiseTable(lua_State* L) { return lua_error(L); }

std::string_view CheckCall(RunCtx& run, const CommandSpec*& spec, CmdArgs args) {
  const CommandRegistry& reg = CommandRegistry::Default();
  spec = reg.Find(args[0]);
  if (spec == nullptr) return "ERR Unknown Redis command called from script";
  if (spec->container() && args.size() >= 2) {
    const CommandSpec* sub = reg.FindSub(*spec, args[1]);
    if (sub != nullptr) spec = sub;
  }
  int argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    return "ERR Wrong number of args calling Redis command from script";
  }
  // Blocking commands are refused too, as in Redis 7 (whose rows flag them noscript), but for
  // XREAD and XREADGROUP, which refuse only their BLOCK option (commands/stream_family.cc).
  // And those refused inside MULTI (SAVE would take the shard locks the script holds).
  const bool stream_read = spec->name[0] == 'x' && (std::string_view(spec->name) == "xread" ||
                                                    std::string_view(spec->name) == "xreadgroup");
  if ((spec->flags & (cmdflags::kNoScript | cmdflags::kNoMulti)) ||
      ((spec->flags & cmdflags::kBlocking) && !stream_read)) {
    return "ERR This Redis command is not allowed from script";
  }
  // As Redis, a read-only script may not run what may replicate either (PUBLISH): CLIENT
  // PAUSE WRITE lets such scripts run.
  if (run.read_only && MayReplicate(*spec, args)) {
    return "ERR Write commands are not allowed from read-only scripts.";
  }
  // Over maxmemory (the dispatcher evicted what it could before the script): commands that
  // may grow memory are refused, as Redis does inside scripts.
  if ((spec->flags & cmdflags::kDenyOom) && !run.allow_oom && run.ctx->ks.OverMaxmemory()) {
    return errors::kOom;
  }
  if ((spec->flags & cmdflags::kWrite) && run.ctx->server.MinReplicasRefuseWrites()) {
    return errors::kNoReplicas;
  }
  if (spec->flags & cmdflags::kWrite) {
    StorageEngine* storage = run.ctx->server.storage();
    if (storage != nullptr && !storage->Health().ok()) {
      return "MISCONF Errors writing to the log: commands that may modify the data set are "
             "disabled";
    }
  }
  return {};
}

// Makes sure the script holds the shards the command touches (the model at the top of this
// file). Sets run.restart when the script must start again holding every shard; returns an
// error text when it gave up waiting for a shard (ShardLockSet::Escalate).
std::string_view CoverShards(RunCtx& run, const CommandSpec& spec, CmdArgs args) {
  if (run.locks == nullptr || run.mode == LockMode::kAll) return {};
  const std::bitset<limits::kNumShards>& have =
      run.mode == LockMode::kLearn ? run.declared : run.held;
  run.missing.clear();
  if ((spec.flags & cmdflags::kSelfLocking) || (spec.lock_all != nullptr && spec.lock_all(args))) {
    for (int i = 0; i < limits::kNumShards; i++) {
      if (!have[i]) run.missing.push_back(i);
    }
  } else if (spec.first_key > 0) {
    CommandRegistry::KeyIndexes(spec, args, &run.key_idx);
    for (size_t i : run.key_idx) {
      int sh = Keyspace::ShardOf(args[i]);
      if (!have[sh]) run.missing.push_back(sh);
    }
  }
  if (run.missing.empty()) return {};
  run.deviated = true;
  if (run.mode == LockMode::kLearn) {  // it holds every shard; the run teaches kAll
    run.mode = LockMode::kAll;
    return {};
  }
  if (!run.wrote) {
    run.restart = true;
    return "ERR script restarted";
  }
  std::sort(run.missing.begin(), run.missing.end());
  run.missing.erase(std::unique(run.missing.begin(), run.missing.end()), run.missing.end());
  if (run.ticket == 0) run.ticket = run.ctx->ks.NextEscalationTicket();
  Cache().escalations.fetch_add(1, std::memory_order_relaxed);
  if (!run.locks->Escalate(run.ctx->ks, run.missing, run.ticket)) {
    return "ERR Script gave up waiting for a key outside its declared keys: an older script "
           "holding it waits for this one's keys";
  }
  for (int sh : run.missing) run.held.set(sh);
  if (run.held.all()) run.mode = LockMode::kAll;
  return {};
}

void LuaHook(lua_State* L, lua_Debug*);

// Ends a run that must start again holding every shard: raised at once, and at every line from
// now on, so a pcall in the script cannot swallow it.
int RaiseRestart(lua_State* L) {
  lua_sethook(L, LuaHook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  PushErrorTable(L, "ERR script restarted");
  return lua_error(L);
}

int RedisCallImpl(lua_State* L, bool raise) {
  LuaEnv* env = LuaEnv::Of(L);
  RunCtx* run = env->run;
  if (run == nullptr) {
    return luaL_error(L, "redis.call can only be called inside a script invocation");
  }
  int argc = lua_gettop(L);
  auto fail = [&](std::string_view msg) {
    PushErrorTable(L, msg);
    if (raise) return RaiseTable(L);
    return 1;
  };
  if (argc == 0) return fail("ERR Please specify at least one argument for this redis lib call");
  run->argv.clear();
  run->numbers.clear();
  run->numbers.reserve(argc);
  for (int i = 1; i <= argc; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER) {
      // As Redis 7.0: "%.17g" (100000 is "100000", 0.1 is "0.10000000000000001"); integers
      // below 1e17, which %.17g prints in full, without printf.
      char buf[64];
      double v = lua_tonumber(L, i);
      char* end;
      if (v == std::trunc(v) && std::fabs(v) < 1e17 && !(v == 0 && std::signbit(v))) {
        end = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v)).ptr;
      } else {
        end = buf + std::min<int>(snprintf(buf, sizeof(buf), "%.17g", v), sizeof(buf) - 1);
      }
      run->numbers.emplace_back(buf, end);
      run->argv.push_back(run->numbers.back());
    } else if (t == LUA_TSTRING) {
      size_t n;
      const char* s = lua_tolstring(L, i, &n);
      run->argv.emplace_back(s, n);
    } else {
      return fail("ERR Lua redis lib command arguments must be strings or integers");
    }
  }
  if (run->restart) return RaiseRestart(L);
  const CommandSpec* spec = nullptr;
  std::string_view refused = CheckCall(*run, spec, run->argv);
  if (!refused.empty()) return fail(refused);
  refused = CoverShards(*run, *spec, run->argv);
  if (run->restart) return RaiseRestart(L);
  if (!refused.empty()) return fail(refused);
  if (!(spec->flags & cmdflags::kReadOnly)) run->wrote = true;
  if (spec->flags & cmdflags::kWrite) run->rs->wrote.store(true, std::memory_order_relaxed);
  if (spec->flags & cmdflags::kReadOnly) run->called_read = true;
  run->out.clear();
  ReplyBuilder rb(&run->out);
  rb.set_resp3(run->resp == 3);
  // As Redis 7.0: an error that redis.pcall hands to the script is an error reply of the
  // server's all the same (INFO errorstats, total_error_replies). One that redis.call raises
  // is counted once, when it becomes the script's own error reply.
  if (!raise) rb.set_error_sink(&run->ctx->server.error_stats());
  run->fake.resp3.store(run->resp == 3, std::memory_order_relaxed);
  run->dispatcher->ExecuteInTransaction(run->argv, run->fake, rb, run->ctx->txn, spec);
  const char* p = run->out.data();
  const char* end = p + run->out.size();
  PushReply(L, p, end, 0);
  if (raise && !run->out.empty() && run->out[0] == '-') return RaiseTable(L);
  return 1;
}

int LuaRedisCall(lua_State* L) { return RedisCallImpl(L, true); }
int LuaRedisPCall(lua_State* L) { return RedisCallImpl(L, false); }

int LuaSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) return luaL_error(L, "wrong number of arguments");
  size_t n;
  const char* s = lua_tolstring(L, 1, &n);
  std::string hex = Sha1Hex(std::string_view(s == nullptr ? "" : s, s == nullptr ? 0 : n));
  lua_pushlstring(L, hex.data(), hex.size());
  return 1;
}

int ReplyTable(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
    return luaL_error(L, "wrong number or type of arguments");
  }
  size_t n;
  const char* s = lua_tolstring(L, 1, &n);
  std::string msg(s, n);
  if (field[0] == 'e') {
    if (!msg.empty() && msg[0] == '-') msg.erase(0, 1);
    if (msg.empty()) msg = "ERR";
  }
  lua_newtable(L);
  lua_pushlstring(L, msg.data(), msg.size());
  lua_setfield(L, -2, field);
  return 1;
}
int LuaErrorReply(lua_State* L) { return ReplyTable(L, "err"); }
int LuaStatusReply(lua_State* L) { return ReplyTable(L, "ok"); }

int LuaLog(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc < 2) return luaL_error(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, 1)) return luaL_error(L, "First argument must be a number (log level).");
  int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) return luaL_error(L, "Invalid debug level.");
  std::string msg;
  for (int i = 2; i <= argc; i++) {
    size_t n;
    const char* s = lua_tolstring(L, i, &n);
    if (s == nullptr) continue;
    if (i > 2) msg += ' ';
    msg.append(s, n);
  }
  FDB_LOG(static_cast<LogLevel>(level), "%s", msg.c_str());
  return 0;
}

int LuaSetResp(lua_State* L) {
  RunCtx* run = LuaEnv::Of(L)->run;
  if (lua_gettop(L) != 1) return luaL_error(L, "redis.setresp() requires one argument.");
  int v = static_cast<int>(lua_tonumber(L, 1));
  if (v != 2 && v != 3) return luaL_error(L, "RESP version must be 2 or 3.");
  if (run != nullptr) run->resp = v;
  return 0;
}

int LuaSetRepl(lua_State* L) {
  if (lua_gettop(L) != 1) return luaL_error(L, "redis.set_repl() requires one argument.");
  int v = static_cast<int>(lua_tonumber(L, 1));
  if (v < 0 || v > 3)
    return luaL_error(
        L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  return 0;
}

int LuaTrue(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int LuaFalse(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int LuaNothing(lua_State*) { return 0; }

int LuaAclCheckCmd(lua_State* L) {
  if (lua_gettop(L) < 1 || lua_type(L, 1) != LUA_TSTRING) {
    return luaL_error(L, "Please specify at least one argument for this redis lib call");
  }
  if (CommandRegistry::Default().Find(lua_tostring(L, 1)) == nullptr) {
    return luaL_error(L, "Invalid command passed to redis.acl_check_cmd()");
  }
  lua_pushboolean(L, 1);
  return 1;
}

// The count hook: marks the script busy past the threshold and ends it when SCRIPT KILL asks.
void LuaHook(lua_State* L, lua_Debug*) {
  LuaEnv* env = LuaEnv::Of(L);
  if (env->loading != nullptr && MonoUs() > env->load_deadline_us) {
    PushErrorTable(L, "ERR FUNCTION LOAD timeout");
    lua_error(L);
  }
  RunCtx* run = env->run;
  if (run == nullptr) return;
  if (run->restart) RaiseRestart(L);
  RunningScript& rs = *run->rs;
  if (!rs.busy.load(std::memory_order_relaxed) && MonoUs() >= run->busy_after_us) {
    FDB_LOG(LogLevel::kWarning,
            "Slow script detected: still in execution after %lld milliseconds. You can try "
            "killing the script using the %s command.",
            static_cast<long long>((MonoUs() - run->start_us) / 1000),
            rs.is_function.load() ? "FUNCTION KILL" : "SCRIPT KILL");
    rs.busy.store(true, std::memory_order_release);
    Cache().busy_count.fetch_add(1, std::memory_order_acq_rel);
  }
  // Busy: the other clients of this I/O thread are answered (BUSY, or SCRIPT KILL) now and
  // then, as Redis's processEventsWhileBlocked; no shard lock can be taken by them since
  // every command but the few allowed is refused before it locks anything.
  if (rs.busy.load(std::memory_order_relaxed) && run->ctx->client.process_events_while_blocked) {
    int64_t now = MonoUs();
    if (now >= run->next_poll_us) {
      run->next_poll_us = now + 10000;
      run->ctx->client.process_events_while_blocked();
    }
  }
  if (rs.kill.load(std::memory_order_acquire)) {
    // Every line from now on raises it again, so a pcall in the script cannot swallow it.
    lua_sethook(L, LuaHook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    PushErrorTable(L, "ERR Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

// The error handler of every script call: turns the error into a table {err=, source=, line=}
// (a string error gets the ERR code), naming where in the script it was raised.
int LuaErrorHandler(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) {
    size_t n = 0;
    const char* s = lua_tolstring(L, 1, &n);
    std::string msg = "ERR ";
    if (s != nullptr) {
      msg.append(s, n);
    } else {
      msg += "unknown error";
    }
    lua_settop(L, 0);
    PushErrorTable(L, msg);
  } else {
    lua_settop(L, 1);
  }
  lua_Debug ar;
  int level = 1;
  while (lua_getstack(L, level, &ar)) {
    lua_getinfo(L, "Sl", &ar);
    if (strcmp(ar.what, "C") != 0) {
      lua_pushstring(L, ar.source);
      lua_setfield(L, 1, "source");
      lua_pushnumber(L, ar.currentline);
      lua_setfield(L, 1, "line");
      break;
    }
    level++;
  }
  return 1;
}

// ---- the sandbox ----

int LuaReadonlyError(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

int LuaMissingGlobal(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name == nullptr ? "?" : name);
}

// The registry key of the set of read-only proxies.
char kReadonlyKey;

bool IsReadonly(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  lua_pushlightuserdata(L, &kReadonlyKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, idx < 0 ? idx - 1 : idx);
  lua_rawget(L, -2);
  bool ro = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return ro;
}

// rawset and setmetatable, refusing the read-only tables.
int LuaGuardedCall(lua_State* L) {
  if (IsReadonly(L, 1)) return LuaReadonlyError(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// loadstring, refusing precompiled (binary) chunks as Redis does.
int LuaLoadString(lua_State* L) {
  size_t n = 0;
  const char* s = lua_tolstring(L, 1, &n);
  if (s != nullptr && n > 0 && s[0] == LUA_SIGNATURE[0]) {
    lua_pushnil(L);
    lua_pushstring(L, "binary code loading is not allowed");
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

void GuardGlobal(lua_State* L, int real, const char* name) {
  lua_getfield(L, real, name);
  lua_pushcclosure(L, LuaGuardedCall, 1);
  lua_setfield(L, real, name);
}

// Replaces the table at `idx` by a read-only proxy on the stack top: an empty table whose
// metatable reads from the original and refuses writes; its protected metatable is itself a
// read-only proxy of the metatable.
void PushReadonlyProxy(lua_State* L, int idx, bool missing_is_error) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_newtable(L);  // proxy
  int proxy = lua_gettop(L);
  lua_newtable(L);  // its metatable
  int meta = lua_gettop(L);
  lua_pushvalue(L, idx);
  lua_setfield(L, meta, "__index");
  lua_pushcfunction(L, LuaReadonlyError);
  lua_setfield(L, meta, "__newindex");
  // getmetatable(proxy) gives a read-only view of the metatable.
  lua_newtable(L);
  int mproxy = lua_gettop(L);
  lua_newtable(L);
  lua_pushvalue(L, meta);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, LuaReadonlyError);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, mproxy);
  lua_setfield(L, meta, "__metatable");
  lua_setmetatable(L, proxy);
  if (missing_is_error) {
    lua_newtable(L);
    lua_pushcfunction(L, LuaMissingGlobal);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, idx);
  }
  lua_pushlightuserdata(L, &kReadonlyKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, proxy);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void OpenLib(lua_State* L, lua_CFunction fn, const char* name) {
  lua_pushcfunction(L, fn);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  lua_pop(L, 1);
}

int LuaRegisterFunction(lua_State* L);

}  // namespace

// The real globals live in a hidden table; the globals table the scripts see is its read-only
// proxy (LUA_GLOBALSINDEX is replaced by the proxy).
void SetupLua(lua_State* L) {
  lua_pushlightuserdata(L, &kReadonlyKey);
  lua_newtable(L);
  lua_newtable(L);  // weak keys
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);

  OpenLib(L, luaopen_base, "");
  OpenLib(L, luaopen_table, LUA_TABLIBNAME);
  OpenLib(L, luaopen_string, LUA_STRLIBNAME);
  OpenLib(L, luaopen_math, LUA_MATHLIBNAME);
  OpenLib(L, luaopen_debug, LUA_DBLIBNAME);
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cjson");
  lua_pushcfunction(L, luaopen_bit);
  lua_call(L, 0, 1);
  lua_setglobal(L, "bit");
  OpenScriptExtraLibs(L);  // struct, cmsgpack

  for (const char* name : {"loadfile", "dofile", "print", "setfenv", "newproxy", "module",
                           "require", "load", "gcinfo"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }

  // The redis table.
  lua_newtable(L);
  const luaL_Reg fns[] = {{"call", LuaRedisCall},
                          {"pcall", LuaRedisPCall},
                          {"sha1hex", LuaSha1Hex},
                          {"error_reply", LuaErrorReply},
                          {"status_reply", LuaStatusReply},
                          {"log", LuaLog},
                          {"setresp", LuaSetResp},
                          {"set_repl", LuaSetRepl},
                          {"replicate_commands", LuaTrue},
                          {"breakpoint", LuaFalse},
                          {"debug", LuaNothing},
                          {"acl_check_cmd", LuaAclCheckCmd},
                          {nullptr, nullptr}};
  for (const luaL_Reg* r = fns; r->name != nullptr; r++) {
    lua_pushcfunction(L, r->func);
    lua_setfield(L, -2, r->name);
  }
  const std::pair<const char*, int> consts[] = {
      {"LOG_DEBUG", 0},  {"LOG_VERBOSE", 1},
      {"LOG_NOTICE", 2}, {"LOG_WARNING", 3},
      {"REPL_NONE", 0},  {"REPL_AOF", 1},
      {"REPL_SLAVE", 2}, {"REPL_REPLICA", 2},
      {"REPL_ALL", 3},   {"REDIS_VERSION_NUM", kScriptRedisVersionNum}};
  for (auto [name, v] : consts) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
  }
  lua_pushstring(L, kScriptRedisVersion);
  lua_setfield(L, -2, "REDIS_VERSION");
  lua_setglobal(L, "redis");

  // Read-only library tables.
  for (const char* lib : {"redis", "string", "table", "math", "debug", "cjson", "bit", "struct",
                          "cmsgpack", "coroutine"}) {
    lua_getglobal(L, lib);
    if (lua_istable(L, -1)) {
      PushReadonlyProxy(L, -1, false);
      lua_setglobal(L, lib);
    }
    lua_pop(L, 1);
  }
  // getmetatable("") gives a read-only view of the string metatable (whose __index is the
  // real string table).
  lua_pushstring(L, "");
  lua_getmetatable(L, -1);
  lua_getglobal(L, "string");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  lua_pushvalue(L, LUA_GLOBALSINDEX);
  int real = lua_gettop(L);
  GuardGlobal(L, real, "rawset");
  GuardGlobal(L, real, "setmetatable");
  lua_getfield(L, real, "loadstring");
  lua_pushcclosure(L, LuaLoadString, 1);
  lua_setfield(L, real, "loadstring");
  // Kept reachable for KEYS / ARGV.
  lua_pushvalue(L, real);
  lua_setfield(L, LUA_REGISTRYINDEX, "fdb_real_globals");
  // The scripts' globals: a read-only proxy of the real table; _G names the proxy.
  PushReadonlyProxy(L, real, true);
  lua_pushvalue(L, -1);
  lua_setfield(L, real, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);

  // What a library's code sees while FUNCTION LOAD runs it: only a small redis table
  // (register_function, log and the constants); any other name is a missing global.
  lua_newtable(L);
  int api = lua_gettop(L);
  lua_pushcfunction(L, LuaRegisterFunction);
  lua_setfield(L, api, "register_function");
  lua_pushcfunction(L, LuaLog);
  lua_setfield(L, api, "log");
  for (auto [name, v] : consts) {
    if (std::string_view(name).rfind("LOG_", 0) == 0 ||
        std::string_view(name) == "REDIS_VERSION_NUM") {
      lua_pushnumber(L, v);
      lua_setfield(L, api, name);
    }
  }
  lua_pushstring(L, kScriptRedisVersion);
  lua_setfield(L, api, "REDIS_VERSION");
  PushReadonlyProxy(L, api, true);
  lua_newtable(L);
  int load_globals = lua_gettop(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, load_globals, "redis");
  lua_newtable(L);
  lua_pushcfunction(L, LuaMissingGlobal);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, load_globals);
  lua_setfield(L, LUA_REGISTRYINDEX, "fdb_load_globals");
  lua_pop(L, 2);
}

namespace {

// ---- running a script ----

// True when the table at `idx` holds exactly the keys 1..n and has no metatable.
bool IsPlainArray(lua_State* L, int idx, size_t n) {
  if (lua_getmetatable(L, idx) != 0) {
    lua_pop(L, 1);
    return false;
  }
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx < 0 ? idx - 1 : idx) != 0) {
    lua_pop(L, 1);  // the value
    double k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
    if (!(k >= 1 && k <= static_cast<double>(n) &&
          k == static_cast<double>(static_cast<size_t>(k))) ||
        ++count > n) {
      lua_pop(L, 1);
      return false;
    }
  }
  return count == n;
}

// Sets the global KEYS or ARGV of an EVAL script to `items`. Each is one table per thread,
// refilled for every run: a script cannot keep a reference to it past its run (its globals
// are read-only), so a fresh table per run, as Redis makes, would only feed the garbage
// collector (two tables and their arrays per run, about a tenth of a small script's cost). A
// table the script changed beyond its entries' values (a key added, a metatable set) is
// replaced by a new one.
void SetArray(lua_State* L, LuaEnv::ArgTable& table, const char* name, CmdArgs items) {
  if (table.ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, table.ref);
    if (!IsPlainArray(L, -1, table.size)) {
      lua_pop(L, 1);
      luaL_unref(L, LUA_REGISTRYINDEX, table.ref);
      table.ref = LUA_NOREF;
    }
  }
  if (table.ref == LUA_NOREF) {
    lua_createtable(L, static_cast<int>(items.size()), 0);
    lua_pushvalue(L, -1);
    table.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    table.size = 0;
    lua_getfield(L, LUA_REGISTRYINDEX, "fdb_real_globals");
    lua_pushstring(L, name);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  for (size_t i = 0; i < items.size(); i++) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  for (size_t i = items.size(); i < table.size; i++) {
    lua_pushnil(L);
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  table.size = items.size();
  lua_pop(L, 1);
}

struct ScriptFlags {
  bool no_writes = false;
  bool allow_oom = false;
  bool has_shebang = false;
  bool allow_cross_slot = false;
};

// Parses a `#!lua flags=...` first line; the body keeps its line numbers (the line is blanked).
bool ParseShebang(std::string& body, ScriptFlags* flags, std::string* err) {
  if (body.size() < 2 || body[0] != '#' || body[1] != '!') return true;
  flags->has_shebang = true;
  size_t eol = body.find('\n');
  std::string line = body.substr(2, eol == std::string::npos ? std::string::npos : eol - 2);
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') i++;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') j++;
    if (j > i) parts.push_back(line.substr(i, j - i));
    i = j;
  }
  if (parts.empty() || parts[0] != "lua") {
    *err = "ERR Unexpected engine in script shebang: " + (parts.empty() ? "" : parts[0]);
    return false;
  }
  for (size_t k = 1; k < parts.size(); k++) {
    if (parts[k].rfind("flags=", 0) != 0) {
      *err = "ERR Unknown lua shebang option: " + parts[k];
      return false;
    }
    std::string list = parts[k].substr(6);
    size_t a = 0;
    while (a <= list.size() && !list.empty()) {
      size_t b = list.find(',', a);
      std::string f = list.substr(a, b == std::string::npos ? std::string::npos : b - a);
      if (f == "no-writes") {
        flags->no_writes = true;
      } else if (f == "allow-oom") {
        flags->allow_oom = true;
      } else if (f == "allow-cross-slot-keys") {
        flags->allow_cross_slot = true;
      } else if (f != "allow-oom" && f != "allow-stale" && f != "no-cluster" &&
                 f != "allow-cross-slot-keys" && !f.empty()) {
        *err = "ERR Unexpected flag in script shebang: " + f;
        return false;
      }
      if (b == std::string::npos) break;
      a = b + 1;
    }
  }
  body.replace(0, eol == std::string::npos ? body.size() : eol, "");
  return true;
}

// Runs the function at the top of the stack (popped) with KEYS / ARGV and writes its reply,
// holding the shards `*mode` says (the model at the top of this file; what the run learns is
// stored back). `sha` names the script in error texts.
void RunFunction(CommandContext& ctx, LuaEnv& env, std::string_view sha, CmdArgs keys, CmdArgs argv,
                 bool read_only, bool is_function, bool allow_oom, bool cross_slot_ok,
                 LockMode* mode) {
  lua_State* L = env.L();
  const int fn = lua_gettop(L);

  // One run at a time on a thread (a busy script's thread answers others only with BUSY), so
  // the thread's scratch RunCtx and dispatcher serve; fresh ones if that ever changes.
  std::unique_ptr<RunCtx> fresh;
  std::optional<Dispatcher> fresh_dispatcher;
  Dispatcher* dispatcher;
  if (env.run != nullptr) {
    fresh = std::make_unique<RunCtx>();
    dispatcher = &fresh_dispatcher.emplace(ctx.server, ctx.stats);
  } else {
    if (!env.dispatcher.has_value() || !env.dispatcher->Serves(ctx.server, ctx.stats)) {
      env.dispatcher.emplace(ctx.server, ctx.stats);
    }
    dispatcher = &*env.dispatcher;
  }
  RunCtx& run = fresh != nullptr ? *fresh : env.scratch;
  run.Reset();
  run.ctx = &ctx;
  run.rs = &ThreadRun();
  run.dispatcher = dispatcher;
  run.read_only = read_only;
  run.allow_oom = allow_oom;
  // Cluster mode, a script held to one slot: its declared keys' (one slot already, or the
  // call was refused with CROSSSLOT), or its first call's.
  int script_slot = keys.empty() ? -1 : KeySlot(keys[0]);
  dispatcher->set_script_slot(cross_slot_ok || !ctx.server.cluster().enabled() ? nullptr
                                                                               : &script_slot);
  struct ClearSlot {
    Dispatcher* d;
    ~ClearSlot() { d->set_script_slot(nullptr); }
  } clear_slot{dispatcher};
  run.fake.db.store(ctx.db, std::memory_order_relaxed);
  run.fake.id = ctx.client.id;
  run.fake.user = ctx.client.user;  // redis.call runs with the caller's ACL user
  run.fake.script = true;
  run.start_us = MonoUs();
  run.busy_after_us = run.start_us + ctx.server.config().busy_reply_threshold_ms() * 1000;

  ShardLockSet locks;
  const bool outer = !ctx.txn.holds_all_shards();
  if (outer) {
    run.locks = &locks;
    run.mode = *mode;
    for (std::string_view k : keys) {
      int sh = Keyspace::ShardOf(k);
      run.declared.set(sh);
      if (run.mode == LockMode::kDeclared) locks.Add(sh);
    }
    if (run.mode == LockMode::kDeclared) {
      locks.Lock(ctx.ks);
      run.held = run.declared;
    } else {
      locks.LockAll(ctx.ks);
    }
  }
  ctx.txn.set_holds_all_shards(true);
  const int64_t outer_frozen_ms = ctx.txn.frozen_now_ms();
  if (outer_frozen_ms == 0) ctx.txn.set_frozen_now_ms(ctx.now_ms);
  env.run = &run;

  RunningScript& rs = *run.rs;
  rs.busy.store(false);
  rs.kill.store(false);
  rs.wrote.store(false);
  rs.is_function.store(is_function);
  if (is_function) {
    MutexLock l(rs.info_mu);
    rs.name = std::string(sha);
    rs.start_ms = NowMs();
  }
  rs.running.store(true, std::memory_order_release);
  auto end_running = [&] {
    rs.running.store(false, std::memory_order_release);
    if (rs.busy.exchange(false, std::memory_order_acq_rel)) {
      Cache().busy_count.fetch_sub(1, std::memory_order_acq_rel);
    }
  };

  std::string& staged = run.staged;
  staged.clear();
  if (outer) ctx.rb.BeginStaged(&staged);
  int rc;
  while (true) {
    lua_sethook(L, LuaHook, LUA_MASKCOUNT, kHookInstructions);
    if (!is_function) {
      SetArray(L, env.keys_table, "KEYS", keys);
      SetArray(L, env.argv_table, "ARGV", argv);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, env.error_handler_ref);  // LuaErrorHandler
    const int base = lua_gettop(L);
    lua_pushvalue(L, fn);
    int nargs = 0;
    if (is_function) {
      // A function gets KEYS and ARGV as its arguments.
      for (CmdArgs items : {keys, argv}) {
        lua_createtable(L, static_cast<int>(items.size()), 0);
        for (size_t i = 0; i < items.size(); i++) {
          lua_pushlstring(L, items[i].data(), items[i].size());
          lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
      }
      nargs = 2;
    }
    try {
      rc = lua_pcall(L, nargs, 1, base);
    } catch (...) {
      lua_settop(L, 0);
      env.run = nullptr;
      ctx.txn.set_frozen_now_ms(outer_frozen_ms);
      end_running();
      if (outer) {
        ctx.rb.DropStaged();
        ctx.txn.set_holds_all_shards(false);
        (void)ctx.ks.Commit(ctx.txn);
      }
      throw;
    }
    if (!run.restart) break;
    // It met a key of a shard it does not hold before it wrote anything: again, holding every
    // shard. What it read is forgotten; a lazy expiry's deletes are committed before the locks
    // are let go.
    lua_settop(L, fn);
    Cache().restarts.fetch_add(1, std::memory_order_relaxed);
    run.restart = false;
    run.mode = LockMode::kAll;
    run.resp = 2;
    run.fake.db.store(ctx.db, std::memory_order_relaxed);
    ctx.txn.set_holds_all_shards(false);
    (void)ctx.ks.Commit(ctx.txn);
    ctx.txn.set_holds_all_shards(true);
    locks.Unlock();
    locks.LockAll(ctx.ks);
  }
  lua_sethook(L, nullptr, 0, 0);
  if (outer) {
    if (*mode == LockMode::kLearn || run.deviated) {
      *mode = run.deviated ? LockMode::kAll : LockMode::kDeclared;
    }
  }
  // Client-side caching, as Redis 7.0: a script that ran a read-only command makes its caller
  // track the keys the script declared.
  if (run.called_read && ctx.client.tracking.on) ctx.server.tracking().Remember(keys, ctx.client);
  if (rc == 0) {
    ReplyFromLua(L, ctx.rb, run.resp, 0);
  } else {
    std::string msg;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      size_t n = 0;
      const char* s = lua_tolstring(L, -1, &n);
      msg.assign(s == nullptr ? "ERR unknown error" : std::string(s, n));
      lua_pop(L, 1);
      lua_getfield(L, -1, "source");
      lua_getfield(L, -2, "line");
      if (lua_isstring(L, -2) && lua_isnumber(L, -1)) {
        msg += " script: " + std::string(sha) + ", on " + lua_tostring(L, -2) + ":" +
               std::to_string(static_cast<int64_t>(lua_tonumber(L, -1))) + ".";
      }
      lua_pop(L, 2);
    } else {
      const char* s = lua_tostring(L, -1);
      msg = std::string("ERR ") + (s == nullptr ? "unknown error" : s);
    }
    if (!msg.empty() && msg[0] == '-') msg.erase(0, 1);
    ctx.rb.Error(msg);
  }
  lua_settop(L, 0);
  env.run = nullptr;
  ctx.txn.set_frozen_now_ms(outer_frozen_ms);
  end_running();
  rs.kill.store(false);
  if (rc != 0) lua_gc(L, LUA_GCCOLLECT, 0);

  if (outer) {
    ctx.txn.set_holds_all_shards(false);
    StorageEngine* storage = ctx.server.storage();
    if (!ctx.ks.Commit(ctx.txn).ok() && storage != nullptr) {
      ctx.rb.DropStaged();
      ctx.rb.Error(storage->Health().message() + ". The script's effects may not be durable.");
    } else {
      ctx.rb.CommitStaged();
    }
  }
  // A large reply is not kept around in the thread's scratch buffers.
  constexpr size_t kMaxKeptScratchBytes = 64 * 1024;
  if (run.staged.capacity() > kMaxKeptScratchBytes) std::string().swap(run.staged);
  if (run.out.capacity() > kMaxKeptScratchBytes) std::string().swap(run.out);
}

// Compiles `body` (cached under `sha`) into the thread's state and pushes its function; on
// failure replies the error and returns nullptr.
const LuaEnv::Compiled* CompileScript(CommandContext& ctx, LuaEnv& env, std::string_view sha,
                                      std::string body) {
  lua_State* L = env.L();
  ScriptFlags flags;
  std::string err;
  if (!ParseShebang(body, &flags, &err)) {
    ctx.rb.Error(err);
    return nullptr;
  }
  if (luaL_loadbuffer(L, body.data(), body.size(), "@user_script") != 0) {
    const char* m = lua_tostring(L, -1);
    ctx.rb.Error(std::string("ERR Error compiling script (new function): ") +
                 (m == nullptr ? "" : m));
    lua_pop(L, 1);
    return nullptr;
  }
  lua_pushvalue(L, -1);
  auto [it, inserted] = env.compiled.insert_or_assign(
      std::string(sha),
      LuaEnv::Compiled{luaL_ref(L, LUA_REGISTRYINDEX), flags.no_writes, flags.allow_oom,
                       flags.has_shebang, !flags.has_shebang || flags.allow_cross_slot});
  return &it->second;
}

// Validates numkeys; replies and returns false when bad.
bool ParseNumKeys(CommandContext& ctx, CmdArgs args, int64_t* numkeys) {
  if (!ParseInt64(args[2], numkeys)) {
    ctx.rb.Error("ERR value is not an integer or out of range");
    return false;
  }
  if (*numkeys > static_cast<int64_t>(args.size()) - 3) {
    ctx.rb.Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (*numkeys < 0) {
    ctx.rb.Error("ERR Number of keys can't be negative");
    return false;
  }
  return true;
}

void EvalGeneric(CmdArgs args, CommandContext& ctx, bool by_sha, bool read_only) {
  int64_t numkeys;
  if (!ParseNumKeys(ctx, args, &numkeys)) return;
  ScriptCache& cache = Cache();
  LuaEnv& env = ThreadEnv();
  char sha_buf[40];
  std::string hashed;
  std::string_view sha;
  if (!by_sha) {
    hashed = Sha1Hex(args[1]);
    sha = hashed;
  } else if (args[1].size() == sizeof(sha_buf)) {
    for (size_t i = 0; i < sizeof(sha_buf); i++) {
      char c = args[1][i];
      sha_buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    sha = std::string_view(sha_buf, sizeof(sha_buf));
  } else {
    sha = args[1];  // not a SHA1: NOSCRIPT below
  }
  const LuaEnv::Compiled* script = nullptr;
  auto it = env.compiled.find(absl::string_view(sha.data(), sha.size()));
  if (it != env.compiled.end()) {
    script = &it->second;
    lua_rawgeti(env.L(), LUA_REGISTRYINDEX, script->ref);
  } else {
    std::string body;
    if (by_sha) {
      MutexLock l(cache.mu);
      auto found = cache.bodies.find(absl::string_view(sha.data(), sha.size()));
      if (sha.size() != 40 || found == cache.bodies.end()) {
        ctx.rb.Error("NOSCRIPT No matching script. Please use EVAL.");
        return;
      }
      body = found->second;
    } else {
      body = std::string(args[1]);
    }
    script = CompileScript(ctx, env, sha, body);
    if (script == nullptr) return;
    if (!by_sha) {
      MutexLock l(cache.mu);
      cache.bodies.try_emplace(std::string(sha), std::move(body));
    }
  }
  bool ro = read_only || script->no_writes;
  // A script with a shebang declares whether it may write: one that may, without allow-oom,
  // is refused as a whole over maxmemory (one without is refused at its first such command).
  if (script->has_shebang && !script->no_writes && !script->allow_oom && ctx.ks.OverMaxmemory()) {
    lua_pop(env.L(), 1);
    ctx.rb.Error(errors::kOom);
    return;
  }
  // Likewise with min-replicas-to-write set (FDB has no replicas yet).
  if (script->has_shebang && !ro && ctx.server.MinReplicasRefuseWrites()) {
    lua_pop(env.L(), 1);
    ctx.rb.Error(errors::kNoReplicas);
    return;
  }
  CmdArgs keys = args.subspan(3, numkeys);
  CmdArgs argv = args.subspan(3 + numkeys);
  RunFunction(ctx, env, sha, keys, argv, ro, false, script->allow_oom, script->cross_slot_ok,
              &script->mode);
}

void CmdEval(CmdArgs args, CommandContext& ctx) { EvalGeneric(args, ctx, false, false); }
void CmdEvalSha(CmdArgs args, CommandContext& ctx) { EvalGeneric(args, ctx, true, false); }
void CmdEvalRo(CmdArgs args, CommandContext& ctx) { EvalGeneric(args, ctx, false, true); }
void CmdEvalShaRo(CmdArgs args, CommandContext& ctx) { EvalGeneric(args, ctx, true, true); }

void EvalKeys(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 2, 0, out);
}

void CmdScriptLoad(CmdArgs args, CommandContext& ctx) {
  std::string body(args[2]);
  std::string sha = Sha1Hex(body);
  // Compiled here once, so a script that does not compile is refused now.
  LuaEnv& env = ThreadEnv();
  if (CompileScript(ctx, env, sha, body) == nullptr) return;
  lua_pop(env.L(), 1);
  {
    ScriptCache& cache = Cache();
    MutexLock l(cache.mu);
    cache.bodies.try_emplace(sha, std::move(body));
  }
  ctx.rb.Bulk(sha);
}

void CmdScriptExists(CmdArgs args, CommandContext& ctx) {
  ScriptCache& cache = Cache();
  MutexLock l(cache.mu);
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb.Integer(cache.bodies.contains(Lower(args[i])) ? 1 : 0);
  }
}

void CmdScriptFlush(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3 ||
      (args.size() == 3 && !EqualsUpper(args[2], "SYNC") && !EqualsUpper(args[2], "ASYNC"))) {
    ctx.rb.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    return;
  }
  ScriptCache& cache = Cache();
  {
    MutexLock l(cache.mu);
    cache.bodies.clear();
    cache.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  ctx.rb.Ok();
}

void KillScript(CommandContext& ctx, bool function) {
  MutexLock l(Cache().runs_mu);
  RunningScript* busy = FindRunning(true);
  if (busy == nullptr) busy = FindRunning(false);
  if (busy == nullptr) {
    ctx.rb.Error("NOTBUSY No scripts in execution right now.");
    return;
  }
  RunningScript& rs = *busy;
  if (rs.is_function.load() != function) {
    ctx.rb.Error(function ? "NOTBUSY No scripts in execution right now."
                          : "ERR The busy script was sent by FCALL. You can use FUNCTION KILL "
                            "to kill it.");
    return;
  }
  if (rs.wrote.load(std::memory_order_acquire)) {
    ctx.rb.Error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
        "can either wait the script termination or kill the server in a hard way using the "
        "SHUTDOWN NOSAVE command.");
    return;
  }
  rs.kill.store(true, std::memory_order_release);
  ctx.rb.Ok();
}

void CmdScriptKill(CmdArgs, CommandContext& ctx) { KillScript(ctx, false); }

void CmdScriptDebug(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Error("ERR SCRIPT DEBUG is not supported by this server");
}

void CmdScriptHelp(CmdArgs, CommandContext& ctx) {
  static const char* lines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Print this help."};
  ctx.rb.ArrayHeader(std::size(lines));
  for (const char* l : lines) ctx.rb.SimpleString(l);
}

// ---- functions (FUNCTION LOAD / FCALL) ----

constexpr const char* kBadNameText =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long";

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

int LuaRegisterFunction(lua_State* L) {
  LuaEnv* env = LuaEnv::Of(L);
  if (env->loading == nullptr) {
    return luaL_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
  }
  LuaEnv::LoadedFunction f;
  int argc = lua_gettop(L);
  int fn_idx = 0;
  bool has_name = false;
  if (argc == 1) {
    if (!lua_istable(L, 1)) {
      return luaL_error(L,
                        "calling redis.register_function with a single argument is only "
                        "applicable to Lua table (representing named arguments).");
    }
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING) {
        return luaL_error(L, "named argument key given to redis.register_function is not a string");
      }
      std::string key = lua_tostring(L, -2);
      if (key == "function_name") {
        if (lua_type(L, -1) != LUA_TSTRING) {
          return luaL_error(
              L, "function_name argument given to redis.register_function must be a string");
        }
        size_t n;
        const char* s = lua_tolstring(L, -1, &n);
        f.name.assign(s, n);
        has_name = true;
      } else if (key == "description") {
        if (lua_type(L, -1) != LUA_TSTRING) {
          return luaL_error(
              L, "description argument given to redis.register_function must be a string");
        }
        f.description = lua_tostring(L, -1);
      } else if (key == "callback") {
        if (!lua_isfunction(L, -1)) {
          return luaL_error(
              L, "callback argument given to redis.register_function must be a function");
        }
        if (f.ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
        lua_pushvalue(L, -1);
        f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
        fn_idx = -1;
      } else if (key == "flags") {
        if (!lua_istable(L, -1)) {
          return luaL_error(L,
                            "flags argument to redis.register_function must be a table "
                            "representing function flags");
        }
        for (int i = 1;; i++) {
          lua_rawgeti(L, -1, i);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "unknown flag given");
          std::string flag = lua_tostring(L, -1);
          lua_pop(L, 1);
          if (flag == "no-writes") {
            f.no_writes = true;
          } else if (flag != "allow-oom" && flag != "allow-stale" && flag != "no-cluster" &&
                     flag != "allow-cross-slot-keys") {
            return luaL_error(L, "unknown flag given");
          }
          f.flags.push_back(flag);
        }
      } else {
        return luaL_error(L, "unknown argument given to redis.register_function");
      }
      lua_pop(L, 1);
    }
    if (!has_name) {
      return luaL_error(L, "redis.register_function must get a function name argument");
    }
    if (fn_idx == 0) {
      return luaL_error(L, "redis.register_function must get a callback argument");
    }
  } else {
    if (argc != 2) return luaL_error(L, "wrong number of arguments to redis.register_function");
    if (lua_type(L, 1) != LUA_TSTRING) {
      return luaL_error(L, "first argument to redis.register_function must be a string");
    }
    if (!lua_isfunction(L, 2)) {
      return luaL_error(L, "second argument to redis.register_function must be a function");
    }
    size_t n;
    const char* s = lua_tolstring(L, 1, &n);
    f.name.assign(s, n);
    lua_pushvalue(L, 2);
    f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  if (!ValidName(f.name)) return luaL_error(L, "%s", kBadNameText);
  std::string lower = Lower(f.name);
  for (const auto& other : *env->loading) {
    if (Lower(other.name) == lower) return luaL_error(L, "Function already exists in the library");
  }
  env->loading->push_back(std::move(f));
  return 0;
}

struct LibraryMeta {
  std::string name;
  std::string body;  // the code with its first line blanked
};

// Splits a shebang line as Redis's sdssplitargs would for the simple forms it takes.
std::vector<std::string> SplitShebang(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
    if (i >= line.size()) break;
    std::string tok;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
      if (line[i] == '"' || line[i] == '\'') {
        char q = line[i++];
        while (i < line.size() && line[i] != q) tok += line[i++];
        if (i < line.size()) i++;
      } else {
        tok += line[i++];
      }
    }
    out.push_back(tok);
  }
  return out;
}

bool ParseLibraryMeta(std::string_view code, LibraryMeta* meta, std::string* err) {
  if (code.size() < 2 || code[0] != '#' || code[1] != '!') {
    *err = "ERR Missing library metadata";
    return false;
  }
  size_t eol = code.find('\n');
  std::string_view line = code.substr(2, eol == std::string_view::npos ? code.npos : eol - 2);
  std::vector<std::string> parts;
  // The engine is what follows "#!" up to the first space (possibly empty).
  size_t sp = line.find(' ');
  std::string engine(line.substr(0, sp));
  parts = SplitShebang(sp == std::string_view::npos ? std::string_view() : line.substr(sp));
  if (Lower(engine) != "lua") {
    *err = "ERR Engine '" + engine + "' not found";
    return false;
  }
  bool named = false;
  for (const std::string& p : parts) {
    if (p.rfind("name=", 0) == 0) {
      if (named) {
        *err = "ERR Invalid metadata value, name argument was given multiple times";
        return false;
      }
      named = true;
      meta->name = p.substr(5);
    } else {
      *err = "ERR Invalid metadata value given: " + p;
      return false;
    }
  }
  if (!named) {
    *err = "ERR Library name was not given";
    return false;
  }
  if (!ValidName(meta->name)) {
    *err = std::string("ERR ") + kBadNameText;
    return false;
  }
  meta->body = std::string(code);
  meta->body.replace(0, eol == std::string_view::npos ? code.size() : eol, "");
  return true;
}

// Runs a library's code in `env` with the load-time globals; the functions it registers are
// appended to *out (their refs in env's registry). Returns false with Redis's error text.
bool RunLibrary(LuaEnv& env, const std::string& body, std::vector<LuaEnv::LoadedFunction>* out,
                std::string* err) {
  lua_State* L = env.L();
  if (luaL_loadbuffer(L, body.data(), body.size(), "@user_function") != 0) {
    const char* m = lua_tostring(L, -1);
    *err = std::string("ERR Error compiling function: ") + (m == nullptr ? "" : m);
    lua_settop(L, 0);
    return false;
  }
  // The globals read from the load-time table while the code runs.
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_getfield(L, LUA_REGISTRYINDEX, "fdb_load_globals");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  env.loading = out;
  env.load_deadline_us = MonoUs() + 500000;
  lua_sethook(L, LuaHook, LUA_MASKCOUNT, kHookInstructions);
  lua_pushcfunction(L, LuaErrorHandler);
  lua_insert(L, -2);
  int rc = lua_pcall(L, 0, 0, -2);
  lua_sethook(L, nullptr, 0, 0);
  env.loading = nullptr;
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_getfield(L, LUA_REGISTRYINDEX, "fdb_real_globals");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  if (rc != 0) {
    std::string msg;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      const char* m = lua_tostring(L, -1);
      msg = m == nullptr ? "ERR unknown error" : m;
    } else {
      const char* m = lua_tostring(L, -1);
      msg = m == nullptr ? "unknown error" : m;
    }
    if (msg.rfind("ERR ", 0) == 0) msg.erase(0, 4);
    *err = "ERR Error registering functions: " + msg;
    for (auto& f : *out) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
    out->clear();
    lua_settop(L, 0);
    return false;
  }
  lua_settop(L, 0);
  return true;
}

struct FunctionInfo {
  std::string name;
  std::string description;
  std::vector<std::string> flags;
  bool no_writes = false;
};

struct Library {
  std::string name;
  std::string code;  // as given to FUNCTION LOAD
  std::vector<FunctionInfo> functions;
};

struct FunctionRegistry {
  Mutex mu;
  std::map<std::string, Library> libraries ABSL_GUARDED_BY(mu);             // by lower-case name
  absl::flat_hash_map<std::string, std::string> owner ABSL_GUARDED_BY(mu);  // function -> lib
  std::atomic<uint64_t> generation{1};
  bool loaded ABSL_GUARDED_BY(mu) = false;  // read from the data directory
  std::string path ABSL_GUARDED_BY(mu);     // the data directory's functions file ("": none)
};

FunctionRegistry& Functions() {
  static FunctionRegistry* r = new FunctionRegistry;
  return *r;
}

// Validates `code` in a fresh state: its metadata and the functions it registers.
bool ValidateLibrary(std::string_view code, Library* lib, std::string* err) {
  LibraryMeta meta;
  if (!ParseLibraryMeta(code, &meta, err)) return false;
  LuaEnv env;
  std::vector<LuaEnv::LoadedFunction> fns;
  if (!RunLibrary(env, meta.body, &fns, err)) return false;
  if (fns.empty()) {
    *err = "ERR No functions registered";
    return false;
  }
  lib->name = meta.name;
  lib->code = std::string(code);
  for (auto& f : fns) {
    lib->functions.push_back(FunctionInfo{f.name, f.description, f.flags, f.no_writes});
  }
  return true;
}

// The library file: "FDBFN1\n" then, per library, its code's length (8 bytes, little endian)
// and code; then an FNV-1a 64 checksum of everything before it. FUNCTION DUMP's payload is the
// same bytes.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; i++) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetU64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

constexpr std::string_view kDumpMagic = "FDBFN1\n";

std::string EncodeLibraries(const std::map<std::string, Library>& libs) {
  std::string out(kDumpMagic);
  for (const auto& [name, lib] : libs) {
    PutU64(&out, lib.code.size());
    out += lib.code;
  }
  PutU64(&out, Fnv1a(out));
  return out;
}

bool DecodeLibraries(std::string_view payload, std::vector<std::string>* codes) {
  if (payload.size() < kDumpMagic.size() + 8 ||
      payload.substr(0, kDumpMagic.size()) != kDumpMagic) {
    return false;
  }
  std::string_view body = payload.substr(0, payload.size() - 8);
  if (GetU64(payload.substr(payload.size() - 8)) != Fnv1a(body)) return false;
  size_t pos = kDumpMagic.size();
  while (pos < body.size()) {
    if (body.size() - pos < 8) return false;
    uint64_t n = GetU64(body.substr(pos));
    pos += 8;
    if (n > body.size() - pos) return false;
    codes->emplace_back(body.substr(pos, n));
    pos += n;
  }
  return true;
}

// Writes the libraries to the data directory's file (temp, rename) before the command that
// changed them replies: a kill -9 cannot lose them. With `appendfsync always` the file and the
// directory are also fsynced first, so a power loss cannot either; with everysec or no, as the
// log's records, that is left to the kernel (two fsyncs cost a FUNCTION LOAD ~10 ms here).
// REQUIRES: reg.mu held.
Status PersistLibraries(FunctionRegistry& reg, const Config& config)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(reg.mu) {
  const bool sync = config.appendfsync() == "always";
  if (reg.path.empty()) return Status::OK();
  std::string data = EncodeLibraries(reg.libraries);
  std::string tmp = reg.path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp + ": " + strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status::IOError("cannot write " + tmp + ": " + strerror(e));
    }
    off += static_cast<size_t>(w);
  }
  if (sync && ::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return Status::IOError("cannot fsync " + tmp + ": " + strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), reg.path.c_str()) != 0) {
    return Status::IOError("cannot rename " + tmp + ": " + strerror(errno));
  }
  if (!sync) return Status::OK();
  std::string dir =
      reg.path.substr(0, reg.path.rfind('/') == std::string::npos ? 1 : reg.path.rfind('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

// Adds a validated library. REQUIRES: reg.mu held; its functions are free (or replace = the
// library's own).
void InstallLibrary(FunctionRegistry& reg, Library lib) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reg.mu) {
  std::string key = Lower(lib.name);
  for (const auto& f : lib.functions) reg.owner[Lower(f.name)] = key;
  reg.libraries[key] = std::move(lib);
}

void RemoveLibrary(FunctionRegistry& reg, const std::string& key)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(reg.mu) {
  auto it = reg.libraries.find(key);
  if (it == reg.libraries.end()) return;
  for (const auto& f : it->second.functions) reg.owner.erase(Lower(f.name));
  reg.libraries.erase(it);
}

// The function a library would add that another library already has ("" when none).
std::string Collision(FunctionRegistry& reg, const Library& lib, const std::string& replacing)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(reg.mu) {
  for (const auto& f : lib.functions) {
    auto it = reg.owner.find(Lower(f.name));
    if (it != reg.owner.end() && it->second != replacing) return f.name;
  }
  return "";
}

// Reads the libraries saved in the data directory, once, on first use.
FunctionRegistry& LoadedFunctions(CommandContext& ctx) {
  FunctionRegistry& reg = Functions();
  MutexLock l(reg.mu);
  if (reg.loaded) return reg;
  reg.loaded = true;
  if (ctx.server.storage() == nullptr) return reg;
  reg.path = ctx.server.config().dir() + "/functions.fdbf";
  int fd = ::open(reg.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return reg;
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  std::vector<std::string> codes;
  if (!DecodeLibraries(data, &codes)) {
    FDB_LOG(LogLevel::kWarning, "The function library file %s is corrupt: ignored.",
            reg.path.c_str());
    return reg;
  }
  for (const std::string& code : codes) {
    Library lib;
    std::string err;
    if (!ValidateLibrary(code, &lib, &err)) {
      FDB_LOG(LogLevel::kWarning, "A saved function library does not load: %s", err.c_str());
      continue;
    }
    InstallLibrary(reg, std::move(lib));
  }
  reg.generation.fetch_add(1);
  return reg;
}

void ReplyPersistError(CommandContext& ctx, const Status& st) {
  ctx.rb.Error("ERR The function library could not be saved: " + st.message());
}

void CmdFunctionLoad(CmdArgs args, CommandContext& ctx) {
  bool replace = false;
  size_t i = 2;
  for (; i + 1 < args.size(); i++) {
    if (EqualsUpper(args[i], "REPLACE")) {
      replace = true;
    } else {
      ctx.rb.Error("ERR Unknown option given: " + std::string(args[i]));
      return;
    }
  }
  if (i >= args.size()) {
    ctx.rb.Error("ERR Function code was not given");
    return;
  }
  Library lib;
  std::string err;
  if (!ValidateLibrary(args[i], &lib, &err)) {
    ctx.rb.Error(err);
    return;
  }
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  std::string key = Lower(lib.name);
  bool exists = reg.libraries.contains(key);
  if (exists && !replace) {
    ctx.rb.Error("ERR Library '" + lib.name + "' already exists");
    return;
  }
  std::string clash = Collision(reg, lib, exists ? key : "");
  if (!clash.empty()) {
    ctx.rb.Error("ERR Function " + clash + " already exists");
    return;
  }
  std::string name = lib.name;
  RemoveLibrary(reg, key);
  InstallLibrary(reg, std::move(lib));
  reg.generation.fetch_add(1);
  Status st = PersistLibraries(reg, ctx.server.config());
  if (!st.ok()) return ReplyPersistError(ctx, st);
  ctx.rb.Bulk(name);
}

void CmdFunctionDelete(CmdArgs args, CommandContext& ctx) {
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  std::string key = Lower(args[2]);
  if (!reg.libraries.contains(key)) {
    ctx.rb.Error("ERR Library not found");
    return;
  }
  RemoveLibrary(reg, key);
  reg.generation.fetch_add(1);
  Status st = PersistLibraries(reg, ctx.server.config());
  if (!st.ok()) return ReplyPersistError(ctx, st);
  ctx.rb.Ok();
}

void CmdFunctionFlush(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) {
    ctx.rb.Error(
        "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.");
    return;
  }
  if (args.size() == 3 && !EqualsUpper(args[2], "SYNC") && !EqualsUpper(args[2], "ASYNC")) {
    ctx.rb.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  reg.libraries.clear();
  reg.owner.clear();
  reg.generation.fetch_add(1);
  Status st = PersistLibraries(reg, ctx.server.config());
  if (!st.ok()) return ReplyPersistError(ctx, st);
  ctx.rb.Ok();
}

void CmdFunctionDump(CmdArgs, CommandContext& ctx) {
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  ctx.rb.Bulk(EncodeLibraries(reg.libraries));
}

void CmdFunctionRestore(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 4) {
    ctx.rb.Error(
        "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.");
    return;
  }
  enum { kAppend, kReplace, kFlush } policy = kAppend;
  if (args.size() == 4) {
    if (EqualsUpper(args[3], "APPEND")) {
      policy = kAppend;
    } else if (EqualsUpper(args[3], "REPLACE")) {
      policy = kReplace;
    } else if (EqualsUpper(args[3], "FLUSH")) {
      policy = kFlush;
    } else {
      ctx.rb.Error(
          "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
      return;
    }
  }
  std::vector<std::string> codes;
  if (!DecodeLibraries(args[2], &codes)) {
    ctx.rb.Error("ERR payload version or checksum are wrong");
    return;
  }
  std::vector<Library> libs;
  for (const std::string& code : codes) {
    Library lib;
    std::string err;
    if (!ValidateLibrary(code, &lib, &err)) {
      ctx.rb.Error(err);
      return;
    }
    libs.push_back(std::move(lib));
  }
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  std::map<std::string, Library> saved = reg.libraries;
  auto saved_owner = reg.owner;
  if (policy == kFlush) {
    reg.libraries.clear();
    reg.owner.clear();
  }
  for (Library& lib : libs) {
    std::string key = Lower(lib.name);
    bool exists = reg.libraries.contains(key);
    std::string err;
    if (exists && policy != kReplace) {
      err = "ERR Library " + lib.name + " already exists";
    } else {
      std::string clash = Collision(reg, lib, exists ? key : "");
      if (!clash.empty()) err = "ERR Function " + clash + " already exists";
    }
    if (!err.empty()) {
      reg.libraries = std::move(saved);
      reg.owner = std::move(saved_owner);
      ctx.rb.Error(err);
      return;
    }
    RemoveLibrary(reg, key);
    InstallLibrary(reg, std::move(lib));
  }
  reg.generation.fetch_add(1);
  Status st = PersistLibraries(reg, ctx.server.config());
  if (!st.ok()) return ReplyPersistError(ctx, st);
  ctx.rb.Ok();
}

void CmdFunctionList(CmdArgs args, CommandContext& ctx) {
  bool with_code = false;
  bool has_pattern = false;
  std::string pattern;
  for (size_t i = 2; i < args.size(); i++) {
    if (EqualsUpper(args[i], "WITHCODE") && !with_code) {
      with_code = true;
    } else if (EqualsUpper(args[i], "LIBRARYNAME") && !has_pattern) {
      if (i + 1 >= args.size()) {
        ctx.rb.Error("ERR library name argument was not given");
        return;
      }
      has_pattern = true;
      pattern = std::string(args[++i]);
    } else {
      ctx.rb.Error("ERR Unknown argument " + std::string(args[i]));
      return;
    }
  }
  FunctionRegistry& reg = LoadedFunctions(ctx);
  MutexLock l(reg.mu);
  std::vector<const Library*> libs;
  for (const auto& [key, lib] : reg.libraries) {
    if (!has_pattern || GlobMatch(pattern, lib.name)) libs.push_back(&lib);
  }
  ctx.rb.ArrayHeader(libs.size());
  for (const Library* lib : libs) {
    ctx.rb.MapHeader(with_code ? 4 : 3);
    ctx.rb.Bulk("library_name");
    ctx.rb.Bulk(lib->name);
    ctx.rb.Bulk("engine");
    ctx.rb.Bulk("LUA");
    ctx.rb.Bulk("functions");
    ctx.rb.ArrayHeader(lib->functions.size());
    for (const FunctionInfo& f : lib->functions) {
      ctx.rb.MapHeader(3);
      ctx.rb.Bulk("name");
      ctx.rb.Bulk(f.name);
      ctx.rb.Bulk("description");
      if (f.description.empty()) {
        ctx.rb.NullBulk();
      } else {
        ctx.rb.Bulk(f.description);
      }
      ctx.rb.Bulk("flags");
      ctx.rb.SetHeader(f.flags.size());
      for (const std::string& fl : f.flags) ctx.rb.Bulk(fl);
    }
    if (with_code) {
      ctx.rb.Bulk("library_code");
      ctx.rb.Bulk(lib->code);
    }
  }
}

void CmdFunctionKill(CmdArgs, CommandContext& ctx) { KillScript(ctx, true); }

void CmdFunctionStats(CmdArgs, CommandContext& ctx) {
  FunctionRegistry& reg = LoadedFunctions(ctx);
  size_t nlibs, nfuncs;
  {
    MutexLock l(reg.mu);
    nlibs = reg.libraries.size();
    nfuncs = reg.owner.size();
  }
  ctx.rb.MapHeader(2);
  ctx.rb.Bulk("running_script");
  MutexLock runs_lock(Cache().runs_mu);
  RunningScript* running = nullptr;
  for (RunningScript* r : Cache().runs) {
    if (r->running.load() && r->is_function.load()) running = r;
  }
  if (running != nullptr) {
    RunningScript& rs = *running;
    MutexLock l(rs.info_mu);
    ctx.rb.MapHeader(3);
    ctx.rb.Bulk("name");
    ctx.rb.Bulk(rs.name);
    ctx.rb.Bulk("command");
    ctx.rb.ArrayHeader(rs.command.size());
    for (const std::string& a : rs.command) ctx.rb.Bulk(a);
    ctx.rb.Bulk("duration_ms");
    ctx.rb.Integer(NowMs() - rs.start_ms);
  } else {
    ctx.rb.NullBulk();
  }
  ctx.rb.Bulk("engines");
  ctx.rb.MapHeader(1);
  ctx.rb.Bulk("LUA");
  ctx.rb.MapHeader(2);
  ctx.rb.Bulk("libraries_count");
  ctx.rb.Integer(static_cast<int64_t>(nlibs));
  ctx.rb.Bulk("functions_count");
  ctx.rb.Integer(static_cast<int64_t>(nfuncs));
}

void CmdFunctionHelp(CmdArgs, CommandContext& ctx) {
  static const char* lines[] = {"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                "LOAD [REPLACE] <FUNCTION CODE>",
                                "DELETE <LIBRARY NAME>",
                                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                                "FLUSH [ASYNC|SYNC]",
                                "DUMP",
                                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                                "KILL",
                                "STATS",
                                "HELP"};
  ctx.rb.ArrayHeader(std::size(lines));
  for (const char* l : lines) ctx.rb.SimpleString(l);
}

// Brings the thread's state up to the current libraries and finds `name`.
const LuaEnv::LoadedFunction* FindFunction(CommandContext& ctx, LuaEnv& env,
                                           std::string_view name) {
  FunctionRegistry& reg = LoadedFunctions(ctx);
  uint64_t gen = reg.generation.load(std::memory_order_acquire);
  if (env.fn_generation != gen) {
    for (auto& [n, f] : env.functions) luaL_unref(env.L(), LUA_REGISTRYINDEX, f.ref);
    env.functions.clear();
    std::vector<std::string> codes;
    {
      MutexLock l(reg.mu);
      gen = reg.generation.load();
      for (const auto& [key, lib] : reg.libraries) codes.push_back(lib.code);
    }
    for (const std::string& code : codes) {
      LibraryMeta meta;
      std::string err;
      std::vector<LuaEnv::LoadedFunction> fns;
      if (!ParseLibraryMeta(code, &meta, &err) || !RunLibrary(env, meta.body, &fns, &err)) {
        continue;
      }
      for (auto& f : fns) env.functions[Lower(f.name)] = std::move(f);
    }
    env.fn_generation = gen;
  }
  auto it = env.functions.find(Lower(name));
  return it == env.functions.end() ? nullptr : &it->second;
}

void FCallGeneric(CmdArgs args, CommandContext& ctx, bool read_only) {
  int64_t numkeys;
  if (!ParseInt64(args[2], &numkeys)) {
    ctx.rb.Error("ERR Bad number of keys provided");
    return;
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    ctx.rb.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.rb.Error("ERR Number of keys can't be negative");
    return;
  }
  LuaEnv& env = ThreadEnv();
  const LuaEnv::LoadedFunction* f = FindFunction(ctx, env, args[1]);
  if (f == nullptr) {
    ctx.rb.Error("ERR Function not found");
    return;
  }
  if (read_only && !f->no_writes) {
    ctx.rb.Error("ERR Can not execute a script with write flag using *_ro command.");
    return;
  }
  bool allow_oom = false, cross_slot_ok = false;
  for (const std::string& fl : f->flags) {
    allow_oom |= fl == "allow-oom";
    cross_slot_ok |= fl == "allow-cross-slot-keys";
  }
  if (!f->no_writes && !allow_oom && ctx.ks.OverMaxmemory()) {
    ctx.rb.Error(errors::kOom);
    return;
  }
  if (!f->no_writes && !read_only && ctx.server.MinReplicasRefuseWrites()) {
    ctx.rb.Error(errors::kNoReplicas);
    return;
  }
  lua_rawgeti(env.L(), LUA_REGISTRYINDEX, f->ref);
  // A function gets KEYS and ARGV as its arguments, not as globals.
  CmdArgs keys = args.subspan(3, numkeys);
  CmdArgs argv = args.subspan(3 + numkeys);
  std::string name = f->name;
  {
    RunningScript& rs = ThreadRun();
    MutexLock l(rs.info_mu);
    rs.command.assign(args.begin(), args.end());
  }
  RunFunction(ctx, env, name, keys, argv, read_only || f->no_writes, true, allow_oom, cross_slot_ok,
              &f->mode);
}

void CmdFCall(CmdArgs args, CommandContext& ctx) { FCallGeneric(args, ctx, false); }
void CmdFCallRo(CmdArgs args, CommandContext& ctx) { FCallGeneric(args, ctx, true); }

}  // namespace

ScriptLockStats GetScriptLockStats() {
  return {Cache().restarts.load(std::memory_order_relaxed),
          Cache().escalations.load(std::memory_order_relaxed)};
}

size_t CachedScriptCount() {
  ScriptCache& cache = Cache();
  MutexLock l(cache.mu);
  return cache.bodies.size();
}

bool ScriptBusyRefuses(const CommandSpec& spec, std::span<const std::string_view> args,
                       ReplyBuilder& rb) {
  if (Cache().busy_count.load(std::memory_order_acquire) == 0) return false;
  bool is_function;
  {
    MutexLock l(Cache().runs_mu);
    RunningScript* busy = FindRunning(true);
    if (busy == nullptr) return false;
    is_function = busy->is_function.load();
  }
  std::string_view name = spec.name;
  // SCRIPT KILL is for EVAL, FUNCTION KILL for FCALL: the other one gets BUSY too.
  if ((name == "script|kill" && !is_function) || (name == "function|kill" && is_function) ||
      name == "function|stats" || name == "auth" || name == "hello" || name == "multi" ||
      name == "quit") {
    // Redis's allow-busy commands that take no shard lock (DISCARD, WATCH, UNWATCH and RESET
    // may have to release watches, which waits for the locks the script holds).
    return false;
  }
  if (name == "shutdown") {
    for (size_t i = 1; i < args.size(); i++) {
      if (EqualsUpper(args[i], "NOSAVE")) {
        // The script's effects are not committed: end the process now, as a kill would,
        // without them.
        FDB_LOG(LogLevel::kWarning, "SHUTDOWN NOSAVE while a script is busy: exiting now.");
        _exit(0);
      }
    }
  }
  rb.Error(is_function ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                         "SHUTDOWN NOSAVE."
                       : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                         "SHUTDOWN NOSAVE.");
  return true;
}

void RegisterScriptingFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  CommandSpec eval{"eval", -3, kNoScript | kStale | kSelfLocking, 3, 3, 1, CmdEval, "scripting", "Executes a server-side Lua script.", "2.6.0"};
  eval.keys = EvalKeys;
  r.Register(eval);
  CommandSpec evalsha{"evalsha", -3, kNoScript | kStale | kSelfLocking, 3, 3, 1, CmdEvalSha, "scripting", "Executes a server-side Lua script by SHA1 digest.", "2.6.0"};
  evalsha.keys = EvalKeys;
  r.Register(evalsha);
  CommandSpec eval_ro{"eval_ro", -3, kNoScript | kStale | kReadOnly | kSelfLocking, 3, 3, 1, CmdEvalRo, "scripting", "Executes a read-only server-side Lua script.", "7.0.0"};
  eval_ro.keys = EvalKeys;
  r.Register(eval_ro);
  CommandSpec evalsha_ro{"evalsha_ro", -3, kNoScript | kStale | kReadOnly | kSelfLocking, 3, 3, 1, CmdEvalShaRo, "scripting", "Executes a read-only server-side Lua script by SHA1 digest.", "7.0.0"};
  evalsha_ro.keys = EvalKeys;
  r.Register(evalsha_ro);
  CommandSpec fcall{"fcall", -3, kNoScript | kStale | kSelfLocking, 3, 3, 1, CmdFCall, "scripting", "Invokes a function.", "7.0.0"};
  fcall.keys = EvalKeys;
  r.Register(fcall);
  CommandSpec fcall_ro{"fcall_ro", -3, kNoScript | kStale | kReadOnly | kSelfLocking, 3, 3, 1, CmdFCallRo, "scripting", "Invokes a read-only function.", "7.0.0"};
  fcall_ro.keys = EvalKeys;
  r.Register(fcall_ro);
  r.Register({"function", -2, kNoScript, 0, 0, 0, nullptr, "scripting", "A container for function commands.", "7.0.0"});
  r.Register({"function|load", -3, kNoScript | kDenyOom, 0, 0, 0, CmdFunctionLoad, "scripting", "Creates a library.", "7.0.0"});
  r.Register({"function|delete", 3, kNoScript, 0, 0, 0, CmdFunctionDelete, "scripting", "Deletes a library and its functions.", "7.0.0"});
  r.Register({"function|flush", -2, kNoScript, 0, 0, 0, CmdFunctionFlush, "scripting", "Deletes all libraries and functions.", "7.0.0"});
  r.Register({"function|dump", 2, kNoScript, 0, 0, 0, CmdFunctionDump, "scripting", "Dumps all libraries into a serialized binary payload.", "7.0.0"});
  r.Register({"function|restore", -3, kNoScript | kDenyOom, 0, 0, 0, CmdFunctionRestore, "scripting", "Restores all libraries from a payload.", "7.0.0"});
  r.Register({"function|list", -2, kNoScript, 0, 0, 0, CmdFunctionList, "scripting", "Returns information about all libraries.", "7.0.0"});
  r.Register({"function|kill", 2, kNoScript, 0, 0, 0, CmdFunctionKill, "scripting", "Terminates a function during execution.", "7.0.0"});
  r.Register({"function|stats", 2, kNoScript, 0, 0, 0, CmdFunctionStats, "scripting", "Returns information about a function during execution.", "7.0.0"});
  r.Register({"function|help", 2, kLoading | kStale, 0, 0, 0, CmdFunctionHelp, "scripting", "Returns helpful text about the different subcommands.", "7.0.0"});
  r.Register({"script", -2, kNoScript, 0, 0, 0, nullptr, "scripting", "A container for Lua scripts management commands.", "2.6.0"});
  r.Register({"script|load", 3, kNoScript | kStale, 0, 0, 0, CmdScriptLoad, "scripting", "Loads a server-side Lua script to the script cache.", "2.6.0"});
  r.Register({"script|exists", -3, kNoScript | kStale, 0, 0, 0, CmdScriptExists, "scripting", "Determines whether server-side Lua scripts exist in the script cache.", "2.6.0"});
  r.Register({"script|flush", -2, kNoScript, 0, 0, 0, CmdScriptFlush, "scripting", "Removes all server-side Lua scripts from the script cache.", "2.6.0"});
  r.Register({"script|kill", 2, kNoScript, 0, 0, 0, CmdScriptKill, "scripting", "Terminates a server-side Lua script during execution.", "2.6.0"});
  r.Register({"script|debug", 3, kNoScript, 0, 0, 0, CmdScriptDebug, "scripting", "Sets the debug mode of server-side Lua scripts.", "3.2.0"});
  r.Register({"script|help", 2, kLoading | kStale, 0, 0, 0, CmdScriptHelp, "scripting", "Returns helpful text about the different subcommands.", "5.0.0"});
  // clang-format on
}

bool ScriptMayWrite(std::string_view command, CmdArgs args) {
  // A script without a shebang may write (Redis: the command's may-replicate flag); one with
  // a shebang writes unless it says no-writes. An unknown SHA or function: as Redis, the
  // command's own flags (it will be refused anyway).
  auto body_may_write = [](std::string body) {
    ScriptFlags flags;
    std::string err;
    if (!ParseShebang(body, &flags, &err)) return true;
    return !flags.no_writes;
  };
  if (command == "eval") return args.size() < 2 || body_may_write(std::string(args[1]));
  if (command == "evalsha") {
    if (args.size() < 2) return true;
    ScriptCache& cache = Cache();
    MutexLock l(cache.mu);
    auto found = cache.bodies.find(Lower(args[1]));
    return found == cache.bodies.end() || body_may_write(found->second);
  }
  if (command == "fcall") {
    if (args.size() < 2) return true;
    FunctionRegistry& reg = Functions();
    MutexLock l(reg.mu);
    auto owner = reg.owner.find(Lower(args[1]));
    if (owner == reg.owner.end()) return true;
    auto lib = reg.libraries.find(owner->second);
    if (lib == reg.libraries.end()) return true;
    for (const FunctionInfo& f : lib->second.functions) {
      if (Lower(f.name) == Lower(args[1])) return !f.no_writes;
    }
    return true;
  }
  return false;
}

}  // namespace fdb
