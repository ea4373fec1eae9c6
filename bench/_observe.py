#!/usr/bin/env python3
"""What watches a server in production, for bench/compare.sh --observe: the dashboard open in a
browser (GET /api/stats every second, as the page polls it, after logging in through
/api/login) and Prometheus scraping GET /metrics every second. Runs until killed or for at most
--seconds; prints how many polls and scrapes it made and their worst time to stderr at the end.

    bench/_observe.py --port HTTP_PORT [--seconds 3600]
"""

import argparse
import http.client
import json
import signal
import sys
import threading
import time


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def poll(port, path, headers, stop, counts, name):
    """One request a second, on the second, until `stop`."""
    next_at = time.monotonic()
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            status, _, _ = request(port, "GET", path, headers=headers)
            ok = status == 200
        except OSError:
            ok = False
        dt = time.monotonic() - t0
        c = counts[name]
        c["n"] += 1
        c["failed"] += 0 if ok else 1
        c["worst_ms"] = max(c["worst_ms"], dt * 1000)
        next_at += 1.0
        stop.wait(max(0.0, next_at - time.monotonic()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=3600)
    args = ap.parse_args()
    status, headers, body = request(args.port, "POST", "/api/login", b"{}",
                                    {"Content-Type": "application/json",
                                     "Host": f"127.0.0.1:{args.port}"})
    if status != 200:
        sys.exit(f"_observe: login failed: {status} {body[:200]!r}")
    cookie = headers["Set-Cookie"].split(";")[0]
    json.loads(body)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    counts = {k: {"n": 0, "failed": 0, "worst_ms": 0.0} for k in ("stats", "metrics")}
    threads = [threading.Thread(target=poll, args=(args.port, "/api/stats", {"Cookie": cookie},
                                                   stop, counts, "stats")),
               threading.Thread(target=poll, args=(args.port, "/metrics", {}, stop, counts,
                                                   "metrics"))]
    for t in threads:
        t.start()
    stop.wait(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    for k, c in counts.items():
        print(f"_observe: {k}: {c['n']} requests, {c['failed']} failed, worst "
              f"{c['worst_ms']:.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
