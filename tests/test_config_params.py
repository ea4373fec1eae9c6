"""Every Redis 7.0 configuration parameter: names, aliases, validation texts, the config file,
CONFIG REWRITE, and an unmodified Debian redis.conf.

The tests run against redis-server 7.0.15 as well (FDB_TEST_TARGET=redis), which is how their
expectations were checked; the few that are about FDB alone say so.
"""

import os
import shutil
import subprocess

import pytest
import redis

from conftest import FDB_BIN, TARGET, Raw, Server

fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's own behaviour")
REDIS_BIN = shutil.which("redis-server")
DEBIAN_CONF = "/etc/redis/redis.conf"


def call(conn, *args):
    conn.cmd(*args)
    return conn.read_reply()


def set_error(name, why):
    return b"-ERR CONFIG SET failed (possibly related to argument '%s') - %s\r\n" % (
        name.encode(), why.encode())


class ConfServer(Server):
    """A server started as `server CONFIG-FILE --flag value...`, as one starts redis-server."""

    def __init__(self, conf, extra=()):
        self.conf = conf
        self.extra = list(extra)
        super().__init__()

    def start(self):
        common = [self.conf, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                  "--daemonize", "no", "--logfile", "", "--pidfile",
                  os.path.join(self.dir, "server.pid")]
        if TARGET == "redis":
            self.args = ["redis-server"] + common + ["--save", "", "--appendonly", "no"]
        else:
            self.args = [FDB_BIN] + common + ["--threads", "2"]
        self.args += self.extra
        super().start()


@pytest.fixture
def conf_server(tmp_path):
    started = []

    def make(text, *extra):
        conf = tmp_path / "server.conf"
        conf.write_text(text)
        s = ConfServer(str(conf), extra)
        started.append(s)
        return s, conf

    yield make
    for s in started:
        s.close()


# ---------------------------------------------------------------------------------------------
# Names and aliases


@fdb_only
@pytest.mark.skipif(REDIS_BIN is None, reason="needs Debian's redis-server for the list")
def test_every_redis_parameter_is_reported(r, tmp_path):
    """CONFIG GET * has every name redis-server 7.0.15 reports (aliases included)."""
    sock = str(tmp_path / "redis.sock")
    proc = subprocess.Popen([REDIS_BIN, "--port", "0", "--unixsocket", sock, "--save", "",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        ref = None
        for _ in range(200):
            try:
                ref = redis.Redis(unix_socket_path=sock, decode_responses=True).config_get("*")
                break
            except (redis.ConnectionError, FileNotFoundError):
                import time
                time.sleep(0.02)
        assert ref is not None
    finally:
        proc.terminate()
        proc.wait()
    ours = r.config_get("*")
    missing = sorted(set(ref) - set(ours))
    assert missing == []
    # The defaults are Redis's, except where FDB's are its own (docs/compatibility.md).
    fdb_defaults = {"bind", "port", "dir", "io-threads", "client-output-buffer-limit",
                    "appendonly", "save", "daemonize", "logfile", "pidfile", "unixsocket",
                    "maxmemory-policy", "maxmemory", "maxclients", "maxmemory-clients",
                    "requirepass", "loglevel", "syslog-ident"}
    differ = sorted(k for k in ref if k not in fdb_defaults and ref[k] != ours[k])
    assert differ == []


def test_aliases_share_one_value(r):
    try:
        assert r.config_set("hash-max-ziplist-entries", "100")
        assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "100"}
        assert r.config_set("lua-time-limit", "250")
        assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "250"}
        assert r.config_set("slave-read-only", "no")
        assert r.config_get("replica-read-only") == {"replica-read-only": "no"}
        got = r.config_get("zset-max-*")
        assert got["zset-max-ziplist-entries"] == got["zset-max-listpack-entries"] == "128"
    finally:
        r.config_set("hash-max-listpack-entries", "512")
        r.config_set("busy-reply-threshold", "5000")
        r.config_set("replica-read-only", "yes")


