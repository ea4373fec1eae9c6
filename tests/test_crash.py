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
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from durability_util import SANITIZED, TARGET, DurableServer, durable, kill_cycles  # noqa: F401

CLIENTS = 50
CYCLES = int(os.environ.get("FDB_CRASH_CYCLES", "5" if SANITIZED else "20"))
SEED = int(os.environ.get("FDB_CRASH_SEED", str(int(time.time()) % 100000)))
KILL_AFTER = (0.2, 1.0)


class Client:
    """One writer: its durable model (verified after the last restart) and this cycle's ops."""

    def __init__(self, i):
        self.i = i
        self.values = {}        # n -> value, verified present after the last restart
        self.count = 0          # c{i}:count as verified after the last restart
        self.ops = []           # this cycle: ("set", n, value) | ("incr", expected result)
        self.acked = 0          # how many of self.ops were acknowledged
        self.error = None       # an unexpected reply (not a dropped connection)
        self.inflight_applied = 0  # unacknowledged writes found applied after a crash

    def key(self, n):
        return f"c{self.i}:{n}"

    @property
    def count_key(self):
        return f"c{self.i}:count"

    def run(self, port, cycle, go, stop):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30,
                        retry=Retry(NoBackoff(), 0), decode_responses=True, protocol=2)
        try:
            r.ping()
        except redis.RedisError as e:
            self.error = f"could not connect: {e!r}"
            return
        go.wait()
        n = len(self.values)
        count = self.count
        try:
            while not stop.is_set():
                if len(self.ops) % 2 == 0:
                    value = f"{self.i}:{n}:{cycle}"
                    self.ops.append(("set", n, value))
                    reply = r.set(self.key(n), value)
                    if reply is not True:
                        self.error = f"SET {self.key(n)} replied {reply!r}"
                        return
                    n += 1
                else:
                    self.ops.append(("incr", count + 1))
                    reply = r.incr(self.count_key)
                    if reply != count + 1:
                        self.error = f"INCR {self.count_key} replied {reply!r}, want {count + 1}"
                        return
                    count += 1
                self.acked += 1
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError):
            pass  # the server died: the last op (if any beyond acked) is in flight
        except redis.RedisError as e:
            self.error = f"unexpected error reply: {e!r}"
        finally:
            r.close()

    def state_after(self, length):
        """(values, count) after the first `length` ops of this cycle."""
        values, count = dict(self.values), self.count
        for op in self.ops[:length]:
            if op[0] == "set":
                values[op[1]] = op[2]
            else:
                count = op[1]
        return values, count

    def verify(self, observed_values, observed_count):
        """Checks (a)-(c) for this client and commits the matching prefix. Returns a problem
        description or None."""
        inflight = len(self.ops) - self.acked
        assert inflight in (0, 1)
        for length in range(self.acked, len(self.ops) + 1):
            values, count = self.state_after(length)
            if observed_values == values and observed_count == count:
                self.inflight_applied += length - self.acked
                self.values, self.count = values, count
                self.ops, self.acked = [], 0
                return None
        want_values, want_count = self.state_after(self.acked)
        lost = sorted(n for n in want_values if observed_values.get(n) != want_values[n])
        extra = sorted(n for n in observed_values if n not in want_values)
        return (f"client {self.i}: state matches no prefix of its history "
                f"({self.acked} ops acknowledged this cycle, {inflight} in flight); "
                f"acknowledged-but-missing-or-wrong n={lost[:5]} "
                f"(got {[observed_values.get(n) for n in lost[:5]]}, want "
                f"{[want_values[n] for n in lost[:5]]}); beyond the acknowledged n={extra[:5]} "
                f"(in flight: {self.ops[self.acked:]}); count={observed_count}, "
                f"acknowledged count={want_count}")


def observe(c, clients):
    """Reads every key the model could hold (all verified + all attempted + one beyond)."""
    pipe = c.pipeline(transaction=False)
    spans = []
    for cl in clients:
        top = len(cl.values) + sum(1 for op in cl.ops if op[0] == "set") + 1
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
        out.append((observed, int(count) if count is not None else 0))
    return out


def verify_all(s, clients, cycle, fsync):
    c = s.client(socket_timeout=120)
    problems = []
    for cl in clients:
        if cl.error:
            problems.append(f"client {cl.i}: {cl.error}")
    observed = observe(c, clients)
    for cl, (values, count) in zip(clients, observed):
        p = cl.verify(values, count)
        if p:
            problems.append(p)
    if not problems:
        expected_keys = sum(len(cl.values) + (1 if cl.count else 0) for cl in clients)
        dbsize = c.dbsize()
        if dbsize != expected_keys:
            known = set()
            for cl in clients:
                known |= {cl.key(n) for n in cl.values}
                if cl.count:
                    known.add(cl.count_key)
            invented = [k for k in c.scan_iter(count=1000) if k not in known][:10]
            problems.append(f"DBSIZE {dbsize} but the model has {expected_keys} keys; keys no "
                            f"client wrote (or that should be gone): {invented}")
    if problems:
        pytest.fail(f"--fsync {fsync}, after the crash of cycle {cycle} (seed {SEED}): "
                    f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:6]) +
                    f"\nserver output (recovery):\n{s.log_text()[-3000:]}", pytrace=False)


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
          f"{sum(len(cl.values) for cl in clients)} keys, "
          f"{sum(cl.inflight_applied for cl in clients)} in-flight writes found applied, "
          f"{time.time() - t_start:.1f}s "
          f"(seed {SEED})")


def test_crash_fsync_always(durable):
    crash_cycles(durable, "always", CYCLES)


def test_crash_fsync_everysec(durable):
    crash_cycles(durable, "everysec", max(2, CYCLES // 4))
