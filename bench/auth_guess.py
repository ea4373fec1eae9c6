#!/usr/bin/env python3
"""How fast can a client test passwords? (issue 9, defect 10)

For each server (fdb-server binaries given with --fdb, Debian's redis-server with --redis) on a
free 127.0.0.1 port, with requirepass set, stopped by PID:
  pipelined  one connection, --burst wrong AUTHs sent at once: how many get an answer before the
             connection closes, and wrong passwords answered per second
  reconnect  one client for --seconds: connect, send a pipelined batch of wrong AUTHs, read the
             answers until the server closes or the batch is answered, repeat; guesses per second

    python3 bench/auth_guess.py --fdb /work/before/fdb-server --fdb build/fdb-server --redis
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, port):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"CONFIG SET requirepass correct-horse-battery\r\n")
                if s.recv(64).startswith(b"+OK"):
                    return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("server did not start: " + " ".join(args))


def auth_batch(n, start_i=0):
    return b"".join(b"AUTH guess-%d\r\n" % (start_i + i) for i in range(n))


def count_replies(sock, want, timeout=30):
    """Counts WRONGPASS lines until `want` of them or the connection closes."""
    sock.settimeout(timeout)
    buf = b""
    n = 0
    while n < want:
        try:
            chunk = sock.recv(1 << 20)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
        n += buf.count(b"\r\n")
        buf = buf[buf.rfind(b"\r\n") + 2:] if b"\r\n" in buf else buf
    return n


def pipelined(port, burst):
    s = socket.create_connection(("127.0.0.1", port))
    data = auth_batch(burst)
    t0 = time.perf_counter()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    n = count_replies(s, burst)
    dt = time.perf_counter() - t0
    s.close()
    return n, n / dt if dt > 0 else 0.0


def reconnect(port, seconds, batch):
    data = auth_batch(batch)
    guesses = conns = 0
    t_end = time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < t_end:
        s = socket.create_connection(("127.0.0.1", port))
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        guesses += count_replies(s, batch)
        conns += 1
        s.close()
    dt = time.perf_counter() - t0
    return guesses / dt, conns / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fdb", action="append", default=[], help="an fdb-server binary")
    ap.add_argument("--redis", action="store_true", help="also Debian's redis-server")
    ap.add_argument("--burst", type=int, default=200000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    targets = [(b, lambda port, d, b=b: [b, "--port", str(port), "--bind", "127.0.0.1",
                                         "--dir", d, "--threads", "2", "--appendonly", "no"])
               for b in a.fdb]
    if a.redis:
        targets.append(("redis-server 7.0.15", lambda port, d: [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
            "--appendonly", "no"]))
    print(f"{'server':40} {'pipelined answered':>19} {'pipelined /s':>13} "
          f"{'reconnect guesses/s':>20} {'conns/s':>9}")
    for name, mk in targets:
        with tempfile.TemporaryDirectory(prefix="fdb-authbench-") as d:
            port = free_port()
            p = start(mk(port, d), port)
            try:
                n, rate = pipelined(port, a.burst)
                g, c = reconnect(port, a.seconds, a.batch)
            finally:
                p.terminate()
                p.wait(timeout=20)
        print(f"{name:40} {n:>19} {rate:>13.0f} {g:>20.0f} {c:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
