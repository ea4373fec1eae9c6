"""Crash safety of the collection types: kill -9 during concurrent changes, again and again.

As tests/test_crash.py, over hashes, lists, sets and sorted sets. Each of CLIENTS threads owns
four keys (h{i} a hash, l{i} a list, s{i} a set, z{i} a sorted set) and runs its own sequence of
changes on them, recording what was acknowledged; the server is killed with SIGKILL at a random
moment and restarted on the same directory; then each client's four values must be exactly what
some prefix of its history gives, at least every acknowledged change and at most the one in
flight. Nothing that was not written may appear (DBSIZE counts exactly the non-empty keys).

The changes are chosen to exercise deltas on every path replay takes: fields overwritten and
deleted, hashes and sets growing past their small encodings, list pops at both ends, score
updates, members removed so that a key empties and is deleted, and (with a small --maxmemory)
values evicted and read back between deltas, so replay applies deltas on top of images written
at eviction time.

FDB_CRASH_CYCLES sets the number of cycles (default 20; 5 with FDB_SANITIZED=1).
"""

import os
import random
import time

import pytest

from durability_util import (  # noqa: F401
    SANITIZED, TARGET, ModelClient, durable, kill_cycles, verify_model_clients)

CLIENTS = 50
CYCLES = int(os.environ.get("FDB_CRASH_CYCLES", "5" if SANITIZED else "20"))
SEED = int(os.environ.get("FDB_CRASH_SEED", str(int(time.time()) % 100000)))
KILL_AFTER = (0.2, 1.0)


class Client(ModelClient):
    @staticmethod
    def empty_model():
        return {"h": {}, "l": [], "s": set(), "z": {}}

    @staticmethod
    def copy_model(m):
        return {"h": dict(m["h"]), "l": list(m["l"]), "s": set(m["s"]), "z": dict(m["z"])}

    @staticmethod
    def apply(model, op):
        """Applies one op to a model (a dict of the four values) in place; returns the expected
        reply of the command for the checks the client makes while running."""
        kind = op[0]
        if kind == "hset":
            _, f, v = op
            new = f not in model["h"]
            model["h"][f] = v
            return int(new)
        if kind == "hdel":
            return int(model["h"].pop(op[1], None) is not None)
        if kind == "rpush":
            model["l"].append(op[1])
            return len(model["l"])
        if kind == "lpush":
            model["l"].insert(0, op[1])
            return len(model["l"])
        if kind == "lpop":
            return model["l"].pop(0) if model["l"] else None
        if kind == "rpop":
            return model["l"].pop() if model["l"] else None
        if kind == "sadd":
            new = op[1] not in model["s"]
            model["s"].add(op[1])
            return int(new)
        if kind == "srem":
            had = op[1] in model["s"]
            model["s"].discard(op[1])
            return int(had)
        if kind == "zadd":
            _, m, score = op
            new = m not in model["z"]
            model["z"][m] = score
            return int(new)
        if kind == "zrem":
            return int(model["z"].pop(op[1], None) is not None)
        raise AssertionError(op)

    def keys(self):
        return {t: f"{t}{self.i}" for t in "hlsz"}

    def next_op(self, live):
        """A random op that keeps each value small enough to read back quickly but lets hashes
        and sets outgrow the small encodings (over 128 elements)."""
        self.n += 1
        n, rnd = self.n, self.rnd
        pick = rnd.random()
        if pick < 0.2:
            return ("hset", f"f{rnd.randrange(200)}", f"v{self.i}:{n}")
        if pick < 0.25:
            return ("hdel", f"f{rnd.randrange(200)}")
        if pick < 0.37:
            return ("rpush", f"r{self.i}:{n}")
        if pick < 0.45:
            return ("lpush", f"l{self.i}:{n}")
        if pick < 0.52:
            return ("lpop",)
        if pick < 0.57:
            return ("rpop",)
        if pick < 0.72:
            return ("sadd", f"m{rnd.randrange(300)}")
        if pick < 0.8:
            return ("srem", f"m{rnd.randrange(300)}")
        if pick < 0.95:
            return ("zadd", f"z{rnd.randrange(150)}", float(rnd.randrange(-1000, 1000)) / 4)
        return ("zrem", f"z{rnd.randrange(150)}")

    def send(self, r, op):
        k, kind = self.keys(), op[0]
        if kind == "hset":
            return r.hset(k["h"], op[1], op[2])
        if kind == "hdel":
            return r.hdel(k["h"], op[1])
        if kind == "rpush":
            return r.rpush(k["l"], op[1])
        if kind == "lpush":
            return r.lpush(k["l"], op[1])
        if kind == "lpop":
            return r.lpop(k["l"])
        if kind == "rpop":
            return r.rpop(k["l"])
        if kind == "sadd":
            return r.sadd(k["s"], op[1])
        if kind == "srem":
            return r.srem(k["s"], op[1])
        if kind == "zadd":
            return r.zadd(k["z"], {op[1]: op[2]})
        return r.zrem(k["z"], op[1])

    def describe(self, observed, state):
        diff = {t: (observed[t], state[t]) for t in "hlsz" if observed[t] != state[t]}
        return f"differences (observed, acknowledged state): {str(diff)[:600]}"


