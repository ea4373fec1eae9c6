#!/usr/bin/env python3
"""Checkable keys and values for the persistence benchmarks.

Key i is PREFIX + "%012d" % i (default prefix "key:"), the same 12-digit form redis-benchmark
gives __rand_int__, so `redis-benchmark -r N GET key:__rand_int__` reads exactly keys 0..N-1.
The value of key i at version v (v = overwrite pass, 0 for a plain load) is
"%012d:%04d:" % (i, v) followed by pseudo-random alphanumerics from a seeded pool, cut to
VALUE_SIZE bytes, so every value names its key and version and can be verified exactly.

    _kv.py gen --count N [--start S] [--passes P] [--first-pass V] [--value-size B] [--prefix P]
        RESP stream of SET commands on stdout (for `redis-cli --pipe`): P passes over the keys,
        pass p writing version first_pass + p.
    _kv.py verify --port PORT --count N [--start S] [--version V] [--sample K] [--seed X]
        GETs every key in [start, start+count) (or K random ones) with pipelined batches and
        checks the values. Prints one JSON line: checked, ok, missing, wrong, errors, seconds,
        keys_per_s, first_bad. Exit status 0 when everything matched, 3 otherwise.
    _kv.py value --index I [--version V] [--value-size B]
        Prints the value (for shell checks).
"""

import argparse
import json
import random
import string
import sys
import time

POOL_LEN = 1 << 16


class Values:
    def __init__(self, size, seed=7):
        if size < 18:
            raise SystemExit("value size must be at least 18 bytes (it embeds the key index and version)")
        rng = random.Random(seed)
        alphabet = (string.ascii_letters + string.digits).encode()
        self.size = size
        self.pool = bytes(rng.choice(alphabet) for _ in range(POOL_LEN + size))

    def value(self, i, version=0):
        head = b"%012d:%04d:" % (i, version % 10000)
        off = (i * 40503 + version * 7919) % POOL_LEN
        return head + self.pool[off:off + self.size - len(head)]


def key(prefix, i):
    return b"%s%012d" % (prefix, i)


def cmd_gen(a):
    vals = Values(a.value_size)
    prefix = a.prefix.encode()
    klen = len(key(prefix, 0))
    head = b"*3\r\n$3\r\nSET\r\n$%d\r\n" % klen
    vhdr = b"\r\n$%d\r\n" % a.value_size
    out = sys.stdout.buffer
    chunk = []
    for p in range(a.passes):
        ver = a.first_pass + p
        for i in range(a.start, a.start + a.count):
            chunk.append(head + key(prefix, i) + vhdr + vals.value(i, ver) + b"\r\n")
            if len(chunk) >= 20000:
                out.write(b"".join(chunk))
                chunk.clear()
    out.write(b"".join(chunk))
    out.flush()


def cmd_value(a):
    sys.stdout.write(Values(a.value_size).value(a.index, a.version).decode() + "\n")


def cmd_verify(a):
    import _resp
    vals = Values(a.value_size)
    prefix = a.prefix.encode()
    if a.sample:
        rng = random.Random(a.seed)
        idx = [rng.randrange(a.start, a.start + a.count) for _ in range(a.sample)]
    else:
        idx = range(a.start, a.start + a.count)
    c = _resp.Client(a.port, timeout=a.timeout)
    res = dict(checked=0, ok=0, missing=0, wrong=0, errors=0, first_bad=None)
    t0 = time.monotonic()
    batch = a.batch
    idx = list(idx) if a.sample else idx
    n = len(idx)
    getcmd = b"*2\r\n$3\r\nGET\r\n$%d\r\n" % len(key(prefix, 0))
    for s in range(0, n, batch):
        part = idx[s:s + batch]
        c.send_raw(b"".join(getcmd + key(prefix, i) + b"\r\n" for i in part))
        replies = c.read_replies(len(part))
        for i, r in zip(part, replies):
            res["checked"] += 1
            if r is None:
                res["missing"] += 1
                bad = "missing"
            elif isinstance(r, Exception):
                res["errors"] += 1
                bad = "error: %s" % r
            elif r == vals.value(i, a.version):
                res["ok"] += 1
                continue
            else:
                res["wrong"] += 1
                bad = "wrong value %r" % r[:40]
            if res["first_bad"] is None:
                res["first_bad"] = "%s: %s" % (key(prefix, i).decode(), bad)
    c.close()
    dt = time.monotonic() - t0
    res["seconds"] = round(dt, 3)
    res["keys_per_s"] = round(res["checked"] / dt) if dt > 0 else None
    print(json.dumps(res))
    return 0 if res["ok"] == res["checked"] == n else 3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--value-size", type=int, default=100)
        p.add_argument("--prefix", default="key:")

    g = sub.add_parser("gen")
    common(g)
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--start", type=int, default=0)
    g.add_argument("--passes", type=int, default=1)
    g.add_argument("--first-pass", type=int, default=0)
    g.set_defaults(func=cmd_gen)
    v = sub.add_parser("verify")
    common(v)
    v.add_argument("--port", type=int, required=True)
    v.add_argument("--count", type=int, required=True)
    v.add_argument("--start", type=int, default=0)
    v.add_argument("--version", type=int, default=0)
    v.add_argument("--sample", type=int, default=0)
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--batch", type=int, default=1000)
    v.add_argument("--timeout", type=float, default=60.0)
    v.set_defaults(func=cmd_verify)
    w = sub.add_parser("value")
    common(w)
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--version", type=int, default=0)
    w.set_defaults(func=cmd_value)
    a = ap.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
