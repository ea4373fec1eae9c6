#include "commands/rdb_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/entry.h"
#include "engine/list_object.h"
#include "engine/stream_object.h"

namespace fdb {
namespace {

std::string Len(uint64_t n) {
  std::string out;
  if (n < (1 << 6)) {
    out.push_back(static_cast<char>(n));
  } else if (n < (1 << 14)) {
    out.push_back(static_cast<char>(0x40 | (n >> 8)));
    out.push_back(static_cast<char>(n & 0xff));
  } else if (n <= UINT32_MAX) {
    out.push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; i--) out.push_back(static_cast<char>(n >> (8 * i)));
  } else {
    out.push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; i--) out.push_back(static_cast<char>(n >> (8 * i)));
  }
  return out;
}
std::string Str(std::string_view s) { return Len(s.size()) + std::string(s); }
std::string Le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

// Builds an RDB file by hand, item by item (the grammar in rdb_file.h).
class RdbBuilder {
 public:
  explicit RdbBuilder(std::string_view version = "0011") { out_ = "REDIS" + std::string(version); }
  RdbBuilder& Aux(std::string_view name, std::string_view value) {
    return Raw("\xfa" + Str(name) + Str(value));
  }
  RdbBuilder& SelectDb(int db) { return Raw("\xfe" + Len(db)); }
  RdbBuilder& ResizeDb(int keys, int expires) { return Raw("\xfb" + Len(keys) + Len(expires)); }
  RdbBuilder& ExpireMs(int64_t ms) { return Raw("\xfc" + Le(ms, 8)); }
  RdbBuilder& ExpireS(int32_t s) { return Raw("\xfd" + Le(static_cast<uint32_t>(s), 4)); }
  RdbBuilder& Idle(int s) { return Raw("\xf8" + Len(s)); }
  RdbBuilder& Freq(uint8_t f) { return Raw("\xf9" + std::string(1, static_cast<char>(f))); }
  RdbBuilder& Function(std::string_view code) { return Raw("\xf5" + Str(code)); }
  RdbBuilder& Key(uint8_t type, std::string_view key, std::string_view body) {
    return Raw(std::string(1, static_cast<char>(type)) + Str(key) + std::string(body));
  }
  RdbBuilder& String(std::string_view key, std::string_view value) {
    return Key(kRdbString, key, Str(value));
  }
  // A value as DUMP writes it (the payload less its type byte and trailer).
  RdbBuilder& Dumped(std::string_view key, const Entry* e) {
    std::string p = DumpPayload(e);
    return Key(static_cast<uint8_t>(p[0]), key, p.substr(1, p.size() - 11));
  }
  RdbBuilder& Raw(std::string_view bytes) {
    out_ += bytes;
    return *this;
  }
  // The EOF opcode and the checksum (0: none, as `rdbchecksum no`).
  std::string Finish(bool checksum = true) {
    std::string f = out_ + "\xff";
    return f + Le(checksum ? Crc64(0, f) : 0, 8);
  }

 private:
  std::string out_;
};

// What a load saw, in a form two loads can be compared by: per key its db, name, deadline and
// the DUMP payload of its value.
struct Loaded {
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<std::string> functions;
};

std::string Describe(int db, std::string_view key, RestoredValue v, int64_t expire_ms) {
  Entry* e = v.type == ValueType::kString ? Entry::NewString(key, v.str)
                                          : Entry::NewObject(key, v.obj.release());
  std::string d = std::to_string(db) + "/" + std::string(key) + "/" + std::to_string(expire_ms) +
                  "/" + DumpPayload(e);
  Entry::Free(e);
  return d;
}

struct LoadRun {
  Loaded seen;
  RdbLoader loader;
  explicit LoadRun(RdbLoader::Options opts = {})
      : loader(
            [this](int db, std::string_view key, RestoredValue v, int64_t expire_ms) {
              seen.keys.push_back(Describe(db, key, std::move(v), expire_ms));
              return Status::OK();
            },
            opts) {
    loader.set_on_aux([this](std::string_view n, std::string_view v) {
      seen.aux.emplace_back(std::string(n), std::string(v));
    });
  }
  // Feeds `file` in chunks of `chunk` bytes; the first error, or OK.
  Status Feed(std::string_view file, size_t chunk) {
    for (size_t at = 0; at < file.size(); at += chunk) {
      Result<size_t> r = loader.Feed(file.substr(at, chunk));
      if (!r.ok()) return r.status();
    }
    return Status::OK();
  }
};

