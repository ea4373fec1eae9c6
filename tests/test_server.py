"""Server and connection commands: PING, ECHO, TIME, DBSIZE, SELECT, SWAPDB, FLUSHDB/FLUSHALL, INFO,
CONFIG, COMMAND, CLIENT, HELLO, RESET, QUIT, SHUTDOWN, DEBUG SLEEP, LASTSAVE, and the generic
unknown-command and wrong-arity errors.

Written against Redis 7's documented behaviour and checked against redis-server 7.0.15
(FDB_TEST_TARGET=redis). Error replies are compared byte for byte through raw sockets.
"""

import fnmatch
import os
import re
import socket
import time

import pytest
import redis

from conftest import Raw

TARGET = os.environ.get("FDB_TEST_TARGET", "fdb")


# ---------------------------------------------------------------------------------------------
# helpers


class Err(str):
    """An error reply (text without the leading '-')."""


class Verbatim(bytes):
    """A RESP3 verbatim string; .fmt is the three-letter format ('txt')."""

    fmt = b""


def parse_resp(data):
    """Parses one complete raw reply (as returned by Raw.read_reply) into Python values.

    Simple strings -> str, bulk strings -> bytes, errors -> Err, integers -> int, nulls -> None,
    doubles -> float, booleans -> bool, arrays/pushes -> list, sets -> ('set', [..]),
    maps -> dict (bytes/str keys), verbatim strings -> Verbatim.
    """
    value, rest = _parse(data)
    assert rest == b"", f"trailing bytes after reply: {rest!r}"
    return value


def _parse(data):
    line, rest = data.split(b"\r\n", 1)
    t, body = line[:1], line[1:]
    if t == b"+":
        return body.decode(), rest
    if t == b"-":
        return Err(body.decode()), rest
    if t == b":":
        return int(body), rest
    if t == b"_":
        return None, rest
    if t == b",":
        return float(body), rest
    if t == b"#":
        return body == b"t", rest
    if t in (b"$", b"="):
        n = int(body)
        if n < 0:
            return None, rest
        payload, rest = rest[:n], rest[n + 2:]
        if t == b"=":
            v = Verbatim(payload[4:])
            v.fmt = payload[:3]
            return v, rest
        return payload, rest
    if t in (b"*", b"~", b">"):
        n = int(body)
        if n < 0:
            return None, rest
        items = []
        for _ in range(n):
            item, rest = _parse(rest)
            items.append(item)
        return (("set", items) if t == b"~" else items), rest
    if t == b"%":
        n = int(body)
        out = {}
        for _ in range(n):
            k, rest = _parse(rest)
            v, rest = _parse(rest)
            out[k] = v
        return out, rest
    raise AssertionError(f"unknown RESP type {line!r}")


def call(raw, *args):
    raw.cmd(*args)
    return raw.read_reply()


def info_text(raw, *sections):
    """INFO over a RESP2 raw connection, returned as text."""
    reply = call(raw, "INFO", *sections)
    assert reply.startswith(b"$"), reply
    return parse_resp(reply).decode()


def info_fields(text):
    fields = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k] = v
    return fields


def headers(text):
    return [line for line in text.split("\r\n") if line.startswith("# ")]


def wrong_arity(name):
    return b"-ERR wrong number of arguments for '%s' command\r\n" % name.encode()


def password_server(server_factory):
    """A dedicated server whose default user needs the password 'secret'.

    The password is set with CONFIG SET rather than --requirepass because the harness checks that
    a server is up with an unauthenticated PING."""
    srv = server_factory()
    admin = srv.client()
    assert admin.config_set("requirepass", "secret") is True
    admin.close()
    return srv


@pytest.fixture
def debug_port(server_factory):
    """Redis 7 and FDB refuse DEBUG unless enable-debug-command allows it (tests/test_security.py)."""
    return server_factory("--enable-debug-command", "yes").port


# ---------------------------------------------------------------------------------------------
# PING, ECHO, TIME


def test_ping(r):
    assert r.ping() is True
    # redis-py turns any PING reply into a bool; the exact replies are checked on raw sockets
    assert r.execute_command("PING", "hello") is False


def test_ping_raw_shapes(raw):
    assert call(raw, "PING") == b"+PONG\r\n"
    # with an argument PING replies a bulk string, not a status
    assert call(raw, "PING", "hello world") == b"$11\r\nhello world\r\n"
    assert call(raw, "ping", "a", "b") == wrong_arity("ping")


def test_echo(r, rb, raw):
    assert r.echo("hello") == "hello"
    assert r.echo("") == ""
    assert rb.echo(b"\x00\r\n\xff") == b"\x00\r\n\xff"
    assert call(raw, "ECHO", "x y") == b"$3\r\nx y\r\n"
    assert call(raw, "ECHO") == wrong_arity("echo")
    assert call(raw, "ECHO", "a", "b") == wrong_arity("echo")


def test_time(r, raw):
    before = time.time()
    secs, usecs = r.time()
    after = time.time()
    assert 0 <= usecs < 1_000_000
    t = secs + usecs / 1e6
    assert before - 1 <= t <= after + 1
    # RESP2 shape: an array of two bulk strings
    reply = parse_resp(call(raw, "TIME"))
    assert isinstance(reply, list) and len(reply) == 2
    assert all(isinstance(x, bytes) and x.isdigit() for x in reply)
    assert call(raw, "TIME", "x") == wrong_arity("time")


def test_time_advances(r):
    s1, u1 = r.time()
    time.sleep(0.02)
    s2, u2 = r.time()
    assert (s2 * 1_000_000 + u2) - (s1 * 1_000_000 + u1) >= 15_000


# ---------------------------------------------------------------------------------------------
# DBSIZE, SELECT, SWAPDB, FLUSHDB, FLUSHALL


def test_dbsize(r, raw):
    assert r.dbsize() == 0
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.dbsize() == 3
    r.delete("a")
    assert r.dbsize() == 2
    assert call(raw, "DBSIZE") == b":2\r\n"
    assert call(raw, "DBSIZE", "x") == wrong_arity("dbsize")


def test_select_isolates_databases(raw):
    assert call(raw, "SET", "k", "zero") == b"+OK\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$-1\r\n"
    assert call(raw, "DBSIZE") == b":0\r\n"
    assert call(raw, "SET", "k", "one") == b"+OK\r\n"
    assert call(raw, "SELECT", "15") == b"+OK\r\n"
    assert call(raw, "SET", "k", "fifteen") == b"+OK\r\n"
    assert call(raw, "SELECT", "0") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$4\r\nzero\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$3\r\none\r\n"
    # the selected database is per connection
    other = raw.more()
    assert call(other, "GET", "k") == b"$4\r\nzero\r\n"


