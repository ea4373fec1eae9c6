#include "commands/zset_ops.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "commands/collection_util.h"

namespace fdb {

namespace {

ZSetObject* ZSetOf(Entry* e) { return static_cast<ZSetObject*>(e->object()); }

// The entries of a delta being built, in a buffer each thread reuses (no allocation per ZADD);
// OpDeltaBuffer then holds the finished delta.
std::string& DeltaBody() {
  thread_local std::string s;
  if (s.capacity() > (1u << 20)) std::string().swap(s);
  return s;
}

// Hands the delta of the changes in d to the keyspace, or deletes the key they emptied.
void LogZSetDelta(const OpArgs& op, const KeyRef& k, Entry* e, const ZSetDelta& d) {
  std::string& delta = OpDeltaBuffer();
  d.Finish(&delta);
  DeltaOrDeleteIfEmpty(op, k, e, delta);
}

// Normalizes a rank range [start, end] (negative counts from the end) over n members, as
// Redis; false when it is empty.
bool ClampRanks(int64_t start, int64_t end, size_t n, size_t* first, size_t* last) {
  const int64_t len = static_cast<int64_t>(n);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return false;
  if (end >= len) end = len - 1;
  *first = static_cast<size_t>(start);
  *last = static_cast<size_t>(end);
  return true;
}

void VisitSource(const ZSource& s, absl::FunctionRef<void(std::string_view, double)> fn) {
  if (s.zset != nullptr) return s.zset->VisitAll(fn);
  if (s.set != nullptr) s.set->ForEach([&fn](std::string_view m) { fn(m, 1.0); });
}

std::optional<double> SourceScore(const ZSource& s, std::string_view m) {
  if (s.zset != nullptr) return s.zset->Score(m);
  if (s.set != nullptr && s.set->Contains(m)) return 1.0;
  return std::nullopt;
}

void AggregateInto(double* target, double v, ZAggregate a) {
  switch (a) {
    case ZAggregate::kSum:
      *target += v;
      if (std::isnan(*target)) *target = 0;  // inf + -inf, as Redis
      break;
    case ZAggregate::kMin:
      *target = std::min(*target, v);
      break;
    case ZAggregate::kMax:
      *target = std::max(*target, v);
      break;
  }
}

double Weighted(double score, double weight) {
  double v = score * weight;
  return std::isnan(v) ? 0 : v;  // 0 * inf, as Redis
}

}  // namespace

OpResult<ZAddResult> OpZAdd(const OpArgs& op, std::string_view key, const ZAddOptions& opts,
                            std::span<const double> scores,
                            std::span<const std::string_view> members) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kZSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  ZAddResult r;
  if (*e == nullptr && opts.xx) return r;  // nothing to update, and nothing is created
  if (*e == nullptr) e = FindOrCreateCollection(op, k, ValueType::kZSet);
  ZSetObject* z = ZSetOf(*e);
  ZSetDelta d(ZSetDelta::kSet, &DeltaBody());
  bool nan = false;
  const bool plain = !(opts.nx || opts.xx || opts.gt || opts.lt || opts.incr);
  for (size_t j = 0; j < members.size(); j++) {
    std::string_view m = members[j];
    double score = scores[j];
    if (plain) {
      // No condition on the current score: set first, with one lookup of the member.
      std::optional<double> previous;
      if (z->SetScore(m, score, &d, &previous)) {
        r.added++;
      } else if (*previous != score) {
        r.updated++;
      } else {
        continue;
      }
      r.processed++;
      r.score = score;
      continue;
    }
    std::optional<double> cur = z->Score(m);
    if (cur.has_value()) {
      if (opts.nx) continue;
      if (opts.incr) {
        score += *cur;
        if (std::isnan(score)) {
          nan = true;
          break;
        }
      }
      if ((opts.lt && score >= *cur) || (opts.gt && score <= *cur)) continue;
      r.processed++;
      r.score = score;
      if (score != *cur) {
        z->SetScore(m, score, &d);
        r.updated++;
      }
    } else {
      if (opts.xx) continue;
      z->SetScore(m, score, &d);
      r.added++;
      r.processed++;
      r.score = score;
    }
  }
  if (d.count() > 0) {
    LogZSetDelta(op, k, *e, d);
  } else if (z->Size() == 0) {
    // Created for nothing (every pair skipped): an empty zset must not stay behind.
    op.ks.Delete(op.txn, op.db, k, op.now_ms);
  }
  if (nan) return OpStatus::kNanScore;
  return r;
}

