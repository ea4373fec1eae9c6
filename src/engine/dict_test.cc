#include "engine/dict.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/hash.h"
#include "engine/hash_table.h"
#include "engine/str_table.h"

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

// A node for the template's own tests, and traits whose hash is poor on purpose: the index comes
// from the low 2 bits only and every tag is the same, so buckets overflow into chains and every
// slot's tag matches (lookups must still compare keys).
struct TestNode {
  TestNode* next = nullptr;
  std::string key;
};
int g_test_nodes_live = 0;
struct CollidingTraits {
  using Node = TestNode;
  static TestNode*& Next(TestNode* n) { return n->next; }
  static std::string_view Key(const TestNode* n) { return n->key; }
  static uint64_t Hash(std::string_view k) { return HashKey(k) & 3; }
  static void Free(TestNode* n) {
    g_test_nodes_live--;
    delete n;
  }
  static constexpr int kHashShift = 0;
  static constexpr size_t kMaxLoad = 5;
};
TestNode* NewTestNode(const std::string& k) {
  g_test_nodes_live++;
  return new TestNode{nullptr, k};
}

template <class Table>
std::set<std::string> Keys(const Table& t) {
  std::set<std::string> keys;
  t.ForEach([&](const auto* n) { keys.emplace(std::string(n->key)); });
  return keys;
}

// Insert, Find, Replace and Unlink agree with a std::set through growth, overflow chains (a
// bucket of more than 7 nodes) and shrinking, whichever link (bucket slot, chain head, chain
// interior) holds the node.
TEST(HashTableTest, ChainsAndSlotsAgreeWithASetThroughGrowthAndShrink) {
  {
    HashTable<CollidingTraits> t;
    std::set<std::string> want;
    for (int i = 0; i < 400; i++) {
      std::string k = "k" + std::to_string(i);
      t.Insert(NewTestNode(k), CollidingTraits::Hash(k));
      want.insert(k);
    }
    EXPECT_EQ(t.size(), want.size());
    EXPECT_EQ(Keys(t), want);
    for (const auto& k : want) ASSERT_NE(t.Find(k, CollidingTraits::Hash(k)), nullptr) << k;
    EXPECT_EQ(t.Find("absent", CollidingTraits::Hash("absent")), nullptr);
    // Replace keeps the node reachable under the same key, wherever its link is.
    for (int i = 0; i < 400; i += 3) {
      std::string k = "k" + std::to_string(i);
      TestNode** link = t.FindLink(k, CollidingTraits::Hash(k));
      ASSERT_NE(link, nullptr);
      TestNode* old = t.Replace(link, NewTestNode(k));
      CollidingTraits::Free(old);
    }
    EXPECT_EQ(Keys(t), want);
    // Remove in an order that hits slots, chain heads and chain interiors.
    std::vector<std::string> order(want.begin(), want.end());
    std::reverse(order.begin(), order.end());
    for (size_t i = 0; i < order.size(); i++) {
      if (i % 4 == 3) continue;  // keep a quarter
      TestNode** link = t.FindLink(order[i], CollidingTraits::Hash(order[i]));
      ASSERT_NE(link, nullptr) << order[i];
      CollidingTraits::Free(t.Unlink(link));
      want.erase(order[i]);
      if (i % 50 == 0) {
        ASSERT_EQ(Keys(t), want);
        for (const auto& k : want) ASSERT_NE(t.Find(k, CollidingTraits::Hash(k)), nullptr) << k;
      }
    }
    EXPECT_EQ(t.size(), want.size());
    EXPECT_EQ(Keys(t), want);
  }
  EXPECT_EQ(g_test_nodes_live, 0);  // Clear freed the rest
}

// With a good hash, a table of 100,000 keys stays within its load bounds: the bucket array is
// 64 bytes per 2.5-5 keys.
TEST(HashTableTest, LoadStaysBetweenHalfAndFullOfTheMaximum) {
  Dict d;
  for (int i = 0; i < 100000; i++) {
    std::string k = "key:" + std::to_string(i);
    d.Insert(Entry::NewString(k, "v"), HashKey(k));
    if (i > 100) {
      double load = static_cast<double>(d.size()) / d.bucket_count();
      ASSERT_LE(load, 5.0);
      ASSERT_GT(load, 2.5 - 1e-9);
    }
  }
  for (int i = 0; i < 100000; i++) {
    std::string k = "key:" + std::to_string(i);
    Entry::Free(d.Unlink(d.FindLink(k, HashKey(k))));
    if (d.size() > 0) {
      ASSERT_GE(static_cast<double>(d.size()) / d.bucket_count(), 5.0 / 8 - 1e-9);
    }
  }
  EXPECT_EQ(d.bucket_count(), 0u);
}

