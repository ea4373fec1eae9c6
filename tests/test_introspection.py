"""MEMORY, SLOWLOG and LATENCY (src/commands/introspection.cc), in RESP2 and RESP3."""

import collections
import re

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def own(request, server_factory):
    """A client of a server of its own (these tests change slowlog and latency settings)."""
    srv = server_factory("--enable-debug-command", "local")
    c = srv.client(protocol=request.param)
    yield c
    c.close()


# --- MEMORY ------------------------------------------------------------------------------------


def test_memory_usage_grows_with_the_value(r):
    r.set("small", "x")
    r.set("big", "x" * 100_000)
    small = r.memory_usage("small")
    big = r.memory_usage("big")
    assert 0 < small < 200
    assert big >= 100_000
    r.hset("h", mapping={f"f{i}": "v" * 50 for i in range(500)})
    assert r.memory_usage("h") > 500 * 50
    assert r.execute_command("MEMORY", "USAGE", "h", "SAMPLES", "0") == r.memory_usage("h")
    assert r.memory_usage("missing") is None


def test_memory_usage_errors(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("MEMORY", "USAGE", "k", "BOGUS")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("MEMORY", "USAGE", "k", "SAMPLES", "x")
    with pytest.raises(redis.ResponseError, match=re.escape("wrong number of arguments for 'memory|usage'")):
        r.execute_command("MEMORY", "USAGE")
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'NOPE'. Try MEMORY HELP."):
        r.execute_command("MEMORY", "NOPE")


def test_memory_stats_and_the_rest(r):
    r.mset({"a": "1", "b": "2"})
    stats = r.execute_command("MEMORY", "STATS")
    if isinstance(stats, list):  # RESP2: a flat list of pairs
        stats = dict(zip(stats[::2], stats[1::2]))
    assert stats["keys.count"] == 2
    assert stats["total.allocated"] > 0
    assert stats["peak.allocated"] >= stats["total.allocated"]
    assert stats["dataset.bytes"] > 0
    assert "memory" in r.execute_command("MEMORY", "DOCTOR").lower() or r.execute_command(
        "MEMORY", "DOCTOR")
    assert r.execute_command("MEMORY", "PURGE") in (True, "OK")
    help_lines = r.execute_command("MEMORY", "HELP")
    assert any(line.startswith("USAGE") for line in help_lines)


# --- SLOWLOG -----------------------------------------------------------------------------------


def args_of(entry):
    return list(entry[3]) if isinstance(entry, (list, tuple)) else entry["command"].split()


def test_slowlog_records_trims_and_resets(own):
    own.config_set("slowlog-log-slower-than", 0)
    own.config_set("slowlog-max-len", 10)
    own.slowlog_reset()
    for _ in range(30):
        own.ping()
    assert own.slowlog_len() == 10
    raw = own.execute_command("SLOWLOG", "GET", "3")
    assert len(raw) == 3
    ids = [e[0] for e in raw]
    assert ids == sorted(ids, reverse=True), "newest first"
    assert len(own.execute_command("SLOWLOG", "GET")) == 10  # default count 10
    assert len(own.execute_command("SLOWLOG", "GET", "-1")) == 10
    assert own.execute_command("SLOWLOG", "GET", "0") == []
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        own.execute_command("SLOWLOG", "GET", "-2")
    own.config_set("slowlog-log-slower-than", -1)
    own.slowlog_reset()
    own.ping()
    assert own.slowlog_len() == 0


def test_slowlog_entry_shape_trimming_and_redaction(own):
    own.client_setname("tester")
    own.config_set("slowlog-log-slower-than", 0)
    own.slowlog_reset()
    own.sadd("set", *range(3, 34))  # 33 arguments in all
    own.sadd("set", "foo", "A" * 129)
    own.config_set("masterauth", "secret")
    own.config_set("slowlog-log-slower-than", -1)
    entries = own.execute_command("SLOWLOG", "GET", "-1")
    # Newest first: CONFIG SET masterauth, SADD, SADD, SLOWLOG RESET (the last CONFIG SET turned
    # the log off before it was recorded).
    assert len(entries) == 4
    assert list(entries[3][3]) == ["SLOWLOG", "RESET"]
    e = entries[2]
    assert len(e) == 6
    assert e[2] >= 0
    args = list(e[3])
    assert args[:3] == ["SADD", "set", "3"]
    assert len(args) == 32 and args[-1] == "... (2 more arguments)"
    assert e[5] == "tester"
    assert e[4].startswith("127.0.0.1:")
    assert list(entries[1][3]) == ["SADD", "set", "foo", "A" * 128 + "... (1 more bytes)"]
    assert list(entries[0][3]) == ["CONFIG", "SET", "masterauth", "(redacted)"]


def test_slowlog_logs_the_commands_of_exec_not_exec(own):
    own.config_set("slowlog-log-slower-than", 100_000)
    own.slowlog_reset()
    p = own.pipeline(transaction=True)
    p.execute_command("DEBUG", "SLEEP", "0.15")
    p.execute()
    entries = own.execute_command("SLOWLOG", "GET")
    assert len(entries) == 1
    assert list(entries[0][3]) == ["DEBUG", "SLEEP", "0.15"]
    assert entries[0][2] >= 100_000


# --- LATENCY -----------------------------------------------------------------------------------


def histogram(c, *names):
    h = c.execute_command("LATENCY", "HISTOGRAM", *names)
    if isinstance(h, list):
        h = dict(zip(h[::2], h[1::2]))
    out = {}
    for name, v in h.items():
        if isinstance(v, list):
            v = dict(zip(v[::2], v[1::2]))
        buckets = v["histogram_usec"]
        if isinstance(buckets, list):
            buckets = dict(zip(buckets[::2], buckets[1::2]))
        out[name] = (v["calls"], buckets)
    return out


def test_latency_histogram_counts_calls_per_command(own):
    own.config_resetstat()
    own.set("a", "b")
    own.set("c", "d")
    own.get("a")
    own.client_id()
    own.execute_command("CLIENT", "LIST")
    h = histogram(own, "set", "get", "zadd", "nosuchcommand")
    assert set(h) == {"set", "get"}
    calls, buckets = h["set"]
    assert calls == 2
    counts = [buckets[k] for k in sorted(buckets)]
    assert counts == sorted(counts) and counts[-1] == 2, "cumulative, ending at calls"
    assert all(k & (k - 1) == 0 for k in buckets), "power-of-two microsecond buckets"
    subs = histogram(own, "client")
    assert set(subs) == {"client|id", "client|list"}
    assert set(histogram(own, "client|id")) == {"client|id"}
    everything = histogram(own)
    assert {"set", "get", "client|id", "config|resetstat"} <= set(everything)


def test_latency_events_history_latest_and_reset(own):
    own.config_set("latency-monitor-threshold", 100)
    own.execute_command("LATENCY", "RESET")
    own.ping()
    assert own.execute_command("LATENCY", "LATEST") == []
    own.execute_command("DEBUG", "SLEEP", "0.15")
    latest = own.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    name, when, last, worst = latest[0]
    assert name == "command" and 140 <= last <= worst
    history = own.execute_command("LATENCY", "HISTORY", "command")
    assert len(history) == 1 and history[0][0] == when
    assert "command" in own.execute_command("LATENCY", "DOCTOR")
    assert own.execute_command("LATENCY", "GRAPH", "command")
    with pytest.raises(redis.ResponseError, match="No samples available"):
        own.execute_command("LATENCY", "GRAPH", "nothing")
    assert own.execute_command("LATENCY", "HISTORY", "nothing") == []
    assert own.execute_command("LATENCY", "RESET", "nothing") == 0
    assert own.execute_command("LATENCY", "RESET") == 1
    assert own.execute_command("LATENCY", "LATEST") == []
    with pytest.raises(redis.ResponseError, match=re.escape("wrong number of arguments for 'latency|help'")):
        own.execute_command("LATENCY", "HELP", "xxx")


def test_latency_monitor_off_by_default(own):
    own.execute_command("DEBUG", "SLEEP", "0.05")
    assert own.execute_command("LATENCY", "LATEST") == []


# --- Random fields are uniform -----------------------------------------------------------------


def test_hrandfield_negative_count_is_uniform_over_a_hashtable(r):
    # Ten fields, one long enough to make the hash a hashtable; 1000 draws with repeats.
    fields = {f"f{i}": str(i) for i in range(9)}
    fields["x" * 80] = "9"
    r.hset("h", mapping=fields)
    assert r.object("encoding", "h") == "hashtable"
    draws = r.hrandfield("h", -10_000)
    counts = collections.Counter(draws)
    assert set(counts) == set(fields)
    expected = len(draws) / len(fields)
    chi_square = sum((c - expected) ** 2 / expected for c in counts.values())
    # df = 9: 40 is exceeded with probability 1e-5 by a uniform draw.
    assert chi_square < 40, counts
