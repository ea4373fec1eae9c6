"""CLIENT PAUSE / CLIENT UNPAUSE, as Redis 7.0: held clients wait (they are not refused), WRITE
holds only what may write or replicate, expiry stops for the pause.

Checked against redis-server 7.0.15 (FDB_TEST_TARGET=redis).
"""

import time

import pytest
import redis

from conftest import Raw, wait_for


def blocked(c):
    return c.info("clients")["blocked_clients"]


@pytest.fixture
def paused(r):
    """The client `r`; whatever a test paused is unpaused after it."""
    yield r
    r.execute_command("CLIENT", "UNPAUSE")


def test_write_is_held_until_unpause_and_reads_run(paused, server):
    r = paused
    assert r.execute_command("CLIENT", "PAUSE", 100000, "WRITE") in (True, "OK")
    w = Raw(server.port)
    w.cmd("SET", "k", "v")
    wait_for(lambda: blocked(r) == 1, what="the SET to be held")
    # Reads and admin commands still run, for everyone.
    assert r.get("k") is None
    assert r.ping() is True
    rd = Raw(server.port)
    rd.cmd("GET", "k")
    assert rd.read_reply() == b"$-1\r\n"
    r.execute_command("CLIENT", "UNPAUSE")
    assert w.read_reply() == b"+OK\r\n"
    assert r.get("k") == "v"
    assert blocked(r) == 0
    w.close()
    rd.close()


def test_every_held_client_runs_once_with_its_pipeline(paused, server):
    r = paused
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    clients = [Raw(server.port) for _ in range(3)]
    for i, c in enumerate(clients):
        # A pipeline: the write is held, and the read behind it waits for it.
        c.cmd("RPUSH", "l", i)
        c.cmd("LLEN", "l")
        wait_for(lambda n=i + 1: blocked(r) == n, what="the RPUSH to be held")
    r.execute_command("CLIENT", "UNPAUSE")
    for c in clients:
        assert c.read_reply().startswith(b":")
        assert c.read_reply().startswith(b":")
        c.close()
    # Every held write ran once (FDB resumes clients of different I/O threads concurrently, so
    # their order across threads is not the order they were held in).
    assert sorted(r.lrange("l", 0, -1)) == ["0", "1", "2"]


def test_pause_all_holds_reads_until_it_ends(r, server):
    c = Raw(server.port)
    start = time.monotonic()
    r.execute_command("CLIENT", "PAUSE", 300, "ALL")
    c.cmd("PING")
    assert c.read_reply() == b"+PONG\r\n"
    # The server cannot answer before the pause it was asked for ends.
    assert time.monotonic() - start >= 0.29
    c.close()


def test_an_ended_pause_all_does_not_carry_into_the_next_pause(paused, server):
    r = paused
    r.execute_command("CLIENT", "PAUSE", 50, "ALL")
    time.sleep(0.1)
    r.ping()
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    # The earlier ALL is over: this pause holds writes only.
    c = Raw(server.port)
    c.cmd("GET", "k")
    assert c.read_reply() == b"$-1\r\n"
    c.close()


def test_syntax_errors_are_answered_at_once(paused):
    r = paused
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'set'"):
        r.execute_command("SET", "k")


def test_publish_and_writing_scripts_are_held_read_only_ones_run(paused, server):
    r = paused
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    p = Raw(server.port)
    p.cmd("PUBLISH", "ch", "msg")
    e = Raw(server.port)
    e.cmd("EVAL", "return 1", 0)
    s = Raw(server.port)
    s.cmd("EVAL", "#!lua\nreturn 2", 0)
    wait_for(lambda: blocked(r) == 3, what="PUBLISH and two EVALs to be held")
    # Scripts that declare no-writes, and EVAL_RO, run.
    assert r.eval("#!lua flags=no-writes\nreturn 'ro'", 0) == "ro"
    assert r.eval_ro("return 'ro2'", 0) == "ro2"
    r.execute_command("CLIENT", "UNPAUSE")
    assert p.read_reply() == b":0\r\n"
    assert e.read_reply() == b":1\r\n"
    assert s.read_reply() == b":2\r\n"
    for c in (p, e, s):
        c.close()


def test_read_only_script_may_not_publish(r):
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only"):
        r.eval_ro("return redis.call('publish', 'ch', 'm')", 0)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only"):
        r.eval("#!lua flags=no-writes\nreturn redis.call('publish', 'ch', 'm')", 0)
    assert r.eval("return redis.call('publish', 'ch', 'm')", 0) == 0


def test_exec_is_held_only_when_its_queue_writes(paused, server):
    r = paused
    r.set("k", "v")
    w = Raw(server.port)
    w.cmd("MULTI")
    assert w.read_reply() == b"+OK\r\n"
    w.cmd("SET", "k", "v2")
    assert w.read_reply() == b"+QUEUED\r\n"
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    # A read-only transaction runs.
    ro = r.pipeline(transaction=True)
    ro.get("k").ping()
    assert ro.execute() == ["v", True]
    w.cmd("EXEC")
    wait_for(lambda: blocked(r) == 1, what="EXEC to be held")
    assert r.get("k") == "v"
    r.execute_command("CLIENT", "UNPAUSE")
    assert w.read_reply() == b"*1\r\n+OK\r\n"
    assert r.get("k") == "v2"
    w.close()


def test_pause_inside_exec_starts_after_the_transaction(paused, server):
    r = paused
    p = r.pipeline(transaction=True)
    p.set("a", "1").execute_command("CLIENT", "PAUSE", 100000, "WRITE").set("b", "2")
    p.execute()
    assert r.mget("a", "b") == ["1", "2"]
    w = Raw(server.port)
    w.cmd("SET", "c", "3")
    wait_for(lambda: blocked(r) == 1, what="the SET after EXEC to be held")
    assert r.get("c") is None
    r.execute_command("CLIENT", "UNPAUSE")
    assert w.read_reply() == b"+OK\r\n"
    w.close()


def test_keys_do_not_expire_while_paused(paused):
    r = paused
    r.set("t", "v", px=50)
    before = r.info("stats")["expired_keys"]
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    # Past its deadline the key reads as missing, but it is not deleted (nor counted).
    wait_for(lambda: r.get("t") is None, what="the key to read as expired")
    assert r.info("stats")["expired_keys"] == before
    r.execute_command("CLIENT", "UNPAUSE")
    assert r.get("t") is None
    assert r.info("stats")["expired_keys"] == before + 1


def test_errors(r):
    with pytest.raises(redis.ResponseError, match="^timeout is not an integer or out of range"):
        r.execute_command("CLIENT", "PAUSE", "abc")
    with pytest.raises(redis.ResponseError, match="^timeout is negative"):
        r.execute_command("CLIENT", "PAUSE", -1)
    with pytest.raises(redis.ResponseError, match="^CLIENT PAUSE mode must be WRITE or ALL"):
        r.execute_command("CLIENT", "PAUSE", 10, "READ")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("CLIENT", "UNPAUSE", "x")
    assert r.execute_command("CLIENT", "UNPAUSE") in (True, "OK")
