"""What a client with a socket can do to the server: DEBUG behind enable-debug-command, protected
configs behind enable-protected-configs, SHUTDOWN that stops writes on every thread at once, and
password guessing on one connection bounded.

The DEBUG and CONFIG texts are Redis 7.0.15's and the tests marked so run against it too
(FDB_TEST_TARGET=redis); the SHUTDOWN and AUTH-limit tests are about FDB's own threads and limit.
"""

import os
import socket
import time

import pytest

from conftest import SANITIZED, Raw, Server

TARGET = os.environ.get("FDB_TEST_TARGET", "fdb")
fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB behaviour beyond Redis")

DEBUG_NOT_ALLOWED = (
    b'-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you '
    b"can run it from a local connection, otherwise you need to set this option in the "
    b"configuration file, and then restart the server.\r\n")
# src/base/limits.h kAuthFailuresMax
AUTH_FAILURES_MAX = 10
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


def call(c, *args):
    c.cmd(*args)
    return c.read_reply()


class RawFrom(Raw):
    """A raw connection whose source address is chosen: 127.0.0.2 is a loopback address but
    not one Redis's islocalClient() counts as local (it takes exactly 127.0.0.1 and ::1)."""

    def __init__(self, port, source):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""


# Protected mode (Redis's and FDB's) refuses a client from 127.0.0.2 when no password is set
# (tests/test_protected_mode.py): these tests turn it off to see what comes after it.
FAR_OK = ("--protected-mode", "no")


def config_set_error(name, reason):
    return (b"-ERR CONFIG SET failed (possibly related to argument '%s') - %s\r\n" %
            (name.encode(), reason.encode()))


# ---------------------------------------------------------------------------------------------
# DEBUG and enable-debug-command


def test_debug_refused_by_default(server):
    c = Raw(server.port)
    try:
        assert call(c, "DEBUG", "SLEEP", "0") == DEBUG_NOT_ALLOWED
        assert call(c, "debug", "help") == DEBUG_NOT_ALLOWED
        # Arity is checked first, as Redis.
        assert call(c, "DEBUG") == b"-ERR wrong number of arguments for 'debug' command\r\n"
        # Refused while queueing: the transaction is aborted.
        assert call(c, "MULTI") == b"+OK\r\n"
        assert call(c, "DEBUG", "SLEEP", "0") == DEBUG_NOT_ALLOWED
        assert call(c, "EXEC").startswith(b"-EXECABORT")
        assert call(c, "CONFIG", "GET", "enable-debug-command") == (
            b"*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n")
    finally:
        c.close()


def test_debug_local_allows_only_loopback_clients(server_factory):
    srv = server_factory("--enable-debug-command", "local", *FAR_OK)
    c = Raw(srv.port)
    far = RawFrom(srv.port, "127.0.0.2")
    try:
        assert call(c, "DEBUG", "SLEEP", "0") == b"+OK\r\n"
        assert call(far, "DEBUG", "SLEEP", "0") == DEBUG_NOT_ALLOWED
        assert call(c, "CONFIG", "GET", "enable-debug-command") == (
            b"*2\r\n$20\r\nenable-debug-command\r\n$5\r\nlocal\r\n")
    finally:
        c.close()
        far.close()


def test_debug_yes_allows_every_client(server_factory):
    srv = server_factory("--enable-debug-command", "yes", *FAR_OK)
    far = RawFrom(srv.port, "127.0.0.2")
    try:
        assert call(far, "DEBUG", "SLEEP", "0") == b"+OK\r\n"
    finally:
        far.close()


@pytest.mark.parametrize("name", ["enable-debug-command", "enable-protected-configs",
                                  "enable-module-command"])
def test_enable_options_are_immutable(server, name):
    c = Raw(server.port)
    try:
        assert call(c, "CONFIG", "SET", name, "yes") == config_set_error(
            name, "can't set immutable config")
        assert call(c, "CONFIG", "GET", name) == b"*2\r\n$%d\r\n%s\r\n$2\r\nno\r\n" % (
            len(name), name.encode())
    finally:
        c.close()


def test_enable_options_bad_value_refused_at_start(tmp_path):
    with pytest.raises(RuntimeError):
        Server(["--enable-debug-command", "maybe"], data_dir=str(tmp_path))


def test_config_set_dir_is_protected(server):
    c = Raw(server.port)
    try:
        assert call(c, "CONFIG", "SET", "dir", "/tmp") == config_set_error(
            "dir", "can't set protected config")
    finally:
        c.close()


@fdb_only
def test_config_set_dir_allowed_by_protected_configs_is_still_immutable(server_factory):
    # FDB cannot move its open log and LOCK to another directory while it runs.
    srv = server_factory("--enable-protected-configs", "local", *FAR_OK)
    c = Raw(srv.port)
    far = RawFrom(srv.port, "127.0.0.2")
    try:
        assert call(c, "CONFIG", "SET", "dir", "/tmp") == config_set_error(
            "dir", "can't set immutable config")
        assert call(far, "CONFIG", "SET", "dir", "/tmp") == config_set_error(
            "dir", "can't set protected config")
    finally:
        c.close()
        far.close()


# ---------------------------------------------------------------------------------------------
# SHUTDOWN while another thread sleeps in DEBUG SLEEP


