// The manifest: which segments are live and which checkpoint recovery starts from. It is the
// single source of truth for recovery: a segment file not named here is an orphan (a crash
// between creating it and publishing it, or a compaction output never published) and is
// ignored.
//
// Grammar (little-endian; docs/format.md):
//   manifest  := magic[8]="FDBMANI\n" version:u32 body_length:u32 body crc:u32
//   body      := generation:u64 checkpoint_sequence:u64
//                checkpoint_name_length:u16 checkpoint_name[checkpoint_name_length]
//                segment_count:u32 segment_id:u64{segment_count}
//   crc       = mask(crc32c(version .. end of body))
//
// Replacement is atomic: write MANIFEST.tmp, fsync it, rename over MANIFEST, fsync the
// directory. A crash leaves either the old or the new manifest, never a mix; a leftover
// MANIFEST.tmp is garbage. A checksum failure is Corruption (the rename protocol means a torn
// manifest cannot happen, so there is nothing to salvage automatically).
//
// Thread-safety: the functions are stateless; concurrent writers of one directory must be
// serialized by the caller (the engine holds one mutex for manifest edits).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/env.h"

namespace fdb::storage {

inline constexpr char kManifestMagic[8] = {'F', 'D', 'B', 'M', 'A', 'N', 'I', '\n'};
inline constexpr uint32_t kManifestVersion = 1;
// Bounds a reader enforces before allocating: a million segments is 64 TiB of log.
inline constexpr uint32_t kMaxManifestSegments = 1u << 20;
inline constexpr size_t kMaxCheckpointNameLength = 255;

struct Manifest {
  uint64_t generation = 0;           // bumped by every write; for diagnostics
  std::string checkpoint_file;       // file name in the data directory; empty: no checkpoint
  uint64_t checkpoint_sequence = 0;  // the checkpoint covers records up to here
  std::vector<uint64_t> segments;    // live segment ids, ascending, no duplicates
  bool operator==(const Manifest&) const = default;
};

std::string EncodeManifest(const Manifest& manifest);
// Checks magic, version, lengths, checksum, ascending segment ids and the checkpoint name.
Result<Manifest> DecodeManifest(std::string_view bytes);

// Atomically replaces DIR/MANIFEST with `manifest` (see the protocol above).
Status WriteManifest(Env* env, const std::string& dir, const Manifest& manifest);
// NotFound if DIR/MANIFEST does not exist (a new data directory); Corruption naming the file if
// it is damaged.
Result<Manifest> ReadManifest(Env* env, const std::string& dir);

}  // namespace fdb::storage
