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

// The compression rule: the `depth` nodes at each end raw, and (checked where the caller knows
// every inner node is compressible) every other node compressed.
void ExpectCompressionRule(const ListObject& l, bool inner_compressible) {
  size_t n = l.NodeCount();
  size_t d = static_cast<size_t>(l.options().compress_depth);
  for (size_t i = 0; i < n; i++) {
    bool end = d == 0 || i < d || i + d >= n;
    if (end) {
      ASSERT_FALSE(l.NodeCompressed(i)) << "node " << i << " of " << n;
    } else if (inner_compressible) {
      ASSERT_TRUE(l.NodeCompressed(i)) << "node " << i << " of " << n;
    }
  }
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
    EXPECT_EQ(l.At(i), "e" + std::to_string(i));
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

// Redis's quicklist fill: a positive fill bounds the elements of a node (and its bytes by 8 KB),
// a negative one its bytes (4 KB .. 64 KB, header included).
TEST(ListObjectFill, PositiveFillBoundsElementsPerNode) {
  ListObject l({5, 0});
  for (int i = 0; i < 23; i++) l.PushBack("e" + std::to_string(i));
  ASSERT_EQ(l.NodeCount(), 5u);
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(l.NodeSize(i), 5u);
  EXPECT_EQ(l.NodeSize(4), 3u);
  for (int i = 0; i < 7; i++) l.PushFront("f");
  EXPECT_EQ(l.NodeCount(), 7u);
  ListObject one({1, 0});
  for (int i = 0; i < 10; i++) i % 2 ? one.PushFront("x") : one.PushBack("y");
  EXPECT_EQ(one.NodeCount(), 10u);
  one.Insert(5, "z");
  EXPECT_EQ(one.NodeCount(), 11u);
  for (size_t i = 0; i < one.NodeCount(); i++) EXPECT_EQ(one.NodeSize(i), 1u);
}

TEST(ListObjectFill, PositiveFillStaysUnderTheSafetyLimit) {
  ListObject l({1000, 0});
  for (int i = 0; i < 1000; i++) l.PushBack(std::string(100, 'a'));
  // 102 bytes an element: at most 80 fit in 8 KB with the 7 bytes of a listpack's header.
  EXPECT_EQ(l.NodeSize(0), 80u);
  EXPECT_EQ(l.NodeCount(), (1000 + 79) / 80);
}

TEST(ListObjectFill, SizeClassesBoundNodeBytes) {
  for (int fill = -1; fill >= -5; fill--) {
    SCOPED_TRACE(fill);
    ListObject l({fill, 0});
    for (int i = 0; i < 20000; i++) l.PushBack("0123456789");  // 12 bytes an element
    size_t bound = size_t{4096} << (-fill - 1);
    size_t per_node = (bound - 7) / 12;
    EXPECT_EQ(l.NodeSize(0), per_node);
    EXPECT_EQ(l.NodeCount(), (20000 + per_node - 1) / per_node);
  }
}

TEST(ListObjectFill, OutOfRangeValuesAreClampedAsRedis) {
  EXPECT_EQ(ListObject({-100, -3}).options().fill, -5);
  EXPECT_EQ(ListObject({-100, -3}).options().compress_depth, 0);
  EXPECT_EQ(ListObject({1 << 20, 1 << 20}).options().fill, 32767);
  EXPECT_EQ(ListObject({1 << 20, 1 << 20}).options().compress_depth, 65535);
  // 0 is a fill of no element: every element gets a node of its own, as in Redis.
  ListObject zero({0, 0});
  for (int i = 0; i < 4; i++) zero.PushBack("a");
  EXPECT_EQ(zero.NodeCount(), 4u);
}

TEST(ListObjectFill, NewListsTakeTheDefaultsInForceWhenMade) {
  ListObject::Options saved = ListObject::DefaultOptions();
  ListObject::SetDefaultOptions({3, 1});
  ListObject l;
  ListObject::SetDefaultOptions(saved);
  EXPECT_EQ(l.options().fill, 3);
  EXPECT_EQ(l.options().compress_depth, 1);
  for (int i = 0; i < 9; i++) l.PushBack("v");
  EXPECT_EQ(l.NodeCount(), 3u);  // the options stay with the list
  std::unique_ptr<ValueObject> c(l.Clone());
  EXPECT_EQ(static_cast<ListObject*>(c.get())->options().fill, 3);
}

TEST(ListObjectFill, ElementsOverThePackedThresholdGetANodeOfTheirOwn) {
  ListObject l({-2, 0});
  ListObject::SetPackedThreshold(10);
  l.PushBack("aa");
  l.PushBack(std::string(10, 'x'));  // plain: a node of its own
  l.PushBack("bb");
  l.PushFront(std::string(20, 'y'));
  l.Insert(2, "cc");               // before a plain node: into the node before it
  l.Set(4, std::string(30, 'z'));  // "bb"'s node, emptied, takes the plain element
  ListObject::SetPackedThreshold(0);
  EXPECT_EQ(ListObject::PackedThreshold(), uint64_t{1} << 30);
  EXPECT_EQ(Items(l), (std::vector<std::string>{std::string(20, 'y'), "aa", "cc",
                                                std::string(10, 'x'), std::string(30, 'z')}));
  ASSERT_EQ(l.NodeCount(), 4u);
  EXPECT_EQ(l.NodeSize(0), 1u);
  EXPECT_EQ(l.NodeSize(1), 2u);  // "aa" "cc"
  l.PushBack("dd");              // the threshold is back to 1 GB, but a plain node stays alone
  EXPECT_EQ(l.NodeCount(), 5u);
}

// Compression: the inner nodes of a list of compressible elements shrink, reads see the same
// elements from either end, and emptying the list gives all the memory back.
TEST(ListObjectCompression, InnerNodesAreCompressedAndReadBack) {
  ListObject raw({-2, 0});
  ListObject packed({-2, 1});
  std::vector<std::string> want;
  for (int i = 0; i < 50000; i++) {
    std::string v = "element:" + std::to_string(i % 100) + ":padding-padding";
    want.push_back(v);
    raw.PushBack(v);
    packed.PushBack(v);
  }
  ASSERT_GT(packed.NodeCount(), 10u);
  ExpectCompressionRule(packed, true);
  EXPECT_LT(packed.MemoryUsage() * 3, raw.MemoryUsage());
  EXPECT_EQ(Items(packed), want);
  EXPECT_EQ(ItemsReversed(packed), std::vector<std::string>(want.rbegin(), want.rend()));
  for (size_t i : {size_t{0}, size_t{1}, size_t{777}, size_t{25000}, size_t{49999}}) {
    EXPECT_EQ(packed.At(i), want[i]);
  }
  // Reads leave the nodes as they were.
  ExpectCompressionRule(packed, true);
  std::string image_raw, image_packed;
  raw.Serialize(&image_raw);
  packed.Serialize(&image_packed);
  EXPECT_EQ(image_packed, image_raw);  // the image does not depend on the nodes
  size_t empty = ListObject({-2, 1}).MemoryUsage();
  while (packed.Size() > 0) {
    packed.Size() % 2 ? packed.PopFront() : packed.PopBack();
    if (packed.Size() % 997 == 0) ExpectCompressionRule(packed, true);
  }
  EXPECT_EQ(packed.MemoryUsage(), empty);
}

TEST(ListObjectCompression, ChangesInsideDecompressChangeAndRecompress) {
  ListObject l({-1, 2});
  std::deque<std::string> m;
  for (int i = 0; i < 20000; i++) {
    std::string v = "value-" + std::to_string(i % 50) + "-" + std::string(20, 'q');
    l.PushBack(v);
    m.push_back(v);
  }
  ExpectCompressionRule(l, true);
  size_t before = l.MemoryUsage();
  l.Insert(10000, "inserted");
  m.insert(m.begin() + 10000, "inserted");
  l.Set(9000, std::string(5000, 'S'));  // compresses well too
  m[9000] = std::string(5000, 'S');
  EXPECT_EQ(l.Remove("value-7-" + std::string(20, 'q'), 0), 400u);
  m.erase(std::remove(m.begin(), m.end(), "value-7-" + std::string(20, 'q')), m.end());
  ExpectCompressionRule(l, true);
  EXPECT_LT(l.MemoryUsage(), before + 4096);
  l.Trim(3000, 5000);  // the new ends were inner nodes: decompressed
  m = std::deque<std::string>(m.begin() + 3000, m.begin() + 8000);
  ExpectCompressionRule(l, true);
  EXPECT_EQ(Items(l), Model(m));
  EXPECT_EQ(ItemsReversed(l), std::vector<std::string>(m.rbegin(), m.rend()));
}

TEST(ListObjectCompression, SmallAndIncompressibleNodesStayRaw) {
  ListObject l({1, 1});  // one element a node
  l.PushBack("a");
  l.PushBack(std::string(40, 'b'));  // under 48 bytes with its header: not worth it
  l.PushBack(std::string(300, 'c'));
  std::mt19937 rng(3);
  std::string noise(300, ' ');
  for (char& ch : noise) ch = static_cast<char>(rng());
  l.PushBack(noise);  // LZF cannot shrink it by 8 bytes
  l.PushBack("e");
  ASSERT_EQ(l.NodeCount(), 5u);
  EXPECT_FALSE(l.NodeCompressed(1));
  EXPECT_TRUE(l.NodeCompressed(2));
  EXPECT_FALSE(l.NodeCompressed(3));
  EXPECT_EQ(l.At(3), noise);
  EXPECT_EQ(l.At(2), std::string(300, 'c'));
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
// deltas must give the same list, and the compression rule must hold.
void RandomOperationsMatchModel(ListObject::Options o, uint32_t seed) {
  SCOPED_TRACE("fill " + std::to_string(o.fill) + " depth " + std::to_string(o.compress_depth));
  std::mt19937 rng(seed);
  ListObject l(o);
  ListObject replay(o);
  std::deque<std::string> m;
  size_t compressed_seen = 0;  // node-steps: the operations met compressed nodes
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
      ASSERT_EQ(l.At(i), m[i]);
      continue;
    }
    ASSERT_TRUE(replay.ApplyDelta(delta).ok()) << step;
    ASSERT_EQ(l.Size(), m.size());
    ExpectCompressionRule(l, false);
    for (size_t i = 0; i < l.NodeCount(); i++) compressed_seen += l.NodeCompressed(i);
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
  ExpectCompressionRule(replay, false);
  EXPECT_EQ(compressed_seen > 1000, o.compress_depth > 0) << compressed_seen;
  // Emptied, the list holds no more memory than a new one.
  l.Trim(0, 0);
  EXPECT_EQ(l.MemoryUsage(), ListObject(o).MemoryUsage());
}

TEST(ListObject, RandomOperationsMatchModelImageAndDeltaReplay) {
  RandomOperationsMatchModel({-2, 0}, 42);
}

TEST(ListObject, RandomOperationsMatchModelWithCompression) {
  RandomOperationsMatchModel({-2, 1}, 7);
  RandomOperationsMatchModel({-1, 2}, 8);
  RandomOperationsMatchModel({4, 1}, 9);  // many small nodes: most of the list compressed
  RandomOperationsMatchModel({1, 3}, 10);
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
