#include "commands/set_ops.h"

#include <algorithm>
#include <utility>

#include "commands/collection_util.h"
#include "server/config.h"  // notify:: (the keyspace event names)

namespace fdb {

namespace {

SetObject* AsSet(Entry* e) { return static_cast<SetObject*>(e->object()); }

// Calls fn(member) for each member of the intersection, until fn returns false.
template <class F>
void ForEachInIntersection(std::vector<const SetObject*> sets, F&& fn) {
  for (const SetObject* s : sets) {
    if (s == nullptr) return;  // a missing key is the empty set
  }
  // Walk the smallest set, probing the others from the smallest up (Redis's order).
  std::sort(sets.begin(), sets.end(),
            [](const SetObject* a, const SetObject* b) { return a->Size() < b->Size(); });
  bool go = true;
  sets[0]->ForEach([&](std::string_view m) {
    if (!go) return;
    for (size_t i = 1; i < sets.size(); i++) {
      if (!sets[i]->Contains(m)) return;
    }
    go = fn(m);
  });
}

std::unique_ptr<SetObject> Compute(SetOp kind, const std::vector<const SetObject*>& sets) {
  auto out = std::make_unique<SetObject>();
  switch (kind) {
    case SetOp::kInter:
      ForEachInIntersection(sets, [&](std::string_view m) {
        out->Add(m);
        return true;
      });
      break;
    case SetOp::kUnion:
      for (const SetObject* s : sets) {
        if (s) s->ForEach([&](std::string_view m) { out->Add(m); });
      }
      break;
    case SetOp::kDiff:
      if (sets[0] == nullptr) break;
      sets[0]->ForEach([&](std::string_view m) {
        for (size_t i = 1; i < sets.size(); i++) {
          if (sets[i] != nullptr && sets[i]->Contains(m)) return;
        }
        out->Add(m);
      });
      break;
  }
  return out;
}

}  // namespace

OpResult<int64_t> OpSAdd(const OpArgs& op, std::string_view key,
                         std::span<const std::string_view> members) {
  KeyRef k(key);
  OpResult<Entry*> e = FindOrCreateCollection(op, k, ValueType::kSet);
  if (!e.ok()) return e.status();
  std::string& delta = OpDeltaBuffer();
  size_t added = AsSet(*e)->AddMembers(members, &delta);
  // Nothing new, nothing logged. A new set always adds its first member, so it is never left
  // empty and unlogged.
  if (added > 0) op.ks.Delta(op.txn, op.db, k, *e, delta);
  return static_cast<int64_t>(added);
}

OpResult<int64_t> OpSRem(const OpArgs& op, std::string_view key,
                         std::span<const std::string_view> members) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  std::string& delta = OpDeltaBuffer();
  size_t removed = AsSet(*e)->RemoveMembers(members, &delta);
  if (removed > 0) DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return static_cast<int64_t>(removed);
}

OpResult<std::optional<std::string>> OpSPop(const OpArgs& op, std::string_view key) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return std::optional<std::string>();
  std::optional<std::string> popped;
  std::string& delta = OpDeltaBuffer();
  AsSet(*e)->PopRandom(1, &delta, [&](std::string&& m) { popped = std::move(m); });
  DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return popped;
}

OpResult<std::vector<std::string>> OpSPopCount(const OpArgs& op, std::string_view key,
                                               uint64_t count) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  std::vector<std::string> out;
  if (*e == nullptr || count == 0) return out;
  SetObject* s = AsSet(*e);
  if (count >= s->Size()) {
    // The whole set: the key is deleted (logged as a delete, not as a delta of every member).
    out.reserve(s->Size());
    s->ForEach([&](std::string_view m) { out.emplace_back(m); });
    op.ks.Delete(op.txn, op.db, k, op.now_ms);
    return out;
  }
  out.reserve(count);
  std::string& delta = OpDeltaBuffer();
  s->PopRandom(count, &delta, [&](std::string&& m) { out.push_back(std::move(m)); });
  op.ks.Delta(op.txn, op.db, k, *e, delta);  // count < size: the set is not empty
  return out;
}

