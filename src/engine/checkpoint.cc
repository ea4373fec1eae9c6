#include "engine/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/hash.h"
#include "base/slot.h"
#include "engine/effects.h"
#include "storage/crc32c.h"
#include "storage/env.h"

namespace fdb {

namespace {

// The last byte is the ShardLayout's number, as a digit.
constexpr char kMagicPrefix[7] = {'F', 'D', 'B', 'C', 'K', 'P', 'T'};
constexpr size_t kMagicSize = 8;
static_assert(sizeof(kMagicPrefix) + 1 == kMagicSize);
constexpr uint8_t kEndMarker = 0xff;
constexpr size_t kBufferBytes = 1 << 20;

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetFixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + strerror(errno));
}

}  // namespace

int ShardOfKeyIn(ShardLayout layout, std::string_view key) {
  switch (layout) {
    case ShardLayout::kXxh3LowBits:
      return static_cast<int>(HashKey(key) & (limits::kNumShards - 1));
    case ShardLayout::kSlotRanges:
      return ShardOfKey(key);
  }
  return ShardOfKey(key);
}

CheckpointWriter::~CheckpointWriter() {
  if (fd_ >= 0) close(fd_);
}

Status CheckpointWriter::Open(const std::string& path, ShardLayout layout) {
  path_ = path;
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("cannot create", path);
  buf_.assign(kMagicPrefix, sizeof(kMagicPrefix));
  buf_.push_back(static_cast<char>('0' + static_cast<int>(layout)));
  return Status::OK();
}

Status CheckpointWriter::WriteBuffer() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_);
    }
    off += n;
  }
  buf_.clear();
  return Status::OK();
}

Status CheckpointWriter::FlushBuffer() {
  crc_ = storage::crc32c::Extend(crc_, buf_.data(), buf_.size());
  return WriteBuffer();
}

Status CheckpointWriter::Add(const CheckpointEntry& e) {
  buf_.push_back(static_cast<char>(e.db));
  buf_.push_back(static_cast<char>(e.type));
  PutVarint(&buf_, e.key.size());
  buf_.append(e.key);
  PutFixed(&buf_, static_cast<uint64_t>(e.expire_ms), 8);
  PutFixed(&buf_, e.loc, 8);
  PutVarint(&buf_, e.value_len);
  count_++;
  if (buf_.size() >= kBufferBytes) return FlushBuffer();
  return Status::OK();
}

Status CheckpointWriter::Finish(const std::vector<uint64_t>& shard_seq) {
  buf_.push_back(static_cast<char>(kEndMarker));
  PutFixed(&buf_, shard_seq.size(), 4);
  for (uint64_t s : shard_seq) PutFixed(&buf_, s, 8);
  PutFixed(&buf_, count_, 8);
  crc_ = storage::crc32c::Extend(crc_, buf_.data(), buf_.size());
  PutFixed(&buf_, storage::crc32c::Mask(crc_), 4);  // covers every byte before it
  Status s = WriteBuffer();
  if (!s.ok()) return s;
  if (fsync(fd_) != 0) return Errno("cannot fsync", path_);
  if (close(fd_) != 0) {
    fd_ = -1;
    return Errno("cannot close", path_);
  }
  fd_ = -1;
  return Status::OK();
}

Status ReadCheckpoint(const std::string& path, ShardLayout* layout,
                      std::vector<uint64_t>* shard_seq,
                      const std::function<void(const CheckpointEntry&)>& fn) {
  auto data = storage::ReadFileToString(storage::Env::Default(), path);
  if (!data.ok()) return data.status();
  const std::string& d = data.value();
  auto bad = [&](const std::string& why, size_t off) {
    return Status::Corruption(path + ": offset " + std::to_string(off) + ": " + why);
  };
  if (d.size() < kMagicSize + 1 + 4 + 8 + 4 ||
      memcmp(d.data(), kMagicPrefix, sizeof(kMagicPrefix)) != 0) {
    return bad("not a checkpoint file (bad magic or too short)", 0);
  }
  uint32_t stored = static_cast<uint32_t>(GetFixed(d.data() + d.size() - 4, 4));
  if (storage::crc32c::Mask(storage::crc32c::Value(d.data(), d.size() - 4)) != stored) {
    return bad("checksum mismatch", d.size() - 4);
  }
  // Both versions are read: a version 1 checkpoint is interpreted with its own shard function
  // (StorageEngine converts the directory on open). A later version is refused, not guessed.
  const char version = d[kMagicSize - 1];
  if (version == '1') {
    *layout = ShardLayout::kXxh3LowBits;
  } else if (version == '2') {
    *layout = ShardLayout::kSlotRanges;
  } else {
    return bad(std::string("checkpoint format version '") + version +
                   "' is newer than this build's (2): open the directory with the FDB that "
                   "wrote it",
               kMagicSize - 1);
  }
  uint64_t count = GetFixed(d.data() + d.size() - 12, 8);
  std::string_view in(d.data() + 8, d.size() - 8 - 12);
  uint64_t seen = 0;
  while (!in.empty() && static_cast<uint8_t>(in[0]) != kEndMarker) {
    size_t off = d.size() - 12 - in.size();
    if (in.size() < 2) return bad("truncated entry", off);
    CheckpointEntry e;
    e.db = static_cast<uint8_t>(in[0]);
    e.type = static_cast<ValueType>(static_cast<uint8_t>(in[1]));
    in.remove_prefix(2);
    uint64_t klen;
    if (e.db >= 16 || !GetVarint(&in, &klen) || klen > in.size()) return bad("bad entry", off);
    e.key = in.substr(0, klen);
    in.remove_prefix(klen);
    if (in.size() < 16) return bad("truncated entry", off);
    e.expire_ms = static_cast<int64_t>(GetFixed(in.data(), 8));
    e.loc = GetFixed(in.data() + 8, 8);
    in.remove_prefix(16);
    if (!GetVarint(&in, &e.value_len)) return bad("bad entry", off);
    fn(e);
    seen++;
  }
  if (in.size() < 5) return bad("missing trailer", d.size() - 12 - in.size());
  in.remove_prefix(1);
  uint32_t nshards = static_cast<uint32_t>(GetFixed(in.data(), 4));
  in.remove_prefix(4);
  if (in.size() != static_cast<size_t>(nshards) * 8 || nshards != shard_seq->size()) {
    return bad("shard count differs from this build's", d.size() - 12 - in.size());
  }
  for (uint32_t i = 0; i < nshards; i++) (*shard_seq)[i] = GetFixed(in.data() + 8 * i, 8);
  if (seen != count) return bad("entry count mismatch", d.size() - 12);
  return Status::OK();
}

}  // namespace fdb
