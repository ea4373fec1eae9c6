#!/usr/bin/env python3
"""Helpers for bench/compaction.sh.

    _compaction.py probe --port P --keys N --stop-file F [--max-seconds 600] [--interval-ms 1]
        A light probe client: one connection, GET of a random key among key:0..N-1, one request
        at a time, sleeping INTERVAL_MS between requests, until STOP_FILE exists. Every reply
        must be a value naming its key (_kv.py values). Prints one JSON line: n, p50_ms, p99_ms,
        p999_ms, max_ms, bad (nil/wrong/error replies), seconds.

    _compaction.py sample --port P --dir D --pid PID --stop-file F --out FILE [--interval 1]
        Every INTERVAL seconds until STOP_FILE exists, appends one JSON line to FILE: t (s),
        disk (allocated bytes under D, like du), apparent (sum of file sizes), files, rss_kb, and
        the INFO fields fdb_live_bytes, fdb_garbage_bytes, fdb_compactions, fdb_segments when
        present.

    _compaction.py summarize FILE [--from T0] [--to T1]
        One JSON line: samples, max_disk, max_apparent, last fields, first/last fdb_compactions.
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _resp  # noqa: E402

INFO_FIELDS = ("fdb_live_bytes", "fdb_garbage_bytes", "fdb_compactions", "fdb_segments")


def pct(sorted_xs, q):
    if not sorted_xs:
        return None
    i = min(len(sorted_xs) - 1, max(0, int(round(q * (len(sorted_xs) - 1)))))
    return sorted_xs[i]


def cmd_probe(a):
    c = _resp.Client(a.port, timeout=30)
    rng = random.Random(a.seed)
    lat = []
    bad = 0
    first_bad = None
    interval = a.interval_ms / 1000.0
    t_start = time.monotonic()
    while not os.path.exists(a.stop_file) and time.monotonic() - t_start < a.max_seconds:
        i = rng.randrange(a.keys)
        k = b"key:%012d" % i
        req = _resp.encode("GET", k)
        t0 = time.perf_counter_ns()
        c.send_raw(req)
        r = c.read_replies(1)[0]
        t1 = time.perf_counter_ns()
        lat.append((t1 - t0) / 1e6)
        if not (isinstance(r, bytes) and r.startswith(b"%012d:" % i)):
            bad += 1
            first_bad = first_bad or "%s -> %r" % (k.decode(), r if not isinstance(r, bytes) else r[:30])
        if interval > 0:
            time.sleep(interval)
    c.close()
    lat.sort()
    out = dict(n=len(lat), seconds=round(time.monotonic() - t_start, 2),
               p50_ms=pct(lat, 0.50), p99_ms=pct(lat, 0.99), p999_ms=pct(lat, 0.999),
               max_ms=lat[-1] if lat else None, bad=bad, first_bad=first_bad)
    for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms"):
        if out[k] is not None:
            out[k] = round(out[k], 3)
    print(json.dumps(out))


def disk_usage(d):
    alloc = app = files = 0
    for root, _dirs, names in os.walk(d):
        for n in names:
            try:
                st = os.lstat(os.path.join(root, n))
            except OSError:
                continue  # deleted under us (compaction)
            alloc += st.st_blocks * 512
            app += st.st_size
            files += 1
    return alloc, app, files


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmd_sample(a):
    c = None
    t_start = time.time()
    with open(a.out, "a") as out:
        while True:
            t = time.time()
            alloc, app, files = disk_usage(a.dir)
            rec = dict(t=round(t, 3), disk=alloc, apparent=app, files=files, rss_kb=rss_kb(a.pid))
            try:
                if c is None:
                    c = _resp.Client(a.port, timeout=10)
                info = _resp.info_flat(c)
                for k in INFO_FIELDS:
                    if k in info:
                        try:
                            rec[k] = int(info[k])
                        except ValueError:
                            pass
            except (OSError, ConnectionError, _resp.ReplyError) as e:
                rec["info_error"] = str(e)
                if c is not None:
                    c.close()
                c = None
            out.write(json.dumps(rec) + "\n")
            out.flush()
            if os.path.exists(a.stop_file) or t - t_start > a.max_seconds:
                break
            time.sleep(max(0.0, a.interval - (time.time() - t)))


def cmd_summarize(a):
    recs = [json.loads(l) for l in open(a.file) if l.strip()]
    recs = [r for r in recs if (a.t_from is None or r["t"] >= a.t_from) and (a.t_to is None or r["t"] <= a.t_to)]
    out = dict(samples=len(recs))
    if recs:
        out["max_disk"] = max(r["disk"] for r in recs)
        out["max_apparent"] = max(r["apparent"] for r in recs)
        out["max_rss_kb"] = max((r["rss_kb"] or 0) for r in recs)
        out["max_files"] = max(r["files"] for r in recs)
        for k in INFO_FIELDS:
            xs = [r[k] for r in recs if k in r]
            if xs:
                out["first_" + k], out["last_" + k], out["max_" + k] = xs[0], xs[-1], max(xs)
        last = recs[-1]
        out["last_disk"], out["last_apparent"] = last["disk"], last["apparent"]
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--interval-ms", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_probe)
    s = sub.add_parser("sample")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--stop-file", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--interval", type=float, default=1.0)
    s.add_argument("--max-seconds", type=float, default=900)
    s.set_defaults(func=cmd_sample)
    m = sub.add_parser("summarize")
    m.add_argument("file")
    m.add_argument("--from", dest="t_from", type=float)
    m.add_argument("--to", dest="t_to", type=float)
    m.set_defaults(func=cmd_summarize)
    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    sys.exit(main())