OpResult<bool> OpSMove(const OpArgs& op, std::string_view src, std::string_view dst,
                       std::string_view member) {
  KeyRef sk(src), dk(dst);
  OpResult<Entry*> se = FindCollection(op, sk, ValueType::kSet, /*for_read=*/false);
  if (!se.ok()) return se.status();
  if (*se == nullptr) return false;  // before the destination's type is checked, as Redis
  OpResult<Entry*> de = FindCollection(op, dk, ValueType::kSet, /*for_read=*/false);
  if (!de.ok()) return de.status();
  if (src == dst) return AsSet(*se)->Contains(member);
  std::string& delta = OpDeltaBuffer();
  const std::string_view one[1] = {member};
  if (AsSet(*se)->RemoveMembers(one, &delta) == 0) return false;
  DeltaOrDeleteIfEmpty(op, sk, *se, delta);
  op.txn.set_event(notify::kSet, "sadd");  // the source's event was "srem"
  Entry* d = *de;
  if (d == nullptr) d = op.ks.Create(op.txn, op.db, dk, Entry::NewObject(dk.key, NewSetObject()));
  if (AsSet(d)->AddMembers(one, &delta) > 0) op.ks.Delta(op.txn, op.db, dk, d, delta);
  return true;
}

OpResult<const SetObject*> OpFindSet(const OpArgs& op, std::string_view key) {
  OpResult<Entry*> e = FindCollection(op, KeyRef(key), ValueType::kSet);
  if (!e.ok()) return e.status();
  return *e == nullptr ? nullptr : static_cast<const SetObject*>(AsSet(*e));
}

OpResult<int64_t> OpSCard(const OpArgs& op, std::string_view key) {
  OpResult<const SetObject*> s = OpFindSet(op, key);
  if (!s.ok()) return s.status();
  return *s == nullptr ? int64_t{0} : static_cast<int64_t>((*s)->Size());
}

OpResult<std::vector<const SetObject*>> OpLoadSets(const OpArgs& op,
                                                   std::span<const std::string_view> keys) {
  std::vector<const SetObject*> sets;
  sets.reserve(keys.size());
  for (std::string_view key : keys) {
    OpResult<const SetObject*> s = OpFindSet(op, key);
    if (!s.ok()) return s.status();
    sets.push_back(*s);
  }
  return sets;
}

OpResult<std::unique_ptr<SetObject>> OpSetCompute(const OpArgs& op, SetOp kind,
                                                  std::span<const std::string_view> keys) {
  OpResult<std::vector<const SetObject*>> sets = OpLoadSets(op, keys);
  if (!sets.ok()) return sets.status();
  return Compute(kind, *sets);
}

OpResult<SetStoreResult> OpSetStore(const OpArgs& op, SetOp kind, std::string_view dst,
                                    std::span<const std::string_view> keys) {
  OpResult<std::unique_ptr<SetObject>> r = OpSetCompute(op, kind, keys);
  if (!r.ok()) return r.status();
  KeyRef dk(dst);
  SetStoreResult out;
  out.size = static_cast<int64_t>((*r)->Size());
  if (out.size == 0) {
    out.changed = op.ks.Delete(op.txn, op.db, dk, op.now_ms);
  } else {
    op.ks.Put(op.txn, op.db, dk, Entry::NewObject(dk.key, r->release()));
    out.changed = true;
  }
  return out;
}

OpResult<int64_t> OpSInterCard(const OpArgs& op, std::span<const std::string_view> keys,
                               uint64_t limit) {
  OpResult<std::vector<const SetObject*>> sets = OpLoadSets(op, keys);
  if (!sets.ok()) return sets.status();
  int64_t n = 0;
  ForEachInIntersection(*sets, [&](std::string_view) {
    n++;
    return limit == 0 || static_cast<uint64_t>(n) < limit;
  });
  return n;
}

}  // namespace fdb
