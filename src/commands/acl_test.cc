#include "commands/acl.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "commands/test_util.h"

namespace fdb {
namespace {

const CommandSpec& Spec(std::string_view name) {
  const CommandSpec* s = CommandRegistry::Default().FindFull(name);
  EXPECT_NE(s, nullptr) << name;
  return *s;
}

AclVerdict Check(Acl& acl, std::string_view user, std::vector<std::string_view> args) {
  std::shared_ptr<AclUser> u = acl.Find(user);
  EXPECT_NE(u, nullptr);
  std::string name(args[0]);
  const CommandSpec* spec = CommandRegistry::Default().Find(name);
  if (spec->container()) spec = CommandRegistry::Default().FindSub(*spec, args[1]);
  return acl.Check(*u, *spec, args);
}

TEST(AclTest, DefaultUserIsUnrestrictedAndNopass) {
  ServerContext server;
  Acl& acl = server.acl();
  EXPECT_TRUE(acl.default_user()->unrestricted.load());
  EXPECT_TRUE(acl.DefaultNoPass());
  EXPECT_EQ(acl.List(), std::vector<std::string>{"user default on nopass ~* &* +@all"});
  ASSERT_TRUE(acl.SetUser("default", {"-flushdb"}).ok());
  EXPECT_FALSE(acl.default_user()->unrestricted.load());
  ASSERT_TRUE(acl.SetUser("default", {"+@all"}).ok());
  EXPECT_TRUE(acl.default_user()->unrestricted.load());
}

TEST(AclTest, CategoriesFromRegistryFlags) {
  const auto& names = AclCategoryNames();
  auto has = [&](std::string_view cmd, std::string_view cat) {
    size_t i = std::find(names.begin(), names.end(), cat) - names.begin();
    return (AclCategoriesOf(Spec(cmd)) >> i) & 1;
  };
  EXPECT_TRUE(has("get", "read"));
  EXPECT_TRUE(has("get", "string"));
  EXPECT_TRUE(has("get", "fast"));
  EXPECT_FALSE(has("get", "write"));
  EXPECT_TRUE(has("set", "write"));
  EXPECT_TRUE(has("set", "slow"));
  EXPECT_TRUE(has("blpop", "blocking"));
  EXPECT_TRUE(has("config|set", "admin"));
  EXPECT_TRUE(has("config|set", "dangerous"));
  EXPECT_TRUE(has("flushall", "dangerous"));
  EXPECT_TRUE(has("del", "keyspace"));
  EXPECT_TRUE(has("zadd", "sortedset"));
  EXPECT_TRUE(has("multi", "transaction"));
  EXPECT_TRUE(has("eval", "scripting"));
  EXPECT_TRUE(has("publish", "pubsub"));
  EXPECT_TRUE(has("ping", "connection"));
  EXPECT_TRUE(has("pfadd", "hyperloglog"));
  EXPECT_TRUE(has("setbit", "bitmap"));
  EXPECT_TRUE(has("geoadd", "geo"));
  EXPECT_TRUE(has("xadd", "stream"));
}

TEST(AclTest, RulesAreDescribedBackAsGiven) {
  ServerContext server;
  Acl& acl = server.acl();
  ASSERT_TRUE(acl.SetUser("u", {"on", "nopass", "%R~a*", "%W~b*", "~c", "&ch", "-@all", "+get",
                                "+client|id", "+select|0", "(+set ~w*)"})
                  .ok());
  std::vector<std::string> list = acl.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1],
            "user u on nopass %R~a* %W~b* ~c resetchannels &ch -@all +get +client|id +select|0 "
            "(~w* resetchannels -@all +set)");
  // A later rule for a command replaces the earlier ones (and those of its subcommands).
  ASSERT_TRUE(acl.SetUser("v", {"+memory|doctor"}).ok());
  ASSERT_TRUE(acl.SetUser("v", {"+memory"}).ok());
  EXPECT_EQ(acl.List()[2], "user v off resetchannels -@all +memory");
  ASSERT_TRUE(acl.SetUser("v", {"+@all", "+client|id"}).ok());  // already allowed
  EXPECT_EQ(acl.List()[2], "user v off resetchannels +@all");
  // %R and %W of one pattern are ~.
  ASSERT_TRUE(acl.SetUser("w", {"%R~foo", "%W~foo", "%RW~bar"}).ok());
  EXPECT_EQ(acl.List()[3], "user w off ~foo ~bar resetchannels -@all");
}

