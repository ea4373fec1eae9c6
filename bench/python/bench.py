#!/usr/bin/env python3
"""FDB from Python against the embedded stores Python users pick, and against redis-py.

Part 1, embedded, one thread, the same run: FDB's engine (fdb_server.SyncEngine, fsync
everysec) against py-lmdb, diskcache, sqlitedict and shelve. N keys (default 100,000) of ~80-byte
JSON dicts: set every key, then get every key in a shuffled order (the same order for every
store). Each store is used one call per operation, as an application uses it, with its own
value serialization (FDB: its JSON codec; lmdb: json.dumps/json.loads, since it stores bytes;
diskcache, sqlitedict, shelve: pickle, their default).

Part 2, client/server: FDBSyncClient against plain redis-py (hiredis parser) on the same
fdb-server, get and set of the same values; redis-py with json.dumps/json.loads (what an
application storing these dicts writes) and with raw bytes (the floor).

Prints a table of ops/s, p50/p99 latency (from a separate pass of individually timed
operations) and the ratios the project targets. Usage:

    make bench-python                     # or:
    PYTHONPATH=python/src:build/python FDB_SERVER_BIN=build/fdb-server \\
        python3 bench/python/bench.py [--keys 100000] [--skip-clients]

The comparison stores are installed with pip when missing (lmdb, diskcache, sqlitedict).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import pickle
import platform
import random
import shelve
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

STORES_NEEDED = {"lmdb": "lmdb", "diskcache": "diskcache", "sqlitedict": "sqlitedict"}


def ensure_packages() -> None:
    missing = [pip for mod, pip in STORES_NEEDED.items() if importlib.util.find_spec(mod) is None]
    if missing:
        print(f"installing {' '.join(missing)} with pip", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", *missing])


def make_value(i: int) -> Dict[str, Any]:
    return {"id": i, "user": f"user{i:06d}", "email": f"u{i:06d}@example.com",
            "active": i % 3 != 0, "n": i % 10}


class Result:
    def __init__(self, name: str, op: str, n: int, seconds: float, lat_us: List[float]):
        self.name, self.op, self.n, self.seconds = name, op, n, seconds
        lat_us.sort()
        self.p50 = lat_us[len(lat_us) // 2] if lat_us else float("nan")
        self.p99 = lat_us[int(len(lat_us) * 0.99)] if lat_us else float("nan")

    @property
    def ops(self) -> float:
        return self.n / self.seconds


def run_loop(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        return time.perf_counter() - t0
    finally:
        gc.enable()


def latencies(fn: Callable[[Any], Any], items: Sequence[Any]) -> List[float]:
    out = []
    clock = time.perf_counter_ns
    for x in items:
        t0 = clock()
        fn(x)
        out.append((clock() - t0) / 1000.0)
    return out


def measure(name: str, set_fn: Callable[[Tuple[str, Any]], Any], get_fn: Callable[[str], Any],
            pairs: List[Tuple[str, Any]], order: List[str], sample: int,
            check: Callable[[str], Any]) -> List[Result]:
    t_set = run_loop(set_fn, pairs)
    # Latency pass: overwrite a sample of keys with the same values.
    set_lat = latencies(set_fn, pairs[:sample])
    t_get = run_loop(get_fn, order)
    get_lat = latencies(get_fn, order[:sample])
    k = order[len(order) // 2]
    assert check(k) == make_value(int(k.split(":")[1])), f"{name}: wrong value read back"
    return [Result(name, "set", len(pairs), t_set, set_lat),
            Result(name, "get", len(order), t_get, get_lat)]


# --- the embedded stores ------------------------------------------------------------------------


def bench_fdb(root: str, pairs, order, sample, cache_size: int, label: str) -> List[Result]:
    from fdb_server import FDBConfig, SyncEngine

    db = SyncEngine(FDBConfig(data_dir=os.path.join(root, f"fdb-{cache_size}"),
                              flush_interval=1.0, cache_size=cache_size)).start()
    try:
        assert db.info()["fdb_fsync"] == "everysec"
        return measure(label, lambda kv: db.set(kv[0], kv[1]), db.get, pairs, order, sample,
                       db.get)
    finally:
        db.stop()


def bench_raw_bytes(root: str, pairs, order, sample) -> List[Result]:
    """Where the time goes: FDB's compiled engine and diskcache with values already encoded
    (bytes in, bytes out: no JSON, no pickle)."""
    import diskcache

    from fdb import _engine

    raw = [(k, json.dumps(v, separators=(",", ":")).encode()) for k, v in pairs]
    e = _engine.Engine(os.path.join(root, "fdb-raw"), fsync="everysec")
    res = measure("FDB fdb._engine, bytes", lambda kv: e.set(kv[0], kv[1]), e.get, raw, order,
                  sample, lambda k: json.loads(e.get(k)))
    e.close()
    cache = diskcache.Cache(os.path.join(root, "diskcache-raw"))
    res += measure("diskcache, bytes", lambda kv: cache.set(kv[0], kv[1]), cache.get, raw, order,
                   sample, lambda k: json.loads(cache.get(k)))
    cache.close()
    return res


def bench_lmdb(root: str, pairs, order, sample) -> List[Result]:
    import lmdb

    # sync=False: no fsync at commit (the OS writes back), the closest to FDB's everysec
    # without one fsync per set (lmdb's default), which would make it 100x slower.
    env = lmdb.open(os.path.join(root, "lmdb"), map_size=2 << 30, sync=False)
    dumps, loads = json.dumps, json.loads

    def set_(kv):
        with env.begin(write=True) as txn:
            txn.put(kv[0].encode(), dumps(kv[1], separators=(",", ":")).encode())

    def get(k):
        with env.begin() as txn:
            return loads(txn.get(k.encode()))

    res = measure("lmdb (txn per op)", set_, get, pairs, order, sample, get)
    # For reference: every get inside one read transaction (a batch, not one call per op).
    txn = env.begin()
    getb = lambda k: loads(txn.get(k.encode()))  # noqa: E731
    t = run_loop(getb, order)
    res.append(Result("lmdb (one txn for all gets)", "get", len(order), t,
                      latencies(getb, order[:sample])))
    txn.abort()
    env.close()
    return res


def bench_diskcache(root: str, pairs, order, sample) -> List[Result]:
    import diskcache

    cache = diskcache.Cache(os.path.join(root, "diskcache"))
    try:
        return measure("diskcache", lambda kv: cache.set(kv[0], kv[1]), cache.get, pairs, order,
                       sample, cache.get)
    finally:
        cache.close()


def bench_sqlitedict(root: str, pairs, order, sample) -> List[Result]:
    from sqlitedict import SqliteDict

    # autocommit=True: every set is committed (with an fsync, SQLite's default), as FDB's and
    # diskcache's are persisted per call. sqlitedict commits in its own thread, so a set returns
    # before its commit; the time below includes waiting for all of them at the end.
    db = SqliteDict(os.path.join(root, "sqlitedict.sqlite"), autocommit=True)

    def set_(kv):
        db[kv[0]] = kv[1]

    def get(k):
        return db[k]

    try:
        t0 = time.perf_counter()
        for kv in pairs:
            set_(kv)
        db.commit(blocking=True)
        t_set = time.perf_counter() - t0
        set_lat = latencies(set_, pairs[:sample])
        db.commit(blocking=True)
        t_get = run_loop(get, order)
        get_lat = latencies(get, order[:sample])
        return [Result("sqlitedict (autocommit)", "set", len(pairs), t_set, set_lat),
                Result("sqlitedict (autocommit)", "get", len(order), t_get, get_lat)]
    finally:
        db.close()


def bench_shelve(root: str, pairs, order, sample) -> List[Result]:
    path = os.path.join(root, "shelve")
    db = shelve.open(path, protocol=pickle.HIGHEST_PROTOCOL)
    kind = type(db.dict).__module__.strip("_")  # which dbm backs it: gdbm, dbm (ndbm), dumb

    def set_(kv):
        db[kv[0]] = kv[1]

    def get(k):
        return db[k]

    try:
        return measure(f"shelve ({kind})", set_, get, pairs, order, sample, get)
    finally:
        db.close()


# --- clients ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_clients(root: str, pairs, order, sample) -> List[Result]:
    import redis

    from fdb_client import FDBSyncClient
    from fdb_server import FDBConfig, FDBServer

    cfg = FDBConfig(port=free_port(), data_dir=os.path.join(root, "server"), max_workers=2,
                    cache_size=len(pairs) * 2, flush_interval=1.0)
    server = FDBServer(cfg).start_sync()
    res: List[Result] = []
    try:
        with FDBSyncClient(host="127.0.0.1", port=cfg.port) as db:
            res += measure("FDBSyncClient", lambda kv: db.set(kv[0], kv[1]), db.get, pairs,
                           order, sample, db.get)
            db.flushdb()
        r = redis.Redis(host="127.0.0.1", port=cfg.port)
        dumps, loads = json.dumps, json.loads

        def get_json(k):
            return loads(r.get(k))

        res += measure("redis-py + json", lambda kv: r.set(kv[0], dumps(kv[1])), get_json, pairs,
                       order, sample, get_json)
        r.flushdb()
        raw = [(k, dumps(v).encode()) for k, v in pairs]
        res += measure("redis-py, raw bytes", lambda kv: r.set(kv[0], kv[1]), r.get, raw, order,
                       sample, lambda k: loads(r.get(k)))
        r.close()
    finally:
        server.stop_sync()
    return res


def async_measure(name: str, set_fn, get_fn, pairs, order, sample, check) -> List[Result]:
    """measure() for coroutine functions: sequential awaits in one event loop."""
    import asyncio

    async def loop_over(fn, items) -> float:
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            for x in items:
                await fn(x)
            return time.perf_counter() - t0
        finally:
            gc.enable()

    async def lat(fn, items) -> List[float]:
        out = []
        clock = time.perf_counter_ns
        for x in items:
            t0 = clock()
            await fn(x)
            out.append((clock() - t0) / 1000.0)
        return out

    async def run() -> List[Result]:
        t_set = await loop_over(set_fn, pairs)
        set_lat = await lat(set_fn, pairs[:sample])
        t_get = await loop_over(get_fn, order)
        get_lat = await lat(get_fn, order[:sample])
        k = order[len(order) // 2]
        assert await check(k) == make_value(int(k.split(":")[1])), f"{name}: wrong value"
        return [Result(name, "set", len(pairs), t_set, set_lat),
                Result(name, "get", len(order), t_get, get_lat)]

    return asyncio.get_event_loop().run_until_complete(run())


def redis_benchmark(port: int, n: int) -> List[Result]:
    """redis-benchmark -c 1 -P 1 (a C client, one request per round trip) on the same server:
    the limit of one connection on this machine. 80-byte values, like the JSON values here."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        print("# redis-benchmark not found: the C-client reference is missing", file=sys.stderr)
        return []
    out = subprocess.run([exe, "-h", "127.0.0.1", "-p", str(port), "-c", "1", "-P", "1",
                          "-n", str(n), "-d", "80", "-t", "set,get", "--csv"],
                         capture_output=True, text=True, timeout=600).stdout
    res = []
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0] in ("SET", "GET"):
            rps = float(cells[1])
            # CSV: test, rps, avg, min, p50, p95, p99, max (ms). A list whose median is p50 and
            # whose 99th percentile is p99, for Result.
            lat = ([float(cells[4]) * 1000] * 99 + [float(cells[6]) * 1000]
                   if len(cells) > 6 else [])
            res.append(Result("redis-benchmark -c 1 -P 1 (C)", cells[0].lower(), n, n / rps,
                              lat))
    return res


