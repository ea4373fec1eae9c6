// Shared helpers of the collection families (hash, list, set, zset).
//
// The life of a collection key, as Redis: a write to a missing key creates the collection, a
// command that removes the last element deletes the key, and no empty collection is ever
// visible. In FDB the creation is Keyspace::Create (not logged), every change is a
// Keyspace::Delta with the type's delta encoding, and the removal of the last element is
// Keyspace::Delete (logged as a delete).
//
// These are the Op layer's (OpArgs in, OpStatus out; no reply): an Op (hash_ops.h, set_ops.h,
// list_ops.h, zset_ops.h) finds its collection with FindCollection / FindOrCreateCollection,
// changes it through one of the collection object's delta-returning mutators
// (HashObject::SetFields, SetObject::AddMembers, ListObject::Push, ZSetObject::SetScore, ...),
// and hands that delta to Keyspace::Delta (or DeltaOrDeleteIfEmpty) in the next statement, so a
// change and its logged effect cannot drift apart. The WRONGTYPE reply is the handler's
// (CommandContext::ReplyError(OpStatus::kWrongType)).
#pragma once

#include <string>

#include "commands/op_status.h"
#include "engine/collections.h"

namespace fdb {

// The live entry of k if it holds a collection of type t, nullptr (status kOk) when missing,
// kWrongType when it holds another type. `for_read` counts a keyspace hit or miss (reads).
inline OpResult<Entry*> FindCollection(const OpArgs& op, const KeyRef& k, ValueType t,
                                       bool for_read = true) {
  Entry* e = for_read ? op.ks.FindForRead(op.txn, op.db, k, op.now_ms, op.touch)
                      : op.ks.Find(op.txn, op.db, k, op.now_ms, op.touch);
  if (e != nullptr && e->type() != t) return OpStatus::kWrongType;
  return e;
}

// The collection of type t at k for a write that adds elements: the existing one, or a new
// empty one (REQUIRES: the caller then records at least one Delta, so it validates its
// arguments first). kWrongType as FindCollection.
inline OpResult<Entry*> FindOrCreateCollection(const OpArgs& op, const KeyRef& k, ValueType t) {
  OpResult<Entry*> r = FindCollection(op, k, t, /*for_read=*/false);
  if (!r.ok() || *r != nullptr) return r;
  return op.ks.Create(op.txn, op.db, k, Entry::NewObject(k.key, NewEmptyObject(t)));
}

// After elements were removed: deletes the key when its collection is empty (and then records
// no delta), else records `change`. Returns whether the key was deleted.
inline bool DeltaOrDeleteIfEmpty(const OpArgs& op, const KeyRef& k, Entry* e,
                                 std::string_view change) {
  if (e->object()->Size() == 0) {
    op.ks.Delete(op.txn, op.db, k, op.now_ms);
    return true;
  }
  op.ks.Delta(op.txn, op.db, k, e, change);
  return false;
}

// The buffer an Op's collection mutator writes its delta into: one per thread, reused, so a
// small write allocates nothing for its delta. Keyspace::Delta copies the change while the
// effect is captured, so the buffer is free again when Delta returns.
inline std::string& OpDeltaStorage() {
  thread_local std::string buf;
  return buf;
}
inline std::string& OpDeltaBuffer() {
  std::string& buf = OpDeltaStorage();
  buf.clear();
  return buf;
}
// Gives back this thread's buffer when a large delta grew it: the delta of one SADD of 100,000
// members would otherwise stay allocated (about 1 MB of used_memory) after the set is gone.
// The I/O threads call it after each batch of events, not per command; a delta that large
// costs its own allocation next to the work of writing it.
inline constexpr size_t kOpDeltaKeepBytes = 64u << 10;
inline void TrimOpDeltaBuffer() {
  std::string& buf = OpDeltaStorage();
  if (buf.capacity() > kOpDeltaKeepBytes) std::string().swap(buf);
}

}  // namespace fdb
