// The stream type: see stream_object.h for the model.
//
// A node's buffer (in RAM only; the image does not depend on it):
//
//   node    := nmaster:varint field{nmaster} entry*
//   entry   := flags:u8 ms_delta:varint seq_delta:signed body
//   body    := value{nmaster}                       flags & kSameFields
//            | n:varint (field value){n}            otherwise
//   field, value := bytes
//
// ms_delta and seq_delta are the entry's ID minus the node's key (the node's first ID); flags
// bit 0 marks a tombstone (set in place by XDEL), bit 1 says the entry has the master fields.
#include "engine/stream_object.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace fdb {

namespace {

constexpr uint8_t kDeleted = 1;
constexpr uint8_t kSameFields = 2;

// Sub-record tags of a delta (docs/format.md, "Stream image and deltas").
constexpr uint8_t kOpAppend = 'A';
constexpr uint8_t kOpDelete = 'X';
constexpr uint8_t kOpTrim = 'T';
constexpr uint8_t kOpMeta = 'M';
constexpr uint8_t kOpGroupCreate = 'G';
constexpr uint8_t kOpGroupDestroy = 'g';
constexpr uint8_t kOpGroupPos = 'P';
constexpr uint8_t kOpConsumer = 'C';
constexpr uint8_t kOpConsumerDel = 'c';
constexpr uint8_t kOpNack = 'N';
constexpr uint8_t kOpAck = 'K';

constexpr uint8_t kImageVersion = 1;
// Node limits used when an image is decoded (Redis's defaults).
constexpr size_t kDefaultNodeMaxBytes = 4096;
constexpr size_t kDefaultNodeMaxEntries = 100;
// Approximate RAM of the group structures, for MemoryUsage.
constexpr size_t kNackBytes = 64;
constexpr size_t kConsumerPelBytes = 24;
constexpr size_t kConsumerBytes = sizeof(StreamObject::Consumer) + 64;
constexpr size_t kGroupBytes = sizeof(StreamObject::Group) + 64;

void PutId(std::string* out, StreamId id) {
  coding::PutVarint(out, id.ms);
  coding::PutVarint(out, id.seq);
}
bool GetId(std::string_view* in, StreamId* id) {
  return coding::GetVarint(in, &id->ms) && coding::GetVarint(in, &id->seq);
}

// Reads a varint from a node buffer known to be well formed.
uint64_t NodeVarint(const char** p, const char* end) {
  std::string_view in(*p, end - *p);
  uint64_t v = 0;
  FDB_CHECK(coding::GetVarint(&in, &v));
  *p = in.data();
  return v;
}
std::string_view NodeBytesAt(const char** p, const char* end) {
  uint64_t n = NodeVarint(p, end);
  std::string_view s(*p, n);
  *p += n;
  return s;
}

}  // namespace

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

bool StreamId::Incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) return false;
    ms++;
    seq = 0;
  } else {
    seq++;
  }
  return true;
}

bool StreamId::Decr() {
  if (seq == 0) {
    if (ms == 0) return false;
    ms--;
    seq = UINT64_MAX;
  } else {
    seq--;
  }
  return true;
}

size_t StreamObject::NodeBytes(const Node& n) {
  return n.buf.capacity() + sizeof(Node) + sizeof(StreamId) + 16;
}

