// Streams: XADD, XRANGE, XREAD, consumer groups and the rest of Redis 7.0's STREAM group, with
// Redis's replies and error texts.
//
// Model. The value is a StreamObject (engine/stream_object.h). Unlike the other collections an
// empty stream is a key like any other (XADD ... MAXLEN 0, XGROUP CREATE ... MKSTREAM, XDEL of
// the last entry leave one, as in Redis), so no command here deletes the key it empties.
// Handlers parse their arguments, find the stream, change it through StreamObject's mutators
// (each appends the sub-record of its change to the command's delta) and log that delta with
// one Keyspace::Delta per keyspace event (XADD's append and its trim are two, named "xadd" and
// "xtrim", as Redis notifies them).
//
// Blocking. XREAD and XREADGROUP with BLOCK wait in the list commands' registry
// (commands/blocking.h). The registry learns of a key that was created; a stream also wakes its
// waiters when it grows, so XADD on an existing stream marks its key ready itself, and so does
// XGROUP DESTROY (a waiter of a destroyed group gets NOGROUP). A waiter's serve callback is the
// non-blocking read on the key that became ready, and keeps its place when there is nothing new.
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "base/numbers.h"
#include "commands/blocking.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/help.h"
#include "commands/notify.h"
#include "commands/registry.h"
#include "commands/server_context.h"
#include "engine/stream_object.h"
#include "server/config.h"

