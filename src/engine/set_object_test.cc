// Tests of SetObject (engine/set_object.h): intset, listpack and hashtable encodings, the
// conversions between them, images and deltas.
#include "engine/set_object.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fdb {
namespace {

std::set<std::string> Contents(const SetObject& s) {
  std::set<std::string> m;
  s.ForEach(
      [&](std::string_view x) { EXPECT_TRUE(m.emplace(x).second) << "duplicate member " << x; });
  EXPECT_EQ(m.size(), s.Size());
  return m;
}

std::unique_ptr<SetObject> RoundTrip(const SetObject& s) {
  std::string image;
  s.Serialize(&image);
  Result<SetObject*> r = SetObject::Decode(image);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::unique_ptr<SetObject>(r.ok() ? *r : nullptr);
}

TEST(SetObjectTest, IntsetSortedAndWidthUpgrades) {
  SetObject s;
  EXPECT_STREQ(s.encoding_name(), "intset");
  EXPECT_TRUE(s.Add("5"));
  EXPECT_TRUE(s.Add("-3"));
  EXPECT_FALSE(s.Add("5"));
  EXPECT_TRUE(s.Add("70000"));                 // 2 -> 4 bytes, appended
  EXPECT_TRUE(s.Add("-9223372036854775808"));  // 4 -> 8 bytes, prepended
  EXPECT_TRUE(s.Add("9223372036854775807"));
  EXPECT_TRUE(s.Add("0"));
  EXPECT_STREQ(s.encoding_name(), "intset");
  std::vector<std::string> order;
  s.ForEach([&](std::string_view m) { order.emplace_back(m); });
  EXPECT_EQ(order, (std::vector<std::string>{"-9223372036854775808", "-3", "0", "5", "70000",
                                             "9223372036854775807"}));
  EXPECT_TRUE(s.Contains("70000"));
  EXPECT_FALSE(s.Contains("70001"));
  EXPECT_FALSE(s.Contains("05"));  // not canonical: not the integer 5
  EXPECT_TRUE(s.Remove("-3"));
  EXPECT_FALSE(s.Remove("-3"));
  EXPECT_FALSE(s.Remove("abc"));
  EXPECT_EQ(s.Size(), 5u);
}

TEST(SetObjectTest, NonCanonicalIntegersAreStrings) {
  for (const char* m : {"+1", "01", " 1", "-0", "1.0", "9223372036854775808"}) {
    SetObject s;
    s.Add("1");
    s.Add(m);
    EXPECT_STREQ(s.encoding_name(), "listpack") << m;
    EXPECT_EQ(s.Size(), 2u) << m;
  }
}

TEST(SetObjectTest, Conversions) {
  SetObject ints;
  for (int i = 0; i < 512; i++) ints.Add(std::to_string(i * 7));
  EXPECT_STREQ(ints.encoding_name(), "intset");
  EXPECT_FALSE(ints.Add("0"));  // a present member at the limit does not convert
  EXPECT_STREQ(ints.encoding_name(), "intset");
  ints.Add("1");
  EXPECT_STREQ(ints.encoding_name(), "hashtable");
  EXPECT_EQ(ints.Size(), 513u);
  EXPECT_TRUE(ints.Contains("3577"));

  SetObject small;
  small.Add("1");
  small.Add("a");
  EXPECT_STREQ(small.encoding_name(), "listpack");
  for (int i = 0; i < 126; i++) small.Add("m" + std::to_string(i));
  EXPECT_EQ(small.Size(), 128u);
  EXPECT_STREQ(small.encoding_name(), "listpack");
  small.Add("x");
  EXPECT_STREQ(small.encoding_name(), "hashtable");

  SetObject big_intset;  // an intset past the listpack size goes straight to a hashtable
  for (int i = 0; i < 200; i++) big_intset.Add(std::to_string(i));
  big_intset.Add("a");
  EXPECT_STREQ(big_intset.encoding_name(), "hashtable");

  SetObject long_member;
  long_member.Add("a");
  long_member.Add(std::string(65, 'x'));
  EXPECT_STREQ(long_member.encoding_name(), "hashtable");
  EXPECT_TRUE(long_member.Contains("a"));
}

TEST(SetObjectTest, ImageRoundTripEveryEncoding) {
  std::vector<std::unique_ptr<SetObject>> sets;
  for (int kind = 0; kind < 5; kind++) {
    auto s = std::make_unique<SetObject>();
    int n = kind == 0 ? 0 : kind == 1 ? 300 : kind == 2 ? 50 : kind == 3 ? 2000 : 600;
    for (int i = 0; i < n; i++) {
      s->Add(kind == 2 || kind == 3 ? "m" + std::to_string(i) : std::to_string(i * 1000003LL));
    }
    sets.push_back(std::move(s));
  }
  for (auto& s : sets) {
    auto copy = RoundTrip(*s);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(Contents(*copy), Contents(*s));
    EXPECT_STREQ(copy->encoding_name(), s->encoding_name());
    std::unique_ptr<ValueObject> clone(s->Clone());
    EXPECT_EQ(Contents(*static_cast<SetObject*>(clone.get())), Contents(*s));
    EXPECT_STREQ(clone->encoding_name(), s->encoding_name());
  }
  EXPECT_FALSE(SetObject::Decode("").ok());
  EXPECT_FALSE(SetObject::Decode("Q\x00").ok());
  EXPECT_FALSE(SetObject::Decode(std::string("S\x02\x01"
                                             "a",
                                             4))
                   .ok());
}

TEST(SetObjectTest, DeltaReplayEqualsLiveResult) {
  SetObject live, replay;
  std::string d;
  for (int i = 0; i < 1500; i++) {
    std::string m = i % 3 == 0 ? "s" + std::to_string(i % 700) : std::to_string(i % 900);
    bool add = i % 5 != 0;
    if (add) {
      live.Add(m);
    } else {
      live.Remove(m);
    }
    d.clear();
    SetObject::BeginDelta(&d, add ? SetObject::kDeltaAdd : SetObject::kDeltaRemove, 1);
    coding::PutBytes(&d, m);
    ASSERT_TRUE(replay.ApplyDelta(d).ok());
  }
  EXPECT_EQ(Contents(replay), Contents(live));
  EXPECT_FALSE(replay.ApplyDelta("Z\x00").ok());
  EXPECT_FALSE(replay
                   .ApplyDelta("A\x02\x01"
                               "a")
                   .ok());
}

TEST(SetObjectTest, RandomAndScan) {
  for (int n : {5, 60, 1000}) {
    SetObject s;
    for (int i = 0; i < n; i++) s.Add(n == 60 ? "m" + std::to_string(i) : std::to_string(i));
    std::set<std::string> seen;
    std::string m;
    for (int i = 0; i < n * 40; i++) {
      s.Random(&m);
      EXPECT_TRUE(s.Contains(m));
      seen.insert(m);
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(n));
    std::set<std::string> scanned;
    uint64_t cursor = 0;
    do {
      cursor = s.Scan(cursor, [&](std::string_view x) { scanned.emplace(x); });
    } while (cursor != 0);
    EXPECT_EQ(scanned, Contents(s));
  }
}

// set-max-intset-entries and set-max-listpack-entries / -value as CONFIG SET leaves them
// (engine/encoding_limits.h), with Redis 7.2's conversions.
TEST(SetObjectTest, ThresholdsAreTheConfiguredOnes) {
  EncodingLimits::Values v;
  v.set_max_intset_entries = 3;
  v.set_max_listpack_entries = 4;
  v.set_max_listpack_value = 5;
  ScopedEncodingLimits limits(v);
  SetObject ints;
  for (int i = 0; i < 3; i++) ints.Add(std::to_string(i));
  EXPECT_STREQ(ints.encoding_name(), "intset");
  ints.Add("3");  // past the intset threshold: a hashtable (Redis's maybeConvertIntset)
  EXPECT_STREQ(ints.encoding_name(), "hashtable");

  SetObject mixed;
  mixed.Add("1");
  mixed.Add("a");
  EXPECT_STREQ(mixed.encoding_name(), "listpack");
  mixed.Add("bb");
  mixed.Add("ccccc");  // 5 bytes: at the value threshold
  EXPECT_STREQ(mixed.encoding_name(), "listpack");
  mixed.Add("d");  // a fifth member
  EXPECT_STREQ(mixed.encoding_name(), "hashtable");

  SetObject long_member;
  long_member.Add("abcdef");
  EXPECT_STREQ(long_member.encoding_name(), "hashtable");

  // An intset whose integers are longer than the listpack takes goes to the hashtable.
  SetObject long_ints;
  long_ints.Add("-123456");
  long_ints.Add("x");
  EXPECT_STREQ(long_ints.encoding_name(), "hashtable");
  EXPECT_EQ(Contents(long_ints), (std::set<std::string>{"-123456", "x"}));

  // Reloaded, a shrunk hashtable takes the small encoding its contents call for.
  for (int i = 0; i < 3; i++) ints.Remove(std::to_string(i));
  EXPECT_STREQ(ints.encoding_name(), "hashtable");
  auto back = RoundTrip(ints);
  ASSERT_NE(back, nullptr);
  EXPECT_STREQ(back->encoding_name(), "intset");
  mixed.Remove("1");
  mixed.Remove("a");
  back = RoundTrip(mixed);
  ASSERT_NE(back, nullptr);
  EXPECT_STREQ(back->encoding_name(), "listpack");
  EXPECT_EQ(Contents(*back), (std::set<std::string>{"bb", "ccccc", "d"}));
}

TEST(SetObjectTest, ZeroThresholdsMakeAHashtableAtOnce) {
  EncodingLimits::Values v;
  v.set_max_intset_entries = 0;
  v.set_max_listpack_entries = 0;
  ScopedEncodingLimits limits(v);
  SetObject a, b;
  a.Add("1");
  b.Add("a");
  EXPECT_STREQ(a.encoding_name(), "hashtable");
  EXPECT_STREQ(b.encoding_name(), "hashtable");
}

}  // namespace
}  // namespace fdb