template <class F>
void StreamObject::ForEachInNode(StreamId key, const Node& n, bool with_deleted, F&& fn) {
  const char* p = n.buf.data();
  const char* end = p + n.buf.size();
  uint64_t nmaster = NodeVarint(&p, end);
  // Master field names: at most a few hundred in practice; kept on the stack when small.
  std::vector<std::string_view> master;
  master.reserve(nmaster);
  for (uint64_t i = 0; i < nmaster; i++) master.push_back(NodeBytesAt(&p, end));
  std::vector<std::string_view> fv;
  while (p < end) {
    size_t off = p - n.buf.data();
    uint8_t flags = static_cast<uint8_t>(*p++);
    StreamId id;
    id.ms = key.ms + NodeVarint(&p, end);
    uint64_t zz = NodeVarint(&p, end);
    int64_t sd = static_cast<int64_t>((zz >> 1) ^ (~(zz & 1) + 1));
    id.seq = key.seq + static_cast<uint64_t>(sd);
    fv.clear();
    if (flags & kSameFields) {
      for (uint64_t i = 0; i < nmaster; i++) {
        fv.push_back(master[i]);
        fv.push_back(NodeBytesAt(&p, end));
      }
    } else {
      uint64_t nf = NodeVarint(&p, end);
      for (uint64_t i = 0; i < nf; i++) {
        fv.push_back(NodeBytesAt(&p, end));
        fv.push_back(NodeBytesAt(&p, end));
      }
    }
    if ((flags & kDeleted) && !with_deleted) continue;
    if (!fn(id, FieldValues(fv), off, (flags & kDeleted) != 0)) return;
  }
}

// --- Reads ---

StreamId StreamObject::FirstId() const {
  StreamId out;
  for (const auto& [key, node] : nodes_) {
    bool found = false;
    ForEachInNode(key, node, false, [&](StreamId id, FieldValues, size_t, bool) {
      out = id;
      found = true;
      return false;
    });
    if (found) return out;
  }
  return {};
}

StreamId StreamObject::LastEntryId() const {
  if (nodes_.empty()) return {};
  StreamId out;
  auto it = std::prev(nodes_.end());
  ForEachInNode(it->first, it->second, false, [&](StreamId id, FieldValues, size_t, bool) {
    out = id;
    return true;
  });
  return out;
}

void StreamObject::Range(StreamId start, StreamId end, bool rev, EntryFn fn) const {
  if (nodes_.empty() || start > end) return;
  if (!rev) {
    auto it = nodes_.upper_bound(start);
    if (it != nodes_.begin()) --it;
    for (; it != nodes_.end() && it->first <= end; ++it) {
      bool stop = false;
      ForEachInNode(it->first, it->second, false, [&](StreamId id, FieldValues fv, size_t, bool) {
        if (id < start) return true;
        if (id > end || !fn(id, fv)) {
          stop = true;
          return false;
        }
        return true;
      });
      if (stop) return;
    }
    return;
  }
  auto it = nodes_.upper_bound(end);
  while (it != nodes_.begin()) {
    --it;
    // A node is walked forward; its entries in range are collected, then replayed backwards.
    std::vector<std::pair<StreamId, std::vector<std::string_view>>> in_range;
    ForEachInNode(it->first, it->second, false, [&](StreamId id, FieldValues fv, size_t, bool) {
      if (id > end) return false;
      if (id >= start)
        in_range.emplace_back(id, std::vector<std::string_view>(fv.begin(), fv.end()));
      return true;
    });
    for (auto r = in_range.rbegin(); r != in_range.rend(); ++r) {
      if (!fn(r->first, FieldValues(r->second))) return;
    }
    if (it->first <= start) return;
  }
}

bool StreamObject::Contains(StreamId id) const {
  bool found = false;
  Range(id, id, false, [&](StreamId, FieldValues) {
    found = true;
    return false;
  });
  return found;
}