def test_config_get_exact_name_as_given(raw):
    assert call(raw, "CONFIG", "GET", "HZ") == b"*2\r\n$2\r\nHZ\r\n$2\r\n10\r\n"
    # Hidden parameters answer only to their exact name.
    assert call(raw, "CONFIG", "GET", "watchdog-period") == \
        b"*2\r\n$15\r\nwatchdog-period\r\n$1\r\n0\r\n"
    assert call(raw, "CONFIG", "GET", "watchdog*") == b"*0\r\n"


# ---------------------------------------------------------------------------------------------
# Validation, with Redis's texts


BAD_VALUES = [
    ("activerehashing", "maybe", "argument must be 'yes' or 'no'"),
    ("repl-diskless-load", "x",
     "argument(s) must be one of the following: disabled, on-empty-db, swapdb"),
    ("hash-max-ziplist-entries", "-1",
     "argument must be between 0 and 9223372036854775807 inclusive"),
    ("active-expire-effort", "11", "argument must be between 1 and 10 inclusive"),
    ("zset-max-ziplist-value", "1tb", "argument must be a memory value"),
    ("slowlog-log-slower-than", "abc", "argument couldn't be parsed into an integer"),
    ("notify-keyspace-events", "KEQ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
    ("save", "100", "Invalid save parameters"),
    ("oom-score-adj-values", "0 200 5000",
     "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
    ("latency-tracking-info-percentiles", "50 101",
     "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
    ("proc-title-template", "{nope}",
     "template format is invalid or contains unknown variables"),
    ("cluster-announce-hostname", "a_b",
     "Hostnames may only contain alphanumeric characters, hyphens or dots"),
    ("tls-auth-clients", "x", "argument(s) must be one of the following: no, yes, optional"),
    ("daemonize", "yes", "can't set immutable config"),
    ("replicaof", "no one", "can't set immutable config"),
    ("slaveof", "no one", "can't set immutable config"),
    ("databases", "4", "can't set immutable config"),
    ("tcp-backlog", "4", "can't set immutable config"),
    ("dbfilename", "x.rdb", "can't set protected config"),
]


@pytest.mark.parametrize("name,value,why", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_refused_with_redis_text(raw, r, name, value, why):
    before = r.config_get(name)
    assert call(raw, "CONFIG", "SET", name, value) == set_error(name, why)
    assert r.config_get(name) == before


def test_error_names_the_parameter_in_lower_case(raw):
    assert call(raw, "CONFIG", "SET", "HZ", "abc") == set_error(
        "hz", "argument couldn't be parsed into an integer")


def test_first_problem_in_argument_order_is_reported(raw, r):
    """An immutable parameter after a bad value: Redis checks every name before any value."""
    before = r.config_get("maxmemory")
    assert call(raw, "CONFIG", "SET", "maxmemory", "abc", "daemonize", "no") == set_error(
        "daemonize", "can't set immutable config")
    assert r.config_get("maxmemory") == before


def test_canonical_forms(r):
    try:
        assert r.config_set("notify-keyspace-events", "KEA")
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        assert r.config_set("notify-keyspace-events", "Kgxn$m")
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "g$xnKm"}
        assert r.config_set("oom-score-adj", "relative")
        assert r.config_get("oom-score-adj") == {"oom-score-adj": "yes"}
        assert r.config_set("latency-tracking-info-percentiles", "50 99.90 12.5")
        assert r.config_get("latency-tracking-info-percentiles") == {
            "latency-tracking-info-percentiles": "50 99.9 12.5"}
        assert r.config_set("list-max-ziplist-size", "5")
        assert r.config_get("list-max-*") == {"list-max-listpack-size": "5",
                                              "list-max-ziplist-size": "5"}
    finally:
        r.config_set("notify-keyspace-events", "")
        r.config_set("oom-score-adj", "no")
        r.config_set("latency-tracking-info-percentiles", "50 99 99.9")
        r.config_set("list-max-listpack-size", "-2")


def test_command_line_takes_aliases(server_factory):
    s = server_factory("--hash-max-ziplist-entries", "7", "--lua-time-limit", "100",
                       "--notify-keyspace-events", "Ex")
    c = s.client()
    assert c.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "7"}
    assert c.config_get("busy-reply-threshold") == {"busy-reply-threshold": "100"}
    assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": "xE"}


# ---------------------------------------------------------------------------------------------
# Config file and CONFIG REWRITE


def test_config_file_save_lines_accumulate(conf_server):
    s, _ = conf_server("save 3600 1\nsave 300 100\nslave-read-only no\n")
    c = s.client()
    assert c.config_get("replica-read-only") == {"replica-read-only": "no"}
    # The command line's --save "" (added by ConfServer for Redis) clears; FDB's has no --save.
    s2, _ = conf_server("save 3600 1\nsave 300 100\n", "--save", "60", "5")
    expected = "60 5" if TARGET == "redis" else "3600 1 300 100 60 5"
    assert s2.client().config_get("save") == {"save": expected}


def test_config_rewrite_keeps_comments_and_order(conf_server):
    text = ("# top comment\n"
            "# encodings\n"
            "hash-max-ziplist-entries 100\n"
            "slave-read-only yes\n"
            "maxmemory 1000\n"
            "# the end\n")
    s, conf = conf_server(text)
    c = s.client()
    assert c.config_set("hash-max-listpack-entries", "200")
    assert c.config_set("maxmemory", "2mb")
    assert c.config_set("replica-read-only", "no")
    assert c.config_set("slowlog-max-len", "5")
    assert c.config_set("notify-keyspace-events", "KEx")
    assert c.config_rewrite()
    lines = conf.read_text().splitlines()
    assert lines[:6] == ["# top comment", "# encodings", "hash-max-listpack-entries 200",
                         "replica-read-only no", "maxmemory 2mb", "# the end"]
    appended = lines[lines.index("# Generated by CONFIG REWRITE") + 1:]
    assert "slowlog-max-len 5" in appended
    assert 'notify-keyspace-events "xKE"' in appended
    assert any(line.startswith("dir ") for line in appended)
    # A second rewrite changes nothing and adds no second signature.
    before = conf.read_text()
    assert c.config_rewrite()
    assert conf.read_text().rstrip("\n") == before.rstrip("\n")  # Redis adds a blank line
    assert before.count("# Generated by CONFIG REWRITE") == 1


def test_config_rewrite_without_config_file(raw):
    assert call(raw, "CONFIG", "REWRITE") == b"-ERR The server is running without a config file\r\n"


# ---------------------------------------------------------------------------------------------
# Debian's redis.conf, unmodified


@pytest.mark.skipif(not os.path.exists(DEBIAN_CONF), reason="needs Debian's redis-server")
def test_debian_redis_conf_starts(tmp_path):
    conf = tmp_path / "redis.conf"
    shutil.copy(DEBIAN_CONF, conf)
    s = ConfServer(str(conf))
    try:
        c = s.client()
        assert c.ping()
        got = c.config_get("*")
        assert got["port"] == str(s.port)
        assert got["hash-max-listpack-entries"] == "512"
        assert got["daemonize"] == "no"
        if TARGET != "redis":
            with open(os.path.join(s.dir, "server.log")) as f:
                log = f.read()
            assert "without effect in FDB" in log, log
            assert "repl-diskless-sync" in log, log
    finally:
        s.close()


@fdb_only
def test_directives_fdb_cannot_honour_stop_the_start(tmp_path):
    for line, why in [("rename-command FLUSHALL \"\"", "not supported by FDB")]:
        conf = tmp_path / "bad.conf"
        conf.write_text(line + "\n")
        p = subprocess.run([FDB_BIN, str(conf), "--port", "0", "--dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode != 0
        assert why in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# INFO


def test_info_has_cluster_section(raw):
    raw.cmd("INFO")
    text = raw.read_reply().decode()
    assert "# Cluster\r\ncluster_enabled:0\r\n" in text
    raw.cmd("INFO", "cluster")
    text = raw.read_reply().decode()
    assert "# Cluster\r\ncluster_enabled:0\r\n" in text
    assert "# Server" not in text
