"""Crash safety: kill -9 during concurrent writes, again and again, on one data directory.

Each cycle starts the server on the same --dir, runs CLIENTS threads that each write their own
sequence of operations (SET c{i}:{n} = "{i}:{n}:{cycle}", then INCR c{i}:count, alternating)
and record what was acknowledged, kills the server with SIGKILL at a random moment, and checks
after the restart that the state is exactly what some prefix of every client's history gives:

  (a) every acknowledged write is present, with its value;
  (b) nothing exists that no client wrote (DBSIZE equals the number of keys the model expects,
      and every value is the model's);
  (c) per client, the state is that of a prefix of its (sequential) operations, at least all
      acknowledged ones and at most one more (the one in flight when the server died).

FDB_CRASH_CYCLES sets the number of cycles (default 20; 5 with FDB_SANITIZED=1);
FDB_CRASH_SEED fixes the random kill moments. The everysec variant runs fewer cycles: a kill -9
of the process (not of the machine) must lose nothing acknowledged under everysec either.
"""

import os
import random
import time

import pytest

from durability_util import (  # noqa: F401
    SANITIZED, TARGET, DurableServer, ModelClient, durable, kill_cycles, verify_model_clients)

CLIENTS = 50
CYCLES = int(os.environ.get("FDB_CRASH_CYCLES", "5" if SANITIZED else "20"))
SEED = int(os.environ.get("FDB_CRASH_SEED", str(int(time.time()) % 100000)))
KILL_AFTER = (0.2, 1.0)


class Client(ModelClient):
    """One writer. Its model: the values it SET (by n) and its counter."""

    def __init__(self, i):
        super().__init__(i, SEED)

    @staticmethod
    def empty_model():
        return {"values": {}, "count": 0}

    @staticmethod
    def copy_model(m):
        return {"values": dict(m["values"]), "count": m["count"]}

    @staticmethod
    def apply(m, op):
        if op[0] == "set":
            m["values"][op[1]] = op[2]
            return True
        m["count"] += 1
        return m["count"]

    def key(self, n):
        return f"c{self.i}:{n}"

    @property
    def count_key(self):
        return f"c{self.i}:count"

    def next_op(self, live):
        # SET c{i}:{n} of a new n, then INCR, alternating.
        if len(self.ops) % 2 == 0:
            n = len(live["values"])
            return ("set", n, f"{self.i}:{n}:{self.cycle}")
        return ("incr",)

    def run(self, port, cycle, go, stop):
        self.cycle = cycle
        super().run(port, cycle, go, stop)

    def send(self, r, op):
        if op[0] == "set":
            return r.set(self.key(op[1]), op[2])
        return r.incr(self.count_key)

    def describe(self, observed, state):
        got, want = observed["values"], state["values"]
        lost = sorted(n for n in want if got.get(n) != want[n])
        extra = sorted(n for n in got if n not in want)
        return (f"acknowledged-but-missing-or-wrong n={lost[:5]} "
                f"(got {[got.get(n) for n in lost[:5]]}, want {[want[n] for n in lost[:5]]}); "
                f"beyond the acknowledged n={extra[:5]}; count={observed['count']}, "
                f"acknowledged count={state['count']}")


def observe(c, clients):
    """Reads every key the model could hold (all verified + all attempted + one beyond)."""
    pipe = c.pipeline(transaction=False)
    spans = []
    for cl in clients:
        top = len(cl.model["values"]) + sum(1 for op in cl.ops if op[0] == "set") + 1
        spans.append(top)
        pipe.get(cl.count_key)
        for lo in range(0, top, 1000):
            pipe.mget([cl.key(n) for n in range(lo, min(top, lo + 1000))])
    res = pipe.execute()
    pos = 0
    out = []
    for cl, top in zip(clients, spans):
        count = res[pos]
        pos += 1
        vals = []
        for _lo in range(0, top, 1000):
            vals += res[pos]
            pos += 1
        observed = {n: v for n, v in enumerate(vals) if v is not None}
        out.append({"values": observed, "count": int(count) if count is not None else 0})
    return out


def verify_all(s, clients, cycle, fsync):
    c = s.client(socket_timeout=120)

    def nothing_invented():
        expected_keys = sum(len(cl.model["values"]) + (1 if cl.model["count"] else 0)
                            for cl in clients)
        dbsize = c.dbsize()
        if dbsize == expected_keys:
            return None
        known = set()
        for cl in clients:
            known |= {cl.key(n) for n in cl.model["values"]}
            if cl.model["count"]:
                known.add(cl.count_key)
        invented = [k for k in c.scan_iter(count=1000) if k not in known][:10]
        return (f"DBSIZE {dbsize} but the model has {expected_keys} keys; keys no client wrote "
                f"(or that should be gone): {invented}")

    verify_model_clients(s, clients, observe(c, clients), cycle, fsync, SEED, nothing_invented)


def crash_cycles(durable, fsync, cycles):
    rnd = random.Random(SEED)
    clients = [Client(i) for i in range(CLIENTS)]
    s = durable(fsync)
    t_start = time.time()
    total_acked = kill_cycles(s, clients, cycles, lambda c: verify_all(s, clients, c, fsync), rnd,
                              KILL_AFTER)
    assert total_acked > cycles * CLIENTS, (
        f"only {total_acked} writes acknowledged in {cycles} cycles: the test did not exercise "
        f"the server")
    print(f"\n--fsync {fsync}: {cycles} crash cycles, {total_acked} acknowledged writes, "
          f"{sum(len(cl.model['values']) for cl in clients)} keys, "
          f"{sum(cl.inflight_applied for cl in clients)} in-flight writes found applied, "
          f"{time.time() - t_start:.1f}s "
          f"(seed {SEED})")


def test_crash_fsync_always(durable):
    crash_cycles(durable, "always", CYCLES)


def test_crash_fsync_everysec(durable):
    crash_cycles(durable, "everysec", max(2, CYCLES // 4))