def test_select_errors(raw):
    assert call(raw, "SELECT", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SELECT", "-1") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SELECT", "abc") == b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "SELECT", "1.5") == b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "SELECT") == wrong_arity("select")
    # a failed SELECT leaves the connection where it was
    assert call(raw, "SET", "k", "v") == b"+OK\r\n"
    assert call(raw, "SELECT", "99") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "GET", "k") == b"$1\r\nv\r\n"


def test_swapdb(raw):
    other = raw.more()
    assert call(raw, "SET", "k", "in0") == b"+OK\r\n"
    assert call(raw, "SET", "only0", "x") == b"+OK\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "SET", "k", "in1") == b"+OK\r\n"
    assert call(raw, "SELECT", "0") == b"+OK\r\n"
    assert call(other, "SELECT", "1") == b"+OK\r\n"

    assert call(raw, "SWAPDB", "0", "1") == b"+OK\r\n"
    # every connection sees the swap, including one that had selected the other index
    assert call(raw, "GET", "k") == b"$3\r\nin1\r\n"
    assert call(raw, "DBSIZE") == b":1\r\n"
    assert call(other, "GET", "k") == b"$3\r\nin0\r\n"
    assert call(other, "GET", "only0") == b"$1\r\nx\r\n"
    assert call(other, "DBSIZE") == b":2\r\n"
    # swapping a database with itself is a no-op
    assert call(raw, "SWAPDB", "1", "1") == b"+OK\r\n"
    assert call(other, "GET", "k") == b"$3\r\nin0\r\n"


def test_swapdb_errors(raw):
    assert call(raw, "SWAPDB", "0", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SWAPDB", "-1", "0") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SWAPDB", "a", "1") == b"-ERR invalid first DB index\r\n"
    assert call(raw, "SWAPDB", "1", "abc") == b"-ERR invalid second DB index\r\n"
    assert call(raw, "SWAPDB", "0") == wrong_arity("swapdb")


@pytest.mark.parametrize("mode", [None, "SYNC", "ASYNC", "async"])
def test_flushdb_only_current_db(raw, mode):
    for db in ("0", "1"):
        assert call(raw, "SELECT", db) == b"+OK\r\n"
        for i in range(50):
            assert call(raw, "SET", f"k{i}", "v") == b"+OK\r\n"
    assert call(raw, "SELECT", "0") == b"+OK\r\n"
    args = ["FLUSHDB"] + ([mode] if mode else [])
    assert call(raw, *args) == b"+OK\r\n"
    assert call(raw, "DBSIZE") == b":0\r\n"
    assert call(raw, "GET", "k1") == b"$-1\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "DBSIZE") == b":50\r\n"


@pytest.mark.parametrize("mode", [None, "SYNC", "ASYNC"])
def test_flushall_all_dbs(raw, mode):
    for db in ("0", "3", "15"):
        assert call(raw, "SELECT", db) == b"+OK\r\n"
        for i in range(200):
            assert call(raw, "SET", f"k{i}", "v") == b"+OK\r\n"
    args = ["FLUSHALL"] + ([mode] if mode else [])
    assert call(raw, *args) == b"+OK\r\n"
    # keys are gone immediately, even with ASYNC (only the memory is reclaimed lazily)
    for db in ("0", "3", "15"):
        assert call(raw, "SELECT", db) == b"+OK\r\n"
        assert call(raw, "DBSIZE") == b":0\r\n"
        assert call(raw, "EXISTS", "k0") == b":0\r\n"
    assert "db" not in "".join(info_text(raw, "keyspace").split("\r\n")[1:])


def test_flush_errors(raw):
    assert call(raw, "FLUSHDB", "BAD") == b"-ERR syntax error\r\n"
    assert call(raw, "FLUSHALL", "x") == b"-ERR syntax error\r\n"
    assert call(raw, "FLUSHDB", "SYNC", "x") == b"-ERR syntax error\r\n"


@pytest.mark.parametrize("cmd", [("SAVE",), ("SHUTDOWN", "NOSAVE")])
def test_save_and_shutdown_refused_inside_multi(raw, r, cmd):
    # SAVE queued in MULTI used to hang the server: EXEC held every shard lock and the
    # checkpoint took them again. As Redis, both are refused while queueing and EXEC aborts.
    c = raw
    assert call(c, "MULTI") == b"+OK\r\n"
    assert call(c, "SET", "nomulti", "1") == b"+QUEUED\r\n"
    assert call(c, *cmd) == b"-ERR Command not allowed inside a transaction\r\n"
    assert call(c, "EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    assert r.exists("nomulti") == 0
    assert r.ping()


# ---------------------------------------------------------------------------------------------
# INFO

SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
            "Commandstats", "Keyspace"]
DEFAULT_SECTIONS = [s for s in SECTIONS if s != "Commandstats"]


def _in_order(needles, haystack):
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


def test_info_default_sections(raw):
    text = info_text(raw)
    hs = headers(text)
    # the default set: every basic section, in Redis's order, but not commandstats
    assert _in_order([f"# {s}" for s in DEFAULT_SECTIONS], hs), hs
    assert "# Commandstats" not in hs
    assert text.endswith("\r\n")
    # sections are separated by one empty line
    assert "\r\n\r\n# Clients\r\n" in text
    assert headers(info_text(raw, "default")) == hs


@pytest.mark.parametrize("arg", ["all", "everything", "ALL"])
def test_info_all_and_everything(raw, arg):
    hs = headers(info_text(raw, arg))
    assert _in_order([f"# {s}" for s in SECTIONS], hs), hs


def test_info_unknown_section_is_empty(raw, r):
    assert call(raw, "INFO", "nosuchsection") == b"$0\r\n\r\n"
    assert r.info("nosuchsection") == {}


def test_info_several_sections_in_one_call(raw):
    text = info_text(raw, "server", "clients")
    assert headers(text) == ["# Server", "# Clients"]
    # a section name is case-insensitive
    assert headers(info_text(raw, "SERVER")) == ["# Server"]
    assert headers(info_text(raw, "server", "nosuch")) == ["# Server"]