StreamObject::Group* StreamObject::FindGroup(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

StreamObject::Consumer* StreamObject::FindConsumer(const Group& g, std::string_view name) {
  auto it = g.consumers.find(name);
  return it == g.consumers.end() ? nullptr : it->second.get();
}

bool StreamObject::RangeHasTombstones(StreamId start) const {
  if (length_ == 0 || max_deleted_id_.IsZero()) return false;
  if (FirstId() > max_deleted_id_) return false;
  return start <= max_deleted_id_;
}

int64_t StreamObject::EstimateEntriesRead(StreamId id) const {
  if (entries_added_ == 0) return 0;
  if (length_ == 0 && id <= last_id_) return static_cast<int64_t>(entries_added_);
  if (id == last_id_) return static_cast<int64_t>(entries_added_);
  if (id > last_id_) return kInvalidEntriesRead;
  StreamId first = FirstId();
  if (max_deleted_id_.IsZero() || max_deleted_id_ < first) {
    if (id < first) return static_cast<int64_t>(entries_added_ - length_);
    if (id == first) return static_cast<int64_t>(entries_added_ - length_ + 1);
  }
  return kInvalidEntriesRead;
}

int64_t StreamObject::Lag(const Group& g) const {
  if (entries_added_ == 0) return 0;
  if (g.entries_read != kInvalidEntriesRead && !RangeHasTombstones(g.last_id)) {
    return static_cast<int64_t>(entries_added_) - g.entries_read;
  }
  int64_t read = EstimateEntriesRead(g.last_id);
  if (read == kInvalidEntriesRead) return -1;
  return static_cast<int64_t>(entries_added_) - read;
}

// --- Primitive changes ---

void StreamObject::DoAppend(StreamId id, FieldValues fv, size_t node_max_bytes,
                            size_t node_max_entries) {
  size_t nf = fv.size() / 2;
  size_t entry_bytes = 0;
  for (std::string_view s : fv) entry_bytes += s.size() + 2;
  Node* node = nullptr;
  StreamId key;
  if (!nodes_.empty()) {
    auto it = std::prev(nodes_.end());
    Node& tail = it->second;
    bool full =
        (node_max_entries != 0 && tail.count >= node_max_entries) ||
        (node_max_bytes != 0 && tail.buf.size() + entry_bytes >= node_max_bytes && tail.count > 0);
    if (!full) {
      node = &tail;
      key = it->first;
    } else {
      // The closed node keeps only the bytes it uses.
      Account(-static_cast<int64_t>(NodeBytes(tail)));
      tail.buf.shrink_to_fit();
      Account(static_cast<int64_t>(NodeBytes(tail)));
    }
  }
  bool fresh = node == nullptr;
  if (fresh) {
    key = id;
    node = &nodes_[id];
    coding::PutVarint(&node->buf, nf);
    for (size_t i = 0; i < nf; i++) coding::PutBytes(&node->buf, fv[2 * i]);
  } else {
    Account(-static_cast<int64_t>(NodeBytes(*node)));
  }
  // Same fields as the master entry?
  bool same = true;
  {
    const char* p = node->buf.data();
    const char* end = p + node->buf.size();
    uint64_t nmaster = NodeVarint(&p, end);
    if (nmaster != nf) {
      same = false;
    } else {
      for (size_t i = 0; i < nf && same; i++) same = NodeBytesAt(&p, end) == fv[2 * i];
    }
  }
  std::string& b = node->buf;
  b.push_back(static_cast<char>(same ? kSameFields : 0));
  coding::PutVarint(&b, id.ms - key.ms);
  coding::PutSigned(&b, static_cast<int64_t>(id.seq - key.seq));
  if (same) {
    for (size_t i = 0; i < nf; i++) coding::PutBytes(&b, fv[2 * i + 1]);
  } else {
    coding::PutVarint(&b, nf);
    for (std::string_view s : fv) coding::PutBytes(&b, s);
  }
  node->count++;
  Account(static_cast<int64_t>(NodeBytes(*node)));
  length_++;
  entries_added_++;
  last_id_ = id;
}

bool StreamObject::DoDelete(StreamId id) {
  if (nodes_.empty()) return false;
  auto it = nodes_.upper_bound(id);
  if (it == nodes_.begin()) return false;
  --it;
  Node& n = it->second;
  size_t at = SIZE_MAX;
  ForEachInNode(it->first, n, false, [&](StreamId eid, FieldValues, size_t off, bool) {
    if (eid < id) return true;
    if (eid == id) at = off;
    return false;
  });
  if (at == SIZE_MAX) return false;
  n.buf[at] = static_cast<char>(static_cast<uint8_t>(n.buf[at]) | kDeleted);
  n.deleted++;
  length_--;
  if (n.deleted == n.count) {
    Account(-static_cast<int64_t>(NodeBytes(n)));
    nodes_.erase(it);
  }
  return true;
}

uint64_t StreamObject::DoTrimThrough(StreamId through) {
  uint64_t removed = 0;
  while (!nodes_.empty()) {
    auto it = nodes_.begin();
    Node& n = it->second;
    // Whole node?
    StreamId last;
    uint32_t live = n.count - n.deleted;
    ForEachInNode(it->first, n, true, [&](StreamId id, FieldValues, size_t, bool) {
      last = id;
      return true;
    });
    if (last <= through) {
      removed += live;
      length_ -= live;
      Account(-static_cast<int64_t>(NodeBytes(n)));
      nodes_.erase(it);
      continue;
    }
    // Tombstone the node's live entries up to `through`.
    std::vector<size_t> offs;
    ForEachInNode(it->first, n, false, [&](StreamId id, FieldValues, size_t off, bool) {
      if (id > through) return false;
      offs.push_back(off);
      return true;
    });
    for (size_t off : offs) {
      n.buf[off] = static_cast<char>(static_cast<uint8_t>(n.buf[off]) | kDeleted);
    }
    n.deleted += static_cast<uint32_t>(offs.size());
    removed += offs.size();
    length_ -= offs.size();
    break;
  }
  return removed;
}

// --- Mutators ---

void StreamObject::Append(StreamId id, FieldValues fv, size_t node_max_bytes,
                          size_t node_max_entries, std::string* delta) {
  FDB_CHECK(id > last_id_ && !fv.empty() && fv.size() % 2 == 0);
  delta->push_back(static_cast<char>(kOpAppend));
  PutId(delta, id);
  coding::PutVarint(delta, fv.size() / 2);
  for (std::string_view s : fv) coding::PutBytes(delta, s);
  DoAppend(id, fv, node_max_bytes, node_max_entries);
}

bool StreamObject::Delete(StreamId id, std::string* delta) {
  if (!DoDelete(id)) return false;
  if (id > max_deleted_id_) max_deleted_id_ = id;
  delta->push_back(static_cast<char>(kOpDelete));
  PutId(delta, id);
  return true;
}

uint64_t StreamObject::TrimThrough(StreamId through, std::string* delta) {
  uint64_t n = DoTrimThrough(through);
  if (n == 0) return 0;
  delta->push_back(static_cast<char>(kOpTrim));
  PutId(delta, through);
  return n;
}

void StreamObject::SetMeta(StreamId last_id, StreamId max_deleted, uint64_t entries_added,
                           std::string* delta) {
  last_id_ = last_id;
  max_deleted_id_ = max_deleted;
  entries_added_ = entries_added;
  delta->push_back(static_cast<char>(kOpMeta));
  PutId(delta, last_id);
  PutId(delta, max_deleted);
  coding::PutVarint(delta, entries_added);
}

StreamObject::Group* StreamObject::CreateGroup(std::string_view name, StreamId last_id,
                                               int64_t entries_read, std::string* delta) {
  if (groups_.find(name) != groups_.end()) return nullptr;
  auto g = std::make_unique<Group>();
  g->last_id = last_id;
  g->entries_read = entries_read;
  Group* out = g.get();
  groups_.emplace(std::string(name), std::move(g));
  Account(static_cast<int64_t>(kGroupBytes + name.size()));
  delta->push_back(static_cast<char>(kOpGroupCreate));
  coding::PutBytes(delta, name);
  PutId(delta, last_id);
  coding::PutSigned(delta, entries_read);
  return out;
}

bool StreamObject::DestroyGroup(std::string_view name, std::string* delta) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return false;
  const Group& g = *it->second;
  size_t bytes = kGroupBytes + name.size() + g.pel.size() * (kNackBytes + kConsumerPelBytes);
  for (const auto& [cname, c] : g.consumers) bytes += kConsumerBytes + cname.size();
  Account(-static_cast<int64_t>(bytes));
  groups_.erase(it);
  delta->push_back(static_cast<char>(kOpGroupDestroy));
  coding::PutBytes(delta, name);
  return true;
}

