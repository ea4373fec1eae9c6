"""FDBSyncClient against the real server."""

import datetime
import time

import pytest

from fdb_client import FDBPipeline, FDBSyncClient

VALUES = [
    "hello", "", "42", "true", "null", '"q"', "héllo ✓",
    0, 42, -7, 2**62,
    3.14, 1.0, 999.99, -0.001,
    True, False, None,
    [], [1, "two", 3.0, None, False, [4]],
    {}, {"name": "Alice", "age": 30, "tags": ["a"], "addr": {"zip": "01234"}},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_round_trip_every_type(sync_db, value):
    assert sync_db.set("k", value) is True
    back = sync_db.get("k")
    assert back == value and type(back) is type(value)


def test_raw_view_is_readable(sync_db, raw):
    sync_db.set("s", "plain words")
    sync_db.set("n", 42)
    sync_db.set("f", 999.99)
    sync_db.set("b", True)
    sync_db.set("z", None)
    sync_db.set("d", {"name": "Laptop", "price": 999.99})
    sync_db.set("l", [1, "a"])
    sync_db.set("q", "42")
    assert raw.mget("s", "n", "f", "b", "z", "d", "l", "q") == [
        b"plain words", b"42", b"999.99", b"true", b"null",
        b'{"name":"Laptop","price":999.99}', b'[1,"a"]', b'"42"',
    ]


def test_values_written_by_redis_py_read_back(sync_db, raw):
    raw.set("text", "written by redis-cli")
    raw.set("num", "17")
    raw.set("bin", b"\xff\xfe\x00")
    raw.set("marked", b"\xff\x00" + b"42")  # FDB's marker for bytes that read as text
    assert sync_db.get("text") == "written by redis-cli"
    assert sync_db.get("num") == 17
    assert sync_db.get("bin") == b"\xff\xfe\x00"
    assert sync_db.get("marked") == b"42"


def test_incr_on_a_number_set_via_set(sync_db, raw):
    sync_db.set("counter", 42)
    assert sync_db.incr("counter") == 43
    assert sync_db.incrby("counter", 10) == 53
    assert sync_db.incr("counter", 2) == 55
    assert sync_db.decr("counter") == 54
    assert sync_db.decr("counter", 4) == 50
    assert sync_db.get("counter") == 50 and type(sync_db.get("counter")) is int
    assert raw.get("counter") == b"50"
    assert sync_db.incr("fresh") == 1


def test_get_default(sync_db):
    assert sync_db.get("missing") is None
    assert sync_db.get("missing", 0) == 0
    assert sync_db.get("missing", default={"x": 1}) == {"x": 1}
    sync_db.set("nothing", None)
    assert sync_db.get("nothing", "default") is None  # a stored null is a value


def test_set_options(sync_db):
    assert sync_db.set("a", 1, nx=True) is True
    assert sync_db.set("a", 2, nx=True) is False
    assert sync_db.get("a") == 1
    assert sync_db.set("b", 1, xx=True) is False
    assert sync_db.set("a", 3, xx=True) is True
    assert sync_db.set("e", "x", ex=100) is True
    assert 99 <= sync_db.ttl("e") <= 100
    assert sync_db.set("p", "x", px=datetime.timedelta(seconds=50)) is True
    assert 49 <= sync_db.ttl("p") <= 50
    with pytest.raises(ValueError):
        sync_db.set("a", 1, nx=True, xx=True)


def test_expire_and_ttl(sync_db):
    sync_db.set("k", "v")
    assert sync_db.ttl("k") == -1
    assert sync_db.ttl("nope") == -2
    assert sync_db.expire("k", 100) is True
    assert 99 <= sync_db.ttl("k") <= 100
    assert sync_db.expire("nope", 10) is False
    sync_db.set("short", "v", px=50)
    time.sleep(0.12)
    assert sync_db.get("short", "gone") == "gone"


def test_mget_mset(sync_db):
    assert sync_db.mset({"m1": 1, "m2": "two", "m3": [3], "m4": {"four": 4.0}}) is True
    assert sync_db.mget("m1", "m2", "m3", "m4", "m5") == [1, "two", [3], {"four": 4.0}, None]
    assert sync_db.mget(["m1", "m5"], default=0) == [1, 0]


def test_keyspace_commands(sync_db):
    assert sync_db.ping() is True
    sync_db.mset({"user:1": 1, "user:2": 2, "other": 3})
    assert sorted(sync_db.keys("user:*")) == ["user:1", "user:2"]
    assert sorted(sync_db.keys()) == ["other", "user:1", "user:2"]
    assert sync_db.exists("user:1", "user:2", "nope") == 2
    assert sync_db.dbsize() == 3
    assert sync_db.delete("user:1", "nope") == 1
    assert sync_db.dbsize() == 2
    assert sync_db.flushdb() is True
    assert sync_db.dbsize() == 0


def test_info_is_flat_with_fdb_fields(sync_db):
    sync_db.set("k", 1)
    sync_db.get("k")
    info = sync_db.info()
    assert info["redis_version"]
    assert "fdb_version" in info and "fdb_fsync" in info
    assert info["cache_entries"] >= 1
    assert isinstance(info["connected_clients"], int)
    assert info["db0"]["keys"] == 1
    assert set(sync_db.info("cache")) >= {"cache_entries", "cache_hits"}


def test_pipeline(sync_db):
    with sync_db.pipeline() as pipe:
        assert isinstance(pipe, FDBPipeline)
        pipe.set("a", {"x": 1}).set("n", 5).incr("n").get("a").get("missing", 0)
        pipe.mset({"b": True}).mget("a", "b").exists("a", "b").ttl("a").delete("b")
        assert len(pipe) == 10
        assert pipe.execute() == [True, True, 6, {"x": 1}, 0, True, [{"x": 1}, True], 2, -1, 1]
        assert len(pipe) == 0
    no_tx = sync_db.pipeline(transaction=False)
    no_tx.set("c", 1.5).get("c")
    assert no_tx.execute() == [True, 1.5]


def test_keys_with_non_utf8_bytes_round_trip(sync_db, raw):
    raw.set(b"bin\xffkey", "v")
    (k,) = sync_db.keys()
    assert sync_db.get(k) == "v"
    assert sync_db.get(b"bin\xffkey") == "v"


def test_env_defaults(fdb_env, raw):
    db = FDBSyncClient()
    assert (db.host, db.port) == ("127.0.0.1", fdb_env.port)
    with db:
        assert db.ping()
    assert FDBSyncClient(port=1234).port == 1234  # explicit arguments win


def test_pool_is_shared_by_threads(server, raw):
    from concurrent.futures import ThreadPoolExecutor

    with FDBSyncClient(host="127.0.0.1", port=server.port, max_connections=4) as db:
        with ThreadPoolExecutor(16) as ex:
            list(ex.map(lambda i: db.incr("hits"), range(400)))
        assert db.get("hits") == 400
