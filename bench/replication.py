#!/usr/bin/env python3
"""Replication, FDB beside Redis in the same run (issue 17's figures).

1. Full sync: a primary with N keys of 100 bytes (DEBUG POPULATE); a replica starts; the time
   until its link is up with every key there.
2. Lag: SET, pipeline 16, from 50 clients (redis-benchmark) on a primary with two replicas; a
   probe writes the time into a key every 50 ms and waits for replica 1 to show it: p50/p99.
3. The cost of two replicas: the primary's SET P16 throughput with two replicas attached, as a
   share of its throughput with none; and the CPU each process spent per write in that run
   (/proc, until both replicas hold the whole stream), which the machine's load moves less.

With --rounds N the lag and throughput runs are repeated, Redis and FDB alternating which goes
first, and the medians are reported.

Every server binds 127.0.0.1 on a free port and is stopped by PID. Bounded: N keys, and
redis-benchmark runs of -n requests.

  bench/replication.py [--keys 1000000] [--requests 2000000] [--rounds 3]
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


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def caught_up(p, replicas):
    off = p.c.info("replication")["master_repl_offset"]
    return all(r.c.info("replication").get("slave_repl_offset") == off for r in replicas)


def lag_and_throughput(kind, tmp, requests, name):
    p = Proc(kind, tmp, f"{kind}-{name}-p")
    alone = benchmark(p.port, requests)
    r1 = Proc(kind, tmp, f"{kind}-{name}-r1", replicaof=p.port)
    r2 = Proc(kind, tmp, f"{kind}-{name}-r2", replicaof=p.port)
    while not (synced(p, r1, 0) and synced(p, r2, 0)):
        time.sleep(0.05)
    cpu0 = [cpu_seconds(x.p.pid) for x in (p, r1, r2)]
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
    while not caught_up(p, (r1, r2)):
        time.sleep(0.02)
    cpu = [(cpu_seconds(x.p.pid) - c0) / requests * 1e6 for x, c0 in zip((p, r1, r2), cpu0)]
    for x in (r1, r2, p):
        x.stop()
    lags.sort()
    return (alone, with_two, statistics.median(lags), lags[int(len(lags) * 0.99) - 1], len(lags),
            cpu[0], cpu[1] + cpu[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--requests", type=int, default=2000000)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    if not shutil.which("redis-benchmark"):
        sys.exit("needs redis-benchmark (redis-tools)")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.1f}, "
          f"{a.keys} keys, SET P16 c50 n={a.requests}")
    with tempfile.TemporaryDirectory(prefix="fdb-bench-repl-") as tmp:
        fs = {kind: full_sync(kind, tmp, a.keys) for kind in ("redis", "fdb")}
        runs = {"redis": [], "fdb": []}
        for r in range(a.rounds):
            for kind in (("redis", "fdb") if r % 2 == 0 else ("fdb", "redis")):
                runs[kind].append(lag_and_throughput(kind, tmp, a.requests, f"r{r}"))
    print("| | full sync of %d keys (s) | SET P16 alone (ops/s) | with 2 replicas | "
          "share kept | lag p50 (ms) | lag p99 (ms) | probes | CPU µs/write primary | "
          "both replicas |" % a.keys)
    print("|---|---|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for kind, rs in runs.items():
        alone, two = med(x[0] for x in rs), med(x[1] for x in rs)
        share = med(x[1] / x[0] for x in rs)
        print(f"| {kind} | {fs[kind]:.2f} | {alone:,.0f} | {two:,.0f} | {share:.2f} | "
              f"{med(x[2] for x in rs):.2f} | {med(x[3] for x in rs):.2f} | "
              f"{sum(x[4] for x in rs)} | {med(x[5] for x in rs):.2f} | "
              f"{med(x[6] for x in rs):.2f} |")
    if a.rounds > 1:
        for kind, rs in runs.items():
            print(f"# {kind} share kept per round: " +
                  ", ".join(f"{x[1] / x[0]:.2f}" for x in rs))


if __name__ == "__main__":
    main()
