// Payload: a record payload (or any run of log bytes) in pieces, so large values are written
// to the log from the blocks that hold them instead of being copied into its buffers.
//
// The pieces, in order, are: bytes[0, splices[0].at), splices[0].block, bytes[splices[0].at,
// splices[1].at), splices[1].block, ..., bytes[splices.back().at, end). Small parts (headers,
// keys, small values) are copied into `bytes`; a SharedBlock is referenced, and stays alive as
// long as a Payload that splices it does (the log keeps one until the bytes are durable).
// On disk the pieces are one contiguous payload: the format does not know about them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/shared_block.h"

namespace fdb::storage {

struct Payload {
  struct Splice {
    size_t at;  // offset in `bytes` the block comes before
    BlockRef block;
  };

  Payload() = default;
  explicit Payload(std::string b) : bytes(std::move(b)) {}

  std::string bytes;
  std::vector<Splice> splices;  // ascending `at`

  size_t size() const {
    size_t n = bytes.size();
    for (const Splice& s : splices) n += s.block->size();
    return n;
  }
  bool empty() const { return bytes.empty() && splices.empty(); }
  void clear() {
    bytes.clear();
    splices.clear();
  }
  // Appends a block after the bytes so far (an empty block is left out).
  void AppendBlock(BlockRef block) {
    if (block->size() > 0) splices.push_back({bytes.size(), std::move(block)});
  }
  // Appends `other`'s pieces: its bytes are copied, its blocks shared.
  void Append(const Payload& other) {
    const size_t base = bytes.size();
    bytes.append(other.bytes);
    for (const Splice& s : other.splices) splices.push_back({base + s.at, s.block});
  }
  // The same, taking over other's references (other's bytes are still copied).
  void Append(Payload&& other) {
    const size_t base = bytes.size();
    bytes.append(other.bytes);
    for (Splice& s : other.splices) splices.push_back({base + s.at, std::move(s.block)});
    other.clear();
  }
  // Calls fn(std::string_view) for each non-empty piece, in order; stops at the first false.
  template <class Fn>
  bool ForEachPiece(Fn&& fn) const {
    size_t pos = 0;
    for (const Splice& s : splices) {
      if (s.at > pos && !fn(std::string_view(bytes).substr(pos, s.at - pos))) return false;
      pos = s.at;
      if (!fn(s.block->view())) return false;
    }
    if (pos < bytes.size() && !fn(std::string_view(bytes).substr(pos))) return false;
    return true;
  }
  // The bytes that exist only because this Payload holds them: its own bytes and the blocks
  // nobody else references any more (a value overwritten or deleted since). A block that a
  // value still holds costs nothing extra.
  size_t RetainedBytes() const {
    size_t n = bytes.size();
    for (const Splice& s : splices) {
      if (s.block->use_count() == 1) n += s.block->size();
    }
    return n;
  }
  // What holding this Payload costs in memory: its bytes' capacity and the blocks nobody else
  // references (a block a value still holds is counted with the value, not here).
  size_t MemoryBytes() const { return RetainedBytes() - bytes.size() + bytes.capacity(); }
  // Keeps the first n bytes. REQUIRES: n <= size(). A block the cut falls inside is replaced by
  // a copy of its kept part (a block is immutable once shared); the log cuts at record
  // boundaries, so in practice whole blocks are kept or dropped.
  void Truncate(size_t n) {
    size_t pos = 0;   // offset in the whole payload
    size_t bpos = 0;  // offset in `bytes`
    for (size_t i = 0; i < splices.size(); i++) {
      const Splice& s = splices[i];
      if (n <= pos + (s.at - bpos)) {
        bytes.resize(bpos + (n - pos));
        splices.erase(splices.begin() + static_cast<std::ptrdiff_t>(i), splices.end());
        return;
      }
      pos += s.at - bpos;
      bpos = s.at;
      const size_t block_size = s.block->size();
      if (n < pos + block_size) {
        bytes.resize(bpos);
        bytes.append(s.block->view().substr(0, n - pos));
        splices.erase(splices.begin() + static_cast<std::ptrdiff_t>(i), splices.end());
        return;
      }
      pos += block_size;
    }
    bytes.resize(bpos + (n - pos));
  }
  // Drops the first n bytes. REQUIRES: n <= size(). As Truncate, a block the cut falls inside
  // is replaced by a copy of its kept part (the log cuts at record boundaries).
  void DropPrefix(size_t n) {
    size_t pos = 0;   // offset in the whole payload
    size_t bpos = 0;  // offset in `bytes`
    size_t i = 0;
    for (; i < splices.size(); i++) {
      const size_t gap = splices[i].at - bpos;  // bytes before block i
      if (n <= pos + gap) break;
      pos += gap;
      bpos = splices[i].at;
      const size_t block_size = splices[i].block->size();
      if (n < pos + block_size) {  // inside block i: its kept part becomes bytes
        std::string rest(splices[i].block->view().substr(n - pos));
        const size_t shift = rest.size();
        rest.append(bytes, bpos, std::string::npos);
        bytes = std::move(rest);
        splices.erase(splices.begin(), splices.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        for (Splice& s : splices) s.at = s.at - bpos + shift;
        return;
      }
      pos += block_size;
    }
    const size_t cut = bpos + (n - pos);
    bytes.erase(0, cut);
    splices.erase(splices.begin(), splices.begin() + static_cast<std::ptrdiff_t>(i));
    for (Splice& s : splices) s.at -= cut;
  }
  // A contiguous copy of the bytes from offset `from` on. REQUIRES: from <= size().
  std::string CopyFrom(size_t from) const {
    std::string out;
    size_t pos = 0;
    ForEachPiece([&](std::string_view p) {
      if (pos + p.size() > from) out.append(p.substr(from > pos ? from - pos : 0));
      pos += p.size();
      return true;
    });
    return out;
  }
  // One contiguous copy (tests, and the rare consumer that needs contiguous bytes).
  std::string Flatten() const {
    std::string out;
    out.reserve(size());
    ForEachPiece([&](std::string_view p) {
      out.append(p);
      return true;
    });
    return out;
  }
};

}  // namespace fdb::storage
