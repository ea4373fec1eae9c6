// A fixture for the Op layer's unit tests: a Keyspace without a server, dispatcher or RESP, and
// a sink that records every effect an Op appends to its transaction (with a delta's bytes), so a
// test asserts on an Op's returned status and values and on exactly what it logged.
//
//   OpsTest t;
//   auto r = t.Run({"h"}, [&](const OpArgs& op) { return OpHSet(op, "h", fv); });
//   EXPECT_EQ(*r, 2);
//   EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 h"}));
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "commands/op_status.h"
#include "engine/entry.h"
#include "engine/keyspace.h"

namespace fdb {

// Records each effect as "kind db key" and each delta's change bytes.
class OpEffectRecorder : public EffectSink {
 public:
  void Capture(Effect& e) override {
    static const char* kNames[] = {"put", "delta", "del", "expire", "flush", "swapdb"};
    std::string s = std::string(kNames[static_cast<int>(e.kind)]) + " " + std::to_string(e.db);
    if (!e.key.empty()) s += " " + std::string(e.key);
    seen.push_back(s);
    if (e.kind == EffectKind::kDelta) changes.emplace_back(e.change);
  }
  Status Commit(Txn&) override { return Status::OK(); }
  void Clear() {
    seen.clear();
    changes.clear();
  }
  std::vector<std::string> seen;
  std::vector<std::string> changes;  // the change of each delta, in order
};

class OpsTest {
 public:
  OpsTest() { ks.AddSink(&rec); }
  ~OpsTest() { ks.RemoveSink(&rec); }

  // Runs fn(op) with the shards of `keys` locked (as the dispatcher holds them), then commits
  // the transaction; returns what fn returned.
  template <class Fn>
  auto Run(std::vector<std::string_view> keys, Fn fn, int db = 0) {
    std::vector<int> shards;
    for (std::string_view k : keys) shards.push_back(KeyRef(k).shard);
    std::sort(shards.begin(), shards.end());
    shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
    for (int s : shards) ks.shard(s).mu.lock();
    Txn txn;
    OpArgs op{ks, txn, db, NowMs()};
    auto result = fn(op);
    Status st = ks.Commit(txn);
    for (auto it = shards.rbegin(); it != shards.rend(); ++it) ks.shard(*it).mu.unlock();
    EXPECT_TRUE(st.ok());
    return result;
  }

  // The serialized image of key's collection, or "" when missing.
  std::string Image(std::string_view key, int db = 0) {
    return Run(
        {key},
        [&](const OpArgs& op) {
          Entry* e = op.ks.Find(op.txn, op.db, KeyRef(key), op.now_ms);
          std::string out;
          if (e != nullptr && e->object() != nullptr) e->object()->Serialize(&out);
          return out;
        },
        db);
  }
  // Whether a replay of `change` on `before` (a collection's image, "" for a new one of type t)
  // gives `after`: the delta an Op logged says what the Op did.
  static std::string Replay(ValueType t, std::string_view before, std::string_view change) {
    Result<ValueObject*> obj =
        before.empty() ? Result<ValueObject*>(NewEmptyObject(t)) : DecodeObject(t, before);
    EXPECT_TRUE(obj.ok());
    EXPECT_TRUE((*obj)->ApplyDelta(change).ok());
    std::string out;
    (*obj)->Serialize(&out);
    delete *obj;
    return out;
  }

  Keyspace ks;
  OpEffectRecorder rec;
};

}  // namespace fdb
