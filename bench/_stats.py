#!/usr/bin/env python3
"""Parsing and statistics for bench/compare.sh.

    _stats.py csvline FILE
        Prints "rps p50_ms p99_ms" from one redis-benchmark --csv output file (single test),
        or nothing if the file holds no result row.

    _stats.py summarize RAW_TSV --clk-tck N [--title T] [--note LINE]... [--md FILE]
        RAW_TSV has one row per benchmark run, tab-separated, with a header:
            round server test pipeline requests rc cpu_ticks wall_s csv
        (server is "redis" or "fdb"; csv is the path of that run's redis-benchmark --csv output).
        Prints one table (medians over rounds) and, with --md, writes it as Markdown too.

redis-benchmark 7's CSV header is:
    "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    "p99_latency_ms","max_latency_ms"
"""

import argparse
import csv
import statistics
import sys

SERVERS = ("redis", "fdb")


def read_bench_csv(path):
    """Returns (rps, p50_ms, p99_ms) from a redis-benchmark --csv file, or None."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError:
        return None
    if not rows:
        return None
    header = rows[0]
    try:
        i_rps, i_p50, i_p99 = header.index("rps"), header.index("p50_latency_ms"), header.index("p99_latency_ms")
    except ValueError:
        return None
    for row in rows[1:]:
        if len(row) == len(header):
            try:
                return float(row[i_rps]), float(row[i_p50]), float(row[i_p99])
            except ValueError:
                continue
    return None


def cmd_csvline(a):
    r = read_bench_csv(a.file)
    if r:
        print("%.0f %.3f %.3f" % r)


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def cmd_summarize(a):
    runs = []  # dicts
    with open(a.raw, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs.append(row)

    # Keep test/pipeline order as first seen.
    keys = []
    data = {}  # (test, P) -> server -> list of per-run dicts
    failures = []
    requests = {}  # (test, P) -> set of per-run request counts
    for r in runs:
        k = (r["test"], int(r["pipeline"]))
        if k not in data:
            keys.append(k)
            data[k] = {s: [] for s in SERVERS}
            requests[k] = set()
        requests[k].add(int(r["requests"]))
        parsed = read_bench_csv(r["csv"]) if r["rc"] == "0" else None
        if parsed is None:
            failures.append("round %s %s %s P%s: rc=%s, no CSV result" % (r["round"], r["server"], r["test"], r["pipeline"], r["rc"]))
            continue
        rps, p50, p99 = parsed
        n = int(r["requests"])
        ticks = int(r["cpu_ticks"])
        cpu_us = ticks * 1e6 / a.clk_tck / n if ticks >= 0 else None
        data[k][r["server"]].append(dict(round=int(r["round"]), rps=rps, p50=p50, p99=p99, cpu=cpu_us, n=n))

    cols = ["test", "P", "requests", "redis rps", "fdb rps", "fdb/redis", "ratio range",
            "redis p50", "fdb p50", "redis p99", "fdb p99", "redis cpu", "fdb cpu"]
    units = ["", "", "per run", "median", "median", "medians", "per round",
             "ms", "ms", "ms", "ms", "us/req", "us/req"]
    table = []
    for k in keys:
        test, p = k
        red, fdb = data[k]["redis"], data[k]["fdb"]
        m = {}
        for s, lst in (("redis", red), ("fdb", fdb)):
            m[s] = dict(rps=med([x["rps"] for x in lst]), p50=med([x["p50"] for x in lst]),
                        p99=med([x["p99"] for x in lst]),
                        cpu=med([x["cpu"] for x in lst if x["cpu"] is not None]))
        ratio = m["fdb"]["rps"] / m["redis"]["rps"] if m["fdb"]["rps"] and m["redis"]["rps"] else None
        by_round_r = {x["round"]: x["rps"] for x in red}
        paired = [x["rps"] / by_round_r[x["round"]] for x in fdb if by_round_r.get(x["round"])]
        rng = "%.2f-%.2f" % (min(paired), max(paired)) if paired else "-"
        ns = sorted(requests[k])
        nruns = "" if len(red) == len(fdb) == a.rounds else " (%d/%d ok)" % (min(len(red), len(fdb)), a.rounds)
        table.append([test.upper(), str(p), "/".join(str(n) for n in ns) + nruns,
                      fmt(m["redis"]["rps"], ".0f"), fmt(m["fdb"]["rps"], ".0f"), fmt(ratio, ".2f"), rng,
                      fmt(m["redis"]["p50"], ".3f"), fmt(m["fdb"]["p50"], ".3f"),
                      fmt(m["redis"]["p99"], ".3f"), fmt(m["fdb"]["p99"], ".3f"),
                      fmt(m["redis"]["cpu"], ".2f"), fmt(m["fdb"]["cpu"], ".2f")])

    numeric = set(range(2, len(cols)))
    widths = [max(len(cols[i]), len(units[i]), *(len(r[i]) for r in table)) for i in range(len(cols))]

    def line(cells):
        return "  ".join(c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    out = []
    if a.title:
        out.append(a.title)
    out += a.note
    out.append("")
    out.append(line(cols))
    out.append(line(units))
    out.append(line(["-" * w for w in widths]))
    out += [line(r) for r in table]
    if failures:
        out.append("")
        out.append("Failed runs (excluded from medians):")
        out += ["  " + f for f in failures]
    print("\n".join(out))

    if a.md:
        md = []
        if a.title:
            md += ["## " + a.title, ""]
        md += ["- " + n.strip() for n in a.note]
        md.append("")
        md.append("| " + " | ".join("%s%s" % (c, " (%s)" % u if u else "") for c, u in zip(cols, units)) + " |")
        md.append("|" + "|".join("---:" if i in numeric else ":---" for i in range(len(cols))) + "|")
        md += ["| " + " | ".join(r) + " |" for r in table]
        if failures:
            md += ["", "Failed runs (excluded from medians):", ""] + ["- " + f for f in failures]
        with open(a.md, "w") as f:
            f.write("\n".join(md) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csvline")
    c.add_argument("file")
    c.set_defaults(func=cmd_csvline)
    s = sub.add_parser("summarize")
    s.add_argument("raw")
    s.add_argument("--clk-tck", type=int, required=True)
    s.add_argument("--rounds", type=int, required=True)
    s.add_argument("--title", default="")
    s.add_argument("--note", action="append", default=[])
    s.add_argument("--md")
    s.set_defaults(func=cmd_summarize)
    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    sys.exit(main())
