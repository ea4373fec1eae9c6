// Tests of StreamObject (engine/stream_object.h): random operations checked against a plain
// model, the image round trip, delta replay against the live object, trimming plans, groups and
// refusal of corrupt images.
#include "engine/stream_object.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace fdb {
namespace {

using Model = std::map<StreamId, std::vector<std::string>>;

Model Contents(const StreamObject& s, bool rev = false) {
  Model m;
  StreamId prev;
  bool first = true;
  s.Range({}, StreamId::Max(), rev, [&](StreamId id, StreamObject::FieldValues fv) {
    if (!first) EXPECT_TRUE(rev ? id < prev : prev < id) << "order at " << id.ToString();
    first = false;
    prev = id;
    m[id] = std::vector<std::string>(fv.begin(), fv.end());
    return true;
  });
  EXPECT_EQ(m.size(), s.length());
  return m;
}

std::string Image(const StreamObject& s) {
  std::string out;
  s.Serialize(&out);
  return out;
}

std::unique_ptr<StreamObject> RoundTrip(const StreamObject& s) {
  Result<StreamObject*> r = StreamObject::Decode(Image(s));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::unique_ptr<StreamObject>(r.ok() ? *r : nullptr);
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return std::vector<std::string_view>(v.begin(), v.end());
}

TEST(StreamObjectTest, AppendRangeDelete) {
  StreamObject s;
  std::string d;
  std::vector<std::string> a = {"f", "1"}, b = {"f", "2", "g", "3"};
  s.Append({1, 0}, Views(a), 4096, 100, &d);
  s.Append({1, 1}, Views(b), 4096, 100, &d);
  s.Append({5, 0}, Views(a), 4096, 100, &d);
  EXPECT_EQ(s.length(), 3u);
  EXPECT_EQ(s.last_id(), (StreamId{5, 0}));
  EXPECT_EQ(s.FirstId(), (StreamId{1, 0}));
  Model m = Contents(s);
  EXPECT_EQ(m[StreamId({1, 1})], b);
  EXPECT_TRUE(s.Delete({1, 0}, &d));
  EXPECT_FALSE(s.Delete({1, 0}, &d));
  EXPECT_FALSE(s.Delete({2, 0}, &d));
  EXPECT_EQ(s.FirstId(), (StreamId{1, 1}));
  EXPECT_EQ(s.max_deleted_id(), (StreamId{1, 0}));
  EXPECT_EQ(s.entries_added(), 3u);
  EXPECT_EQ(Contents(s, true), Contents(s));
}

TEST(StreamObjectTest, TrimPlansFollowNodes) {
  StreamObject s;
  std::string d;
  std::vector<std::string> fv = {"x", "v"};
  for (uint64_t i = 1; i <= 100; i++) s.Append({i, 0}, Views(fv), 4096, 10, &d);
  EXPECT_EQ(s.node_count(), 10u);
  // Approximate: whole nodes only, and no more than the limit.
  StreamObject::TrimPlan p = s.PlanTrimMaxLen(55, true, 30);
  EXPECT_EQ(p.removed, 30u);
  EXPECT_EQ(s.TrimThrough(p.boundary, &d), 30u);
  EXPECT_EQ(s.length(), 70u);
  p = s.PlanTrimMaxLen(55, true, 0);
  EXPECT_EQ(p.removed, 10u);
  // Exact: into the middle of a node.
  p = s.PlanTrimMaxLen(55, false, 0);
  EXPECT_EQ(p.removed, 15u);
  EXPECT_EQ(s.TrimThrough(p.boundary, &d), 15u);
  EXPECT_EQ(s.FirstId(), (StreamId{46, 0}));
  p = s.PlanTrimMinId({50, 0}, false, 0);
  EXPECT_EQ(p.removed, 4u);
  p = s.PlanTrimMinId({50, 0}, true, 0);
  EXPECT_EQ(p.removed, 0u);  // the node holding 46..50 is not wholly below 50-0
  p = s.PlanTrimMinId({51, 0}, true, 0);
  EXPECT_EQ(p.removed, 5u);
}

// Random changes on a live stream, checked against a model; each change's delta replayed on a
// copy that started from the same image must give the same image.
TEST(StreamObjectTest, RandomOpsMatchModelAndReplay) {
  std::mt19937_64 rng(42);
  StreamObject s;
  std::unique_ptr<StreamObject> replica(new StreamObject());
  Model model;
  StreamId last;
  std::vector<std::string> groups = {"g1", "g2"};
  std::vector<std::string> consumers = {"alice", "bob"};
  for (int step = 0; step < 4000; step++) {
    std::string d;
    int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      StreamId id = last;
      if (rng() % 3 == 0) {
        id.ms += 1 + rng() % 5;
        id.seq = rng() % 3;
      } else {
        id.seq++;
      }
      std::vector<std::string> fv;
      size_t nf = 1 + rng() % 3;
      for (size_t i = 0; i < nf; i++) {
        fv.push_back(rng() % 2 ? "f" + std::to_string(i) : "x" + std::to_string(rng() % 5));
        fv.push_back(std::string(rng() % 40, static_cast<char>('a' + rng() % 26)));
      }
      s.Append(id, Views(fv), 200, 1 + rng() % 8, &d);
      model[id] = fv;
      last = id;
    } else if (op == 5 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      EXPECT_TRUE(s.Delete(it->first, &d));
      model.erase(it);
    } else if (op == 6) {
      bool approx = rng() % 2;
      StreamObject::TrimPlan p = s.PlanTrimMaxLen(rng() % 50 + 20, approx, approx ? 20 : 0);
      if (p.removed > 0) {
        EXPECT_EQ(s.TrimThrough(p.boundary, &d), p.removed);
        while (!model.empty() && model.begin()->first <= p.boundary) model.erase(model.begin());
      }
    } else if (op == 7) {
      const std::string& g = groups[rng() % 2];
      if (s.FindGroup(g) == nullptr) {
        s.CreateGroup(g, {}, StreamObject::kInvalidEntriesRead, &d);
      } else if (rng() % 10 == 0) {
        s.DestroyGroup(g, &d);
      } else {
        const std::string& c = consumers[rng() % 2];
        s.TouchConsumer(g, c, static_cast<int64_t>(step), &d);
        if (!model.empty()) {
          auto it = model.begin();
          std::advance(it, rng() % model.size());
          s.SetNack(g, it->first, c, step, 1 + rng() % 3, &d);
          s.SetGroupPos(g, it->first, static_cast<int64_t>(rng() % 10), &d);
        }
      }
    } else if (op == 8) {
      const std::string& g = groups[rng() % 2];
      StreamObject::Group* grp = s.FindGroup(g);
      if (grp != nullptr && !grp->pel.empty()) {
        EXPECT_TRUE(s.Ack(g, grp->pel.begin()->first, &d));
      } else if (grp != nullptr && rng() % 4 == 0) {
        s.DeleteConsumer(g, consumers[rng() % 2], &d);
      }
    }
    if (!d.empty()) {
      ASSERT_TRUE(replica->ApplyDelta(d).ok()) << "step " << step;
    }
    if (step % 97 == 0) {
      ASSERT_EQ(Contents(s), model) << "step " << step;
      ASSERT_EQ(Contents(s, true), model);
      ASSERT_EQ(Image(*replica), Image(s)) << "step " << step;
      std::unique_ptr<StreamObject> copy = RoundTrip(s);
      ASSERT_NE(copy, nullptr);
      ASSERT_EQ(Image(*copy), Image(s));
      ASSERT_EQ(Contents(*copy), model);
      // Replaying later deltas on a decoded copy works as well.
      replica = std::move(copy);
    }
  }
  EXPECT_EQ(Image(*replica), Image(s));
}

