#!/usr/bin/env python3
"""Restart-time poller for bench/restart.sh.

    _restart.py wait --port P --index I --ready-file F --t0-file T [--value-size 100]
                     [--prefix key:] [--timeout 120] [--nil-grace 3] [--interval-ms 2]

Start it BEFORE the server: it writes READY_FILE once its imports are done; the caller then
writes the server's launch time (ns since the epoch, `date +%s%N`) into T0_FILE and starts the
server on port P. The poller connects every INTERVAL_MS, sends PING until it gets PONG (a
-LOADING error or a refused connection count as not ready), then GETs key I until it returns
the expected value. Prints one JSON line:
    {"status": "ok"|"missing"|"wrong"|"timeout", "ping_s": ..., "ready_s": ..., "polls": N,
     "detail": "..."}
with times in seconds since the launch. "missing" means GET kept returning nil for NIL_GRACE
seconds after PING answered: the restarted server does not have the data.
"""

import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _kv  # noqa: E402
import _resp  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--ready-file", required=True)
    w.add_argument("--t0-file", required=True)
    w.add_argument("--value-size", type=int, default=100)
    w.add_argument("--prefix", default="key:")
    w.add_argument("--timeout", type=float, default=120.0)
    w.add_argument("--nil-grace", type=float, default=3.0)
    w.add_argument("--interval-ms", type=float, default=2.0)
    a = ap.parse_args()

    key = _kv.key(a.prefix.encode(), a.index)
    want = _kv.Values(a.value_size).value(a.index, 0)
    ping_cmd = _resp.encode("PING")
    get_cmd = _resp.encode("GET", key)
    interval = a.interval_ms / 1000.0
    with open(a.ready_file, "w") as fh:
        fh.write("ready\n")

    start_wall = time.time_ns()
    while not os.path.exists(a.t0_file) or os.path.getsize(a.t0_file) == 0:
        if (time.time_ns() - start_wall) / 1e9 > 30:
            print(json.dumps(dict(status="timeout", detail="no launch time written")))
            return 1
        time.sleep(0.001)

    deadline = time.monotonic() + a.timeout
    res = dict(status="timeout", ping_s=None, ready_s=None, polls=0, detail="")
    c = None
    first_nil = None
    while time.monotonic() < deadline:
        res["polls"] += 1
        try:
            if c is None:
                c = _resp.Client(a.port, timeout=5.0)
            if res["ping_s"] is None:
                c.send_raw(ping_cmd)
                r = c.read_replies(1)[0]
                if _resp.text(r) == "PONG":
                    res["ping_s"] = time.time_ns()
                else:
                    res["detail"] = "PING: %s" % _resp.text(r)
                    time.sleep(interval)
                    continue
            c.send_raw(get_cmd)
            r = c.read_replies(1)[0]
            now = time.time_ns()
            if r == want:
                res["ready_s"] = now
                res["status"] = "ok"
                res["detail"] = ""
                break
            if r is None:
                first_nil = first_nil or now
                if (now - first_nil) / 1e9 > a.nil_grace:
                    res["status"] = "missing"
                    res["detail"] = "GET %s returned nil for %.1fs after PING answered" % (key.decode(), a.nil_grace)
                    break
            elif isinstance(r, Exception):
                res["detail"] = "GET: %s" % r  # e.g. -LOADING: keep polling
            else:
                res["status"] = "wrong"
                res["detail"] = "GET %s returned %r" % (key.decode(), r[:40])
                break
        except (ConnectionError, socket.timeout, OSError) as e:
            if c is not None:
                c.close()
                c = None
            res["detail"] = "connect: %s" % e.__class__.__name__
        time.sleep(interval)
    if c is not None:
        c.close()
    t0 = int(open(a.t0_file).read().strip())
    for k in ("ping_s", "ready_s"):
        if res[k] is not None:
            res[k] = round((res[k] - t0) / 1e9, 4)
    print(json.dumps(res))
    return 0 if res["status"] == "ok" else 2


if __name__ == "__main__":
    sys.exit(main())
