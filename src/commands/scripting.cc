// Lua scripting: EVAL / EVALSHA / EVAL_RO / EVALSHA_RO and SCRIPT, on Debian's Lua 5.1.
//
// The model (docs/scripting.md):
// - Each I/O thread has its own Lua state (LuaEnv), made on first use; the script cache (sha ->
//   body) is shared by every thread, and a thread compiles a cached script into its own state
//   the first time it runs it. SCRIPT FLUSH bumps a generation: every thread drops its state
//   before its next script.
// - A script holds every shard lock while it runs (ShardLockSet::LockAll, as EXEC), whatever
//   keys it declares: undeclared keys are as safe as declared ones, and two scripts never
//   interleave. Its transaction collects every effect of its redis.call's and commits them as
//   one batch, under the locks, before the reply leaves (staged, as a write's).
// - redis.call runs the command through the dispatcher inside that transaction (command table,
//   arity, wrong-type errors, statistics), after the checks Redis makes for scripts.
// - The sandbox: the globals table and the library tables are read-only proxies; reading an
//   undefined global raises Redis's error; loadfile, dofile, print and setfenv are gone.
#include "commands/scripting.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/numbers.h"
#include "commands/context.h"
#include "commands/dispatcher.h"
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

// What the script running now (at most one: it holds every shard) is doing, for BUSY, SCRIPT
// KILL and FUNCTION KILL from other threads.
struct RunningScript {
  std::atomic<bool> running{false};
  std::atomic<bool> busy{false};  // ran past busy-reply-threshold
  std::atomic<bool> kill{false};  // SCRIPT/FUNCTION KILL asked for its end
  std::atomic<bool> wrote{false};
  std::atomic<bool> is_function{false};
};

struct ScriptCache {
  Mutex mu;
  absl::flat_hash_map<std::string, std::string> bodies ABSL_GUARDED_BY(mu);  // sha -> body
  std::atomic<uint64_t> generation{1};
  RunningScript run;
};

ScriptCache& Cache() {
  static ScriptCache* cache = new ScriptCache;
  return *cache;
}

// ---- one thread's Lua state ----

struct RunCtx;

// What a script invocation needs in its redis.call's.
struct RunCtx {
  CommandContext* ctx = nullptr;
  Dispatcher* dispatcher = nullptr;
  ClientState fake;  // the script's client: the caller's database, RESP per redis.setresp
  bool read_only = false;
  int resp = 2;
  int64_t start_us = 0;
  int64_t busy_after_us = 0;
  std::string out;  // a command's reply
  std::vector<std::string_view> argv;
  std::vector<std::string> numbers;
};

