// ListObject: the list type, a sequence of packed nodes (Redis's quicklist of listpacks).
//
// Model: the elements live in nodes of at most kNodeBytes, each one malloc block holding a small
// header and the elements packed back to back. An element costs its bytes plus 2-3 bytes
// (listpack's cost): a header giving its length (or an integer tag), then the data, then its
// total size again ("backlen"), so a node can be walked from either end. Strings that are
// canonical 64-bit integers are stored as 1-8 little-endian bytes, as listpack does.
//
// A node keeps free room at both ends (start_ .. end_ inside cap_): a push at the head writes
// before start_ and a push at the tail after end_, so LPUSH and RPUSH cost O(element) until the
// node is full, not a memmove of the node (as listpack's lpInsert does). A node grows by
// doubling up to kNodeBytes; a full node is followed by a new one. Inserts and removals in the
// middle (LINSERT, LSET, LREM, LTRIM) shift the bytes of one node: O(kNodeBytes).
//
// Index lookups walk the node counts from the nearer end (O(number of nodes), ~1/1000 of the
// elements for short elements), then the elements of one node.
//
// Alternative rejected: std::deque<std::string> (32 B + malloc per element: 10x the memory of
// Redis for short elements).
//
// Thread safety: none; the key's shard lock guards the object.
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
  // The largest node allocation (header included). Redis's list-max-listpack-size -2: 8 KB.
  static constexpr uint32_t kNodeBytes = 8192;

  // A decoded element: either a string (view into the node, valid until the next mutation) or
  // an integer.
  struct Elem {
    std::string_view str;
    int64_t num = 0;
    bool is_int = false;
    // The element as a string; integers are formatted into buf.
    std::string_view View(char (&buf)[24]) const;
    bool Equals(std::string_view s) const;
    std::string ToString() const;
  };

  ListObject() = default;
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
  Elem At(size_t i) const;
  void Set(size_t i, std::string_view v);
  // Inserts v so that it becomes element i (i == Size() appends).
  void Insert(size_t i, std::string_view v);
  // Removes up to |count| elements equal to v, from the head (count > 0), the tail (count < 0)
  // or all (count == 0). Returns the number removed.
  size_t Remove(std::string_view v, int64_t count);
  // Keeps elements [start, start + n). REQUIRES: start + n <= Size().
  void Trim(size_t start, size_t n);

  // Calls fn(const Elem&) for elements [start, start + n), from the head, or from the tail
  // backwards when `reverse` (then start counts from the tail). fn returns false to stop.
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

  // For tests: the number of nodes.
  size_t NodeCount() const { return nodes_.size(); }

 private:
  struct Node;
  // Locates element i: node index and byte offset of the element in it.
  void Locate(size_t i, size_t* node, uint32_t* off) const;
  Node* NewNode(uint32_t cap, bool at_end);
  void FreeNode(size_t ni);
  // Makes room for `need` bytes at the front or back of node ni (reallocating it).
  void Reserve(size_t ni, uint32_t need, bool front);
  void Account(int64_t delta) { mem_bytes_ = static_cast<size_t>(mem_bytes_ + delta); }
  // Inserts encoded bytes at byte offset off of node ni (shifting the rest); splits the node
  // first when it would pass kNodeBytes.
  void InsertEncoded(size_t ni, uint32_t off, std::string_view enc);

  // A vector, not a std::deque: an empty deque already allocates ~600 bytes, and a new node
  // at the front (every ~kNodeBytes of LPUSH) moves only pointers.
  std::vector<Node*> nodes_;
  size_t size_ = 0;
  size_t mem_bytes_ = sizeof(ListObject);
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
  uint32_t cap;    // bytes of data[]
  uint32_t start;  // first used byte
  uint32_t end;    // one past the last used byte
  uint32_t count;  // elements
  char data[];
  const char* begin_ptr() const { return data + start; }
  const char* end_ptr() const { return data + end; }
  uint32_t used() const { return end - start; }
};

template <class Fn>
void ListObject::ForRange(size_t start, size_t n, bool reverse, Fn&& fn) const {
  if (n == 0) return;
  size_t ni;
  uint32_t off;
  if (!reverse) {
    Locate(start, &ni, &off);
    const char* p = nodes_[ni]->data + off;
    while (true) {
      const Node* node = nodes_[ni];
      const char* e = node->end_ptr();
      while (p < e) {
        const char* next;
        Elem el = listpack::Decode(p, &next);
        if (!fn(el) || --n == 0) return;
        p = next;
      }
      if (++ni == nodes_.size()) return;
      p = nodes_[ni]->begin_ptr();
    }
  } else {
    Locate(size_ - 1 - start, &ni, &off);
    const Node* node = nodes_[ni];
    const char* p = node->data + off;  // start of the current element
    while (true) {
      const char* next;
      Elem el = listpack::Decode(p, &next);
      if (!fn(el) || --n == 0) return;
      if (p == node->begin_ptr()) {
        if (ni == 0) return;
        node = nodes_[--ni];
        p = listpack::Prev(node->end_ptr());
      } else {
        p = listpack::Prev(p);
      }
    }
  }
}

}  // namespace fdb
