// ListObject: the list type, a sequence of packed nodes (Redis's quicklist of listpacks).
//
// Model: the elements live in nodes, each one malloc block holding a small header and the
// elements packed back to back. An element costs its bytes plus 2-3 bytes (listpack's cost): a
// header giving its length (or an integer tag), then the data, then its total size again
// ("backlen"), so a node can be walked from either end. Strings that are canonical 64-bit
// integers are stored as 1-8 little-endian bytes, as listpack does.
//
// How full a node may get is Redis's quicklist fill (`list-max-listpack-size`): -1..-5 bound a
// node's bytes (4, 8, 16, 32, 64 KB, counted as a listpack of the same elements would be), a
// positive N bounds its elements (and its bytes by 8 KB, Redis's SIZE_SAFETY_LIMIT). A node always
// takes its first element, so an element larger than the bound sits in a node of its own; one
// of at least the packed threshold (1 GB, DEBUG QUICKLIST-PACKED-THRESHOLD) is a "plain" node
// that no other element joins, as Redis 7.0's.
//
// A node keeps free room at both ends (start_ .. end_ inside cap_): a push at the head writes
// before start_ and a push at the tail after end_, so LPUSH and RPUSH cost O(element) until the
// node is full, not a memmove of the node (as listpack's lpInsert does). A node grows by
// doubling up to its bound; a full node is followed by a new one. Inserts and removals in the
// middle (LINSERT, LSET, LREM, LTRIM) shift the bytes of one node.
//
// Compression (`list-compress-depth` D > 0): every node but the D at each end is kept
// LZF-compressed (liblzf), as Redis's quicklist, skipping nodes under 48 bytes and nodes that
// compression would shrink by less than 8 bytes. The ends stay raw, so pushes and pops never
// decompress; a change inside the list decompresses its node, changes it and compresses it
// again, and a read decompresses into a buffer of its own, leaving the node as it is (a read
// changes nothing in the object). Nodes are compressed as they stop being one of the D at an
// end. MemoryUsage counts the compressed sizes.
//
// A list takes the fill and depth in force when it is made and keeps them, as Redis's
// quicklistSetOptions at creation: CONFIG SET shapes the lists made after it.
//
// Index lookups walk the node counts from the nearer end (O(number of nodes), ~1/1000 of the
// elements for short elements at the default fill), then the elements of one node.
//
// Alternative rejected: std::deque<std::string> (32 B + malloc per element: 10x the memory of
// Redis for short elements).
//
// Thread safety: none; the key's shard lock guards the object. The process-wide defaults
// (SetDefaultOptions, SetPackedThreshold) are atomics, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/entry.h"

namespace fdb {

class ListObject final : public ValueObject {
 public:
  // A list's node rules, fixed when it is made.
  struct Options {
    int64_t fill = -2;           // list-max-listpack-size: -1..-5 size classes, N > 0 elements
    int64_t compress_depth = 0;  // list-compress-depth: raw nodes at each end (0: none compressed)
  };
  // The options of the lists made from now on (the server's list-max-listpack-size and
  // list-compress-depth, set at startup and by CONFIG SET). Process-wide, as Redis's server.*
  // settings: a list is made by commands, by the log's replay, by reading an evicted value back
  // and by RESTORE, and the setting is the server's in all of them. Values out of Redis's range
  // are clamped as quicklistSetOptions does (fill -5..32767, depth 0..65535).
  static void SetDefaultOptions(Options o);
  static Options DefaultOptions();
  // Elements of at least `bytes` go to a plain node of their own (DEBUG
  // QUICKLIST-PACKED-THRESHOLD; 0 restores the default, 1 GB). Read on every push.
  static void SetPackedThreshold(uint64_t bytes);
  static uint64_t PackedThreshold();

  // A decoded element: either a string (a view into the node, or into ForRange's buffer for a
  // compressed node: valid as long as ForRange says) or an integer.
  struct Elem {
    std::string_view str;
    int64_t num = 0;
    bool is_int = false;
    // The element as a string; integers are formatted into buf.
    std::string_view View(char (&buf)[24]) const;
    bool Equals(std::string_view s) const;
    std::string ToString() const;
  };

  // A list with DefaultOptions().
  ListObject();
  explicit ListObject(Options o);
  ~ListObject() override;
  ListObject(const ListObject&) = delete;
  ListObject& operator=(const ListObject&) = delete;

