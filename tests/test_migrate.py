"""MIGRATE (src/commands/dump_family.cc): keys move (or are copied) to another server as
RESTORE commands over a connection of their own, with Redis's options, replies and errors.
The target is a second server of the kind under test, or a password-protected one."""

import pytest
import redis

from conftest import free_port


@pytest.fixture
def target(server_factory):
    t = server_factory()
    c = t.client(protocol=2)
    yield t, c
    c.close()


@pytest.fixture
def locked_target(server_factory):
    t = server_factory("--requirepass", "s3cret")
    c = t.client(protocol=2, password="s3cret")
    yield t, c
    c.close()


def test_moves_keys_with_their_ttl_into_the_destination_db(r, target):
    t, tc = target
    r.set("s", "value")
    r.rpush("l", "a", "b", "c")
    r.pexpire("l", 100000)
    r.zadd("z", {"m": 1.5})
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "s", 2, 5000) in ("OK", b"OK")
    assert r.exists("s") == 0
    tc.select(2)
    assert tc.get("s") == "value"
    assert tc.ttl("s") == -1
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "", 2, 5000, "KEYS", "l", "z",
                             "nosuch") in ("OK", b"OK")
    assert r.exists("l", "z") == 0
    assert tc.lrange("l", 0, -1) == ["a", "b", "c"]
    assert 90000 < tc.pttl("l") <= 100000
    assert tc.zscore("z", "m") == 1.5
    tc.select(0)
    assert tc.dbsize() == 0


def test_copy_replace_and_busykey(r, target):
    t, tc = target
    r.set("k", "mine")
    tc.set("k", "theirs")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "k", 0, 5000, "COPY")
    assert str(e.value) == ("Target instance replied with error: "
                            "BUSYKEY Target key name already exists.")
    assert r.get("k") == "mine"
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "k", 0, 5000, "COPY",
                             "REPLACE") in ("OK", b"OK")
    assert r.get("k") == "mine"
    assert tc.get("k") == "mine"


def test_nokey_and_argument_errors(r, target):
    t, _ = target
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "missing", 0, 5000) in (
        "NOKEY", b"NOKEY")
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "", 0, 5000, "KEYS", "a",
                             "b") in ("NOKEY", b"NOKEY")
    r.set("a", 1)
    with pytest.raises(redis.ResponseError, match="^When using MIGRATE KEYS option, the key "
                       "argument must be set to the empty string$"):
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0, 5000, "KEYS", "a")
    for extra in (["BOGUS"], ["AUTH"], ["AUTH2", "user"]):
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0, 5000, *extra)
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", "x", 5000)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0)
    assert r.get("a") == "1"


def test_unreachable_target_is_an_ioerr_and_keeps_the_key(r):
    r.set("a", 1)
    # As Redis's: the refused connection shows when the commands are written.
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MIGRATE", "127.0.0.1", free_port(), "a", 0, 1000)
    assert str(e.value) == "IOERR error or timeout writing to target instance"
    assert r.get("a") == "1"


def test_auth_and_auth2(r, locked_target):
    t, tc = locked_target
    r.set("a", "1")
    with pytest.raises(redis.ResponseError, match="^Target instance replied with error: NOAUTH"):
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0, 5000)
    assert r.get("a") == "1"
    with pytest.raises(redis.ResponseError, match="^Target instance replied with error: "):
        r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0, 5000, "AUTH", "wrong")
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "a", 0, 5000, "AUTH",
                             "s3cret") in ("OK", b"OK")
    r.set("b", "2")
    assert r.execute_command("MIGRATE", "127.0.0.1", t.port, "", 0, 5000, "AUTH2", "default",
                             "s3cret", "KEYS", "b") in ("OK", b"OK")
    assert tc.mget("a", "b") == ["1", "2"]
    assert r.exists("a", "b") == 0


def raw(c, *args):
    """The reply as sent, without redis-py's reshaping of COMMAND's replies."""
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        c.connection_pool.release(conn)


def test_key_specs_and_info(r2):
    info = raw(r2, "COMMAND", "INFO", "MIGRATE")[0]
    assert info[1] == -6
    assert "movablekeys" in info[2] and "write" in info[2]
    keys = raw(r2, "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "AUTH2",
               "u", "p", "KEYS", "k1", "k2")
    assert keys == ["k1", "k2"]
    assert raw(r2, "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10") == ["k"]
    assert isinstance(r2.info("stats")["migrate_cached_sockets"], int)


def test_slowlog_redacts_the_passwords(r2, target):
    t, _ = target
    r2.config_set("slowlog-log-slower-than", 0)
    try:
        r2.slowlog_reset()
        r2.execute_command("MIGRATE", "127.0.0.1", t.port, "k", 0, 5000, "AUTH2", "u", "pw")
        entries = r2.slowlog_get()
    finally:
        r2.config_set("slowlog-log-slower-than", 10000)
    cmds = [e["command"] for e in entries]
    cmds = [c.decode() if isinstance(c, bytes) else c for c in cmds]
    assert any(c.startswith("MIGRATE ") and c.endswith(" AUTH2 (redacted) (redacted)")
               for c in cmds), cmds
