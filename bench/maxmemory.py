#!/usr/bin/env python3
"""maxmemory benchmarks (issue 9, defects 4 and 5), FDB beside Redis 7 in the same run.

(a) Without persistence, write 10x the budget under each maxmemory-policy: used_memory, RSS
    (VmRSS at the end, VmHWM peak) against the budget, evicted_keys and refused writes, FDB
    (`--appendonly no`) vs redis-server with the same --maxmemory / --maxmemory-policy. Then SET
    throughput under allkeys-lru with redis-benchmark, FDB vs Redis.
(b) One list grown by pipelined RPUSH (100 elements per command, 200 commands per round trip)
    under FDB's values-to-disk mode (persistence on, default policy) with a budget smaller than
    the list, vs unbounded, vs the build before (BEFORE_BIN), vs Redis unbounded (Redis has no
    values-to-disk mode: with maxmemory it would evict or refuse, so its unbounded run is the
    reference for time and RSS). Time, peak RSS, LLEN and LINDEX latency afterwards.

Usage: bench/maxmemory.py [--list-elements N] [--list-budget 16mb] [--budget 8mb]
Env: FDB_SERVER_BIN (default build/fdb-server), BEFORE_BIN (default /work/before/fdb-server),
REDIS_SERVER_BIN (default redis-server). Servers run on free 127.0.0.1 ports, stopped by PID.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FDB = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))
BEFORE = os.environ.get("BEFORE_BIN", "/work/before/fdb-server")
REDIS = os.environ.get("REDIS_SERVER_BIN", "redis-server")
MB = 1024 * 1024
POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
            "volatile-lfu", "volatile-random", "volatile-ttl"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, kind, binary, args):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="fdb-bench-mm-")
        if kind == "redis":
            cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", self.dir]
        else:
            cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                   "--threads", "2"]
        self.p = subprocess.Popen(cmd + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                redis.Redis(port=self.port).ping()
                break
            except redis.exceptions.ConnectionError:
                if time.time() > deadline or self.p.poll() is not None:
                    raise RuntimeError(f"{cmd} did not start")
                time.sleep(0.05)
        self.r = redis.Redis(port=self.port, socket_timeout=600)

    def status_kb(self, field):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def fill(r, n, volatile):
    errors = 0
    value = b"v" * 1000
    p = r.pipeline(transaction=False)
    for i in range(n):
        if volatile:
            p.set(f"k{i}", value, ex=100000 + i)
        else:
            p.set(f"k{i}", value)
        if len(p) == 500 or i == n - 1:
            errors += sum(isinstance(x, Exception) for x in p.execute(raise_on_error=False))
    return errors


def part_a(budget_str, budget):
    n = 10 * budget // 1000
    print(f"### (a) 10x the budget ({n} SETs of 1000 B) under --maxmemory {budget_str}, "
          "no persistence\n")
    print("| policy | server | used_memory MiB | VmRSS MiB | VmHWM MiB | evicted_keys | refused SETs | keys left |")
    print("|---|---|---|---|---|---|---|---|")
    for policy in POLICIES:
        for kind, binary, extra in [("fdb", FDB, ["--appendonly", "no"]), ("redis", REDIS, [])]:
            s = Proc(kind, binary, ["--maxmemory", budget_str, "--maxmemory-policy", policy] + extra)
            try:
                errors = fill(s.r, n, volatile=policy.startswith("volatile"))
                info = s.r.info()
                print(f"| {policy} | {'FDB' if kind == 'fdb' else 'Redis 7.0.15'} | "
                      f"{info['used_memory'] / MB:.1f} | {s.status_kb('VmRSS') / 1024:.1f} | "
                      f"{s.status_kb('VmHWM') / 1024:.1f} | {info['evicted_keys']} | {errors} | "
                      f"{s.r.dbsize()} |")
            finally:
                s.stop()
    print()
    print("#### SET throughput under allkeys-lru (redis-benchmark -t set -n 1000000 -r 10000000 "
          f"-d 100 -P 16 -c 50, --maxmemory {budget_str})\n")
    print("| server | SET ops/s | evicted_keys | used_memory MiB |")
    print("|---|---|---|---|")
    rates = {}
    for kind, binary, extra in [("fdb", FDB, ["--appendonly", "no"]), ("redis", REDIS, [])]:
        s = Proc(kind, binary, ["--maxmemory", budget_str, "--maxmemory-policy", "allkeys-lru"] + extra)
        try:
            out = subprocess.run(["redis-benchmark", "-p", str(s.port), "-t", "set", "-n", "1000000",
                                  "-r", "10000000", "-d", "100", "-P", "16", "-c", "50", "-q"],
                                 capture_output=True, text=True, timeout=300).stdout
            m = re.findall(r"SET: ([0-9.]+) requests per second", out.replace("\r", "\n"))
            rate = float(m[-1]) if m else 0.0
            rates[kind] = rate
            info = s.r.info()
            print(f"| {'FDB' if kind == 'fdb' else 'Redis 7.0.15'} | {rate:,.0f} | "
                  f"{info['evicted_keys']} | {info['used_memory'] / MB:.1f} |")
        finally:
            s.stop()
    if rates.get("redis"):
        print(f"\nFDB / Redis SET throughput under allkeys-lru: {rates['fdb'] / rates['redis']:.2f}x\n")


def push_list(port, n, per=100, batch=200):
    s = socket.create_connection(("127.0.0.1", port))
    sent = 0
    start = time.time()
    while sent < n:
        cmds = []
        for _ in range(batch):
            if sent >= n:
                break
            m = min(per, n - sent)
            items = [b"RPUSH", b"biglist"] + [str(sent + i).encode() for i in range(m)]
            cmds.append(b"*%d\r\n" % len(items) +
                        b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in items))
            sent += m
        s.sendall(b"".join(cmds))
        lines = 0
        while lines < len(cmds):
            d = s.recv(1 << 20)
            if not d:
                raise RuntimeError("connection closed")
            lines += d.count(b"\r\n")
    s.close()
    return time.time() - start


def part_b(n, budget_str):
    print(f"### (b) one list of {n:,} elements by pipelined RPUSH, values-to-disk budget "
          f"--maxmemory {budget_str}\n")
    print("| server | maxmemory | push s | VmHWM MiB | VmRSS MiB at end | LLEN ms | LINDEX mid ms | LLEN after 3 s idle ms |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [("FDB after", "fdb", FDB, ["--maxmemory", budget_str]),
             ("FDB after", "fdb", FDB, []),
             ("FDB before", "fdb", BEFORE, ["--maxmemory", budget_str]),
             ("FDB before", "fdb", BEFORE, []),
             ("Redis 7.0.15 (no AOF)", "redis", REDIS, [])]
    times = {}
    for label, kind, binary, args in cases:
        if not os.path.exists(binary) and kind == "fdb":
            continue
        s = Proc(kind, binary, args)
        try:
            t = push_list(s.port, n)
            t0 = time.time(); ln = s.r.llen("biglist"); llen_ms = (time.time() - t0) * 1000
            t0 = time.time(); mid = s.r.lindex("biglist", n // 2); lindex_ms = (time.time() - t0) * 1000
            assert ln == n and int(mid) == n // 2
            hwm = s.status_kb("VmHWM") / 1024
            rss = s.status_kb("VmRSS") / 1024
            time.sleep(3)  # long enough for an idle large value to be written out and dropped
            t0 = time.time(); s.r.llen("biglist"); idle_ms = (time.time() - t0) * 1000
            mm = budget_str if args else "unbounded"
            times[(label, mm)] = t
            print(f"| {label} | {mm} | {t:.2f} | {hwm:.0f} | {rss:.0f} | {llen_ms:.1f} | "
                  f"{lindex_ms:.1f} | {idle_ms:.1f} |")
        finally:
            s.stop()
    a = times.get(("FDB after", budget_str))
    u = times.get(("FDB after", "unbounded"))
    b = times.get(("FDB before", budget_str))
    if a and u:
        print(f"\nbounded / unbounded push time, after: {a / u:.2f}x (target <= 2x)", end="")
        if b:
            print(f"; before: {b / times[('FDB before', 'unbounded')]:.2f}x", end="")
        print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", default="8mb")
    ap.add_argument("--list-elements", type=int, default=5_000_000)
    ap.add_argument("--list-budget", default="16mb")
    ap.add_argument("--skip-a", action="store_true")
    ap.add_argument("--skip-b", action="store_true")
    a = ap.parse_args()
    print(f"Run {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {os.cpu_count()} cores\n")
    if not a.skip_a:
        m = re.match(r"(\d+)mb$", a.budget)
        part_a(a.budget, int(m.group(1)) * MB)
    if not a.skip_b:
        part_b(a.list_elements, a.list_budget)


if __name__ == "__main__":
    main()