OpResult<int64_t> OpZRem(const OpArgs& op, std::string_view key,
                         std::span<const std::string_view> members) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kZSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  ZSetObject* z = ZSetOf(*e);
  ZSetDelta d(ZSetDelta::kRemove, &DeltaBody());
  for (std::string_view m : members) z->RemoveMember(m, &d);
  if (d.count() > 0) LogZSetDelta(op, k, *e, d);
  return static_cast<int64_t>(d.count());
}

OpResult<const ZSetObject*> OpFindZSet(const OpArgs& op, std::string_view key) {
  OpResult<Entry*> e = FindCollection(op, KeyRef(key), ValueType::kZSet);
  if (!e.ok()) return e.status();
  return *e == nullptr ? nullptr : static_cast<const ZSetObject*>(ZSetOf(*e));
}

ZRankWindow ZWindow(const ZSetObject& z, const ZRangeSpec& s) {
  ZRankWindow w;
  w.reverse = s.dir == ZDirection::kReverse;
  const size_t n = z.Size();
  if (s.by == ZRangeBy::kRank || s.by == ZRangeBy::kAuto) {
    size_t a, b;
    if (!ClampRanks(s.start, s.end, n, &a, &b)) return w;
    w.count = b - a + 1;
    w.first = w.reverse ? n - 1 - a : a;  // reverse ranks count from the top
    return w;
  }
  size_t lo, hi;
  if (s.by == ZRangeBy::kScore) {
    lo = z.CountBelowMin(s.score);
    hi = z.CountUpToMax(s.score);
  } else {
    lo = z.CountBelowMin(s.lex);
    hi = z.CountUpToMax(s.lex);
  }
  if (hi <= lo || s.offset < 0) return w;  // a negative offset selects nothing, as Redis
  size_t avail = hi - lo;
  if (static_cast<uint64_t>(s.offset) >= avail) return w;
  avail -= static_cast<size_t>(s.offset);
  w.count = s.limit < 0 ? avail : std::min(avail, static_cast<size_t>(s.limit));
  w.first = w.reverse ? hi - 1 - static_cast<size_t>(s.offset) : lo + static_cast<size_t>(s.offset);
  return w;
}

OpResult<ZRange> OpZRange(const OpArgs& op, std::string_view key, const ZRangeSpec& s) {
  OpResult<const ZSetObject*> z = OpFindZSet(op, key);
  if (!z.ok()) return z.status();
  ZRange r;
  r.zset = *z;
  if (r.zset != nullptr) r.window = ZWindow(*r.zset, s);
  return r;
}

OpResult<ZStoreResult> OpZRangeStore(const OpArgs& op, std::string_view dst, std::string_view src,
                                     const ZRangeSpec& s) {
  OpResult<ZRange> r = OpZRange(op, src, s);
  if (!r.ok()) return r.status();
  auto out = std::make_unique<ZSetObject>();
  if (r->zset != nullptr) {
    const ZRankWindow& w = r->window;
    if (w.count > EncodingLimits::zset_max_listpack_entries()) out->ConvertToSkiplist();
    ZSetObject* o = out.get();
    r->zset->Visit(w.first, w.count, w.reverse,
                   [o](std::string_view m, double sc) { o->Set(m, sc); });
  }
  return OpZStore(op, dst, std::move(out));
}

OpResult<int64_t> OpZRemRange(const OpArgs& op, std::string_view key, const ZRangeSpec& s) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kZSet, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  ZSetObject* z = ZSetOf(*e);
  ZRankWindow w = ZWindow(*z, s);
  if (w.count == 0) return int64_t{0};
  // The members first (a visit may not change the set), then each removed and logged.
  std::vector<std::string> members;
  members.reserve(w.count);
  z->Visit(w.first, w.count, false,
           [&members](std::string_view m, double) { members.emplace_back(m); });
  ZSetDelta d(ZSetDelta::kRemove, &DeltaBody());
  for (const std::string& m : members) z->RemoveMember(m, &d);
  LogZSetDelta(op, k, *e, d);
  return static_cast<int64_t>(d.count());
}