class LuaEnv {
 public:
  LuaEnv() {
    L_ = lua_newstate(&LuaEnv::Alloc, this);
    SetupLua(L_);
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
  uint64_t generation = 0;
  struct Compiled {
    int ref;         // the registry ref of its function
    bool no_writes;  // its shebang says flags=no-writes
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
      lua_getfield(L, -1, "err");
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
      lua_getfield(L, -1, "ok");
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
      lua_getfield(L, -1, "double");
      if (lua_type(L, -1) == LUA_TNUMBER) {
        rb.Double(lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      lua_getfield(L, -1, "big_number");
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
      lua_getfield(L, -1, "verbatim_string");
      if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "format");
        lua_getfield(L, -2, "string");
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
      lua_getfield(L, -1, "map");
      if (lua_type(L, -1) == LUA_TTABLE) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pop(L, 1);
          n++;
        }
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
      lua_getfield(L, -1, "set");
      if (lua_type(L, -1) == LUA_TTABLE) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pop(L, 1);
          n++;
        }
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
  if (spec->flags & cmdflags::kNoScript) return "ERR This Redis command is not allowed from script";
  if (spec->flags & cmdflags::kWrite) {
    if (run.read_only) return "ERR Write commands are not allowed from read-only scripts.";
    StorageEngine* storage = run.ctx->server.storage();
    if (storage != nullptr && !storage->Health().ok()) {
      return "MISCONF Errors writing to the log: commands that may modify the data set are "
             "disabled";
    }
  }
  return {};
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
      char buf[64];
      double v = lua_tonumber(L, i);
      auto r = std::to_chars(buf, buf + sizeof(buf), v);
      run->numbers.emplace_back(buf, r.ptr);
      run->argv.push_back(run->numbers.back());
    } else if (t == LUA_TSTRING) {
      size_t n;
      const char* s = lua_tolstring(L, i, &n);
      run->argv.emplace_back(s, n);
    } else {
      return fail("ERR Lua redis lib command arguments must be strings or integers");
    }
  }
  const CommandSpec* spec = nullptr;
  std::string_view refused = CheckCall(*run, spec, run->argv);
  if (!refused.empty()) return fail(refused);
  if (spec->flags & cmdflags::kWrite) Cache().run.wrote.store(true, std::memory_order_relaxed);
  run->out.clear();
  ReplyBuilder rb(&run->out);
  rb.set_resp3(run->resp == 3);
  run->fake.resp3.store(run->resp == 3, std::memory_order_relaxed);
  run->dispatcher->ExecuteInTransaction(run->argv, run->fake, rb, run->ctx->txn);
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
  RunCtx* run = LuaEnv::Of(L)->run;
  if (run == nullptr) return;
  RunningScript& rs = Cache().run;
  if (!rs.busy.load(std::memory_order_relaxed) && MonoUs() >= run->busy_after_us) {
    FDB_LOG(LogLevel::kWarning,
            "Slow script detected: still in execution after %lld milliseconds. You can try "
            "killing the script using the %s command.",
            static_cast<long long>((MonoUs() - run->start_us) / 1000),
            rs.is_function.load() ? "FUNCTION KILL" : "SCRIPT KILL");
    rs.busy.store(true, std::memory_order_release);
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
}

namespace {

// ---- running a script ----

void SetArray(lua_State* L, const char* name, CmdArgs items) {
  lua_getfield(L, LUA_REGISTRYINDEX, "fdb_real_globals");
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); i++) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

struct ScriptFlags {
  bool no_writes = false;
  bool has_shebang = false;
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

// Runs the function at the top of the stack (popped) with KEYS / ARGV, holding every shard,
// and writes its reply. `sha` names the script in error texts.
void RunFunction(CommandContext& ctx, LuaEnv& env, std::string_view sha, CmdArgs keys, CmdArgs argv,
                 bool read_only, bool is_function) {
  lua_State* L = env.L();
  SetArray(L, "KEYS", keys);
  SetArray(L, "ARGV", argv);

  ShardLockSet all;
  const bool outer = !ctx.txn.holds_all_shards();
  all.LockAll(ctx.ks, !outer);
  ctx.txn.set_holds_all_shards(true);

  Dispatcher dispatcher(ctx.server, ctx.stats);
  RunCtx run;
  run.ctx = &ctx;
  run.dispatcher = &dispatcher;
  run.read_only = read_only;
  run.fake.db.store(ctx.db, std::memory_order_relaxed);
  run.fake.id = ctx.client.id;
  run.start_us = MonoUs();
  run.busy_after_us = run.start_us + ctx.server.config().busy_reply_threshold_ms() * 1000;
  env.run = &run;

  RunningScript& rs = Cache().run;
  rs.busy.store(false);
  rs.kill.store(false);
  rs.wrote.store(false);
  rs.is_function.store(is_function);
  rs.running.store(true, std::memory_order_release);
  lua_sethook(L, LuaHook, LUA_MASKCOUNT, kHookInstructions);

  std::string staged;
  if (outer) ctx.rb.BeginStaged(&staged);
  lua_pushcfunction(L, LuaErrorHandler);
  lua_insert(L, -2);
  int base = lua_gettop(L) - 1;
  int rc;
  try {
    rc = lua_pcall(L, 0, 1, base);
  } catch (...) {
    lua_settop(L, 0);
    env.run = nullptr;
    rs.running.store(false);
    rs.busy.store(false);
    if (outer) {
      ctx.rb.DropStaged();
      ctx.txn.set_holds_all_shards(false);
      (void)ctx.ks.Commit(ctx.txn);
    }
    throw;
  }
  lua_sethook(L, nullptr, 0, 0);
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
  rs.running.store(false, std::memory_order_release);
  rs.busy.store(false, std::memory_order_release);
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
}

// Compiles `body` (cached under `sha`) into the thread's state and pushes its function; on
// failure replies the error and returns nullptr.
const LuaEnv::Compiled* CompileScript(CommandContext& ctx, LuaEnv& env, const std::string& sha,
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
      sha, LuaEnv::Compiled{luaL_ref(L, LUA_REGISTRYINDEX), flags.no_writes});
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
  std::string sha = by_sha ? Lower(args[1]) : Sha1Hex(args[1]);
  const LuaEnv::Compiled* script = nullptr;
  auto it = env.compiled.find(sha);
  if (it != env.compiled.end()) {
    script = &it->second;
    lua_rawgeti(env.L(), LUA_REGISTRYINDEX, script->ref);
  } else {
    std::string body;
    if (by_sha) {
      MutexLock l(cache.mu);
      auto found = cache.bodies.find(sha);
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
      cache.bodies.try_emplace(sha, std::move(body));
    }
  }
  bool ro = read_only || script->no_writes;
  CmdArgs keys = args.subspan(3, numkeys);
  CmdArgs argv = args.subspan(3 + numkeys);
  RunFunction(ctx, env, sha, keys, argv, ro, false);
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
  RunningScript& rs = Cache().run;
  if (!rs.running.load(std::memory_order_acquire)) {
    ctx.rb.Error("NOTBUSY No scripts in execution right now.");
    return;
  }
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

}  // namespace

