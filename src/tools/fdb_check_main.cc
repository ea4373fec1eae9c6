// fdb-check DIR [--salvage]
//
// Verifies a data directory offline: the manifest's checksum, that every segment it names
// exists, and every record of every segment (framing, checksum, sequence order), applying the
// same recovery policy as the server (storage/log_reader.h). Problems are printed one per line
// as "FILE: offset N: what", so they can be found with a hex editor.
//
// Exit status: 0 clean, 1 problems found, 2 usage error.
//
// --salvage repairs the one thing that can be repaired without guessing: the end of the LAST
// segment. A torn tail is cut off (an incomplete header of the last segment is written whole
// again: the segment held no records); damage in the last segment that is followed by intact
// records is cut off too, dropping those records: how many is printed. Damage in any earlier
// segment is not salvaged: cutting it would lose every later segment's records.
// The check refuses to run while a server holds the directory's LOCK.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "base/limits.h"
#include "engine/checkpoint.h"
#include "storage/env.h"
#include "storage/file_names.h"
#include "storage/format.h"
#include "storage/lock_file.h"
#include "storage/log_reader.h"
#include "storage/manifest.h"

namespace fdb::storage {
namespace {

struct Checker {
  Env* env = Env::Default();
  std::string dir;
  bool salvage = false;
  int problems = 0;
  uint64_t records = 0;
  uint64_t last_sequence = 0;

  void Problem(const std::string& what) {
    ++problems;
    std::printf("%s\n", what.c_str());
  }
  void Note(const std::string& what) { std::printf("note: %s\n", what.c_str()); }

  // Verifies one segment, advancing records and last_sequence.
  void CheckSegment(uint64_t id, bool is_last) {
    const std::string path = SegmentPath(dir, id);
    auto reader = SegmentReader::Open(env, path, id, last_sequence, is_last);
    if (!reader.ok()) {
      Problem(reader.status().message());
      return;
    }
    while (true) {
      auto rec = (*reader)->Next();
      if (!rec.ok()) {
        Problem(rec.status().message());
        if (is_last && salvage) {
          const uint64_t at = (*reader)->valid_size();
          auto dropped = (*reader)->CountIntactRecordsAfter(at);
          if (!dropped.ok()) {
            Problem("salvage failed: " + dropped.status().ToString());
            break;
          }
          Cut(path, at, (*reader)->file_size(), *dropped);
        }
        break;
      }
      if (!rec->has_value()) break;
      ++records;
    }
    last_sequence = std::max(last_sequence, (*reader)->last_sequence());
    if (const auto& torn = (*reader)->torn_tail()) {
      Problem(torn->ToString() + (salvage ? "" : "; run with --salvage to cut it off"));
      if (salvage) RepairTorn(*torn);
    }
  }

  // A torn tail has, by definition, no intact record after it.
  void RepairTorn(const TornTail& torn) {
    Status s = RepairTornTail(env, torn);
    if (!s.ok()) {
      Problem("salvage failed: " + s.ToString());
      return;
    }
    if (torn.header_incomplete) {
      std::printf(
          "salvaged: %s: incomplete segment header (%llu bytes) written again; the segment "
          "held no records (0 intact records dropped)\n",
          torn.path.c_str(), static_cast<unsigned long long>(torn.bytes_dropped));
    } else {
      PrintCut(torn.path, torn.offset, torn.bytes_dropped, 0);
    }
    --problems;  // the problem reported for this tail is fixed
  }

  void Cut(const std::string& path, uint64_t offset, uint64_t size, uint64_t intact_dropped) {
    Status s = env->TruncateFile(path, offset);
    if (!s.ok()) {
      Problem("salvage failed: " + s.ToString());
      return;
    }
    PrintCut(path, offset, size - offset, intact_dropped);
    --problems;  // the problem reported for this tail is fixed
  }

  void PrintCut(const std::string& path, uint64_t offset, uint64_t bytes, uint64_t intact) {
    std::printf(
        "salvaged: %s truncated to %llu bytes (%llu bytes dropped, %llu intact records after "
        "the damage dropped)\n",
        path.c_str(), static_cast<unsigned long long>(offset),
        static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(intact));
  }

