#include "commands/list_ops.h"

#include <algorithm>
#include <utility>

#include "commands/collection_util.h"
#include "server/config.h"  // notify:: (the keyspace event names)

namespace fdb {

namespace {

ListObject* ListOf(Entry* e) { return static_cast<ListObject*>(e->object()); }

// A Redis index (negative from the tail) resolved against len; false when out of range.
bool ResolveIndex(int64_t index, size_t len, size_t* out) {
  int64_t n = static_cast<int64_t>(len);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *out = static_cast<size_t>(index);
  return true;
}

}  // namespace

OpResult<int64_t> OpPush(const OpArgs& op, std::string_view key, bool front,
                         std::span<const std::string_view> vals, bool only_existing) {
  KeyRef k(key);
  op.txn.set_event(notify::kList, front ? "lpush" : "rpush");
  OpResult<Entry*> e = only_existing ? FindCollection(op, k, ValueType::kList, false)
                                     : FindOrCreateCollection(op, k, ValueType::kList);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  std::string& delta = OpDeltaBuffer();
  size_t len = ListOf(*e)->Push(front, vals, &delta);
  op.ks.Delta(op.txn, op.db, k, *e, delta);
  return static_cast<int64_t>(len);
}

OpResult<std::optional<std::string>> OpPop(const OpArgs& op, std::string_view key, bool front) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return std::optional<std::string>();
  std::string& delta = OpDeltaBuffer();
  op.txn.set_event(notify::kList, front ? "lpop" : "rpop");
  std::optional<std::string> v = ListOf(*e)->Pop(front, &delta);
  DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return v;
}

OpResult<std::optional<std::vector<std::string>>> OpPopCount(const OpArgs& op, std::string_view key,
                                                             bool front, uint64_t count) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return std::optional<std::vector<std::string>>();
  ListObject* l = ListOf(*e);
  std::vector<std::string> out;
  if (count == 0) return std::optional<std::vector<std::string>>(std::move(out));
  size_t n = std::min<uint64_t>(count, l->Size());
  out.reserve(n);
  l->ForRange(0, n, !front, [&](const ListObject::Elem& el) {
    out.push_back(el.ToString());
    return true;
  });
  std::string& delta = OpDeltaBuffer();
  op.txn.set_event(notify::kList, front ? "lpop" : "rpop");
  l->PopEnd(front, n, &delta);
  DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return std::optional<std::vector<std::string>>(std::move(out));
}

OpStatus OpLSet(const OpArgs& op, std::string_view key, int64_t index, std::string_view value) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return OpStatus::kKeyNotFound;
  size_t i;
  if (!ResolveIndex(index, ListOf(*e)->Size(), &i)) return OpStatus::kIndexOutOfRange;
  std::string& delta = OpDeltaBuffer();
  ListOf(*e)->SetAt(i, value, &delta);
  op.ks.Delta(op.txn, op.db, k, *e, delta);
  return OpStatus::kOk;
}

OpResult<int64_t> OpLInsert(const OpArgs& op, std::string_view key, bool after,
                            std::string_view pivot, std::string_view value) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  ListObject* l = ListOf(*e);
  size_t i = 0;
  bool found = false;
  l->ForRange(0, l->Size(), false, [&](const ListObject::Elem& el) {
    if (el.Equals(pivot)) {
      found = true;
      return false;
    }
    i++;
    return true;
  });
  if (!found) return int64_t{-1};
  std::string& delta = OpDeltaBuffer();
  l->InsertAt(after ? i + 1 : i, value, &delta);
  op.ks.Delta(op.txn, op.db, k, *e, delta);
  return static_cast<int64_t>(l->Size());
}

OpResult<int64_t> OpLRem(const OpArgs& op, std::string_view key, int64_t count,
                         std::string_view value) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  std::string& delta = OpDeltaBuffer();
  size_t removed = ListOf(*e)->RemoveMatching(value, count, &delta);
  if (removed > 0) DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return static_cast<int64_t>(removed);
}

OpResult<int64_t> OpLTrim(const OpArgs& op, std::string_view key, int64_t start, int64_t end) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kList, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  ListObject* l = ListOf(*e);
  int64_t len = static_cast<int64_t>(l->Size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    op.ks.Delete(op.txn, op.db, k, op.now_ms);  // everything trimmed away
    return len;
  }
  if (end >= len) end = len - 1;
  size_t keep = static_cast<size_t>(end - start + 1);
  if (keep == l->Size()) return int64_t{0};
  std::string& delta = OpDeltaBuffer();
  l->TrimTo(static_cast<size_t>(start), keep, &delta);
  op.ks.Delta(op.txn, op.db, k, *e, delta);
  return len - static_cast<int64_t>(keep);
}

