#include "commands/debug_digest.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstring>

#include "commands/server_context.h"
#include "engine/hash_object.h"
#include "engine/list_object.h"
#include "engine/set_object.h"
#include "engine/stream_object.h"
#include "engine/zset_object.h"

namespace fdb {

namespace {

using Digest = unsigned char[20];

void XorDigest(unsigned char* digest, std::string_view s) {
  unsigned char hash[20];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), hash);
  for (int j = 0; j < 20; j++) digest[j] ^= hash[j];
}

void MixDigest(unsigned char* digest, std::string_view s) {
  SHA_CTX ctx;
  SHA1_Init(&ctx);
  SHA1_Update(&ctx, digest, 20);
  SHA1_Update(&ctx, s.data(), s.size());
  SHA1_Final(digest, &ctx);
}

std::string Hex(const unsigned char* d) {
  static const char* kHex = "0123456789abcdef";
  std::string out(40, '0');
  for (int i = 0; i < 20; i++) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

// Mixes e's value into `digest`, as Redis's xorObjectDigest.
void ObjectDigest(const Entry* e, unsigned char* digest) {
  if (e->type() == ValueType::kString) {
    std::string scratch;
    MixDigest(digest, e->StringValue(&scratch));
    return;
  }
  const ValueObject* obj = e->object();
  switch (e->type()) {
    case ValueType::kList:
      static_cast<const ListObject*>(obj)->ForRange(0, static_cast<const ListObject*>(obj)->Size(),
                                                    false, [&](const ListObject::Elem& el) {
                                                      char buf[24];
                                                      MixDigest(digest, el.View(buf));
                                                      return true;
                                                    });
      break;
    case ValueType::kSet:
      static_cast<const SetObject*>(obj)->ForEach(
          [&](std::string_view m) { XorDigest(digest, m); });
      break;
    case ValueType::kHash:
      static_cast<const HashObject*>(obj)->ForEach([&](std::string_view f, std::string_view v) {
        Digest ele = {0};
        MixDigest(ele, f);
        MixDigest(ele, v);
        XorDigest(digest, std::string_view(reinterpret_cast<const char*>(ele), 20));
      });
      break;
    case ValueType::kZSet:
      static_cast<const ZSetObject*>(obj)->VisitAll([&](std::string_view m, double score) {
        Digest ele = {0};
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "%.17g", score);
        MixDigest(ele, m);
        MixDigest(ele, std::string_view(buf, static_cast<size_t>(n)));
        XorDigest(digest, std::string_view(reinterpret_cast<const char*>(ele), 20));
      });
      break;
    case ValueType::kStream: {
      const auto* s = static_cast<const StreamObject*>(obj);
      s->Range(StreamId{}, StreamId::Max(), false, [&](StreamId id, StreamObject::FieldValues fv) {
        MixDigest(digest, id.ToString());
        for (std::string_view f : fv) MixDigest(digest, f);
        return true;
      });
      for (const auto& g : s->groups()) MixDigest(digest, g.first);
      break;
    }
    default:
      break;
  }
}

}  // namespace

std::string ValueDigest(const Entry* e) {
  Digest d = {0};
  ObjectDigest(e, d);
  return Hex(d);
}

std::string DatasetDigest(ServerContext& server, bool all_held) {
  Keyspace& ks = server.keyspace();
  StorageEngine* storage = server.storage();
  Digest final_digest = {0};
  Digest db_digest[limits::kNumDatabases] = {};
  bool db_used[limits::kNumDatabases] = {};
  for (int s = 0; s < limits::kNumShards; s++) {
    ShardGuard g(ks.shard(s), all_held);
    for (int db = 0; db < limits::kNumDatabases; db++) {
      ks.shard(s).dbs[db].ForEach([&](Entry* e) {
        db_used[db] = true;
        Digest d = {0};
        MixDigest(d, e->key());
        if (e->on_disk()) {
          Entry* loaded = storage != nullptr ? storage->LoadValue(db, e) : nullptr;
          if (loaded != nullptr) {
            ObjectDigest(loaded, d);
            Entry::Free(loaded);
          }
        } else {
          ObjectDigest(e, d);
        }
        if (e->has_expire()) MixDigest(d, "!!expire!!");
        for (int j = 0; j < 20; j++) db_digest[db][j] ^= d[j];
      });
    }
  }
  for (int db = 0; db < limits::kNumDatabases; db++) {
    if (!db_used[db]) continue;
    const uint32_t aux = htonl(static_cast<uint32_t>(db));
    MixDigest(final_digest, std::string_view(reinterpret_cast<const char*>(&aux), sizeof(aux)));
    for (int j = 0; j < 20; j++) final_digest[j] ^= db_digest[db][j];
  }
  return Hex(final_digest);
}

}  // namespace fdb
