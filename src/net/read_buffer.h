// ReadBuffer: a connection's own buffer of received request bytes.
//
// The model: a connection normally owns no read buffer. Requests are read into the I/O
// thread's shared chunk and parsed there; only the bytes of a request that is not complete yet
// are kept here, and the buffer is freed again once they are consumed. So an idle connection
// costs no read memory, and a busy one as much as its unfinished request.
//
// Memory follows the bytes received, never the lengths a client declares: Reserve() is asked
// for room for the next read, which the caller bounds by a step (limits::kReadGrowthStepMax),
// and the block is managed with malloc/realloc, not a std::vector, so growing it neither
// zero-fills nor (for glibc's mmapped blocks, which realloc moves with mremap) copies it.
// An allocation that fails is reported (false), not thrown: the connection decides.
//
// Not thread-safe: owned and touched by the connection's I/O thread.
#pragma once

#include <cstddef>

namespace fdb {

class ReadBuffer {
 public:
  ReadBuffer() = default;
  ~ReadBuffer();
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  // The unconsumed bytes, [data(), data() + size()).
  const char* data() const { return data_ + start_; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return end_ == start_; }
  size_t capacity() const { return capacity_; }

  // Makes room for at least `n` more bytes after the data: moves the data to the front when
  // that is enough, else grows the block to size() + n. Returns false (the buffer unchanged)
  // when memory cannot be had.
  [[nodiscard]] bool Reserve(size_t n);
  // Where the next read goes, and how much fits there.
  char* write_ptr() { return data_ + end_; }
  size_t writable() const { return capacity_ - end_; }
  // REQUIRES: n <= writable(); the bytes were written at write_ptr().
  void Commit(size_t n) { end_ += n; }
  // Copies bytes to the end. Returns false when memory cannot be had.
  [[nodiscard]] bool Append(const char* p, size_t n);
  // Drops the first n bytes. REQUIRES: n <= size().
  void Consume(size_t n);
  // Drops the bytes after the first n (a large argument's body, moved to a block of its own).
  // REQUIRES: n <= size().
  void Truncate(size_t n) {
    end_ = start_ + n;
    if (start_ == end_) start_ = end_ = 0;
  }
  // Gives memory back: all of it when empty (a connection between requests owns no buffer),
  // else the slack beyond the data when it is large (after a big argument was consumed).
  void Shrink();
  void Release();

 private:
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // end of the received bytes
};

}  // namespace fdb
