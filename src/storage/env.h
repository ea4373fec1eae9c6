// The storage layer's only door to the file system. Everything written to a data directory
// (segments, the manifest, truncation of a torn tail) goes through an Env, so tests can swap
// in FaultInjectionEnv and make a write fail with ENOSPC, an fsync fail with EIO, or a "power
// loss" drop what was never synced. Modelled on LevelDB's Env, reduced to what FDB uses.
//
// Thread-safety: an Env may be used from any thread. A WritableFile is used by one thread at a
// time; a RandomAccessFile may be read concurrently (pread).
// Errors are Status::IOError whose message names the path and the errno text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace fdb::storage {

// A file being written, always at its end. Append may have written a prefix of `data` when it
// fails: the caller repairs with Truncate before writing again.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: data and the size are durable when it returns OK.
  virtual Status Sync() = 0;
  // Cuts the file to `size` bytes; the next Append writes at `size`.
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Close() = 0;
  // Bytes in the file as this object believes (its write position).
  virtual uint64_t Size() const = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into dst; returns the count, short only at end of file.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* dst) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX Env. Never destroyed.
  static Env* Default();

  // Creates `path`, or empties it if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomic replace of `to` (rename(2)); durable only after SyncDir.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes creations, renames and removals of entries in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Cuts an existing file to `size` bytes and fsyncs it.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
};

// Reads a whole (small) file, e.g. the manifest.
Result<std::string> ReadFileToString(Env* env, const std::string& path);

}  // namespace fdb::storage