bool ScriptBusyRefuses(const CommandSpec& spec, std::span<const std::string_view> args,
                       ReplyBuilder& rb) {
  RunningScript& rs = Cache().run;
  if (!rs.busy.load(std::memory_order_acquire)) return false;
  std::string_view name = spec.name;
  if (name == "script|kill" || name == "function|kill" || name == "function|stats" ||
      name == "auth" || name == "hello") {
    return false;
  }
  if (name == "shutdown") {
    for (size_t i = 1; i < args.size(); i++) {
      if (EqualsUpper(args[i], "NOSAVE")) {
        // The script holds every shard and its effects are not committed: end the process
        // now, as a kill would, without them.
        FDB_LOG(LogLevel::kWarning, "SHUTDOWN NOSAVE while a script is busy: exiting now.");
        _exit(0);
      }
    }
  }
  rb.Error(rs.is_function.load()
               ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
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
  r.Register({"script", -2, kNoScript, 0, 0, 0, nullptr, "scripting", "A container for Lua scripts management commands.", "2.6.0"});
  r.Register({"script|load", 3, kNoScript | kStale, 0, 0, 0, CmdScriptLoad, "scripting", "Loads a server-side Lua script to the script cache.", "2.6.0"});
  r.Register({"script|exists", -3, kNoScript | kStale, 0, 0, 0, CmdScriptExists, "scripting", "Determines whether server-side Lua scripts exist in the script cache.", "2.6.0"});
  r.Register({"script|flush", -2, kNoScript, 0, 0, 0, CmdScriptFlush, "scripting", "Removes all server-side Lua scripts from the script cache.", "2.6.0"});
  r.Register({"script|kill", 2, kNoScript, 0, 0, 0, CmdScriptKill, "scripting", "Terminates a server-side Lua script during execution.", "2.6.0"});
  r.Register({"script|debug", 3, kNoScript, 0, 0, 0, CmdScriptDebug, "scripting", "Sets the debug mode of server-side Lua scripts.", "3.2.0"});
  r.Register({"script|help", 2, kLoading | kStale, 0, 0, 0, CmdScriptHelp, "scripting", "Returns helpful text about the different subcommands.", "5.0.0"});
  // clang-format on
}

}  // namespace fdb
