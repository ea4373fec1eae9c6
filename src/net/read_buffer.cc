#include "net/read_buffer.h"

#include <cstdlib>
#include <cstring>

#include "base/limits.h"

namespace fdb {

ReadBuffer::~ReadBuffer() { free(data_); }

bool ReadBuffer::Reserve(size_t n) {
  if (capacity_ - end_ >= n) return true;
  size_t used = end_ - start_;
  if (start_ > 0 && capacity_ - used >= n) {
    memmove(data_, data_ + start_, used);
    start_ = 0;
    end_ = used;
    return true;
  }
  if (start_ > 0) {  // move first, so realloc carries only the unconsumed bytes
    memmove(data_, data_ + start_, used);
    start_ = 0;
    end_ = used;
  }
  size_t want = used + n;
  char* p = static_cast<char*>(realloc(data_, want));
  if (p == nullptr) return false;
  data_ = p;
  capacity_ = want;
  return true;
}

bool ReadBuffer::Append(const char* p, size_t n) {
  if (!Reserve(n)) return false;
  memcpy(data_ + end_, p, n);
  end_ += n;
  return true;
}

void ReadBuffer::Consume(size_t n) {
  start_ += n;
  if (start_ == end_) start_ = end_ = 0;
}

void ReadBuffer::Shrink() {
  if (empty()) {
    Release();
    return;
  }
  size_t used = end_ - start_;
  // Keep a read chunk of slack: the rest of a request usually follows.
  if (capacity_ <= used + 2 * limits::kReadChunk) return;
  if (start_ > 0) {
    memmove(data_, data_ + start_, used);
    start_ = 0;
    end_ = used;
  }
  size_t want = used + limits::kReadChunk;
  char* p = static_cast<char*>(realloc(data_, want));
  if (p == nullptr) return;  // keeping the bigger block is fine
  data_ = p;
  capacity_ = want;
}

void ReadBuffer::Release() {
  free(data_);
  data_ = nullptr;
  capacity_ = start_ = end_ = 0;
}

}  // namespace fdb