def bench_client_paths(root: str, n: int, sample: int, slow: bool = True) -> List[Result]:
    """One fdb-server, one connection, sequential calls, ~80-byte JSON values: the FDB clients
    (fast path and redis-py path) beside redis-py (hiredis) sync and asyncio and beside
    redis-benchmark -c 1 -P 1, in the same run; then pipelined gets; then the embedded
    AsyncEngine with sequential awaits."""
    import asyncio

    import redis
    import redis.asyncio

    from fdb_client import FDBClient, FDBSyncClient
    from fdb_server import FDBConfig, FDBServer, create_engine

    pairs = [(f"key:{i}", make_value(i)) for i in range(n)]
    order = [k for k, _ in pairs]
    random.Random(7).shuffle(order)
    dumps, loads = json.dumps, json.loads
    cfg = FDBConfig(port=free_port(), data_dir=os.path.join(root, "paths"), max_workers=2,
                    cache_size=n * 4, flush_interval=1.0)
    server = FDBServer(cfg).start_sync()
    res: List[Result] = []
    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = asyncio.get_event_loop()
    try:
        res += redis_benchmark(cfg.port, n)
        for label, kw in (("FDBSyncClient (fast path)", {}),
                          ("FDBSyncClient(fast=False)", {"fast": False}))[:2 if slow else 1]:
            with FDBSyncClient(host="127.0.0.1", port=cfg.port, **kw) as db:
                res += measure(label, lambda kv: db.set(kv[0], kv[1]), db.get, pairs, order,
                               sample, db.get)
        r = redis.Redis(host="127.0.0.1", port=cfg.port)
        get_json = lambda k: loads(r.get(k))  # noqa: E731
        res += measure("redis-py sync (hiredis) + json", lambda kv: r.set(kv[0], dumps(kv[1])),
                       get_json, pairs, order, sample, get_json)
        r.close()
        for label, kw in (("FDBClient (asyncio, fast path)", {}),
                          ("FDBClient(fast=False) (asyncio)", {"fast": False}))[:2 if slow else 1]:
            db = FDBClient(host="127.0.0.1", port=cfg.port, **kw)
            loop.run_until_complete(db.connect())
            res += async_measure(label, lambda kv, db=db: db.set(kv[0], kv[1]), db.get, pairs,
                                 order, sample, db.get)
            loop.run_until_complete(db.close())
        if importlib.util.find_spec("uvloop") is not None:
            # An option measured, not the default: the same client under uvloop's event loop
            # (where FDBClient always goes round the loop: uvloop has no ready queue to look at).
            import uvloop

            uv = uvloop.new_event_loop()
            asyncio.set_event_loop(uv)
            try:
                db = FDBClient(host="127.0.0.1", port=cfg.port)
                uv.run_until_complete(db.connect())
                res += async_measure("FDBClient under uvloop", lambda kv, db=db: db.set(*kv),
                                     db.get, pairs, order, sample, db.get)
                uv.run_until_complete(db.close())
            finally:
                asyncio.set_event_loop(loop)
                uv.close()
        ar = redis.asyncio.Redis(host="127.0.0.1", port=cfg.port)

        async def aset(kv):
            return await ar.set(kv[0], dumps(kv[1]))

        async def aget(k):
            return loads(await ar.get(k))

        res += async_measure("redis-py asyncio (hiredis) + json", aset, aget, pairs, order,
                             sample, aget)
        loop.run_until_complete(ar.aclose() if hasattr(ar, "aclose") else ar.close())

        async def pipelined() -> float:
            async with FDBClient(host="127.0.0.1", port=cfg.port) as db:
                t0 = time.perf_counter()
                for i in range(0, n, 1000):
                    pipe = db.pipeline(transaction=False)
                    for k in order[i:i + 1000]:
                        pipe.get(k)
                    await pipe.execute()
                return time.perf_counter() - t0

        res.append(Result("FDBClient pipeline (1000 per batch)", "get", n,
                          loop.run_until_complete(pipelined()), []))
    finally:
        server.stop_sync()

    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    eng = create_engine(FDBConfig(data_dir=os.path.join(root, "async-engine"),
                                  flush_interval=1.0, cache_size=n * 4))
    loop.run_until_complete(eng.start())
    try:
        res += async_measure("AsyncEngine (embedded, sequential awaits)",
                             lambda kv: eng.set(kv[0], kv[1]), eng.get, pairs, order, sample,
                             eng.get)
    finally:
        loop.run_until_complete(eng.stop())
        loop.close()
        shutil.rmtree(os.path.join(root, "async-engine"), ignore_errors=True)
    return res