// A listpack of short strings (Redis 7's compact encoding).
std::string Listpack(const std::vector<std::string>& elems) {
  std::string body;
  for (const std::string& e : elems) {
    body.push_back(static_cast<char>(0x80 | e.size()));  // REQUIRES: e.size() < 64
    body += e;
    body.push_back(static_cast<char>(1 + e.size()));
  }
  return Le(6 + body.size() + 1, 4) + Le(elems.size(), 2) + body + "\xff";
}

Entry* ListOf(int n, std::string_view prefix = "e") {
  auto l = std::make_unique<ListObject>();
  for (int i = 0; i < n; i++) l->PushBack(std::string(prefix) + std::to_string(i));
  return Entry::NewObject("l", l.release());
}

Entry* AStream() {
  auto s = std::make_unique<StreamObject>();
  std::string delta;
  for (uint64_t i = 1; i <= 250; i++) {
    std::string v = std::to_string(i);
    std::string_view fv[] = {"f", v, i % 3 == 0 ? "g" : "f2", "x"};
    s->Append(StreamId{1000 + i, 0}, fv, 4096, 100, &delta);
  }
  s->CreateGroup("g1", StreamId{1005, 0}, 5, &delta);
  s->TouchConsumer("g1", "alice", 1234, &delta);
  s->SetNack("g1", StreamId{1003, 0}, "alice", 5678, 2, &delta);
  s->CreateGroup("g2", StreamId{}, 0, &delta);
  return Entry::NewObject("s", s.release());
}

// A file with one of every opcode a Redis 7 writes and several kinds of value.
std::string EveryOpcode() {
  Entry* list = ListOf(300);
  Entry* stream = AStream();
  std::string f =
      RdbBuilder()
          .Aux("redis-ver", "7.2.4")
          .Raw("\xfa" + Str("redis-bits") + std::string("\xc0\x40", 2))  // the int-encoded 64
          .Aux("repl-id", std::string(40, 'a'))
          .Aux("repl-offset", "12345")
          .Function("#!lua name=mylib\nredis.register_function('f', function() end)")
          .SelectDb(0)
          .ResizeDb(4, 2)
          .String("plain", "value")
          .Key(kRdbString, "int", "\xc1\x39\x30")  // 12345 as a 16-bit integer
          .ExpireMs(4102444800123)
          .String("ms", "v")
          .ExpireS(2000000000)
          .Idle(17)
          .String("s", "v")
          .Freq(5)
          .Dumped("list", list)
          .Key(kRdbSetIntset, "intset",
               Str(Le(2, 4) + Le(3, 4) + Le(static_cast<uint16_t>(-7), 2) + Le(1, 2) + Le(5, 2)))
          .Key(kRdbHash, "hash", Len(2) + Str("a") + Str("1") + Str("b") + Str("2"))
          .Key(kRdbZSet2, "zset", Len(1) + Str("m") + Le(0x4004000000000000ULL, 8))
          .Dumped("stream", stream)
          .SelectDb(3)
          .String("in3", "x")
          .Finish();
  Entry::Free(list);
  Entry::Free(stream);
  return f;
}

