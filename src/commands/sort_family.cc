// SORT and SORT_RO (Redis 7 semantics): the elements of a list, set or sorted set, sorted as
// numbers or strings, optionally by the values of other keys (BY pattern), returned or replaced
// by other keys' values (GET pattern), limited, and stored as a list (STORE).
//
// BY and GET patterns name keys no argument lists, so a SORT that has one locks every shard
// (SortLocksAll, asked by the dispatcher before it locks); one without locks its key and STORE's
// destination, like any command.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/generic_ops.h"
#include "commands/list_ops.h"
#include "commands/string_ops.h"
#include "engine/hash_object.h"
#include "engine/list_object.h"
#include "engine/set_object.h"
#include "engine/zset_object.h"

namespace fdb {

namespace {

struct SortOptions {
  std::optional<std::string_view> by;  // BY pattern
  bool dont_sort = false;              // BY without '*': keep the collection's order
  std::vector<std::string_view> gets;  // GET patterns ("#": the element itself)
  int64_t offset = 0;
  int64_t count = -1;
  bool limit = false;
  bool desc = false;
  bool alpha = false;
  std::optional<std::string_view> store;
};

// Parses the options after the key. Returns an error text, or nullptr.
const char* ParseSortOptions(CmdArgs args, bool read_only, SortOptions* o) {
  for (size_t i = 2; i < args.size(); i++) {
    std::string_view a = args[i];
    size_t left = args.size() - i - 1;
    if (EqualsUpper(a, "ASC")) {
      o->desc = false;
    } else if (EqualsUpper(a, "DESC")) {
      o->desc = true;
    } else if (EqualsUpper(a, "ALPHA")) {
      o->alpha = true;
    } else if (EqualsUpper(a, "LIMIT") && left >= 2) {
      if (!ParseInt64(args[i + 1], &o->offset) || !ParseInt64(args[i + 2], &o->count)) {
        return errors::kNotInteger;
      }
      o->limit = true;
      i += 2;
    } else if (EqualsUpper(a, "STORE") && left >= 1 && !read_only) {
      o->store = args[++i];
    } else if (EqualsUpper(a, "BY") && left >= 1) {
      o->by = args[++i];
      // A pattern without '*' sorts nothing (Redis: "BY nosort").
      if (o->by->find('*') == std::string_view::npos) o->dont_sort = true;
    } else if (EqualsUpper(a, "GET") && left >= 1) {
      o->gets.push_back(args[++i]);
    } else {
      return errors::kSyntax;
    }
  }
  return nullptr;
}

bool HasKeyPattern(const SortOptions& o) {
  if (o.by && !o.dont_sort) return true;
  for (std::string_view g : o.gets) {
    if (g != "#") return true;
  }
  return false;
}

// Whether a SORT call names keys through BY or GET patterns (then it locks every shard).
bool SortLocksAll(CmdArgs args) {
  SortOptions o;
  if (args.size() < 2 || ParseSortOptions(args, false, &o) != nullptr) return false;
  return HasKeyPattern(o);
}

// The value a pattern names for `elem`: the pattern with its first '*' replaced by elem; with
// "->field" after the '*', that field of the hash at that key. nullopt when the key or field is
// missing, or the key holds another type.
std::optional<std::string> LookupPattern(CommandContext& ctx, std::string_view pattern,
                                         std::string_view elem) {
  if (pattern == "#") return std::string(elem);
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  size_t arrow = pattern.find("->", star + 1);
  std::string_view field;
  std::string_view key_pattern = pattern;
  if (arrow != std::string_view::npos && arrow + 2 < pattern.size()) {
    field = pattern.substr(arrow + 2);
    key_pattern = pattern.substr(0, arrow);
  }
  std::string key;
  key.reserve(key_pattern.size() + elem.size());
  key.append(key_pattern.substr(0, star)).append(elem).append(key_pattern.substr(star + 1));
  KeyRef k(key);
  const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, /*touch=*/false);
  if (e == nullptr) return std::nullopt;
  if (!field.empty()) {
    if (e->type() != ValueType::kHash) return std::nullopt;
    std::string_view v;
    if (!static_cast<const HashObject*>(e->object())->Get(field, &v)) return std::nullopt;
    return std::string(v);
  }
  if (e->type() != ValueType::kString) return std::nullopt;
  std::string scratch;
  return std::string(e->StringValue(&scratch));
}

struct Item {
  std::string elem;
  std::optional<std::string> by;  // the BY value (alpha)
  double score = 0;               // numeric sort
};

// The elements of the collection at `e`, in its own order.
void CollectElements(const Entry* e, std::vector<Item>* out) {
  const ValueObject* obj = e->object();
  out->reserve(obj->Size());
  switch (e->type()) {
    case ValueType::kList: {
      auto* l = static_cast<const ListObject*>(obj);
      l->ForRange(0, l->Size(), false, [&](const ListObject::Elem& el) {
        out->push_back({el.ToString(), std::nullopt, 0});
        return true;
      });
      break;
    }
    case ValueType::kSet:
      static_cast<const SetObject*>(obj)->ForEach([&](std::string_view m) {
        out->push_back({std::string(m), std::nullopt, 0});
      });
      break;
    case ValueType::kZSet:
      static_cast<const ZSetObject*>(obj)->VisitAll([&](std::string_view m, double) {
        out->push_back({std::string(m), std::nullopt, 0});
      });
      break;
    default:
      break;
  }
}

void SortGeneric(CmdArgs args, CommandContext& ctx, bool read_only) {
  SortOptions o;
  if (const char* err = ParseSortOptions(args, read_only, &o)) return ctx.rb.Error(err);
  // BY and GET patterns reach keys the ACL check did not see: as Redis, only a user who may
  // read every key may use them.
  if ((o.by && !o.dont_sort) || !o.gets.empty()) {
    if (!ctx.server.acl().CanReadAllKeys(ctx.client)) {
      return ctx.rb.Error(o.by && !o.dont_sort
                              ? "ERR BY option of SORT denied due to insufficient ACL permissions."
                              : "ERR GET option of SORT denied due to insufficient ACL "
                                "permissions.");
    }
  }
  KeyRef k(args[1]);
  const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e != nullptr && e->type() != ValueType::kList && e->type() != ValueType::kSet &&
      e->type() != ValueType::kZSet) {
    return ctx.ReplyError(OpStatus::kWrongType);
  }
  std::vector<Item> items;
  if (e != nullptr) CollectElements(e, &items);
  // A set has no order of its own: where the result must be the same every time (stored, or
  // seen by a script), it is sorted as strings instead of "not at all", as Redis does.
  if (o.dont_sort && e != nullptr && e->type() == ValueType::kSet &&
      (o.store || ctx.client.script)) {
    o.dont_sort = false;
    o.alpha = true;
    o.by.reset();
  }
  if (!o.dont_sort) {
    for (Item& it : items) {
      std::optional<std::string> byval;
      if (o.by) {
        byval = LookupPattern(ctx, *o.by, it.elem);
      }
      if (o.alpha) {
        if (o.by) it.by = std::move(byval);
      } else {
        std::string_view v = o.by ? (byval ? std::string_view(*byval) : std::string_view())
                                  : std::string_view(it.elem);
        if (o.by && !byval) {
          it.score = 0;
        } else if (!ParseScore(v, &it.score) || std::isnan(it.score)) {
          return ctx.rb.Error("ERR One or more scores can't be converted into double");
        }
      }
    }
    auto cmp = [&](const Item& a, const Item& b) {
      int c = 0;
      if (!o.alpha) {
        c = a.score < b.score ? -1 : a.score > b.score ? 1 : a.elem.compare(b.elem);
      } else if (o.by) {
        // Missing BY values sort first.
        if (!a.by || !b.by) {
          c = a.by ? 1 : b.by ? -1 : 0;
        } else {
          c = a.by->compare(*b.by);
        }
      } else {
        c = a.elem.compare(b.elem);
      }
      return o.desc ? c > 0 : c < 0;
    };
    std::stable_sort(items.begin(), items.end(), cmp);
  } else if (o.desc && e != nullptr && e->type() != ValueType::kSet) {
    // Not sorted, but DESC still reverses a list's or sorted set's own order (Redis).
    std::reverse(items.begin(), items.end());
  }
  // LIMIT, clamped as Redis's sortCommandGeneric.
  int64_t n = static_cast<int64_t>(items.size());
  int64_t start = 0, end = n - 1;
  if (o.limit) {
    start = o.offset < 0 ? 0 : o.offset;
    end = o.count < 0 ? n - 1 : start + o.count - 1;
    if (start >= n) {
      start = n - 1;
      end = n - 2;
    }
    if (end >= n) end = n - 1;
  }
  size_t first = static_cast<size_t>(std::max<int64_t>(start, 0));
  size_t count = end >= start ? static_cast<size_t>(end - start + 1) : 0;
  if (first + count > items.size()) count = items.size() > first ? items.size() - first : 0;

