"""SLOWLOG and blocking commands: as Redis, a command that blocked is logged when it is served
(with its own arguments), not when it blocks; one that times out is not logged (src/commands/dispatcher.cc
RecordUnblocked)."""

import threading
import time

import pytest


def wait_blocked(c, n):
    deadline = time.time() + 10
    while c.info("clients")["blocked_clients"] < n and time.time() < deadline:
        time.sleep(0.01)
    assert c.info("clients")["blocked_clients"] == n


@pytest.fixture
def slow(server_factory):
    s = server_factory()
    c = s.client(protocol=2)
    c.config_set("slowlog-log-slower-than", 0)
    yield s, c
    c.close()


def commands(c):
    return [e["command"].decode() if isinstance(e["command"], bytes) else e["command"]
            for e in c.slowlog_get()]


def test_served_blocked_command_is_logged_when_served(slow):
    s, c = slow
    b = s.client(protocol=2)
    got = []
    t = threading.Thread(target=lambda: got.append(b.blpop(["l"], 0)))
    t.start()
    wait_blocked(c, 1)
    p = c.pipeline(transaction=True)
    p.lpush("l", "foo")
    p.slowlog_reset()
    p.execute()
    t.join(10)
    assert got == [("l", "foo")]
    assert commands(c)[0] == "BLPOP l 0"
    b.close()


def test_timed_out_blocked_command_is_not_logged(slow):
    s, c = slow
    b = s.client(protocol=2)
    c.slowlog_reset()
    assert b.brpop(["nothing"], 0.2) is None
    assert not any(cmd.startswith("BRPOP") for cmd in commands(c))
    b.close()


def test_blocked_command_is_not_logged_while_it_waits(slow):
    s, c = slow
    b = s.client(protocol=2)
    t = threading.Thread(target=lambda: b.blpop(["w"], 0))
    c.slowlog_reset()
    t.start()
    wait_blocked(c, 1)
    assert not any(cmd.startswith("BLPOP") for cmd in commands(c))
    c.lpush("w", "x")
    t.join(10)
    b.close()