TEST(RdbFileTest, ReadsEveryOpcode) {
  LoadRun run;
  std::vector<std::string> functions;
  run.loader.set_on_function([&](std::string_view code) {
    functions.emplace_back(code);
    return Status::OK();
  });
  std::string f = EveryOpcode();
  Result<size_t> r = run.loader.Feed(f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, f.size());
  EXPECT_TRUE(run.loader.done());
  EXPECT_EQ(run.loader.version(), 11);
  EXPECT_EQ(run.loader.keys_loaded(), 10u);
  ASSERT_EQ(run.seen.aux.size(), 4u);
  EXPECT_EQ(run.seen.aux[0], std::make_pair(std::string("redis-ver"), std::string("7.2.4")));
  EXPECT_EQ(run.seen.aux[1].second, "64");
  EXPECT_EQ(run.seen.aux[3].second, "12345");
  ASSERT_EQ(functions.size(), 1u);
  EXPECT_EQ(functions[0].substr(0, 15), "#!lua name=myli");
  const auto& k = run.seen.keys;
  ASSERT_EQ(k.size(), 10u);
  EXPECT_EQ(k[0].substr(0, 10), "0/plain/0/");
  EXPECT_NE(k[1].find("12345"), std::string::npos);
  EXPECT_EQ(k[2].substr(0, 19), "0/ms/4102444800123/");
  EXPECT_EQ(k[3].substr(0, 18), "0/s/2000000000000/");  // seconds made milliseconds
  EXPECT_EQ(k[4].substr(0, 9), "0/list/0/");            // deadlines are per key
  EXPECT_EQ(k[9].substr(0, 6), "3/in3/");
}

TEST(RdbFileTest, FunctionsAreSkippedAndCountedWithoutACallback) {
  LoadRun run;
  ASSERT_TRUE(run.Feed(EveryOpcode(), 1 << 20).ok());
  EXPECT_TRUE(run.loader.done());
  EXPECT_EQ(run.loader.functions_skipped(), 1u);
}

TEST(RdbFileTest, OneByteChunksAndOneChunkGiveTheSameResult) {
  std::string f = EveryOpcode();
  LoadRun whole, bytes, sevens;
  ASSERT_TRUE(whole.Feed(f, f.size()).ok());
  ASSERT_TRUE(bytes.Feed(f, 1).ok());
  ASSERT_TRUE(sevens.Feed(f, 7).ok());
  EXPECT_TRUE(bytes.loader.done());
  EXPECT_TRUE(sevens.loader.done());
  EXPECT_EQ(whole.seen.keys, bytes.seen.keys);
  EXPECT_EQ(whole.seen.keys, sevens.seen.keys);
  EXPECT_EQ(whole.seen.aux, bytes.seen.aux);
}

TEST(RdbFileTest, EveryTruncationIsNotDoneAndNeverAnError) {
  std::string f = EveryOpcode();
  for (size_t n = 0; n < f.size(); n++) {
    LoadRun run;
    Result<size_t> r = run.loader.Feed(std::string_view(f).substr(0, n));
    ASSERT_TRUE(r.ok()) << n << ": " << r.status().ToString();
    ASSERT_FALSE(run.loader.done()) << n;
  }
}

TEST(RdbFileTest, EveryCorruptedByteIsAnErrorOrNotDone) {
  // The checksum covers every byte: no flipped byte may give a complete load. (The version
  // digits are left alone: a flip there may make a valid version before 5, which has no
  // checksum.)
  std::string f = EveryOpcode();
  for (size_t i = 0; i < f.size(); i++) {
    if (i >= 5 && i < 9) continue;
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string bad = f;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      LoadRun run;
      Result<size_t> r = run.loader.Feed(bad);
      ASSERT_FALSE(r.ok() && run.loader.done()) << "byte " << i << " ^ " << int(flip);
    }
  }
}