def bench_interleaved(root: str, chunks: int, m: int) -> None:
    """The client-path ratios on a machine whose load swings: the C client and each Python
    client take turns on short stretches (``m`` sets, then ``m`` gets each; a fraction of a
    second) ``chunks`` times, on one server, and each stretch's ops/s is divided by the C
    client's of the same chunk. Prints the median (and the range) of those ratios: a load
    change between two turns moves one chunk, not the result."""
    import asyncio

    import redis
    import redis.asyncio

    from fdb_client import FDBClient, FDBSyncClient
    from fdb_server import FDBConfig, FDBServer

    pairs = [(f"key:{i}", make_value(i)) for i in range(m)]
    order = [k for k, _ in pairs]
    random.Random(11).shuffle(order)
    dumps, loads = json.dumps, json.loads
    cfg = FDBConfig(port=free_port(), data_dir=os.path.join(root, "interleaved"), max_workers=2,
                    cache_size=m * 4, flush_interval=1.0)
    server = FDBServer(cfg).start_sync()
    loop = asyncio.new_event_loop()
    rows: Dict[Tuple[str, str], List[float]] = {}

    def timed(fn, items) -> float:
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        return len(items) / (time.perf_counter() - t0)

    async def atimed_coro(fn, items) -> float:
        t0 = time.perf_counter()
        for x in items:
            await fn(x)
        return len(items) / (time.perf_counter() - t0)

    def atimed(fn, items) -> float:
        return loop.run_until_complete(atimed_coro(fn, items))

    try:
        sync = FDBSyncClient(host="127.0.0.1", port=cfg.port)
        adb = FDBClient(host="127.0.0.1", port=cfg.port)
        loop.run_until_complete(adb.connect())
        r = redis.Redis(host="127.0.0.1", port=cfg.port)
        ar = redis.asyncio.Redis(host="127.0.0.1", port=cfg.port)

        async def ar_set(kv):
            return await ar.set(kv[0], dumps(kv[1]))

        async def ar_get(k):
            return loads(await ar.get(k))

        clients = [
            ("FDBSyncClient", lambda kv: sync.set(kv[0], kv[1]), sync.get, timed),
            ("FDBClient (asyncio)", lambda kv: adb.set(kv[0], kv[1]), adb.get, atimed),
            ("redis-py sync (hiredis) + json", lambda kv: r.set(kv[0], dumps(kv[1])),
             lambda k: loads(r.get(k)), timed),
            ("redis-py asyncio (hiredis) + json", ar_set, ar_get, atimed),
        ]
        for _, set_fn, _, run in clients:  # warm up: every key exists, connections open
            run(set_fn, pairs)
        gc.disable()
        for _ in range(chunks):
            c = {x.op: x.ops for x in redis_benchmark(cfg.port, m)}
            if not c:
                return
            rows.setdefault(("redis-benchmark -c 1 -P 1 (C)", "set"), []).append(c["set"])
            rows.setdefault(("redis-benchmark -c 1 -P 1 (C)", "get"), []).append(c["get"])
            for name, set_fn, get_fn, run in clients:
                rows.setdefault((name, "set"), []).append(run(set_fn, pairs) / c["set"])
                rows.setdefault((name, "get"), []).append(run(get_fn, order) / c["get"])
        gc.enable()
        sync.close()
        loop.run_until_complete(adb.close())
        r.close()
        loop.run_until_complete(ar.aclose() if hasattr(ar, "aclose") else ar.close())
    finally:
        server.stop_sync()
        loop.close()
        shutil.rmtree(cfg.data_dir, ignore_errors=True)

    targets = {("FDBClient (asyncio)", "C"): 0.75, ("FDBSyncClient", "C"): 0.85}
    print()
    print(f"Interleaved: {chunks} chunks of {m:,} sets then {m:,} gets per client, the C client "
          "first in each chunk; ratio = the client's ops/s over the C client's in the same "
          "chunk (median, min-max).")
    print()
    print("| client | op | median ratio to C | min-max | target |")
    print("|---|---|---:|---|---|")
    for (name, op), vals in rows.items():
        if name.startswith("redis-benchmark"):
            print(f"| {name} | {op} | median {statistics.median(vals):,.0f} ops/s | "
                  f"{min(vals):,.0f}-{max(vals):,.0f} | |")
            continue
        t = targets.get((name, "C"))
        med = statistics.median(vals)
        verdict = f"≥ {t}x: {'met' if med >= t else 'MISSED'}" if t else ""
        print(f"| {name} | {op} | {med:.2f}x | {min(vals):.2f}-{max(vals):.2f}x | {verdict} |")
    for fdb_name, py_name, t in (("FDBClient (asyncio)", "redis-py asyncio (hiredis) + json", 1.8),
                                 ("FDBSyncClient", "redis-py sync (hiredis) + json", 1.2)):
        for op in ("set", "get"):
            per = [a / b for a, b in zip(rows[(fdb_name, op)], rows[(py_name, op)])]
            med = statistics.median(per)
            print(f"| {fdb_name} / {py_name} | {op} | {med:.2f}x | "
                  f"{min(per):.2f}-{max(per):.2f}x | ≥ {t}x: {'met' if med >= t else 'MISSED'} |")


