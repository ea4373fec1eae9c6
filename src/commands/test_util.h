// In-process command tests: drive the real dispatcher without sockets.
//
//   CommandTester t;
//   EXPECT_EQ(t.Run({"set", "k", "v"}), "+OK\r\n");
//   EXPECT_EQ(t.Run({"get", "k"}), "$1\r\nv\r\n");
//
// Run returns the exact RESP bytes of the reply (RESP2 unless t.SetResp3(true)).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "commands/dispatcher.h"
#include "commands/server_context.h"

namespace fdb {

class CommandTester {
 public:
  CommandTester() : stats_(server_.NewThreadStats()), dispatcher_(server_, stats_) {
    client_.id = server_.NextClientId();
    client_.addr = "127.0.0.1:1";
    client_.laddr = "127.0.0.1:6380";
    server_.clients().Add(&client_);
  }
  ~CommandTester() { server_.clients().Remove(&client_); }

  std::string Run(std::initializer_list<std::string_view> args) {
    return Run(std::vector<std::string_view>(args));
  }
  std::string Run(const std::vector<std::string_view>& args) {
    std::string out;
    ReplyBuilder rb(&out);
    rb.set_resp3(client_.resp3.load());
    dispatcher_.Execute(args, client_, rb);
    return out;
  }
  void SetResp3(bool v) { client_.resp3 = v; }

  ServerContext& server() { return server_; }
  ClientState& client() { return client_; }

 private:
  ServerContext server_;
  ThreadStats* stats_;
  Dispatcher dispatcher_;
  ClientState client_;
};

// Reply helpers for expectations.
inline std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
inline std::string Int(int64_t v) { return ":" + std::to_string(v) + "\r\n"; }
inline std::string Err(std::string_view s) { return "-" + std::string(s) + "\r\n"; }
inline const char* kOK = "+OK\r\n";
inline const char* kNil = "$-1\r\n";

}  // namespace fdb