TEST(StreamObjectTest, GroupsAndPelSurviveTheImage) {
  StreamObject s;
  std::string d;
  std::vector<std::string> fv = {"a", "1"};
  for (uint64_t i = 1; i <= 5; i++) s.Append({i, 0}, Views(fv), 4096, 100, &d);
  s.CreateGroup("g", {0, 0}, StreamObject::kInvalidEntriesRead, &d);
  s.TouchConsumer("g", "c1", 1000, &d);
  s.TouchConsumer("g", "c2", 2000, &d);
  s.SetNack("g", {1, 0}, "c1", 1500, 2, &d);
  s.SetNack("g", {2, 0}, "c2", 1600, 1, &d);
  s.SetNack("g", {1, 0}, "c2", 1700, 3, &d);  // moves to c2
  s.SetGroupPos("g", {2, 0}, 2, &d);
  std::unique_ptr<StreamObject> c = RoundTrip(s);
  ASSERT_NE(c, nullptr);
  StreamObject::Group* g = c->FindGroup("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->last_id, (StreamId{2, 0}));
  EXPECT_EQ(g->entries_read, 2);
  ASSERT_EQ(g->pel.size(), 2u);
  EXPECT_EQ(g->pel.at({1, 0}).consumer->name, "c2");
  EXPECT_EQ(g->pel.at({1, 0}).delivery_count, 3u);
  EXPECT_EQ(StreamObject::FindConsumer(*g, "c1")->pel.size(), 0u);
  EXPECT_EQ(StreamObject::FindConsumer(*g, "c2")->pel.size(), 2u);
  EXPECT_EQ(StreamObject::FindConsumer(*g, "c1")->seen_ms, 1000);
  EXPECT_EQ(c->DeleteConsumer("g", "c2", &d), 2);
  EXPECT_TRUE(c->FindGroup("g")->pel.empty());
}

TEST(StreamObjectTest, LagAndEntriesReadEstimates) {
  StreamObject s;
  std::string d;
  std::vector<std::string> fv = {"data", "a"};
  for (uint64_t i = 1; i <= 5; i++) s.Append({i, 0}, Views(fv), 4096, 100, &d);
  StreamObject::Group* g = s.CreateGroup("g", {}, StreamObject::kInvalidEntriesRead, &d);
  EXPECT_EQ(s.Lag(*g), 5);
  s.Delete({3, 0}, &d);
  EXPECT_EQ(s.Lag(*g), -1);  // a tombstone ahead: unknown
  EXPECT_EQ(s.EstimateEntriesRead({5, 0}), 5);
}

TEST(StreamObjectTest, RefusesCorruptImages) {
  StreamObject s;
  std::string d;
  std::vector<std::string> fv = {"a", "1", "b", "2"};
  for (uint64_t i = 1; i <= 20; i++) s.Append({i, i}, Views(fv), 4096, 100, &d);
  s.CreateGroup("g", {3, 0}, 3, &d);
  s.TouchConsumer("g", "c", 5, &d);
  s.SetNack("g", {2, 2}, "c", 7, 1, &d);
  std::string image = Image(s);
  Result<StreamObject*> whole = StreamObject::Decode(image);
  ASSERT_TRUE(whole.ok());
  delete *whole;
  // Every truncation and many single-byte changes are refused or decode to a valid stream
  // (never a crash); truncations are always refused.
  for (size_t n = 0; n < image.size(); n++) {
    Result<StreamObject*> r = StreamObject::Decode(image.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix " << n;
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; i++) {
    std::string bad = image;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Result<StreamObject*> r = StreamObject::Decode(bad);
    if (r.ok()) delete *r;
  }
  EXPECT_FALSE(StreamObject::Decode(image + "x").ok());
  StreamObject t;
  EXPECT_FALSE(t.ApplyDelta("").ok());
  EXPECT_FALSE(t.ApplyDelta("Z").ok());
  EXPECT_FALSE(t.ApplyDelta("N\x01g").ok());
}

}  // namespace
}  // namespace fdb