def test_info_server(raw, server):
    text = info_text(raw, "server")
    assert headers(text) == ["# Server"]
    f = info_fields(text)
    assert re.fullmatch(r"\d+\.\d+\.\d+", f["redis_version"]), f["redis_version"]
    assert f["redis_mode"] == "standalone"
    assert f["arch_bits"] == "64"
    assert "os" in f
    assert int(f["process_id"]) == server.proc.pid
    assert re.fullmatch(r"[0-9a-f]{40}", f["run_id"])
    assert int(f["tcp_port"]) == server.port
    assert abs(int(f["server_time_usec"]) / 1e6 - time.time()) < 5
    assert int(f["uptime_in_seconds"]) >= 0
    assert int(f["uptime_in_days"]) == int(f["uptime_in_seconds"]) // 86400
    # run_id is stable for the life of the process
    assert info_fields(info_text(raw, "server"))["run_id"] == f["run_id"]


def connected_clients(raw):
    return int(info_fields(info_text(raw, "clients"))["connected_clients"])


def test_info_clients(raw):
    # connections closed by earlier tests may still be on their way out: wait for a stable count
    base = connected_clients(raw)
    deadline = time.time() + 5
    while time.time() < deadline:
        time.sleep(0.02)
        now = connected_clients(raw)
        if now == base:
            break
        base = now
    assert base >= 1
    extra = [raw.more() for _ in range(3)]
    for c in extra:
        assert call(c, "PING") == b"+PONG\r\n"
    f = info_fields(info_text(raw, "clients"))
    assert int(f["connected_clients"]) == base + 3
    assert int(f["maxclients"]) > 0
    assert f["blocked_clients"] == "0"
    for c in extra:
        c.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        if int(info_fields(info_text(raw, "clients"))["connected_clients"]) == base:
            break
        time.sleep(0.01)
    assert int(info_fields(info_text(raw, "clients"))["connected_clients"]) == base


def test_info_memory(raw):
    text = info_text(raw, "memory")
    assert headers(text) == ["# Memory"]
    f = info_fields(text)
    used = int(f["used_memory"])
    assert used > 0
    assert int(f["used_memory_peak"]) >= used
    assert f["used_memory_human"]
    assert int(f["maxmemory"]) >= 0
    assert f["maxmemory_policy"]


def test_info_persistence(raw):
    text = info_text(raw, "persistence")
    assert headers(text) == ["# Persistence"]
    f = info_fields(text)
    assert f["loading"] == "0"
    assert int(f["rdb_changes_since_last_save"]) >= 0
    # rdb_last_save_time is the LASTSAVE value
    lastsave = parse_resp(call(raw, "LASTSAVE"))
    assert int(f["rdb_last_save_time"]) == lastsave
    assert f["rdb_bgsave_in_progress"] == "0"


def test_info_stats(raw):
    f1 = info_fields(info_text(raw, "stats"))
    for _ in range(5):
        assert call(raw, "PING") == b"+PONG\r\n"
    f2 = info_fields(info_text(raw, "stats"))
    # 5 PINGs and the first INFO were processed in between
    assert int(f2["total_commands_processed"]) - int(f1["total_commands_processed"]) == 6
    assert int(f2["total_connections_received"]) >= 1
    # keyspace hits and misses count reads of existing and missing keys
    assert call(raw, "SET", "k", "v") == b"+OK\r\n"
    f1 = info_fields(info_text(raw, "stats"))
    assert call(raw, "GET", "k") == b"$1\r\nv\r\n"
    assert call(raw, "GET", "k") == b"$1\r\nv\r\n"
    assert call(raw, "GET", "missing") == b"$-1\r\n"
    f2 = info_fields(info_text(raw, "stats"))
    assert int(f2["keyspace_hits"]) - int(f1["keyspace_hits"]) == 2
    assert int(f2["keyspace_misses"]) - int(f1["keyspace_misses"]) == 1


def test_info_stats_connections_received(raw):
    before = int(info_fields(info_text(raw, "stats"))["total_connections_received"])
    for _ in range(3):
        c = raw.more()
        assert call(c, "PING") == b"+PONG\r\n"
    after = int(info_fields(info_text(raw, "stats"))["total_connections_received"])
    assert after - before == 3


def test_info_replication(raw):
    text = info_text(raw, "replication")
    assert headers(text) == ["# Replication"]
    f = info_fields(text)
    assert f["role"] == "master"
    assert f["connected_slaves"] == "0"


def test_info_cpu(raw):
    text = info_text(raw, "cpu")
    assert headers(text) == ["# CPU"]
    f = info_fields(text)
    for k in ("used_cpu_sys", "used_cpu_user"):
        assert re.fullmatch(r"\d+\.\d{6}", f[k]), (k, f[k])
    assert float(f["used_cpu_sys"]) + float(f["used_cpu_user"]) > 0


def test_info_commandstats(raw):
    assert call(raw, "CONFIG", "RESETSTAT") == b"+OK\r\n"
    for i in range(7):
        assert call(raw, "SET", f"k{i}", "v") == b"+OK\r\n"
    assert call(raw, "GET", "k1") == b"$1\r\nv\r\n"
    text = info_text(raw, "commandstats")
    assert headers(text) == ["# Commandstats"]
    f = info_fields(text)
    m = re.fullmatch(r"calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),"
                     r"rejected_calls=(\d+),failed_calls=(\d+)", f["cmdstat_set"])
    assert m, f["cmdstat_set"]
    assert m.group(1) == "7"
    assert m.group(4) == "0" and m.group(5) == "0"
    assert f["cmdstat_get"].startswith("calls=1,")
    assert "cmdstat_ping" not in f
    # subcommands are reported as command|subcommand
    assert f["cmdstat_config|resetstat"].startswith("calls=1,")


def test_info_commandstats_rejected_and_failed(raw):
    assert call(raw, "CONFIG", "RESETSTAT") == b"+OK\r\n"
    assert call(raw, "SET", "a", "1") == b"+OK\r\n"
    # wrong arity is rejected before the command runs: not a call
    assert call(raw, "SET", "a") == wrong_arity("set")
    # an error raised while running is a failed call
    assert call(raw, "SET", "a", "1", "EX", "abc") == \
        b"-ERR value is not an integer or out of range\r\n"
    f = info_fields(info_text(raw, "commandstats"))
    assert re.fullmatch(r"calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=1",
                        f["cmdstat_set"]), f["cmdstat_set"]