void StreamObject::SetGroupPos(std::string_view group, StreamId last_id, int64_t entries_read,
                               std::string* delta) {
  Group* g = FindGroup(group);
  FDB_CHECK(g != nullptr);
  g->last_id = last_id;
  g->entries_read = entries_read;
  delta->push_back(static_cast<char>(kOpGroupPos));
  coding::PutBytes(delta, group);
  PutId(delta, last_id);
  coding::PutSigned(delta, entries_read);
}

StreamObject::Consumer* StreamObject::TouchConsumer(std::string_view group, std::string_view name,
                                                    int64_t seen_ms, std::string* delta) {
  Group* g = FindGroup(group);
  FDB_CHECK(g != nullptr);
  Consumer* c = FindConsumer(*g, name);
  if (c == nullptr) {
    auto nc = std::make_unique<Consumer>();
    nc->name = std::string(name);
    c = nc.get();
    g->consumers.emplace(std::string(name), std::move(nc));
    Account(static_cast<int64_t>(kConsumerBytes + name.size()));
  }
  c->seen_ms = seen_ms;
  delta->push_back(static_cast<char>(kOpConsumer));
  coding::PutBytes(delta, group);
  coding::PutBytes(delta, name);
  coding::PutSigned(delta, seen_ms);
  return c;
}

