"""Logging: `logfile` and `loglevel` as in Redis (base/logging.h).

A line is `pid:role dd Mon yyyy hh:mm:ss.mmm L message`, L one of . - * # (debug, verbose,
notice, warning). Also run against Redis (FDB_TEST_TARGET=redis) to check the expectations.
"""

import os
import re
import shutil
import socket
import subprocess
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


# ---------------------------------------------------------------------------------------------
# syslog-enabled: the lines also go to the system logger (syslog(3) on /dev/log).


@fdb_only
def test_syslog_enabled_keeps_the_log_file_and_reports_its_settings(server_factory, tmp_path):
    # Whether or not this machine has a system logger (/dev/log), turning syslog on changes
    # nothing else: the server starts, and the log file gets every line as before.
    path = str(tmp_path / "server.log")
    s = server_factory("--logfile", path, "--syslog-enabled", "yes", "--syslog-ident", "fdbtest",
                       "--syslog-facility", "LOCAL3")
    c = s.client()
    assert c.config_get("syslog-*") == {"syslog-enabled": "yes", "syslog-ident": "fdbtest",
                                        "syslog-facility": "local3"}
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("syslog-enabled", "no")
    assert "can't set immutable config" in str(e.value)
    assert s.stop() == 0
    messages = [msg for _, msg in log_lines(path)]
    assert any("ready to accept connections" in m for m in messages), messages
    assert any("ready to exit" in m for m in messages), messages


def test_syslog_defaults(server):
    assert server.client().config_get("syslog-*") == {
        "syslog-enabled": "no",
        "syslog-ident": "redis" if TARGET == "redis" else "fdb",
        "syslog-facility": "local0"}


def can_unshare_mounts():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


@fdb_only
@pytest.mark.skipif(not can_unshare_mounts(), reason="needs root and unshare --mount")
def test_syslog_messages_reach_dev_log(tmp_path):
    """The server runs in a mount namespace whose /dev is a directory holding only our datagram
    socket `log`, so syslog(3) sends to it whatever the machine's own logger is (none here)."""
    from conftest import FDB_BIN, free_port
    dev = tmp_path / "dev"
    dev.mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(dev / "log"))
    sock.settimeout(30)
    port = free_port()
    cmd = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /dev && exec "$@"', str(dev),
           FDB_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path / "data"),
           "--logfile", str(tmp_path / "server.log"), "--loglevel", "verbose",
           "--syslog-enabled", "yes", "--syslog-ident", "fdbtest", "--syslog-facility", "local3"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        got = []
        while not any(b"ready to accept connections" in m for m in got):
            got.append(sock.recv(4096))
        c = redis.Redis(port=port)
        assert c.ping()
        c.config_set("loglevel", "warning")
        proc.terminate()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        sock.setblocking(False)
        try:
            while True:
                got.append(sock.recv(4096))
        except BlockingIOError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
    # RFC 3164 as glibc writes it: <facility*8 + severity>, the time, ident[pid]: message.
    line = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d fdbtest\[(\d+)\]: (.*)$")
    parsed = [line.match(m) for m in got]
    assert all(parsed), got
    assert {int(m.group(2)) for m in parsed} == {proc.pid}
    by_message = {m.group(3).decode(): int(m.group(1)) for m in parsed}
    local3 = 19 * 8
    ready = [p for msg, p in by_message.items() if msg.startswith("ready to accept connections")]
    assert ready == [local3 + 5], by_message  # notice: LOG_NOTICE
    # After CONFIG SET loglevel warning, only warnings: the shutdown (LOG_WARNING), no notice
    # such as "checkpoint written at shutdown".
    assert by_message.get("FDB is now ready to exit, bye bye...") == local3 + 4, by_message
    assert "checkpoint written at shutdown" not in by_message, by_message
    # The log file got the same lines, with its own date and level.
    messages = [msg for _, msg in log_lines(str(tmp_path / "server.log"))]
    assert "FDB is now ready to exit, bye bye..." in messages
