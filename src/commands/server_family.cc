// Server and connection commands: PING, ECHO, TIME, DBSIZE, FLUSHALL, INFO, CONFIG, COMMAND,
// CLIENT, HELLO, AUTH, RESET, QUIT, SHUTDOWN, DEBUG, LASTSAVE.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <thread>

#include "base/clock.h"
#include "base/glob.h"
#include "base/limits.h"
#include "base/logging.h"
#include "commands/client_memory.h"
#include "commands/context.h"
#include "commands/debug_digest.h"
#include "commands/errors.h"
#include "commands/help.h"
#include "commands/info.h"
#include "commands/rdb_load.h"
#include "engine/list_object.h"
#include "server/auth.h"

namespace fdb {

namespace {

constexpr const char* kRedisVersion = "7.2.4";

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

void UnknownSubcommand(CommandContext& ctx, std::string_view sub, const char* cmd) {
  ctx.rb.Error("ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " + cmd +
               " HELP.");
}

void SubArity(CommandContext& ctx, const char* cmd, std::string_view sub) {
  ctx.rb.Error(WrongArityError(std::string(cmd) + "|" + Lower(sub)));
}

// ---------------------------------------------------------------------------------------------
// Connection commands.

void CmdPing(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2) return ctx.rb.Error(WrongArityError("ping"));
  if (ctx.client.subscribed() && !ctx.rb.resp3()) {
    // As Redis: in RESP2 subscribed mode the client reads every reply as a message, so PING
    // answers with one: ["pong", argument or ""].
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk("pong");
    return ctx.rb.Bulk(args.size() == 2 ? args[1] : std::string_view());
  }
  if (args.size() == 2) return ctx.rb.Bulk(args[1]);
  ctx.rb.SimpleString("PONG");
}

void CmdEcho(CmdArgs args, CommandContext& ctx) { ctx.rb.Bulk(args[1]); }

void CmdTime(CmdArgs, CommandContext& ctx) {
  int64_t us = NowUs();
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(us / 1000000));
  ctx.rb.Bulk(std::to_string(us % 1000000));
}

void CmdQuit(CmdArgs, CommandContext& ctx) {
  ctx.rb.Ok();
  ctx.client.close_after_reply = true;
}

// A WRONGPASS reply to AUTH or HELLO ... AUTH. After limits::kAuthFailuresMax of them in a row
// the connection closes once this reply is written: the commands pipelined after it are not
// read, so one connection cannot test more than that many passwords.
void ReplyWrongPass(CommandContext& ctx) {
  if (++ctx.client.failed_auths >= limits::kAuthFailuresMax) ctx.client.close_after_reply = true;
  ctx.rb.Error(errors::kWrongPass);
}

// Authenticates the client as `user` (commands/acl.h: passwords compared as SHA-256 digests
// in constant time); false (and logged) when the pair is wrong or the user is off.
bool AuthAs(CommandContext& ctx, std::string_view user, std::string_view pass) {
  std::shared_ptr<AclUser> u = ctx.server.acl().Authenticate(user, pass, ctx.client);
  if (u == nullptr) return false;
  Acl::SetClientUser(ctx.client, std::move(u));
  ctx.client.failed_auths = 0;
  ctx.client.authenticated = true;
  return true;
}

