"""Test harness: runs the real fdb-server on a free loopback port with a temporary data dir.

FDB_SERVER_BIN names the binary (default ../build/fdb-server relative to python/). Servers are
stopped by PID (SIGTERM, then SIGKILL if they do not exit).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

import pytest
import redis

PYTHON_DIR = Path(__file__).resolve().parent.parent
FDB_BIN = os.environ.get("FDB_SERVER_BIN") or str(PYTHON_DIR.parent / "build" / "fdb-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` and a server could bind it (SO_REUSEADDR, as fdb-server does,
    so connections left in TIME_WAIT by an earlier server do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class ServerProcess:
    """One fdb-server process; :meth:`restart` keeps the port and the data dir."""

    def __init__(self, port: Optional[int] = None, data_dir: Optional[str] = None,
                 extra_args: Sequence[str] = ()) -> None:
        if not os.path.exists(FDB_BIN):
            pytest.exit(f"fdb-server not found at {FDB_BIN}: build it (make build) or set "
                        "FDB_SERVER_BIN", returncode=2)
        self.port = port or free_port()
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="fdb-py-test-")
        self.dir = data_dir or self._tmp
        self.extra_args = list(extra_args)
        self.proc: Optional[subprocess.Popen] = None

    @property
    def args(self) -> List[str]:
        return [FDB_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--threads", "2", *self.extra_args]

    def start(self) -> "ServerProcess":
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fdb-server exited with {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError("fdb-server did not answer PING in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM to this PID only
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return Path(self.dir, "server.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def raw(self) -> "redis.Redis":
        """A plain redis-py client (bytes in, bytes out): what another client sees."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """The shared server, with a value cache so INFO's cache_entries is a real figure."""
    srv = ServerProcess(extra_args=["--cache-size", "10000", "--fsync", "everysec"]).start()
    yield srv
    srv.cleanup()


@pytest.fixture
def fresh_server() -> Iterator[ServerProcess]:
    """A server of the test's own (for restarts)."""
    srv = ServerProcess().start()
    yield srv
    srv.cleanup()


@pytest.fixture
def raw(server: ServerProcess) -> Iterator["redis.Redis"]:
    """Raw redis-py view of the shared server; the database is emptied before each test."""
    r = server.raw()
    r.flushall()
    yield r
    r.close()


@pytest.fixture
def fdb_env(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> ServerProcess:
    """Point the clients' defaults (FDB_HOST/FDB_PORT) at the shared server."""
    monkeypatch.setenv("FDB_HOST", "127.0.0.1")
    monkeypatch.setenv("FDB_PORT", str(server.port))
    return server


@pytest.fixture
def sync_db(server: ServerProcess, raw: "redis.Redis"):
    from fdb_client import FDBSyncClient

    with FDBSyncClient(host="127.0.0.1", port=server.port) as db:
        yield db


@pytest.fixture
async def async_db(server: ServerProcess, raw: "redis.Redis"):
    from fdb_client import FDBClient

    async with FDBClient(host="127.0.0.1", port=server.port) as db:
        yield db


@pytest.fixture(scope="session")
def engine_module():
    """fdb._engine, the compiled engine. Missing means the build is incomplete: fail, so that a
    broken build never passes as a run of skipped tests."""
    try:
        from fdb import _engine
    except ImportError as e:
        pytest.fail(f"fdb._engine is not importable ({e}): build it with `make build` (it lands "
                    "in build/python, put that on PYTHONPATH) or `pip install ./python`",
                    pytrace=False)
    return _engine


@pytest.fixture
def engine_dir(tmp_path, engine_module) -> str:
    """A fresh data directory for an embedded engine."""
    return str(tmp_path / "db")


def skip_if_unknown(exc: BaseException, command: str) -> None:
    """Skip (with the reason) when the engine does not have ``command`` yet."""
    if str(exc).startswith("ERR unknown command"):
        pytest.skip(f"{command} is not implemented by the C++ server yet: {exc}")