OpResult<std::optional<std::string>> OpLMove(const OpArgs& op, std::string_view src,
                                             std::string_view dst, bool from_left, bool to_left) {
  KeyRef sk(src), dk(dst);
  OpResult<Entry*> s = FindCollection(op, sk, ValueType::kList, /*for_read=*/false);
  if (!s.ok()) return s.status();
  if (*s == nullptr) return std::optional<std::string>();
  std::string& delta = OpDeltaBuffer();
  // Two events, as Redis: the pop from the source, then the push to the destination.
  const EventTag pop{notify::kList, from_left ? "lpop" : "rpop"};
  const EventTag push{notify::kList, to_left ? "lpush" : "rpush"};
  op.txn.set_event(pop);
  if (src == dst) {
    // A rotation: never empties the list. Two deltas, each handed over as it is made.
    ListObject* l = ListOf(*s);
    std::string v = l->Pop(from_left, &delta);
    op.ks.Delta(op.txn, op.db, sk, *s, delta);
    const std::string_view one[1] = {v};
    op.txn.set_event(push);
    l->Push(to_left, one, &delta);
    op.ks.Delta(op.txn, op.db, sk, *s, delta);
    return std::optional<std::string>(std::move(v));
  }
  OpResult<Entry*> d = FindCollection(op, dk, ValueType::kList, /*for_read=*/false);
  if (!d.ok()) return d.status();
  // The destination lookup may have read an evicted value back and evicted the (clean) source
  // to make room: look the source up again, and change it before touching the destination.
  s = FindCollection(op, sk, ValueType::kList, /*for_read=*/false);
  std::string v = ListOf(*s)->Pop(from_left, &delta);
  DeltaOrDeleteIfEmpty(op, sk, *s, delta);
  op.txn.set_event(push);
  d = FindOrCreateCollection(op, dk, ValueType::kList);
  const std::string_view one[1] = {v};
  ListOf(*d)->Push(to_left, one, &delta);
  op.ks.Delta(op.txn, op.db, dk, *d, delta);
  return std::optional<std::string>(std::move(v));
}

OpResult<const ListObject*> OpFindList(const OpArgs& op, std::string_view key) {
  OpResult<Entry*> e = FindCollection(op, KeyRef(key), ValueType::kList);
  if (!e.ok()) return e.status();
  return *e == nullptr ? nullptr : static_cast<const ListObject*>(ListOf(*e));
}

OpResult<int64_t> OpLLen(const OpArgs& op, std::string_view key) {
  OpResult<const ListObject*> l = OpFindList(op, key);
  if (!l.ok()) return l.status();
  return *l == nullptr ? int64_t{0} : static_cast<int64_t>((*l)->Size());
}

OpResult<ListRange> OpLRange(const OpArgs& op, std::string_view key, int64_t start, int64_t end) {
  OpResult<const ListObject*> l = OpFindList(op, key);
  if (!l.ok()) return l.status();
  ListRange r;
  r.list = *l;
  if (r.list == nullptr) return r;
  int64_t len = static_cast<int64_t>(r.list->Size());
  if (start < 0) start = std::max<int64_t>(0, start + len);
  if (end < 0) end += len;
  if (start > end || start >= len) return r;
  if (end >= len) end = len - 1;
  r.start = static_cast<size_t>(start);
  r.n = static_cast<size_t>(end - start + 1);
  return r;
}

OpResult<std::optional<std::string>> OpLIndex(const OpArgs& op, std::string_view key,
                                              int64_t index) {
  OpResult<const ListObject*> l = OpFindList(op, key);
  if (!l.ok()) return l.status();
  size_t i;
  if (*l == nullptr || !ResolveIndex(index, (*l)->Size(), &i)) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*l)->At(i));
}

OpResult<std::optional<std::vector<int64_t>>> OpLPos(const OpArgs& op, std::string_view key,
                                                     std::string_view elem, int64_t rank,
                                                     int64_t count, int64_t maxlen) {
  OpResult<const ListObject*> lr = OpFindList(op, key);
  if (!lr.ok()) return lr.status();
  const ListObject* l = *lr;
  if (l == nullptr) return std::optional<std::vector<int64_t>>();
  bool reverse = rank < 0;
  uint64_t skip = static_cast<uint64_t>(reverse ? -rank : rank);  // matches to reach
  size_t len = l->Size();
  size_t limit = maxlen == 0 ? len : std::min<size_t>(len, static_cast<size_t>(maxlen));
  std::vector<int64_t> found;
  uint64_t matches = 0;
  size_t visited = 0;
  l->ForRange(0, limit, reverse, [&](const ListObject::Elem& el) {
    size_t idx = visited++;
    if (!el.Equals(elem)) return true;
    if (++matches < skip) return true;
    found.push_back(static_cast<int64_t>(reverse ? len - 1 - idx : idx));
    if (count == -1) return false;
    return count == 0 || found.size() < static_cast<uint64_t>(count);
  });
  return std::optional<std::vector<int64_t>>(std::move(found));
}

}  // namespace fdb
