"""fdb_server.FDBServer / create_server (fdb-server as a child process) and the command line
(``python -m fdb_server``, the ``fdb-server`` console script's ``fdb.server.main``)."""

import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from conftest import FDB_BIN, free_port

from fdb_client import FDBClient, FDBSyncClient
from fdb_server import FDBConfig, FDBServer, FDBServerError, create_server, find_server_binary

SNIPPETS = Path(__file__).resolve().parent / "snippets"
PYTHON_SRC = str(Path(__file__).resolve().parent.parent / "src")


def config(tmp_path, **kw) -> FDBConfig:
    return FDBConfig(port=free_port(), data_dir=str(tmp_path / "data"), max_workers=2, **kw)


def test_issue_snippet_verbatim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(SNIPPETS / "server_config.py"), run_name="__snippet__")
    server = ns["server"]
    assert isinstance(server, FDBServer) and not server.running
    args = server.args
    assert args[0] == find_server_binary()
    for flag in (["--port", "6380"], ["--maxclients", "100"], ["--cache-size", "10000"],
                 ["--fsync", "everysec"], ["--threads", "4"], ["--compression", "yes"]):
        i = args.index(flag[0])
        assert args[i:i + 2] == flag


async def test_start_serves_clients_and_stop_by_pid(tmp_path):
    cfg = config(tmp_path)
    server = create_server(cfg)
    await server.start()
    try:
        assert server.running and server.pid > 0
        async with FDBClient(host="127.0.0.1", port=cfg.port) as db:
            await db.set("k", {"v": [1, 2]})
            assert await db.get("k") == {"v": [1, 2]}
            info = await db.info()
            assert info["fdb_fsync"] == "everysec"
    finally:
        assert await server.stop() == 0  # SIGTERM: checkpoint, exit 0
    assert not server.running and await server.stop() is None
    assert (tmp_path / "data" / "fdb-server.log").exists()


async def test_async_context_manager_and_restart_keeps_data(tmp_path):
    cfg = config(tmp_path)
    async with FDBServer(cfg):
        async with FDBClient(host="127.0.0.1", port=cfg.port) as db:
            await db.set("counter", 41)
    async with FDBServer(cfg):
        async with FDBClient(host="127.0.0.1", port=cfg.port) as db:
            assert await db.incr("counter") == 42


def test_sync_start_stop(tmp_path):
    cfg = config(tmp_path, flush_interval=0)
    with FDBServer(cfg) as server:
        with FDBSyncClient(host="127.0.0.1", port=cfg.port) as db:
            db.set("a", True)
            assert db.get("a") is True
            assert db.info()["fdb_fsync"] == "always"
        pid = server.pid
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_start_failure_is_reported_with_the_log(tmp_path):
    cfg = config(tmp_path)
    async with FDBServer(cfg):
        clash = FDBServer(cfg.model_copy(update={"data_dir": str(tmp_path / "other")}))
        with pytest.raises(FDBServerError, match="exited with status") as e:
            await clash.start()
        assert "already in use" in str(e.value)  # the server's own words, from its log
        assert not clash.running


async def test_two_servers_on_one_directory(tmp_path):
    cfg = config(tmp_path)
    async with FDBServer(cfg) as first:
        second = FDBServer(cfg.model_copy(update={"port": free_port()}), log_file="")
        with pytest.raises(FDBServerError) as e:
            await second.start()
        assert "LOCK" in str(e.value) and f"pid {first.pid}" in str(e.value)


def test_missing_binary_says_how_to_get_one(tmp_path, monkeypatch):
    import fdb.server

    monkeypatch.setenv("FDB_SERVER_BIN", str(tmp_path / "none"))
    monkeypatch.setattr(fdb.server, "_PKG_DIR", tmp_path / "a" / "b" / "c")  # no bundled binary
    with pytest.raises(FDBServerError, match="pip install ./python"):
        find_server_binary()
    with pytest.raises(FDBServerError, match="not found"):
        FDBServer(FDBConfig()).start_sync()


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [PYTHON_SRC, *filter(None, [os.environ.get("PYTHONPATH")])]), FDB_SERVER_BIN=FDB_BIN)


