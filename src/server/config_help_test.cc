// --help and --print-config are generated from the parameter table: every parameter is in
// both, with its meaning, and the config file reads back to the configuration it describes.
#include "server/config_help.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace fdb {
namespace {

Status Args(Config& c, std::vector<std::string> words) {
  std::vector<char*> argv;
  std::string prog = "fdb-server";
  argv.push_back(prog.data());
  for (auto& w : words) argv.push_back(w.data());
  return c.ParseArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigHelpTest, EveryParameterHasAMeaning) {
  for (const Config::ParamInfo& p : Config().Describe()) {
    EXPECT_FALSE(p.doc.empty()) << p.name << ": add .Doc(\"...\") to its row in config.cc";
    EXPECT_EQ(p.doc.find('\n'), std::string::npos) << p.name;
    EXPECT_FALSE(p.accepts.empty()) << p.name;
  }
}

TEST(ConfigHelpTest, HelpNamesEveryReportedParameterAndAlias) {
  Config c;
  const std::string help = HelpText(c, "9.9.9");
  EXPECT_EQ(help.rfind("fdb-server 9.9.9", 0), 0u);
  for (const auto& [name, value] : c.Get("*")) {
    const bool listed = help.find("  --" + name + " ") != std::string::npos ||
                        help.find("  --" + name + ", ") != std::string::npos ||
                        help.find(", --" + name + " ") != std::string::npos;
    EXPECT_TRUE(listed) << name;
  }
  EXPECT_NE(help.find("--threads <0..128>  default 0  [startup only]"), std::string::npos);
  EXPECT_NE(help.find("--loglevel <debug|verbose|notice|warning|nothing>  default notice\n"
                      "      log lines below this level are dropped\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("--proto-max-bulk-len <bytes (1k, 1kb, 1mb, 1gb...)>  default 512mb"),
            std::string::npos);
  // Redis's testing knobs stay out.
  EXPECT_EQ(help.find("--key-load-delay"), std::string::npos);
  // What has no effect comes after the heading that says so.
  size_t heading = help.find("without effect in FDB");
  ASSERT_NE(heading, std::string::npos);
  EXPECT_GT(help.find("--tcp-backlog "), heading);
  EXPECT_LT(help.find("--maxmemory "), heading);
}

TEST(ConfigHelpTest, ConfigFileSetsWhatWasGivenAndCommentsTheRest) {
  Config c;
  ASSERT_TRUE(
      Args(c, {"--port", "6380", "--dir", "/var/lib/fdb", "--maxmemory", "2mb", "--save", "60 5"})
          .ok());
  const std::string text = ConfigFileText(c);
  EXPECT_NE(text.find("\nport 6380\n"), std::string::npos);
  EXPECT_NE(text.find("\ndir /var/lib/fdb\n"), std::string::npos);
  EXPECT_NE(text.find("\nmaxmemory 2mb\n"), std::string::npos);
  EXPECT_NE(text.find("\nsave 60 5\n"), std::string::npos);
  EXPECT_NE(text.find("\n# bind * -::*\n"), std::string::npos);
  EXPECT_NE(text.find("\n# logfile \"\"\n"), std::string::npos);
  EXPECT_NE(text.find("\n# requirepass \"\"\n"), std::string::npos);
  EXPECT_NE(
      text.find("# Accepts: always|everysec|no. Default: everysec.\n# appendfsync everysec\n"),
      std::string::npos);
  // Every reported parameter has its line, set or commented out.
  for (const auto& [name, value] : c.Get("*")) {
    const bool alias = c.CanonicalName(name) != name;
    if (alias) continue;
    EXPECT_TRUE(text.find("\n" + name + " ") != std::string::npos ||
                text.find("\n# " + name + " ") != std::string::npos)
        << name;
  }
}

// The file, with every commented-out line uncommented too, loads into the same configuration:
// each default is written in a form the reader takes back.
TEST(ConfigHelpTest, ConfigFileReadsBack) {
  Config given;
  ASSERT_TRUE(Args(given, {"--bind", "127.0.0.1 -::1", "--dir", "/var/lib/fdb", "--logfile",
                           "/var/log/fdb/fdb-server.log", "--requirepass", "a b\"c"})
                  .ok());
  std::string text = ConfigFileText(given);
  std::string uncommented;
  size_t pos = 0;
  bool after_accepts = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    // A parameter's line follows its "# Accepts: ..." line.
    if (after_accepts && line.rfind("# ", 0) == 0) line = line.substr(2);
    after_accepts = line.rfind("# Accepts: ", 0) == 0;
    uncommented += line + "\n";
  }
  char path[] = "/tmp/fdb_config_help_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << uncommented;
  Config loaded;
  Status s = loaded.LoadFile(path);
  std::remove(path);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(loaded.Get("*"), given.Get("*"));
  EXPECT_EQ(loaded.requirepass(), "a b\"c");
}

}  // namespace
}  // namespace fdb
