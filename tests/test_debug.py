"""DEBUG subcommands Redis's test suite relies on: RELOAD (a checkpoint; the data set stays as it
is) and QUICKLIST-PACKED-THRESHOLD (accepted with Redis's checks). Runs against Debian's
redis-server too (FDB_TEST_TARGET=redis), where RELOAD saves and loads an RDB file."""

import pytest
import redis


DEBUG = ("--enable-debug-command", "yes")


def snapshot(c):
    return (c.get("s"), c.lrange("l", 0, -1), c.hgetall("h"), sorted(c.smembers("set")),
            c.zrange("z", 0, -1, withscores=True), c.ttl("s") > 0, c.dbsize())


def test_debug_reload_keeps_the_data_set_and_checkpoints(server_factory):
    s = server_factory(*DEBUG)
    c = s.client()
    c.set("s", "v", ex=1000)
    c.rpush("l", *range(100))
    c.hset("h", mapping={"a": 1, "b": 2})
    c.sadd("set", *range(50))
    c.zadd("z", {"m": 1.5, "n": 2})
    before = snapshot(c)
    assert c.info("persistence")["rdb_changes_since_last_save"] > 0
    assert c.execute_command("DEBUG", "RELOAD") == "OK"
    assert snapshot(c) == before
    assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == "OK"
    assert snapshot(c) == before
    with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
        c.execute_command("DEBUG", "RELOAD", "NOPE")


def test_debug_quicklist_packed_threshold(server_factory):
    c = server_factory(*DEBUG).client()
    assert c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b") == "OK"
    assert c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0") == "OK"  # the default
    for bad in ("4gb", "5gb", "-1", "x"):
        with pytest.raises(redis.ResponseError, match="bigger than 1 and smaller than 4gb"):
            c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", bad)
    # Lists work as before, large elements included.
    c.rpush("l", "x" * 5000, "y")
    assert c.lrange("l", 0, -1) == ["x" * 5000, "y"]