OpResult<std::optional<ZPopResult>> OpZPop(const OpArgs& op, std::span<const std::string_view> keys,
                                           bool max, size_t count) {
  Entry* e = nullptr;
  size_t which = 0;
  for (; which < keys.size(); which++) {
    OpResult<Entry*> r = FindCollection(op, KeyRef(keys[which]), ValueType::kZSet, false);
    if (!r.ok()) return r.status();
    e = *r;
    if (e != nullptr) break;
  }
  if (e == nullptr) return std::optional<ZPopResult>();
  KeyRef k(keys[which]);
  ZSetObject* z = ZSetOf(e);
  ZPopResult out;
  out.key_index = which;
  const size_t n = std::min(count, z->Size());
  out.members.reserve(n);
  z->Visit(max ? z->Size() - 1 : 0, n, max,
           [&](std::string_view m, double s) { out.members.emplace_back(std::string(m), s); });
  ZSetDelta d(ZSetDelta::kRemove, &DeltaBody());
  for (const auto& [m, s] : out.members) z->RemoveMember(m, &d);
  LogZSetDelta(op, k, e, d);
  return std::optional<ZPopResult>(std::move(out));
}

OpResult<std::vector<ZSource>> OpZLoadSources(const OpArgs& op,
                                              std::span<const std::string_view> keys) {
  std::vector<ZSource> sources(keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    Entry* e = op.ks.FindForRead(op.txn, op.db, KeyRef(keys[i]), op.now_ms, op.touch);
    if (e == nullptr) continue;
    if (e->type() == ValueType::kZSet) {
      sources[i].zset = ZSetOf(e);
    } else if (e->type() == ValueType::kSet) {
      sources[i].set = static_cast<const SetObject*>(e->object());
    } else {
      return OpStatus::kWrongType;
    }
  }
  return sources;
}

std::unique_ptr<ZSetObject> ZComputeSetOp(ZSetOpKind kind, ZAggregate aggregate,
                                          std::vector<ZSource>& src) {
  auto out = std::make_unique<ZSetObject>();
  if (kind == ZSetOpKind::kDiff) {
    if (src[0].Size() == 0) return out;
    VisitSource(src[0], [&](std::string_view m, double s) {
      for (size_t i = 1; i < src.size(); i++) {
        if (SourceScore(src[i], m).has_value()) return;
      }
      out->Set(m, s);
    });
    return out;
  }
  std::stable_sort(src.begin(), src.end(),
                   [](const ZSource& x, const ZSource& y) { return x.Size() < y.Size(); });
  if (kind == ZSetOpKind::kInter) {
    if (src[0].Size() == 0) return out;
    VisitSource(src[0], [&](std::string_view m, double s) {
      double acc = Weighted(s, src[0].weight);
      for (size_t i = 1; i < src.size(); i++) {
        std::optional<double> o = SourceScore(src[i], m);
        if (!o.has_value()) return;
        AggregateInto(&acc, Weighted(*o, src[i].weight), aggregate);
      }
      out->Set(m, acc);
    });
    return out;
  }
  absl::flat_hash_map<std::string, double> acc;
  for (const ZSource& s : src) {
    VisitSource(s, [&](std::string_view m, double sc) {
      double v = Weighted(sc, s.weight);
      auto [it, fresh] = acc.try_emplace(std::string(m), v);
      if (!fresh) AggregateInto(&it->second, v, aggregate);
    });
  }
  if (acc.size() > EncodingLimits::zset_max_listpack_entries()) out->ConvertToSkiplist();
  for (const auto& [m, s] : acc) out->Set(m, s);
  return out;
}

int64_t ZInterCard(std::vector<ZSource>& src, int64_t limit) {
  std::stable_sort(src.begin(), src.end(),
                   [](const ZSource& x, const ZSource& y) { return x.Size() < y.Size(); });
  int64_t n = 0;
  if (src[0].Size() == 0) return 0;
  // Visits the smallest source to the end even after LIMIT is reached (a visit cannot be
  // stopped early); the checks against the other sources stop.
  VisitSource(src[0], [&](std::string_view m, double) {
    if (limit > 0 && n >= limit) return;
    for (size_t i = 1; i < src.size(); i++) {
      if (!SourceScore(src[i], m).has_value()) return;
    }
    n++;
  });
  return n;
}

OpResult<ZStoreResult> OpZStore(const OpArgs& op, std::string_view dst,
                                std::unique_ptr<ZSetObject> result) {
  KeyRef dk(dst);
  ZStoreResult out;
  out.size = static_cast<int64_t>(result->Size());
  if (out.size == 0) {
    out.changed = op.ks.Delete(op.txn, op.db, dk, op.now_ms);
  } else {
    op.ks.Put(op.txn, op.db, dk, Entry::NewObject(dk.key, result.release()));
    out.changed = true;
  }
  return out;
}

}  // namespace fdb
