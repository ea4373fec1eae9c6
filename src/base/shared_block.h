// SharedBlock: the bytes of one large string value, shared by reference instead of copied.
//
// Model. A bulk argument of at least limits::kLargeValueMin bytes is read from its socket into
// a block of its own (net/connection.cc), which grows with the bytes received; SET adopts the
// block as the value of its entry (Encoding::kLarge), and the log writes the put record's
// value straight from it, keeping a reference until the bytes are durable (storage/payload.h).
// So a value costs its size once in RAM, not once per stage (read buffer, entry, payload,
// log buffer, repair copy), and none of those stages copies it.
//
// Life cycle: a block is built by one owner (Reserve, mutable_data, set_size) while it is
// unshared, then becomes immutable for as long as it is shared: readers on any thread may then
// read it without a lock. The reference count is atomic; the last Unref frees it.
//
// Memory comes from malloc/realloc, never zero-filled (or, for bytes built elsewhere, from the
// std::string the block took over, FromString): glibc serves blocks this large with
// mmap and grows them with mremap, which moves page-table entries, not bytes; only pages
// actually written count in the process's RSS.
//
// Alternative rejected: std::shared_ptr<std::string>. The string zero-fills on resize, its
// growth copies, and the pointer is 16 bytes where an entry has an 8-byte slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "base/check.h"

namespace fdb {

class SharedBlock {
 public:
  // A new empty block with one reference (the caller's) and room for `capacity` bytes;
  // nullptr when the memory cannot be had.
  static SharedBlock* New(size_t capacity) {
    void* mem = capacity > 0 ? malloc(capacity) : nullptr;
    if (capacity > 0 && mem == nullptr) return nullptr;
    SharedBlock* b = new (std::nothrow) SharedBlock();
    if (b == nullptr) {
      free(mem);
      return nullptr;
    }
    b->data_ = static_cast<char*>(mem);
    b->capacity_ = capacity;
    return b;
  }
  // A block holding a copy of `bytes`; nullptr when the memory cannot be had.
  static SharedBlock* Copy(std::string_view bytes) {
    SharedBlock* b = New(bytes.size());
    if (b == nullptr) return nullptr;
    if (!bytes.empty()) memcpy(b->data_, bytes.data(), bytes.size());
    b->size_ = bytes.size();
    return b;
  }

  // A block that takes over the buffer of s, without a copy: for bytes built in a std::string,
  // such as a collection's serialized image (engine/effects.cc). Such a block is complete: it
  // never grows (Reserve past its capacity fails). nullptr (s unchanged) when the memory for
  // the block's header cannot be had.
  static SharedBlock* FromString(std::string&& s) {
    auto* str = new (std::nothrow) std::string();
    if (str == nullptr) return nullptr;
    SharedBlock* b = new (std::nothrow) SharedBlock();
    if (b == nullptr) {
      delete str;
      return nullptr;
    }
    str->swap(s);  // the buffer changes hands; its bytes do not move
    b->str_ = str;
    b->data_ = str->data();
    b->size_ = str->size();
    b->capacity_ = str->capacity();
    return b;
  }

  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  // Grows the room to at least n bytes, keeping the contents. False when the memory cannot be
  // had (the block is then unchanged). REQUIRES: unshared.
  bool Reserve(size_t n) {
    FDB_CHECK(refs_.load(std::memory_order_relaxed) == 1);
    if (n <= capacity_) return true;
    if (str_ != nullptr) return false;  // FromString: complete
    void* p = realloc(data_, n);
    if (p == nullptr) return false;
    data_ = static_cast<char*>(p);
    capacity_ = n;
    return true;
  }
  // REQUIRES: unshared; bytes [size(), capacity()) are the caller's to fill.
  char* mutable_data() { return data_; }
  // REQUIRES: unshared, n <= capacity().
  void set_size(size_t n) {
    FDB_CHECK(n <= capacity_);
    size_ = n;
  }

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_, size_}; }

  void Ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() const {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // Owners at this moment (exact only while no other thread takes or drops a reference).
  uint32_t use_count() const { return refs_.load(std::memory_order_acquire); }

 private:
  SharedBlock() = default;
  ~SharedBlock() {
    if (str_ != nullptr) {
      delete str_;
    } else {
      free(data_);
    }
  }

  mutable std::atomic<uint32_t> refs_{1};
  std::string* str_ = nullptr;  // FromString: owns the bytes (data_ points into it)
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// An owning reference to a SharedBlock (an intrusive pointer: 8 bytes, copy = Ref).
class BlockRef {
 public:
  BlockRef() = default;
  // Takes over the reference the caller holds (e.g. from SharedBlock::New).
  static BlockRef Adopt(SharedBlock* b) {
    BlockRef r;
    r.b_ = b;
    return r;
  }
  // Takes a new reference to b.
  static BlockRef Share(const SharedBlock* b) {
    if (b != nullptr) b->Ref();
    BlockRef r;
    r.b_ = const_cast<SharedBlock*>(b);
    return r;
  }
  BlockRef(const BlockRef& o) : b_(o.b_) {
    if (b_ != nullptr) b_->Ref();
  }
  BlockRef(BlockRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  BlockRef& operator=(BlockRef o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BlockRef() { reset(); }

  void reset() {
    if (b_ != nullptr) std::exchange(b_, nullptr)->Unref();
  }
  // Gives up the reference without dropping it (the caller now owns it).
  SharedBlock* release() { return std::exchange(b_, nullptr); }
  SharedBlock* get() const { return b_; }
  SharedBlock* operator->() const { return b_; }
  explicit operator bool() const { return b_ != nullptr; }

 private:
  SharedBlock* b_ = nullptr;
};

}  // namespace fdb