  if (!o.store) {
    size_t per = o.gets.empty() ? 1 : o.gets.size();
    ctx.rb.ArrayHeader(count * per);
    for (size_t i = first; i < first + count; i++) {
      if (o.gets.empty()) {
        ctx.rb.Bulk(items[i].elem);
        continue;
      }
      for (std::string_view g : o.gets) {
        std::optional<std::string> v = LookupPattern(ctx, g, items[i].elem);
        if (v) {
          ctx.rb.Bulk(*v);
        } else {
          ctx.rb.NullBulk();
        }
      }
    }
    return;
  }
  std::vector<std::string> out;
  for (size_t i = first; i < first + count; i++) {
    if (o.gets.empty()) {
      out.push_back(std::move(items[i].elem));
      continue;
    }
    for (std::string_view g : o.gets) {
      std::optional<std::string> v = LookupPattern(ctx, g, items[i].elem);
      out.push_back(v ? std::move(*v) : std::string());  // a missing value is stored empty
    }
  }
  // The destination is replaced by the result, or deleted when the result is empty.
  std::string_view dest = *o.store;
  OpArgs op = ctx.op();
  std::string_view dest_arr[] = {dest};
  int64_t deleted = OpDel(op, dest_arr);
  if (!out.empty()) {
    std::vector<std::string_view> views(out.begin(), out.end());
    OpResult<int64_t> pushed = OpPush(op, dest, /*front=*/false, views);
    if (!pushed.ok()) return ctx.ReplyError(pushed.status());
  }
  if (!out.empty() || deleted > 0) ctx.Dirty();
  ctx.rb.Integer(static_cast<int64_t>(out.size()));
}

