"""Logging: `logfile` and `loglevel` as in Redis (base/logging.h).

A line is `pid:role dd Mon yyyy hh:mm:ss.mmm L message`, L one of . - * # (debug, verbose,
notice, warning). Also run against Redis (FDB_TEST_TARGET=redis) to check the expectations.
"""

import os
import re
import time

import pytest
import redis

from conftest import TARGET

fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's own log lines and flags")

LINE = re.compile(r"^\d+:[MCSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} ([.\-*#]) (.*)$")


def log_lines(path):
    """(level char, message) of every line in Redis's format; other lines are left out (Redis
    writes a few from its signal handler without the date)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [m.groups() for m in map(LINE.match, f.read().splitlines()) if m]


def wait_for_line(path, needle, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(needle in msg.lower() for _, msg in log_lines(path)):
            return True
        time.sleep(0.02)
    return False


def test_logfile_receives_the_startup_lines(server_factory, tmp_path):
    path = str(tmp_path / "server.log")
    s = server_factory("--logfile", path)
    assert wait_for_line(path, "ready to accept connections"), open(path).read()
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    # Every line of the file is in Redis's format, and notices are written at the default level.
    lines = text.splitlines()
    assert lines and all(LINE.match(line) for line in lines), text
    assert "*" in {level for level, _ in log_lines(path)}
    assert s.client().config_get("logfile") == {"logfile": path}
    # Nothing went to stdout/stderr instead.
    assert "ready to accept connections" not in s.read_log().lower()


def test_loglevel_warning_suppresses_notices(server_factory, tmp_path):
    path = str(tmp_path / "server.log")
    s = server_factory("--loglevel", "warning", "--logfile", path)
    c = s.client()
    assert c.config_get("loglevel") == {"loglevel": "warning"}
    c.set("k", "v")
    assert s.stop() == 0
    lines = log_lines(path)
    # The shutdown is logged at warning level (Redis: "User requested shutdown..."); no notice
    # (the startup's "ready to accept connections") is.
    assert any(level == "#" for level, _ in lines), lines
    assert all(level == "#" for level, _ in lines), lines


def test_config_set_loglevel(server_factory, tmp_path):
    s = server_factory("--logfile", str(tmp_path / "server.log"))
    c = s.client()
    assert c.config_get("loglevel") == {"loglevel": "notice"}
    for level in ("debug", "verbose", "warning", "notice"):
        assert c.config_set("loglevel", level.upper())
        assert c.config_get("loglevel") == {"loglevel": level}
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("loglevel", "loud")
    # Redis 7.2 and FDB also accept `nothing`, and name it at the end of the list.
    assert ("CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be "
            "one of the following: debug, verbose, notice, warning") in str(e.value)
    assert c.config_get("loglevel") == {"loglevel": "notice"}
    # logfile is set at startup only, as in Redis.
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("logfile", str(tmp_path / "other.log"))
    assert "can't set immutable config" in str(e.value)


@fdb_only
def test_config_set_loglevel_takes_effect_at_once(server_factory, tmp_path):
    # A clean stop logs its checkpoint at notice level and the shutdown at warning level.
    quiet, loud = str(tmp_path / "quiet.log"), str(tmp_path / "loud.log")
    s = server_factory("--logfile", quiet)
    assert s.client().config_set("loglevel", "warning")
    assert s.stop() == 0
    s2 = server_factory("--logfile", loud, "--loglevel", "warning")
    assert s2.client().config_set("loglevel", "notice")
    assert s2.stop() == 0
    quiet_levels = [level for level, _ in after_ready(log_lines(quiet))]
    assert quiet_levels and set(quiet_levels) == {"#"}, log_lines(quiet)
    assert sorted({level for level, _ in log_lines(loud)}) == ["#", "*"]


def after_ready(lines):
    """The lines after the startup's last one."""
    ready = [i for i, (_, msg) in enumerate(lines) if "ready to accept connections" in msg]
    assert ready, lines
    return lines[ready[-1] + 1:]


@fdb_only
def test_config_file_sets_loglevel_and_logfile(server_factory, tmp_path):
    path = str(tmp_path / "server.log")
    conf = tmp_path / "fdb.conf"
    conf.write_text(f"loglevel warning\nlogfile {path}\n")
    s = server_factory("--config", str(conf))
    c = s.client()
    assert c.config_get("log*") == {"loglevel": "warning", "logfile": path}
    assert s.stop() == 0
    lines = log_lines(path)
    assert lines and all(level == "#" for level, _ in lines), lines


@fdb_only
def test_unwritable_logfile_stops_the_start(tmp_path):
    import subprocess
    from conftest import FDB_BIN, free_port
    p = subprocess.run([FDB_BIN, "--port", str(free_port()), "--bind", "127.0.0.1",
                        "--dir", str(tmp_path / "data"), "--logfile",
                        str(tmp_path / "missing" / "server.log")],
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"Can't open the log file" in p.stderr
