"""FDB's original use cases, on fdb-server: ``python -m fdb.examples``.

::

    python -m fdb.examples            # every example, then performance_benchmark()

With ``FDB_PORT`` (and optionally ``FDB_HOST``) set, the examples use that server. Otherwise
they start the bundled fdb-server (:class:`fdb.server.FDBServer`) on a free loopback port over
a temporary data directory, and stop it at the end. Each example is a coroutine that can be run
on its own (``asyncio.run(session_management())``, against ``FDB_HOST``/``FDB_PORT`` or
localhost:6380) and returns what it found, so the test suite can check it.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any, Dict, List

from fdb_client import FDBClient, FDBSyncClient, fdb_client


async def session_management() -> Dict[str, Any]:
    """Web sessions: a JSON document per session with a time to live, refreshed on access."""
    async with fdb_client() as db:
        session_id = uuid.uuid4().hex
        key = f"session:{session_id}"
        await db.set(key, {"user_id": 1, "username": "alice", "roles": ["user", "admin"],
                           "created": time.time()}, ex=1800)
        session = await db.get(key)
        session["last_seen"] = time.time()  # touch: write back, renewing the 30-minute TTL
        await db.set(key, session, ex=1800)
        ttl = await db.ttl(key)
        print(f"session {session_id[:8]}…: user {session['username']}, expires in {ttl} s")
        await db.delete(key)  # logout
        return {"session": session, "ttl": ttl, "after_logout": await db.get(key)}


async def caching_layer() -> Dict[str, Any]:
    """Read-through cache in front of a slow data source."""
    calls = 0

    async def load_product(product_id: int) -> Dict[str, Any]:  # the "database"
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"id": product_id, "name": f"Product {product_id}", "price": 10.0 * product_id}

    async with fdb_client() as db:
        async def get_product(product_id: int) -> Dict[str, Any]:
            key = f"cache:product:{product_id}"
            cached = await db.get(key)
            if cached is not None:
                return cached
            product = await load_product(product_id)
            await db.set(key, product, ex=300)
            return product

        await db.delete(*(f"cache:product:{i}" for i in range(1, 4)))
        t0 = time.perf_counter()
        first = [await get_product(i) for i in (1, 2, 3)]
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = [await get_product(i) for i in (1, 2, 3)]
        warm = time.perf_counter() - t0
        print(f"cache: cold {cold * 1000:.1f} ms, warm {warm * 1000:.1f} ms, "
              f"source called {calls} times")
        return {"first": first, "second": second, "source_calls": calls}


async def configuration_management() -> Dict[str, Any]:
    """Application settings of every JSON type, read back with their types, versioned."""
    async with fdb_client() as db:
        settings = {"config:app:name": "My App", "config:app:version": "1.0.0",
                    "config:app:debug": False, "config:app:max_upload_mb": 25,
                    "config:app:ratio": 0.75, "config:app:features": ["search", "export"],
                    "config:app:db": {"host": "localhost", "port": 5432}}
        await db.mset(settings)
        await db.incr("config:app:revision")
        keys = sorted(await db.keys("config:app:*"))
        loaded = dict(zip(keys, await db.mget(keys)))
        print(f"config: {len(loaded)} settings, revision {loaded['config:app:revision']}, "
              f"debug={loaded['config:app:debug']!r}")
        return loaded


async def realtime_analytics() -> Dict[str, Any]:
    """Counters updated by many concurrent tasks: INCR is atomic on the server."""
    async with fdb_client() as db:
        await db.delete("analytics:page_views", "analytics:signups", "analytics:home")
        pages = ["home", "about", "home", "pricing", "home"]

        async def visitor(i: int) -> None:
            await db.incr("analytics:page_views")
            await db.incr(f"analytics:{pages[i % len(pages)]}")
            if i % 10 == 0:
                await db.incr("analytics:signups")

        await asyncio.gather(*(visitor(i) for i in range(100)))
        result = {"page_views": await db.get("analytics:page_views", 0),
                  "home": await db.get("analytics:home", 0),
                  "signups": await db.get("analytics:signups", 0)}
        print(f"analytics: {result}")
        return result


async def connection_pool() -> Dict[str, Any]:
    """One client, a pool of connections shared by many concurrent tasks."""
    client = FDBClient(max_connections=10, timeout=5.0)
    await client.connect()
    try:
        async def worker(n: int) -> int:
            await client.set(f"pool:item:{n}", {"worker": n})
            return (await client.get(f"pool:item:{n}"))["worker"]

        t0 = time.perf_counter()
        results = await asyncio.gather(*(worker(n) for n in range(200)))
        elapsed = time.perf_counter() - t0
        await client.delete(*(f"pool:item:{n}" for n in range(200)))
        print(f"pool: 200 tasks over 10 connections in {elapsed * 1000:.1f} ms")
        return {"results": results}
    finally:
        await client.close()


async def monitoring() -> Dict[str, Any]:
    """Health check and server statistics from INFO."""
    async with fdb_client() as db:
        alive = await db.ping()
        info = await db.info()
        stats = {"alive": alive, "keys": await db.dbsize(),
                 "version": info.get("fdb_version"), "fsync": info.get("fdb_fsync"),
                 "cache_entries": info.get("cache_entries", 0),
                 "used_memory": info.get("used_memory"),
                 "connected_clients": info.get("connected_clients")}
        print(f"monitoring: {stats}")
        return stats


async def performance_benchmark(n: int = 2000) -> Dict[str, float]:
    """Operations per second: sequential async set/get, concurrent async, pipelined, sync."""
    value = {"name": "benchmark", "values": list(range(10)), "ok": True}
    results: Dict[str, float] = {}
    async with fdb_client() as db:
        t0 = time.perf_counter()
        for i in range(n):
            await db.set(f"bench:{i}", value)
        results["async_set_ops"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(n):
            await db.get(f"bench:{i}")
        results["async_get_ops"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        await asyncio.gather(*(db.get(f"bench:{i}") for i in range(n)))
        results["async_concurrent_get_ops"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        pipe = db.pipeline(transaction=False)
        for i in range(n):
            pipe.get(f"bench:{i}")
        got = await pipe.execute()
        results["pipelined_get_ops"] = n / (time.perf_counter() - t0)
        assert got[0] == value
    with FDBSyncClient() as sdb:
        t0 = time.perf_counter()
        for i in range(n):
            sdb.get(f"bench:{i}")
        results["sync_get_ops"] = n / (time.perf_counter() - t0)
        sdb.delete(*(f"bench:{i}" for i in range(n)))
    for name, ops in results.items():
        print(f"benchmark: {name:26s} {ops:12,.0f} ops/s")
    return results


EXAMPLES = [session_management, caching_layer, configuration_management, realtime_analytics,
            connection_pool, monitoring]


async def main(n: int = 2000) -> List[Any]:
    """Every example, then :func:`performance_benchmark` with ``n`` operations per test."""
    if os.environ.get("FDB_PORT"):
        return await _run_all(n)
    import socket
    import tempfile

    from .config import FDBConfig
    from .server import FDBServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="fdb-examples-") as tmp:
        cfg = FDBConfig(host="127.0.0.1", port=port, data_dir=tmp, max_workers=2)
        async with FDBServer(cfg) as server:
            print(f"fdb-server started for the examples: 127.0.0.1:{port} (pid {server.pid})")
            os.environ["FDB_HOST"], os.environ["FDB_PORT"] = "127.0.0.1", str(port)
            try:
                return await _run_all(n)
            finally:
                del os.environ["FDB_HOST"], os.environ["FDB_PORT"]


async def _run_all(n: int) -> List[Any]:
    results = [await example() for example in EXAMPLES]
    results.append(await performance_benchmark(n))
    return results


if __name__ == "__main__":
    import sys

    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
