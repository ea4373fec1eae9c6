"""python/examples.py: every use case, and performance_benchmark(), against the test server."""

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples.py"


@pytest.fixture(scope="module")
def examples():
    spec = importlib.util.spec_from_file_location("fdb_examples", EXAMPLES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_session_management(examples, fdb_env, raw):
    r = await examples.session_management()
    assert r["session"]["username"] == "alice" and r["session"]["roles"] == ["user", "admin"]
    assert 1790 <= r["ttl"] <= 1800
    assert r["after_logout"] is None


async def test_caching_layer(examples, fdb_env, raw):
    r = await examples.caching_layer()
    assert r["first"] == r["second"] and r["first"][2] == {"id": 3, "name": "Product 3", "price": 30.0}
    assert r["source_calls"] == 3  # the second round was served from FDB


async def test_configuration_management(examples, fdb_env, raw):
    r = await examples.configuration_management()
    assert r["config:app:debug"] is False and r["config:app:max_upload_mb"] == 25
    assert r["config:app:db"] == {"host": "localhost", "port": 5432}
    assert r["config:app:revision"] == 1 and r["config:app:version"] == "1.0.0"


async def test_realtime_analytics(examples, fdb_env, raw):
    r = await examples.realtime_analytics()
    assert r == {"page_views": 100, "home": 60, "signups": 10}


async def test_connection_pool(examples, fdb_env, raw):
    r = await examples.connection_pool()
    assert r["results"] == list(range(200))


async def test_monitoring(examples, fdb_env, raw):
    r = await examples.monitoring()
    assert r["alive"] is True and r["fsync"] == "everysec" and r["version"]


async def test_performance_benchmark(examples, fdb_env, raw, capsys):
    r = await examples.performance_benchmark(n=300)
    assert set(r) >= {"async_set_ops", "async_get_ops", "pipelined_get_ops", "sync_get_ops"}
    assert all(v > 0 for v in r.values())
    assert "ops/s" in capsys.readouterr().out


def test_runs_as_a_script(fdb_env, raw):
    import subprocess, os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, str(EXAMPLES)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for word in ("session", "cache:", "config:", "analytics:", "pool:", "monitoring:",
                 "benchmark:"):
        assert word in out.stdout
