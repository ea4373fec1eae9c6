#!/usr/bin/env python3
"""What clients can make a server hold in memory: FDB before / after beside Redis 7.

Three measurements (issue 9, defects 1, 2, 7), each against every server in the same run:
  bulk   RSS growth with 4 connections that each declare a 500 MB bulk and send 4 bytes of it
  mget   VmHWM growth for one MGET of 1,100 keys x 1 MB that the client never reads, with
         client-output-buffer-limit "normal 64mb 0 0" on every server
  idle   RSS per idle connection with 5,000 idle (half of them sent one PING first), and the
         PING latency (p50/p99 of 2,000 PINGs on another connection) with them, and without

Usage: bench/client_memory.py [--before BIN] [--after BIN] [--redis BIN] [--only bulk,mget,idle]
Servers run on free 127.0.0.1 ports, without persistence (FDB --appendonly no, Redis --save ""
--appendonly no), each in its own temp dir, and are stopped by PID.
"""

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

MB = 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Srv:
    def __init__(self, name, binary):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="fdb-bench-cm-")
        if "redis" in os.path.basename(binary):
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--maxclients", "20000"]
        else:
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                    "--appendonly", "no", "--maxclients", "20000"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(7) == b"+PONG\r\n":
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not start")

    def alive(self):
        return self.proc.poll() is None

    def rss(self):
        return status(self.proc.pid, "VmRSS")

    def hwm(self):
        return status(self.proc.pid, "VmHWM")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()

    def line(self):
        while b"\r\n" not in self.buf:
            c = self.s.recv(1 << 20)
            if not c:
                raise ConnectionError("closed")
            self.buf += c
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def reply(self):
        l = self.line()
        if l[:1] == b"$" and int(l[1:]) >= 0:
            n = int(l[1:]) + 2
            while len(self.buf) < n:
                self.buf += self.s.recv(1 << 20)
            v, self.buf = self.buf[: n - 2], self.buf[n:]
            return v
        if l[:1] == b"*":
            return [self.reply() for _ in range(int(l[1:]))]
        return l


def bench_bulk(srv):
    c = Conn(srv.port)
    c.cmd("PING")
    time.sleep(0.2)
    base = srv.rss()
    socks = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$524288000\r\n")
        socks.append(s)
    time.sleep(0.3)
    for s in socks:
        s.sendall(b"xxxx")
    time.sleep(1.5)
    grown = srv.rss() - base
    for s in socks:
        s.close()
    return {"rss_base_mb": base / MB, "rss_growth_mb": grown / MB, "alive": srv.alive()}


def bench_mget(srv, nkeys=1100):
    c = Conn(srv.port)
    value = b"v" * MB
    for i in range(0, nkeys, 50):
        req = b""
        for j in range(i, min(nkeys, i + 50)):
            k = b"k%d" % j
            req += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(value), value)
        c.s.sendall(req)
        for j in range(i, min(nkeys, i + 50)):
            c.reply()
    c.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 64mb 0 0")
    time.sleep(0.3)
    base = srv.hwm()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = b"*%d\r\n$4\r\nMGET\r\n" % (nkeys + 1)
    for j in range(nkeys):
        k = b"k%d" % j
        req += b"$%d\r\n%s\r\n" % (len(k), k)
    t0 = time.time()
    s.sendall(req)
    closed = False
    while time.time() - t0 < 60:
        # The reply is never read: the client is gone once the server counts one client (this
        # one) again. Unread bytes stay in the socket, so reading it would not tell.
        info = c.cmd("INFO", "clients").decode()
        if "connected_clients:1\r\n" in info:
            closed = True
            break
        time.sleep(0.05)
    elapsed = time.time() - t0
    peak = srv.hwm() - base
    s.close()
    return {"hwm_base_mb": base / MB, "hwm_growth_mb": peak / MB, "closed": closed,
            "seconds": elapsed, "alive": srv.alive()}


def ping_latencies(port, n=2000):
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        c.sendall(b"PING\r\n")
        got = b""
        while len(got) < 7:
            got += c.recv(64)
        lat.append((time.perf_counter() - t) * 1e6)
    c.close()
    lat.sort()
    return lat[len(lat) // 2], lat[len(lat) * 99 // 100]


def bench_idle(srv, n=5000):
    p50_0, p99_0 = ping_latencies(srv.port)
    time.sleep(0.2)
    base = srv.rss()
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", srv.port))
        socks.append(s)
        if i % 2 == 0:
            s.sendall(b"PING\r\n")
    for s in socks[::2]:
        s.settimeout(10)
        s.recv(7)
    time.sleep(3.5)
    per_conn = (srv.rss() - base) / n
    p50, p99 = ping_latencies(srv.port)
    for s in socks:
        s.close()
    return {"idle": n, "bytes_per_conn": per_conn, "ping_p50_us_0": p50_0,
            "ping_p99_us_0": p99_0, "ping_p50_us": p50, "ping_p99_us": p99}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default="/work/before/fdb-server")
    ap.add_argument("--after", default=os.environ.get("FDB_SERVER_BIN",
                                                       os.path.join(ROOT, "build", "fdb-server")))
    ap.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    ap.add_argument("--only", default="bulk,mget,idle")
    ap.add_argument("--idle", type=int, default=5000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.idle + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.idle + 200), hard))
    a.idle = min(a.idle, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
    servers = [("before", a.before), ("after", a.after), ("redis", a.redis)]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores")
    for what in a.only.split(","):
        for name, binary in servers:
            if not os.path.exists(binary):
                print(f"{what:5} {name:7} skipped: {binary} not found")
                continue
            srv = Srv(name, binary)
            try:
                if what == "bulk":
                    r = bench_bulk(srv)
                elif what == "mget":
                    r = bench_mget(srv)
                else:
                    r = bench_idle(srv, a.idle)
            finally:
                alive = srv.alive()
                srv.stop()
            r["alive"] = alive
            fields = " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in r.items())
            print(f"{what:5} {name:7} {fields}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
