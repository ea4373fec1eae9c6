#include "engine/encoding_limits.h"

namespace fdb {

namespace {
constexpr EncodingLimits::Values kDefaults;
}  // namespace

std::atomic<uint64_t> EncodingLimits::hash_entries_{kDefaults.hash_max_listpack_entries};
std::atomic<uint64_t> EncodingLimits::hash_value_{kDefaults.hash_max_listpack_value};
std::atomic<uint64_t> EncodingLimits::set_intset_entries_{kDefaults.set_max_intset_entries};
std::atomic<uint64_t> EncodingLimits::set_entries_{kDefaults.set_max_listpack_entries};
std::atomic<uint64_t> EncodingLimits::set_value_{kDefaults.set_max_listpack_value};
std::atomic<uint64_t> EncodingLimits::zset_entries_{kDefaults.zset_max_listpack_entries};
std::atomic<uint64_t> EncodingLimits::zset_value_{kDefaults.zset_max_listpack_value};

void EncodingLimits::Set(const Values& v) {
  constexpr auto r = std::memory_order_relaxed;
  hash_entries_.store(v.hash_max_listpack_entries, r);
  hash_value_.store(v.hash_max_listpack_value, r);
  // The intset's own cap applies whatever the parameter says (Redis 7.2's intsetMaxEntries).
  set_intset_entries_.store(
      v.set_max_intset_entries < kIntsetEntriesCap ? v.set_max_intset_entries : kIntsetEntriesCap,
      r);
  set_entries_.store(v.set_max_listpack_entries, r);
  set_value_.store(v.set_max_listpack_value, r);
  zset_entries_.store(v.zset_max_listpack_entries, r);
  zset_value_.store(v.zset_max_listpack_value, r);
}

EncodingLimits::Values EncodingLimits::Get() {
  Values v;
  v.hash_max_listpack_entries = hash_max_listpack_entries();
  v.hash_max_listpack_value = hash_max_listpack_value();
  v.set_max_intset_entries = set_max_intset_entries();
  v.set_max_listpack_entries = set_max_listpack_entries();
  v.set_max_listpack_value = set_max_listpack_value();
  v.zset_max_listpack_entries = zset_max_listpack_entries();
  v.zset_max_listpack_value = zset_max_listpack_value();
  return v;
}

}  // namespace fdb
