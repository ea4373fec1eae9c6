#!/usr/bin/env python3
"""How long GET /metrics takes on a loaded keyspace: 10,000 keys and 50 connected clients.

    bench/metrics_scrape.py [--bin build/fdb-server] [--keys 10000] [--clients 50] [--scrapes 100]

Starts fdb-server with an HTTP port on free loopback ports (data in a temporary directory),
writes the keys (in 4 databases, a tenth with a TTL), runs a dozen kinds of commands so the
per-command figures and latency histograms have rows, opens the clients (each answered a PING
and stays connected), then times SCRAPES scrapes, one at a time, each a new HTTP connection as
Prometheus makes without keep-alive. The reference, in the same run and on the same server: INFO
EVERYTHING over one RESP connection, the report a Redis exporter reads. Prints one JSON line with
p50/p99/max in ms of both and the size of the page. The server is stopped by PID at the end.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import http.client

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(ms):
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.mean(ms), 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "fdb-server"))
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--scrapes", type=int, default=100)
    a = ap.parse_args()

    port, http_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="fdb-bench-metrics-") as data:
        log = open(os.path.join(data, "server.log"), "wb")
        proc = subprocess.Popen(
            [a.bin, "--port", str(port), "--http-port", str(http_port), "--bind", "127.0.0.1",
             "--dir", data, "--threads", "2"],
            stdout=log, stderr=subprocess.STDOUT)
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
            pipe = r.pipeline(transaction=False)
            for i in range(a.keys):
                db_key = f"key:{i:08d}"
                if i % 10 == 0:
                    pipe.set(db_key, "v" * 64, ex=3600)
                else:
                    pipe.set(db_key, "v" * 64)
            pipe.execute()
            for db in (1, 2, 3):
                rd = redis.Redis(port=port, db=db)
                rd.mset({f"db{db}:{i}": i for i in range(100)})
                rd.close()
            for i in range(200):
                r.get(f"key:{i:08d}")
                r.hset(f"h:{i % 10}", "f", i)
                r.lpush(f"l:{i % 10}", i)
                r.sadd(f"s:{i % 10}", i)
                r.zadd(f"z:{i % 10}", {str(i): i})
                r.incr("counter")
                r.exists(f"key:{i:08d}")
                r.ttl(f"key:{i:08d}")
            clients = []
            for _ in range(a.clients):
                c = redis.Redis(port=port, single_connection_client=True)
                c.ping()
                clients.append(c)
            connected = r.info("clients")["connected_clients"]

            def scrape():
                conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
                t0 = time.perf_counter()
                conn.request("GET", "/metrics")
                body = conn.getresponse().read()
                took = (time.perf_counter() - t0) * 1000
                conn.close()
                return took, len(body)

            scrape()  # the first connection's setup is not what a scrape costs
            metrics_ms, size = [], 0
            for _ in range(a.scrapes):
                took, size = scrape()
                metrics_ms.append(took)
            info_ms = []
            for _ in range(a.scrapes):
                t0 = time.perf_counter()
                r.execute_command("INFO", "EVERYTHING")
                info_ms.append((time.perf_counter() - t0) * 1000)
            print(json.dumps({
                "keys": r.dbsize(), "connected_clients": connected, "scrapes": a.scrapes,
                "metrics": summary(metrics_ms), "metrics_bytes": size,
                "info_everything": summary(info_ms),
                "p50_ratio_metrics_to_info": round(percentile(metrics_ms, 50) / percentile(info_ms, 50), 2),
            }))
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
