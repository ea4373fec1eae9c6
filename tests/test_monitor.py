"""MONITOR, as Redis 7.0: one status line per command run, in order, with secrets redacted,
script commands shown as `lua`, transactions as MULTI, their commands, EXEC.

Checked against redis-server 7.0.15 (FDB_TEST_TARGET=redis).
"""

import re

import pytest
import redis

from conftest import Raw

LINE = re.compile(rb'^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$')


def start_monitor(server):
    m = Raw(server.port)
    m.cmd("CLIENT", "ID")
    m.id = int(m.read_reply()[1:-2])
    m.cmd("MONITOR")
    assert m.read_reply() == b"+OK\r\n"
    return m


def next_line(m):
    line = m.read_line()
    match = LINE.match(line)
    assert match, line
    args = match.group(5).decode()
    # The command name as the client spelled it (redis-py sends upper case, Lua lower case):
    # compared in lower case.
    name, _, rest = args.partition(" ")
    return int(match.group(3)), match.group(4).decode(), (name.lower() + " " + rest).strip()


def test_monitor_shows_commands_of_every_client_in_order(server, r):
    m = start_monitor(server)
    r.set("foo", "bar")
    r.get("foo")
    other = Raw(server.port)
    other.cmd("SELECT", 3)
    other.cmd("RPUSH", "l", "a b", "c\nd")
    assert other.read_reply() == b"+OK\r\n"
    assert other.read_reply() == b":2\r\n"
    db, addr, args = next_line(m)
    assert (db, args) == (0, '"set" "foo" "bar"')
    assert re.match(r"127\.0\.0\.1:\d+$", addr)
    assert next_line(m)[2] == '"get" "foo"'
    assert next_line(m)[2] == '"select" "3"'
    # The database the command ran in; quoting and escapes as Redis's.
    assert next_line(m)[::2] == (3, '"rpush" "l" "a b" "c\\nd"')
    other.close()
    m.close()


def test_monitor_redacts_secrets_and_skips_admin_commands(server, r):
    m = start_monitor(server)
    c = Raw(server.port)
    c.cmd("AUTH", "not-real")
    assert c.read_reply().startswith(b"-ERR")
    c.cmd("AUTH", "user", "not-a-password")
    assert c.read_reply().startswith(b"-WRONGPASS")
    c.cmd("CONFIG", "GET", "maxmemory")  # an admin command: not shown
    c.read_reply()
    c.cmd("PING")
    assert c.read_reply() == b"+PONG\r\n"
    c.close()
    assert next_line(m)[2] == '"auth" "(redacted)"'
    assert next_line(m)[2] == '"auth" "(redacted)" "(redacted)"'
    assert next_line(m)[2] == '"ping"'
    m.close()


def test_monitor_shows_scripts_before_their_commands(server, r):
    m = start_monitor(server)
    r.eval("redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v")
    r.get("k")
    assert next_line(m)[2].startswith('"eval"')
    db, addr, args = next_line(m)
    assert (addr, args) == ("lua", '"set" "k" "v"')
    assert next_line(m)[2] == '"get" "k"'
    m.close()


def test_monitor_shows_transactions_in_order(server, r):
    m = start_monitor(server)
    p = r.pipeline(transaction=True)
    p.set("a", "1").get("a")
    p.execute()
    assert next_line(m)[2] == '"multi"'
    assert next_line(m)[2] == '"set" "a" "1"'
    assert next_line(m)[2] == '"get" "a"'
    assert next_line(m)[2] == '"exec"'
    # A command refused while queueing is not shown; EXEC is.
    c = Raw(server.port)
    c.cmd("MULTI")
    c.cmd("NOSUCHCOMMAND")
    c.cmd("EXEC")
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply().startswith(b"-ERR unknown command")
    assert c.read_reply().startswith(b"-EXECABORT")
    assert next_line(m)[2] == '"multi"'
    assert next_line(m)[2] == '"exec"'
    c.close()
    m.close()


def test_reset_ends_monitor_and_client_list_flag(server, r):
    m = start_monitor(server)
    flags = [c["flags"] for c in r.client_list() if c["id"] == str(m.id)]
    assert flags == ["O"]
    m.cmd("RESET")
    assert m.read_reply() == b"+RESET\r\n"
    r.set("after", "1")
    m.cmd("PING")
    # No line for the SET: the monitor mode ended with RESET.
    assert m.read_reply() == b"+PONG\r\n"
    m.close()


def test_monitor_inside_multi_is_refused(r):
    p = r.pipeline(transaction=True)
    p.execute_command("MONITOR")
    with pytest.raises(redis.ResponseError, match="MONITOR isn't allowed for DENY BLOCKING client"):
        p.execute()