int64_t StreamObject::DeleteConsumer(std::string_view group, std::string_view name,
                                     std::string* delta) {
  Group* g = FindGroup(group);
  FDB_CHECK(g != nullptr);
  auto it = g->consumers.find(name);
  if (it == g->consumers.end()) return -1;
  int64_t pending = static_cast<int64_t>(it->second->pel.size());
  for (StreamId id : it->second->pel) g->pel.erase(id);
  Account(-static_cast<int64_t>(kConsumerBytes + name.size() +
                                static_cast<size_t>(pending) * (kNackBytes + kConsumerPelBytes)));
  g->consumers.erase(it);
  delta->push_back(static_cast<char>(kOpConsumerDel));
  coding::PutBytes(delta, group);
  coding::PutBytes(delta, name);
  return pending;
}

void StreamObject::SetNack(std::string_view group, StreamId id, std::string_view consumer,
                           int64_t delivery_ms, uint64_t delivery_count, std::string* delta) {
  Group* g = FindGroup(group);
  FDB_CHECK(g != nullptr);
  Consumer* c = FindConsumer(*g, consumer);
  FDB_CHECK(c != nullptr);
  auto [it, fresh] = g->pel.try_emplace(id);
  Nack& n = it->second;
  if (fresh) {
    Account(static_cast<int64_t>(kNackBytes + kConsumerPelBytes));
  } else if (n.consumer != c) {
    n.consumer->pel.erase(id);
  }
  n.consumer = c;
  n.delivery_ms = delivery_ms;
  n.delivery_count = delivery_count;
  c->pel.insert(id);
  delta->push_back(static_cast<char>(kOpNack));
  coding::PutBytes(delta, group);
  PutId(delta, id);
  coding::PutBytes(delta, consumer);
  coding::PutSigned(delta, delivery_ms);
  coding::PutVarint(delta, delivery_count);
}

bool StreamObject::Ack(std::string_view group, StreamId id, std::string* delta) {
  Group* g = FindGroup(group);
  FDB_CHECK(g != nullptr);
  auto it = g->pel.find(id);
  if (it == g->pel.end()) return false;
  it->second.consumer->pel.erase(id);
  g->pel.erase(it);
  Account(-static_cast<int64_t>(kNackBytes + kConsumerPelBytes));
  delta->push_back(static_cast<char>(kOpAck));
  coding::PutBytes(delta, group);
  PutId(delta, id);
  return true;
}

// --- Trimming plans ---