def test_info_keyspace(raw, r):
    text = info_text(raw, "keyspace")
    assert text == "# Keyspace\r\n"
    assert call(raw, "SET", "a", "1") == b"+OK\r\n"
    assert call(raw, "SET", "b", "1") == b"+OK\r\n"
    assert call(raw, "SET", "c", "1", "EX", "1000") == b"+OK\r\n"
    assert call(raw, "SELECT", "5") == b"+OK\r\n"
    assert call(raw, "SET", "x", "1") == b"+OK\r\n"
    text = info_text(raw, "keyspace")
    lines = text.split("\r\n")
    assert lines[0] == "# Keyspace"
    assert re.fullmatch(r"db0:keys=3,expires=1,avg_ttl=\d+", lines[1]), lines[1]
    assert lines[2] == "db5:keys=1,expires=0,avg_ttl=0"
    assert lines[3:] == [""]
    parsed = r.info("keyspace")
    assert parsed["db0"]["keys"] == 3 and parsed["db0"]["expires"] == 1
    assert parsed["db5"] == {"keys": 1, "expires": 0, "avg_ttl": 0}


def test_info_total_commands_processed_increases(r):
    a = r.info("stats")["total_commands_processed"]
    r.set("x", 1)
    r.get("x")
    b = r.info("stats")["total_commands_processed"]
    assert b - a == 3


def test_info_parsed_by_redis_py(r, server):
    info = r.info()
    assert info["tcp_port"] == server.port
    assert info["role"] == "master"
    assert info["connected_clients"] >= 1
    assert "used_memory" in info and "used_cpu_sys" in info
    assert "redis_version" in info


# ---------------------------------------------------------------------------------------------
# CONFIG


def test_config_get_single_and_several(r, server, raw):
    assert r.config_get("port") == {"port": str(server.port)}
    got = r.config_get("maxmemory", "port")
    assert got == {"maxmemory": got["maxmemory"], "port": str(server.port)}
    assert got["maxmemory"].isdigit()
    # several names in one call; unknown names are simply absent
    reply = parse_resp(call(raw, "CONFIG", "GET", "port", "nosuch", "proto-max-bulk-len"))
    assert isinstance(reply, list) and len(reply) == 4
    assert dict(zip(reply[::2], reply[1::2])) == {
        b"port": str(server.port).encode(), b"proto-max-bulk-len": b"536870912"}
    assert call(raw, "CONFIG", "GET", "nosuch") == b"*0\r\n"


def test_config_get_glob(r):
    got = r.config_get("max*")
    assert "maxmemory" in got and "maxclients" in got
    assert all(fnmatch.fnmatchcase(k, "max*") for k in got), got
    assert r.config_get("proto-max-bulk-le?") == {"proto-max-bulk-len": "536870912"}
    assert r.config_get("proto-max-bulk-l[aeiou]n") == {"proto-max-bulk-len": "536870912"}
    everything = r.config_get("*")
    for name in ("port", "bind", "dir", "maxmemory", "maxclients", "requirepass",
                 "proto-max-bulk-len", "client-query-buffer-limit"):
        assert name in everything, name
    assert everything["requirepass"] == ""
    assert everything["client-query-buffer-limit"] == "1073741824"
    # two patterns matching the same parameter report it once
    reply = r.config_get("maxmemory", "maxmem*")
    assert reply["maxmemory"] == everything["maxmemory"]


def test_config_get_dir(r, server):
    assert os.path.realpath(r.config_get("dir")["dir"]) == os.path.realpath(server.dir)


def test_config_set_and_get(r, raw):
    old = r.config_get("maxmemory")["maxmemory"]
    try:
        assert r.config_set("maxmemory", "100mb") is True
        assert r.config_get("maxmemory") == {"maxmemory": "104857600"}
        assert r.info("memory")["maxmemory"] == 104857600
        # memory units: k = 1000, kb = 1024, gb = 1024^3
        assert call(raw, "CONFIG", "SET", "maxmemory", "1k") == b"+OK\r\n"
        assert r.config_get("maxmemory") == {"maxmemory": "1000"}
        assert call(raw, "CONFIG", "SET", "maxmemory", "2kb") == b"+OK\r\n"
        assert r.config_get("maxmemory") == {"maxmemory": "2048"}
        assert call(raw, "CONFIG", "SET", "maxmemory", "1GB") == b"+OK\r\n"
        assert r.config_get("maxmemory") == {"maxmemory": "1073741824"}
        assert call(raw, "CONFIG", "SET", "maxmemory", "12345") == b"+OK\r\n"
        assert r.config_get("maxmemory") == {"maxmemory": "12345"}
    finally:
        r.config_set("maxmemory", old)
    assert r.config_get("maxmemory") == {"maxmemory": old}


def test_config_set_several_at_once(r, raw):
    old = r.config_get("maxmemory", "maxclients")
    try:
        assert call(raw, "CONFIG", "SET", "maxmemory", "200mb", "maxclients", "500") == b"+OK\r\n"
        assert r.config_get("maxmemory", "maxclients") == {
            "maxmemory": "209715200", "maxclients": "500"}
        assert r.info("clients")["maxclients"] == 500
    finally:
        assert call(raw, "CONFIG", "SET", "maxmemory", old["maxmemory"],
                    "maxclients", old["maxclients"]) == b"+OK\r\n"
    assert r.config_get("maxmemory", "maxclients") == old


def test_config_set_is_atomic(r, raw):
    old = r.config_get("maxmemory", "maxclients")
    reply = call(raw, "CONFIG", "SET", "maxmemory", "300mb", "maxclients", "abc")
    assert reply == (b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
                     b"argument couldn't be parsed into an integer\r\n")
    # nothing was applied
    assert r.config_get("maxmemory", "maxclients") == old


