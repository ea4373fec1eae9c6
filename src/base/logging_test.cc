#include "base/logging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "base/adaptive_mutex.h"
#include "base/check.h"

namespace fdb {
namespace {

// Sends the log to a fresh file for one test and restores stderr and the level after it.
class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdb_log_XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    ASSERT_TRUE(OpenLogFile(path_).ok());
    saved_ = GetLogLevel();
  }
  void TearDown() override {
    SetLogLevel(saved_);
    EXPECT_TRUE(OpenLogFile("").ok());
    unlink(path_.c_str());
  }
  std::string Contents() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string path_;
  LogLevel saved_ = LogLevel::kNotice;
};

TEST(LogLevelTest, ParsesRedisNamesCaseInsensitively) {
  LogLevel l;
  ASSERT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  ASSERT_TRUE(ParseLogLevel("VERBOSE", &l));
  EXPECT_EQ(l, LogLevel::kVerbose);
  ASSERT_TRUE(ParseLogLevel("Notice", &l));
  EXPECT_EQ(l, LogLevel::kNotice);
  ASSERT_TRUE(ParseLogLevel("warning", &l));
  EXPECT_EQ(l, LogLevel::kWarning);
  ASSERT_TRUE(ParseLogLevel("nothing", &l));
  EXPECT_EQ(l, LogLevel::kNothing);
  EXPECT_FALSE(ParseLogLevel("warn", &l));
  EXPECT_FALSE(ParseLogLevel("", &l));
}

TEST_F(LogFileTest, WritesRedisLinesAtOrAboveTheLevel) {
  SetLogLevel(LogLevel::kVerbose);
  FDB_LOG_DEBUG("hidden %d", 1);
  FDB_LOG_VERBOSE("verbose %d", 2);
  FDB_LOG_NOTICE("notice %s", "three");
  FDB_LOG_WARNING("warning");
  std::string text = Contents();
  std::regex line(R"((\d+):M \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} ([.\-*#]) (.*))");
  std::istringstream in(text);
  std::string l;
  std::vector<std::string> got;
  while (std::getline(in, l)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    EXPECT_EQ(m[1].str(), std::to_string(getpid()));
    got.push_back(m[2].str() + " " + m[3].str());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"- verbose 2", "* notice three", "# warning"}));
}

TEST_F(LogFileTest, NothingWritesNothingAndArgumentsAreNotEvaluated) {
  SetLogLevel(LogLevel::kNothing);
  int evaluated = 0;
  FDB_LOG_WARNING("%d", ++evaluated);
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(Contents(), "");
}

TEST_F(LogFileTest, LongMessagesAreCut) {
  FDB_LOG_WARNING("%s", std::string(5000, 'x').c_str());
  std::string text = Contents();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_LT(text.size(), kMaxLogMessage + 64);
}

TEST(LogFileOpenTest, UnopenableFileIsAnError) {
  Status s = OpenLogFile("/nonexistent-dir/fdb.log");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Can't open the log file"), std::string::npos) << s.ToString();
}

TEST(CheckDeathTest, FailedCheckLogsAndAborts) {
  int zero = 0;
  EXPECT_DEATH(FDB_CHECK(zero == 1), "check failed at .*logging_test.cc:[0-9]+: zero == 1");
  EXPECT_DEATH(FDB_CHECK_MSG(zero == 1, "zero is %d", zero), "zero == 1: zero is 0");
  FDB_CHECK(zero == 0);
}

#ifndef NDEBUG
TEST(CheckDeathTest, AssertHeldChecksTheOwner) {
  AdaptiveMutex mu;
  mu.lock();
  mu.AssertHeld();
  mu.unlock();
  EXPECT_DEATH(mu.AssertHeld(), "does not hold this AdaptiveMutex");
}

TEST(CheckDeathTest, LockingAHeldAdaptiveMutexAbortsInsteadOfHanging) {
  AdaptiveMutex mu;
  EXPECT_DEATH(
      {
        mu.lock();
        mu.lock();
      },
      "already holds this AdaptiveMutex");
}
#endif

}  // namespace
}  // namespace fdb
