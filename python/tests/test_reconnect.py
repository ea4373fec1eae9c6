"""Clients survive a server restart (same port and data dir) and see the persisted data."""

import pytest

from fdb_client import FDBClient, FDBConnectionError, FDBSyncClient


def test_sync_reconnects_after_restart(fresh_server):
    with FDBSyncClient(host="127.0.0.1", port=fresh_server.port) as db:
        db.set("user:1", {"name": "Alice", "age": 30})
        db.set("counter", 41)
        pipe = db.pipeline()
        pipe.get("counter").get("counter")
        pipe.execute()  # leaves pooled connections open to the old process
        fresh_server.restart()
        assert db.get("user:1") == {"name": "Alice", "age": 30}
        assert db.incr("counter") == 42
        assert db.dbsize() == 2


def test_sync_error_while_down_then_recovers(fresh_server):
    with FDBSyncClient(host="127.0.0.1", port=fresh_server.port) as db:
        db.set("k", "v")
        fresh_server.stop()
        with pytest.raises(FDBConnectionError, match="make run"):
            db.get("k")
        fresh_server.start()
        assert db.get("k") == "v"


async def test_async_reconnects_after_restart(fresh_server):
    async with FDBClient(host="127.0.0.1", port=fresh_server.port) as db:
        await db.mset({"a": [1, 2], "b": 2.5})
        fresh_server.restart()
        assert await db.mget("a", "b") == [[1, 2], 2.5]
        fresh_server.stop()
        with pytest.raises(FDBConnectionError):
            await db.ping()
        fresh_server.start()
        assert await db.get("b") == 2.5