StreamObject::TrimPlan StreamObject::PlanTrimMaxLen(uint64_t maxlen, bool approx,
                                                    uint64_t limit) const {
  TrimPlan plan;
  if (length_ <= maxlen) return plan;
  uint64_t to_remove = length_ - maxlen;
  for (const auto& [key, node] : nodes_) {
    uint64_t live = node.count - node.deleted;
    if (plan.removed + live <= to_remove) {
      if (approx && limit != 0 && plan.removed + live > limit) break;
      // The whole node goes: its last entry (live or not) is the boundary so far.
      ForEachInNode(key, node, true, [&](StreamId id, FieldValues, size_t, bool) {
        plan.boundary = id;
        return true;
      });
      plan.removed += live;
      if (plan.removed == to_remove) break;
      continue;
    }
    if (approx) break;
    ForEachInNode(key, node, false, [&](StreamId id, FieldValues, size_t, bool) {
      if (plan.removed == to_remove) return false;
      plan.boundary = id;
      plan.removed++;
      return true;
    });
    break;
  }
  return plan;
}

StreamObject::TrimPlan StreamObject::PlanTrimMinId(StreamId minid, bool approx,
                                                   uint64_t limit) const {
  TrimPlan plan;
  for (const auto& [key, node] : nodes_) {
    if (key >= minid) break;
    uint64_t live = node.count - node.deleted;
    StreamId last;
    ForEachInNode(key, node, true, [&](StreamId id, FieldValues, size_t, bool) {
      last = id;
      return true;
    });
    if (last < minid) {
      if (approx && limit != 0 && plan.removed + live > limit) break;
      plan.boundary = last;
      plan.removed += live;
      continue;
    }
    if (approx) break;
    ForEachInNode(key, node, false, [&](StreamId id, FieldValues, size_t, bool) {
      if (id >= minid) return false;
      plan.boundary = id;
      plan.removed++;
      return true;
    });
    break;
  }
  return plan;
}

// --- Image ---
//
//   image    := version:u8 last_id entries_added:varint max_deleted_id length:varint
//               entry{length} ngroups:varint group{ngroups}
//   entry    := id nfields:varint (field:bytes value:bytes){nfields}
//   group    := name:bytes last_id entries_read:signed nconsumers:varint consumer{nconsumers}
//               npel:varint nack{npel}
//   consumer := name:bytes seen_ms:signed
//   nack     := id delivery_ms:signed delivery_count:varint consumer_index:varint
//   id       := ms:varint seq:varint

void StreamObject::SerializeParts(std::string* out, const ImageParts& parts) const {
  if (parts.whole()) out->reserve(out->size() + bytes_);
  coding::PutU8(out, kImageVersion);
  PutId(out, last_id_);
  coding::PutVarint(out, entries_added_);
  PutId(out, max_deleted_id_);
  coding::PutVarint(out, length_);
  for (const auto& [key, node] : nodes_) {
    ForEachInNode(key, node, false, [&](StreamId id, FieldValues fv, size_t, bool) {
      PutId(out, id);
      coding::PutVarint(out, fv.size() / 2);
      for (std::string_view s : fv) coding::PutBytes(out, s);
      parts.Boundary(out);
      return true;
    });
  }
  coding::PutVarint(out, groups_.size());
  for (const auto& [name, g] : groups_) {
    coding::PutBytes(out, name);
    PutId(out, g->last_id);
    coding::PutSigned(out, g->entries_read);
    coding::PutVarint(out, g->consumers.size());
    std::map<const Consumer*, uint64_t> index;
    for (const auto& [cname, c] : g->consumers) {
      index.emplace(c.get(), index.size());
      coding::PutBytes(out, cname);
      coding::PutSigned(out, c->seen_ms);
    }
    coding::PutVarint(out, g->pel.size());
    for (const auto& [id, n] : g->pel) {
      PutId(out, id);
      coding::PutSigned(out, n.delivery_ms);
      coding::PutVarint(out, n.delivery_count);
      coding::PutVarint(out, index[n.consumer]);
      parts.Boundary(out);
    }
  }
}

