"""fdb.examples (``python -m fdb.examples``): every use case, and performance_benchmark(),
against the test server; and the module run as a program, which starts its own server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FDB_BIN

PYTHON_SRC = str(Path(__file__).resolve().parent.parent / "src")


@pytest.fixture(scope="module")
def examples():
    import fdb.examples

    return fdb.examples


def test_python_m_fdb_examples_runs_with_its_own_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("FDB_HOST", "FDB_PORT")}
    env["PYTHONPATH"] = os.pathsep.join([PYTHON_SRC, *filter(None, [env.get("PYTHONPATH")])])
    env["FDB_SERVER_BIN"] = FDB_BIN
    out = subprocess.run([sys.executable, "-m", "fdb.examples", "200"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "fdb-server started for the examples" in out.stdout
    assert "session" in out.stdout and "ops/s" in out.stdout


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


def test_runs_as_a_module_on_the_given_server(fdb_env, raw):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-m", "fdb.examples", "300"], env=env,
                         capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "fdb-server started" not in out.stdout  # FDB_PORT was set: that server
    for word in ("session", "cache:", "config:", "analytics:", "pool:", "monitoring:",
                 "benchmark:"):
        assert word in out.stdout