  ValueType type() const override { return ValueType::kList; }
  // Redis 7.0 reports every list as a quicklist.
  const char* encoding_name() const override { return "quicklist"; }
  size_t MemoryUsage() const override { return mem_bytes_; }
  size_t Size() const override { return size_; }
  size_t FreeEffort() const override { return nodes_.size(); }
  void SerializeParts(std::string* out, const ImageParts& parts) const override;
  Status ApplyDelta(std::string_view delta) override;
  ValueObject* Clone() const override;

  // --- Operations (indexes are 0-based from the head, already resolved by the caller). ---
  void PushFront(std::string_view v);
  void PushBack(std::string_view v);
  // REQUIRES: Size() > 0.
  std::string PopFront();
  std::string PopBack();
  // REQUIRES: i < Size().
  std::string At(size_t i) const;
  void Set(size_t i, std::string_view v);
  // Inserts v so that it becomes element i (i == Size() appends).
  void Insert(size_t i, std::string_view v);
  // Removes up to |count| elements equal to v, from the head (count > 0), the tail (count < 0)
  // or all (count == 0). Returns the number removed.
  size_t Remove(std::string_view v, int64_t count);
  // Keeps elements [start, start + n). REQUIRES: start + n <= Size().
  void Trim(size_t start, size_t n);

  // Calls fn(const Elem&) for elements [start, start + n), from the head, or from the tail
  // backwards when `reverse` (then start counts from the tail). fn returns false to stop. The
  // element's bytes are valid during the call only (a compressed node is read from a buffer
  // that the next node reuses).
  template <class Fn>
  void ForRange(size_t start, size_t n, bool reverse, Fn&& fn) const;

  // --- The mutators the Ops use. Each makes one change and writes that change's delta to
  // `delta` (replacing its contents) in the same call, so a change and its logged effect
  // cannot drift apart; the caller hands `delta` to Keyspace::Delta. ---
  // Pushes vals one by one at one end (LPUSH a b leaves b first); returns the new length.
  size_t Push(bool front, std::span<const std::string_view> vals, std::string* delta);
  // Removes n elements from one end. REQUIRES: n <= Size().
  void PopEnd(bool front, size_t n, std::string* delta);
  // Removes and returns the element at one end. REQUIRES: Size() > 0.
  std::string Pop(bool front, std::string* delta);
  // Element i becomes v. REQUIRES: i < Size().
  void SetAt(size_t i, std::string_view v, std::string* delta);
  // v becomes element i. REQUIRES: i <= Size().
  void InsertAt(size_t i, std::string_view v, std::string* delta);
  // Remove(v, count), logged as such; returns the number removed.
  size_t RemoveMatching(std::string_view v, int64_t count, std::string* delta);
  // Trim(start, n), logged as such.
  void TrimTo(size_t start, size_t n, std::string* delta);

  // --- Deltas (docs/format.md, "List image and deltas"). ---
  static void DeltaPush(std::string* out, bool front, std::span<const std::string_view> vals);
  static void DeltaPop(std::string* out, bool front, uint64_t count);
  static void DeltaSet(std::string* out, uint64_t index, std::string_view v);
  static void DeltaInsert(std::string* out, uint64_t index, std::string_view v);
  static void DeltaRemove(std::string* out, int64_t count, std::string_view v);
  static void DeltaTrim(std::string* out, uint64_t start, uint64_t n);

  // The options this list was made with (after clamping).
  Options options() const;
  // For tests: the number of nodes, a node's elements, and whether it is compressed.
  size_t NodeCount() const { return nodes_.size(); }
  size_t NodeSize(size_t ni) const;
  bool NodeCompressed(size_t ni) const;