Result<StreamObject*> StreamObject::Decode(std::string_view in) {
  auto s = std::make_unique<StreamObject>();
  auto bad = [] { return BadImage("stream"); };
  uint8_t version;
  uint64_t length;
  StreamId last_id, max_deleted;
  uint64_t entries_added;
  if (!coding::GetU8(&in, &version) || version != kImageVersion || !GetId(&in, &last_id) ||
      !coding::GetVarint(&in, &entries_added) || !GetId(&in, &max_deleted) ||
      !coding::GetVarint(&in, &length)) {
    return bad();
  }
  // Every entry takes at least 4 bytes: bounds the loop before it allocates.
  if (length > in.size() / 4 || entries_added < length) return bad();
  std::vector<std::string_view> fv;
  std::string ignored;
  StreamId prev;
  for (uint64_t i = 0; i < length; i++) {
    StreamId id;
    uint64_t nf;
    if (!GetId(&in, &id) || !coding::GetVarint(&in, &nf) || nf == 0 || nf > in.size() / 2) {
      return bad();
    }
    if ((i > 0 && id <= prev) || id > last_id || id.IsZero()) return bad();
    fv.clear();
    for (uint64_t j = 0; j < 2 * nf; j++) {
      std::string_view b;
      if (!coding::GetBytes(&in, &b)) return bad();
      fv.push_back(b);
    }
    StreamId saved_last = s->last_id_;
    (void)saved_last;
    s->DoAppend(id, FieldValues(fv), kDefaultNodeMaxBytes, kDefaultNodeMaxEntries);
    prev = id;
  }
  s->last_id_ = last_id;
  s->entries_added_ = entries_added;
  s->max_deleted_id_ = max_deleted;
  uint64_t ngroups;
  if (!coding::GetVarint(&in, &ngroups) || ngroups > in.size() / 4) return bad();
  std::string prev_group;
  for (uint64_t gi = 0; gi < ngroups; gi++) {
    std::string_view name;
    StreamId glast;
    int64_t entries_read;
    uint64_t nconsumers;
    if (!coding::GetBytes(&in, &name) || !GetId(&in, &glast) ||
        !coding::GetSigned(&in, &entries_read) || entries_read < kInvalidEntriesRead ||
        !coding::GetVarint(&in, &nconsumers) || nconsumers > in.size() / 2) {
      return bad();
    }
    if (gi > 0 && name <= prev_group) return bad();
    prev_group = std::string(name);
    Group* g = s->CreateGroup(name, glast, entries_read, &ignored);
    std::vector<Consumer*> consumers;
    consumers.reserve(nconsumers);
    std::string_view prev_consumer;
    for (uint64_t ci = 0; ci < nconsumers; ci++) {
      std::string_view cname;
      int64_t seen;
      if (!coding::GetBytes(&in, &cname) || !coding::GetSigned(&in, &seen)) return bad();
      if (ci > 0 && cname <= prev_consumer) return bad();
      prev_consumer = cname;
      consumers.push_back(s->TouchConsumer(name, cname, seen, &ignored));
    }
    uint64_t npel;
    if (!coding::GetVarint(&in, &npel) || npel > in.size() / 4) return bad();
    StreamId prev_nack;
    for (uint64_t ni = 0; ni < npel; ni++) {
      StreamId id;
      int64_t when;
      uint64_t count, idx;
      if (!GetId(&in, &id) || !coding::GetSigned(&in, &when) || !coding::GetVarint(&in, &count) ||
          !coding::GetVarint(&in, &idx) || idx >= consumers.size() || (ni > 0 && id <= prev_nack)) {
        return bad();
      }
      prev_nack = id;
      s->SetNack(name, id, consumers[idx]->name, when, count, &ignored);
    }
    (void)g;
    ignored.clear();
  }
  if (!in.empty()) return bad();
  return s.release();
}

ValueObject* StreamObject::Clone() const {
  std::string image;
  Serialize(&image);
  Result<StreamObject*> r = Decode(image);
  FDB_CHECK(r.ok());
  return *r;
}

// --- Deltas ---

