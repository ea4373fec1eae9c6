"""Running fdb-server from Python: :class:`FDBServer`, :func:`create_server` and the
``fdb-server`` / ``python -m fdb_server`` command line.

The server is the C++ ``fdb-server`` binary run as a child process with the flags of
:meth:`FDBConfig.to_server_args <fdb.config.FDBConfig.to_server_args>`. The binary is, in this
order: the ``binary`` argument, the environment variable ``FDB_SERVER_BIN``, the one installed
in the package by ``pip install ./python`` (``fdb/bin/fdb-server``), and the one of the
repository checkout the package is imported from (``build/fdb-server``).

Why a child process and not a thread of this one: the server's I/O threads, its signal
handling and its crash domain stay out of the Python process, and ``stop()`` is as simple and
reliable as SIGTERM to one PID (the server checkpoints and exits, as on SHUTDOWN).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, List, Optional, Sequence

from .config import FDBConfig
from .errors import FDBServerError

__all__ = ["FDBServer", "create_server", "find_server_binary", "main"]

_PKG_DIR = Path(__file__).resolve().parent


def find_server_binary(binary: Optional[str] = None) -> str:
    """The path of the fdb-server binary to run (see the module docstring for the order).

    Raises:
        FDBServerError: if none is found, saying how to get one.
    """
    candidates = [binary, os.environ.get("FDB_SERVER_BIN"), str(_PKG_DIR / "bin" / "fdb-server"),
                  str(_PKG_DIR.parent.parent.parent / "build" / "fdb-server")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FDBServerError(
        "fdb-server binary not found: install the package with `pip install ./python` (it "
        "bundles the server), build the repository (`make build`), or set FDB_SERVER_BIN")


def _answers(host: str, port: int, pid: int) -> bool:
    """True if the server with process id ``pid`` answers on host:port. Another server that
    already listens there answers PING too, so INFO's process_id must be ``pid`` (a server
    with a password answers -NOAUTH, which is taken as a yes: ``pid`` is still checked alive)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            first = s.recv(64)
            if first.startswith(b"-NOAUTH"):
                return True
            if not first.startswith(b"+PONG"):
                return False
            s.sendall(b"INFO server\r\n")
            data = b""
            while b"process_id:" not in data or not data.endswith(b"\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return f"process_id:{pid}\r\n".encode() in data
    except OSError:
        return False


def _connect_host(host: str) -> str:
    # A server bound to every address answers on loopback.
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "*": "127.0.0.1"}.get(host, host)