def test_config_set_errors(raw, r):
    old = r.config_get("maxmemory")
    reply = call(raw, "CONFIG", "SET", "maxmemory", "abc")
    assert reply.startswith(b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - ")
    assert reply.endswith(b"\r\n") and reply.count(b"\r\n") == 1
    assert call(raw, "CONFIG", "SET", "nosuch", "1") == \
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    assert call(raw, "CONFIG", "SET", "maxmemory", "1", "port") == b"-ERR syntax error\r\n"
    assert call(raw, "CONFIG", "SET", "maxmemory", "100", "maxmemory", "200") == \
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"
    assert call(raw, "CONFIG", "SET", "maxmemory") == wrong_arity("config|set")
    assert call(raw, "CONFIG", "GET") == wrong_arity("config|get")
    assert call(raw, "CONFIG") == wrong_arity("config")
    assert call(raw, "CONFIG", "NOSUCH") == b"-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n"
    assert r.config_get("maxmemory") == old


def test_config_resetstat(raw):
    for _ in range(10):
        assert call(raw, "SET", "k", "v") == b"+OK\r\n"
    assert call(raw, "GET", "missing") == b"$-1\r\n"
    assert call(raw, "CONFIG", "RESETSTAT") == b"+OK\r\n"
    cs = info_fields(info_text(raw, "commandstats"))
    assert "cmdstat_set" not in cs
    assert "cmdstat_get" not in cs
    assert cs["cmdstat_config|resetstat"].startswith("calls=1,")
    for _ in range(4):
        assert call(raw, "PING") == b"+PONG\r\n"
    st = info_fields(info_text(raw, "stats"))
    # RESETSTAT itself, the INFO commandstats and 4 PINGs
    assert st["total_commands_processed"] == "6"
    assert st["keyspace_misses"] == "0"
    assert st["keyspace_hits"] == "0"
    assert call(raw, "CONFIG", "RESETSTAT", "x") == wrong_arity("config|resetstat")


# ---------------------------------------------------------------------------------------------
# COMMAND


def test_command_count_and_list(r, raw):
    count = r.command_count()
    names = [n.decode() for n in parse_resp(call(raw, "COMMAND", "LIST"))]
    assert len(names) == len(set(names))
    # COMMAND LIST also lists subcommands as container|sub; COUNT counts only commands
    assert count == len([n for n in names if "|" not in n])
    for name in ("get", "set", "ping", "echo", "config", "client", "command", "info", "hello",
                 "select", "swapdb", "flushall", "flushdb", "dbsize", "time", "lastsave", "reset",
                 "quit", "shutdown", "debug", "mset", "del", "incr"):
        assert name in names, name
    for name in ("config|get", "config|set", "client|id", "client|list", "command|info"):
        assert name in names, name
    assert call(raw, "COMMAND", "COUNT", "x") == wrong_arity("command|count")


def test_command_list_filterby_pattern(raw):
    got = parse_resp(call(raw, "COMMAND", "LIST", "FILTERBY", "PATTERN", "ge?"))
    assert got == [b"get"]
    got = sorted(parse_resp(call(raw, "COMMAND", "LIST", "FILTERBY", "PATTERN", "flush*")))
    assert got == [b"flushall", b"flushdb"]


def test_command_info(raw):
    reply = parse_resp(call(raw, "COMMAND", "INFO", "get", "set", "nosuch"))
    assert len(reply) == 3
    get, set_, missing = reply
    assert missing is None
    # name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands
    assert len(get) == 10
    assert get[0] == b"get" and get[1] == 2
    assert set(get[2]) == {"readonly", "fast"}
    assert get[3:6] == [1, 1, 1]
    assert set(get[6]) == {"@read", "@string", "@fast"}
    assert get[9] == []
    assert set_[0] == b"set" and set_[1] == -3
    assert {"write", "denyoom"} <= set(set_[2])
    assert set_[3:6] == [1, 1, 1]
    # mset: keys from 1 to the last argument, every second one
    (mset,) = parse_resp(call(raw, "COMMAND", "INFO", "mset"))
    assert mset[1] == -3 and mset[3:6] == [1, -1, 2]
    (ping,) = parse_resp(call(raw, "COMMAND", "INFO", "ping"))
    assert ping[1] == -1 and ping[3:6] == [0, 0, 0]
    # container commands list their subcommands
    (config,) = parse_resp(call(raw, "COMMAND", "INFO", "config"))
    subs = {s[0] for s in config[9]}
    assert {b"config|get", b"config|set", b"config|resetstat"} <= subs
    # a subcommand can be asked for directly
    (cget,) = parse_resp(call(raw, "COMMAND", "INFO", "config|get"))
    assert cget[0] == b"config|get" and cget[1] == -3


def test_command_info_is_case_insensitive(raw):
    (get,) = parse_resp(call(raw, "COMMAND", "INFO", "GET"))
    assert get[0] == b"get"


def test_command_docs(raw):
    docs = parse_resp(call(raw, "COMMAND", "DOCS", "get"))
    # RESP2: a flat array of name, doc-map pairs
    assert isinstance(docs, list) and docs[0] == b"get"
    doc = dict(zip(docs[1][::2], docs[1][1::2]))
    # The summary's wording differs between Redis versions; its presence is what clients use.
    assert b"value" in doc[b"summary"].lower()
    assert doc[b"since"] == b"1.0.0"
    assert doc[b"group"] == b"string"
    assert doc[b"complexity"] == b"O(1)"
    assert call(raw, "COMMAND", "DOCS", "nosuch") == b"*0\r\n"
    both = parse_resp(call(raw, "COMMAND", "DOCS", "get", "set"))
    assert sorted(both[::2]) == [b"get", b"set"]


def test_command_getkeys(r, raw):
    assert r.command_getkeys("SET", "k", "v") == ["k"]
    assert r.command_getkeys("MSET", "a", "1", "b", "2", "c", "3") == ["a", "b", "c"]
    assert r.command_getkeys("DEL", "a", "b", "c") == ["a", "b", "c"]
    assert r.command_getkeys("GET", "x") == ["x"]
    assert call(raw, "COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10") == b"*1\r\n$1\r\nk\r\n"
    assert call(raw, "COMMAND", "GETKEYS", "ECHO", "a") == \
        b"-ERR The command has no key arguments\r\n"
    assert call(raw, "COMMAND", "GETKEYS", "NOSUCH", "a") == b"-ERR Invalid command specified\r\n"
    assert call(raw, "COMMAND", "GETKEYS", "GET", "a", "b") == \
        b"-ERR Invalid number of arguments specified for command\r\n"
    assert call(raw, "COMMAND", "GETKEYS", "GET") == wrong_arity("command|getkeys")
    assert call(raw, "COMMAND", "GETKEYS") == wrong_arity("command|getkeys")


def test_command_bare_and_unknown_subcommand(raw):
    everything = parse_resp(call(raw, "COMMAND"))
    count = parse_resp(call(raw, "COMMAND", "COUNT"))
    assert len(everything) == count
    assert b"get" in {c[0] for c in everything}
    assert call(raw, "COMMAND", "NOSUCH") == b"-ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP.\r\n"


# ---------------------------------------------------------------------------------------------
# CLIENT


def client_info(raw):
    text = parse_resp(call(raw, "CLIENT", "INFO")).decode()
    assert text.endswith("\n") and text.count("\n") == 1
    return dict(kv.split("=", 1) for kv in text.strip().split(" "))


def test_client_id(raw):
    a = parse_resp(call(raw, "CLIENT", "ID"))
    assert isinstance(a, int) and a > 0
    assert parse_resp(call(raw, "CLIENT", "ID")) == a
    other = raw.more()
    b = parse_resp(call(other, "CLIENT", "ID"))
    # ids are unique and grow with every new connection
    assert b > a
    assert int(client_info(raw)["id"]) == a
    assert call(raw, "CLIENT", "ID", "x") == wrong_arity("client|id")


def test_client_setname_getname(r, raw):
    assert call(raw, "CLIENT", "GETNAME") == b"$-1\r\n"
    assert call(raw, "CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
    assert call(raw, "CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    assert client_info(raw)["name"] == "worker-1"
    for bad in ("a b", "a\nb", "\xe9"):
        assert call(raw, "CLIENT", "SETNAME", bad) == \
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    assert call(raw, "CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    # an empty name removes the name
    assert call(raw, "CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert call(raw, "CLIENT", "GETNAME") == b"$-1\r\n"
    assert client_info(raw)["name"] == ""
    assert call(raw, "CLIENT", "SETNAME") == wrong_arity("client|setname")
    assert call(raw, "CLIENT", "GETNAME", "x") == wrong_arity("client|getname")
    # through redis-py
    assert r.client_setname("py") is True
    assert r.client_getname() == "py"


def test_client_info(raw, r):
    assert call(raw, "SELECT", "3") == b"+OK\r\n"
    assert call(raw, "CLIENT", "SETNAME", "me") == b"+OK\r\n"
    info = client_info(raw)
    host, port = raw.sock.getsockname()
    assert info["addr"] == f"{host}:{port}"
    assert info["laddr"] == "%s:%d" % raw.sock.getpeername()
    assert info["name"] == "me"
    assert info["db"] == "3"
    assert info["cmd"] == "client|info"
    assert info["resp"] == "2"
    assert info["multi"] == "-1"
    assert int(info["age"]) >= 0 and int(info["idle"]) >= 0
    for field in ("fd", "flags", "sub", "psub", "qbuf", "obl", "oll", "omem", "events", "user"):
        assert field in info, field
    assert call(raw, "CLIENT", "INFO", "x") == wrong_arity("client|info")
    parsed = r.client_info()
    assert parsed["id"] == r.client_id()


def test_client_list(raw):
    other = raw.more()
    my_id = parse_resp(call(raw, "CLIENT", "ID"))
    other_id = parse_resp(call(other, "CLIENT", "ID"))
    assert call(other, "CLIENT", "SETNAME", "other") == b"+OK\r\n"
    assert call(other, "SELECT", "2") == b"+OK\r\n"
    text = parse_resp(call(raw, "CLIENT", "LIST")).decode()
    assert text.endswith("\n")
    rows = [dict(kv.split("=", 1) for kv in line.split(" ")) for line in text.strip("\n").split("\n")]
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[my_id]["cmd"] == "client|list"
    assert by_id[other_id]["name"] == "other"
    assert by_id[other_id]["db"] == "2"
    assert by_id[other_id]["cmd"] == "select"
    host, port = other.sock.getsockname()
    assert by_id[other_id]["addr"] == f"{host}:{port}"
    # filtered by id
    text = parse_resp(call(raw, "CLIENT", "LIST", "ID", str(other_id))).decode()
    assert text.count("\n") == 1 and text.startswith(f"id={other_id} ")


def test_client_kill_by_id(raw):
    victim = raw.more()
    vid = parse_resp(call(victim, "CLIENT", "ID"))
    assert call(raw, "CLIENT", "KILL", "ID", str(vid)) == b":1\r\n"
    assert victim.closed()
    # the id no longer exists
    assert call(raw, "CLIENT", "KILL", "ID", str(vid)) == b":0\r\n"
    assert call(raw, "CLIENT", "KILL", "ID", "abc") == b"-ERR client-id should be greater than 0\r\n"
    assert call(raw, "CLIENT", "KILL", "ID", "0") == b"-ERR client-id should be greater than 0\r\n"
    assert call(raw, "PING") == b"+PONG\r\n"


def test_client_kill_by_addr(raw):
    victim = raw.more()
    assert call(victim, "PING") == b"+PONG\r\n"
    addr = "%s:%d" % victim.sock.getsockname()
    assert call(raw, "CLIENT", "KILL", "ADDR", addr) == b":1\r\n"
    assert victim.closed()
    assert call(raw, "CLIENT", "KILL", "ADDR", "1.2.3.4:5") == b":0\r\n"
    # the old form: CLIENT KILL ip:port replies +OK or an error
    victim2 = raw.more()
    assert call(victim2, "PING") == b"+PONG\r\n"
    addr2 = "%s:%d" % victim2.sock.getsockname()
    assert call(raw, "CLIENT", "KILL", addr2) == b"+OK\r\n"
    assert victim2.closed()
    assert call(raw, "CLIENT", "KILL", "1.2.3.4:5") == b"-ERR No such client\r\n"


def test_client_kill_redis_py(r, server):
    victim = server.client()
    vid = victim.client_id()
    assert r.client_kill_filter(_id=vid) == 1
    assert r.client_kill_filter(_id=vid) == 0
    victim.close()


def test_client_no_evict(raw):
    assert call(raw, "CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert call(raw, "CLIENT", "NO-EVICT", "off") == b"+OK\r\n"
    assert call(raw, "CLIENT", "NO-EVICT", "ON") == b"+OK\r\n"
    assert call(raw, "CLIENT", "NO-EVICT", "maybe") == b"-ERR syntax error\r\n"
    assert call(raw, "CLIENT", "NO-EVICT") == wrong_arity("client|no-evict")


def test_client_unknown_subcommand(raw):
    assert call(raw, "CLIENT", "NOSUCH") == b"-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n"
    assert call(raw, "CLIENT") == wrong_arity("client")


def _needs_redis_72(raw):
    """CLIENT SETINFO and CLIENT NO-TOUCH arrived in Redis 7.2; redis-server 7.0 lacks them."""
    if TARGET == "redis":
        version = info_fields(info_text(raw, "server"))["redis_version"]
        if tuple(int(x) for x in version.split(".")[:2]) < (7, 2):
            pytest.skip(f"redis-server {version} has no CLIENT SETINFO / NO-TOUCH (Redis 7.2+)")


def test_client_setinfo(raw):
    _needs_redis_72(raw)
    assert call(raw, "CLIENT", "SETINFO", "lib-name", "mylib") == b"+OK\r\n"
    assert call(raw, "CLIENT", "SETINFO", "LIB-VER", "1.2.3") == b"+OK\r\n"
    info = client_info(raw)
    assert info["lib-name"] == "mylib"
    assert info["lib-ver"] == "1.2.3"
    reply = call(raw, "CLIENT", "SETINFO", "lib-name", "a b")
    assert reply.startswith(b"-ERR ") and b"cannot contain spaces, newlines or special characters" in reply
    assert call(raw, "CLIENT", "SETINFO", "bad", "x") == b"-ERR Unrecognized option 'bad'\r\n"
    assert call(raw, "CLIENT", "SETINFO", "lib-name") == wrong_arity("client|setinfo")
    assert client_info(raw)["lib-name"] == "mylib"


def test_client_no_touch(raw):
    _needs_redis_72(raw)
    assert call(raw, "CLIENT", "NO-TOUCH", "on") == b"+OK\r\n"
    assert call(raw, "CLIENT", "NO-TOUCH", "off") == b"+OK\r\n"
    assert call(raw, "CLIENT", "NO-TOUCH", "maybe") == b"-ERR syntax error\r\n"
    assert call(raw, "CLIENT", "NO-TOUCH") == wrong_arity("client|no-touch")


# ---------------------------------------------------------------------------------------------
# HELLO

HELLO_KEYS = {"server", "version", "proto", "id", "mode", "role", "modules"}


def check_hello(reply, proto, client_id):
    assert set(reply) == {k.encode() for k in HELLO_KEYS}
    assert isinstance(reply[b"server"], bytes) and reply[b"server"]
    assert isinstance(reply[b"version"], bytes) and reply[b"version"]
    assert reply[b"proto"] == proto
    assert reply[b"id"] == client_id
    assert reply[b"mode"] == b"standalone"
    assert reply[b"role"] == b"master"
    assert reply[b"modules"] == []


def test_hello_3(raw):
    cid = parse_resp(call(raw, "CLIENT", "ID"))
    data = call(raw, "HELLO", "3")
    assert data.startswith(b"%7\r\n")
    check_hello(parse_resp(data), 3, cid)
    # the connection now speaks RESP3
    assert call(raw, "GET", "missing") == b"_\r\n"
    assert client_info_resp3(raw)["resp"] == "3"
    # HELLO with no version reports the current protocol without changing it
    data = call(raw, "HELLO")
    check_hello(parse_resp(data), 3, cid)


def client_info_resp3(raw):
    reply = parse_resp(call(raw, "CLIENT", "INFO"))
    assert isinstance(reply, Verbatim) and reply.fmt == b"txt"
    return dict(kv.split("=", 1) for kv in reply.decode().strip().split(" "))


def test_hello_2(raw):
    cid = parse_resp(call(raw, "CLIENT", "ID"))
    data = call(raw, "HELLO", "2")
    assert data.startswith(b"*14\r\n")
    flat = parse_resp(data)
    check_hello(dict(zip(flat[::2], flat[1::2])), 2, cid)
    assert call(raw, "HELLO", "3").startswith(b"%7\r\n")
    assert call(raw, "HELLO", "2").startswith(b"*14\r\n")
    assert call(raw, "GET", "missing") == b"$-1\r\n"


def test_hello_no_args_on_new_connection(raw):
    data = call(raw, "HELLO")
    assert data.startswith(b"*14\r\n")
    flat = parse_resp(data)
    assert dict(zip(flat[::2], flat[1::2]))[b"proto"] == 2


def test_hello_setname(raw):
    data = call(raw, "HELLO", "3", "SETNAME", "conn1")
    assert data.startswith(b"%7\r\n")
    assert call(raw, "CLIENT", "GETNAME") == b"$5\r\nconn1\r\n"
    assert call(raw, "HELLO", "2", "SETNAME", "a b") == \
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    # a failed HELLO changes nothing: still RESP3 and still named conn1
    assert call(raw, "CLIENT", "GETNAME") == b"$5\r\nconn1\r\n"
    assert call(raw, "GET", "missing") == b"_\r\n"


def test_hello_errors(raw):
    assert call(raw, "HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    assert call(raw, "HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert call(raw, "HELLO", "abc") == b"-ERR Protocol version is not an integer or out of range\r\n"
    assert call(raw, "HELLO", "2", "FOO") == b"-ERR Syntax error in HELLO option 'FOO'\r\n"
    assert call(raw, "HELLO", "2", "AUTH", "default") == \
        b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert call(raw, "HELLO", "2", "SETNAME") == b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    # the connection is unchanged and still RESP2
    assert call(raw, "GET", "missing") == b"$-1\r\n"


def test_hello_auth(server_factory):
    srv = password_server(server_factory)
    c = Raw(srv.port)
    try:
        assert call(c, "GET", "a") == b"-NOAUTH Authentication required.\r\n"
        assert call(c, "HELLO", "3") == (
            b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
            b"the RESP protocol version at the same time\r\n")
        assert call(c, "HELLO", "3", "AUTH", "default", "wrong") == \
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert call(c, "HELLO", "3", "AUTH", "nouser", "secret") == \
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert call(c, "GET", "a") == b"-NOAUTH Authentication required.\r\n"
        data = call(c, "HELLO", "3", "AUTH", "default", "secret", "SETNAME", "authed")
        assert data.startswith(b"%7\r\n")
        hello = parse_resp(data)
        cid = parse_resp(call(c, "CLIENT", "ID"))
        check_hello(hello, 3, cid)
        assert call(c, "CLIENT", "GETNAME") == b"$6\r\nauthed\r\n"
        assert call(c, "GET", "a") == b"_\r\n"
        assert call(c, "SET", "a", "1") == b"+OK\r\n"
    finally:
        c.close()
    # redis-py can connect with a password in both protocols
    for proto in (2, 3):
        cl = srv.client(password="secret", protocol=proto)
        assert cl.get("a") == "1"
        cl.close()
    c = Raw(srv.port)
    try:
        assert call(c, "AUTH", "bad") == \
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert call(c, "AUTH", "secret") == b"+OK\r\n"
        assert call(c, "GET", "a") == b"$1\r\n1\r\n"
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# RESET, QUIT, SHUTDOWN, DEBUG, LASTSAVE


def test_reset(raw):
    assert call(raw, "HELLO", "3").startswith(b"%")
    assert call(raw, "SELECT", "2") == b"+OK\r\n"
    assert call(raw, "SET", "in2", "x") == b"+OK\r\n"
    assert call(raw, "CLIENT", "SETNAME", "before") == b"+OK\r\n"
    cid = parse_resp(call(raw, "CLIENT", "ID"))
    assert call(raw, "RESET") == b"+RESET\r\n"
    # back to RESP2, database 0, no name; the connection (and its id) is kept
    assert call(raw, "GET", "missing") == b"$-1\r\n"
    assert call(raw, "GET", "in2") == b"$-1\r\n"
    assert call(raw, "CLIENT", "GETNAME") == b"$-1\r\n"
    info = client_info(raw)
    assert info["db"] == "0" and info["resp"] == "2" and info["name"] == ""
    assert int(info["id"]) == cid
    assert call(raw, "RESET", "x") == wrong_arity("reset")


def test_reset_deauthenticates(server_factory):
    srv = password_server(server_factory)
    c = Raw(srv.port)
    try:
        assert call(c, "AUTH", "secret") == b"+OK\r\n"
        assert call(c, "PING") == b"+PONG\r\n"
        assert call(c, "RESET") == b"+RESET\r\n"
        assert call(c, "PING") == b"-NOAUTH Authentication required.\r\n"
    finally:
        c.close()


def test_quit(raw):
    other = raw.more()
    # QUIT replies +OK and closes; commands pipelined after it are not run
    other.send(b"*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\n")
    assert other.read_reply() == b"+OK\r\n"
    assert other.closed()
    assert other.buf == b""
    assert call(raw, "EXISTS", "q") == b":0\r\n"
    assert call(raw, "PING") == b"+PONG\r\n"


def test_quit_inline(raw):
    other = raw.more()
    other.send(b"QUIT\r\n")
    assert other.read_reply() == b"+OK\r\n"
    assert other.closed()


def test_shutdown_nosave(server_factory):
    srv = server_factory()
    c = Raw(srv.port)
    try:
        assert call(c, "SET", "k", "v") == b"+OK\r\n"
        c.cmd("SHUTDOWN", "NOSAVE")
        # no reply: the connection is simply closed when the server exits
        assert c.closed(timeout=10)
        assert c.buf == b""
    finally:
        c.close()
    assert srv.proc.wait(timeout=10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_debug_sleep(debug_port):
    c = Raw(debug_port)
    try:
        assert call(c, "DEBUG", "SLEEP", "0") == b"+OK\r\n"
        t = time.time()
        assert call(c, "DEBUG", "SLEEP", "0.1") == b"+OK\r\n"
        assert time.time() - t >= 0.09
    finally:
        c.close()


def test_lastsave(server_factory):
    before = int(time.time())
    srv = server_factory()
    c = Raw(srv.port)
    try:
        reply = call(c, "LASTSAVE")
        assert re.fullmatch(rb":\d+\r\n", reply), reply
        assert before - 2 <= int(reply[1:-2]) <= int(time.time()) + 1
    finally:
        c.close()


def test_lastsave_raw(raw):
    reply = call(raw, "LASTSAVE")
    assert re.fullmatch(rb":\d+\r\n", reply)
    assert int(reply[1:-2]) <= time.time() + 1
    assert call(raw, "LASTSAVE", "x") == wrong_arity("lastsave")


# ---------------------------------------------------------------------------------------------
# unknown commands and arity


def test_unknown_command(raw):
    assert call(raw, "foo", "a", "b") == \
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    assert call(raw, "FOO") == b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    assert call(raw, "nosuch", "") == b"-ERR unknown command 'nosuch', with args beginning with: '' \r\n"
    # the connection stays usable
    assert call(raw, "PING") == b"+PONG\r\n"


def test_unknown_command_truncation_and_sanitizing(raw):
    # the command name is cut at 128 bytes
    assert call(raw, "f" * 200) == \
        b"-ERR unknown command '" + b"f" * 128 + b"', with args beginning with: \r\n"
    # the argument list stops once it reaches 128 bytes; each argument is cut to fit
    assert call(raw, "FOO", "x" * 200) == \
        b"-ERR unknown command 'FOO', with args beginning with: '" + b"x" * 128 + b"' \r\n"
    assert call(raw, "FOO", "a" * 100, "b" * 100, "c") == (
        b"-ERR unknown command 'FOO', with args beginning with: '" + b"a" * 100 + b"' '"
        + b"b" * 25 + b"' \r\n")
    # CR and LF in an error message become spaces, so the reply stays one line
    assert call(raw, "FOO", "a\r\nb") == \
        b"-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n"


def test_unknown_command_redis_py(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("NOSUCHCMD", "x")
    assert str(e.value) == "unknown command 'NOSUCHCMD', with args beginning with: 'x' "


@pytest.mark.parametrize("args,name", [
    (("GET",), "get"),
    (("get", "a", "b"), "get"),
    (("GeT",), "get"),
    (("SET",), "set"),
    (("SET", "k"), "set"),
    (("PING", "a", "b"), "ping"),
    (("ECHO",), "echo"),
    (("DBSIZE", "x"), "dbsize"),
    (("SELECT",), "select"),
    (("SWAPDB", "0"), "swapdb"),
    (("TIME", "x"), "time"),
    (("LASTSAVE", "x"), "lastsave"),
    (("CONFIG",), "config"),
    (("config", "get"), "config|get"),
    (("CONFIG", "SET", "maxmemory"), "config|set"),
    (("CLIENT",), "client"),
    (("CLIENT", "ID", "x"), "client|id"),
    (("CLIENT", "SETNAME"), "client|setname"),
    (("COMMAND", "COUNT", "x"), "command|count"),
    (("MSET", "a"), "mset"),
    (("DEL",), "del"),
    (("INCR",), "incr"),
])
def test_wrong_arity(raw, args, name):
    assert call(raw, *args) == wrong_arity(name)
    assert call(raw, "PING") == b"+PONG\r\n"


def test_wrong_arity_redis_py(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("GET")
    assert str(e.value) == "wrong number of arguments for 'get' command"


def test_a_busy_port_fails_the_start_with_redis_line(tmp_path):
    # Tools that start servers (Redis's own test suite among them) look for Redis's line to try
    # another port; the server must exit, not wait.
    import subprocess
    from conftest import FDB_BIN, TARGET
    if TARGET == "redis":
        pytest.skip("starts the binary under test itself")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        r = subprocess.run([FDB_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir",
                            str(tmp_path), "--appendonly", "no"], capture_output=True, text=True,
                           timeout=30)
    finally:
        busy.close()
    assert r.returncode != 0
    assert f"Failed listening on port {port} (TCP), aborting." in r.stdout + r.stderr
