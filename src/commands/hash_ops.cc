#include "commands/hash_ops.h"

#include <cmath>

#include "base/numbers.h"
#include "commands/collection_util.h"
#include "commands/string_ops.h"

namespace fdb {

namespace {

HashObject* AsHash(Entry* e) { return static_cast<HashObject*>(e->object()); }

// Sets one field of the hash at k (created when e is nullptr) and logs it.
void SetOneField(const OpArgs& op, const KeyRef& k, Entry* e, std::string_view field,
                 std::string_view value) {
  if (e == nullptr) e = op.ks.Create(op.txn, op.db, k, Entry::NewObject(k.key, NewHashObject()));
  const std::string_view fv[2] = {field, value};
  std::string& delta = OpDeltaBuffer();
  AsHash(e)->SetFields(fv, &delta);
  op.ks.Delta(op.txn, op.db, k, e, delta);
}

}  // namespace

OpResult<int64_t> OpHSet(const OpArgs& op, std::string_view key,
                         std::span<const std::string_view> fv) {
  KeyRef k(key);
  OpResult<Entry*> e = FindOrCreateCollection(op, k, ValueType::kHash);
  if (!e.ok()) return e.status();
  std::string& delta = OpDeltaBuffer();
  size_t added = AsHash(*e)->SetFields(fv, &delta);
  op.ks.Delta(op.txn, op.db, k, *e, delta);
  return static_cast<int64_t>(added);
}

OpResult<bool> OpHSetNx(const OpArgs& op, std::string_view key, std::string_view field,
                        std::string_view value) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kHash, /*for_read=*/false);
  if (!e.ok()) return e.status();
  std::string_view old;
  if (*e != nullptr && AsHash(*e)->Get(field, &old)) return false;
  SetOneField(op, k, *e, field, value);
  return true;
}

OpResult<int64_t> OpHDel(const OpArgs& op, std::string_view key,
                         std::span<const std::string_view> fields) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kHash, /*for_read=*/false);
  if (!e.ok()) return e.status();
  if (*e == nullptr) return int64_t{0};
  std::string& delta = OpDeltaBuffer();
  size_t deleted = AsHash(*e)->DeleteFields(fields, &delta);
  if (deleted > 0) DeltaOrDeleteIfEmpty(op, k, *e, delta);
  return static_cast<int64_t>(deleted);
}

OpResult<int64_t> OpHIncrBy(const OpArgs& op, std::string_view key, std::string_view field,
                            int64_t incr) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kHash, /*for_read=*/false);
  if (!e.ok()) return e.status();
  int64_t v = 0;
  std::string_view cur;
  if (*e != nullptr && AsHash(*e)->Get(field, &cur) && !ParseInt64(cur, &v)) {
    return OpStatus::kHashNotInteger;
  }
  int64_t result;
  if (__builtin_add_overflow(v, incr, &result)) return OpStatus::kOverflow;
  SetOneField(op, k, *e, field, FormatInt64(result));
  return result;
}

OpResult<std::string> OpHIncrByFloat(const OpArgs& op, std::string_view key, std::string_view field,
                                     long double incr) {
  KeyRef k(key);
  OpResult<Entry*> e = FindCollection(op, k, ValueType::kHash, /*for_read=*/false);
  if (!e.ok()) return e.status();
  long double v = 0;
  std::string_view cur;
  if (*e != nullptr && AsHash(*e)->Get(field, &cur) && !ParseLongDouble(cur, &v)) {
    return OpStatus::kHashNotFloat;
  }
  v += incr;
  if (std::isnan(v) || std::isinf(v)) return OpStatus::kNanOrInf;
  std::string text(kLongDoubleChars, '\0');
  text.resize(FormatLongDoubleHuman(v, text.data()));
  SetOneField(op, k, *e, field, text);  // the resulting value is logged, not the increment
  return text;
}

OpResult<const HashObject*> OpFindHash(const OpArgs& op, std::string_view key) {
  OpResult<Entry*> e = FindCollection(op, KeyRef(key), ValueType::kHash);
  if (!e.ok()) return e.status();
  return *e == nullptr ? nullptr : static_cast<const HashObject*>(AsHash(*e));
}

OpResult<std::optional<std::string_view>> OpHGet(const OpArgs& op, std::string_view key,
                                                 std::string_view field) {
  OpResult<const HashObject*> h = OpFindHash(op, key);
  if (!h.ok()) return h.status();
  std::string_view v;
  if (*h == nullptr || !(*h)->Get(field, &v)) return std::optional<std::string_view>();
  return std::optional<std::string_view>(v);
}

OpResult<int64_t> OpHLen(const OpArgs& op, std::string_view key) {
  OpResult<const HashObject*> h = OpFindHash(op, key);
  if (!h.ok()) return h.status();
  return *h == nullptr ? int64_t{0} : static_cast<int64_t>((*h)->Size());
}

}  // namespace fdb