void CmdSort(CmdArgs args, CommandContext& ctx) { SortGeneric(args, ctx, false); }
void CmdSortRo(CmdArgs args, CommandContext& ctx) { SortGeneric(args, ctx, true); }

// SORT's keys: the sorted key and STORE's destination, the last one when there are several
// (BY and GET name others, not listed).
void SortKeys(CmdArgs args, std::vector<size_t>* out) {
  out->clear();
  if (args.size() < 2) return;
  out->push_back(1);
  size_t store = 0;
  for (size_t i = 2; i + 1 < args.size(); i++) {
    if (EqualsUpper(args[i], "STORE")) {
      store = i + 1;
      i++;
    } else if (EqualsUpper(args[i], "LIMIT")) {
      i += 2;
    } else if (EqualsUpper(args[i], "BY") || EqualsUpper(args[i], "GET")) {
      i++;
    }
  }
  if (store > 0) out->push_back(store);
}

}  // namespace

// clang-format off
void RegisterSortFamily(CommandRegistry& r) {
  using namespace cmdflags;
  CommandSpec sort{"sort", -2, kWrite | kDenyOom, 1, 1, 1, CmdSort, "generic", "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", "1.0.0"};
  sort.keys = SortKeys;
  sort.lock_all = SortLocksAll;
  r.Register(std::move(sort));
  CommandSpec sort_ro{"sort_ro", -2, kReadOnly, 1, 1, 1, CmdSortRo, "generic", "Returns the sorted elements of a list, a set, or a sorted set.", "7.0.0"};
  sort_ro.keys = SortKeys;
  sort_ro.lock_all = SortLocksAll;
  r.Register(std::move(sort_ro));
}
// clang-format on

}  // namespace fdb