namespace fdb {

namespace {

constexpr const char* kInvalidId = "ERR Invalid stream ID specified as stream command argument";
constexpr const char* kXAddZeroId = "ERR The ID specified in XADD must be greater than 0-0";
constexpr const char* kXAddSmaller =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
constexpr const char* kExhausted =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
constexpr const char* kXGroupNoKey =
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
    "use the MKSTREAM option to create an empty stream automatically.";
constexpr const char* kBusyGroup = "BUSYGROUP Consumer Group name already exists";
constexpr const char* kTimeoutNotInt = "ERR timeout is not an integer or out of range";
constexpr const char* kTimeoutNegative = "ERR timeout is negative";
constexpr const char* kNoGroupBlocked =
    "NOGROUP the consumer group this client was blocked on no longer exists";
constexpr const char* kKeyGoneBlocked = "UNBLOCKED the stream key no longer exists";

using Stream = StreamObject;

// --- IDs ---

bool ParseU64Digits(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (r > (UINT64_MAX - d) / 10) return false;
    r = r * 10 + d;
  }
  *v = r;
  return true;
}

// An ID argument: "<ms>-<seq>" or "<ms>" (seq = missing_seq); "-" and "+" when !strict; and
// "<ms>-*" when seq_given is not null (*seq_given = false then).
bool ParseId(std::string_view arg, uint64_t missing_seq, bool strict, StreamId* id,
             bool* seq_given = nullptr) {
  if (seq_given != nullptr) *seq_given = true;
  if (arg.size() > 127) return false;
  if (!strict && arg == "-") {
    *id = StreamId{0, 0};
    return true;
  }
  if (!strict && arg == "+") {
    *id = StreamId::Max();
    return true;
  }
  size_t dash = arg.find('-');
  if (dash == std::string_view::npos) {
    if (!ParseU64Digits(arg, &id->ms)) return false;
    id->seq = missing_seq;
    return true;
  }
  if (!ParseU64Digits(arg.substr(0, dash), &id->ms)) return false;
  std::string_view seq = arg.substr(dash + 1);
  if (seq_given != nullptr && seq == "*") {
    id->seq = 0;
    *seq_given = false;
    return true;
  }
  return ParseU64Digits(seq, &id->seq);
}

// A range bound of XRANGE / XPENDING: an ID, "-", "+", or "(" and an ID for an exclusive bound.
bool ParseRangeBound(CommandContext& ctx, std::string_view arg, bool start, StreamId* id) {
  uint64_t missing = start ? 0 : UINT64_MAX;
  if (arg.size() > 1 && arg[0] == '(') {
    if (!ParseId(arg.substr(1), missing, true, id)) {
      ctx.rb.Error(kInvalidId);
      return false;
    }
    if (start ? !id->Incr() : !id->Decr()) {
      ctx.rb.Error(start ? "ERR invalid start ID for the interval"
                         : "ERR invalid end ID for the interval");
      return false;
    }
    return true;
  }
  if (!ParseId(arg, missing, false, id)) {
    ctx.rb.Error(kInvalidId);
    return false;
  }
  return true;
}

void ReplyId(ReplyBuilder& rb, StreamId id) { rb.Bulk(id.ToString()); }

void ReplyEntry(ReplyBuilder& rb, StreamId id, Stream::FieldValues fv) {
  rb.ArrayHeader(2);
  ReplyId(rb, id);
  rb.ArrayHeader(fv.size());
  for (std::string_view s : fv) rb.Bulk(s);
}

struct EntryCopy {
  StreamId id;
  std::vector<std::string_view> fv;  // views into the stream, valid under the shard lock
  bool missing = false;              // a PEL entry whose stream entry is gone
};

void ReplyEntries(ReplyBuilder& rb, const std::vector<EntryCopy>& v) {
  rb.ArrayHeader(v.size());
  for (const EntryCopy& e : v) {
    if (e.missing) {
      rb.ArrayHeader(2);
      ReplyId(rb, e.id);
      rb.NullArray();
    } else {
      ReplyEntry(rb, e.id, Stream::FieldValues(e.fv));
    }
  }
}

// Entries in [start, end], at most count (0: all).
std::vector<EntryCopy> CollectRange(const Stream& s, StreamId start, StreamId end, bool rev,
                                    uint64_t count) {
  std::vector<EntryCopy> out;
  s.Range(start, end, rev, [&](StreamId id, Stream::FieldValues fv) {
    out.push_back({id, std::vector<std::string_view>(fv.begin(), fv.end())});
    return count == 0 || out.size() < count;
  });
  return out;
}

// --- Finding the stream ---

// The stream at key: false after a WRONGTYPE reply; *e nullptr when missing.
bool FindStream(CommandContext& ctx, std::string_view key, Entry** e, bool for_read) {
  OpArgs op = ctx.op();
  OpResult<Entry*> r = FindCollection(op, KeyRef(key), ValueType::kStream, for_read);
  if (!r.ok()) {
    ctx.ReplyError(r.status());
    return false;
  }
  *e = *r;
  return true;
}

Stream* AsStream(Entry* e) { return static_cast<Stream*>(e->object()); }

// Logs `delta` (if any) as one change of the stream named by `event`.
void LogDelta(CommandContext& ctx, std::string_view key, Entry* e, std::string& delta,
              const char* event) {
  if (delta.empty()) return;
  ctx.txn.set_event(notify::kStream, event);
  ctx.ks.Delta(ctx.txn, ctx.db, KeyRef(key), e, delta);
  delta.clear();
}

// Wakes the key's blocked XREAD / XREADGROUP clients (the registry only hears of creations).
void WakeWaiters(CommandContext& ctx, std::string_view key) {
  ctx.server.blocking().KeyCreated(ctx.txn, ctx.db, key);
}

std::string NoGroupError(std::string_view key, std::string_view group) {
  return "NOGROUP No such key '" + std::string(key) + "' or consumer group '" + std::string(group) +
         "'";
}
std::string NoGroupForKeyError(std::string_view key, std::string_view group) {
  return "NOGROUP No such consumer group '" + std::string(group) + "' for key name '" +
         std::string(key) + "'";
}

size_t NodeMaxBytes(CommandContext& ctx) {
  return static_cast<size_t>(ctx.server.config().stream_node_max_bytes());
}
size_t NodeMaxEntries(CommandContext& ctx) {
  return static_cast<size_t>(ctx.server.config().stream_node_max_entries());
}

// --- Trimming (XADD's and XTRIM's options) ---

struct TrimArgs {
  enum Strategy { kNone, kMaxLen, kMinId } strategy = kNone;
  bool approx = false;
  int64_t maxlen = 0;
  StreamId minid;
  int64_t limit = 0;
  // XADD only.
  bool nomkstream = false;
  bool id_given = false;
  bool seq_given = true;
  StreamId id;
};

// Parses from args[2]; returns the index of XADD's ID argument (XTRIM: args.size()), or -1
// after an error reply.
int64_t ParseTrimArgs(CmdArgs args, CommandContext& ctx, bool xadd, TrimArgs* t) {
  bool limit_given = false;
  size_t i = 2;
  for (; i < args.size(); i++) {
    size_t more = args.size() - 1 - i;
    std::string_view opt = args[i];
    if (xadd && opt == "*") break;
    if ((EqualsUpper(opt, "MAXLEN") || EqualsUpper(opt, "MINID")) && more > 0) {
      bool maxlen = EqualsUpper(opt, "MAXLEN");
      if (t->strategy != TrimArgs::kNone) {
        ctx.rb.Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not "
            "compatible");
        return -1;
      }
      t->approx = false;
      std::string_view next = args[i + 1];
      if (more >= 2 && next == "~") {
        t->approx = true;
        i++;
      } else if (more >= 2 && next == "=") {
        i++;
      }
      if (maxlen) {
        if (!ParseInt64(args[i + 1], &t->maxlen)) {
          ctx.rb.Error(errors::kNotInteger);
          return -1;
        }
        if (t->maxlen < 0) {
          ctx.rb.Error("ERR The MAXLEN argument must be >= 0.");
          return -1;
        }
        t->strategy = TrimArgs::kMaxLen;
      } else {
        if (!ParseId(args[i + 1], 0, true, &t->minid)) {
          ctx.rb.Error(kInvalidId);
          return -1;
        }
        t->strategy = TrimArgs::kMinId;
      }
      i++;
    } else if (EqualsUpper(opt, "LIMIT") && more > 0) {
      if (!ParseInt64(args[i + 1], &t->limit)) {
        ctx.rb.Error(errors::kNotInteger);
        return -1;
      }
      if (t->limit < 0) {
        ctx.rb.Error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      i++;
    } else if (xadd && EqualsUpper(opt, "NOMKSTREAM")) {
      t->nomkstream = true;
    } else if (xadd) {
      if (!ParseId(opt, 0, true, &t->id, &t->seq_given)) {
        ctx.rb.Error(kInvalidId);
        return -1;
      }
      t->id_given = true;
      break;
    } else {
      ctx.rb.Error(errors::kSyntax);
      return -1;
    }
  }
  if (t->limit != 0 && t->strategy == TrimArgs::kNone) {
    ctx.rb.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && t->strategy == TrimArgs::kNone) {
    ctx.rb.Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!t->approx) {
      ctx.rb.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (t->approx) {
    int64_t per_node = static_cast<int64_t>(NodeMaxEntries(ctx));
    t->limit = 100 * per_node;
    if (t->limit <= 0 || t->limit > 1000000) t->limit = 10000;
  } else {
    t->limit = 0;
  }
  return static_cast<int64_t>(i);
}

uint64_t ApplyTrim(Stream* s, const TrimArgs& t, std::string* delta) {
  Stream::TrimPlan plan = t.strategy == TrimArgs::kMaxLen
                              ? s->PlanTrimMaxLen(static_cast<uint64_t>(t.maxlen), t.approx,
                                                  static_cast<uint64_t>(t.limit))
                              : s->PlanTrimMinId(t.minid, t.approx, static_cast<uint64_t>(t.limit));
  if (plan.removed == 0) return 0;
  return s->TrimThrough(plan.boundary, delta);
}

// --- XADD, XTRIM, XDEL, XLEN, XSETID ---

void CmdXAdd(CmdArgs args, CommandContext& ctx) {
  TrimArgs t;
  int64_t idpos = ParseTrimArgs(args, ctx, true, &t);
  if (idpos < 0) return;
  size_t field_pos = static_cast<size_t>(idpos) + 1;
  if (field_pos > args.size() || (args.size() - field_pos) < 2 ||
      (args.size() - field_pos) % 2 == 1) {
    return ctx.rb.Error(WrongArityError(ctx.spec.name));
  }
  if (t.id_given && t.seq_given && t.id.IsZero()) return ctx.rb.Error(kXAddZeroId);
  std::string_view key = args[1];
  Entry* e;
  if (!FindStream(ctx, key, &e, false)) return;
  bool existed = e != nullptr;
  if (e == nullptr) {
    if (t.nomkstream) return ctx.rb.NullBulk();
    OpArgs op = ctx.op();
    OpResult<Entry*> c = FindOrCreateCollection(op, KeyRef(key), ValueType::kStream);
    if (!c.ok()) return ctx.ReplyError(c.status());
    e = *c;
  }
  Stream* s = AsStream(e);
  StreamId last = s->last_id();
  if (last == StreamId::Max()) return ctx.rb.Error(kExhausted);
  StreamId id;
  if (!t.id_given) {
    uint64_t now = static_cast<uint64_t>(ctx.now_ms);
    id = now > last.ms ? StreamId{now, 0} : StreamId{last.ms, last.seq + 1};
    if (now <= last.ms && last.seq == UINT64_MAX) id = StreamId{last.ms + 1, 0};
  } else if (!t.seq_given) {
    if (t.id.ms == last.ms) {
      if (last.seq == UINT64_MAX) return ctx.rb.Error(kXAddSmaller);
      id = StreamId{last.ms, last.seq + 1};
    } else {
      id = StreamId{t.id.ms, 0};
    }
    if (id <= last) return ctx.rb.Error(kXAddSmaller);
  } else {
    id = t.id;
    if (id <= last) return ctx.rb.Error(kXAddSmaller);
  }
  std::string& delta = OpDeltaBuffer();
  s->Append(id, args.subspan(field_pos), NodeMaxBytes(ctx), NodeMaxEntries(ctx), &delta);
  LogDelta(ctx, key, e, delta, "xadd");
  ctx.Dirty();
  if (t.strategy != TrimArgs::kNone) {
    if (ApplyTrim(s, t, &delta) > 0) LogDelta(ctx, key, e, delta, "xtrim");
  }
  if (existed) WakeWaiters(ctx, key);
  ReplyId(ctx.rb, id);
}

void CmdXTrim(CmdArgs args, CommandContext& ctx) {
  TrimArgs t;
  if (ParseTrimArgs(args, ctx, false, &t) < 0) return;
  Entry* e;
  if (!FindStream(ctx, args[1], &e, false)) return;
  if (e == nullptr) return ctx.rb.Integer(0);
  std::string& delta = OpDeltaBuffer();
  uint64_t n = ApplyTrim(AsStream(e), t, &delta);
  if (n > 0) {
    LogDelta(ctx, args[1], e, delta, "xtrim");
    ctx.Dirty(n);
  }
  ctx.rb.Integer(static_cast<int64_t>(n));
}

void CmdXDel(CmdArgs args, CommandContext& ctx) {
  std::vector<StreamId> ids(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    if (!ParseId(args[i], 0, true, &ids[i - 2])) return ctx.rb.Error(kInvalidId);
  }
  Entry* e;
  if (!FindStream(ctx, args[1], &e, false)) return;
  if (e == nullptr) return ctx.rb.Integer(0);
  std::string& delta = OpDeltaBuffer();
  int64_t n = 0;
  for (StreamId id : ids) n += AsStream(e)->Delete(id, &delta) ? 1 : 0;
  if (n > 0) {
    LogDelta(ctx, args[1], e, delta, "xdel");
    ctx.Dirty(static_cast<uint64_t>(n));
  }
  ctx.rb.Integer(n);
}

void CmdXLen(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  if (!FindStream(ctx, args[1], &e, true)) return;
  ctx.rb.Integer(e == nullptr ? 0 : static_cast<int64_t>(AsStream(e)->length()));
}

void CmdXSetId(CmdArgs args, CommandContext& ctx) {
  StreamId id, max_xdel;
  int64_t entries_added = -1;
  if (!ParseId(args[2], 0, true, &id)) return ctx.rb.Error(kInvalidId);
  size_t i = 3;
  while (i < args.size()) {
    if (i + 1 >= args.size()) return ctx.rb.Error(errors::kSyntax);
    if (EqualsUpper(args[i], "ENTRIESADDED")) {
      if (!ParseInt64(args[i + 1], &entries_added)) return ctx.rb.Error(errors::kNotInteger);
      if (entries_added < 0) return ctx.rb.Error("ERR entries_added must be positive");
    } else if (EqualsUpper(args[i], "MAXDELETEDID")) {
      if (!ParseId(args[i + 1], 0, true, &max_xdel)) return ctx.rb.Error(kInvalidId);
      if (id < max_xdel) {
        return ctx.rb.Error(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
    i += 2;
  }
  Entry* e;
  if (!FindStream(ctx, args[1], &e, false)) return;
  if (e == nullptr) return ctx.rb.Error(errors::kNoSuchKey);
  Stream* s = AsStream(e);
  if (s->length() > 0) {
    if (id < s->LastEntryId()) {
      return ctx.rb.Error(
          "ERR The ID specified in XSETID is smaller than the target stream top "
          "item");
    }
    if (entries_added != -1 && static_cast<int64_t>(s->length()) > entries_added) {
      return ctx.rb.Error(
          "ERR The entries_added specified in XSETID is smaller than the target "
          "stream length");
    }
  }
  std::string& delta = OpDeltaBuffer();
  s->SetMeta(id, max_xdel.IsZero() ? s->max_deleted_id() : max_xdel,
             entries_added != -1 ? static_cast<uint64_t>(entries_added) : s->entries_added(),
             &delta);
  LogDelta(ctx, args[1], e, delta, "xsetid");
  ctx.Dirty();
  ctx.rb.Ok();
}

// --- XRANGE / XREVRANGE ---

void RangeGeneric(CmdArgs args, CommandContext& ctx, bool rev) {
  StreamId start, end;
  std::string_view a = rev ? args[3] : args[2], b = rev ? args[2] : args[3];
  if (!ParseRangeBound(ctx, a, true, &start) || !ParseRangeBound(ctx, b, false, &end)) return;
  int64_t count = -1;
  for (size_t i = 4; i < args.size(); i++) {
    if (EqualsUpper(args[i], "COUNT") && i + 1 < args.size()) {
      if (!ParseInt64(args[i + 1], &count)) return ctx.rb.Error(errors::kNotInteger);
      if (count < 0) count = 0;
      i++;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  Entry* e;
  if (!FindStream(ctx, args[1], &e, true)) return;
  if (e == nullptr) return ctx.rb.ArrayHeader(0);
  if (count == 0) return ctx.rb.NullArray();
  ReplyEntries(ctx.rb, CollectRange(*AsStream(e), start, end, rev,
                                    count < 0 ? 0 : static_cast<uint64_t>(count)));
}

void CmdXRange(CmdArgs args, CommandContext& ctx) { RangeGeneric(args, ctx, false); }
void CmdXRevRange(CmdArgs args, CommandContext& ctx) { RangeGeneric(args, ctx, true); }

// --- XREAD / XREADGROUP ---

struct ReadArgs {
  int64_t count = 0;
  bool block = false;
  int64_t block_ms = 0;
  bool noack = false;
  std::string_view group, consumer;
  size_t streams_at = 0;  // index of the first key
  size_t nkeys = 0;
};

bool ParseReadArgs(CmdArgs args, CommandContext& ctx, bool group, ReadArgs* r) {
  size_t i = 1;
  for (; i < args.size(); i++) {
    size_t more = args.size() - 1 - i;
    std::string_view o = args[i];
    if (EqualsUpper(o, "BLOCK") && more > 0) {
      i++;
      if (!ParseInt64(args[i], &r->block_ms)) {
        ctx.rb.Error(kTimeoutNotInt);
        return false;
      }
      if (r->block_ms < 0) {
        ctx.rb.Error(kTimeoutNegative);
        return false;
      }
      r->block = true;
      // A script cannot wait (Redis 7.0's text); without BLOCK the read is allowed.
      if (ctx.client.script) {
        ctx.rb.Error(std::string("ERR ") + (group ? "xreadgroup" : "xread") +
                     " command is not allowed with BLOCK option from scripts");
        return false;
      }
    } else if (EqualsUpper(o, "COUNT") && more > 0) {
      i++;
      if (!ParseInt64(args[i], &r->count)) {
        ctx.rb.Error(errors::kNotInteger);
        return false;
      }
      if (r->count < 0) r->count = 0;
    } else if (EqualsUpper(o, "STREAMS") && more > 0) {
      r->streams_at = i + 1;
      size_t n = args.size() - r->streams_at;
      if (n % 2 != 0) {
        ctx.rb.Error(std::string("ERR Unbalanced ") + (group ? "XREADGROUP" : "XREAD") +
                     " list of streams: for each stream key an ID or '$' must be specified.");
        return false;
      }
      r->nkeys = n / 2;
      break;
    } else if (EqualsUpper(o, "GROUP") && more >= 2) {
      if (!group) {
        ctx.rb.Error(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
            "instead.");
        return false;
      }
      r->group = args[i + 1];
      r->consumer = args[i + 2];
      i += 2;
    } else if (EqualsUpper(o, "NOACK")) {
      if (!group) {
        ctx.rb.Error(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
            "instead.");
        return false;
      }
      r->noack = true;
    } else {
      ctx.rb.Error(errors::kSyntax);
      return false;
    }
  }
  if (r->streams_at == 0) {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  if (group && r->group.empty() && r->consumer.empty()) {
    ctx.rb.Error("ERR Missing GROUP option for XREADGROUP");
    return false;
  }
  return true;
}

// Keys of XREAD / XREADGROUP: after STREAMS, the first half.
void XReadKeys(CmdArgs args, std::vector<size_t>* out) {
  for (size_t i = 1; i < args.size(); i++) {
    if (EqualsUpper(args[i], "STREAMS")) {
      size_t n = (args.size() - i - 1) / 2;
      for (size_t k = 0; k < n; k++) out->push_back(i + 1 + k);
      return;
    }
    // Skip option values so a value named "streams" is not taken for the keyword.
    if (EqualsUpper(args[i], "COUNT") || EqualsUpper(args[i], "BLOCK")) {
      i++;
    } else if (EqualsUpper(args[i], "GROUP")) {
      i += 2;
    }
  }
}

// XREAD of one stream from `after` (exclusive): the entries, at most count (0: all).
std::vector<EntryCopy> ReadAfter(const Stream& s, StreamId after, int64_t count) {
  if (!after.Incr()) return {};
  return CollectRange(s, after, StreamId::Max(), false, static_cast<uint64_t>(count));
}

// Replies one stream's entries in XREAD's shape for `n` streams (the caller wrote the header).
void ReplyStreamHeader(ReplyBuilder& rb, size_t n) {
  if (rb.resp3()) {
    rb.MapHeader(n);
  } else {
    rb.ArrayHeader(n);
  }
}
void ReplyStream(ReplyBuilder& rb, std::string_view key, const std::vector<EntryCopy>& v) {
  if (!rb.resp3()) rb.ArrayHeader(2);
  rb.Bulk(key);
  ReplyEntries(rb, v);
}

// XREADGROUP's read of one stream for `consumer` (created if needed). `after` is the ID given
// (`>` is new_only). Returns the entries to reply; changes go to delta. REQUIRES: group exists.
std::vector<EntryCopy> GroupRead(CommandContext& ctx, Stream* s, std::string_view group,
                                 std::string_view consumer, bool new_only, StreamId after,
                                 int64_t count, bool noack, std::string* delta) {
  Stream::Group* g = s->FindGroup(group);
  std::vector<EntryCopy> out;
  if (new_only) {
    out = ReadAfter(*s, g->last_id, count);
    if (out.empty()) return out;
    StreamId last = g->last_id;
    int64_t read = g->entries_read;
    for (const EntryCopy& e : out) {
      if (e.id > last) {
        if (read != Stream::kInvalidEntriesRead && !s->RangeHasTombstones(e.id)) {
          read++;
        } else if (s->entries_added() != 0) {
          read = s->EstimateEntriesRead(e.id);
        }
        last = e.id;
      }
    }
    s->SetGroupPos(group, last, read, delta);
    if (!noack) {
      for (const EntryCopy& e : out) s->SetNack(group, e.id, consumer, ctx.now_ms, 1, delta);
    }
    return out;
  }
  // History: the consumer's own pending entries after `after`.
  Stream::Consumer* c = Stream::FindConsumer(*g, consumer);
  if (!after.Incr()) return out;
  std::vector<StreamId> ids;
  for (auto it = c->pel.lower_bound(after); it != c->pel.end(); ++it) {
    if (count > 0 && ids.size() >= static_cast<size_t>(count)) break;
    ids.push_back(*it);
  }
  for (StreamId id : ids) {
    EntryCopy ec;
    ec.id = id;
    bool found = false;
    s->Range(id, id, false, [&](StreamId, Stream::FieldValues fv) {
      ec.fv.assign(fv.begin(), fv.end());
      found = true;
      return false;
    });
    if (!found) {
      ec.missing = true;
    } else {
      const Stream::Nack& n = g->pel.at(id);
      s->SetNack(group, id, consumer, ctx.now_ms, n.delivery_count + 1, delta);
    }
    out.push_back(std::move(ec));
  }
  return out;
}

// The consumer's creation (notified) and seen-time; logged as its own change.
void TouchConsumer(CommandContext& ctx, std::string_view key, Entry* e, std::string_view group,
                   std::string_view consumer, std::string& delta) {
  Stream* s = AsStream(e);
  bool fresh = Stream::FindConsumer(*s->FindGroup(group), consumer) == nullptr;
  s->TouchConsumer(group, consumer, ctx.now_ms, &delta);
  LogDelta(ctx, key, e, delta, fresh ? "xgroup-createconsumer" : nullptr);
}

void XReadGeneric(CmdArgs args, CommandContext& ctx, bool xgroup) {
  ReadArgs r;
  if (!ParseReadArgs(args, ctx, xgroup, &r)) return;
  std::vector<StreamId> after(r.nkeys);
  std::vector<bool> new_only(r.nkeys, false);
  std::vector<Entry*> entries(r.nkeys, nullptr);
  // Resolve IDs (and find the streams) before anything is changed.
  for (size_t k = 0; k < r.nkeys; k++) {
    std::string_view key = args[r.streams_at + k];
    std::string_view ida = args[r.streams_at + r.nkeys + k];
    Entry* e;
    if (!FindStream(ctx, key, &e, !xgroup)) return;
    entries[k] = e;
    if (xgroup) {
      if (e == nullptr || AsStream(e)->FindGroup(r.group) == nullptr) {
        return ctx.rb.Error(NoGroupError(key, r.group) + " in XREADGROUP with GROUP option");
      }
    }
    if (ida == "$") {
      if (xgroup) {
        return ctx.rb.Error(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
            "history of this consumer by specifying a proper ID, or use the > ID to get new "
            "messages. The $ ID would just return an empty result set.");
      }
      after[k] = e == nullptr ? StreamId{} : AsStream(e)->last_id();
    } else if (ida == ">") {
      if (!xgroup) {
        return ctx.rb.Error(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
            "<consumer> option.");
      }
      new_only[k] = true;
    } else if (!ParseId(ida, 0, true, &after[k])) {
      return ctx.rb.Error(kInvalidId);
    }
  }
  std::vector<std::vector<EntryCopy>> results(r.nkeys);
  std::vector<bool> include(r.nkeys, false);
  size_t n = 0;
  std::string& delta = OpDeltaBuffer();
  for (size_t k = 0; k < r.nkeys; k++) {
    std::string_view key = args[r.streams_at + k];
    Entry* e = entries[k];
    if (e == nullptr) continue;
    if (xgroup) {
      TouchConsumer(ctx, key, e, r.group, r.consumer, delta);
      results[k] = GroupRead(ctx, AsStream(e), r.group, r.consumer, new_only[k], after[k], r.count,
                             r.noack, &delta);
      LogDelta(ctx, key, e, delta, nullptr);
      include[k] = !new_only[k] || !results[k].empty();
    } else {
      results[k] = ReadAfter(*AsStream(e), after[k], r.count);
      include[k] = !results[k].empty();
    }
    if (include[k]) n++;
  }
  if (n > 0) {
    ReplyStreamHeader(ctx.rb, n);
    for (size_t k = 0; k < r.nkeys; k++) {
      if (include[k]) ReplyStream(ctx.rb, args[r.streams_at + k], results[k]);
    }
    return;
  }
  if (!r.block || !CanBlock(ctx)) return ctx.rb.NullArray();
  // Block on every key; what each waits after is fixed now ("$" resolved above).
  std::vector<std::string> keys;
  for (size_t k = 0; k < r.nkeys; k++) keys.emplace_back(args[r.streams_at + k]);
  int64_t deadline = r.block_ms == 0 ? 0 : ctx.now_ms + r.block_ms;
  auto w = NewWaiter(ctx, keys, deadline);
  std::vector<std::string> key_list = keys;
  std::string group(r.group), consumer(r.consumer);
  int64_t count = r.count;
  bool noack = r.noack;
  w->serve = [key_list, after, xgroup, group, consumer, count, noack](CommandContext& c,
                                                                      std::string_view key) {
    size_t k = std::find(key_list.begin(), key_list.end(), key) - key_list.begin();
    if (k == key_list.size()) return false;
    OpArgs op = c.op();
    op.touch = false;
    OpResult<Entry*> f = FindCollection(op, KeyRef(key), ValueType::kStream, false);
    if (!xgroup) {
      if (!f.ok() || *f == nullptr) return false;
      std::vector<EntryCopy> got = ReadAfter(*AsStream(*f), after[k], count);
      if (got.empty()) return false;
      ReplyStreamHeader(c.rb, 1);
      ReplyStream(c.rb, key, got);
      return true;
    }
    if (!f.ok() || *f == nullptr) {
      c.rb.Error(kKeyGoneBlocked);
      return true;
    }
    Entry* e = *f;
    Stream* s = AsStream(e);
    if (s->FindGroup(group) == nullptr) {
      c.rb.Error(kNoGroupBlocked);
      return true;
    }
    Stream::Group* g = s->FindGroup(group);
    if (s->LastEntryId() <= g->last_id) return false;
    std::string& d = OpDeltaBuffer();
    TouchConsumer(c, key, e, group, consumer, d);
    std::vector<EntryCopy> got = GroupRead(c, s, group, consumer, true, {}, count, noack, &d);
    LogDelta(c, key, e, d, nullptr);
    if (got.empty()) return false;
    ReplyStreamHeader(c.rb, 1);
    ReplyStream(c.rb, key, got);
    return true;
  };
  w->on_timeout = [](ReplyBuilder& rb) { rb.NullArray(); };
  ctx.server.blocking().Block(ctx, std::move(w));
}

void CmdXRead(CmdArgs args, CommandContext& ctx) { XReadGeneric(args, ctx, false); }
void CmdXReadGroup(CmdArgs args, CommandContext& ctx) { XReadGeneric(args, ctx, true); }

// --- XGROUP ---

// The stream and group of XGROUP SETID / CREATECONSUMER / DELCONSUMER: false after an error.
bool FindGroupFor(CommandContext& ctx, CmdArgs args, Entry** e, Stream::Group** g) {
  if (!FindStream(ctx, args[2], e, false)) return false;
  if (*e == nullptr) {
    ctx.rb.Error(kXGroupNoKey);
    return false;
  }
  *g = AsStream(*e)->FindGroup(args[3]);
  if (*g == nullptr) {
    ctx.rb.Error(NoGroupForKeyError(args[2], args[3]));
    return false;
  }
  return true;
}

// XGROUP CREATE / SETID's ID and options from args[4].
bool ParseGroupPos(CmdArgs args, CommandContext& ctx, bool create, bool* mkstream,
                   int64_t* entries_read) {
  for (size_t i = 5; i < args.size(); i++) {
    if (create && EqualsUpper(args[i], "MKSTREAM")) {
      *mkstream = true;
    } else if (EqualsUpper(args[i], "ENTRIESREAD") && i + 1 < args.size()) {
      if (!ParseInt64(args[i + 1], entries_read)) {
        ctx.rb.Error(errors::kNotInteger);
        return false;
      }
      if (*entries_read < 0 && *entries_read != Stream::kInvalidEntriesRead) {
        ctx.rb.Error("ERR value for ENTRIESREAD must be positive or -1");
        return false;
      }
      i++;
    } else {
      ctx.rb.Error("ERR unknown subcommand or wrong number of arguments for '" +
                   std::string(args[1]) + "'. Try XGROUP HELP.");
      return false;
    }
  }
  return true;
}

void CmdXGroupCreate(CmdArgs args, CommandContext& ctx) {
  bool mkstream = false;
  int64_t entries_read = Stream::kInvalidEntriesRead;
  if (!ParseGroupPos(args, ctx, true, &mkstream, &entries_read)) return;
  std::string_view key = args[2], name = args[3];
  Entry* e;
  if (!FindStream(ctx, key, &e, false)) return;
  StreamId id;
  if (args[4] == "$") {
    id = e == nullptr ? StreamId{} : AsStream(e)->last_id();
  } else if (!ParseId(args[4], 0, false, &id)) {
    return ctx.rb.Error(kInvalidId);
  }
  if (e == nullptr) {
    if (!mkstream) return ctx.rb.Error(kXGroupNoKey);
  } else if (AsStream(e)->FindGroup(name) != nullptr) {
    return ctx.rb.Error(kBusyGroup);
  }
  if (e == nullptr) {
    OpArgs op = ctx.op();
    OpResult<Entry*> c = FindOrCreateCollection(op, KeyRef(key), ValueType::kStream);
    if (!c.ok()) return ctx.ReplyError(c.status());
    e = *c;
  }
  std::string& delta = OpDeltaBuffer();
  AsStream(e)->CreateGroup(name, id, entries_read, &delta);
  LogDelta(ctx, key, e, delta, "xgroup-create");
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdXGroupSetId(CmdArgs args, CommandContext& ctx) {
  bool mkstream = false;
  int64_t entries_read = Stream::kInvalidEntriesRead;
  if (!ParseGroupPos(args, ctx, false, &mkstream, &entries_read)) return;
  Entry* e;
  Stream::Group* g;
  if (!FindGroupFor(ctx, args, &e, &g)) return;
  StreamId id;
  if (args[4] == "$") {
    id = AsStream(e)->last_id();
  } else if (!ParseId(args[4], 0, false, &id)) {
    return ctx.rb.Error(kInvalidId);
  }
  std::string& delta = OpDeltaBuffer();
  AsStream(e)->SetGroupPos(args[3], id, entries_read, &delta);
  LogDelta(ctx, args[2], e, delta, "xgroup-setid");
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdXGroupDestroy(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  if (!FindStream(ctx, args[2], &e, false)) return;
  if (e == nullptr) return ctx.rb.Error(kXGroupNoKey);
  std::string& delta = OpDeltaBuffer();
  if (!AsStream(e)->DestroyGroup(args[3], &delta)) return ctx.rb.Integer(0);
  LogDelta(ctx, args[2], e, delta, "xgroup-destroy");
  ctx.Dirty();
  WakeWaiters(ctx, args[2]);
  ctx.rb.Integer(1);
}

void CmdXGroupCreateConsumer(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  Stream::Group* g;
  if (!FindGroupFor(ctx, args, &e, &g)) return;
  if (Stream::FindConsumer(*g, args[4]) != nullptr) return ctx.rb.Integer(0);
  std::string& delta = OpDeltaBuffer();
  AsStream(e)->TouchConsumer(args[3], args[4], ctx.now_ms, &delta);
  LogDelta(ctx, args[2], e, delta, "xgroup-createconsumer");
  ctx.Dirty();
  ctx.rb.Integer(1);
}

void CmdXGroupDelConsumer(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  Stream::Group* g;
  if (!FindGroupFor(ctx, args, &e, &g)) return;
  std::string& delta = OpDeltaBuffer();
  int64_t pending = AsStream(e)->DeleteConsumer(args[3], args[4], &delta);
  if (pending < 0) return ctx.rb.Integer(0);
  LogDelta(ctx, args[2], e, delta, "xgroup-delconsumer");
  ctx.Dirty();
  ctx.rb.Integer(pending);
}

void CmdXGroupHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(
      ctx.rb, "XGROUP",
      {"CREATE <key> <groupname> <id|$> [option]",
       "    Create a new consumer group. Options are:", "    * MKSTREAM",
       "      Create the empty stream if it does not exist.", "    * ENTRIESREAD entries_read",
       "      Set the group's entries_read counter (internal use).",
       "CREATECONSUMER <key> <groupname> <consumer>",
       "    Create a new consumer in the specified group.",
       "DELCONSUMER <key> <groupname> <consumer>", "    Remove the specified consumer.",
       "DESTROY <key> <groupname>", "    Remove the specified group.",
       "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
       "    Set the current group ID and entries_read counter."});
}

// --- XACK, XPENDING, XCLAIM, XAUTOCLAIM ---

void CmdXAck(CmdArgs args, CommandContext& ctx) {
  std::vector<StreamId> ids(args.size() - 3);
  for (size_t i = 3; i < args.size(); i++) {
    if (!ParseId(args[i], 0, true, &ids[i - 3])) return ctx.rb.Error(kInvalidId);
  }
  Entry* e;
  if (!FindStream(ctx, args[1], &e, false)) return;
  if (e == nullptr || AsStream(e)->FindGroup(args[2]) == nullptr) return ctx.rb.Integer(0);
  std::string& delta = OpDeltaBuffer();
  int64_t n = 0;
  for (StreamId id : ids) n += AsStream(e)->Ack(args[2], id, &delta) ? 1 : 0;
  if (n > 0) {
    LogDelta(ctx, args[1], e, delta, nullptr);
    ctx.Dirty(static_cast<uint64_t>(n));
  }
  ctx.rb.Integer(n);
}

void CmdXPending(CmdArgs args, CommandContext& ctx) {
  bool extended = args.size() > 3;
  if (extended && args.size() < 6) return ctx.rb.Error(errors::kSyntax);
  int64_t min_idle = 0;
  StreamId start, end;
  int64_t count = 0;
  std::string_view consumer;
  bool has_consumer = false;
  if (extended) {
    size_t i = 3;
    if (EqualsUpper(args[3], "IDLE")) {
      if (!ParseInt64(args[4], &min_idle)) return ctx.rb.Error(errors::kNotInteger);
      if (args.size() < 8) return ctx.rb.Error(errors::kSyntax);
      i = 5;
    }
    if (args.size() - i > 4) return ctx.rb.Error(errors::kSyntax);
    if (!ParseRangeBound(ctx, args[i], true, &start) ||
        !ParseRangeBound(ctx, args[i + 1], false, &end)) {
      return;
    }
    if (!ParseInt64(args[i + 2], &count)) return ctx.rb.Error(errors::kNotInteger);
    if (count < 0) count = 0;
    if (i + 3 < args.size()) {
      consumer = args[i + 3];
      has_consumer = true;
    }
  }
  Entry* e;
  if (!FindStream(ctx, args[1], &e, true)) return;
  Stream::Group* g = e == nullptr ? nullptr : AsStream(e)->FindGroup(args[2]);
  if (g == nullptr) return ctx.rb.Error(NoGroupError(args[1], args[2]));
  if (!extended) {
    ctx.rb.ArrayHeader(4);
    ctx.rb.Integer(static_cast<int64_t>(g->pel.size()));
    if (g->pel.empty()) {
      ctx.rb.NullBulk();
      ctx.rb.NullBulk();
      ctx.rb.NullArray();
      return;
    }
    ReplyId(ctx.rb, g->pel.begin()->first);
    ReplyId(ctx.rb, std::prev(g->pel.end())->first);
    size_t with = 0;
    for (const auto& [name, c] : g->consumers) with += c->pel.empty() ? 0 : 1;
    ctx.rb.ArrayHeader(with);
    for (const auto& [name, c] : g->consumers) {
      if (c->pel.empty()) continue;
      ctx.rb.ArrayHeader(2);
      ctx.rb.Bulk(name);
      ctx.rb.Bulk(std::to_string(c->pel.size()));
    }
    return;
  }
  struct Row {
    StreamId id;
    const Stream::Nack* n;
  };
  std::vector<Row> rows;
  auto consider = [&](StreamId id, const Stream::Nack& n) {
    if (min_idle > 0 && ctx.now_ms - n.delivery_ms < min_idle) return;
    rows.push_back({id, &n});
  };
  if (start <= end && count > 0) {
    if (has_consumer) {
      Stream::Consumer* c = Stream::FindConsumer(*g, consumer);
      if (c != nullptr) {
        for (auto it = c->pel.lower_bound(start);
             it != c->pel.end() && *it <= end && rows.size() < static_cast<size_t>(count); ++it) {
          consider(*it, g->pel.at(*it));
        }
      }
    } else {
      for (auto it = g->pel.lower_bound(start);
           it != g->pel.end() && it->first <= end && rows.size() < static_cast<size_t>(count);
           ++it) {
        consider(it->first, it->second);
      }
    }
  }
  ctx.rb.ArrayHeader(rows.size());
  for (const Row& r : rows) {
    ctx.rb.ArrayHeader(4);
    ReplyId(ctx.rb, r.id);
    ctx.rb.Bulk(r.n->consumer->name);
    ctx.rb.Integer(std::max<int64_t>(0, ctx.now_ms - r.n->delivery_ms));
    ctx.rb.Integer(static_cast<int64_t>(r.n->delivery_count));
  }
}

void CmdXClaim(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1], group = args[2], consumer = args[3];
  int64_t min_idle;
  if (!ParseInt64(args[4], &min_idle)) {
    return ctx.rb.Error("ERR Invalid min-idle-time argument for XCLAIM");
  }
  if (min_idle < 0) min_idle = 0;
  Entry* e;
  if (!FindStream(ctx, key, &e, false)) return;
  Stream::Group* g = e == nullptr ? nullptr : AsStream(e)->FindGroup(group);
  if (g == nullptr) return ctx.rb.Error(NoGroupError(key, group));
  std::vector<StreamId> ids;
  size_t i = 5;
  for (; i < args.size(); i++) {
    StreamId id;
    if (!ParseId(args[i], 0, true, &id)) break;
    ids.push_back(id);
  }
  int64_t delivery_ms = -1;
  int64_t retry = -1;
  bool force = false, justid = false;
  std::optional<StreamId> lastid;
  for (; i < args.size(); i++) {
    size_t more = args.size() - 1 - i;
    std::string_view o = args[i];
    if (EqualsUpper(o, "FORCE")) {
      force = true;
    } else if (EqualsUpper(o, "JUSTID")) {
      justid = true;
    } else if (EqualsUpper(o, "IDLE") && more > 0) {
      int64_t v;
      if (!ParseInt64(args[++i], &v)) {
        return ctx.rb.Error("ERR Invalid IDLE option argument for XCLAIM");
      }
      delivery_ms = ctx.now_ms - v;
    } else if (EqualsUpper(o, "TIME") && more > 0) {
      if (!ParseInt64(args[++i], &delivery_ms)) {
        return ctx.rb.Error("ERR Invalid TIME option argument for XCLAIM");
      }
    } else if (EqualsUpper(o, "RETRYCOUNT") && more > 0) {
      if (!ParseInt64(args[++i], &retry)) {
        return ctx.rb.Error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      }
    } else if (EqualsUpper(o, "LASTID") && more > 0) {
      StreamId id;
      if (!ParseId(args[++i], 0, true, &id)) return ctx.rb.Error(kInvalidId);
      lastid = id;
    } else {
      return ctx.rb.Error("ERR Unrecognized XCLAIM option '" + std::string(o) + "'");
    }
  }
  if (delivery_ms != -1) {
    if (delivery_ms < 0 || delivery_ms > ctx.now_ms) delivery_ms = ctx.now_ms;
  } else {
    delivery_ms = ctx.now_ms;
  }
  Stream* s = AsStream(e);
  std::string& delta = OpDeltaBuffer();
  if (lastid && *lastid > g->last_id) s->SetGroupPos(group, *lastid, g->entries_read, &delta);
  std::vector<EntryCopy> claimed;
  bool consumer_made = false;
  for (StreamId id : ids) {
    auto it = g->pel.find(id);
    bool exists = s->Contains(id);
    // A forced claim of an entry nobody has pending counts as one delivery already, as Redis's
    // new NACK does.
    uint64_t base_count = 1;
    if (it == g->pel.end()) {
      if (!force || !exists) continue;
      if (min_idle > 0) continue;  // delivered "now": never idle enough
    } else if (!exists) {
      // The entry was deleted from the stream: it leaves the PEL.
      s->Ack(group, id, &delta);
      continue;
    } else if (min_idle > 0 && ctx.now_ms - it->second.delivery_ms < min_idle) {
      continue;
    }
    if (!consumer_made) {
      LogDelta(ctx, key, e, delta, nullptr);
      TouchConsumer(ctx, key, e, group, consumer, delta);  // notified when new
      consumer_made = true;
    }
    it = g->pel.find(id);
    uint64_t dc = it == g->pel.end() ? base_count : it->second.delivery_count;
    if (retry >= 0) {
      dc = static_cast<uint64_t>(retry);
    } else if (!justid) {
      dc++;
    }
    s->SetNack(group, id, consumer, delivery_ms, dc, &delta);
    EntryCopy ec;
    ec.id = id;
    if (!justid) {
      s->Range(id, id, false, [&](StreamId, Stream::FieldValues fv) {
        ec.fv.assign(fv.begin(), fv.end());
        return false;
      });
    }
    claimed.push_back(std::move(ec));
  }
  LogDelta(ctx, key, e, delta, nullptr);
  ctx.Dirty();
  ctx.rb.ArrayHeader(claimed.size());
  for (const EntryCopy& c : claimed) {
    if (justid) {
      ReplyId(ctx.rb, c.id);
    } else {
      ReplyEntry(ctx.rb, c.id, Stream::FieldValues(c.fv));
    }
  }
}

void CmdXAutoClaim(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1], group = args[2], consumer = args[3];
  int64_t min_idle;
  if (!ParseInt64(args[4], &min_idle)) {
    return ctx.rb.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
  }
  if (min_idle < 0) min_idle = 0;
  StreamId start;
  if (!ParseRangeBound(ctx, args[5], true, &start)) return;
  int64_t count = 100;
  bool justid = false;
  for (size_t i = 6; i < args.size(); i++) {
    if (EqualsUpper(args[i], "COUNT") && i + 1 < args.size()) {
      constexpr int64_t kAttemptsFactor = 10;
      if (!ParseInt64(args[i + 1], &count) || count < 1 ||
          count > std::numeric_limits<int64_t>::max() / kAttemptsFactor) {
        return ctx.rb.Error("ERR COUNT must be > 0");
      }
      i++;
    } else if (EqualsUpper(args[i], "JUSTID")) {
      justid = true;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  Entry* e;
  if (!FindStream(ctx, key, &e, false)) return;
  Stream::Group* g = e == nullptr ? nullptr : AsStream(e)->FindGroup(group);
  if (g == nullptr) return ctx.rb.Error(NoGroupError(key, group));
  Stream* s = AsStream(e);
  std::string& delta = OpDeltaBuffer();
  TouchConsumer(ctx, key, e, group, consumer, delta);  // notified when new
  int64_t attempts = count * 10;
  std::vector<EntryCopy> claimed;
  std::vector<StreamId> deleted;
  std::vector<StreamId> candidates;
  StreamId next;
  bool more = false;
  for (auto it = g->pel.lower_bound(start); it != g->pel.end(); ++it) {
    if (attempts == 0 || count == 0) {
      next = it->first;
      more = true;
      break;
    }
    attempts--;
    // A deleted entry leaves the PEL and counts against COUNT, as a claimed one.
    if (!s->Contains(it->first)) {
      candidates.push_back(it->first);
      count--;
      continue;
    }
    if (min_idle > 0 && ctx.now_ms - it->second.delivery_ms < min_idle) continue;
    candidates.push_back(it->first);
    count--;
  }
  for (StreamId id : candidates) {
    if (!s->Contains(id)) {
      s->Ack(group, id, &delta);
      deleted.push_back(id);
      continue;
    }
    uint64_t dc = g->pel.at(id).delivery_count + (justid ? 0 : 1);
    s->SetNack(group, id, consumer, ctx.now_ms, dc, &delta);
    EntryCopy ec;
    ec.id = id;
    if (!justid) {
      s->Range(id, id, false, [&](StreamId, Stream::FieldValues fv) {
        ec.fv.assign(fv.begin(), fv.end());
        return false;
      });
    }
    claimed.push_back(std::move(ec));
  }
  LogDelta(ctx, key, e, delta, nullptr);
  ctx.Dirty();
  ctx.rb.ArrayHeader(3);
  ReplyId(ctx.rb, more ? next : StreamId{});
  ctx.rb.ArrayHeader(claimed.size());
  for (const EntryCopy& c : claimed) {
    if (justid) {
      ReplyId(ctx.rb, c.id);
    } else {
      ReplyEntry(ctx.rb, c.id, Stream::FieldValues(c.fv));
    }
  }
  ctx.rb.ArrayHeader(deleted.size());
  for (StreamId id : deleted) ReplyId(ctx.rb, id);
}

// --- XINFO ---

void ReplyEntryOrNull(ReplyBuilder& rb, const Stream& s, bool last) {
  std::optional<EntryCopy> got;
  s.Range({}, StreamId::Max(), last, [&](StreamId id, Stream::FieldValues fv) {
    got = EntryCopy{id, std::vector<std::string_view>(fv.begin(), fv.end())};
    return false;
  });
  if (!got) return rb.NullBulk();
  ReplyEntry(rb, got->id, Stream::FieldValues(got->fv));
}

void ReplyEntriesRead(ReplyBuilder& rb, int64_t v) {
  if (v == Stream::kInvalidEntriesRead) return rb.NullBulk();
  rb.Integer(v);
}

void CmdXInfoStream(CmdArgs args, CommandContext& ctx) {
  bool full = false;
  int64_t count = 10;
  const std::string bad_args = "ERR unknown subcommand or wrong number of arguments for '" +
                               std::string(args[1]) + "'. Try XINFO HELP.";
  if (args.size() > 3) {
    if (!EqualsUpper(args[3], "FULL")) return ctx.rb.Error(bad_args);
    full = true;
    if (args.size() == 6 && EqualsUpper(args[4], "COUNT")) {
      if (!ParseInt64(args[5], &count)) return ctx.rb.Error(errors::kNotInteger);
      if (count < 0) count = 10;
    } else if (args.size() != 4) {
      return ctx.rb.Error(bad_args);
    }
  }
  Entry* e;
  if (!FindStream(ctx, args[2], &e, true)) return;
  if (e == nullptr) return ctx.rb.Error(errors::kNoSuchKey);
  const Stream& s = *AsStream(e);
  ReplyBuilder& rb = ctx.rb;
  rb.MapHeader(full ? 9 : 10);
  rb.Bulk("length");
  rb.Integer(static_cast<int64_t>(s.length()));
  rb.Bulk("radix-tree-keys");
  rb.Integer(static_cast<int64_t>(s.node_count()));
  rb.Bulk("radix-tree-nodes");
  // A radix tree has one node even when empty, and about one inner node per two keys.
  rb.Integer(
      static_cast<int64_t>(s.node_count() == 0 ? 1 : s.node_count() + (s.node_count() + 1) / 2));
  rb.Bulk("last-generated-id");
  ReplyId(rb, s.last_id());
  rb.Bulk("max-deleted-entry-id");
  ReplyId(rb, s.max_deleted_id());
  rb.Bulk("entries-added");
  rb.Integer(static_cast<int64_t>(s.entries_added()));
  rb.Bulk("recorded-first-entry-id");
  ReplyId(rb, s.FirstId());
  if (!full) {
    rb.Bulk("groups");
    rb.Integer(static_cast<int64_t>(s.groups().size()));
    rb.Bulk("first-entry");
    ReplyEntryOrNull(rb, s, false);
    rb.Bulk("last-entry");
    ReplyEntryOrNull(rb, s, true);
    return;
  }
  rb.Bulk("entries");
  ReplyEntries(rb, CollectRange(s, {}, StreamId::Max(), false, static_cast<uint64_t>(count)));
  rb.Bulk("groups");
  rb.ArrayHeader(s.groups().size());
  for (const auto& [name, g] : s.groups()) {
    rb.MapHeader(7);
    rb.Bulk("name");
    rb.Bulk(name);
    rb.Bulk("last-delivered-id");
    ReplyId(rb, g->last_id);
    rb.Bulk("entries-read");
    ReplyEntriesRead(rb, g->entries_read);
    rb.Bulk("lag");
    int64_t lag = s.Lag(*g);
    if (lag < 0) {
      rb.NullBulk();
    } else {
      rb.Integer(lag);
    }
    rb.Bulk("pel-count");
    rb.Integer(static_cast<int64_t>(g->pel.size()));
    rb.Bulk("pending");
    size_t np = count == 0 ? g->pel.size() : std::min<size_t>(g->pel.size(), count);
    rb.ArrayHeader(np);
    size_t k = 0;
    for (const auto& [id, n] : g->pel) {
      if (k++ == np) break;
      rb.ArrayHeader(4);
      ReplyId(rb, id);
      rb.Bulk(n.consumer->name);
      rb.Integer(n.delivery_ms);
      rb.Integer(static_cast<int64_t>(n.delivery_count));
    }
    rb.Bulk("consumers");
    rb.ArrayHeader(g->consumers.size());
    for (const auto& [cname, c] : g->consumers) {
      rb.MapHeader(4);
      rb.Bulk("name");
      rb.Bulk(cname);
      rb.Bulk("seen-time");
      rb.Integer(c->seen_ms);
      rb.Bulk("pel-count");
      rb.Integer(static_cast<int64_t>(c->pel.size()));
      rb.Bulk("pending");
      size_t cp = count == 0 ? c->pel.size() : std::min<size_t>(c->pel.size(), count);
      rb.ArrayHeader(cp);
      size_t j = 0;
      for (StreamId id : c->pel) {
        if (j++ == cp) break;
        const Stream::Nack& n = g->pel.at(id);
        rb.ArrayHeader(3);
        ReplyId(rb, id);
        rb.Integer(n.delivery_ms);
        rb.Integer(static_cast<int64_t>(n.delivery_count));
      }
    }
  }
}

void CmdXInfoGroups(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  if (!FindStream(ctx, args[2], &e, true)) return;
  if (e == nullptr) return ctx.rb.Error(errors::kNoSuchKey);
  const Stream& s = *AsStream(e);
  ctx.rb.ArrayHeader(s.groups().size());
  for (const auto& [name, g] : s.groups()) {
    ctx.rb.MapHeader(6);
    ctx.rb.Bulk("name");
    ctx.rb.Bulk(name);
    ctx.rb.Bulk("consumers");
    ctx.rb.Integer(static_cast<int64_t>(g->consumers.size()));
    ctx.rb.Bulk("pending");
    ctx.rb.Integer(static_cast<int64_t>(g->pel.size()));
    ctx.rb.Bulk("last-delivered-id");
    ReplyId(ctx.rb, g->last_id);
    ctx.rb.Bulk("entries-read");
    ReplyEntriesRead(ctx.rb, g->entries_read);
    ctx.rb.Bulk("lag");
    int64_t lag = s.Lag(*g);
    if (lag < 0) {
      ctx.rb.NullBulk();
    } else {
      ctx.rb.Integer(lag);
    }
  }
}

void CmdXInfoConsumers(CmdArgs args, CommandContext& ctx) {
  Entry* e;
  if (!FindStream(ctx, args[2], &e, true)) return;
  if (e == nullptr) return ctx.rb.Error(errors::kNoSuchKey);
  Stream::Group* g = AsStream(e)->FindGroup(args[3]);
  if (g == nullptr) return ctx.rb.Error(NoGroupForKeyError(args[2], args[3]));
  ctx.rb.ArrayHeader(g->consumers.size());
  for (const auto& [name, c] : g->consumers) {
    ctx.rb.MapHeader(3);
    ctx.rb.Bulk("name");
    ctx.rb.Bulk(name);
    ctx.rb.Bulk("pending");
    ctx.rb.Integer(static_cast<int64_t>(c->pel.size()));
    ctx.rb.Bulk("idle");
    ctx.rb.Integer(std::max<int64_t>(0, ctx.now_ms - c->seen_ms));
  }
}

void CmdXInfoHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(ctx.rb, "XINFO",
            {"CONSUMERS <key> <groupname>", "    Show consumers of <groupname>.", "GROUPS <key>",
             "    Show the stream consumer groups.", "STREAM <key> [FULL [COUNT <count>]",
             "    Show information about the stream."});
}

}  // namespace

void RegisterStreamFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"xadd", -5, kWrite | kDenyOom | kFast, 1, 1, 1, CmdXAdd, "stream",
              "Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0"});
  r.Register({"xtrim", -4, kWrite, 1, 1, 1, CmdXTrim, "stream",
              "Deletes messages from the beginning of a stream.", "5.0.0"});
  r.Register({"xdel", -3, kWrite | kFast, 1, 1, 1, CmdXDel, "stream",
              "Returns the number of messages after removing them from a stream.", "5.0.0"});
  r.Register({"xlen", 2, kReadOnly | kFast, 1, 1, 1, CmdXLen, "stream",
              "Return the number of messages in a stream.", "5.0.0"});
  r.Register({"xrange", -4, kReadOnly, 1, 1, 1, CmdXRange, "stream",
              "Returns the messages from a stream within a range of IDs.", "5.0.0"});
  r.Register({"xrevrange", -4, kReadOnly, 1, 1, 1, CmdXRevRange, "stream",
              "Returns the messages from a stream within a range of IDs in reverse order.",
              "5.0.0"});
  r.Register({"xread", -4, kReadOnly | kBlocking, 1, 1, 1, CmdXRead, "stream",
              "Returns messages from multiple streams with IDs greater than the ones requested. "
              "Blocks until a message is available otherwise.", "5.0.0", -1, XReadKeys});
  r.Register({"xreadgroup", -7, kWrite | kBlocking, 1, 1, 1, CmdXReadGroup, "stream",
              "Returns new or historical messages from a stream for a consumer in a group. "
              "Blocks until a message is available otherwise.", "5.0.0", -1, XReadKeys});
  r.Register({"xsetid", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdXSetId, "stream",
              "An internal command for replicating stream values.", "5.0.0"});
  r.Register({"xack", -4, kWrite | kFast, 1, 1, 1, CmdXAck, "stream",
              "Returns the number of messages that were successfully acknowledged by the "
              "consumer group member of a stream.", "5.0.0"});
  r.Register({"xpending", -3, kReadOnly, 1, 1, 1, CmdXPending, "stream",
              "Returns the information and entries from a stream consumer group's pending "
              "entries list.", "5.0.0"});
  r.Register({"xclaim", -6, kWrite | kFast, 1, 1, 1, CmdXClaim, "stream",
              "Changes, or acquires, ownership of a message in a consumer group, as if the "
              "message was delivered a consumer group member.", "5.0.0"});
  r.Register({"xautoclaim", -6, kWrite | kFast, 1, 1, 1, CmdXAutoClaim, "stream",
              "Changes, or acquires, ownership of messages in a consumer group, as if the "
              "messages were delivered to as consumer group member.", "6.2.0"});
  r.Register({"xgroup", -2, 0, 0, 0, 0, nullptr, "stream",
              "A container for consumer groups commands.", "5.0.0"});
  r.Register({"xgroup|create", -5, kWrite | kDenyOom, 2, 2, 1, CmdXGroupCreate, "stream",
              "Creates a consumer group.", "5.0.0"});
  r.Register({"xgroup|setid", -5, kWrite, 2, 2, 1, CmdXGroupSetId, "stream",
              "Sets the last-delivered ID of a consumer group.", "5.0.0"});
  r.Register({"xgroup|destroy", 4, kWrite, 2, 2, 1, CmdXGroupDestroy, "stream",
              "Destroys a consumer group.", "5.0.0"});
  r.Register({"xgroup|createconsumer", 5, kWrite | kDenyOom, 2, 2, 1, CmdXGroupCreateConsumer,
              "stream", "Creates a consumer in a consumer group.", "6.2.0"});
  r.Register({"xgroup|delconsumer", 5, kWrite, 2, 2, 1, CmdXGroupDelConsumer, "stream",
              "Deletes a consumer from a consumer group.", "5.0.0"});
  r.Register({"xgroup|help", 2, kLoading | kStale, 0, 0, 0, CmdXGroupHelp, "stream",
              "Returns helpful text about the different subcommands.", "5.0.0"});
  r.Register({"xinfo", -2, 0, 0, 0, 0, nullptr, "stream",
              "A container for stream introspection commands.", "5.0.0"});
  r.Register({"xinfo|stream", -3, kReadOnly, 2, 2, 1, CmdXInfoStream, "stream",
              "Returns information about a stream.", "5.0.0"});
  r.Register({"xinfo|groups", 3, kReadOnly, 2, 2, 1, CmdXInfoGroups, "stream",
              "Returns a list of the consumer groups of a stream.", "5.0.0"});
  r.Register({"xinfo|consumers", 4, kReadOnly, 2, 2, 1, CmdXInfoConsumers, "stream",
              "Returns a list of the consumers in a consumer group.", "5.0.0"});
  r.Register({"xinfo|help", 2, kLoading | kStale, 0, 0, 0, CmdXInfoHelp, "stream",
              "Returns helpful text about the different subcommands.", "5.0.0"});
  // clang-format on
}

}  // namespace fdb
