"""Crash safety of streams with consumer groups, and streams larger than the RAM cache.

As tests/test_crash_collections.py: each of CLIENTS threads owns one stream (x{i}, group g,
consumer c) and runs its own sequence of XADD, XDEL, XREADGROUP, XACK and XTRIM, recording what
was acknowledged; the server is killed with SIGKILL at a random moment and restarted on the same
directory; then each stream (its entries, its group's last-delivered ID and its PEL) must be
exactly what some prefix of the client's history gives: every acknowledged change and at most
the one in flight.

FDB_CRASH_CYCLES sets the number of cycles (default 12; 4 with FDB_SANITIZED=1).
"""

import os
import random
import time

import pytest

from durability_util import (  # noqa: F401
    SANITIZED, TARGET, ModelClient, durable, info_fields, kill_cycles, verify_model_clients,
    wait_for)

CLIENTS = 30
CYCLES = int(os.environ.get("FDB_CRASH_CYCLES", "4" if SANITIZED else "12"))
SEED = int(os.environ.get("FDB_CRASH_SEED", str(int(time.time()) % 100000)))
KILL_AFTER = (0.2, 1.0)


class Client(ModelClient):
    @staticmethod
    def empty_model():
        return {"exists": False, "e": {}, "g": 0, "pel": []}

    @staticmethod
    def copy_model(m):
        return {"exists": m["exists"], "e": dict(m["e"]), "g": m["g"], "pel": list(m["pel"])}

    @staticmethod
    def apply(m, op):
        kind = op[0]
        if kind == "create":
            m["exists"] = True
            return True
        if kind == "xadd":
            m["e"][op[1]] = op[2]
            return f"{op[1]}-0"
        if kind == "xdel":
            return int(m["e"].pop(op[1], None) is not None)
        if kind == "read":
            later = sorted(i for i in m["e"] if i > m["g"])
            if not later:
                return None
            m["g"] = later[0]
            m["pel"].append(later[0])
            return f"{later[0]}-0"
        if kind == "ack":
            if op[1] in m["pel"]:
                m["pel"].remove(op[1])
                return 1
            return 0
        if kind == "trim":
            ids = sorted(m["e"])
            gone = ids[:max(0, len(ids) - op[1])]
            for i in gone:
                del m["e"][i]
            return len(gone)
        raise AssertionError(op)

    def key(self):
        return f"x{self.i}"

    def next_op(self, live):
        if not live["exists"]:
            return ("create",)
        self.n += 1
        rnd = self.rnd
        pick = rnd.random()
        if pick < 0.45 or not live["e"]:
            last = max(live["e"], default=0)
            self.last_id = max(getattr(self, "last_id", 0), last) + 1 + rnd.randrange(3)
            return ("xadd", self.last_id, f"v{self.i}:{self.n}")
        if pick < 0.55:
            return ("xdel", rnd.choice(sorted(live["e"])))
        if pick < 0.75:
            return ("read",)
        if pick < 0.92:
            return ("ack", rnd.choice(live["pel"]) if live["pel"] else 1)
        return ("trim", rnd.randrange(20, 60))

    def send(self, r, op):
        k, kind = self.key(), op[0]
        if kind == "create":
            return r.xgroup_create(k, "g", id="0", mkstream=True)
        if kind == "xadd":
            return r.xadd(k, {"v": op[2]}, id=f"{op[1]}-0")
        if kind == "xdel":
            return r.xdel(k, f"{op[1]}-0")
        if kind == "read":
            res = r.xreadgroup("g", "c", {k: ">"}, count=1)
            return res[0][1][0][0] if res else None
        if kind == "ack":
            return r.xack(k, "g", f"{op[1]}-0")
        return r.xtrim(k, maxlen=op[1], approximate=False)


def observe(c, clients):
    out = []
    for cl in clients:
        k = cl.key()
        if not c.exists(k):
            out.append(empty_model())
            continue
        entries = {int(i.split("-")[0]): f["v"] for i, f in c.xrange(k)}
        group = c.xinfo_groups(k)[0]
        pel = [int(p["message_id"].split("-")[0])
               for p in c.xpending_range(k, "g", "-", "+", 100000)]
        out.append({"exists": True, "e": entries,
                    "g": int(group["last-delivered-id"].split("-")[0]), "pel": pel})
    return out


def verify_all(s, clients, cycle, fsync):
    c = s.client(socket_timeout=120)
    # The model's PEL is in delivery order, which is ID order here.
    verify_model_clients(s, clients, observe(c, clients), cycle, fsync, SEED)


def crash_cycles(durable, fsync, cycles, extra_args=()):
    rnd = random.Random(SEED)
    clients = [Client(i, SEED) for i in range(CLIENTS)]
    s = durable(fsync, extra_args=list(extra_args))
    total = kill_cycles(s, clients, cycles, lambda c: verify_all(s, clients, c, fsync), rnd,
                        KILL_AFTER)
    assert total > cycles * CLIENTS, f"only {total} changes acknowledged in {cycles} cycles"
    entries = sum(len(cl.model["e"]) for cl in clients)
    print(f"\n--fsync {fsync} {' '.join(extra_args)}: {cycles} crash cycles, {total} acknowledged "
          f"changes, {entries} entries (seed {SEED})")


def test_streams_crash_fsync_always(durable):
    crash_cycles(durable, "always", CYCLES)


@pytest.mark.skipif(TARGET == "redis", reason="FDB's RAM cache (maxmemory moves values to disk)")
def test_streams_crash_with_eviction(durable):
    crash_cycles(durable, "always", max(3, CYCLES // 2), extra_args=("--maxmemory", "100000"))


@pytest.mark.skipif(TARGET == "redis", reason="FDB's RAM cache: values move to disk")
def test_streams_larger_than_cache(durable):
    budget = 300_000
    s = durable("everysec", extra_args=["--maxmemory", str(budget)])
    c = s.client()
    model = {}
    for j in range(6):
        key = f"stream:{j}"
        pipe = c.pipeline(transaction=False)
        for i in range(1, 3001):
            pipe.xadd(key, {"n": str(i), "pad": "p" * 40}, id=f"{i}-0")
        pipe.execute()
        c.xgroup_create(key, "g", id="0")
        c.xreadgroup("g", "c", {key: ">"}, count=10)
        model[key] = c.xrange(key)
    wait_for(lambda: int(info_fields(c, "cache")["cache_bytes"]) <= budget * 2, timeout=10,
             what=f"the cache to shrink to its budget: {info_fields(c, 'cache')}")
    assert int(info_fields(c, "cache")["cache_evictions"]) > 0
    for key, want in model.items():
        assert c.xrange(key) == want
        assert c.xpending(key, "g")["pending"] == 10
    # Changed after read-back, evicted again, read back again.
    for key in model:
        c.xadd(key, {"n": "new"}, id="5000-0")
        c.xdel(key, "1-0")
        c.xack(key, "g", "2-0")
        model[key] = c.xrange(key)
    assert int(info_fields(c, "cache")["cache_misses"]) > 0
    s.kill9()
    s.start()
    c = s.client()
    for key, want in model.items():
        assert c.xrange(key) == want
        assert c.xpending(key, "g")["pending"] == 9
