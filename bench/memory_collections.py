#!/usr/bin/env python3
"""Memory of the collection types: FDB vs Redis, side by side in the same run.

    bench/memory_collections.py [--n 1000000] [--only hash,zset,list,smallhash,set] [--md FILE]
                                [--conf NAME=VALUE]...

For each scenario, starts Debian's redis-server (--save "" --appendonly no) and fdb-server
(--appendonly no --threads 2), each on a free 127.0.0.1 port with its own temp dir, one server
at a time, both given the same --conf settings (e.g. --conf list-compress-depth=1); loads the
data through `redis-cli --pipe`; reads VmRSS from /proc/PID/status before
the load and SETTLE seconds after it; stops the server by PID. Reported: RSS growth, bytes per
element, and the fdb/redis ratio (the issue's target: <= 1.2).

Scenarios (N = --n):
  hash       one hash of N fields   (field:%07d -> value:%07d), HSET 100 fields per command
  zset       one sorted set of N members (member:%07d, score = i), ZADD 100 per command
  list       one list of N elements (element:%07d), RPUSH 100 per command
  set        one set of N members (member:%07d), SADD 100 per command
  smallhash  N hashes of 10 fields each (h:%07d; f0..f9 -> v%07d-k), one HSET per hash
  stream     one stream of N entries of 3 fields (XADD bigstream * name v%07d kind job n i)
  geo        one geo set of N members (member:%07d at lon/lat spread over the valid range),
             GEOADD 100 members per command
  bitmap     one bitmap of 100 MiB grown by N SETBITs at evenly spaced, increasing offsets
             (the last one sets its last bit): RSS growth is the bitmap's, "per element" is /N
  hll        N HyperLogLogs of 1,000 elements each (hll:%07d; PFADD of el:1 .. el:1000, the
             same elements for every key): Redis keeps such an HLL sparse (1,892 bytes at the
             default hll-sparse-max-bytes 3000), FDB too (the same bytes)
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FDB_BIN = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))
SETTLE = float(os.environ.get("SETTLE", "2"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def gen(scenario, n):
    """Yields (chunk of RESP bytes, number of commands in it)."""
    batch = 100
    if scenario == "stream":
        for lo in range(0, n, 1000):
            cmds = [resp("XADD", "bigstream", "*", "name", "v%07d" % i, "kind", "job", "n", str(i))
                    for i in range(lo, min(n, lo + 1000))]
            yield b"".join(cmds), len(cmds)
        return
    if scenario == "bitmap":
        step = 100 * 1024 * 1024 * 8 // n
        for lo in range(0, n, 1000):
            cmds = [resp("SETBIT", "bigbitmap", str((i + 1) * step - 1), "1")
                    for i in range(lo, min(n, lo + 1000))]
            yield b"".join(cmds), len(cmds)
        return
    if scenario == "hll":
        elems = b"".join(b"$%d\r\n%s\r\n" % (len(e), e)
                         for e in (b"el:%d" % j for j in range(1, 1001)))
        head = b"*1002\r\n$5\r\nPFADD\r\n"
        for lo in range(0, n, 100):
            cmds = [head + b"$11\r\nhll:%07d\r\n" % i + elems for i in range(lo, min(n, lo + 100))]
            yield b"".join(cmds), len(cmds)
        return
    if scenario == "smallhash":
        for lo in range(0, n, 1000):
            cmds = []
            for i in range(lo, min(n, lo + 1000)):
                args = ["HSET", "h:%07d" % i]
                for k in range(10):
                    args += ["f%d" % k, "v%07d-%d" % (i, k)]
                cmds.append(resp(*args))
            yield b"".join(cmds), len(cmds)
        return
    for lo in range(0, n, batch * 100):
        cmds = []
        for b0 in range(lo, min(n, lo + batch * 100), batch):
            hi = min(n, b0 + batch)
            if scenario == "hash":
                args = ["HSET", "bighash"]
                for i in range(b0, hi):
                    args += ["field:%07d" % i, "value:%07d" % i]
            elif scenario == "zset":
                args = ["ZADD", "bigzset"]
                for i in range(b0, hi):
                    args += [str(i), "member:%07d" % i]
            elif scenario == "geo":
                args = ["GEOADD", "biggeo"]
                for i in range(b0, hi):
                    # A fixed walk over the valid range (lon -180..180, lat -85..85).
                    args += ["%.6f" % ((i * 0.000359) % 360 - 180),
                             "%.6f" % ((i * 0.0001697) % 170 - 85), "member:%07d" % i]
            elif scenario == "list":
                args = ["RPUSH", "biglist"] + ["element:%07d" % i for i in range(b0, hi)]
            elif scenario == "set":
                args = ["SADD", "bigset"] + ["member:%07d" % i for i in range(b0, hi)]
            else:
                raise SystemExit(f"unknown scenario {scenario}")
            cmds.append(resp(*args))
        yield b"".join(cmds), len(cmds)


def check(scenario, port, n):
    cli = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    q = {"hash": ["HLEN", "bighash"], "zset": ["ZCARD", "bigzset"], "list": ["LLEN", "biglist"],
         "set": ["SCARD", "bigset"], "smallhash": ["DBSIZE"],
         "stream": ["XLEN", "bigstream"], "geo": ["ZCARD", "biggeo"],
         "hll": ["DBSIZE"], "bitmap": ["BITCOUNT", "bigbitmap"]}[scenario]
    got = subprocess.run(cli + q, capture_output=True, text=True, timeout=30).stdout.strip()
    return got == str(n), got


def measure(server, scenario, n, conf=()):
    tmp = tempfile.mkdtemp(prefix=f"fdb-memcoll-{server}-")
    port = free_port()
    if server == "redis":
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", tmp]
    else:
        args = [FDB_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                "--threads", "2", "--appendonly", "no"]
    for setting in conf:
        name, _, value = setting.partition("=")
        args += ["--" + name, value]
    log = open(os.path.join(tmp, "server.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit(f"{server} did not start: {args}")
            time.sleep(0.05)
        time.sleep(0.5)
        r0 = rss_kb(proc.pid)
        t0 = time.time()
        pipe = subprocess.Popen(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        for chunk, _ in gen(scenario, n):
            pipe.stdin.write(chunk)
        pipe.stdin.close()
        out = pipe.stdout.read().decode(errors="replace")
        pipe.wait(timeout=600)
        load_s = time.time() - t0
        if "errors: 0" not in out:
            raise SystemExit(f"{server} {scenario}: load failed: {out[-500:]}")
        ok, got = check(scenario, port, n)
        if not ok:
            print(f"warning: {server} {scenario}: size check returned {got!r}, want {n}",
                  file=sys.stderr)
        time.sleep(SETTLE)
        r1 = rss_kb(proc.pid)
        return dict(r0=r0, r1=r1, load=load_s, per=(r1 - r0) * 1024 / n)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--only", default="hash,zset,list,smallhash,set")
    ap.add_argument("--md", default="")
    ap.add_argument("--conf", action="append", default=[],
                    help="NAME=VALUE: a setting given to both servers (repeatable)")
    a = ap.parse_args()
    version = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.split()
    version = next((w.split("=")[1] for w in version if w.startswith("v=")), "?")
    rows = []
    for sc in a.only.split(","):
        res = {s: measure(s, sc, a.n, a.conf) for s in ("redis", "fdb")}
        ratio = res["fdb"]["per"] / res["redis"]["per"]
        rows.append((sc, res, ratio))
        print(f"{sc:10s} redis {res['redis']['per']:7.1f} B/elem ({res['redis']['r1'] / 1024:7.1f} "
              f"MiB RSS, load {res['redis']['load']:.1f}s)  fdb {res['fdb']['per']:7.1f} B/elem "
              f"({res['fdb']['r1'] / 1024:7.1f} MiB, load {res['fdb']['load']:.1f}s)  "
              f"fdb/redis {ratio:.2f}", flush=True)
    if a.md:
        with open(a.md, "w") as f:
            f.write(f"## Memory of collections: FDB vs Redis {version}, N = {a.n}\n\n")
            f.write("- bench/memory_collections.py; both without persistence; RSS growth over "
                    f"the load, read {SETTLE:g}s after it; one server at a time"
                    + "".join(f"; `{c}`" for c in a.conf) + "\n\n")
            f.write("| scenario | Redis B/element | FDB B/element | FDB/Redis |\n"
                    "|:---|---:|---:|---:|\n")
            for sc, res, ratio in rows:
                f.write(f"| {sc} | {res['redis']['per']:.1f} | {res['fdb']['per']:.1f} | "
                        f"**{ratio:.2f}** |\n")


if __name__ == "__main__":
    main()
