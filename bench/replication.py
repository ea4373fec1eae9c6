#!/usr/bin/env python3
"""Replication, FDB beside Redis in the same run (issue 17's figures).

1. Full sync: a primary with N keys of 100 bytes (DEBUG POPULATE); a replica starts; the time
   until its link is up with every key there.
2. Lag: SET, pipeline 16, from 50 clients (redis-benchmark) on a primary with two replicas; a
   probe writes the time into a key every 50 ms and waits for replica 1 to show it: p50/p99.
3. The cost of two replicas: the primary's SET P16 throughput with two replicas attached, as a
   share of its throughput with none.

Every server binds 127.0.0.1 on a free port and is stopped by PID. Bounded: N keys, and
redis-benchmark runs of -n requests.

  bench/replication.py [--keys 1000000] [--requests 2000000]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FDB = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, kind, tmp, name, replicaof=None):
        self.port = free_port()
        d = os.path.join(tmp, name)
        os.makedirs(d)
        if kind == "fdb":
            args = [FDB, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", d,
                    "--enable-debug-command", "yes"]
            if replicaof:
                args += ["--replicaof", f"127.0.0.1 {replicaof}"]
        else:
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", d,
                    "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                    "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"]
            if replicaof:
                args += ["--replicaof", "127.0.0.1", str(replicaof)]
        self.log = open(os.path.join(d, "log"), "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.c = redis.Redis(port=self.port, socket_timeout=120)
        for _ in range(500):
            try:
                self.c.ping()
                break
            except (redis.ConnectionError, redis.ResponseError):
                time.sleep(0.02)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()


def synced(primary, replica, keys):
    i = replica.c.info("replication")
    return i.get("master_link_status") == "up" and replica.c.dbsize() >= keys


def full_sync(kind, tmp, keys):
    p = Proc(kind, tmp, kind + "-fs-p")
    p.c.execute_command("DEBUG", "POPULATE", keys, "key", 100)
    t0 = time.monotonic()
    r = Proc(kind, tmp, kind + "-fs-r", replicaof=p.port)
    while not synced(p, r, keys):
        time.sleep(0.01)
    took = time.monotonic() - t0
    r.stop()
    p.stop()
    return took


def benchmark(port, requests):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-P", "16", "-c", "50", "-n",
         str(requests), "-r", "100000", "-q", "--csv"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith('"SET"'):
            return float(line.split(",")[1].strip('"'))
    raise RuntimeError(out)


def lag_and_throughput(kind, tmp, requests):
    p = Proc(kind, tmp, kind + "-l-p")
    alone = benchmark(p.port, requests)
    r1 = Proc(kind, tmp, kind + "-l-r1", replicaof=p.port)
    r2 = Proc(kind, tmp, kind + "-l-r2", replicaof=p.port)
    while not (synced(p, r1, 0) and synced(p, r2, 0)):
        time.sleep(0.05)
    lags = []
    stop = threading.Event()

    def probe():
        pc = redis.Redis(port=p.port)
        rc = redis.Redis(port=r1.port)
        i = 0
        while not stop.is_set():
            i += 1
            t0 = time.monotonic()
            pc.set("lag:probe", i)
            while int(rc.get("lag:probe") or 0) < i:
                if time.monotonic() - t0 > 10:
                    break
            lags.append((time.monotonic() - t0) * 1000)
            time.sleep(0.05)

    t = threading.Thread(target=probe)
    t.start()
    with_two = benchmark(p.port, requests)
    stop.set()
    t.join()
    for x in (r1, r2, p):
        x.stop()
    lags.sort()
    return alone, with_two, statistics.median(lags), lags[int(len(lags) * 0.99) - 1], len(lags)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--requests", type=int, default=2000000)
    a = ap.parse_args()
    if not shutil.which("redis-benchmark"):
        sys.exit("needs redis-benchmark (redis-tools)")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.1f}, "
          f"{a.keys} keys, SET P16 c50 n={a.requests}")
    with tempfile.TemporaryDirectory(prefix="fdb-bench-repl-") as tmp:
        rows = {}
        for kind in ("redis", "fdb"):
            rows[kind] = (full_sync(kind, tmp, a.keys),) + lag_and_throughput(kind, tmp,
                                                                              a.requests)
    print("| | full sync of %d keys (s) | SET P16 alone (ops/s) | with 2 replicas | "
          "share kept | lag p50 (ms) | lag p99 (ms) | probes |" % a.keys)
    print("|---|---|---|---|---|---|---|---|")
    for kind, (fs, alone, two, p50, p99, n) in rows.items():
        print(f"| {kind} | {fs:.2f} | {alone:,.0f} | {two:,.0f} | {two / alone:.2f} | "
              f"{p50:.2f} | {p99:.2f} | {n} |")


if __name__ == "__main__":
    main()
