#!/usr/bin/env python3
"""One large SET: time and peak RSS of FDB (before / after) beside Redis 7 with AOF.

    bench/large_value.py [--mb 400] [--runs 2] [--before /work/before/fdb-server] [--no-small]

For every server configuration, in one run and in turn, a fresh server is started on a free
127.0.0.1 port with its own temp dir, a raw socket sends `SET big <N bytes>` (the value
streamed in 4 MB writes), and the script reports the time from the first byte sent to the
reply, and the server's peak RSS (VmHWM from /proc/PID/status, so the baseline is included;
it is printed too). Servers are stopped by PID; os.sync() runs before each start, so no
configuration inherits another's dirty pages, and each run rotates the order. Configurations:

  fdb-before / fdb-after   --fsync everysec (FDB's default) and --fsync always
  redis                    --appendonly yes --appendfsync everysec / always (--save "")

Then, unless --no-small, `redis-benchmark -t set,get -P 16 -n 200000 -d 100` against a fresh
fdb-before, fdb-after and redis (AOF everysec), to check small values did not regress.

Environment: FDB_SERVER_BIN (after, default build/fdb-server), REDIS_SERVER_BIN.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Server:
    def __init__(self, kind, binary, extra):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="fdb-bench-large-")
        if kind == "redis":
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                    "--save", ""] + extra
        else:
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                    "--threads", "2"] + extra
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {args}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer PING: {args}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def timed_set(port, value, chunk=4 * MB):
    with socket.create_connection(("127.0.0.1", port), timeout=300) as s:
        header = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % len(value)
        view = memoryview(value)
        t0 = time.perf_counter()
        s.sendall(header)
        for off in range(0, len(value), chunk):
            s.sendall(view[off:off + chunk])
        s.sendall(b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            got = s.recv(64)
            if not got:
                break
            reply += got
        elapsed = time.perf_counter() - t0
    if reply != b"+OK\r\n":
        raise RuntimeError(f"unexpected reply {reply!r}")
    return elapsed


def large_set(configs, mb, runs):
    value = os.urandom(MB) * mb  # random bytes (no compression shortcut), cheap to build
    results = {name: [] for name, _, _, _ in configs}
    for run in range(runs):
        # Each run starts the configurations at a different place in the list, so none always
        # follows the same neighbour.
        order = configs[run % len(configs):] + configs[:run % len(configs)]
        for name, kind, binary, extra in order:
            # Dirty pages left by the previous server (or anyone) throttle the next one's writes
            # to disk speed: every configuration starts with none.
            os.sync()
            srv = Server(kind, binary, extra)
            try:
                time.sleep(0.3)
                base = proc_status(srv.proc.pid, "VmHWM")
                elapsed = timed_set(srv.port, value)
                peak = proc_status(srv.proc.pid, "VmHWM")
            finally:
                srv.stop()
            results[name].append((elapsed, peak, base))
            print(f"  run {run + 1} {name:28s} {elapsed:6.2f} s  VmHWM {peak / MB:7.0f} MB "
                  f"(baseline {base / MB:.0f} MB, {peak / (mb * MB):.2f}x the value)",
                  file=sys.stderr, flush=True)
    return results


def small_values(configs):
    out = {}
    for name, kind, binary, extra in configs:
        srv = Server(kind, binary, extra)
        try:
            r = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-t",
                                "set,get", "-P", "16", "-n", "200000", "-d", "100", "-q"],
                               capture_output=True, text=True, timeout=300)
        finally:
            srv.stop()
        rates = {}
        for line in r.stdout.replace("\r", "\n").splitlines():
            m = re.match(r"(SET|GET): ([0-9.]+) requests per second", line.strip())
            if m:
                rates[m.group(1)] = float(m.group(2))
        out[name] = rates
        print(f"  {name:28s} SET {rates.get('SET', 0):>12,.0f}/s  GET {rates.get('GET', 0):>12,.0f}/s",
              file=sys.stderr, flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--mb", type=int, default=400)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--before", default="/work/before/fdb-server")
    ap.add_argument("--after", default=os.environ.get("FDB_SERVER_BIN",
                                                      os.path.join(ROOT, "build", "fdb-server")))
    ap.add_argument("--redis", default=os.environ.get("REDIS_SERVER_BIN", "redis-server"))
    ap.add_argument("--no-small", action="store_true")
    a = ap.parse_args()

    configs = []
    for fsync in ("everysec", "always"):
        configs.append((f"fdb-before fsync {fsync}", "fdb", a.before, ["--fsync", fsync]))
        configs.append((f"fdb-after fsync {fsync}", "fdb", a.after, ["--fsync", fsync]))
        configs.append((f"redis aof {fsync}", "redis", a.redis,
                        ["--appendonly", "yes", "--appendfsync", fsync]))
    print(f"SET of a {a.mb} MB value, {a.runs} run(s), fresh server each:", file=sys.stderr)
    res = large_set(configs, a.mb, a.runs)

    print(f"\n| server | time (s), median of {a.runs} | peak RSS VmHWM (MB) | peak / value |")
    print("|---|---|---|---|")
    for name, _, _, _ in configs:
        t = statistics.median(x[0] for x in res[name])
        p = max(x[1] for x in res[name])
        print(f"| {name} | {t:.2f} ({', '.join(f'{x[0]:.2f}' for x in res[name])}) | "
              f"{p / MB:.0f} | {p / (a.mb * MB):.2f}x |")

    if not a.no_small:
        print("\nredis-benchmark -t set,get -P 16 -n 200000 -d 100:", file=sys.stderr)
        small = small_values([
            ("fdb-before", "fdb", a.before, []),
            ("fdb-after", "fdb", a.after, []),
            ("redis aof everysec", "redis", a.redis, ["--appendonly", "yes"]),
        ])
        print("\n| server | SET/s | GET/s |")
        print("|---|---|---|")
        for name, rates in small.items():
            print(f"| {name} | {rates.get('SET', 0):,.0f} | {rates.get('GET', 0):,.0f} |")


if __name__ == "__main__":
    main()
