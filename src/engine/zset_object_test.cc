// Tests of the sorted-set value: both encodings against a reference model (std::set of
// (score, member)), conversion, ranks and range counts, images and delta replay.
#include "engine/zset_object.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fdb {
namespace {

using Pair = std::pair<double, std::string>;

std::vector<Pair> Contents(const ZSetObject& z) {
  std::vector<Pair> out;
  z.VisitAll([&out](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

std::vector<Pair> Reversed(const ZSetObject& z, size_t start, size_t count) {
  std::vector<Pair> out;
  z.Visit(start, count, true,
          [&out](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

// Applies random operations to a zset and a model, checking every query along the way.
void RandomAgainstModel(bool force_skiplist, int ops, int members) {
  ZSetObject z;
  if (force_skiplist) z.ConvertToSkiplist();
  std::set<Pair> model;
  std::map<std::string, double> scores;
  std::mt19937 rng(42);
  for (int i = 0; i < ops; i++) {
    std::string m = "m" + std::to_string(rng() % members);
    double s = static_cast<double>(rng() % 20);  // many ties: order falls back to members
    if (rng() % 4 == 0) {
      bool had = scores.count(m) > 0;
      EXPECT_EQ(z.Remove(m), had);
      if (had) {
        model.erase({scores[m], m});
        scores.erase(m);
      }
    } else {
      bool had = scores.count(m) > 0;
      EXPECT_EQ(z.Set(m, s), !had);
      if (had) model.erase({scores[m], m});
      model.insert({s, m});
      scores[m] = s;
    }
    ASSERT_EQ(z.Size(), model.size());
  }
  std::vector<Pair> want(model.begin(), model.end());
  ASSERT_EQ(Contents(z), want);
  for (size_t r = 0; r < want.size(); r++) {
    double s;
    auto rank = z.Rank(want[r].second, &s);
    ASSERT_TRUE(rank.has_value());
    EXPECT_EQ(*rank, r);
    EXPECT_EQ(s, want[r].first);
    std::vector<Pair> one;
    z.Visit(r, 1, false, [&one](std::string_view m, double sc) { one.emplace_back(sc, m); });
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0], want[r]);
  }
  // Range counts against the model, with inclusive and exclusive bounds.
  for (int lo = -1; lo <= 21; lo += 3) {
    for (int hi = lo; hi <= 21; hi += 4) {
      for (int ex = 0; ex < 4; ex++) {
        ZScoreRange range{static_cast<double>(lo), static_cast<double>(hi), (ex & 1) != 0,
                          (ex & 2) != 0};
        size_t below = 0, upto = 0;
        for (const Pair& p : want) {
          if (range.minex ? p.first <= range.min : p.first < range.min) below++;
          if (range.maxex ? p.first < range.max : p.first <= range.max) upto++;
        }
        EXPECT_EQ(z.CountBelowMin(range), below);
        EXPECT_EQ(z.CountUpToMax(range), upto);
      }
    }
  }
  if (!want.empty()) {
    size_t last = want.size() - 1;
    std::vector<Pair> rev(want.rbegin(), want.rend());
    EXPECT_EQ(Reversed(z, last, want.size() + 5), rev);
  }
}

TEST(ZSetObjectTest, PackedMatchesModel) { RandomAgainstModel(false, 300, 60); }
TEST(ZSetObjectTest, SkiplistMatchesModel) { RandomAgainstModel(true, 20000, 3000); }
TEST(ZSetObjectTest, GrowsIntoSkiplistMatchesModel) { RandomAgainstModel(false, 5000, 500); }

TEST(ZSetObjectTest, EncodingConversionThresholds) {
  ZSetObject z;
  for (size_t i = 0; i < EncodingLimits::zset_max_listpack_entries(); i++)
    z.Set("m" + std::to_string(i), i);
  EXPECT_STREQ(z.encoding_name(), "listpack");
  z.Set("one-more", 1);
  EXPECT_STREQ(z.encoding_name(), "skiplist");
  EXPECT_EQ(z.Size(), EncodingLimits::zset_max_listpack_entries() + 1);

  ZSetObject w;
  w.Set(std::string(EncodingLimits::zset_max_listpack_value(), 'x'), 1);
  EXPECT_TRUE(w.packed());
  w.Set(std::string(EncodingLimits::zset_max_listpack_value() + 1, 'y'), 2);
  EXPECT_FALSE(w.packed());
  EXPECT_EQ(Contents(w)[1].second, std::string(EncodingLimits::zset_max_listpack_value() + 1, 'y'));
  // A skiplist stays a skiplist when it shrinks (as Redis).
  w.Remove(std::string(EncodingLimits::zset_max_listpack_value() + 1, 'y'));
  EXPECT_FALSE(w.packed());
}

TEST(ZSetObjectTest, LexCounts) {
  for (bool skip : {false, true}) {
    ZSetObject z;
    if (skip) z.ConvertToSkiplist();
    for (const char* m : {"a", "b", "c", "d"}) z.Set(m, 0);
    ZLexRange r;
    ASSERT_TRUE(ParseLexRange("[b", "(d", &r));
    EXPECT_EQ(z.CountBelowMin(r), 1u);
    EXPECT_EQ(z.CountUpToMax(r), 3u);
    ASSERT_TRUE(ParseLexRange("-", "+", &r));
    EXPECT_EQ(z.CountBelowMin(r), 0u);
    EXPECT_EQ(z.CountUpToMax(r), 4u);
    ASSERT_TRUE(ParseLexRange("+", "-", &r));
    EXPECT_EQ(z.CountBelowMin(r), 4u);
    EXPECT_EQ(z.CountUpToMax(r), 0u);
    ASSERT_TRUE(ParseLexRange("(a", "[c", &r));
    EXPECT_EQ(z.CountBelowMin(r), 1u);
    EXPECT_EQ(z.CountUpToMax(r), 3u);
  }
}

TEST(ZSetObjectTest, ImageRoundTripBothEncodings) {
  for (int n : {0, 3, 128, 129, 2000}) {
    ZSetObject z;
    for (int i = 0; i < n; i++) z.Set("member-" + std::to_string(i), (i * 7) % 13 - 6.5);
    if (n > 0) z.Set("inf", std::numeric_limits<double>::infinity());
    std::string image;
    z.Serialize(&image);
    Result<ZSetObject*> d = ZSetObject::Decode(image);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    std::unique_ptr<ZSetObject> back(*d);
    EXPECT_EQ(Contents(*back), Contents(z));
    EXPECT_EQ(back->packed(), z.Size() <= EncodingLimits::zset_max_listpack_entries());
    std::unique_ptr<ValueObject> clone(z.Clone());
    EXPECT_EQ(Contents(*static_cast<ZSetObject*>(clone.get())), Contents(z));
  }
}

TEST(ZSetObjectTest, DecodeRejectsCorruptImages) {
  ZSetObject z;
  z.Set("a", 1);
  z.Set("b", 2);
  std::string image;
  z.Serialize(&image);
  EXPECT_FALSE(ZSetObject::Decode(image.substr(0, image.size() - 1)).ok());
  EXPECT_FALSE(ZSetObject::Decode(image + "x").ok());
  std::string dup;
  coding::PutVarint(&dup, 2);
  for (int i = 0; i < 2; i++) {
    coding::PutBytes(&dup, "a");
    coding::PutDouble(&dup, i);
  }
  EXPECT_FALSE(ZSetObject::Decode(dup).ok());
  std::string nan;
  coding::PutVarint(&nan, 1);
  coding::PutBytes(&nan, "a");
  coding::PutDouble(&nan, std::nan(""));
  EXPECT_FALSE(ZSetObject::Decode(nan).ok());
  // A count far beyond the image (found by fuzz/collections_fuzz.cc: it sized the member index
  // and ran out of memory) is corrupt at once.
  std::string huge;
  coding::PutVarint(&huge, uint64_t{1} << 40);
  coding::PutBytes(&huge, "a");
  coding::PutDouble(&huge, 1);
  EXPECT_FALSE(ZSetObject::Decode(huge).ok());
}

TEST(ZSetObjectTest, DeltaReplayEqualsLiveResult) {
  ZSetObject live, replay;
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; i++) {
    std::string delta;
    if (rng() % 3 == 0) {
      std::vector<std::string> removed;
      for (int j = 0; j < 3; j++) {
        std::string m = "k" + std::to_string(rng() % 400);
        if (live.Remove(m)) removed.push_back(m);
      }
      ZSetObject::BeginRemoveDelta(&delta, removed.size());
      for (const std::string& m : removed) ZSetObject::AddRemoveDelta(&delta, m);
    } else {
      std::string m = "k" + std::to_string(rng() % 400);
      double s = static_cast<double>(rng() % 1000) / 10;
      live.Set(m, s);
      ZSetObject::BeginSetDelta(&delta, 1);
      ZSetObject::AddSetDelta(&delta, m, s);
    }
    ASSERT_TRUE(replay.ApplyDelta(delta).ok());
  }
  EXPECT_EQ(Contents(replay), Contents(live));
  EXPECT_FALSE(replay.ApplyDelta("X").ok());
  EXPECT_FALSE(replay.ApplyDelta("").ok());
  std::string trunc;
  ZSetObject::BeginSetDelta(&trunc, 2);
  ZSetObject::AddSetDelta(&trunc, "a", 1);
  EXPECT_FALSE(replay.ApplyDelta(trunc).ok());
}

TEST(ZSetObjectTest, MemoryUsageTracksContents) {
  ZSetObject z;
  size_t empty = z.MemoryUsage();
  for (int i = 0; i < 100000; i++) z.Set("element:" + std::to_string(i), i);
  size_t full = z.MemoryUsage();
  // Node (32 + 12 * level + member) in a malloc chunk plus buckets: well under Redis's
  // ~100 bytes per short member, and not absurdly low either.
  double per = static_cast<double>(full - empty) / 100000;
  EXPECT_GT(per, 50);
  EXPECT_LT(per, 100);
  for (int i = 0; i < 100000; i++) z.Remove("element:" + std::to_string(i));
  EXPECT_LT(z.MemoryUsage(), full / 4);
}

TEST(ZSetObjectTest, ParseScoreAndRanges) {
  double d;
  EXPECT_TRUE(ParseScore("1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(ParseScore("-inf", &d));
  EXPECT_TRUE(std::isinf(d) && d < 0);
  EXPECT_TRUE(ParseScore("+inf", &d));
  EXPECT_TRUE(ParseScore("1e3", &d));
  EXPECT_EQ(d, 1000);
  EXPECT_FALSE(ParseScore("nan", &d));
  EXPECT_FALSE(ParseScore("", &d));
  EXPECT_FALSE(ParseScore(" 1", &d));
  EXPECT_FALSE(ParseScore("1 ", &d));
  EXPECT_FALSE(ParseScore("1e400", &d));
  EXPECT_FALSE(ParseScore(std::string_view("1\0", 2), &d));
  ZScoreRange r;
  EXPECT_TRUE(ParseScoreRange("(1", "+inf", &r));
  EXPECT_TRUE(r.minex);
  EXPECT_FALSE(r.maxex);
  EXPECT_EQ(r.min, 1);
  EXPECT_TRUE(std::isinf(r.max));
  EXPECT_FALSE(ParseScoreRange("x", "1", &r));
  EXPECT_FALSE(ParseScoreRange("1", "(nan", &r));
  EXPECT_FALSE(ParseScoreRange("[1", "2", &r));
  ZLexRange l;
  EXPECT_TRUE(ParseLexRange("[a", "(b", &l));
  EXPECT_FALSE(l.min.ex);
  EXPECT_TRUE(l.max.ex);
  EXPECT_FALSE(ParseLexRange("a", "+", &l));
  EXPECT_FALSE(ParseLexRange("-x", "+", &l));
  EXPECT_FALSE(ParseLexRange("", "+", &l));
}

// zset-max-listpack-entries / -value as CONFIG SET leaves them (engine/encoding_limits.h).
TEST(ZSetObjectTest, ThresholdsAreTheConfiguredOnes) {
  EncodingLimits::Values v;
  v.zset_max_listpack_entries = 3;
  v.zset_max_listpack_value = 4;
  ScopedEncodingLimits limits(v);
  ZSetObject z;
  z.Set("a", 1);
  z.Set("bb", 2);
  z.Set("cccc", 3);
  EXPECT_STREQ(z.encoding_name(), "listpack");
  z.Set("d", 4);
  EXPECT_STREQ(z.encoding_name(), "skiplist");
  ZSetObject w;
  w.Set("abcde", 1);
  EXPECT_STREQ(w.encoding_name(), "skiplist");
  // Shrunk, a skiplist stays one; reloaded, it takes the encoding its size calls for.
  z.Remove("a");
  z.Remove("d");
  EXPECT_STREQ(z.encoding_name(), "skiplist");
  std::string image;
  z.Serialize(&image);
  Result<ZSetObject*> d = ZSetObject::Decode(image);
  ASSERT_TRUE(d.ok());
  std::unique_ptr<ZSetObject> back(*d);
  EXPECT_STREQ(back->encoding_name(), "listpack");
  EXPECT_EQ(Contents(*back), Contents(z));
}

TEST(ZSetObjectTest, ZeroEntriesMakesASkiplistAtOnce) {
  EncodingLimits::Values v;
  v.zset_max_listpack_entries = 0;
  ScopedEncodingLimits limits(v);
  ZSetObject z;
  z.Set("a", 1);
  EXPECT_STREQ(z.encoding_name(), "skiplist");
}

// The packed entry's length is one byte: a longer member makes a skiplist whatever the value
// threshold allows.
TEST(ZSetObjectTest, PackedMembersStopAt255Bytes) {
  EncodingLimits::Values v;
  v.zset_max_listpack_value = 1000;
  ScopedEncodingLimits limits(v);
  ZSetObject z;
  z.Set(std::string(255, 'a'), 1);
  EXPECT_STREQ(z.encoding_name(), "listpack");
  z.Set(std::string(256, 'b'), 2);
  EXPECT_STREQ(z.encoding_name(), "skiplist");
  EXPECT_EQ(Contents(z)[1].second, std::string(256, 'b'));
}

// Redis's ZSCAN guarantee: a member present for the whole scan is returned at least once, while
// other members are removed and added between steps (and the index shrinks and grows).
TEST(ZSetObjectTest, ScanReturnsEveryStableMemberAcrossChanges) {
  ZSetObject z;
  for (int i = 0; i < 3000; i++) z.Set("stable" + std::to_string(i), i % 17);
  for (int i = 0; i < 3000; i++) z.Set("churn" + std::to_string(i), i);
  ASSERT_FALSE(z.packed());
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0, added = 0;
  do {
    cursor = z.Scan(cursor, [&](std::string_view m, double) { seen.emplace(m); });
    // Between steps: remove a batch of the churning members (the index shrinks when most are
    // gone), later add new ones (it grows again).
    if (step < 30) {
      for (int i = step * 100; i < step * 100 + 100; i++) z.Remove("churn" + std::to_string(i));
    } else if (added < 20000) {
      for (int i = 0; i < 500; i++, added++) z.Set("new" + std::to_string(added), -1);
    }
    step++;
  } while (cursor != 0);
  for (int i = 0; i < 3000; i++) {
    EXPECT_TRUE(seen.count("stable" + std::to_string(i))) << "missed stable" << i;
  }
}

TEST(ZSetObjectTest, ScanOfAPackedSetIsOneStep) {
  ZSetObject z;
  z.Set("a", 1);
  z.Set("b", 2);
  std::vector<std::string> seen;
  EXPECT_EQ(z.Scan(0, [&](std::string_view m, double) { seen.emplace_back(m); }), 0u);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace fdb
