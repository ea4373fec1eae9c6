// Password checks for AUTH and HELLO ... AUTH.
//
// The check must not tell an attacker, by its timing, how much of a guess was right: `==` on
// strings stops at the first differing byte and at a length mismatch. Both sides are hashed to
// SHA-256 digests first (as Redis 7 does for ACL passwords), so the comparison always runs over
// 32 bytes whatever the lengths, and CRYPTO_memcmp compares those without an early exit. The
// time spent hashing depends only on the lengths of the guess (the attacker's own) and of the
// configured password (the same for every guess).
#pragma once

#include <string_view>

namespace fdb {

// Whether `given` equals `expected`, in time independent of where they differ.
bool PasswordMatches(std::string_view given, std::string_view expected);

}  // namespace fdb