class FDBServer:
    """One fdb-server child process configured by an :class:`FDBConfig`.

    ::

        server = FDBServer(FDBConfig(port=6390, data_dir="./fdb_data"))
        await server.start()      # returns once the server answers PING
        ...
        await server.stop()       # SIGTERM to its PID: checkpoint, then exit

    Also ``async with FDBServer(cfg):`` and, without asyncio, ``start_sync()`` /
    ``stop_sync()`` or ``with FDBServer(cfg):``. The server's output goes to ``log_file``
    (default ``<data_dir>/fdb-server.log``; ``None`` or ``"-"``: inherit this process's stderr).

    Args:
        config: the settings (default ``FDBConfig()``).
        binary: the fdb-server to run (see :func:`find_server_binary`).
        extra_args: more ``--name value`` flags for the server (any ``CONFIG GET`` parameter,
            e.g. ``["--requirepass", "secret"]``).
        log_file: where the server's output goes.
    """

    def __init__(self, config: Optional[FDBConfig] = None, *, binary: Optional[str] = None,
                 extra_args: Sequence[str] = (), log_file: Optional[str] = "") -> None:
        self.config = config or FDBConfig()
        self.binary = binary
        self.extra_args = list(extra_args)
        self.log_file = (os.path.join(self.config.data_dir, "fdb-server.log")
                         if log_file == "" else log_file)
        self.process: Optional[subprocess.Popen] = None

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<FDBServer {self.config.host}:{self.config.port} {state}>"

    @property
    def pid(self) -> Optional[int]:
        """The server's PID while it runs."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def args(self) -> List[str]:
        """The command line that :meth:`start` runs."""
        return [find_server_binary(self.binary), *self.config.to_server_args(), *self.extra_args]

    def _spawn(self) -> None:
        if self.running:
            return
        args = self.args
        os.makedirs(self.config.data_dir, exist_ok=True)
        log: Optional[IO[bytes]] = None
        if self.log_file and self.log_file != "-":
            log = open(self.log_file, "ab")
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT if log else None)
        finally:
            if log is not None:
                log.close()

    def _log_tail(self) -> str:
        if not self.log_file or self.log_file == "-":
            return ""
        try:
            return Path(self.log_file).read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    def _check(self) -> bool:
        """True once the server answers; raises if it exited."""
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            self.process = None
            tail = self._log_tail()
            raise FDBServerError(f"fdb-server exited with status {code} while starting"
                                 + (f":\n{tail}" if tail else ""))
        return _answers(_connect_host(self.config.host), self.config.port, self.process.pid)

    def _timed_out(self, timeout: float) -> FDBServerError:
        self.stop_sync()
        return FDBServerError(f"fdb-server did not answer PING on {self.config.host}:"
                              f"{self.config.port} within {timeout} s: {self._log_tail()}")

    # --- asyncio ------------------------------------------------------------------------------

    async def start(self, timeout: float = 30.0) -> "FDBServer":
        """Start the server and wait until it answers PING (recovery of a large directory
        happens before that). Raises FDBServerError if it exits or does not answer in time."""
        self._spawn()
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while not await loop.run_in_executor(None, self._check):
            if time.monotonic() > deadline:
                raise self._timed_out(timeout)
            await asyncio.sleep(0.02)
        return self

    async def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM to the server's PID; wait for it to checkpoint and exit (SIGKILL after
        ``timeout`` s). Returns its exit status (None if it was not running)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.stop_sync, timeout)

    async def __aenter__(self) -> "FDBServer":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # --- blocking -----------------------------------------------------------------------------

    def start_sync(self, timeout: float = 30.0) -> "FDBServer":
        """:meth:`start` without asyncio."""
        self._spawn()
        deadline = time.monotonic() + timeout
        while not self._check():
            if time.monotonic() > deadline:
                raise self._timed_out(timeout)
            time.sleep(0.02)
        return self

    def stop_sync(self, timeout: float = 30.0) -> Optional[int]:
        """:meth:`stop` without asyncio."""
        proc, self.process = self.process, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # this PID only
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def __enter__(self) -> "FDBServer":
        return self.start_sync()

    def __exit__(self, *exc: Any) -> None:
        self.stop_sync()


def create_server(config: Optional[FDBConfig] = None, **kwargs: Any) -> FDBServer:
    """An :class:`FDBServer` for ``config`` (not started: ``await server.start()``)."""
    return FDBServer(config, **kwargs)


# --- command line -----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fdb-server",
        description="Start fdb-server (Redis-compatible, durable) with FDBConfig's settings. "
                    "Other --name value flags are passed to the server unchanged (any CONFIG "
                    "GET parameter, e.g. --requirepass secret, --maxmemory 1gb).")
    d = FDBConfig.model_fields
    p.add_argument("--host", "--bind", dest="host", default=d["host"].default,
                   help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=d["port"].default, help="default %(default)s")
    p.add_argument("--data-dir", "--dir", dest="data_dir", default=d["data_dir"].default,
                   help="data directory (default %(default)s)")
    p.add_argument("--max-connections", "--maxclients", dest="max_connections", type=int,
                   default=d["max_connections"].default)
    p.add_argument("--cache-size", dest="cache_size", type=int, default=d["cache_size"].default,
                   help="values kept in RAM (default %(default)s)")
    p.add_argument("--flush-interval", dest="flush_interval", type=float,
                   default=d["flush_interval"].default,
                   help="> 0: fsync everysec; 0: fsync always (default %(default)s)")
    p.add_argument("--max-workers", "--threads", dest="max_workers", type=int, default=None,
                   help="I/O threads (default: the number of cores)")
    p.add_argument("--compression", choices=["yes", "no"], default="no")
    p.add_argument("--print-command", action="store_true",
                   help="print the fdb-server command line instead of running it")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``fdb-server`` / ``python -m fdb_server``: replace this process with fdb-server."""
    from pydantic import ValidationError

    parser = _parser()
    ns, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    fields = {k: v for k, v in vars(ns).items() if k != "print_command" and v is not None}
    fields["compression"] = fields["compression"] == "yes"
    try:
        config = FDBConfig(**fields)
    except ValidationError as e:
        parser.error(str(e))
    try:
        cmd = FDBServer(config, extra_args=rest, log_file=None).args
    except FDBServerError as e:
        print(f"fdb-server: {e}", file=sys.stderr)
        return 1
    if ns.print_command:
        print(" ".join(cmd))
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    # exec: the server gets this PID, so signals (Ctrl-C, SIGTERM) and the exit status are its.
    os.execv(cmd[0], cmd)
    return 0  # not reached