// Every key present for the whole scan is returned at least once while the table grows and
// shrinks, with overflow chains in the buckets (the colliding hash) and without (Dict).
TEST(HashTableTest, ScanReturnsEveryStableKeyAcrossResizes) {
  HashTable<CollidingTraits> t;
  for (int i = 0; i < 100; i++) {
    std::string k = "stable" + std::to_string(i);
    t.Insert(NewTestNode(k), CollidingTraits::Hash(k));
  }
  Dict d;
  for (int i = 0; i < 2000; i++) {
    std::string k = "stable" + std::to_string(i);
    d.Insert(Entry::NewString(k, "v"), HashKey(k));
  }
  std::set<std::string> seen_t, seen_d;
  uint64_t cursor = 0;
  int step = 0;
  do {  // the colliding table grows 4x during its scan
    cursor = t.Scan(cursor, [&](TestNode* n) { seen_t.insert(n->key); });
    if (++step == 3) {
      for (int i = 0; i < 300; i++) {
        std::string k = "grow" + std::to_string(i);
        t.Insert(NewTestNode(k), CollidingTraits::Hash(k));
      }
    }
  } while (cursor != 0);
  step = 0;
  do {  // the Dict grows 8x, then shrinks back
    cursor = d.Scan(cursor, [&](Entry* e) { seen_d.emplace(e->key()); });
    step++;
    if (step == 30) {
      for (int i = 0; i < 20000; i++) {
        std::string k = "grow" + std::to_string(i);
        d.Insert(Entry::NewString(k, "v"), HashKey(k));
      }
    }
    if (step == 200) {
      for (int i = 0; i < 20000; i++) {
        std::string k = "grow" + std::to_string(i);
        Entry::Free(d.Unlink(d.FindLink(k, HashKey(k))));
      }
    }
  } while (cursor != 0);
  EXPECT_GT(step, 200);
  for (int i = 0; i < 100; i++) EXPECT_TRUE(seen_t.count("stable" + std::to_string(i))) << i;
  for (int i = 0; i < 2000; i++) EXPECT_TRUE(seen_d.count("stable" + std::to_string(i))) << i;
}

// SweepBuckets frees exactly the nodes its predicate picks, in slots and chains, and a full
// sweep visits every bucket once.
TEST(HashTableTest, SweepDropsExactlyThePickedNodes) {
  {
    HashTable<CollidingTraits> t;
    std::set<std::string> want;
    for (int i = 0; i < 300; i++) {
      std::string k = "k" + std::to_string(i);
      t.Insert(NewTestNode(k), CollidingTraits::Hash(k));
      if (i % 3 != 0) want.insert(k);
    }
    uint64_t cursor = 0;
    size_t dropped = 0;
    size_t freed = t.SweepBuckets(
        &cursor, t.bucket_count(), [](TestNode* n) { return std::stoi(n->key.substr(1)) % 3 == 0; },
        [&](TestNode*) { dropped++; });
    EXPECT_EQ(freed, 100u);
    EXPECT_EQ(dropped, 100u);
    EXPECT_EQ(Keys(t), want);
    for (const auto& k : want) EXPECT_NE(t.Find(k, CollidingTraits::Hash(k)), nullptr) << k;
  }
  EXPECT_EQ(g_test_nodes_live, 0);
}

// Random is fair with overflow chains too: every node of a colliding table comes up about
// equally often.
TEST(HashTableTest, RandomIsFairWithChains) {
  HashTable<CollidingTraits> t;
  constexpr int kKeys = 40;  // 4 buckets of ~10: every bucket has a chain
  for (int i = 0; i < kKeys; i++) {
    std::string k = "k" + std::to_string(i);
    t.Insert(NewTestNode(k), CollidingTraits::Hash(k));
  }
  std::unordered_map<const TestNode*, int> seen;
  constexpr int kDraws = 40000;
  for (int i = 0; i < kDraws; i++) seen[t.Random()]++;
  ASSERT_EQ(seen.size(), static_cast<size_t>(kKeys));
  for (const auto& [n, c] : seen) {
    EXPECT_GT(c, kDraws / kKeys * 0.8) << n->key;
    EXPECT_LT(c, kDraws / kKeys * 1.2) << n->key;
  }
}

// StrTable is the same template: it counts the bytes its nodes hold and frees what it replaces
// or erases.
TEST(HashTableTest, StrTableAccountsItsNodes) {
  StrTable t;
  EXPECT_EQ(t.bytes(), 0u);
  size_t nodes = 0;
  for (int i = 0; i < 1000; i++) {
    std::string f = "f" + std::to_string(i);
    StrNode* n = StrNode::New(f, "value", true);
    nodes += n->AllocatedBytes();
    t.Insert(n, StrTable::Hash(f));
  }
  EXPECT_GE(t.bytes(), nodes);
  EXPECT_EQ(t.Find("f7")->value(), "value");
  t.Replace(t.FindLink("f7", StrTable::Hash("f7")), StrNode::New("f7", "other", true));
  EXPECT_EQ(t.Find("f7")->value(), "other");
  for (int i = 0; i < 1000; i++) EXPECT_TRUE(t.Erase("f" + std::to_string(i)));
  EXPECT_FALSE(t.Erase("f1"));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.bytes(), 0u);
}

}  // namespace
}  // namespace fdb