def observe(c, clients):
    pipe = c.pipeline(transaction=False)
    for cl in clients:
        k = cl.keys()
        pipe.hgetall(k["h"])
        pipe.lrange(k["l"], 0, -1)
        pipe.smembers(k["s"])
        pipe.zrange(k["z"], 0, -1, withscores=True)
    res = pipe.execute()
    out = []
    for j in range(len(clients)):
        h, lst, s, z = res[4 * j:4 * j + 4]
        out.append({"h": dict(h), "l": list(lst), "s": set(s), "z": {m: sc for m, sc in z}})
    return out


def verify_all(s, clients, cycle, fsync):
    c = s.client(socket_timeout=120)

    def dbsize_matches():
        expected = sum(1 for cl in clients for t in "hlsz" if cl.model[t])
        dbsize = c.dbsize()
        if dbsize != expected:
            return f"DBSIZE {dbsize} but the model has {expected} non-empty keys"
        return None

    verify_model_clients(s, clients, observe(c, clients), cycle, fsync, SEED, dbsize_matches)


def crash_cycles(durable, fsync, cycles, extra_args=()):
    rnd = random.Random(SEED)
    clients = [Client(i, SEED) for i in range(CLIENTS)]
    s = durable(fsync, extra_args=list(extra_args))
    t_start = time.time()
    total_acked = kill_cycles(s, clients, cycles, lambda c: verify_all(s, clients, c, fsync), rnd,
                              KILL_AFTER)
    assert total_acked > cycles * CLIENTS, (
        f"only {total_acked} changes acknowledged in {cycles} cycles: the test did not exercise "
        f"the server")
    sizes = {t: sum(len(cl.model[t]) for cl in clients) for t in "hlsz"}
    print(f"\n--fsync {fsync} {' '.join(extra_args)}: {cycles} crash cycles, {total_acked} "
          f"acknowledged changes, elements per type {sizes}, {time.time() - t_start:.1f}s "
          f"(seed {SEED})")


def test_collections_crash_fsync_always(durable):
    crash_cycles(durable, "always", CYCLES)


@pytest.mark.skipif(TARGET == "redis", reason="FDB's RAM cache (maxmemory moves values to disk)")
def test_collections_crash_with_eviction(durable):
    # A budget far below the data: values are evicted (full images written) and read back
    # between deltas all the time.
    crash_cycles(durable, "always", max(3, CYCLES // 2),
                 extra_args=("--maxmemory", "200000"))


def test_collections_crash_fsync_everysec(durable):
    crash_cycles(durable, "everysec", max(2, CYCLES // 4))
