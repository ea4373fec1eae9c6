// The dashboard: a page at `/` (assets built into the binary, http/dashboard/) and the JSON API it
// calls, on the HTTP listener's civetweb workers.
//
// The model. The page does everything through two calls: GET /api/stats (the figures of the
// charts, commands/server_stats.h, as INFO and /metrics read them) and POST /api/command, which
// runs one Redis command through the server's own Dispatcher as a client of the logged-in user.
// So the user's ACL applies to everything the page does, and a key browser, a slow log or a kill
// button is a command anyone could type into redis-cli, with the same reply. The alternative
// rejected: an endpoint per panel reading the keyspace directly, which would need an ACL check of
// its own for each and would drift from what the commands reply.
//
// Sessions. POST /api/login checks a user and password with the ACL code (Acl::Authenticate, as
// AUTH does; with no password for the default user it logs in as the default user). A session
// is a random 128-bit token in a cookie (HttpOnly, SameSite=Strict) that maps to a ClientState:
// a client in CLIENT LIST (lib-name fdb-dashboard) with its own selected database, ended by
// logout, by CLIENT KILL, by ACL DELUSER of its user, after limits::kDashboardSessionIdleMs
// unused or limits::kDashboardSessionMaxMs after login. Writes are CSRF-safe: every POST but
// the login carries the session's CSRF token in X-CSRF-Token (a page of another site cannot read
// it), every POST must be application/json (a cross-site form cannot send that without a CORS
// preflight, which is refused), and an Origin header, when sent, must be this host.
//
// Threads. A command runs on the civetweb worker that took the request, never on an I/O thread.
// The dispatcher is not thread-safe (scratch state, per-thread statistics): a pool of
// dispatchers, each with its own ThreadStats, hands one to each request, as the embedded API
// gives one to each calling thread; a session's requests run one at a time (its ClientState has
// one owner at a time). What a network connection has and these clients have not: blocking,
// subscriptions, MONITOR, MULTI, a changed protocol (HELLO, AUTH) or reply mode; such commands are
// refused with a clear error (RefusedInConsole).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "commands/server_context.h"
#include "http/request.h"

namespace fdb {

class Dispatcher;

class Dashboard {
 public:
  explicit Dashboard(ServerContext& ctx);
  ~Dashboard();  // EndSessions()
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // The routes (http_server.cc's table). Thread-safe.
  void ServeAsset(const HttpRequest& req, HttpResponse& r);  // GET /, /dashboard.js, ...
  void Session(const HttpRequest& req, HttpResponse& r);     // GET /api/session
  void Login(const HttpRequest& req, HttpResponse& r);       // POST /api/login
  void Logout(const HttpRequest& req, HttpResponse& r);      // POST /api/logout
  void Command(const HttpRequest& req, HttpResponse& r);     // POST /api/command
  void Stats(const HttpRequest& req, HttpResponse& r);       // GET /api/stats

  // Ends every session (their clients leave the client list). While no request is served.
  void EndSessions();

  // A non-local peer while the default user has no password and protected-mode is on: refused
  // (403, Redis's DENIED text), as the RESP port refuses it. The dashboard's routes and
  // /metrics ask it first.
  bool ProtectedModeRefuses(const HttpRequest& req, HttpResponse& r);

 private:
  struct SessionState;
  struct Runner;
  // The request's session (its cookie), or null (and `r` says why: 401). Ends sessions that
  // expired or whose client was killed.
  std::shared_ptr<SessionState> Find(const HttpRequest& req, HttpResponse& r);
  // A POST's checks before its session is looked at: JSON body, same origin. False: `r` says why.
  static bool PostAllowed(const HttpRequest& req, HttpResponse& r);
  // The request carries the session's CSRF token (X-CSRF-Token), compared in constant time.
  static bool CsrfMatches(const HttpRequest& req, const SessionState& s);
  std::unique_ptr<Runner> TakeRunner();
  void GiveBack(std::unique_ptr<Runner> runner);

  ServerContext& ctx_;
  std::mutex mu_;
  // By the SHA-256 of the token (a lookup's timing tells nothing of a token); guarded by mu_.
  std::map<std::string, std::shared_ptr<SessionState>> sessions_;
  std::vector<std::unique_ptr<Runner>> idle_runners_;  // guarded by mu_
};

}  // namespace fdb