 private:
  struct Node;
  // The node holding element i, and i's index within it.
  size_t FindNode(size_t i, size_t* j) const;
  // The byte offset of element j of node n, whose bytes are at `base` (Base).
  static uint32_t Offset(const char* base, const Node* n, size_t j);
  // Where node n's elements are, [base + start, base + end): the node itself when raw, else
  // `scratch`, which receives them decompressed.
  static const char* Base(const Node* n, std::string* scratch);
  Node* NewNode(uint32_t cap, bool at_end);
  void FreeNode(size_t ni);
  // Makes room for `need` bytes at the front or back of node ni (reallocating it). REQUIRES:
  // node ni raw.
  void Reserve(size_t ni, uint32_t need, bool front);
  void Account(int64_t delta) { mem_bytes_ = static_cast<size_t>(mem_bytes_ + delta); }
  // Whether a node of `bytes` data bytes and `count` elements is within the fill (Redis's
  // _quicklistNodeAllowInsert: a size class alone, or a count under the 8 KB safety limit).
  bool Fits(uint64_t bytes, uint64_t count) const;
  // Whether an element of s encoded bytes (`large`: at least the packed threshold) may join
  // node n (Redis's _quicklistNodeAllowInsert).
  bool AllowInsert(const Node* n, uint32_t s, bool large) const;
  // AllowInsert for a push at an end, whose node is never empty.
  bool AllowPush(const Node* n, uint32_t s, std::string_view v) const;
  // A push of v (s encoded bytes) into a new node at one end.
  void PushNewNode(std::string_view v, uint32_t s, bool front);
  // Inserts encoded bytes at byte offset off of node ni (shifting the rest); splits the node
  // first when the element may not join it. REQUIRES: node ni raw.
  void InsertEncoded(size_t ni, uint32_t off, std::string_view enc, bool large);
  // Compression: Compress keeps node ni raw when it is small or compresses badly.
  void Compress(size_t ni);
  void Decompress(size_t ni);
  // Restores the compression rule after a change: the depth_ nodes at each end raw, the nodes
  // next to them and the changed nodes [lo, hi) that are inside compressed. Every other inner
  // node already is (only a change decompresses one).
  void Settle(size_t lo, size_t hi);

  // A vector, not a std::deque: an empty deque already allocates ~600 bytes, and a new node
  // at the front (every node's worth of LPUSH) moves only pointers.
  std::vector<Node*> nodes_;
  size_t size_ = 0;
  size_t mem_bytes_ = sizeof(ListObject);
  // The fill as bounds a node must stay within (Fits), read on every push: its data bytes (a
  // size class or the safety limit, less a listpack's header) and its elements.
  uint32_t max_bytes_;
  uint16_t max_count_;
  uint16_t depth_;
};

// --- Element encoding (shared by ListObject and its tests). ---
namespace listpack {
// Appends the encoding of v (header, data, backlen) to out.
void Encode(std::string_view v, std::string* out);
// Size of the encoding of v.
uint32_t EncodedSize(std::string_view v);
// Decodes the element starting at p; sets *next past it.
ListObject::Elem Decode(const char* p, const char** next);
// The start of the element ending at `end`.
const char* Prev(const char* end);
}  // namespace listpack

// The node layout is private to list_object.cc except for the traversal ForRange needs.
struct ListObject::Node {
  uint32_t cap;     // bytes of data[]
  uint32_t start;   // first used byte (0 when compressed)
  uint32_t end;     // one past the last used byte; when compressed, the raw size of the elements
  uint32_t count;   // elements
  bool compressed;  // data[0, cap) is the LZF compression of the elements' end bytes
  bool plain;       // a large element alone (Redis's plain node): no other element joins it
  char data[];
  const char* begin_ptr() const { return data + start; }
  const char* end_ptr() const { return data + end; }
  uint32_t used() const { return end - start; }
};

template <class Fn>
void ListObject::ForRange(size_t start, size_t n, bool reverse, Fn&& fn) const {
  if (n == 0) return;
  std::string scratch;  // a compressed node's elements
  size_t j;
  size_t ni = FindNode(reverse ? size_ - 1 - start : start, &j);
  const Node* node = nodes_[ni];
  const char* base = Base(node, &scratch);
  const char* p = base + Offset(base, node, j);  // start of the current element
  if (!reverse) {
    while (true) {
      const char* e = base + node->end;
      while (p < e) {
        const char* next;
        Elem el = listpack::Decode(p, &next);
        if (!fn(el) || --n == 0) return;
        p = next;
      }
      if (++ni == nodes_.size()) return;
      node = nodes_[ni];
      base = Base(node, &scratch);
      p = base + node->start;
    }
  } else {
    while (true) {
      const char* next;
      Elem el = listpack::Decode(p, &next);
      if (!fn(el) || --n == 0) return;
      if (p == base + node->start) {
        if (ni == 0) return;
        node = nodes_[--ni];
        base = Base(node, &scratch);
        p = listpack::Prev(base + node->end);
      } else {
        p = listpack::Prev(p);
      }
    }
  }
}

}  // namespace fdb
