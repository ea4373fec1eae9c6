"""The embedded engine: fdb_server.create_engine (async), SyncEngine, and the compiled module.

Every test opens its own data directory. The hash/list/set/zset tests are skipped, saying why,
while the C++ server does not have those commands yet; they pass as soon as it does.
"""

import asyncio
import os
import runpy
import threading
from pathlib import Path

import pydantic
import pytest

from conftest import skip_if_unknown

from fdb_server import AsyncEngine, FDBConfig, SyncEngine, create_engine
from fdb.errors import FDBError, FDBLockedError, FDBResponseError

SNIPPETS = Path(__file__).resolve().parent / "snippets"

VALUES = {
    "str": "hello world",
    "empty": "",
    "numeric_text": "42",
    "int": 42,
    "neg": -7,
    "big": 2**62,
    "float": 999.99,
    "true": True,
    "false": False,
    "none": None,
    "list": [1, "a", None, 2.5, {"x": [True]}],
    "dict": {"name": "Alice", "age": 30, "tags": ["a", "b"], "nested": {"k": None}},
    "unicode": "héllo → 世界",
}


@pytest.fixture
def db(engine_dir):
    with SyncEngine(FDBConfig(data_dir=engine_dir)) as e:
        yield e


def test_issue_snippet_verbatim(engine_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []
    orig = AsyncEngine.get

    async def spy(self, key, default=None):
        value = await orig(self, key, default)
        seen.append(value)
        return value

    monkeypatch.setattr(AsyncEngine, "get", spy)
    runpy.run_path(str(SNIPPETS / "embedded_engine.py"), run_name="__snippet__")
    assert seen == ["1.0.0"]
    assert (tmp_path / "my_app_db" / "LOCK").exists()
    # The snippet stopped its engine: the directory opens again and holds the value.
    with SyncEngine(FDBConfig(data_dir=str(tmp_path / "my_app_db"))) as e:
        assert e.get("config:version") == "1.0.0"


def test_values_round_trip_with_types(db):
    for k, v in VALUES.items():
        assert db.set(k, v) is True
    for k, v in VALUES.items():
        got = db.get(k)
        assert got == v and type(got) is type(v), k
    # Stored bytes are the clients' encoding (what redis-cli shows).
    assert db.execute("GET", "dict") == b'{"name":"Alice","age":30,"tags":["a","b"],"nested":{"k":null}}'
    assert db.execute("GET", "numeric_text") == b'"42"'
    assert db.execute("GET", "str") == b"hello world"


def test_get_default_and_missing(db):
    assert db.get("nope") is None
    assert db.get("nope", 0) == 0
    db.set("null", None)
    assert db.get("null", "d") is None  # a stored null is not missing


def test_keyspace_methods(db):
    db.mset({"a": 1, "b": {"x": 1}, "c": "text"})
    assert sorted(db.keys()) == ["a", "b", "c"]
    assert db.keys("a*") == ["a"]
    assert db.exists("a", "b", "zz") == 2
    assert db.dbsize() == 3
    assert db.mget("a", "b", "zz", default=0) == [1, {"x": 1}, 0]
    assert db.mget(["c"]) == ["text"]
    assert db.delete("a", "zz") == 1
    assert db.ping() is True
    assert db.flushdb() is True
    assert db.dbsize() == 0


def test_counters_and_expiry(db):
    db.set("n", 41)
    assert db.incr("n") == 42
    assert db.incrby("n", 8) == 50
    assert db.decr("n", 10) == 40
    assert db.incr("fresh") == 1
    assert db.get("n") == 40 and type(db.get("n")) is int
    assert db.ttl("n") == -1 and db.ttl("missing") == -2
    assert db.expire("n", 100) is True
    assert 0 < db.ttl("n") <= 100
    assert db.set("t", "v", px=50)
    assert db.set("t", "w", nx=True) is False
    assert db.set("absent", "w", xx=True) is False
    assert db.execute("PTTL", "t") > 0


def test_errors_are_fdb_errors(db):
    db.set("doc", {"a": 1})
    with pytest.raises(FDBResponseError, match="^ERR value is not an integer or out of range$"):
        db.incr("doc")
    with pytest.raises(FDBResponseError, match="ERR unknown command 'NOSUCH'") as e:
        db.execute("NOSUCH", "x")
    assert e.value.code == "ERR"
    with pytest.raises(FDBResponseError, match="wrong number of arguments"):
        db.execute("GET")
    with pytest.raises(TypeError):
        db.set("bad", {1, 2})


def test_info(db):
    db.set("a", 1)
    info = db.info()
    assert info["fdb_fsync"] == "everysec"
    assert "cache_entries" in info
    assert info["db0"]["keys"] == 1


def test_lifecycle(engine_dir):
    e = SyncEngine(FDBConfig(data_dir=engine_dir))
    with pytest.raises(FDBError, match="not started"):
        e.get("a")
    e.start()
    e.start()  # idempotent
    e.set("a", [1, 2])
    e.stop()
    e.stop()
    with pytest.raises(FDBError, match="not started"):
        e.get("a")
    with SyncEngine(FDBConfig(data_dir=engine_dir)) as again:  # the data survived
        assert again.get("a") == [1, 2]


def test_key_types_on_the_get_set_fast_path(db):
    """get/set hand str and bytes keys straight to the binding; other keys are converted as in
    every other method (UTF-8, surrogate escapes back to the original bytes, a str subclass as
    its text); keys of other types are refused with TypeError, not stored under their str()."""
    import enum

    class Color(str, enum.Enum):  # a str subclass whose str() is not its text
        RED = "red"

    db.set(b"\xffraw", 1)
    (name,) = [k for k in db.keys() if k.startswith("\udcff")]
    assert name == "\udcffraw"
    assert db.get(name) == 1  # a str with surrogates reads the non-UTF-8 key
    db.set(name, 2)
    assert db.get(b"\xffraw") == 2 and db.dbsize() == 1
    db.set(bytearray(b"ba"), "x")
    assert db.get(memoryview(b"ba")) == "x" and db.get("ba") == "x"
    for bad in (7, None, ("a",), 1.5):
        with pytest.raises(TypeError, match="keys are str or bytes"):
            db.set(bad, "x")
        with pytest.raises(TypeError, match="keys are str or bytes"):
            db.get(bad)
    assert db.dbsize() == 2
    db.set(Color.RED, "c")
    assert db.get("red") == "c" and db.get(Color.RED) == "c"
    assert db.exists(str(Color.RED)) == 0
    with pytest.raises(TypeError):
        db.set("k", {1, 2})  # a value the codec refuses is not taken for a bad key
    assert db.get("k") is None


def test_second_engine_on_a_directory_is_refused(db, engine_dir):
    with pytest.raises(FDBLockedError) as e:
        SyncEngine(FDBConfig(data_dir=engine_dir)).start()
    msg = str(e.value)
    assert engine_dir in msg and "LOCK" in msg and f"pid {os.getpid()}" in msg
    assert e.value.data_dir == engine_dir


def test_config_overrides_are_validated(engine_dir):
    e = create_engine(data_dir=engine_dir, sync=True, flush_interval=0)
    assert isinstance(e, SyncEngine) and e.config.fsync_policy == "always"
    with e:
        assert e.info()["fdb_fsync"] == "always"
    with pytest.raises(pydantic.ValidationError):
        create_engine(data_dir=engine_dir, cache_size=0)
    with pytest.raises(pydantic.ValidationError):
        create_engine(data_dir=engine_dir, no_such_field=1)


def test_threads_share_one_engine(db):
    # The GIL is released in every call: threads interleave inside the engine and each INCR
    # is still atomic.
    def work():
        for _ in range(500):
            db.incr("shared")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get("shared") == 2000


def test_gil_is_released_during_engine_calls(engine_module, engine_dir):
    # While one thread waits inside the engine (an fsync-always write), another thread runs
    # Python code. A binding that held the GIL would serialize the two.
    e = engine_module.Engine(engine_dir, fsync="always")
    stop = threading.Event()
    ticks = [0]

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        for i in range(200):
            e.set(b"k%d" % i, b"v")
    finally:
        stop.set()
        t.join()
        e.close()
    assert ticks[0] > 0


async def test_async_engine(engine_dir):
    db = create_engine(FDBConfig(data_dir=engine_dir, max_workers=2))
    assert isinstance(db, AsyncEngine)
    await db.start()
    try:
        await db.set("user:1", {"name": "Alice", "age": 30})
        assert await db.get("user:1") == {"name": "Alice", "age": 30}
        assert await db.get("missing", "d") == "d"
        results = await asyncio.gather(*(db.incr("c") for _ in range(50)))
        assert sorted(results) == list(range(1, 51))
        assert await db.exists("user:1", "c") == 2
        assert await db.delete("c") == 1
        assert await db.keys() == ["user:1"]
        assert await db.dbsize() == 1
        assert await db.mset({"a": 1.5}) and await db.mget("a", "user:1") == [1.5, {"name": "Alice", "age": 30}]
        assert await db.expire("a", 10) and 0 < await db.ttl("a") <= 10
        assert await db.incrby("n", 5) == 5
        assert await db.ping() and (await db.info())["fdb_fsync"] == "everysec"
        with pytest.raises(FDBResponseError):
            await db.incr("user:1")
        assert await db.flushdb() and await db.dbsize() == 0
    finally:
        await db.stop()
    await db.stop()  # idempotent
    async with create_engine(FDBConfig(data_dir=engine_dir)) as again:
        assert await again.dbsize() == 0


# --- collections: skipped until the C++ server has the commands -------------------------------


def test_hashes(db):
    try:
        assert db.hset("h", "name", "Alice") == 1
    except FDBResponseError as e:
        skip_if_unknown(e, "HSET")
        raise
    assert db.hset("h", mapping={"age": 30, "tags": ["a"]}) == 2
    assert db.hget("h", "age") == 30
    assert db.hget("h", "nope", "d") == "d"
    assert db.hgetall("h") == {"name": "Alice", "age": 30, "tags": ["a"]}
    assert db.hdel("h", "age", "nope") == 1
    assert db.hgetall("missing") == {}


def test_lists(db):
    try:
        assert db.rpush("l", 1, "two", {"three": 3}) == 3
    except FDBResponseError as e:
        skip_if_unknown(e, "RPUSH")
        raise
    assert db.lpush("l", None) == 4
    assert db.llen("l") == 4
    assert db.lrange("l") == [None, 1, "two", {"three": 3}]
    assert db.lrange("l", 1, 2) == [1, "two"]
    assert db.lpop("l") is None and db.rpop("l") == {"three": 3}
    assert db.lpop("empty", "d") == "d"


def test_sets(db):
    try:
        assert db.sadd("s", "a", 1, "a") == 2
    except FDBResponseError as e:
        skip_if_unknown(e, "SADD")
        raise
    assert db.sismember("s", 1) and not db.sismember("s", "1")
    assert sorted(db.smembers("s"), key=str) == [1, "a"]
    assert db.srem("s", "a", "zz") == 1
    assert db.smembers("s") == [1]


def test_sorted_sets(db):
    try:
        assert db.zadd("z", {"alice": 3, "bob": 1.5}) == 2
    except FDBResponseError as e:
        skip_if_unknown(e, "ZADD")
        raise
    assert db.zrange("z") == ["bob", "alice"]
    assert db.zrange("z", withscores=True) == [("bob", 1.5), ("alice", 3.0)]
    assert db.zscore("z", "alice") == 3.0 and db.zscore("z", "zed") is None
    assert db.zrem("z", "bob") == 1


def test_wrongtype_on_collections(db):
    db.set("str", "x")
    try:
        db.lpush("str", 1)
    except FDBResponseError as e:
        skip_if_unknown(e, "LPUSH")
        from fdb.errors import FDBWrongTypeError

        assert isinstance(e, FDBWrongTypeError)
        assert str(e).startswith("WRONGTYPE Operation against a key holding the wrong kind")
    else:
        pytest.fail("LPUSH on a string succeeded")


async def test_async_collections(engine_dir):
    async with create_engine(FDBConfig(data_dir=engine_dir)) as db:
        checks = [
            ("HSET", lambda: db.hset("h", "f", {"v": 1}), lambda: db.hgetall("h"), {"f": {"v": 1}}),
            ("RPUSH", lambda: db.rpush("l", 1, 2), lambda: db.lrange("l"), [1, 2]),
            ("SADD", lambda: db.sadd("s", "x"), lambda: db.smembers("s"), ["x"]),
            ("ZADD", lambda: db.zadd("z", {"m": 1}), lambda: db.zscore("z", "m"), 1.0),
        ]
        missing = []
        for name, write, read, expected in checks:
            try:
                await write()
            except FDBResponseError as e:
                if str(e).startswith("ERR unknown command"):
                    missing.append(name)
                    continue
                raise
            assert await read() == expected, name
        if missing:
            pytest.skip(f"not implemented by the C++ server yet: {', '.join(missing)}")


# A collection write once left the thread's log sequence behind, and the next engine opened on
# the same thread failed its first call with "sequence N not appended yet".
def test_new_engine_after_a_collection_write_on_the_same_thread(engine_module, tmp_path):
    first = engine_module.Engine(str(tmp_path / "a"))
    try:
        first.execute(["HSET", "h", "f", "v"])
    except engine_module.ReplyError as e:
        skip_if_unknown(e, "HSET")
        raise
    first.close()
    second = engine_module.Engine(str(tmp_path / "b"))
    try:
        assert second.execute(["GET", "k"]) is None
    finally:
        second.close()


def test_execute_transaction_keeps_each_result(db, engine_module):
    # MULTI/EXEC state belongs to the calling thread (include/fdb/db.h); an error inside EXEC
    # comes back in its slot, not raised, so the other results are kept.
    db.set("text", "x")
    assert db.execute("MULTI") == "OK"
    assert db.execute("INCR", "n") == "QUEUED"
    assert db.execute("INCR", "text") == "QUEUED"
    out = db.execute("EXEC")
    assert out[0] == 1
    assert isinstance(out[1], engine_module.ReplyError)
    assert str(out[1]) == "ERR value is not an integer or out of range"


def _count_pool_calls(db):
    """Record the calls AsyncEngine sends to its thread pool."""
    calls = []
    orig = db._call

    async def spy(fn, *a, **kw):
        calls.append(getattr(fn, "__name__", fn))
        return await orig(fn, *a, **kw)

    db._call = spy
    return calls


async def test_async_point_calls_run_without_a_thread_hop(engine_dir):
    seen = []
    async with create_engine(FDBConfig(data_dir=engine_dir)) as db:
        pool_calls = _count_pool_calls(db)

        class Spy:  # the compiled engine, recording the thread of each get
            def __init__(self, real):
                self.real = real

            def __getattr__(self, name):
                attr = getattr(self.real, name)
                if name != "get":
                    return attr

                def spy(*a, **kw):
                    seen.append(threading.get_ident())
                    return attr(*a, **kw)
                return spy

        db.sync._e = Spy(db.sync._e)
        await db.set("k", {"v": 1})
        assert await db.get("k") == {"v": 1}
        await db.hset("h", "f", 1)
        assert await db.hget("h", "f") == 1 and await db.incr("n") == 1
        assert seen == [threading.get_ident()]  # the loop's own thread
        assert pool_calls == []
        assert sorted(await db.keys()) == ["h", "k", "n"]  # may take long: on the pool
        assert pool_calls == ["keys"]


async def test_async_writes_go_to_the_pool_with_fsync_always(engine_dir):
    async with create_engine(FDBConfig(data_dir=engine_dir, flush_interval=0)) as db:
        pool_calls = _count_pool_calls(db)
        assert await db.get("k") is None and pool_calls == []  # reads stay inline
        await db.set("k", 1)
        assert pool_calls == ["set"]


async def test_async_inline_false_uses_the_pool(engine_dir):
    from fdb.engine import AsyncEngine

    async with AsyncEngine(FDBConfig(data_dir=engine_dir), inline=False) as db:
        pool_calls = _count_pool_calls(db)
        assert await db.get("k") is None
        assert pool_calls == ["get"]