def median_results(rounds: List[List[Result]]) -> List[Result]:
    """One Result per (name, op) with the median ops/s, p50 and p99 over the rounds that
    measured it (in the order of the first round)."""
    out: List[Result] = []
    seen = set()
    for r0 in rounds[0]:
        key = (r0.name, r0.op)
        if key in seen:
            continue
        seen.add(key)
        same = [r for rs in rounds for r in rs if (r.name, r.op) == key]
        med = Result(r0.name, r0.op, r0.n, r0.n / statistics.median(r.ops for r in same), [])
        med.p50 = statistics.median(r.p50 for r in same)
        med.p99 = statistics.median(r.p99 for r in same)
        out.append(med)
    return out


def bench_startup(root: str, keys: int) -> List[Tuple[str, float]]:
    """Import times (a fresh interpreter each, best of 5) and the embedded engine's open time
    over a directory of ``keys`` keys (best of 5)."""
    out: List[Tuple[str, float]] = []
    env = dict(os.environ)
    for stmt in ("import fdb_client", "import fdb_server",
                 "from fdb_client import FDBClient", "from fdb_server import create_engine"):
        code = (f"import time; t = time.perf_counter(); {stmt}; "
                "print(time.perf_counter() - t)")
        best = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                        text=True, env=env, check=True).stdout)
                   for _ in range(5))
        out.append((f"`{stmt}`", best * 1000))
    d = os.path.join(root, "startup")
    from fdb_server import SyncEngine

    with SyncEngine(data_dir=d) as db:
        for i in range(0, keys, 1000):
            db.mset({f"key:{j}": make_value(j) for j in range(i, min(keys, i + 1000))})
    code = ("import sys, time; from fdb_server import SyncEngine; db = SyncEngine(data_dir="
            "sys.argv[1]); t = time.perf_counter(); db.start(); "
            "print(time.perf_counter() - t); assert db.dbsize() == int(sys.argv[2]); db.stop()")
    best = min(float(subprocess.run([sys.executable, "-c", code, d, str(keys)],
                                    capture_output=True, text=True, env=env,
                                    check=True).stdout) for _ in range(5))
    out.append((f"embedded engine start() over {keys:,} keys", best * 1000))
    return out


