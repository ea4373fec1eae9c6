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

import asyncio
import atexit
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


# The servers this process started and has not stopped. At interpreter exit they are stopped
# (SIGTERM, then a wait for the checkpoint): a script that starts a server and ends -- or
# forgets stop() -- does not leave it running unnoticed. keep_running=True opts a server out.
_LIVE: "dict[int, FDBServer]" = {}


def _stop_all_at_exit() -> None:
    for server in list(_LIVE.values()):
        if server.keep_running:
            if server.running:
                print(f"fdb: fdb-server keeps running on {server.config.host}:"
                      f"{server.config.port} (pid {server.pid}; keep_running=True)",
                      file=sys.stderr)
            continue
        try:
            server.stop_sync()
        except Exception:  # pragma: no cover - best effort at exit
            pass


atexit.register(_stop_all_at_exit)


class FDBServer:
    """One fdb-server child process configured by an :class:`FDBConfig`.

    ::

        server = FDBServer(FDBConfig(port=6390, data_dir="./fdb_data"))
        await server.start()      # returns once the server answers PING
        ...
        await server.stop()       # SIGTERM to its PID: checkpoint, then exit

    Also ``async with FDBServer(cfg):`` and, without asyncio, ``start_sync()`` /
    ``stop_sync()`` or ``with FDBServer(cfg):``. The server's output goes to ``log_file``
    (default ``<data_dir>/fdb-server.log``; ``None`` or ``"-"``: inherit this process's
    standard output, where the server logs).

    Args:
        config: the settings (default ``FDBConfig()``).
        binary: the fdb-server to run (see :func:`find_server_binary`).
        extra_args: more ``--name value`` flags for the server (any ``CONFIG GET`` parameter,
            e.g. ``["--requirepass", "secret"]``).
        log_file: where the server's output goes.
        keep_running: leave the server running when this Python process exits (its PID is
            printed to stderr then); by default a server still running at exit is stopped.

    Every failure to start -- no binary, a data directory or log file that cannot be created,
    the server exiting (port in use, directory locked) or not answering in time -- raises
    :class:`FDBServerError` with the cause (and the end of the server's log).
    """

    def __init__(self, config: Optional[FDBConfig] = None, *, binary: Optional[str] = None,
                 extra_args: Sequence[str] = (), log_file: Optional[str] = "",
                 keep_running: bool = False) -> None:
        self.keep_running = keep_running
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
        """Start the process. Every failure to do so is an FDBServerError naming the cause."""
        if self.running:
            return
        args = self.args  # FDBServerError if there is no binary
        try:
            os.makedirs(self.config.data_dir, exist_ok=True)
        except OSError as e:
            raise FDBServerError(f"cannot create the data directory {self.config.data_dir!r}: "
                                 f"{e.strerror or e}") from e
        log: Optional[IO[bytes]] = None
        try:
            if self.log_file and self.log_file != "-":
                try:
                    log = open(self.log_file, "ab")
                except OSError as e:
                    raise FDBServerError(f"cannot open the log file {self.log_file!r}: "
                                         f"{e.strerror or e}") from e
            try:
                self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT if log else None)
            except OSError as e:
                raise FDBServerError(f"cannot run {args[0]!r}: {e.strerror or e}") from e
        finally:
            if log is not None:
                log.close()
        _LIVE[id(self)] = self

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
            _LIVE.pop(id(self), None)
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
        _LIVE.pop(id(self), None)
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``fdb-server`` / ``python -m fdb_server``: the bundled fdb-server binary itself.

    This process is replaced by the binary (exec) with the arguments unchanged, so the console
    script takes the binary's flags and defaults (``fdb-server [CONFIG_FILE] [--port N]
    [--NAME VALUE]...``, ``--help``, ``--version``), and signals and the exit status are the
    server's; one exception: without a config file or ``--bind``, ``--bind 127.0.0.1`` comes
    first (the package's servers listen on loopback unless told otherwise).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    # Loopback unless told otherwise, as FDBConfig's ``host``: the binary's own default is
    # Redis's ``* -::*`` (every address, protected mode on). A config file (first argument)
    # keeps its own ``bind``, which a flag would override.
    starts_server = not args or (args[0].startswith("-")
                                 and not {"--help", "-h", "--version", "-v"} & set(args))
    if starts_server and "--bind" not in args:
        args = ["--bind", "127.0.0.1", *args]
    try:
        binary = find_server_binary()
    except FDBServerError as e:
        print(f"fdb-server: {e}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, [binary, *args])
    return 0  # not reached
