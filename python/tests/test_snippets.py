"""The client snippets of issue 5, run verbatim (tests/snippets/*.py, unchanged).

``fdb_client()`` and ``FDBSyncClient()`` take their default host/port from FDB_HOST/FDB_PORT,
which point them at the test server. The pool_and_monitoring snippet names localhost:6380
explicitly, so it runs against a server of its own on port 6380 (skipped if 6380 is taken).
"""

import asyncio
import gc
import re
import runpy
from pathlib import Path

import pytest

from conftest import ServerProcess, port_is_free

SNIPPETS = Path(__file__).resolve().parent / "snippets"


def run_snippet(name: str) -> dict:
    return runpy.run_path(str(SNIPPETS / name), run_name="__snippet__")


def test_basic_async(fdb_env, raw):
    ns = run_snippet("basic_async.py")
    assert "main" in ns
    assert raw.get("user:1") == b'{"name":"Alice","age":30}'
    assert raw.get("counter") == b"42"
    assert raw.incr("counter") == 43  # other clients can INCR it


def test_basic_async_values(fdb_env, raw, monkeypatch):
    # The snippet's comments promise the values; capture them by wrapping get().
    from fdb.client import FDBClient

    seen = []
    orig = FDBClient.get

    async def spy(self, key, default=None):
        value = await orig(self, key, default)
        seen.append((key, value))
        return value

    monkeypatch.setattr(FDBClient, "get", spy)
    run_snippet("basic_async.py")
    assert seen == [("user:1", {"name": "Alice", "age": 30}), ("counter", 42)]
    assert type(seen[1][1]) is int


def test_basic_sync(fdb_env, raw):
    ns = run_snippet("basic_sync.py")
    assert ns["product"] == {"name": "Laptop", "price": 999.99}
    assert type(ns["product"]["price"]) is float
    assert raw.get("product:1") == b'{"name":"Laptop","price":999.99}'


# The snippet never closes its FDBClient; its connections are reclaimed by the garbage collector,
# which Python reports as ResourceWarnings. Collect them here rather than in a later test.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_pool_and_monitoring(monkeypatch, capsys, tmp_path):
    if not port_is_free(6380):
        pytest.skip("port 6380 is in use; the snippet connects to localhost:6380")
    srv = ServerProcess(port=6380, data_dir=str(tmp_path), extra_args=["--cache-size", "10000"])
    srv.start()
    try:
        monkeypatch.setenv("FDB_HOST", "localhost")
        monkeypatch.setenv("FDB_PORT", "6380")
        ns = run_snippet("pool_and_monitoring.py")
        asyncio.run(ns["pool_and_monitoring"]())
        asyncio.run(ns["pool_and_monitoring"]())
        out = capsys.readouterr().out.splitlines()
        m = [re.fullmatch(r"Cache entries: (\d+) (\d+)", line) for line in out]
        assert all(m), out
        assert [int(x.group(2)) for x in m] == [2, 2]  # dbsize: key, analytics:page_views
        assert all(int(x.group(1)) >= 1 for x in m)  # a real figure from INFO's # Cache section
        r = srv.raw()
        assert r.get("analytics:page_views") == b"2" and r.get("key") == b"value"
        r.close()
        del ns
        gc.collect()
    finally:
        srv.cleanup()