# --- report -------------------------------------------------------------------------------------


def find(results: List[Result], name_prefix: str, op: str) -> Optional[Result]:
    for r in results:
        if r.name.startswith(name_prefix) and r.op == op:
            return r
    return None


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=10_000, help="ops timed one by one for p50/p99")
    ap.add_argument("--dir", default=None, help="where the stores write (default: a temp dir)")
    ap.add_argument("--skip-clients", action="store_true")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--skip-paths", action="store_true",
                    help="skip the client paths against redis-benchmark")
    ap.add_argument("--path-keys", type=int, default=20_000,
                    help="keys for the client-path comparison (sequential round trips)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the client-path section (the C client each time) and report "
                         "medians; the (fast=False) rows run in the first round only")
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--interleave", type=int, default=0, metavar="CHUNKS",
                    help="only the client-path ratios, the clients taking turns with the C "
                         "client on short stretches CHUNKS times (for a machine whose load "
                         "swings)")
    ap.add_argument("--chunk", type=int, default=2000, help="operations per stretch")
    args = ap.parse_args()
    if args.interleave:
        root = tempfile.mkdtemp(prefix="fdb-pybench-", dir=args.dir)
        print(f"# {machine()}")
        try:
            bench_interleaved(root, args.interleave, args.chunk)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return 0
    ensure_packages()

    n = args.keys
    pairs = [(f"key:{i}", make_value(i)) for i in range(n)]
    order = [k for k, _ in pairs]
    random.Random(42).shuffle(order)
    sample = min(args.sample, n)
    avg = sum(len(json.dumps(v, separators=(",", ":"))) for _, v in pairs) / n
    root = tempfile.mkdtemp(prefix="fdb-pybench-", dir=args.dir)
    print(f"# {n:,} keys, values ~{avg:.0f}-byte JSON dicts, one thread; data in {root}")
    print(f"# {machine()}")
    results: List[Result] = []
    try:
        if not args.skip_embedded:
            results += bench_fdb(root, pairs, order, sample, cache_size=n,
                                 label="FDB engine (all values in RAM)")
            results += bench_fdb(root, pairs, order, sample, cache_size=10_000,
                                 label="FDB engine (cache_size=10000)")
            results += bench_lmdb(root, pairs, order, sample)
            results += bench_diskcache(root, pairs, order, sample)
            results += bench_sqlitedict(root, pairs, order, sample)
            results += bench_shelve(root, pairs, order, sample)
            results += bench_raw_bytes(root, pairs, order, sample)
        if not args.skip_clients:
            results += bench_clients(root, pairs, order, sample)
        path_rounds: List[List[Result]] = []
        if not args.skip_paths:
            for i in range(max(1, args.rounds)):
                path_rounds.append(bench_client_paths(root, args.path_keys, min(sample, 5000),
                                                      slow=i == 0))
                if args.rounds > 1:
                    print(f"# round {i + 1} of {args.rounds} done", file=sys.stderr)
            results += median_results(path_rounds)
        startup = [] if args.skip_startup else bench_startup(root, 100_000)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print("| store | op | ops/s | µs/op | p50 µs | p99 µs |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.name} | {r.op} | {r.ops:,.0f} | {1e6 / r.ops:.2f} | {r.p50:.2f} | "
              f"{r.p99:.2f} |")

    print()
    targets = [
        ("FDB get / lmdb get (txn per op)", "FDB engine (all", "lmdb (txn", "get", 1.0),
        ("FDB get / diskcache get", "FDB engine (all", "diskcache", "get", 5.0),
        ("FDB set / diskcache set", "FDB engine (all", "diskcache", "set", 10.0),
        ("FDB get / lmdb get (one txn)", "FDB engine (all", "lmdb (one", "get", None),
        ("FDB set / lmdb set", "FDB engine (all", "lmdb (txn", "set", None),
        ("FDB get / sqlitedict get", "FDB engine (all", "sqlitedict", "get", None),
        ("FDB set / sqlitedict set", "FDB engine (all", "sqlitedict", "set", None),
        ("FDB get / shelve get", "FDB engine (all", "shelve", "get", None),
        ("FDB set / shelve set", "FDB engine (all", "shelve", "set", None),
        ("FDB (cache 10k) get / lmdb get", "FDB engine (cache", "lmdb (txn", "get", None),
        ("FDB (cache 10k) get / diskcache get", "FDB engine (cache", "diskcache", "get", None),
        ("bytes only: FDB get / diskcache get", "FDB fdb._engine", "diskcache, bytes", "get", None),
        ("bytes only: FDB set / diskcache set", "FDB fdb._engine", "diskcache, bytes", "set", None),
        ("FDBSyncClient get / redis-py + json get", "FDBSyncClient", "redis-py + json", "get", 0.9),
        ("FDBSyncClient set / redis-py + json set", "FDBSyncClient", "redis-py + json", "set", 0.9),
        ("FDBSyncClient get / redis-py raw get", "FDBSyncClient", "redis-py, raw", "get", None),
        ("FDBSyncClient set / redis-py raw set", "FDBSyncClient", "redis-py, raw", "set", None),
        ("FDBClient set / C client set", "FDBClient (asyncio, fast", "redis-benchmark", "set",
         0.75),
        ("FDBClient get / C client get", "FDBClient (asyncio, fast", "redis-benchmark", "get",
         0.75),
        ("FDBClient set / redis-py asyncio set", "FDBClient (asyncio, fast", "redis-py asyncio",
         "set", 1.8),
        ("FDBClient get / redis-py asyncio get", "FDBClient (asyncio, fast", "redis-py asyncio",
         "get", 1.8),
        ("FDBSyncClient set / C client set", "FDBSyncClient (fast", "redis-benchmark", "set",
         0.85),
        ("FDBSyncClient get / C client get", "FDBSyncClient (fast", "redis-benchmark", "get",
         0.85),
        ("FDBSyncClient set / redis-py sync set", "FDBSyncClient (fast", "redis-py sync", "set",
         1.2),
        ("FDBSyncClient get / redis-py sync get", "FDBSyncClient (fast", "redis-py sync", "get",
         1.2),
    ]
    if len(path_rounds) > 1:
        print(f"Client paths: medians of {len(path_rounds)} rounds (each round: the C client, "
              "then the Python clients, on one server). Ratios below: the median of the "
              "rounds' own ratios. Per round:")
        print()
        paths = [t for t in targets if t[2] in ("redis-benchmark", "redis-py asyncio",
                                               "redis-py sync")]
        print("| round | C set | C get | " + " | ".join(t[0] for t in paths) + " |")
        print("|---" * (3 + len(paths)) + "|")
        for i, rs in enumerate(path_rounds):
            c_set, c_get = find(rs, "redis-benchmark", "set"), find(rs, "redis-benchmark", "get")
            cells = []
            for _, a, b, op, _ in paths:
                ra, rb = find(rs, a, op), find(rs, b, op)
                cells.append(f"{ra.ops / rb.ops:.2f}x" if ra and rb else "")
            print(f"| {i + 1} | {c_set.ops if c_set else 0:,.0f} | "
                  f"{c_get.ops if c_get else 0:,.0f} | " + " | ".join(cells) + " |")
        print()

    def ratio_of(a: str, b: str, op: str) -> Optional[float]:
        per_round = []
        for rs in path_rounds if len(path_rounds) > 1 else [results]:
            ra, rb = find(rs, a, op), find(rs, b, op)
            if ra is not None and rb is not None:
                per_round.append(ra.ops / rb.ops)
        if not per_round:
            ra, rb = find(results, a, op), find(results, b, op)
            return None if ra is None or rb is None else ra.ops / rb.ops
        return statistics.median(per_round)

    print("| ratio (ops/s over ops/s) | value | target | by p50 latency |")
    print("|---|---:|---|---:|")
    for label, a, b, op, target in targets:
        ra, rb = find(results, a, op), find(results, b, op)
        if ra is None or rb is None:
            continue
        ratio = ratio_of(a, b, op)
        verdict = "" if target is None else (f"≥ {target}x: {'met' if ratio >= target else 'MISSED'}")
        p50 = f"{rb.p50 / ra.p50:.2f}x" if ra.p50 == ra.p50 and rb.p50 == rb.p50 else ""
        print(f"| {label} | {ratio:.2f}x | {verdict} | {p50} |")
    for label, name, op, floor in (("FDBClient pipelined get", "FDBClient pipeline", "get",
                                    200_000),
                                   ("AsyncEngine sequential get", "AsyncEngine", "get", 200_000),
                                   ("AsyncEngine sequential set", "AsyncEngine", "set", 200_000)):
        r = find(results, name, op)
        if r is not None:
            print(f"| {label} | {r.ops:,.0f} ops/s | ≥ {floor:,}/s: "
                  f"{'met' if r.ops >= floor else 'MISSED'} |")
    print()
    print("| startup | ms | target |")
    print("|---|---:|---|")
    for label, ms in startup:
        target = "≤ 100 ms" if label.startswith(("`import fdb", "embedded")) else ""
        verdict = f"{target}: {'met' if ms <= 100 else 'MISSED'}" if target else ""
        print(f"| {label} | {ms:.1f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
