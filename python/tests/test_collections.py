"""Collection methods (hashes, lists, sets, sorted sets), the same on FDBSyncClient, FDBClient
(RESP2 and RESP3), their pipelines and the embedded engine (sync and async): JSON-native
values like get/set, text field names, and the same results everywhere."""

import asyncio

import pytest

from fdb.errors import FDBWrongTypeError
from fdb_client import FDBClient, FDBSyncClient
from fdb_server import create_engine


class _Blocking:
    """Runs an async object's coroutine methods on a private event loop, so one test body
    serves the sync and the async API."""

    def __init__(self, obj, loop):
        self._obj, self._loop = obj, loop

    def __getattr__(self, name):
        fn = getattr(self._obj, name)
        return lambda *a, **kw: self._loop.run_until_complete(fn(*a, **kw))


@pytest.fixture(params=["sync", "sync-resp3", "async", "async-resp3", "engine", "async-engine"])
def db(request, server, raw, engine_dir):
    kind = request.param
    kw = {"protocol": 3} if kind.endswith("resp3") else {}
    if kind.startswith("sync"):
        with FDBSyncClient(host="127.0.0.1", port=server.port, **kw) as c:
            yield c
        return
    if kind == "engine":
        with create_engine(data_dir=engine_dir, sync=True) as e:
            yield e
        return
    loop = asyncio.new_event_loop()
    try:
        if kind == "async-engine":
            obj = create_engine(data_dir=engine_dir)
            loop.run_until_complete(obj.start())
        else:
            obj = FDBClient(host="127.0.0.1", port=server.port, **kw)
            loop.run_until_complete(obj.connect())
        yield _Blocking(obj, loop)
        loop.run_until_complete(obj.stop() if kind == "async-engine" else obj.close())
    finally:
        loop.close()


def test_hashes(db):
    assert db.hset("h", "name", "Alice") == 1
    assert db.hset("h", mapping={"age": 30, "tags": ["a"], "raw": b"7"}) == 3
    assert db.hset("h", "nothing") == 1  # a field without a value holds null
    assert db.hget("h", "age") == 30 and db.hget("h", "raw") == b"7"
    assert db.hget("h", "nothing") is None and db.hexists("h", "nothing") is True
    assert db.hget("h", "nope", "d") == "d" and db.hexists("h", "nope") is False
    assert db.hgetall("h") == {"name": "Alice", "age": 30, "tags": ["a"], "raw": b"7",
                               "nothing": None}
    assert db.hmget("h", ["name", "zz"], default=0) == ["Alice", 0]
    assert sorted(db.hkeys("h")) == ["age", "name", "nothing", "raw", "tags"]
    assert db.hlen("h") == 5
    assert db.hincrby("h", "age") == 31 and db.hincrby("h", "n", 5) == 5
    assert db.hget("h", "age") == 31
    assert db.hdel("h", "age", "nope") == 1
    assert db.hgetall("missing") == {} and db.hlen("missing") == 0


def test_lists(db):
    assert db.rpush("l", 1, "two", {"three": 3}) == 3
    assert db.lpush("l", None) == 4
    assert db.llen("l") == 4
    assert db.lrange("l") == [None, 1, "two", {"three": 3}]
    assert db.lrange("l", 1, 2) == [1, "two"]
    assert db.lindex("l", -1) == {"three": 3} and db.lindex("l", 9, "d") == "d"
    assert db.lpop("l") is None and db.rpop("l") == {"three": 3}
    assert db.lpop("empty", "d") == "d" and db.llen("empty") == 0


def test_sets(db):
    assert db.sadd("s", "a", 1, "a", "1") == 3  # 1 and "1" are different members
    assert db.sismember("s", 1) is True and db.sismember("s", "zz") is False
    assert sorted(db.smembers("s"), key=repr) == ["1", "a", 1]
    assert db.scard("s") == 3
    assert db.srem("s", "a", "zz") == 1
    assert sorted(db.smembers("s"), key=repr) == ["1", 1]
    assert db.smembers("missing") == []


def test_sorted_sets(db):
    assert db.zadd("z", {"alice": 3, "bob": 1.5, "carol": 2}) == 3
    assert db.zrange("z") == ["bob", "carol", "alice"]
    assert db.zrange("z", 0, 1, withscores=True) == [("bob", 1.5), ("carol", 2.0)]
    assert db.zscore("z", "alice") == 3.0 and db.zscore("z", "zed") is None
    assert db.zincrby("z", "bob", 10) == 11.5
    assert db.zrank("z", "bob") == 2 and db.zrank("z", "zed") is None
    assert db.zcard("z") == 3
    assert db.zrem("z", "bob", "zed") == 1
    with pytest.raises(ValueError):
        db.zadd("z", {})


def test_wrongtype(db):
    db.set("str", "x")
    for call in (lambda: db.lpush("str", 1), lambda: db.hget("str", "f"),
                 lambda: db.sadd("str", 1), lambda: db.zadd("str", {"m": 1})):
        with pytest.raises(FDBWrongTypeError, match="^WRONGTYPE Operation against a key"):
            call()


def test_clients_and_engine_share_the_encoding(sync_db, raw):
    sync_db.hset("h", mapping={"n": 1, "s": "42", "d": {"a": [1]}})
    assert raw.hgetall("h") == {b"n": b"1", b"s": b'"42"', b"d": b'{"a":[1]}'}
    raw.rpush("l", "plain", "17")
    assert sync_db.lrange("l") == ["plain", 17]


def test_sync_pipeline_queues_collections(sync_db):
    with sync_db.pipeline() as pipe:
        pipe.hset("h", "f", [1]).rpush("l", "a", "b").sadd("s", 1).zadd("z", {"m": 2})
        pipe.hgetall("h").lrange("l").smembers("s").zrange("z", withscores=True)
        assert pipe.execute() == [1, 2, 1, 1, {"f": [1]}, ["a", "b"], [1], [("m", 2.0)]]


async def test_async_pipeline_queues_collections(async_db):
    pipe = async_db.pipeline(transaction=False)
    pipe.hset("h", "f", True).hget("h", "f").llen("nope")
    assert await pipe.execute() == [1, True, 0]


def test_method_names_match_the_engine():
    from fdb.client import COLLECTION_METHODS
    from fdb.engine import AsyncEngine, SyncEngine

    for name in COLLECTION_METHODS:
        for cls in (FDBSyncClient, FDBClient, SyncEngine, AsyncEngine):
            assert callable(getattr(cls, name)), (cls, name)
    import inspect

    assert list(inspect.signature(FDBClient.hset).parameters) == [
        "self", "key", "field", "value", "mapping"]
    assert inspect.iscoroutinefunction(FDBClient.zadd)
    assert FDBSyncClient.zrange.__doc__.startswith("Members by rank")