Status StreamObject::ApplyOne(std::string_view* in) {
  auto bad = [] { return BadDelta("stream"); };
  uint8_t op;
  if (!coding::GetU8(in, &op)) return bad();
  std::string ignored;
  switch (op) {
    case kOpAppend: {
      StreamId id;
      uint64_t nf;
      if (!GetId(in, &id) || !coding::GetVarint(in, &nf) || nf == 0 || nf > in->size() / 2 ||
          id <= last_id_) {  // Invariant: last_id_ >= every entry's ID
        return bad();
      }
      std::vector<std::string_view> fv;
      for (uint64_t j = 0; j < 2 * nf; j++) {
        std::string_view b;
        if (!coding::GetBytes(in, &b)) return bad();
        fv.push_back(b);
      }
      DoAppend(id, FieldValues(fv), kDefaultNodeMaxBytes, kDefaultNodeMaxEntries);
      return Status::OK();
    }
    case kOpDelete: {
      StreamId id;
      if (!GetId(in, &id)) return bad();
      (void)Delete(id, &ignored);
      return Status::OK();
    }
    case kOpTrim: {
      StreamId id;
      if (!GetId(in, &id)) return bad();
      (void)DoTrimThrough(id);
      return Status::OK();
    }
    case kOpMeta: {
      StreamId last, maxdel;
      uint64_t added;
      if (!GetId(in, &last) || !GetId(in, &maxdel) || !coding::GetVarint(in, &added) ||
          last < LastEntryId() || added < length_) {
        return bad();
      }
      SetMeta(last, maxdel, added, &ignored);
      return Status::OK();
    }
    case kOpGroupCreate: {
      std::string_view name;
      StreamId id;
      int64_t er;
      if (!coding::GetBytes(in, &name) || !GetId(in, &id) || !coding::GetSigned(in, &er) ||
          er < kInvalidEntriesRead) {
        return bad();
      }
      if (CreateGroup(name, id, er, &ignored) == nullptr) return bad();
      return Status::OK();
    }
    case kOpGroupDestroy: {
      std::string_view name;
      if (!coding::GetBytes(in, &name) || !DestroyGroup(name, &ignored)) return bad();
      return Status::OK();
    }
    case kOpGroupPos: {
      std::string_view name;
      StreamId id;
      int64_t er;
      if (!coding::GetBytes(in, &name) || !GetId(in, &id) || !coding::GetSigned(in, &er) ||
          er < kInvalidEntriesRead || FindGroup(name) == nullptr) {
        return bad();
      }
      SetGroupPos(name, id, er, &ignored);
      return Status::OK();
    }
    case kOpConsumer: {
      std::string_view group, name;
      int64_t seen;
      if (!coding::GetBytes(in, &group) || !coding::GetBytes(in, &name) ||
          !coding::GetSigned(in, &seen) || FindGroup(group) == nullptr) {
        return bad();
      }
      TouchConsumer(group, name, seen, &ignored);
      return Status::OK();
    }
    case kOpConsumerDel: {
      std::string_view group, name;
      if (!coding::GetBytes(in, &group) || !coding::GetBytes(in, &name) ||
          FindGroup(group) == nullptr) {
        return bad();
      }
      (void)DeleteConsumer(group, name, &ignored);
      return Status::OK();
    }
    case kOpNack: {
      std::string_view group, consumer;
      StreamId id;
      int64_t when;
      uint64_t count;
      if (!coding::GetBytes(in, &group) || !GetId(in, &id) || !coding::GetBytes(in, &consumer) ||
          !coding::GetSigned(in, &when) || !coding::GetVarint(in, &count)) {
        return bad();
      }
      Group* g = FindGroup(group);
      if (g == nullptr || FindConsumer(*g, consumer) == nullptr) return bad();
      SetNack(group, id, consumer, when, count, &ignored);
      return Status::OK();
    }
    case kOpAck: {
      std::string_view group;
      StreamId id;
      if (!coding::GetBytes(in, &group) || !GetId(in, &id) || FindGroup(group) == nullptr) {
        return bad();
      }
      (void)Ack(group, id, &ignored);
      return Status::OK();
    }
  }
  return bad();
}

Status StreamObject::ApplyDelta(std::string_view delta) {
  if (delta.empty()) return BadDelta("stream");
  while (!delta.empty()) {
    Status s = ApplyOne(&delta);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

ValueObject* NewStreamObject() { return new StreamObject(); }

Result<ValueObject*> DecodeStreamObject(std::string_view image) {
  return AsValueObject(StreamObject::Decode(image));
}

}  // namespace fdb
