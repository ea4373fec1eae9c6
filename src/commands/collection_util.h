// Shared helpers of the collection families (hash, list, set, zset).
//
// The life of a collection key, as Redis: a write to a missing key creates the collection, a
// command that removes the last element deletes the key, and no empty collection is ever
// visible. In FDB the creation is Keyspace::Create (not logged), every change is a
// Keyspace::Delta with the type's delta encoding, and the removal of the last element is
// Keyspace::Delete (logged as a delete).
#pragma once

#include "commands/context.h"
#include "commands/errors.h"
#include "engine/collections.h"

namespace fdb {

// The live entry of k if it holds a collection of type t; nullptr when missing. A key of
// another type replies WRONGTYPE and sets *wrongtype (the caller returns at once).
inline Entry* FindCollection(CommandContext& ctx, const KeyRef& k, ValueType t, bool* wrongtype,
                             bool for_read = true) {
  *wrongtype = false;
  Entry* e = for_read ? ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch())
                      : ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e != nullptr && e->type() != t) {
    *wrongtype = true;
    ctx.rb.Error(errors::kWrongType);
    return nullptr;
  }
  return e;
}

// The entry of k for a write that adds elements: the existing collection, or a new empty one
// of type t (REQUIRES: the caller then records at least one Delta, so it validates its
// arguments first). WRONGTYPE as FindCollection.
inline Entry* FindOrCreateCollection(CommandContext& ctx, const KeyRef& k, ValueType t,
                                     bool* wrongtype) {
  Entry* e = FindCollection(ctx, k, t, wrongtype, /*for_read=*/false);
  if (e != nullptr || *wrongtype) return e;
  return ctx.ks.Create(ctx.txn, ctx.db, k, Entry::NewObject(k.key, NewEmptyObject(t)));
}

// After elements were removed: deletes the key when its collection is empty (and then records
// no delta), else records `change`. Returns whether the key was deleted.
inline bool DeltaOrDeleteIfEmpty(CommandContext& ctx, const KeyRef& k, Entry* e,
                                 std::string_view change) {
  if (e->object()->Size() == 0) {
    ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);
    return true;
  }
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, change);
  return false;
}

}  // namespace fdb