def test_cli_is_the_binary_with_its_own_flags():
    # The console script execs the binary: its --version and --help, not a Python parser's.
    out = subprocess.run([sys.executable, "-m", "fdb_server", "--version"], env=_env(),
                         capture_output=True, text=True, timeout=30)
    direct = subprocess.run([FDB_BIN, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == direct.returncode == 0
    assert out.stdout == direct.stdout and out.stdout.startswith("fdb-server ")


def test_cli_takes_a_config_file_and_the_binary_defaults(tmp_path):
    port = free_port()
    conf = tmp_path / "fdb.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path / 'd'}\nthreads 1\n")
    proc = subprocess.Popen([sys.executable, "-m", "fdb_server", str(conf)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while True:
            try:
                with FDBSyncClient(host="127.0.0.1", port=port, retries=0, timeout=1) as db:
                    # The binary's default: no cap on cached values (FDBConfig's is 10,000).
                    assert db.redis.config_get("cache-size")["cache-size"] == "0"
                    assert db.redis.config_get("dir")["dir"] == str(tmp_path / "d")
                    break
            except Exception:
                assert proc.poll() is None, "python -m fdb_server exited"
                assert time.time() < deadline, "server did not come up"
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_data_dir_that_cannot_be_created_is_an_fdb_server_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a directory would be needed
    server = FDBServer(FDBConfig(port=free_port(), data_dir=str(blocker / "data")))
    with pytest.raises(FDBServerError, match="cannot create the data directory"):
        server.start_sync()
    assert not server.running


def test_unwritable_log_file_is_an_fdb_server_error(tmp_path):
    server = FDBServer(config(tmp_path), log_file=str(tmp_path / "no" / "such" / "dir.log"))
    with pytest.raises(FDBServerError, match="cannot open the log file"):
        server.start_sync()


def test_binary_that_cannot_run_is_an_fdb_server_error(tmp_path):
    fake = tmp_path / "fdb-server"
    fake.write_bytes(b"\x7fELF-not-really")
    fake.chmod(0o755)
    with pytest.raises(FDBServerError, match="cannot run"):
        FDBServer(config(tmp_path), binary=str(fake)).start_sync()


EXIT_SCRIPT = """
import sys
from fdb_server import FDBConfig, FDBServer
server = FDBServer(FDBConfig(port=int(sys.argv[1]), data_dir=sys.argv[2], max_workers=1),
                   keep_running=sys.argv[3] == "keep")
server.start_sync()
print(server.pid, flush=True)
# the script ends without stop()
"""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose: look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_script_that_exits_stops_its_server(tmp_path):
    out = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(free_port()),
                          str(tmp_path / "d"), "stop"], env=_env(), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.split()[0])
    assert not _alive(pid)


def test_keep_running_says_so_with_the_pid(tmp_path):
    out = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(free_port()),
                          str(tmp_path / "d"), "keep"], env=_env(), capture_output=True,
                         text=True, timeout=60)
    pid = int(out.stdout.split()[0])
    try:
        assert _alive(pid)
        assert f"pid {pid}" in out.stderr and "keeps running" in out.stderr
    finally:
        os.kill(pid, signal.SIGTERM)


def test_python_m_fdb_server_runs_a_server(tmp_path):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [PYTHON_SRC, *filter(None, [os.environ.get("PYTHONPATH")])]), FDB_SERVER_BIN=FDB_BIN)
    proc = subprocess.Popen([sys.executable, "-m", "fdb_server", "--port", str(port), "--dir",
                             str(tmp_path / "d"), "--threads", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while True:
            try:
                with FDBSyncClient(host="127.0.0.1", port=port, retries=0, timeout=1) as db:
                    db.set("cli", "works")
                    assert db.get("cli") == "works"
                    break
            except Exception:
                assert proc.poll() is None, "python -m fdb_server exited"
                assert time.time() < deadline, "server did not come up"
                time.sleep(0.05)
        # Loopback, as FDBServer's, not the binary's own default (every address).
        with redis.Redis(port=port, decode_responses=True) as r:
            assert r.config_get("bind") == {"bind": "127.0.0.1"}
    finally:
        proc.send_signal(signal.SIGTERM)  # the server replaced the Python process (exec)
        assert proc.wait(timeout=15) == 0
