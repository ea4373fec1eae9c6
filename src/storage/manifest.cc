#include "storage/manifest.h"

#include <cstring>

#include "base/coding.h"
#include "storage/crc32c.h"
#include "storage/file_names.h"
#include "storage/format.h"

namespace fdb::storage {
namespace {

constexpr size_t kPrefixSize = sizeof(kManifestMagic) + 4 + 4;  // magic, version, body_length
constexpr size_t kChecksummedOffset = sizeof(kManifestMagic);   // from version on

bool ValidCheckpointName(std::string_view name) {
  // A plain file name in the data directory: no path tricks.
  return name.size() <= kMaxCheckpointNameLength && name.find('/') == std::string_view::npos &&
         name != "." && name != ".." && name.find('\0') == std::string_view::npos;
}

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  std::string body;
  PutFixed64(&body, m.generation);
  PutFixed64(&body, m.checkpoint_sequence);
  PutFixed16(&body, static_cast<uint16_t>(m.checkpoint_file.size()));
  body += m.checkpoint_file;
  PutFixed32(&body, static_cast<uint32_t>(m.segments.size()));
  for (uint64_t id : m.segments) PutFixed64(&body, id);

  std::string out(kManifestMagic, sizeof(kManifestMagic));
  PutFixed32(&out, kManifestVersion);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out += body;
  uint32_t crc = crc32c::Value(out.data() + kChecksummedOffset, out.size() - kChecksummedOffset);
  PutFixed32(&out, crc32c::Mask(crc));
  return out;
}

Result<Manifest> DecodeManifest(std::string_view in) {
  auto bad = [](const std::string& why) { return Status::Corruption("manifest: " + why); };
  if (in.size() < kPrefixSize + 4) return bad("truncated");
  if (std::memcmp(in.data(), kManifestMagic, sizeof(kManifestMagic)) != 0) {
    return bad("bad magic");
  }
  uint32_t body_length = DecodeFixed32(in.data() + sizeof(kManifestMagic) + 4);
  if (in.size() != kPrefixSize + uint64_t{body_length} + 4) return bad("length mismatch");
  size_t crc_offset = kPrefixSize + body_length;
  uint32_t stored = crc32c::Unmask(DecodeFixed32(in.data() + crc_offset));
  if (stored != crc32c::Value(in.data() + kChecksummedOffset, crc_offset - kChecksummedOffset)) {
    return bad("checksum mismatch");
  }
  uint32_t version = DecodeFixed32(in.data() + sizeof(kManifestMagic));
  if (version != kManifestVersion) return bad("unsupported version " + std::to_string(version));

  std::string_view body = in.substr(kPrefixSize, body_length);
  Manifest m;
  if (body.size() < 8 + 8 + 2) return bad("body truncated");
  m.generation = DecodeFixed64(body.data());
  m.checkpoint_sequence = DecodeFixed64(body.data() + 8);
  size_t name_length = DecodeFixed16(body.data() + 16);
  body.remove_prefix(18);
  if (body.size() < name_length + 4) return bad("body truncated");
  m.checkpoint_file.assign(body.data(), name_length);
  if (!ValidCheckpointName(m.checkpoint_file)) return bad("invalid checkpoint file name");
  body.remove_prefix(name_length);
  uint32_t count = DecodeFixed32(body.data());
  body.remove_prefix(4);
  if (count > kMaxManifestSegments || body.size() != uint64_t{count} * 8) {
    return bad("segment list length mismatch");
  }
  m.segments.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = DecodeFixed64(body.data() + 8 * i);
    if (id == 0 || (!m.segments.empty() && id <= m.segments.back())) {
      return bad("segment ids not ascending");
    }
    m.segments.push_back(id);
  }
  return m;
}

Status WriteManifest(Env* env, const std::string& dir, const Manifest& manifest) {
  // Check right before writing: never publish a manifest recovery would reject.
  if (!ValidCheckpointName(manifest.checkpoint_file)) {
    return Status::InvalidArgument("invalid checkpoint file name: " + manifest.checkpoint_file);
  }
  if (manifest.segments.size() > kMaxManifestSegments) {
    return Status::InvalidArgument("too many segments for one manifest");
  }
  for (size_t i = 0; i < manifest.segments.size(); ++i) {
    if (manifest.segments[i] == 0 || (i > 0 && manifest.segments[i] <= manifest.segments[i - 1])) {
      return Status::InvalidArgument("manifest segment ids must be ascending and nonzero");
    }
  }
  const std::string tmp = JoinPath(dir, kManifestTempFileName);
  const std::string final_path = JoinPath(dir, kManifestFileName);
  auto file = env->NewWritableFile(tmp);
  if (!file.ok()) return file.status();
  Status s = (*file)->Append(EncodeManifest(manifest));
  if (s.ok()) s = (*file)->Sync();
  Status close = (*file)->Close();
  if (s.ok()) s = close;
  if (s.ok()) s = env->RenameFile(tmp, final_path);
  if (s.ok()) s = env->SyncDir(dir);
  if (!s.ok()) {
    Status ignored = env->RemoveFile(tmp);  // best effort; a leftover tmp is harmless
    (void)ignored;
  }
  return s;
}

Result<Manifest> ReadManifest(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kManifestFileName);
  auto bytes = ReadFileToString(env, path);
  if (!bytes.ok()) return bytes.status();
  auto m = DecodeManifest(*bytes);
  if (!m.ok()) return Status::Corruption(path + ": " + m.status().message());
  return m;
}

}  // namespace fdb::storage