@fdb_only
@pytest.mark.parametrize("appendonly", ["yes", "no"])
def test_shutdown_during_debug_sleep_refuses_writes_and_exits(server_factory, appendonly):
    """A SHUTDOWN stops writes on every thread at once, and the process exits without waiting
    for a DEBUG SLEEP in progress on another thread (it is cut short). Before the fix the
    threads were stopped one by one, each joined in turn, so the ones after the sleeping thread
    went on serving writes until the sleep ended (acknowledged at once with appendonly no)."""
    srv = server_factory("--enable-debug-command", "yes", "--appendonly", appendonly, threads=4)
    sleep_s = 600
    writers = [Raw(srv.port) for _ in range(12)]  # spread over the four I/O threads
    for i, w in enumerate(writers):
        assert call(w, "SET", f"before:{i}", "v") == b"+OK\r\n"
    sleeper = Raw(srv.port)
    sleeper.cmd("DEBUG", "SLEEP", str(sleep_s))
    time.sleep(0.3)  # the sleep has begun
    closer = Raw(srv.port)
    closer.cmd("SHUTDOWN", "NOSAVE")
    # SHUTDOWN sends no reply: the connection closing tells that it ran.
    assert closer.closed(timeout=30)
    acked = []
    for i, w in enumerate(writers):
        w.sock.settimeout(60 if SANITIZED else 30)
        try:
            reply = call(w, "SET", f"after:{i}", "v")
        except (ConnectionError, OSError):
            continue  # closed as the server went down: refused too
        if reply == b"+OK\r\n":
            acked.append(i)
        else:
            assert reply.startswith(b"-"), reply
    assert acked == [], f"writes acknowledged after SHUTDOWN on connections {acked}"
    # The process exits as soon as the running commands finish: the 600 s sleep is cut short.
    srv.proc.wait(timeout=60 if SANITIZED else 20)
    for c in writers + [sleeper, closer]:
        c.close()
    if appendonly == "no":
        return
    # Nothing written after the SHUTDOWN is there on the next start; what came before is.
    srv.start()
    r = srv.client()
    try:
        assert r.keys("after:*") == []
        assert len(r.keys("before:*")) == len(writers)
    finally:
        r.close()


@fdb_only
def test_write_pipelined_behind_shutdown_does_not_run(server_factory):
    """Pipelined behind SHUTDOWN on the same connection nothing runs: the connection closes."""
    srv = server_factory()
    c = Raw(srv.port)
    c.send(b"SHUTDOWN NOSAVE\r\nSET k v\r\n")
    assert c.closed(timeout=30)
    assert c.buf == b""
    srv.proc.wait(timeout=60 if SANITIZED else 20)
    c.close()
    srv.start()
    r = srv.client()
    try:
        assert r.get("k") is None
    finally:
        r.close()


# ---------------------------------------------------------------------------------------------
# AUTH guessing


@pytest.fixture
def auth_server(server_factory):
    srv = server_factory()
    admin = srv.client()
    assert admin.config_set("requirepass", "secret") is True
    admin.close()
    return srv


def read_until_closed(c, limit):
    """Replies read until the server closes the connection (or `limit` replies)."""
    replies = []
    c.sock.settimeout(30)
    while len(replies) < limit:
        try:
            replies.append(c.read_reply())
        except (ConnectionError, OSError):
            break
    return replies


@fdb_only
@pytest.mark.parametrize("form", ["auth", "auth-user", "hello"])
def test_pipelined_wrong_passwords_close_the_connection(auth_server, form):
    c = Raw(auth_server.port)
    burst = 1000
    out = b""
    for i in range(burst):
        args = {"auth": ("AUTH", f"guess{i}"), "auth-user": ("AUTH", "default", f"guess{i}"),
                "hello": ("HELLO", "2", "AUTH", "default", f"guess{i}")}[form]
        out += b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
    c.send(out)
    replies = read_until_closed(c, burst)
    c.close()
    assert 1 <= len(replies) <= AUTH_FAILURES_MAX
    assert all(r == WRONGPASS for r in replies)
    # A fresh connection may try again, and the right password works there.
    d = Raw(auth_server.port)
    try:
        assert call(d, "AUTH", "guess") == WRONGPASS
        assert call(d, "AUTH", "secret") == b"+OK\r\n"
        assert call(d, "PING") == b"+PONG\r\n"
    finally:
        d.close()


@fdb_only
def test_right_password_after_a_few_failures_resets_the_count(auth_server):
    c = Raw(auth_server.port)
    try:
        for i in range(3):
            assert call(c, "AUTH", f"typo{i}") == WRONGPASS
        assert call(c, "AUTH", "secret") == b"+OK\r\n"
        # The count starts again after a success: as many failures as the limit allows, less
        # one, leave the connection open.
        for i in range(AUTH_FAILURES_MAX - 1):
            assert call(c, "AUTH", f"typo{i}") == WRONGPASS
        assert call(c, "HELLO", "2", "AUTH", "default", "secret").startswith(b"*14\r\n")
        assert call(c, "PING") == b"+PONG\r\n"
    finally:
        c.close()


@fdb_only
def test_auth_and_hello_failures_count_together(auth_server):
    c = Raw(auth_server.port)
    half = AUTH_FAILURES_MAX // 2
    out = b""
    for i in range(half):
        out += b"AUTH g%d\r\n" % i
    for i in range(AUTH_FAILURES_MAX):
        out += b"HELLO 2 AUTH default g%d\r\n" % i
    out += b"PING\r\n"
    c.send(out)
    replies = read_until_closed(c, 100)
    c.close()
    assert len(replies) == AUTH_FAILURES_MAX
    assert all(r == WRONGPASS for r in replies)


def test_auth_password_prefix_and_extension_refused(auth_server):
    c = Raw(auth_server.port)
    try:
        for guess in ("secre", "secrets", "", "SECRET", "secret\x00"):
            assert call(c, "AUTH", guess) == WRONGPASS
        assert call(c, "AUTH", "secret") == b"+OK\r\n"
    finally:
        c.close()
