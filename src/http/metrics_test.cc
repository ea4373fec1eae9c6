#include "http/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "commands/test_util.h"

namespace fdb {
namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST(MetricsTest, CountsWhatCommandsDid) {
  CommandTester t;
  for (int i = 0; i < 3; i++) t.Run({"set", "k" + std::to_string(i), "v"});
  t.Run({"get", "k0"});
  t.Run({"get", "missing"});
  t.Run({"select", "2"});
  t.Run({"set", "x", "1", "ex", "100"});
  const std::string m = RenderMetrics(t.server());
  EXPECT_EQ(Lines(m, "redis_db_keys{db=\"db0\"} "),
            std::vector<std::string>{"redis_db_keys{db=\"db0\"} 3"});
  EXPECT_EQ(Lines(m, "redis_db_keys{db=\"db2\"} "),
            std::vector<std::string>{"redis_db_keys{db=\"db2\"} 1"});
  EXPECT_EQ(Lines(m, "redis_db_keys_expiring{db=\"db2\"} "),
            std::vector<std::string>{"redis_db_keys_expiring{db=\"db2\"} 1"});
  EXPECT_EQ(Lines(m, "redis_db_keys{").size(), 16u);  // every database, empty ones as 0
  EXPECT_EQ(Lines(m, "redis_commands_total{cmd=\"set\"} "),
            std::vector<std::string>{"redis_commands_total{cmd=\"set\"} 4"});
  EXPECT_EQ(Lines(m, "redis_keyspace_hits_total "),
            std::vector<std::string>{"redis_keyspace_hits_total 1"});
  EXPECT_EQ(Lines(m, "redis_keyspace_misses_total "),
            std::vector<std::string>{"redis_keyspace_misses_total 1"});
  EXPECT_EQ(Lines(m, "redis_commands_latencies_usec_count{cmd=\"get\"} "),
            std::vector<std::string>{"redis_commands_latencies_usec_count{cmd=\"get\"} 2"});
  EXPECT_EQ(
      Lines(m, "redis_commands_latencies_usec_bucket{cmd=\"get\",le=\"+Inf\"} "),
      std::vector<std::string>{"redis_commands_latencies_usec_bucket{cmd=\"get\",le=\"+Inf\"} 2"});
  // Commands never called have no rows.
  EXPECT_TRUE(Lines(m, "redis_commands_total{cmd=\"lpush\"}").empty());
}

TEST(MetricsTest, EveryFamilyIsAnnouncedOnceBeforeItsSamples) {
  CommandTester t;
  t.Run({"set", "k", "v"});
  const std::string m = RenderMetrics(t.server());
  std::set<std::string> announced;
  for (const std::string& line : Lines(m, "")) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(announced.insert(name).second) << name;
      continue;
    }
    if (line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    bool found = announced.count(name) > 0;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!found && name.size() > s.size() &&
          name.compare(name.size() - s.size(), s.size(), s) == 0) {
        found = announced.count(name.substr(0, name.size() - s.size())) > 0;
      }
    }
    EXPECT_TRUE(found) << line;
  }
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  CommandTester t;
  // An error code with a quote and a backslash in it (errorstats keeps the first word).
  t.server().error_stats().OnError("BAD\"\\CODE something");
  const std::string m = RenderMetrics(t.server());
  EXPECT_EQ(Lines(m, "redis_errors_total{"),
            std::vector<std::string>{"redis_errors_total{err=\"BAD\\\"\\\\CODE\"} 1"});
}

}  // namespace
}  // namespace fdb
