#!/usr/bin/env python3
"""What watching a server costs it: the CPU time fdb-server spends on one dashboard poll
(GET /api/stats, what the page asks every second) and on one Prometheus scrape (GET /metrics),
on a keyspace of 10,000 keys in 4 databases with 50 connected clients.

    bench/dashboard_cost.py [--bin build/fdb-server] [--requests 300]

Starts fdb-server with an HTTP port on free loopback ports (data in a temporary directory), logs
in to the dashboard (POST /api/login, no password), then makes REQUESTS polls and REQUESTS
scrapes one at a time, and reads the server's utime+stime (/proc/PID/stat) before and after
each batch. Prints one JSON line: per request the server CPU (µs) and the wall time p50/p99
(ms), and what one poll plus one scrape a second cost as a share of one core. The server's idle
CPU over the same time is measured first and subtracted. Stopped by PID at the end.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "fdb-server"))
    ap.add_argument("--requests", type=int, default=300)
    a = ap.parse_args()
    port, http_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="fdb-bench-dashboard-") as data:
        log = open(os.path.join(data, "server.log"), "wb")
        proc = subprocess.Popen(
            [a.bin, "--port", str(port), "--http-port", str(http_port), "--bind", "127.0.0.1",
             "--dir", data, "--threads", "2"], stdout=log, stderr=subprocess.STDOUT)
        try:
            r = None
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    r = redis.Redis(port=port, socket_timeout=30)
                    r.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            for db in range(4):
                rd = redis.Redis(port=port, db=db)
                rd.mset({f"key:{db}:{i}": "v" * 64 for i in range(2500)})
                rd.close()
            for i in range(200):
                r.get(f"key:0:{i}")
                r.hset(f"h:{i % 10}", "f", i)
                r.zadd(f"z:{i % 10}", {str(i): i})
            clients = [redis.Redis(port=port, single_connection_client=True) for _ in range(50)]
            for c in clients:
                c.ping()
            status, headers, body = request(http_port, "POST", "/api/login", b"{}",
                                            {"Content-Type": "application/json",
                                             "Host": f"127.0.0.1:{http_port}"})
            assert status == 200, body
            cookie = {"Cookie": headers["Set-Cookie"].split(";")[0]}

            def batch(path, hdrs):
                wall = []
                c0 = cpu_s(proc.pid)
                for _ in range(a.requests):
                    t0 = time.perf_counter()
                    status, _, _ = request(http_port, "GET", path, headers=hdrs)
                    assert status == 200
                    wall.append((time.perf_counter() - t0) * 1000)
                return cpu_s(proc.pid) - c0, sum(wall) / 1000, wall

            batch("/api/stats", cookie)  # warm-up: first connections, first pages
            # The server's own background work (housekeeping, fsync ticks) over a like time.
            c0 = cpu_s(proc.pid)
            time.sleep(3)
            idle_per_s = (cpu_s(proc.pid) - c0) / 3
            out = {"keys": r.dbsize() + sum(redis.Redis(port=port, db=d).dbsize() for d in (1, 2, 3)),
                   "connected_clients": r.info("clients")["connected_clients"],
                   "requests": a.requests, "idle_cpu_share": round(idle_per_s, 5)}
            per_request_us = {}
            for name, path, hdrs in (("stats", "/api/stats", cookie),
                                     ("metrics", "/metrics", {})):
                cpu, wall_s, wall = batch(path, hdrs)
                us = max(0.0, cpu - idle_per_s * wall_s) / a.requests * 1e6
                per_request_us[name] = us
                out[name] = {"server_cpu_us": round(us, 1),
                             "wall_p50_ms": round(percentile(wall, 50), 3),
                             "wall_p99_ms": round(percentile(wall, 99), 3)}
            # One poll and one scrape a second, as a share of one core.
            out["watching_cpu_share_of_one_core"] = round(
                (per_request_us["stats"] + per_request_us["metrics"]) / 1e6, 5)
            print(json.dumps(out))
            for c in clients:
                c.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