TEST(AclTest, SetUserErrorsChangeNothing) {
  ServerContext server;
  Acl& acl = server.acl();
  Status s = acl.SetUser("x", {"on", "bogus"});
  EXPECT_EQ(s.message(), "ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
  EXPECT_EQ(acl.Find("x"), nullptr);
  s = acl.SetUser("x", {"#abc"});
  EXPECT_NE(s.message().find("must be exactly 64 characters"), std::string::npos);
  s = acl.SetUser("x", {"+config|get|x"});
  EXPECT_NE(s.message().find("Allowing first-arg of a subcommand is not supported"),
            std::string::npos);
  s = acl.SetUser("x", {"+config|nosuch"});
  EXPECT_NE(s.message().find("Unknown command or category name in ACL"), std::string::npos);
  s = acl.SetUser("x", {"allkeys", "~a"});
  EXPECT_NE(s.message().find("Adding a pattern after the * pattern"), std::string::npos);
  s = acl.SetUser("x", {"(~a", "+get"});
  EXPECT_EQ(s.message(), "ERR Unmatched parenthesis in acl selector starting at '(~a'.");
  ASSERT_TRUE(acl.SetUser("x", {"on", ">p"}).ok());
  s = acl.SetUser("x", {"off", "<nope"});
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(acl.Find("x")->on);  // the whole call failed: still on
}

TEST(AclTest, PasswordsAreSha256) {
  ServerContext server;
  Acl& acl = server.acl();
  ClientState c;
  ASSERT_TRUE(acl.SetUser("u", {"on", ">one", ">two"}).ok());
  EXPECT_NE(acl.Authenticate("u", "one", c), nullptr);
  EXPECT_NE(acl.Authenticate("u", "two", c), nullptr);
  EXPECT_EQ(acl.Authenticate("u", "three", c), nullptr);
  EXPECT_EQ(acl.Authenticate("nobody", "one", c), nullptr);
  // sha256("one")
  const std::string h = "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed";
  EXPECT_NE(acl.List()[1].find("#" + h), std::string::npos);
  ASSERT_TRUE(acl.SetUser("u", {"!" + h}).ok());
  EXPECT_EQ(acl.Authenticate("u", "one", c), nullptr);
  ASSERT_TRUE(acl.SetUser("u", {"off"}).ok());
  EXPECT_EQ(acl.Authenticate("u", "two", c), nullptr);  // disabled
  ASSERT_TRUE(acl.SetUser("u", {"on", "nopass"}).ok());
  EXPECT_NE(acl.Authenticate("u", "anything", c), nullptr);
  acl.SetRequirePass("secret");
  EXPECT_FALSE(acl.DefaultNoPass());
  EXPECT_NE(acl.Authenticate("default", "secret", c), nullptr);
  acl.SetRequirePass("");
  EXPECT_TRUE(acl.DefaultNoPass());
}

TEST(AclTest, KeyPermissionsFollowWhatTheCommandDoes) {
  ServerContext server;
  Acl& acl = server.acl();
  ASSERT_TRUE(acl.SetUser("u", {"+@all", "%R~r*", "%W~w*", "~rw*"}).ok());
  EXPECT_EQ(Check(acl, "u", {"get", "r1"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"get", "w1"}).denial, AclDenial::kKey);
  EXPECT_EQ(Check(acl, "u", {"set", "w1", "v"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"set", "w1", "v", "GET"}).denial, AclDenial::kKey);  // reads too
  EXPECT_EQ(Check(acl, "u", {"lpush", "r1", "v"}).denial, AclDenial::kKey);
  EXPECT_EQ(Check(acl, "u", {"incr", "w1"}).denial, AclDenial::kKey);  // reads and writes
  EXPECT_EQ(Check(acl, "u", {"incr", "rw1"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"exists", "w1"}).denial, AclDenial::kNone);  // either suffices
  EXPECT_EQ(Check(acl, "u", {"copy", "r1", "w1"}).denial, AclDenial::kNone);
  AclVerdict v = Check(acl, "u", {"copy", "w1", "r1"});
  EXPECT_EQ(v.denial, AclDenial::kKey);
  EXPECT_EQ(v.object, "w1");
  EXPECT_EQ(Acl::DryRunText(v), "This user has no permissions to access the 'w1' key");
  EXPECT_EQ(Check(acl, "u", {"eval", "", "3", "rw", "r"}).denial, AclDenial::kNone);
}

TEST(AclTest, CommandsSubcommandsAndFirstArgs) {
  ServerContext server;
  Acl& acl = server.acl();
  ASSERT_TRUE(acl.SetUser("u", {"allkeys", "-@all", "+config", "-config|set", "+select|0"}).ok());
  EXPECT_EQ(Check(acl, "u", {"config", "get", "x"}).denial, AclDenial::kNone);
  AclVerdict v = Check(acl, "u", {"config", "set", "x", "y"});
  EXPECT_EQ(v.denial, AclDenial::kCommand);
  EXPECT_EQ(Acl::NoPermText(v),
            "NOPERM this user has no permissions to run the 'config|set' command");
  EXPECT_EQ(Check(acl, "u", {"select", "0"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"select", "1"}).denial, AclDenial::kCommand);
  ASSERT_TRUE(acl.SetUser("u", {"+@string"}).ok());
  EXPECT_EQ(Check(acl, "u", {"get", "k"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"lpush", "k", "v"}).denial, AclDenial::kCommand);
}

TEST(AclTest, ChannelsAndSelectors) {
  ServerContext server;
  Acl& acl = server.acl();
  ASSERT_TRUE(acl.SetUser("u", {"+@all", "allkeys", "resetchannels", "&news.*", "&ops"}).ok());
  EXPECT_EQ(Check(acl, "u", {"publish", "news.1", "m"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"publish", "sport", "m"}).denial, AclDenial::kChannel);
  EXPECT_EQ(Check(acl, "u", {"subscribe", "ops", "sport"}).object, "sport");
  // A pattern subscription must be one of the user's patterns, literally.
  EXPECT_EQ(Check(acl, "u", {"psubscribe", "news.*"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "u", {"psubscribe", "news.1*"}).denial, AclDenial::kChannel);
  // Selectors: one of them must allow the whole call.
  ASSERT_TRUE(acl.SetUser("s", {"-@all", "(+get ~r*)", "(+set ~w*)"}).ok());
  EXPECT_EQ(Check(acl, "s", {"get", "r1"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "s", {"set", "w1", "v"}).denial, AclDenial::kNone);
  EXPECT_EQ(Check(acl, "s", {"get", "w1"}).denial, AclDenial::kKey);
  EXPECT_EQ(Check(acl, "s", {"del", "w1"}).denial, AclDenial::kCommand);
}

TEST(AclTest, LogGroupsRepeats) {
  ServerContext server;
  Acl& acl = server.acl();
  ClientState c;
  acl.Log(c, "command", "toplevel", "get", "u");
  acl.Log(c, "command", "toplevel", "get", "u");
  acl.Log(c, "key", "multi", "k", "u");
  std::string out;
  ReplyBuilder rb(&out);
  acl.ReplyLog(rb, 10);
  EXPECT_EQ(out.substr(0, 4), "*2\r\n");
  EXPECT_NE(out.find("$3\r\nkey\r\n"), std::string::npos);
  EXPECT_NE(out.find(":2\r\n"), std::string::npos);  // the grouped entry's count
  acl.ResetLog();
  out.clear();
  acl.ReplyLog(rb, 10);
  EXPECT_EQ(out, "*0\r\n");
}

TEST(AclTest, FileRoundTrip) {
  ServerContext server;
  Acl& acl = server.acl();
  ASSERT_TRUE(acl.SetUser("u", {"on", ">pw", "~k*", "+get", "(+set ~w*)"}).ok());
  std::string path = ::testing::TempDir() + "/acl_test_users.acl";
  ASSERT_TRUE(acl.SaveFile(path).ok());
  std::vector<std::string> before = acl.List();
  ServerContext other;
  ASSERT_TRUE(other.acl().LoadFile(path).ok());
  EXPECT_EQ(other.acl().List(), before);
  {
    std::ofstream f(path, std::ios::app);
    f << "user u on nopass\n";
  }
  Status s = other.acl().LoadFile(path);
  EXPECT_NE(s.message().find("Duplicate user 'u' found"), std::string::npos);
  EXPECT_EQ(other.acl().List(), before);  // unchanged
  std::remove(path.c_str());
}

TEST(AclTest, DispatcherRefusesAndLogs) {
  CommandTester t;
  EXPECT_EQ(t.Run({"acl", "setuser", "u", "on", "nopass", "+get", "~a*"}), kOK);
  EXPECT_EQ(t.Run({"auth", "u", "x"}), kOK);
  EXPECT_EQ(t.Run({"acl", "whoami"}),
            Err("NOPERM this user has no permissions to run the 'acl|whoami' command"));
  EXPECT_EQ(t.Run({"get", "b"}),
            Err("NOPERM this user has no permissions to access one of the keys used as "
                "arguments"));
  EXPECT_EQ(t.Run({"get", "a"}), kNil);
  EXPECT_EQ(t.Run({"auth", "default", "x"}), kOK);
  std::string log = t.Run({"acl", "log"});
  EXPECT_NE(log.find("acl|whoami"), std::string::npos);
  EXPECT_NE(log.find("$1\r\nb\r\n"), std::string::npos);
}

}  // namespace
}  // namespace fdb