TEST(RdbFileTest, ChecksumIsCheckedUnlessZero) {
  std::string f = RdbBuilder().String("k", "v").Finish();
  f[f.size() - 9 - 1] = 'w';  // the value's byte, before EOF and the checksum
  LoadRun run;
  Result<size_t> r = run.loader.Feed(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
  // An error is sticky.
  EXPECT_FALSE(run.loader.Feed("x").ok());

  std::string unchecked = RdbBuilder().String("k", "v").Finish(/*checksum=*/false);
  LoadRun run2;
  ASSERT_TRUE(run2.loader.Feed(unchecked).ok());
  EXPECT_TRUE(run2.loader.done());
}

TEST(RdbFileTest, RefusesBadHeadersWithClearErrors) {
  struct Case {
    std::string file;
    const char* says;
  } cases[] = {
      {"RADIS0011\xff", "signature"},
      {"REDIS00x1\xff", "signature"},
      {"REDIS0012\xff", "version 12"},
      {"REDIS0000\xff", "version 0"},
  };
  for (const Case& c : cases) {
    LoadRun run;
    Result<size_t> r = run.loader.Feed(c.file);
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().ToString();
  }
}

TEST(RdbFileTest, OlderVersionsLoad) {
  // Redis 6.x writes version 9, 7.0 version 10; before 5 there was no checksum.
  LoadRun run9, run4;
  ASSERT_TRUE(run9.loader.Feed(RdbBuilder("0009").String("k", "v").Finish()).ok());
  EXPECT_TRUE(run9.loader.done());
  ASSERT_TRUE(run4.loader.Feed(std::string("REDIS0004\0\x01k\x01v\xff", 15)).ok());
  EXPECT_TRUE(run4.loader.done());
  EXPECT_EQ(run4.seen.keys.size(), 1u);
}

TEST(RdbFileTest, ModulesAndPreReleaseFunctionsAreRefused) {
  // A module id: "mymodule0" in Redis's 6-bit charset, version 3.
  const std::string kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t id = 0;
  for (char ch : std::string("mymodule0")) id = (id << 6) | kChars.find(ch);
  id = (id << 10) | 3;
  std::string aux = RdbBuilder().Raw("\xf7" + Len(id) + Len(2)).Finish();
  LoadRun run;
  Result<size_t> r = run.loader.Feed(aux);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mymodule0 (version 3)"), std::string::npos)
      << r.status().ToString();

  std::string value = RdbBuilder().Key(kRdbModule2, "k", Len(id) + "rest").Finish();
  LoadRun run2;
  r = run2.loader.Feed(value);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("module mymodule0"), std::string::npos);

  LoadRun run3;
  r = run3.loader.Feed(RdbBuilder().Raw("\xf6" + Str("lua")).Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pre-release"), std::string::npos);

  LoadRun run4;
  r = run4.loader.Feed(RdbBuilder().Key(8, "k", Str("v")).Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown value type 8"), std::string::npos);
}

TEST(RdbFileTest, EmptyCollectionsAreSkipped) {
  std::string f = RdbBuilder()
                      .Key(kRdbList, "empty-list", Len(0))
                      .Key(kRdbHashListpack, "empty-hash", Str(Listpack({})))
                      .String("k", "v")
                      .Finish();
  LoadRun run;
  ASSERT_TRUE(run.loader.Feed(f).ok());
  EXPECT_TRUE(run.loader.done());
  EXPECT_EQ(run.loader.empty_keys_skipped(), 2u);
  ASSERT_EQ(run.seen.keys.size(), 1u);
  EXPECT_EQ(run.seen.keys[0].substr(0, 4), "0/k/");
}

TEST(RdbFileTest, AKeyCallbackErrorStopsTheLoad) {
  RdbLoader loader([](int db, std::string_view, RestoredValue, int64_t) {
    return db == 0 ? Status::OK() : Status::InvalidArgument("db out of range");
  });
  std::string f = RdbBuilder().String("a", "1").SelectDb(20).String("b", "2").Finish();
  Result<size_t> r = loader.Feed(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "db out of range");
  EXPECT_EQ(loader.keys_loaded(), 2u);
}

TEST(RdbFileTest, FeedTellsWhereTheFileEnds) {
  std::string f = RdbBuilder().String("k", "v").Finish();
  LoadRun run;
  Result<size_t> r = run.loader.Feed(f.substr(0, 5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5u);
  r = run.loader.Feed(f.substr(5) + "*1\r\n$4\r\nPING\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, f.size() - 5);
  EXPECT_TRUE(run.loader.done());
  r = run.loader.Feed("more");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
}

TEST(RdbFileTest, DisklessEndMark) {
  const std::string mark(40, 'z');
  std::string f = RdbBuilder().String("k", "v").Finish();
  LoadRun run;
  run.loader.set_eof_mark(mark);
  ASSERT_TRUE(run.Feed(f, 3).ok());
  EXPECT_FALSE(run.loader.done());  // the file is read, the mark is not yet
  Result<size_t> r = run.loader.Feed(mark.substr(0, 39));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(run.loader.done());
  r = run.loader.Feed(mark.substr(39) + "rest");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  EXPECT_TRUE(run.loader.done());
  EXPECT_EQ(run.seen.keys.size(), 1u);

  LoadRun wrong;
  wrong.loader.set_eof_mark(mark);
  r = wrong.loader.Feed(f + std::string(40, 'y'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("end mark"), std::string::npos);
}

TEST(RdbFileTest, LengthsBeyondTheLimitsAreRefusedBeforeTheBytesArrive) {
  // A string of 4 GB declared: refused at once, nothing allocated for it.
  std::string huge =
      RdbBuilder().Raw(std::string(1, '\0') + Str("k") + "\x80\xff\xff\xff\xff").Finish();
  LoadRun run;
  Result<size_t> r = run.loader.Feed(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("512 MB"), std::string::npos) << r.status().ToString();

  // A value larger than value_bytes_max, refused from its header.
  RdbLoader::Options small;
  small.value_bytes_max = 1000;
  LoadRun limited(small);
  std::string f = RdbBuilder().String("k", std::string(2000, 'x')).Finish();
  r = limited.loader.Feed(f.substr(0, 30));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos) << r.status().ToString();

  // A key of a key type the loader knows, but whose body is not what its type says.
  LoadRun mismatch;
  r = mismatch.loader.Feed(RdbBuilder().Key(kRdbSetIntset, "k", Str("abc")).Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not parse"), std::string::npos);
}

TEST(RdbFileTest, RedisTypesOf72And50Load) {
  // A set as a listpack (type 20), and streams as Redis 7.2 (21) and 5.0-6.2 (15) write them:
  // no entries, one group with one consumer (7.2 adds its active time).
  auto stream = [](bool v72) {
    std::string b = Len(0) + Len(0) + Len(5) + Len(5);         // no nodes; length 0; last ID 5-5
    if (v72) b += Len(0) + Len(0) + Len(0) + Len(0) + Len(7);  // first, max deleted, added
    b += Len(1) + Str("g") + Len(5) + Len(5);                  // one group, at 5-5
    if (v72) b += Len(7);                                      // its entries read
    b += Len(0) + Len(1) + Str("alice") + Le(1000, 8);         // no PEL; consumer, seen time
    if (v72) b += Le(2000, 8);                                 // active time
    return b + Len(0);                                         // its PEL
  };
  std::string f = RdbBuilder()
                      .Key(kRdbSetListpack, "set", Str(Listpack({"a", "bb", "ccc"})))
                      .Key(kRdbStreamListpacks3, "s72", stream(true))
                      .Key(kRdbStreamListpacks, "s50", stream(false))
                      .Finish();
  LoadRun one, bytes;
  ASSERT_TRUE(one.Feed(f, f.size()).ok());
  ASSERT_TRUE(bytes.Feed(f, 1).ok());
  ASSERT_TRUE(one.loader.done());
  ASSERT_EQ(one.seen.keys.size(), 3u);
  EXPECT_EQ(one.seen.keys, bytes.seen.keys);
}

TEST(RdbFileTest, LargeValueInSmallChunks) {
  // 200,000 elements in one list, fed 1 KB at a time: the scan resumes where it stopped.
  Entry* list = ListOf(200000, "element-");
  std::string f = RdbBuilder().Dumped("big", list).String("after", "x").Finish();
  Entry::Free(list);
  LoadRun run;
  ASSERT_TRUE(run.Feed(f, 1024).ok());
  ASSERT_TRUE(run.loader.done());
  ASSERT_EQ(run.seen.keys.size(), 2u);
  LoadRun whole;
  ASSERT_TRUE(whole.Feed(f, f.size()).ok());
  EXPECT_EQ(run.seen.keys, whole.seen.keys);
}

}  // namespace
}  // namespace fdb
