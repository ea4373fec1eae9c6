"""One data directory, both ways: what the embedded engine wrote, fdb-server serves and the
clients read back identically; what clients wrote through fdb-server, the engine reads back.
And the LOCK file: an engine cannot open a directory a running server holds."""

import pytest

from conftest import free_port

from fdb_client import FDBClient, FDBSyncClient
from fdb_server import FDBConfig, FDBLockedError, FDBServer, SyncEngine, create_engine

DATA = {
    "user:1": {"name": "Alice", "age": 30, "tags": ["admin", None], "score": 9.5},
    "counter": 42,
    "price": 999.99,
    "flag": False,
    "nothing": None,
    "text": "hello → world",
    "numeric_text": "007",
    "quoted_number": "42",
    "list": [1, [2, [3]], {"k": "v"}],
}


def cfg(tmp_path) -> FDBConfig:
    return FDBConfig(data_dir=str(tmp_path / "shared"), port=free_port(), max_workers=2)


def raw_view(engine: SyncEngine) -> dict:
    return {k: engine.execute("GET", k) for k in DATA}


async def test_engine_writes_server_serves(engine_module, tmp_path):
    config = cfg(tmp_path)
    db = create_engine(config)
    await db.start()
    for k, v in DATA.items():
        await db.set(k, v)
    assert await db.incr("counter") == 43
    await db.set("session", "s", ex=3600)
    raw_before = raw_view(db.sync)
    await db.stop()

    async with FDBServer(config):
        async with FDBClient(host="127.0.0.1", port=config.port) as client:
            for k, v in DATA.items():
                got = await client.get(k)
                expected = 43 if k == "counter" else v
                assert got == expected and type(got) is type(expected), k
            assert 3500 < await client.ttl("session") <= 3600
            assert sorted(await client.keys()) == sorted([*DATA, "session"])
            r = client.redis
            assert {k: await r.get(k) for k in DATA} == raw_before  # byte for byte
            assert await client.incr("counter") == 44


async def test_server_writes_engine_reads(engine_module, tmp_path):
    config = cfg(tmp_path)
    async with FDBServer(config):
        with FDBSyncClient(host="127.0.0.1", port=config.port) as client:
            for k, v in DATA.items():
                client.set(k, v)
            client.incrby("counter", 8)
            client.expire("user:1", 500)
            client.delete("nothing")
    with SyncEngine(config) as engine:
        for k, v in DATA.items():
            if k == "nothing":
                assert engine.get(k, "missing") == "missing"
                continue
            expected = 50 if k == "counter" else v
            got = engine.get(k)
            assert got == expected and type(got) is type(expected), k
        assert 400 < engine.ttl("user:1") <= 500
        assert engine.dbsize() == len(DATA) - 1
        engine.set("from_engine", {"back": True})
    # ... and back again.
    async with FDBServer(config):
        with FDBSyncClient(host="127.0.0.1", port=config.port) as client:
            assert client.get("from_engine") == {"back": True}
            assert client.get("counter") == 50


async def test_engine_refuses_a_directory_a_server_holds(engine_module, tmp_path):
    config = cfg(tmp_path)
    async with FDBServer(config) as server:
        db = create_engine(config)
        with pytest.raises(FDBLockedError) as e:
            await db.start()
        msg = str(e.value)
        assert config.data_dir in msg and "LOCK" in msg and f"pid {server.pid}" in msg
        assert not db.started
    # Once the server is gone the directory opens.
    async with create_engine(config) as db:
        assert await db.ping()


async def test_server_refuses_a_directory_an_engine_holds(engine_module, tmp_path):
    config = cfg(tmp_path)
    with SyncEngine(config):
        from fdb_server import FDBServerError

        with pytest.raises(FDBServerError, match="LOCK"):
            await FDBServer(config).start()
