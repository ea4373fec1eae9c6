#!/usr/bin/env python3
"""Cluster throughput: FDB in cluster mode vs Redis Cluster, 1, 2 and 3 primaries.

Each side gets N server processes on free loopback ports, each with one thread (fdb-server
--threads 1; Redis is single-threaded), no persistence. FDB's nodes get their topology from
CLUSTERX SETNODES (what fdb-controller pushes); Redis's cluster is made with
`redis-cli --cluster create` (3 primaries) or ADDSLOTSRANGE + MEET (1, 2: --cluster create
wants 3). Then `redis-benchmark --cluster` (plain for 1 node, which it refuses) runs SET and GET on random keys against each,
alternating FDB and Redis run by run, ROUNDS rounds; the table has the medians and the ratio.

    bench/cluster.py                  # SIZES=1,2,3 ROUNDS=3 REQUESTS=200000 CLIENTS=50 PIPELINE=1
    RESULTS_MD=out.md bench/cluster.py

Every process started is stopped by PID on exit.
"""

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FDB = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))
SIZES = [int(x) for x in os.environ.get("SIZES", "1,2,3").split(",")]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
REQUESTS = int(os.environ.get("REQUESTS", "200000"))
CLIENTS = int(os.environ.get("CLIENTS", "50"))
PIPELINE = int(os.environ.get("PIPELINE", "1"))
TESTS = os.environ.get("TESTS", "set,get")
NUM_SLOTS = 16384


def free_port():
    """A free port whose +10000 (Redis Cluster's bus port) is a port too and free."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def cli(port, *args, check=True):
    p = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                       text=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError(p.stderr)
    return p.stdout.strip()


def wait_ping(port):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if cli(port, "PING", check=False) == "PONG":
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no PING answer on {port}")


def ranges(n):
    per = NUM_SLOTS // n
    return [(i * per, NUM_SLOTS - 1 if i == n - 1 else (i + 1) * per - 1) for i in range(n)]


class Side:
    def __init__(self, kind, n, tmp):
        self.kind, self.procs, self.ports = kind, [], []
        for i in range(n):
            port = free_port()
            d = os.path.join(tmp, f"{kind}{n}-{i}")
            os.makedirs(d)
            if kind == "fdb":
                args = [FDB, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                        "--threads", "1", "--appendonly", "no", "--cluster-enabled", "yes"]
            else:
                args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                        "--save", "", "--appendonly", "no", "--cluster-enabled", "yes",
                        "--cluster-config-file", os.path.join(d, "nodes.conf")]
            self.procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            self.ports.append(port)
        try:
            for p in self.ports:
                wait_ping(p)
            (self.fdb_topology if kind == "fdb" else self.redis_cluster)(n)
        except Exception:
            self.stop()
            raise

    def fdb_topology(self, n):
        ids = [secrets.token_hex(20) for _ in range(n)]
        text = "\n".join(f"{ids[i]} 127.0.0.1 {self.ports[i]} master - {a}-{b}"
                         for i, (a, b) in enumerate(ranges(n)))
        for i, p in enumerate(self.ports):
            cli(p, "CLUSTERX", "SETNODEID", ids[i])
            cli(p, "CLUSTERX", "SETNODES", text, 1)

    def redis_cluster(self, n):
        if n >= 3:
            subprocess.run(["redis-cli", "--cluster", "create",
                            *[f"127.0.0.1:{p}" for p in self.ports], "--cluster-yes"],
                           capture_output=True, check=True, timeout=60)
        else:
            for p, (a, b) in zip(self.ports, ranges(n)):
                cli(p, "CLUSTER", "ADDSLOTSRANGE", a, b)
            for p in self.ports[1:]:
                cli(self.ports[0], "CLUSTER", "MEET", "127.0.0.1", p)
        deadline = time.time() + 30
        while time.time() < deadline:
            if all("cluster_state:ok" in cli(p, "CLUSTER", "INFO") for p in self.ports):
                return
            time.sleep(0.1)
        raise RuntimeError("redis cluster not ok")

    def bench(self, test):
        # redis-benchmark --cluster refuses a one-node cluster: that node serves every slot, so
        # a plain run is the same load.
        cluster = ["--cluster"] if len(self.ports) > 1 else []
        out = subprocess.run(
            ["redis-benchmark", *cluster, "-p", str(self.ports[0]), "-c", str(CLIENTS),
             "-n", str(REQUESTS), "-r", "100000", "-P", str(PIPELINE), "-t", test, "--csv"],
            capture_output=True, text=True, timeout=300)
        for line in out.stdout.splitlines():
            cols = [c.strip('"') for c in line.split(",")]
            if cols and cols[0].lower() == test:
                return float(cols[1])
        raise RuntimeError(f"{self.kind}: no result for {test}: {out.stdout} {out.stderr}")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            p.wait(timeout=20)


def main():
    rows = []
    with tempfile.TemporaryDirectory(prefix="fdb-cluster-bench-") as tmp:
        for n in SIZES:
            sides = {}
            try:
                for k in ("fdb", "redis"):
                    sides[k] = Side(k, n, tmp)
                for test in TESTS.split(","):
                    res = {"fdb": [], "redis": []}
                    for r in range(ROUNDS):
                        order = ("fdb", "redis") if r % 2 == 0 else ("redis", "fdb")
                        for k in order:
                            res[k].append(sides[k].bench(test))
                    f, rd = statistics.median(res["fdb"]), statistics.median(res["redis"])
                    ratios = [a / b for a, b in zip(res["fdb"], res["redis"])]
                    rows.append((n, test.upper(), f, rd, f / rd, min(ratios), max(ratios)))
                    print(f"{n} primaries {test.upper():4} fdb {f:10.0f} rps  redis {rd:10.0f} rps"
                          f"  ratio {f / rd:.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                          flush=True)
            finally:
                for s in sides.values():
                    s.stop()
    md = ["| primaries | test | fdb rps | redis rps | fdb/redis | per-round range |",
          "|---|---|---|---|---|---|"]
    for n, t, f, rd, ratio, lo, hi in rows:
        md.append(f"| {n} | {t} | {f:.0f} | {rd:.0f} | {ratio:.2f} | {lo:.2f}-{hi:.2f} |")
    header = (f"redis-benchmark --cluster -c {CLIENTS} -n {REQUESTS} -r 100000 -P {PIPELINE}, "
              f"{ROUNDS} rounds, medians; {os.cpu_count()} cores")
    print(header)
    print("\n".join(md))
    if os.environ.get("RESULTS_MD"):
        with open(os.environ["RESULTS_MD"], "w") as f:
            f.write(header + "\n\n" + "\n".join(md) + "\n")


if __name__ == "__main__":
    sys.exit(main())