void CmdAuth(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  std::string_view user = args.size() == 3 ? args[1] : "default";
  std::string_view pass = args.back();
  // As Redis: the one-argument form with a nopass default user is a configuration mistake.
  if (args.size() == 2 && ctx.server.acl().DefaultNoPass()) {
    return ctx.rb.Error(errors::kAuthNotConfigured);
  }
  if (!AuthAs(ctx, user, pass)) return ReplyWrongPass(ctx);
  ctx.rb.Ok();
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

void ReplyHello(CommandContext& ctx) {
  bool resp3 = ctx.client.resp3.load();
  ctx.rb.set_resp3(resp3);
  ctx.rb.MapHeader(7);
  ctx.rb.Bulk("server");
  ctx.rb.Bulk("redis");
  ctx.rb.Bulk("version");
  ctx.rb.Bulk(kRedisVersion);
  ctx.rb.Bulk("proto");
  ctx.rb.Integer(resp3 ? 3 : 2);
  ctx.rb.Bulk("id");
  ctx.rb.Integer(static_cast<int64_t>(ctx.client.id));
  ctx.rb.Bulk("mode");
  ctx.rb.Bulk("standalone");
  ctx.rb.Bulk("role");
  ctx.rb.Bulk(ctx.server.replication().is_replica() ? "replica" : "master");
  ctx.rb.Bulk("modules");
  ctx.rb.ArrayHeader(0);
}

void CmdHello(CmdArgs args, CommandContext& ctx) {
  int64_t ver = 0;
  size_t i = 1;
  if (args.size() >= 2) {
    if (!ParseInt64(args[1], &ver)) {
      return ctx.rb.Error("ERR Protocol version is not an integer or out of range");
    }
    if (ver < 2 || ver > 3) return ctx.rb.Error(errors::kNoProto);
    i = 2;
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (; i < args.size(); i++) {
    if (EqualsUpper(args[i], "AUTH") && i + 2 < args.size()) {
      user = args[i + 1];
      pass = args[i + 2];
      has_auth = true;
      i += 2;
    } else if (EqualsUpper(args[i], "SETNAME") && i + 1 < args.size()) {
      name = args[i + 1];
      has_name = true;
      i += 1;
    } else {
      return ctx.rb.Error("ERR Syntax error in HELLO option '" + std::string(args[i]) + "'");
    }
  }
  if (has_auth && !AuthAs(ctx, user, pass)) return ReplyWrongPass(ctx);
  if (!ctx.client.authenticated.load()) {
    return ctx.rb.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
  }
  if (has_name) {
    if (!ValidClientName(name)) {
      return ctx.rb.Error(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    MutexLock l(ctx.client.info_mu);
    ctx.client.name = std::string(name);
  }
  if (ver != 0) ctx.client.resp3 = (ver == 3);
  ReplyHello(ctx);
}

// MONITOR: from now on the client gets a line for every command (commands/introspection.h).
void CmdMonitor(CmdArgs, CommandContext& ctx) {
  ClientState& c = ctx.client;
  // As Redis: a client that expects one reply per command (inside EXEC, or one without a
  // connection) cannot take the stream.
  if (ctx.txn.holds_all_shards() || c.push_handle == nullptr) {
    return ctx.rb.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
  }
  if (c.monitor.exchange(true)) return;  // already monitoring: no reply, as Redis
  ctx.server.monitors().Add(c.push_handle);
  ctx.rb.Ok();
}

void CmdReset(CmdArgs, CommandContext& ctx) {
  ClientState& c = ctx.client;
  if (c.monitor.exchange(false)) ctx.server.monitors().Remove(c.id);
  PubSubLeaveAll(ctx.server, c);  // every subscription, without a reply for each
  ctx.server.tracking().Disable(c);
  c.reply_mode = ClientState::ReplyMode::kOn;
  c.db = 0;
  c.resp3 = false;
  c.no_evict = false;
  c.no_touch = false;
  c.in_multi = false;
  c.multi_error = false;
  c.queued.clear();
  ReleaseWatches(ctx.ks, c, ctx.txn.holds_all_shards());
  ctx.server.acl().InitClient(c);  // the default user, authenticated when it is nopass
  {
    MutexLock l(c.info_mu);
    c.name.clear();
  }
  ctx.rb.set_resp3(false);
  ctx.rb.SimpleString("RESET");
  EvictClientsIfOver(ctx.server);  // the client may be evictable again
}

// ---------------------------------------------------------------------------------------------
// CLIENT.

std::string ClientInfoLine(const ClientState& c, int64_t now_ms) {
  std::string name, lib_name, lib_ver;
  {
    MutexLock l(c.info_mu);
    name = c.name;
    lib_name = c.lib_name;
    lib_ver = c.lib_ver;
  }
  const int sub = c.sub_channels.load(), psub = c.sub_patterns.load(),
            ssub = c.sub_shard_channels.load();
  std::string flags;
  if (c.monitor.load()) flags += 'O';
  if (sub + psub + ssub > 0) flags += 'P';
  if (c.is_blocked.load(std::memory_order_relaxed)) flags += 'b';
  if (c.unix_socket) flags += 'U';
  if (c.no_evict.load()) flags += 'e';
  if (c.no_touch.load()) flags += 'T';
  if (flags.empty()) flags = "N";
  size_t qbuf = c.qbuf.load(), obuf = c.obuf.load();
  std::string s;
  s.reserve(320);
  s += "id=" + std::to_string(c.id);
  s += " addr=" + c.addr;
  s += " laddr=" + c.laddr;
  s += " fd=" + std::to_string(c.fd);
  s += " name=" + name;
  s += " age=" + std::to_string((now_ms - c.created_ms) / 1000);
  s += " idle=" + std::to_string((now_ms - c.last_interaction_ms.load()) / 1000);
  s += " flags=" + flags;
  s += " db=" + std::to_string(c.db.load());
  s += " sub=" + std::to_string(sub) + " psub=" + std::to_string(psub) +
       " ssub=" + std::to_string(ssub) + " multi=-1";
  s += " qbuf=" + std::to_string(qbuf);
  s += " qbuf-free=0 argv-mem=0 multi-mem=" + std::to_string(c.queued_bytes.load()) +
       " rbs=" + std::to_string(qbuf) + " rbp=0";
  s += " obl=" + std::to_string(obuf);
  s += " oll=0 omem=" + std::to_string(obuf);
  // What the connection holds: its buffers and a fixed overhead (commands/client_memory.h).
  s += " tot-mem=" + std::to_string(c.tot_mem.load());
  s += " events=r cmd=";
  s += c.last_cmd.load();
  {
    MutexLock l(c.info_mu);
    s += " user=";
    s += c.user != nullptr ? c.user->name() : std::string("default");
  }
  s += " redir=-1 resp=";
  s += c.resp3.load() ? "3" : "2";
  s += " lib-name=" + lib_name;
  s += " lib-ver=" + lib_ver;
  s += " io-thread=" + std::to_string(c.io_thread);
  return s;
}

// Redis's client type for CLIENT LIST / KILL TYPE: "pubsub" while subscribed, else "normal".
bool IsPubSubClient(const ClientState& c) {
  return c.sub_channels.load() + c.sub_patterns.load() + c.sub_shard_channels.load() > 0;
}

void ClientList(CmdArgs args, CommandContext& ctx) {
  std::vector<uint64_t> ids;
  std::string type;
  for (size_t i = 2; i < args.size(); i++) {
    if (EqualsUpper(args[i], "TYPE") && i + 1 < args.size()) {
      std::string t = Lower(args[i + 1]);
      if (t != "normal" && t != "master" && t != "replica" && t != "slave" && t != "pubsub") {
        return ctx.rb.Error("ERR Unknown client type '" + std::string(args[i + 1]) + "'");
      }
      if (t == "normal" || t == "pubsub") {
        type = t;
      } else {  // no replicas nor masters yet
        return ctx.rb.Verbatim("");
      }
      i++;
    } else if (EqualsUpper(args[i], "ID") && i + 1 < args.size()) {
      for (i = i + 1; i < args.size(); i++) {
        int64_t id;
        if (!ParseInt64(args[i], &id) || id <= 0) {
          return ctx.rb.Error("ERR Invalid client ID");
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  std::vector<std::pair<uint64_t, std::string>> lines;
  ctx.server.clients().ForEach([&](ClientState& c) {
    // A client being killed or evicted closes on its own thread a moment later; Redis's kill
    // is synchronous, so it is no longer listed (as INFO connected_clients does not count it).
    if (c.kill_requested.load(std::memory_order_relaxed)) return;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), c.id) == ids.end()) return;
    if (!type.empty() && (type == "pubsub") != IsPubSubClient(c)) return;
    // A client being killed (CLIENT KILL, ACL DELUSER...) closes on its own thread a moment
    // later; to others it is gone already, as after Redis's synchronous kill.
    if (c.kill_requested.load(std::memory_order_relaxed) && &c != &ctx.client) return;
    lines.emplace_back(c.id, ClientInfoLine(c, ctx.now_ms));
  });
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& [id, l] : lines) {
    out += l;
    out += '\n';
  }
  ctx.rb.Verbatim(out);
}

void ClientKill(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 3) {
    // Old form: CLIENT KILL addr:port -> +OK or an error.
    std::string_view addr = args[2];
    bool found = false;
    ctx.server.clients().ForEach([&](ClientState& c) {
      if (found || c.addr != addr) return;
      found = true;
      if (&c == &ctx.client) {
        c.close_after_reply = true;
      } else if (c.request_close) {
        c.request_close();
      }
    });
    // A replica's link to its master is replication's, not a registered client.
    if (!found && ctx.server.replication().MasterAddr() == addr) {
      found = ctx.server.replication().KillMasterLink() == 1;
    }
    if (!found) return ctx.rb.Error("ERR No such client");
    return ctx.rb.Ok();
  }
  if ((args.size() - 2) % 2 != 0) return ctx.rb.Error(errors::kSyntax);
  int64_t id = -1;
  std::string addr, laddr, type, user;
  bool skipme = true;
  for (size_t i = 2; i + 1 < args.size(); i += 2) {
    std::string_view opt = args[i], val = args[i + 1];
    if (EqualsUpper(opt, "ID")) {
      if (!ParseInt64(val, &id) || id <= 0) {
        return ctx.rb.Error("ERR client-id should be greater than 0");
      }
    } else if (EqualsUpper(opt, "ADDR")) {
      addr = std::string(val);
    } else if (EqualsUpper(opt, "LADDR")) {
      laddr = std::string(val);
    } else if (EqualsUpper(opt, "TYPE")) {
      type = Lower(val);
      if (type != "normal" && type != "master" && type != "replica" && type != "slave" &&
          type != "pubsub") {
        return ctx.rb.Error("ERR Unknown client type '" + std::string(val) + "'");
      }
    } else if (EqualsUpper(opt, "USER")) {
      user = std::string(val);
      if (!ctx.server.acl().Exists(user)) {
        return ctx.rb.Error("ERR No such user '" + user + "'");
      }
    } else if (EqualsUpper(opt, "SKIPME")) {
      if (EqualsUpper(val, "YES")) {
        skipme = true;
      } else if (EqualsUpper(val, "NO")) {
        skipme = false;
      } else {
        return ctx.rb.Error(errors::kSyntax);
      }
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  int64_t killed = 0;
  // Replicas and the link to the master live in replication, not in the client registry.
  if ((type == "replica" || type == "slave") && id <= 0 && addr.empty() && laddr.empty() &&
      user.empty()) {
    return ctx.rb.Integer(ctx.server.replication().KillReplicas());
  }
  if (type == "master" && id <= 0 && addr.empty() && laddr.empty() && user.empty()) {
    return ctx.rb.Integer(ctx.server.replication().KillMasterLink());
  }
  ctx.server.clients().ForEach([&](ClientState& c) {
    if (id > 0 && c.id != static_cast<uint64_t>(id)) return;
    if (!addr.empty() && c.addr != addr) return;
    if (!laddr.empty() && c.laddr != laddr) return;
    if (!type.empty() && type != "normal" && type != "pubsub") return;
    if ((type == "normal" && IsPubSubClient(c)) || (type == "pubsub" && !IsPubSubClient(c))) {
      return;
    }
    if (!user.empty()) {
      MutexLock l(c.info_mu);
      if (c.user == nullptr ? user != "default" : c.user->name() != user) return;
    }
    if (&c == &ctx.client && skipme) return;
    if (c.kill_requested.exchange(true)) return;  // already going
    if (&c == &ctx.client) {
      c.close_after_reply = true;
    } else if (c.request_close) {
      c.request_close();
    }
    killed++;
  });
  ctx.rb.Integer(killed);
}

void CmdClient(CmdArgs args, CommandContext& ctx) {
  std::string_view sub = args[1];
  size_t n = args.size();
  if (EqualsUpper(sub, "ID")) {
    if (n != 2) return SubArity(ctx, "client", sub);
    return ctx.rb.Integer(static_cast<int64_t>(ctx.client.id));
  }
  if (EqualsUpper(sub, "SETNAME")) {
    if (n != 3) return SubArity(ctx, "client", sub);
    if (!ValidClientName(args[2])) {
      return ctx.rb.Error(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    MutexLock l(ctx.client.info_mu);
    ctx.client.name = std::string(args[2]);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "GETNAME")) {
    if (n != 2) return SubArity(ctx, "client", sub);
    std::string name = ctx.client.Name();
    if (name.empty()) return ctx.rb.NullBulk();
    return ctx.rb.Bulk(name);
  }
  if (EqualsUpper(sub, "SETINFO")) {
    if (n != 4) return SubArity(ctx, "client", sub);
    bool is_name = EqualsUpper(args[2], "LIB-NAME");
    if (!is_name && !EqualsUpper(args[2], "LIB-VER")) {
      return ctx.rb.Error("ERR Unrecognized option '" + std::string(args[2]) + "'");
    }
    if (!ValidClientName(args[3])) {
      return ctx.rb.Error(std::string("ERR ") + (is_name ? "lib-name" : "lib-ver") +
                          " cannot contain spaces, newlines or special characters.");
    }
    MutexLock l(ctx.client.info_mu);
    (is_name ? ctx.client.lib_name : ctx.client.lib_ver) = std::string(args[3]);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "LIST")) return ClientList(args, ctx);
  if (EqualsUpper(sub, "INFO")) {
    if (n != 2) return SubArity(ctx, "client", sub);
    return ctx.rb.Verbatim(ClientInfoLine(ctx.client, ctx.now_ms) + "\n");
  }
  if (EqualsUpper(sub, "KILL")) {
    if (n < 3) return SubArity(ctx, "client", sub);
    return ClientKill(args, ctx);
  }
  if (EqualsUpper(sub, "REPLY")) {
    if (n != 3) return SubArity(ctx, "client", sub);
    using Mode = ClientState::ReplyMode;
    if (EqualsUpper(args[2], "ON")) {
      ctx.client.reply_mode = Mode::kOn;
      return ctx.rb.Ok();
    }
    if (EqualsUpper(args[2], "OFF")) {
      ctx.client.reply_mode = Mode::kOff;
    } else if (EqualsUpper(args[2], "SKIP")) {
      if (ctx.client.reply_mode != Mode::kOff) ctx.client.reply_mode = Mode::kSkipNext;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
    return;  // OFF and SKIP are not replied to
  }
  if (EqualsUpper(sub, "NO-EVICT") || EqualsUpper(sub, "NO-TOUCH")) {
    if (n != 3) return SubArity(ctx, "client", sub);
    bool on;
    if (EqualsUpper(args[2], "ON")) {
      on = true;
    } else if (EqualsUpper(args[2], "OFF")) {
      on = false;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
    (EqualsUpper(sub, "NO-EVICT") ? ctx.client.no_evict : ctx.client.no_touch) = on;
    // As Redis: a client made evictable while the clients are over the limit may go at once.
    if (!on && EqualsUpper(sub, "NO-EVICT")) EvictClientsIfOver(ctx.server);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "UNBLOCK")) {
    if (n != 3 && n != 4) return SubArity(ctx, "client", sub);
    int64_t id;
    if (!ParseInt64(args[2], &id)) return ctx.rb.Error(errors::kNotInteger);
    bool as_error = false;
    if (n == 4) {
      if (EqualsUpper(args[3], "ERROR")) {
        as_error = true;
      } else if (!EqualsUpper(args[3], "TIMEOUT")) {
        return ctx.rb.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      }
    }
    // The waiter is claimed here, as a timeout would claim it; its reply goes to the client's
    // own thread (a push serving it at this moment wins, and UNBLOCK answers 0).
    std::shared_ptr<Waiter> w = ctx.server.blocking().TakeClient(static_cast<uint64_t>(id));
    if (w == nullptr) return ctx.rb.Integer(0);
    std::string reply;
    ReplyBuilder wrb(&reply);
    wrb.set_resp3(w->client.resp3.load(std::memory_order_relaxed));
    if (as_error) {
      // An error reply of the blocked command, as Redis counts it: in errorstats, and as a
      // failed call of that command (on this thread's counters, as a serve counts its call).
      wrb.set_error_sink(&ctx.server.error_stats());
      wrb.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
      if (ctx.stats != nullptr && w->spec != nullptr && w->spec->id >= 0) {
        CommandCounters& c = ctx.stats->commands[w->spec->id];
        c.failed.store(c.failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
    } else {
      w->on_timeout(wrb);
    }
    if (w->deliver) w->deliver(std::move(reply), 0);
    return ctx.rb.Integer(1);
  }
  if (EqualsUpper(sub, "PAUSE")) {
    if (n != 3 && n != 4) return SubArity(ctx, "client", sub);
    ClientPause::Mode mode = ClientPause::kAll;
    if (n == 4) {
      if (EqualsUpper(args[3], "WRITE")) {
        mode = ClientPause::kWrite;
      } else if (!EqualsUpper(args[3], "ALL")) {
        return ctx.rb.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      }
    }
    int64_t timeout_ms;
    if (!ParseInt64(args[2], &timeout_ms)) {
      return ctx.rb.Error("ERR timeout is not an integer or out of range");
    }
    if (timeout_ms < 0) return ctx.rb.Error("ERR timeout is negative");
    const int64_t now = NowMs();
    const int64_t end = timeout_ms > INT64_MAX - now ? INT64_MAX : now + timeout_ms;
    // Expiry and eviction stop for as long as the pause in force lasts.
    ctx.ks.PauseChanges(ctx.server.client_pause().Pause(mode, now, end));
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "UNPAUSE")) {
    if (n != 2) return SubArity(ctx, "client", sub);
    ctx.server.client_pause().Unpause();
    ctx.ks.PauseChanges(0);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "HELP")) {
    return ReplyHelp(ctx.rb, "CLIENT",
                     {"GETNAME",
                      "    Return the name of the current connection.",
                      "ID",
                      "    Return the ID of the current connection.",
                      "INFO",
                      "    Return information about the current client connection.",
                      "KILL <ip:port>",
                      "    Kill connection made from <ip:port>.",
                      "KILL <option> <value> [<option> <value> [...]]",
                      "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.",
                      "LIST [TYPE <type>] [ID <id> [<id> ...]]",
                      "    Return information about client connections.",
                      "SETNAME <name>",
                      "    Assign the name <name> to the current connection.",
                      "SETINFO <LIB-NAME|LIB-VER> <value>",
                      "    Set client library name or version.",
                      "NO-EVICT (ON|OFF)",
                      "    Protect current client connection from eviction.",
                      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                      "    Unblock the specified blocked client.",
                      "PAUSE <timeout> [WRITE|ALL]",
                      "    Suspend all, or just write, clients for <timeout> milliseconds.",
                      "UNPAUSE",
                      "    Stop the current client pause, resuming traffic.",
                      "NO-TOUCH (ON|OFF)",
                      "    Will not touch LRU/LFU stats when this mode is on.",
                      "REPLY (ON|OFF|SKIP)",
                      "    Control the replies sent to the current connection."});
  }
  UnknownSubcommand(ctx, sub, "CLIENT");
}

// ---------------------------------------------------------------------------------------------
// Server administration.

void CmdDbSize(CmdArgs, CommandContext& ctx) {
  ctx.rb.Integer(static_cast<int64_t>(ctx.ks.DbSize(ctx.txn, ctx.db)));
}

void CmdFlushAll(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2 ||
      (args.size() == 2 && !EqualsUpper(args[1], "SYNC") && !EqualsUpper(args[1], "ASYNC"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  ctx.ks.FlushDb(ctx.txn, -1, args.size() == 2 && EqualsUpper(args[1], "ASYNC"));
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdInfo(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> sections;
  for (size_t i = 1; i < args.size(); i++) sections.push_back(Lower(args[i]));
  ctx.rb.Verbatim(BuildInfo(ctx.server, ctx.txn, sections));
}

void CmdLastSave(CmdArgs, CommandContext& ctx) {
  int64_t t = ctx.server.last_save_s.load();
  if (StorageEngine* st = ctx.server.storage()) t = std::max(t, st->stats().last_save_s);
  ctx.rb.Integer(t);
}

void CmdSave(CmdArgs, CommandContext& ctx) {
  StorageEngine* st = ctx.server.storage();
  if (st == nullptr) {
    // Without the log: an RDB file, as Redis's SAVE (refused while a child writes one).
    if (ctx.server.snapshots().child_running()) {
      return ctx.rb.Error("ERR Background save already in progress");
    }
    if (!ctx.server.snapshots().Save(ctx.txn.holds_all_shards()).ok()) {
      return ctx.rb.Error("ERR");  // Redis replies a bare ERR; the reason is logged
    }
    return ctx.rb.Ok();
  }
  Status s = st->Save();
  if (!s.ok()) return ctx.rb.Error("ERR " + s.message());
  ctx.server.ResetDirty();
  ctx.server.last_save_s = NowMs() / 1000;
  ctx.rb.Ok();
}

void CmdBgSave(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2 || (args.size() == 2 && !EqualsUpper(args[1], "SCHEDULE"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  StorageEngine* st = ctx.server.storage();
  if (st == nullptr) {
    // As Redis: a BGSAVE while its child runs is refused, SCHEDULE or not (SCHEDULE waits
    // only for children of other kinds, which FDB does not have).
    Status s = ctx.server.snapshots().BackgroundSave(ctx.txn.holds_all_shards());
    if (!s.ok()) return ctx.rb.Error("ERR " + s.message());
    return ctx.rb.SimpleString("Background saving started");
  }
  Status s = st->BackgroundSave();
  if (!s.ok()) {
    if (args.size() == 2) return ctx.rb.SimpleString("Background saving scheduled");
    return ctx.rb.Error("ERR " + s.message());
  }
  ctx.server.ResetDirty();
  ctx.rb.SimpleString("Background saving started");
}

void CmdShutdown(CmdArgs args, CommandContext& ctx) {
  bool nosave = false, save = false, force = false, abort = false;
  for (size_t i = 1; i < args.size(); i++) {
    if (EqualsUpper(args[i], "NOSAVE")) {
      nosave = true;
    } else if (EqualsUpper(args[i], "SAVE")) {
      save = true;
    } else if (EqualsUpper(args[i], "FORCE")) {
      force = true;
    } else if (EqualsUpper(args[i], "ABORT")) {
      abort = true;
    } else if (!EqualsUpper(args[i], "NOW")) {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  if ((abort && args.size() != 2) || (nosave && save)) return ctx.rb.Error(errors::kSyntax);
  if (abort) {
    // A shutdown a signal asked for and the housekeeping tick has not run yet (Redis's
    // shutdown_asap): taken back.
    if (!ctx.server.shutdown_asap.exchange(false)) {
      return ctx.rb.Error("ERR No shutdown in progress.");
    }
    FDB_LOG_WARNING("Shutdown manually aborted.");
    return ctx.rb.Ok();
  }
  if (!ctx.server.snapshots()
           .PrepareShutdown(save, nosave, force, ctx.txn.holds_all_shards())
           .ok()) {
    return ctx.rb.Error("ERR Errors trying to SHUTDOWN. Check logs.");
  }
  if (nosave) ctx.server.shutdown_save = false;
  // As Redis: no reply on success; the connection closes as the server exits. Writes are
  // refused on every thread from here on (ServerContext::BeginShutdown).
  ctx.client.close_after_reply = true;
  ctx.server.BeginShutdown();
  if (ctx.server.request_shutdown) ctx.server.request_shutdown();
}

void CmdDebug(CmdArgs args, CommandContext& ctx) {
  std::string_view sub = args[1];
  if (EqualsUpper(sub, "SLEEP")) {
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    char* end = nullptr;
    std::string s(args[2]);
    double secs = strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || !std::isfinite(secs)) {
      return ctx.rb.Error(errors::kNotFloat);
    }
    secs = std::clamp(secs, 0.0, limits::kDebugSleepMaxSeconds);
    // Cut short by a shutdown: the process exits as soon as the running commands finish, and a
    // sleep must not hold it (and its I/O thread) for up to an hour.
    ctx.server.SleepUnlessShutdown(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "OBJECT")) {
    // What Redis's DEBUG OBJECT tells that FDB has: the encoding (as OBJECT ENCODING), one
    // reference (values are not shared), the LRU idle time. DEBUG names no keys in its row, so
    // the key's shard is locked here.
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    ShardLockSet locks;
    locks.Add(Keyspace::ShardOf(args[2]));
    locks.Lock(ctx.ks, ctx.txn.holds_all_shards());
    // As Redis's, it finds a key past its deadline that is not deleted yet (time 0: no key is
    // past its deadline), such as a replica's, which waits for its master's deletion.
    const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[2]), 0, /*touch=*/false);
    if (e == nullptr) return ctx.rb.Error("ERR no such key");
    return ctx.rb.SimpleString(
        "Value at:0x0 refcount:1 encoding:" + std::string(e->encoding_name()) +
        " serializedlength:0 lru:0 lru_seconds_idle:" +
        std::to_string(Keyspace::LruIdleSeconds(e->lru())));
  }
  if (EqualsUpper(sub, "REPLICATE")) {
    if (args.size() < 3) return SubArity(ctx, "debug", sub);
    ctx.server.replication().Inject(std::vector<std::string_view>(args.begin() + 2, args.end()));
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "SET-ACTIVE-EXPIRE")) {
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    ctx.server.active_expire_enabled = args[2] != "0";
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "REPLYBUFFER")) {
    if (args.size() != 4) return SubArity(ctx, "debug", sub);
    if (EqualsUpper(args[2], "RESIZING")) {
      ctx.server.reply_buffer_resizing = std::atoi(std::string(args[3]).c_str()) != 0;
      return ctx.rb.Ok();
    }
    if (EqualsUpper(args[2], "PEAK-RESET-TIME")) {
      // Accepted: FDB's buffers shrink after an idle period, not on a peak-reset clock.
      int64_t ms;
      if (!EqualsUpper(args[3], "NEVER") && !EqualsUpper(args[3], "RESET") &&
          !ParseInt64(args[3], &ms)) {
        return ctx.rb.Error(errors::kNotInteger);
      }
      return ctx.rb.Ok();
    }
    return ctx.rb.Error("ERR Syntax error, try DEBUG HELP");
  }
  if (EqualsUpper(sub, "DIGEST")) {
    if (args.size() != 2) return SubArity(ctx, "debug", sub);
    return ctx.rb.Bulk(DatasetDigest(ctx.server, ctx.txn.holds_all_shards()));
  }
  if (EqualsUpper(sub, "DIGEST-VALUE")) {
    // One digest per key named (forty zeros for a missing key), as Redis.
    ctx.rb.ArrayHeader(args.size() - 2);
    for (size_t i = 2; i < args.size(); i++) {
      KeyRef k(args[i]);
      ShardLockSet locks;
      locks.Add(k.shard);
      locks.Lock(ctx.ks, ctx.txn.holds_all_shards());
      Entry* e = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, false);
      ctx.rb.Bulk(e == nullptr ? std::string(40, '0') : ValueDigest(e));
    }
    return;
  }
  if (EqualsUpper(sub, "POPULATE")) {
    // DEBUG POPULATE count [prefix] [size]: keys prefix:0..count-1 holding "value:N" (padded
    // with zero bytes or cut to `size`); existing keys are left alone, as Redis.
    if (args.size() < 3 || args.size() > 5) return SubArity(ctx, "debug", sub);
    int64_t count = 0, size = 0;
    if (!ParseInt64(args[2], &count) || count < 0) {
      return ctx.rb.Error("ERR value is out of range, must be positive");
    }
    const std::string prefix = args.size() >= 4 ? std::string(args[3]) : "key";
    if (args.size() == 5 && (!ParseInt64(args[4], &size) || size < 0 || size > (1 << 30))) {
      return ctx.rb.Error("ERR value is out of range, must be positive");
    }
    if (ctx.txn.holds_all_shards()) {
      return ctx.rb.Error("ERR DEBUG POPULATE is not allowed in a transaction or a script");
    }
    std::string key, value;
    for (int64_t i = 0; i < count; i++) {
      key = prefix + ":" + std::to_string(i);
      value = "value:" + std::to_string(i);
      if (size > 0) value.resize(static_cast<size_t>(size), '\0');
      KeyRef k(key);
      ShardLockSet locks;
      locks.Add(k.shard);
      locks.Lock(ctx.ks);
      if (ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, false) == nullptr) {
        ctx.ks.Put(ctx.txn, ctx.db, k, Entry::NewString(key, value));
      }
      Status st = ctx.ks.Commit(ctx.txn);
      if (!st.ok()) return ctx.rb.Error("ERR " + st.message());
    }
    ctx.Dirty(static_cast<uint64_t>(count));
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "LOADRDB")) {
    // Loads a Redis RDB file into the keyspace, key by key (commands/rdb_load.h), through the
    // path a replica of a Redis primary takes with the file it receives. Not inside MULTI or a
    // script: each key is committed on its own, which a transaction holding every shard cannot.
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    if (ctx.txn.holds_all_shards()) {
      return ctx.rb.Error("ERR DEBUG LOADRDB is not allowed in a transaction or a script");
    }
    // DEBUG is no write to the dispatcher, which so does not refuse it while the log cannot be
    // written: refused here, before a key changes memory without reaching the log.
    if (StorageEngine* st = ctx.server.storage(); st != nullptr && !st->Health().ok()) {
      return ctx.rb.Error(st->Health().message());
    }
    Result<RdbFileStats> loaded = LoadRdbFile(std::string(args[2]), ctx.ks, ctx.txn);
    if (!loaded.ok()) {
      return ctx.rb.Error("ERR Error trying to load the RDB dump: " + loaded.status().message());
    }
    ctx.Dirty(loaded->keys);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "RELOAD")) {
    // Redis saves its RDB, empties memory and loads the file back. FDB's checkpoint holds what
    // memory holds, so loading it back would change nothing: the checkpoint is taken (unless
    // NOSAVE, or without persistence) and the data set stays as it is.
    bool save = true;
    for (size_t i = 2; i < args.size(); i++) {
      if (EqualsUpper(args[i], "NOSAVE")) {
        save = false;
      } else if (!EqualsUpper(args[i], "MERGE") && !EqualsUpper(args[i], "NOFLUSH")) {
        return ctx.rb.Error(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
      }
    }
    if (StorageEngine* st = ctx.server.storage(); st != nullptr && save) {
      Status s = st->Save();
      if (!s.ok()) return ctx.rb.Error("ERR Error trying to save the DB: " + s.message());
      ctx.server.ResetDirty();
      ctx.server.last_save_s = NowMs() / 1000;
    }
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "QUICKLIST-PACKED-THRESHOLD")) {
    // Elements of at least this many bytes get a plain list node of their own, with Redis's
    // checks (0 restores the default, 1 GB; not close to 4gb). Process-wide, as Redis's.
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    int64_t bytes = 0;
    if (!ParseMemory(args[2], &bytes) || bytes < 0 || bytes > (int64_t{1} << 32) - (1 << 20)) {
      return ctx.rb.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    }
    ListObject::SetPackedThreshold(static_cast<uint64_t>(bytes));
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "PAUSE-CRON")) {
    if (args.size() != 3) return SubArity(ctx, "debug", sub);
    // As Redis: atoi of the argument, any non-zero value pauses.
    ctx.server.cron_paused = std::atoi(std::string(args[2]).c_str()) != 0;
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "HELP")) {
    return ReplyHelp(
        ctx.rb, "DEBUG",
        {"SLEEP <seconds>",
         "    Stop the server for <seconds>. Decimals allowed.",
         "OBJECT <key>",
         "    Show low level info about the key and associated value.",
         "DIGEST",
         "    Output a hex signature representing the current DB content.",
         "DIGEST-VALUE <key> [<key> ...]",
         "    Output a hex signature of the values of all the specified keys.",
         "POPULATE <count> [<prefix>] [<size>]",
         "    Create <count> string keys named key:<num>. If <prefix> is specified then it is used",
         "    instead of the 'key' prefix.",
         "LOADRDB <path>",
         "    Load the keys of a Redis RDB file (versions 1 to 11) into the data set.",
         "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
         "    Take a checkpoint (unless NOSAVE); the data set stays as it is.",
         "QUICKLIST-PACKED-THRESHOLD <size>",
         "    List elements of at least <size> bytes get a plain node of their own (0: 1GB).",
         "REPLICATE <command> [<arg> ...]",
         "    Send a command to the replicas as if it had been propagated.",
         "SET-ACTIVE-EXPIRE <0|1>",
         "    Setting it to 0 disables expiring keys in background.",
         "PAUSE-CRON <0|1>",
         "    Stop periodic cron job processing.",
         "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
         "    Accepted; FDB shrinks the buffers of connections idle for a while.",
         "REPLYBUFFER RESIZING <0|1>",
         "    Enable or disable the shrinking of idle connections' buffers."});
  }
  UnknownSubcommand(ctx, sub, "DEBUG");
}

// ---------------------------------------------------------------------------------------------
// CONFIG.

// Whether `name` is one of the parameters Redis can change while running and FDB cannot (its
// log and data directory), and `value` what it already has: tools that write back
// what CONFIG GET read see no difference (Config::Set makes it a no-op).
bool SameStartupValue(const Config& cfg, std::string_view name, std::string_view value) {
  const std::string n = Lower(name);
  if (n != "appendonly" && n != "dir" && n != "compression") {
    return false;
  }
  auto got = cfg.Get(n);
  return !got.empty() && got[0].second == value;
}

void CmdConfig(CmdArgs args, CommandContext& ctx) {
  std::string_view sub = args[1];
  Config& cfg = ctx.server.config();
  if (EqualsUpper(sub, "GET")) {
    if (args.size() < 3) return SubArity(ctx, "config", sub);
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 2; i < args.size(); i++) {
      for (auto& kv : cfg.Get(args[i])) {
        bool dup =
            std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.first == kv.first; });
        if (!dup) out.push_back(std::move(kv));
      }
    }
    ctx.rb.MapHeader(out.size());
    for (auto& [k, v] : out) {
      ctx.rb.Bulk(k);
      ctx.rb.Bulk(v);
    }
    return;
  }
  if (EqualsUpper(sub, "SET")) {
    if ((args.size() - 2) % 2 != 0) return ctx.rb.Error(errors::kSyntax);
    auto failed = [&](std::string_view name, const std::string& why) {
      ctx.rb.Error("ERR CONFIG SET failed (possibly related to argument '" + std::string(name) +
                   "') - " + why);
    };
    // As Redis's configSetCommand, the first problem in argument order is the one reported.
    for (size_t i = 2; i < args.size(); i += 2) {
      if (!cfg.Known(args[i])) {
        return ctx.rb.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                            std::string(args[i]) + "'");
      }
      if (cfg.IsProtected(args[i]) &&
          !ProtectedActionAllowed(cfg.enable_protected_configs(), ctx.client.local)) {
        return failed(args[i], errors::kProtectedConfig);
      }
      if (cfg.IsImmutable(args[i]) && !SameStartupValue(cfg, args[i], args[i + 1])) {
        return failed(args[i], "can't set immutable config");
      }
      for (size_t j = 2; j < i; j += 2) {
        if (Lower(args[j]) == Lower(args[i])) return failed(args[i], "duplicate parameter");
      }
    }
    // Validate every value first so a bad one leaves nothing half-applied, then apply. A bad
    // value is reported under the parameter's name in lower case, as Redis does.
    for (size_t i = 2; i < args.size(); i += 2) {
      if (SameStartupValue(cfg, args[i], args[i + 1])) continue;  // a no-op, see above
      Config probe;
      Status s = probe.Set(args[i], args[i + 1], true);
      if (!s.ok()) return failed(Lower(args[i]), s.message());
    }
    const std::string old_bind = cfg.bind();
    const int64_t old_port = cfg.port();
    const int old_http_port = cfg.http_port();
    std::vector<std::pair<std::string, std::string>> before;  // for a rollback
    for (size_t i = 2; i < args.size(); i += 2) {
      auto got = cfg.Get(args[i]);
      if (!got.empty()) before.emplace_back(std::string(args[i]), got[0].second);
    }
    for (size_t i = 2; i < args.size(); i += 2) {
      Status s = cfg.Set(args[i], args[i + 1], true);
      if (!s.ok()) return failed(Lower(args[i]), s.message());
    }
    // Moving the listener is the one change that can fail when applied (the address is taken,
    // or not this host's): then every parameter of the call gets its old value back, as Redis's
    // rollback on an apply error.
    const bool bind_changed = cfg.bind() != old_bind;
    if ((bind_changed || cfg.port() != old_port) && ctx.server.rebind) {
      Status s = ctx.server.rebind(cfg.bind(), static_cast<int>(cfg.port()));
      if (!s.ok()) {
        for (const auto& [name, value] : before) (void)cfg.Set(name, value, true);
        return bind_changed ? failed("bind", "Failed to bind to specified addresses.")
                            : failed("port", "Unable to listen on this port");
      }
    }
    // The HTTP listener follows bind and http-port the same way, and http-tls and the tls-*
    // parameters it serves HTTPS with (it restarts only when something it uses changed); on an
    // error the RESP listener moved above goes back too.
    const bool resp_moved = bind_changed || cfg.port() != old_port;
    const bool http_moved = bind_changed || cfg.http_port() != old_http_port;
    std::string http_tls_param;  // the first of the call's parameters HTTPS uses, if any
    for (size_t i = 2; i < args.size() && http_tls_param.empty(); i += 2) {
      const std::string name = Lower(args[i]);
      if (name == "http-tls" || name.rfind("tls-", 0) == 0) http_tls_param = name;
    }
    if ((http_moved || !http_tls_param.empty()) && ctx.server.reconfigure_http) {
      Status s = ctx.server.reconfigure_http();
      if (!s.ok()) {
        for (const auto& [name, value] : before) (void)cfg.Set(name, value, true);
        if (resp_moved && ctx.server.rebind) {
          (void)ctx.server.rebind(cfg.bind(), static_cast<int>(cfg.port()));
        }
        if (bind_changed) return failed("bind", "Failed to bind to specified addresses.");
        if (http_moved) return failed("http-port", "Unable to listen on this port");
        // As the RESP listener's TLS (below): the log says why.
        return failed(http_tls_param, "Unable to update TLS configuration. Check server logs.");
      }
    }
    // TLS: a new context from the new certificates (existing connections keep theirs) and the
    // listener on tls-port; on an error every parameter of the call gets its old value back.
    for (size_t i = 2; i < args.size() && ctx.server.reconfigure_tls; i += 2) {
      if (Lower(args[i]).rfind("tls-", 0) != 0) continue;
      Status s = ctx.server.reconfigure_tls();
      if (!s.ok()) {
        for (const auto& [name, value] : before) (void)cfg.Set(name, value, true);
        return failed(Lower(args[i]), s.message());
      }
      break;
    }
    ctx.server.ApplyConfig();
    // As Redis: a maxmemory-clients (or maxmemory, for a percentage) lowered under what the
    // clients hold evicts them at once, largest first.
    EvictClientsIfOver(ctx.server);
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "RESETSTAT")) {
    if (args.size() != 2) return SubArity(ctx, "config", sub);
    ctx.server.ResetStats();
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "REWRITE")) {
    if (args.size() != 2) return SubArity(ctx, "config", sub);
    if (cfg.config_file.empty()) {
      return ctx.rb.Error("ERR The server is running without a config file");
    }
    // ACL users go into the file unless an ACL file holds them (or only the default user
    // exists, as configured out of the box).
    std::vector<std::string> users = ctx.server.acl().List();
    std::string aclfile;
    for (const auto& [k, v] : cfg.Get("aclfile")) aclfile = v;
    const bool plain = users.size() == 1 && users[0] == "user default on nopass ~* &* +@all";
    Status s = cfg.Rewrite(aclfile.empty() && !plain ? &users : nullptr);
    if (!s.ok()) return ctx.rb.Error("ERR Rewriting config file: " + s.message());
    return ctx.rb.Ok();
  }
  if (EqualsUpper(sub, "HELP")) {
    return ReplyHelp(
        ctx.rb, "CONFIG",
        {"GET <pattern>",
         "    Return parameters matching the glob-like <pattern> "
         "and their values.",
         "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
         "RESETSTAT", "    Reset statistics reported by the INFO command.", "REWRITE",
         "    Rewrite the configuration file."});
  }
  UnknownSubcommand(ctx, sub, "CONFIG");
}

