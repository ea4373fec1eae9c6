// DEBUG DIGEST and DEBUG DIGEST-VALUE: a digest of the data set, and of single values, for
// tests that compare a primary with its replicas (Redis's test suite does after every sync).
//
// As Redis's debug.c: a key's digest mixes (SHA1 chaining) its name, its value and whether it
// has a deadline; the data set's is the XOR of its keys' digests, per database mixed with the
// database number, so it does not depend on the order keys are visited in. Elements of sets
// and hashes (and members of sorted sets, with their score) are XORed too, so two replicas
// with different encodings of the same value agree. Lists and streams are mixed in order.
// The empty data set's digest is forty zeros.
#pragma once

#include <string>

#include "engine/entry.h"

namespace fdb {

class ServerContext;

// The data set's digest in hex. Locks one shard at a time (REQUIRES: no shard lock held, or
// `all_held` when the caller's transaction holds every shard).
std::string DatasetDigest(ServerContext& server, bool all_held);
// The digest of one value in RAM, in hex (Redis's DIGEST-VALUE: the value alone).
std::string ValueDigest(const Entry* e);

}  // namespace fdb
