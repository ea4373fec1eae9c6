#include "engine/dict.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

#include "base/hash.h"

namespace fdb {
namespace {

// RANDOMKEY and the random eviction policies pick through Dict::Random: every key must be about
// as likely, whether it is alone in its bucket or shares it, and however many empty buckets come
// before it.
TEST(DictTest, RandomPicksEveryKeyAboutEquallyOften) {
  Dict d;
  constexpr int kKeys = 500;
  for (int i = 0; i < kKeys; i++) {
    std::string k = "key:" + std::to_string(i);
    d.Insert(Entry::NewString(k, "v"), HashKey(k));
  }
  std::unordered_map<const Entry*, int> seen;
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; i++) seen[d.Random()]++;
  ASSERT_EQ(seen.size(), static_cast<size_t>(kKeys));
  // Expected 400 draws per key; the binomial's standard deviation is 20. Before the fair pick,
  // a key after a run of empty buckets was drawn several times as often as one after none.
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kKeys;
  for (const auto& [e, n] : seen) {
    chi2 += (n - expected) * (n - expected) / expected;
    EXPECT_GT(n, expected * 0.6);
    EXPECT_LT(n, expected * 1.4);
  }
  // 499 degrees of freedom: the 0.1% critical value is about 614.
  EXPECT_LT(chi2, 700);
  d.Clear();
}

}  // namespace
}  // namespace fdb