// ---------------------------------------------------------------------------------------------
// COMMAND, generated from the registry.

std::vector<const char*> FlagNames(uint32_t f) {
  using namespace cmdflags;
  std::vector<const char*> out;
  if (f & kWrite) out.push_back("write");
  if (f & kReadOnly) out.push_back("readonly");
  if (f & kDenyOom) out.push_back("denyoom");
  if (f & kAdmin) out.push_back("admin");
  if (f & kPubSub) out.push_back("pubsub");
  if (f & kNoScript) out.push_back("noscript");
  if (f & kBlocking) out.push_back("blocking");
  if (f & kLoading) out.push_back("loading");
  if (f & kStale) out.push_back("stale");
  if (f & kFast) out.push_back("fast");
  if (f & kNoAuth) out.push_back("no_auth");
  if (f & kProtected) out.push_back("protected");
  if (f & kNoMulti) out.push_back("no_multi");
  return out;
}

std::vector<std::string> AclCategories(const CommandSpec& s) {
  using namespace cmdflags;
  std::vector<std::string> out;
  if (s.flags & kWrite) out.push_back("@write");
  if (s.flags & kReadOnly) out.push_back("@read");
  if (s.flags & kAdmin) out.push_back("@admin");
  if (s.flags & kAdmin) out.push_back("@dangerous");
  if (s.flags & kFast) out.push_back("@fast");
  if (!(s.flags & kFast)) out.push_back("@slow");
  if (s.flags & kBlocking) out.push_back("@blocking");
  std::string g = s.group;
  if (g == "generic")
    out.push_back("@keyspace");
  else if (g == "server")
    out.push_back("@admin");
  else
    out.push_back("@" + g);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ReplyCommandInfo(CommandContext& ctx, const CommandSpec& s) {
  ReplyBuilder& rb = ctx.rb;
  rb.ArrayHeader(10);
  rb.Bulk(s.name);
  rb.Integer(s.arity);
  auto flags = FlagNames(s.flags);
  // Keys found by a function (a numkeys argument, SORT's STORE) are "movable" (Redis's flag).
  if (s.keys != nullptr) flags.push_back("movablekeys");
  rb.SetHeader(flags.size());
  for (const char* f : flags) rb.SimpleString(f);
  rb.Integer(s.first_key);
  rb.Integer(s.last_key);
  rb.Integer(s.step);
  auto cats = AclCategories(s);
  rb.SetHeader(cats.size());
  for (const auto& c : cats) rb.SimpleString(c);
  rb.ArrayHeader(0);  // tips
  // Key specs: one range spec from the row's first/last/step.
  if (s.first_key > 0) {
    rb.ArrayHeader(1);
    rb.MapHeader(4);
    rb.Bulk("flags");
    rb.SetHeader(0);
    rb.Bulk("begin_search");
    rb.MapHeader(2);
    rb.Bulk("type");
    rb.Bulk("index");
    rb.Bulk("spec");
    rb.MapHeader(1);
    rb.Bulk("index");
    rb.Integer(s.first_key);
    rb.Bulk("find_keys");
    rb.MapHeader(2);
    rb.Bulk("type");
    rb.Bulk("range");
    rb.Bulk("spec");
    rb.MapHeader(3);
    rb.Bulk("lastkey");
    rb.Integer(s.last_key < 0 ? s.last_key : s.last_key - s.first_key);
    rb.Bulk("keystep");
    rb.Integer(s.step);
    rb.Bulk("limit");
    rb.Integer(0);
    rb.Bulk("notes");
    rb.Bulk("");
  } else {
    rb.ArrayHeader(0);
  }
  rb.ArrayHeader(s.subcommands.size());
  for (const CommandSpec* sub : s.subcommands) ReplyCommandInfo(ctx, *sub);
}

void ReplyCommandDocs(CommandContext& ctx, const CommandSpec& s) {
  ctx.rb.Bulk(s.name);
  ctx.rb.MapHeader(4);
  ctx.rb.Bulk("summary");
  ctx.rb.Bulk(s.summary);
  ctx.rb.Bulk("since");
  ctx.rb.Bulk(s.since);
  ctx.rb.Bulk("group");
  ctx.rb.Bulk(s.group);
  ctx.rb.Bulk("complexity");
  ctx.rb.Bulk((s.flags & cmdflags::kFast) ? "O(1)" : "O(N)");
}

// COMMAND GETKEYSANDFLAGS: the access flags of the `nth` key of `call` (call[0] the command),
// as Redis's key specs give them for the commands clients ask about most; other commands get
// "RO access" when read-only and "RW update" otherwise.
std::vector<const char*> KeyAccessFlags(const CommandSpec& s, CmdArgs call, size_t nth) {
  std::string_view n = s.name;
  if (n == "set") {
    for (size_t i = 3; i < call.size(); i++) {
      if (EqualsUpper(call[i], "GET")) return {"RW", "access", "update"};
    }
    return {"OW", "update"};
  }
  if (n == "mset" || n == "setex" || n == "psetex") return {"OW", "update"};
  if (n == "msetnx" || n == "setnx") return {"OW", "insert"};
  if (n == "del" || n == "unlink") return {"RM", "delete"};
  if (n == "getdel") return {"RW", "access", "delete"};
  if (n == "lmove" || n == "blmove" || n == "rpoplpush" || n == "brpoplpush" || n == "smove") {
    return nth == 0 ? std::vector<const char*>{"RW", "access", "delete"}
                    : std::vector<const char*>{"RW", "insert"};
  }
  if (n == "sort" || n == "sort_ro") {
    return nth == 0 ? std::vector<const char*>{"RO", "access"}
                    : std::vector<const char*>{"OW", "update"};
  }
  if (n == "copy" || n == "rename" || n == "renamenx") {
    if (n == "copy") {
      return nth == 0 ? std::vector<const char*>{"RO", "access"}
                      : std::vector<const char*>{"OW", "update"};
    }
    return nth == 0 ? std::vector<const char*>{"RW", "access", "delete"}
                    : std::vector<const char*>{"OW", "update"};
  }
  if (s.flags & cmdflags::kWrite) return {"RW", "update"};
  return {"RO", "access"};
}

void CmdCommand(CmdArgs args, CommandContext& ctx) {
  const CommandRegistry& reg = CommandRegistry::Default();
  auto top = reg.TopLevel();
  if (args.size() == 1) {
    ctx.rb.ArrayHeader(top.size());
    for (const CommandSpec* s : top) ReplyCommandInfo(ctx, *s);
    return;
  }
  std::string_view sub = args[1];
  if (EqualsUpper(sub, "COUNT")) {
    if (args.size() != 2) return SubArity(ctx, "command", sub);
    return ctx.rb.Integer(static_cast<int64_t>(top.size()));
  }
  if (EqualsUpper(sub, "INFO")) {
    if (args.size() == 2) {
      ctx.rb.ArrayHeader(top.size());
      for (const CommandSpec* s : top) ReplyCommandInfo(ctx, *s);
      return;
    }
    ctx.rb.ArrayHeader(args.size() - 2);
    for (size_t i = 2; i < args.size(); i++) {
      const CommandSpec* s = reg.FindFull(args[i]);
      if (s == nullptr) {
        ctx.rb.NullBulk();
      } else {
        ReplyCommandInfo(ctx, *s);
      }
    }
    return;
  }
  if (EqualsUpper(sub, "DOCS")) {
    std::vector<const CommandSpec*> specs;
    if (args.size() == 2) {
      specs = top;
    } else {
      for (size_t i = 2; i < args.size(); i++) {
        if (const CommandSpec* s = reg.FindFull(args[i])) specs.push_back(s);
      }
    }
    ctx.rb.MapHeader(specs.size());
    for (const CommandSpec* s : specs) ReplyCommandDocs(ctx, *s);
    return;
  }
  if (EqualsUpper(sub, "LIST")) {
    std::string pattern, category;
    if (args.size() != 2) {
      if (args.size() != 5 || !EqualsUpper(args[2], "FILTERBY")) {
        return ctx.rb.Error(errors::kSyntax);
      }
      if (EqualsUpper(args[3], "PATTERN")) {
        pattern = std::string(args[4]);
      } else if (EqualsUpper(args[3], "ACLCAT")) {
        category = "@" + Lower(args[4]);
      } else if (EqualsUpper(args[3], "MODULE")) {
        ctx.rb.ArrayHeader(0);
        return;
      } else {
        return ctx.rb.Error(errors::kSyntax);
      }
    }
    std::vector<const char*> names;
    for (const auto& spec : reg.all()) {  // as Redis 7: subcommands ("config|get") too
      const CommandSpec* s = &spec;
      if (!pattern.empty() && !GlobMatch(pattern, s->name, true)) continue;
      if (!category.empty()) {
        auto cats = AclCategories(*s);
        if (std::find(cats.begin(), cats.end(), category) == cats.end()) continue;
      }
      names.push_back(s->name);
    }
    ctx.rb.ArrayHeader(names.size());
    for (const char* n : names) ctx.rb.Bulk(n);
    return;
  }
  if (EqualsUpper(sub, "GETKEYS") || EqualsUpper(sub, "GETKEYSANDFLAGS")) {
    if (args.size() < 3) return SubArity(ctx, "command", sub);
    const CommandSpec* s = reg.Find(args[2]);
    if (s == nullptr) return ctx.rb.Error("ERR Invalid command specified");
    if (s->container() && args.size() >= 4) {  // MEMORY USAGE key: the subcommand's keys
      if (const CommandSpec* subspec = reg.FindSub(*s, args[3])) s = subspec;
    }
    int argc = static_cast<int>(args.size()) - 2;
    if ((s->arity > 0 && argc != s->arity) || (s->arity < 0 && argc < -s->arity)) {
      return ctx.rb.Error("ERR Invalid number of arguments specified for command");
    }
    std::vector<size_t> idx;
    CommandRegistry::KeyIndexes(*s, args.subspan(2), &idx);
    if (idx.empty()) {
      // Scripts may name no key (Redis's no-mandatory-keys): an empty list, not an error.
      std::string_view n = s->name;
      if (n.starts_with("eval") || n.starts_with("fcall")) return ctx.rb.ArrayHeader(0);
      return ctx.rb.Error("ERR The command has no key arguments");
    }
    bool with_flags = EqualsUpper(sub, "GETKEYSANDFLAGS");
    ctx.rb.ArrayHeader(idx.size());
    for (size_t k = 0; k < idx.size(); k++) {
      const size_t i = idx[k];
      if (with_flags) {
        ctx.rb.ArrayHeader(2);
        ctx.rb.Bulk(args[2 + i]);
        auto fl = KeyAccessFlags(*s, args.subspan(2), k);
        ctx.rb.SetHeader(fl.size());
        for (const char* f : fl) ctx.rb.SimpleString(f);
      } else {
        ctx.rb.Bulk(args[2 + i]);
      }
    }
    return;
  }
  if (EqualsUpper(sub, "HELP")) {
    return ReplyHelp(
        ctx.rb, "COMMAND",
        {"(no subcommand)", "    Return details about all commands.", "COUNT",
         "    Return the total number of commands in this server.", "LIST",
         "    Return a list of all commands in this server.", "INFO [<command-name> ...]",
         "    Return details about multiple commands.", "DOCS [<command-name> ...]",
         "    Return documentation details about multiple commands.", "GETKEYS <full-command>",
         "    Return the keys from a full command."});
  }
  UnknownSubcommand(ctx, sub, "COMMAND");
}

}  // namespace

void RegisterServerFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"ping", -1, kFast | kSubscribedOk, 0, 0, 0, CmdPing, "connection", "Returns the server's liveliness response.", "1.0.0"});
  r.Register({"echo", 2, kFast | kStale, 0, 0, 0, CmdEcho, "connection", "Returns the given string.", "1.0.0"});
  r.Register({"time", 1, kFast | kStale | kLoading, 0, 0, 0, CmdTime, "server", "Returns the server time.", "2.6.0"});
  r.Register({"quit", -1, kFast | kNoAuth | kStale | kLoading | kSubscribedOk, 0, 0, 0, CmdQuit, "connection", "Closes the connection.", "1.0.0"});
  r.Register({"auth", -2, kFast | kNoAuth | kStale | kLoading | kNoScript, 0, 0, 0, CmdAuth, "connection", "Authenticates the connection.", "1.0.0"});
  r.Register({"hello", -1, kFast | kNoAuth | kStale | kLoading | kNoScript, 0, 0, 0, CmdHello, "connection", "Handshakes with the Redis server.", "6.0.0"});
  r.Register({"monitor", 1, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdMonitor, "server", "Listens for all requests received by the server in real-time.", "1.0.0"});
  r.Register({"reset", 1, kFast | kNoAuth | kStale | kLoading | kNoScript | kSubscribedOk, 0, 0, 0, CmdReset, "connection", "Resets the connection.", "6.2.0"});
  r.Register({"client", -2, kStale | kLoading | kNoScript, 0, 0, 0, nullptr, "connection", "A container for client connection commands.", "2.4.0"});
  r.Register({"client|id", 2, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Returns the unique client ID of the connection.", "5.0.0"});
  r.Register({"client|setname", 3, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Sets the connection name.", "2.6.9"});
  r.Register({"client|getname", 2, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Returns the name of the connection.", "2.6.9"});
  r.Register({"client|setinfo", 4, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Sets information specific to the client or connection.", "7.2.0"});
  r.Register({"client|list", -2, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Lists open connections.", "2.4.0"});
  r.Register({"client|info", 2, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Returns information about the connection.", "6.2.0"});
  r.Register({"client|kill", -3, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Terminates open connections.", "2.4.0"});
  r.Register({"client|unblock", -3, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Unblocks a client blocked by a blocking command from a different connection.", "5.0.0"});
  r.Register({"client|pause", -3, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Suspends commands processing.", "3.0.0"});
  r.Register({"client|unpause", 2, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Resumes processing commands from paused clients.", "6.2.0"});
  r.Register({"client|no-evict", 3, kAdmin | kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Sets the client eviction mode of the connection.", "7.0.0"});
  r.Register({"client|tracking", -3, kStale | kLoading | kNoScript, 0, 0, 0, CmdClientTracking, "connection", "Controls server-assisted client-side caching for the connection.", "6.0.0"});
  r.Register({"client|caching", 3, kStale | kLoading | kNoScript, 0, 0, 0, CmdClientCaching, "connection", "Instructs the server whether to track the keys in the next request.", "6.0.0"});
  r.Register({"client|getredir", 2, kStale | kLoading | kNoScript, 0, 0, 0, CmdClientGetRedir, "connection", "Returns the client ID to which the connection's tracking notifications are redirected.", "6.0.0"});
  r.Register({"client|trackinginfo", 2, kStale | kLoading | kNoScript, 0, 0, 0, CmdClientTrackingInfo, "connection", "Returns information about server-assisted client-side caching for the connection.", "6.2.0"});
  r.Register({"client|reply", 3, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Instructs the server whether to reply to commands.", "3.2.0"});
  r.Register({"client|no-touch", 3, kStale | kLoading | kNoScript, 0, 0, 0, CmdClient, "connection", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0"});
  r.Register({"client|help", 2, kStale | kLoading, 0, 0, 0, CmdClient, "connection", "Returns helpful text about the different subcommands.", "5.0.0"});
  r.Register({"dbsize", 1, kReadOnly | kFast | kSelfLocking, 0, 0, 0, CmdDbSize, "server", "Returns the number of keys in the database.", "1.0.0"});
  r.Register({"flushall", -1, kWrite | kSelfLocking, 0, 0, 0, CmdFlushAll, "server", "Removes all keys from all databases.", "1.0.0"});
  r.Register({"info", -1, kStale | kLoading, 0, 0, 0, CmdInfo, "server", "Returns information and statistics about the server.", "1.0.0"});
  r.Register({"save", 1, kAdmin | kNoScript | kNoMulti, 0, 0, 0, CmdSave, "server", "Synchronously saves the database(s) to disk.", "1.0.0"});
  r.Register({"bgsave", -1, kAdmin | kNoScript, 0, 0, 0, CmdBgSave, "server", "Asynchronously saves the database(s) to disk.", "1.0.0"});
  r.Register({"lastsave", 1, kFast | kStale | kLoading, 0, 0, 0, CmdLastSave, "server", "Returns the Unix timestamp of the last successful save to disk.", "1.0.0"});
  r.Register({"shutdown", -1, kAdmin | kNoScript | kLoading | kStale | kNoMulti, 0, 0, 0, CmdShutdown, "server", "Synchronously saves the database(s) to disk and shuts down the server.", "1.0.0"});
  r.Register({"debug", -2, kAdmin | kNoScript | kLoading | kStale | kProtected, 0, 0, 0, CmdDebug, "server", "A container for debugging commands.", "1.0.0"});
  r.Register({"config", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, nullptr, "server", "A container for server configuration commands.", "2.0.0"});
  r.Register({"config|get", -3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdConfig, "server", "Returns the effective values of configuration parameters.", "2.0.0"});
  r.Register({"config|set", -4, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdConfig, "server", "Sets configuration parameters in-flight.", "2.0.0"});
  r.Register({"config|resetstat", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdConfig, "server", "Resets the server's statistics.", "2.0.0"});
  r.Register({"config|rewrite", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, CmdConfig, "server", "Persists the effective configuration to file.", "2.8.0"});
  r.Register({"config|help", 2, kLoading | kStale, 0, 0, 0, CmdConfig, "server", "Returns helpful text about the different subcommands.", "5.0.0"});
  r.Register({"command", -1, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns detailed information about all commands.", "2.8.13"});
  r.Register({"command|count", 2, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns a count of commands.", "2.8.13"});
  r.Register({"command|info", -2, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns information about one, multiple or all commands.", "2.8.13"});
  r.Register({"command|docs", -2, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns documentary information about one, multiple or all commands.", "7.0.0"});
  r.Register({"command|list", -2, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns a list of command names.", "7.0.0"});
  r.Register({"command|getkeys", -4, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Extracts the key names from an arbitrary command.", "2.8.13"});
  r.Register({"command|getkeysandflags", -4, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Extracts the key names and access flags for an arbitrary command.", "7.0.0"});
  r.Register({"command|help", 2, kLoading | kStale, 0, 0, 0, CmdCommand, "server", "Returns helpful text about the different subcommands.", "5.0.0"});
  // clang-format on
}

std::string ClientInfoString(const ClientState& c, int64_t now_ms) {
  return ClientInfoLine(c, now_ms);
}

}  // namespace fdb
