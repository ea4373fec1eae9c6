"""FDBClient (asyncio) and fdb_client() against the real server."""

import asyncio

import pytest

from fdb_client import FDBAsyncPipeline, FDBClient, fdb_client
from test_sync_client import VALUES


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
async def test_round_trip_every_type(async_db, value):
    assert await async_db.set("k", value) is True
    back = await async_db.get("k")
    assert back == value and type(back) is type(value)


async def test_sync_and_async_see_the_same_values(async_db, sync_db):
    await async_db.set("shared", {"from": "async", "n": 1.5})
    assert sync_db.get("shared") == {"from": "async", "n": 1.5}
    sync_db.set("shared2", [True, None])
    assert await async_db.get("shared2") == [True, None]


async def test_incr_on_a_number_set_via_set(async_db, raw):
    await async_db.set("counter", 42)
    assert await async_db.incr("counter") == 43
    assert await async_db.incrby("counter", -3) == 40
    assert await async_db.decr("counter", 10) == 30
    assert await async_db.get("counter") == 30
    assert raw.get("counter") == b"30"


async def test_get_default_expire_ttl(async_db):
    assert await async_db.get("missing", 0) == 0
    await async_db.set("k", "v")
    assert await async_db.ttl("k") == -1
    assert await async_db.expire("k", 30) is True
    assert 29 <= await async_db.ttl("k") <= 30
    assert await async_db.set("k", "v2", xx=True, ex=5) is True
    assert await async_db.ttl("k") <= 5


async def test_mget_mset_and_keyspace(async_db):
    assert await async_db.mset({"a": 1, "b": [2], "c": "three"}) is True
    assert await async_db.mget("a", "b", "c", "d") == [1, [2], "three", None]
    assert await async_db.mget(["a", "d"], default=-1) == [1, -1]
    assert sorted(await async_db.keys()) == ["a", "b", "c"]
    assert await async_db.exists("a", "d") == 1
    assert await async_db.delete("a", "b") == 2
    assert await async_db.dbsize() == 1
    assert await async_db.ping() is True
    assert await async_db.flushdb() is True
    assert await async_db.dbsize() == 0


async def test_info(async_db):
    await async_db.set("x", 1)
    info = await async_db.info()
    assert info["cache_entries"] >= 1 and "fdb_version" in info


async def test_pipeline(async_db):
    async with async_db.pipeline() as pipe:
        assert isinstance(pipe, FDBAsyncPipeline)
        pipe.set("p", [1, 2]).set("n", 1).incrby("n", 9).get("p").mget("p", "n", "zz")
        assert await pipe.execute() == [True, True, 10, [1, 2], [[1, 2], 10, None]]
    pipe = async_db.pipeline(transaction=False)
    pipe.get("missing", "dflt").ttl("p")
    assert await pipe.execute() == ["dflt", -1]


async def test_fdb_client_context_manager(fdb_env, raw):
    async with fdb_client() as db:
        assert isinstance(db, FDBClient)
        assert db.port == fdb_env.port
        await db.set("ctx", {"ok": True})
        assert await db.get("ctx") == {"ok": True}


async def test_concurrent_commands_share_a_small_pool(server, raw):
    async with FDBClient(host="127.0.0.1", port=server.port, max_connections=3) as db:
        await asyncio.gather(*(db.incr("hits") for _ in range(300)))
        await asyncio.gather(*(db.set(f"k{i}", {"i": i}) for i in range(100)))
        assert await db.get("hits") == 300
        values = await asyncio.gather(*(db.get(f"k{i}") for i in range(100)))
        assert values == [{"i": i} for i in range(100)]


async def test_connect_close_reuse(server, raw):
    db = FDBClient(host="127.0.0.1", port=server.port)
    assert await db.connect() is db
    await db.set("a", 1)
    await db.close()
    assert await db.get("a") == 1  # reconnects after close
    await db.close()
