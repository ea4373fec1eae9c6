#include "engine/list_object.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <string>

#include "engine/collections.h"

namespace fdb {
namespace {

std::vector<std::string> Items(const ListObject& l) {
  std::vector<std::string> out;
  l.ForRange(0, l.Size(), false, [&](const ListObject::Elem& e) {
    out.push_back(e.ToString());
    return true;
  });
  return out;
}

std::vector<std::string> ItemsReversed(const ListObject& l) {
  std::vector<std::string> out;
  l.ForRange(0, l.Size(), true, [&](const ListObject::Elem& e) {
    out.push_back(e.ToString());
    return true;
  });
  return out;
}

std::vector<std::string> Model(const std::deque<std::string>& d) { return {d.begin(), d.end()}; }

std::unique_ptr<ListObject> Decode(const std::string& image) {
  auto r = DecodeListObject(image);
  EXPECT_TRUE(r.ok());
  return std::unique_ptr<ListObject>(static_cast<ListObject*>(r.value()));
}

TEST(ListElementEncoding, RoundTripsStringsAndIntegers) {
  for (std::string v :
       {std::string(""), std::string("a"), std::string("0"), std::string("-1"), std::string("127"),
        std::string("128"), std::string("-129"), std::string("9223372036854775807"),
        std::string("-9223372036854775808"), std::string("007"), std::string("+5"),
        std::string("1.5"), std::string(127, 'x'), std::string(128, 'y'), std::string(16383, 'z'),
        std::string(16384, 'w'), std::string(70000, 'q')}) {
    std::string enc;
    listpack::Encode(v, &enc);
    ASSERT_EQ(enc.size(), listpack::EncodedSize(v));
    const char* next;
    ListObject::Elem e = listpack::Decode(enc.data(), &next);
    EXPECT_EQ(next, enc.data() + enc.size()) << v.size();
    EXPECT_EQ(e.ToString(), v);
    EXPECT_TRUE(e.Equals(v));
    EXPECT_EQ(listpack::Prev(enc.data() + enc.size()), enc.data()) << v.size();
  }
}

TEST(ListElementEncoding, CanonicalIntegersArePacked) {
  std::string enc;
  listpack::Encode("123456", &enc);
  EXPECT_EQ(enc.size(), 5u);  // tag, 3 bytes, backlen: listpack's cost
  const char* next;
  EXPECT_TRUE(listpack::Decode(enc.data(), &next).is_int);
  enc.clear();
  listpack::Encode("0123", &enc);  // not canonical: a string
  EXPECT_FALSE(listpack::Decode(enc.data(), &next).is_int);
  enc.clear();
  listpack::Encode("xyz", &enc);
  EXPECT_EQ(enc.size(), 5u);  // header, 3 bytes, backlen
}

TEST(ListObject, PushPopBothEnds) {
  ListObject l;
  l.PushBack("b");
  l.PushFront("a");
  l.PushBack("c");
  EXPECT_EQ(Items(l), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(l.PopFront(), "a");
  EXPECT_EQ(l.PopBack(), "c");
  EXPECT_EQ(l.PopBack(), "b");
  EXPECT_EQ(l.Size(), 0u);
  EXPECT_EQ(l.NodeCount(), 0u);
  EXPECT_STREQ(l.encoding_name(), "quicklist");
}

TEST(ListObject, LargeListSpansManyNodesAndIndexesFromBothEnds) {
  ListObject l;
  for (int i = 0; i < 100000; i++) l.PushBack("e" + std::to_string(i));
  EXPECT_GT(l.NodeCount(), 50u);
  for (int i : {0, 1, 999, 50000, 99998, 99999}) {
    EXPECT_EQ(l.At(i).ToString(), "e" + std::to_string(i));
  }
  std::vector<std::string> tail;
  l.ForRange(3, 4, true, [&](const ListObject::Elem& e) {
    tail.push_back(e.ToString());
    return true;
  });
  EXPECT_EQ(tail, (std::vector<std::string>{"e99996", "e99995", "e99994", "e99993"}));
  // Memory per element stays near listpack's (element bytes + 2-3 bytes).
  double per_elem = static_cast<double>(l.MemoryUsage()) / l.Size();
  EXPECT_LT(per_elem, 10.0);  // 6-byte elements
}

TEST(ListObject, MemoryUsageFollowsAllocations) {
  ListObject l;
  size_t empty = l.MemoryUsage();
  for (int i = 0; i < 10000; i++) l.PushFront("value");
  EXPECT_GT(l.MemoryUsage(), empty + 10000 * 7);
  EXPECT_LT(l.MemoryUsage(), empty + 10000 * 9);
  for (int i = 0; i < 10000; i++) l.PopBack();
  EXPECT_EQ(l.MemoryUsage(), empty);
}

TEST(ListObject, InsertSetRemoveTrimAcrossNodes) {
  ListObject l;
  std::deque<std::string> m;
  for (int i = 0; i < 5000; i++) {
    std::string v = std::to_string(i % 7) + "-xxxxxxxxxx";
    l.PushBack(v);
    m.push_back(v);
  }
  l.Insert(2500, std::string(3000, 'L'));
  m.insert(m.begin() + 2500, std::string(3000, 'L'));
  l.Set(10, "short");
  m[10] = "short";
  l.Set(11, std::string(9000, 'H'));  // bigger than a node
  m[11] = std::string(9000, 'H');
  EXPECT_EQ(Items(l), Model(m));
  EXPECT_EQ(l.Remove("3-xxxxxxxxxx", 5), 5u);
  for (int n = 0, i = 0; n < 5; i++) {
    if (m[i] == "3-xxxxxxxxxx") {
      m.erase(m.begin() + i--);
      n++;
    }
  }
  EXPECT_EQ(Items(l), Model(m));
  EXPECT_EQ(l.Remove("4-xxxxxxxxxx", -3), 3u);
  for (int n = 0, i = static_cast<int>(m.size()) - 1; n < 3; i--) {
    if (m[i] == "4-xxxxxxxxxx") {
      m.erase(m.begin() + i);
      n++;
    }
  }
  EXPECT_EQ(Items(l), Model(m));
  size_t all5 = std::count(m.begin(), m.end(), "5-xxxxxxxxxx");
  EXPECT_EQ(l.Remove("5-xxxxxxxxxx", 0), all5);
  m.erase(std::remove(m.begin(), m.end(), "5-xxxxxxxxxx"), m.end());
  EXPECT_EQ(Items(l), Model(m));
  // The most negative count (only a corrupt delta has it) removes every match from the tail,
  // without undefined behaviour (UBSan) computing its magnitude.
  size_t all6 = std::count(m.begin(), m.end(), "6-xxxxxxxxxx");
  EXPECT_EQ(l.Remove("6-xxxxxxxxxx", INT64_MIN), all6);
  m.erase(std::remove(m.begin(), m.end(), "6-xxxxxxxxxx"), m.end());
  EXPECT_EQ(Items(l), Model(m));
  l.Trim(100, 2000);
  m = std::deque<std::string>(m.begin() + 100, m.begin() + 2100);
  EXPECT_EQ(Items(l), Model(m));
  EXPECT_EQ(ItemsReversed(l), std::vector<std::string>(m.rbegin(), m.rend()));
}

// Random operations against a std::deque model; every few steps the image and a replay of the
// deltas must give the same list.
TEST(ListObject, RandomOperationsMatchModelImageAndDeltaReplay) {
  std::mt19937 rng(42);
  ListObject l;
  ListObject replay;
  std::deque<std::string> m;
  auto value = [&]() -> std::string {
    switch (rng() % 5) {
      case 0:
        return std::to_string(static_cast<int64_t>(rng()) - (1LL << 31));
      case 1:
        return std::string(rng() % 3000, static_cast<char>('a' + rng() % 26));
      default:
        return "v" + std::to_string(rng() % 20);
    }
  };
  for (int step = 0; step < 20000; step++) {
    std::string delta;
    int op = static_cast<int>(rng() % 10);
    if (op <= 2) {
      std::string v = value();
      std::string_view vs = v;
      bool front = op == 0;
      front ? l.PushFront(v) : l.PushBack(v);
      front ? m.push_front(v) : m.push_back(v);
      ListObject::DeltaPush(&delta, front, std::span<const std::string_view>(&vs, 1));
    } else if (m.empty()) {
      continue;
    } else if (op == 3) {
      size_t n = 1 + rng() % std::min<size_t>(m.size(), 5);
      bool front = rng() % 2;
      for (size_t i = 0; i < n; i++) {
        std::string got = front ? l.PopFront() : l.PopBack();
        ASSERT_EQ(got, front ? m.front() : m.back());
        front ? m.pop_front() : m.pop_back();
      }
      ListObject::DeltaPop(&delta, front, n);
    } else if (op == 4) {
      size_t i = rng() % m.size();
      std::string v = value();
      l.Set(i, v);
      m[i] = v;
      ListObject::DeltaSet(&delta, i, v);
    } else if (op == 5) {
      size_t i = rng() % (m.size() + 1);
      std::string v = value();
      l.Insert(i, v);
      m.insert(m.begin() + i, v);
      ListObject::DeltaInsert(&delta, i, v);
    } else if (op == 6) {
      std::string v = "v" + std::to_string(rng() % 20);
      int64_t count = static_cast<int64_t>(rng() % 5) - 2;
      size_t removed = l.Remove(v, count);
      size_t want = 0;
      if (count >= 0) {
        for (size_t i = 0; i < m.size();) {
          if (m[i] == v && (count == 0 || want < static_cast<size_t>(count))) {
            m.erase(m.begin() + i);
            want++;
          } else {
            i++;
          }
        }
      } else {
        for (size_t i = m.size(); i-- > 0;) {
          if (m[i] == v && want < static_cast<size_t>(-count)) {
            m.erase(m.begin() + i);
            want++;
          }
        }
      }
      ASSERT_EQ(removed, want);
      ListObject::DeltaRemove(&delta, count, v);
    } else if (op == 7 && rng() % 8 == 0) {
      size_t start = rng() % m.size();
      size_t n = rng() % (m.size() - start + 1);
      l.Trim(start, n);
      m = std::deque<std::string>(m.begin() + start, m.begin() + start + n);
      ListObject::DeltaTrim(&delta, start, n);
    } else {
      size_t i = rng() % m.size();
      ASSERT_EQ(l.At(i).ToString(), m[i]);
      continue;
    }
    ASSERT_TRUE(replay.ApplyDelta(delta).ok()) << step;
    ASSERT_EQ(l.Size(), m.size());
    if (step % 500 == 0) {
      ASSERT_EQ(Items(l), Model(m)) << step;
      ASSERT_EQ(Items(replay), Model(m)) << step;
      ASSERT_EQ(ItemsReversed(l), std::vector<std::string>(m.rbegin(), m.rend()));
      std::string image;
      l.Serialize(&image);
      ASSERT_EQ(Items(*Decode(image)), Model(m));
      std::unique_ptr<ValueObject> c(l.Clone());
      ASSERT_EQ(Items(*static_cast<ListObject*>(c.get())), Model(m));
      ASSERT_EQ(c->MemoryUsage(), l.MemoryUsage());
    }
  }
  EXPECT_EQ(Items(l), Model(m));
  EXPECT_EQ(Items(replay), Model(m));
}

TEST(ListObject, BadDeltasAndImagesAreCorruption) {
  ListObject l;
  EXPECT_FALSE(l.ApplyDelta("").ok());
  EXPECT_FALSE(l.ApplyDelta("\x09").ok());
  std::string d;
  ListObject::DeltaPop(&d, true, 1);  // popping from an empty list
  EXPECT_FALSE(l.ApplyDelta(d).ok());
  d.clear();
  ListObject::DeltaSet(&d, 0, "x");
  EXPECT_FALSE(l.ApplyDelta(d).ok());
  d.clear();
  ListObject::DeltaTrim(&d, 0, 1);
  EXPECT_FALSE(l.ApplyDelta(d).ok());
  std::string image;
  coding::PutVarint(&image, 3);
  coding::PutBytes(&image, "a");
  EXPECT_FALSE(DecodeListObject(image).ok());
}

// An image fed in parts of any size (elements cut anywhere, even inside a length) decodes to
// the same list as the whole image; a truncated or padded image is refused.
TEST(ListImageDecoder, PartsOfAnySizeDecodeAsTheWholeImage) {
  ListObject l;
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; i++) {
    if (i % 7 == 0) {
      l.PushBack(std::string(rng() % 300, static_cast<char>('a' + i % 26)));
    } else {
      l.PushBack(std::to_string(static_cast<int64_t>(rng()) - (1 << 30)));
    }
  }
  std::string image;
  l.Serialize(&image);
  for (size_t max_part : {1, 3, 17, 4096, 1 << 20}) {
    SCOPED_TRACE(max_part);
    auto d = NewImageDecoder(ValueType::kList);
    ASSERT_NE(d, nullptr);
    for (size_t at = 0; at < image.size();) {
      size_t n = std::min(image.size() - at, 1 + rng() % max_part);
      ASSERT_TRUE(d->Feed(std::string_view(image).substr(at, n)).ok());
      at += n;
    }
    auto obj = d->Finish();
    ASSERT_TRUE(obj.ok());
    std::unique_ptr<ValueObject> got(*obj);
    std::string again;
    got->Serialize(&again);
    EXPECT_EQ(again, image);
  }
  auto truncated = NewImageDecoder(ValueType::kList);
  ASSERT_TRUE(truncated->Feed(std::string_view(image).substr(0, image.size() - 1)).ok());
  EXPECT_FALSE(truncated->Finish().ok());
  auto padded = NewImageDecoder(ValueType::kList);
  ASSERT_TRUE(padded->Feed(image + "x").ok());
  EXPECT_FALSE(padded->Finish().ok());
  EXPECT_EQ(NewImageDecoder(ValueType::kHash), nullptr);  // decoded whole
}

}  // namespace
}  // namespace fdb
