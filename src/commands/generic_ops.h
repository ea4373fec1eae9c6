// Ops of the keyspace commands (DEL, EXISTS, TOUCH, KEYS, EXPIRE and friends, TTL and friends,
// RENAME, COPY): typed arguments in, a status or a value out, no RESP (commands/op_status.h).
// generic_family.cc's handlers and the embedded engine call them.
//
// REQUIRES for every Op: the caller holds the shard lock of every key it names (KEYS: the
// keyspace locks shard by shard itself).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/op_status.h"

namespace fdb {

// DEL / UNLINK: how many of the keys existed (and are now gone).
// `lazy` (UNLINK): large values are freed in the background (Keyspace::Delete).
int64_t OpDel(const OpArgs& op, std::span<const std::string_view> keys, bool lazy = false);
// EXISTS: how many of the keys exist; a key named twice counts twice, as Redis.
int64_t OpExists(const OpArgs& op, std::span<const std::string_view> keys);
// TOUCH: as EXISTS, and updates each key's access clock even under CLIENT NO-TOUCH.
int64_t OpTouch(const OpArgs& op, std::span<const std::string_view> keys);
// KEYS: the keys of op.db matching a glob pattern, in no particular order.
std::vector<std::string> OpKeys(const OpArgs& op, std::string_view pattern);

namespace expire_flags {
inline constexpr int kNx = 1 << 0;  // only when the key has no deadline
inline constexpr int kXx = 1 << 1;  // only when the key has a deadline
inline constexpr int kGt = 1 << 2;  // only when later than the current deadline (none = infinite)
inline constexpr int kLt = 1 << 3;  // only when earlier than the current deadline
}  // namespace expire_flags

// EXPIRE family: sets the key's deadline (absolute, ms) if the flags allow; a deadline not in
// the future deletes the key. kOk: changed. kSkipped: a flag's condition did not hold.
// kKeyNotFound: no such key.
OpStatus OpExpire(const OpArgs& op, std::string_view key, int64_t deadline_ms, int flags);
// PERSIST: whether a deadline was removed.
bool OpPersist(const OpArgs& op, std::string_view key);
// TTL family: -2 no such key; -1 no deadline; else the remaining time (or, `absolute`, the
// deadline) in ms, or in seconds rounded to the nearest. Never touches the key.
int64_t OpTtl(const OpArgs& op, std::string_view key, bool ms, bool absolute);

// RENAME / RENAMENX (nx): the value and its deadline move to dst. kKeyNotFound: no src;
// kSkipped: RENAMENX and dst exists (or src == dst); kNotSupported: the value cannot be copied.
OpStatus OpRename(const OpArgs& op, std::string_view src, std::string_view dst, bool nx);
// COPY src to dst in dst_db. kKeyNotFound: no src; kSkipped: dst exists without REPLACE.
OpStatus OpCopy(const OpArgs& op, std::string_view src, int dst_db, std::string_view dst,
                bool replace);

}  // namespace fdb