  int Run() {
    auto names = env->GetChildren(dir);
    if (!names.ok()) {
      std::fprintf(stderr, "fdb-check: %s\n", names.status().ToString().c_str());
      return 1;
    }
    // An offline check of a directory a server is writing would report its growing tail.
    auto lock = DirLock::Acquire(dir);
    if (!lock.ok()) {
      std::fprintf(stderr, "fdb-check: %s\n", lock.status().message().c_str());
      return 1;
    }
    std::set<uint64_t> on_disk;
    for (const auto& name : *names) {
      if (auto id = ParseSegmentFileName(name)) on_disk.insert(*id);
    }

    std::vector<uint64_t> segments;
    auto manifest = ReadManifest(env, dir);
    if (manifest.ok()) {
      segments = manifest->segments;
      if (!manifest->checkpoint_file.empty() &&
          !env->FileExists(JoinPath(dir, manifest->checkpoint_file))) {
        Problem(JoinPath(dir, manifest->checkpoint_file) + ": checkpoint named in " +
                kManifestFileName + " is missing");
      } else if (!manifest->checkpoint_file.empty()) {
        // Every byte of the checkpoint is covered by its checksum; entries are parsed too.
        std::vector<uint64_t> shard_seq(fdb::limits::kNumShards, 0);
        uint64_t entries = 0;
        fdb::ShardLayout layout;
        Status cs =
            fdb::ReadCheckpoint(JoinPath(dir, manifest->checkpoint_file), &layout, &shard_seq,
                                [&](const fdb::CheckpointEntry&) { entries++; });
        if (!cs.ok()) {
          Problem(cs.message());
        } else {
          // Format 1 is not a problem: fdb-server converts it when it opens the directory.
          printf(
              "%s: checkpoint ok, format %d%s, %llu keys\n", manifest->checkpoint_file.c_str(),
              static_cast<int>(layout),
              layout == fdb::kCurrentShardLayout ? "" : " (converted by the next fdb-server start)",
              static_cast<unsigned long long>(entries));
        }
      }
    } else if (manifest.status().code() == Status::kNotFound) {
      if (!on_disk.empty()) {
        Problem(JoinPath(dir, kManifestFileName) + ": missing; checking all segment files");
      }
      segments.assign(on_disk.begin(), on_disk.end());
    } else {
      Problem(manifest.status().message() + "; checking all segment files");
      segments.assign(on_disk.begin(), on_disk.end());
    }

    std::vector<uint64_t> present;
    for (uint64_t id : segments) {
      if (on_disk.count(id)) {
        present.push_back(id);
      } else {
        Problem(SegmentPath(dir, id) + ": segment named in " + kManifestFileName + " is missing");
      }
    }
    for (uint64_t id : on_disk) {
      if (!std::binary_search(segments.begin(), segments.end(), id)) {
        Note(SegmentPath(dir, id) + ": not in " + kManifestFileName +
             " (an unpublished segment; recovery ignores it)");
      }
    }
    for (size_t i = 0; i < present.size(); ++i) CheckSegment(present[i], i + 1 == present.size());

    std::printf("fdb-check: %s: %zu segments, %llu records, last sequence %llu: %s\n", dir.c_str(),
                present.size(), static_cast<unsigned long long>(records),
                static_cast<unsigned long long>(last_sequence),
                problems == 0 ? "OK" : (std::to_string(problems) + " problem(s)").c_str());
    return problems == 0 ? 0 : 1;
  }
};

int Usage() {
  std::fprintf(stderr,
               "usage: fdb-check [--salvage] DIR\n"
               "  Verifies the manifest and every record of every segment in DIR.\n"
               "  --salvage  cut a torn or damaged tail off the last segment\n"
               "exit status: 0 clean, 1 problems, 2 usage\n");
  return 2;
}

}  // namespace
}  // namespace fdb::storage

int main(int argc, char** argv) {
  fdb::storage::Checker checker;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--salvage") {
      checker.salvage = true;
    } else if (arg == "-h" || arg == "--help") {
      return fdb::storage::Usage();
    } else if (!arg.empty() && arg[0] == '-') {
      return fdb::storage::Usage();
    } else if (checker.dir.empty()) {
      checker.dir = arg;
    } else {
      return fdb::storage::Usage();
    }
  }
  if (checker.dir.empty()) return fdb::storage::Usage();
  return checker.Run();
}
