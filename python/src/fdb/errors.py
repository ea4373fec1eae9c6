"""FDB's exceptions, and the translation of redis-py's exceptions into them.

Hierarchy::

    FDBError
     +-- FDBConnectionError       cannot reach the server (says how to start one)
     +-- FDBTimeoutError          the server did not answer within ``timeout``
     +-- FDBLockedError           the embedded engine's data directory is held by another
                                  process (a running fdb-server) or another open engine
     +-- FDBServerError           fdb-server could not be started (FDBServer)
     +-- FDBResponseError         the server answered with an error; ``str(e)`` is Redis's text
          +-- FDBWrongTypeError      "WRONGTYPE Operation against a key holding the wrong kind..."
          +-- FDBAuthenticationError "NOAUTH ...", "WRONGPASS ..."

Bad configuration raises pydantic's ``ValidationError`` (see :mod:`fdb.config`); values FDB cannot
store raise ``TypeError``/``ValueError`` (see :mod:`fdb.codec`).
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "FDBError",
    "FDBConnectionError",
    "FDBTimeoutError",
    "FDBLockedError",
    "FDBServerError",
    "FDBResponseError",
    "FDBWrongTypeError",
    "FDBAuthenticationError",
    "translate",
]


class FDBError(Exception):
    """Base class of every error the FDB clients raise."""


class FDBConnectionError(FDBError):
    """The server could not be reached (refused, closed, unreachable).

    Attributes:
        host: the host the client was configured with.
        port: the port the client was configured with.
    """

    def __init__(self, message: str, host: Optional[str] = None, port: Optional[int] = None):
        super().__init__(message)
        self.host = host
        self.port = port


class FDBTimeoutError(FDBError):
    """The server did not answer within the client's ``timeout``."""


class FDBLockedError(FDBError):
    """The data directory is in use: its ``LOCK`` file is held by another process (a running
    fdb-server, another program with an open engine) or by another engine in this process.
    The message names the directory and the holder's PID.

    Attributes:
        data_dir: the directory that could not be opened.
    """

    def __init__(self, message: str, data_dir: Optional[str] = None):
        super().__init__(message)
        self.data_dir = data_dir


class FDBServerError(FDBError):
    """fdb-server could not be started or did not answer in time (:class:`fdb.server.FDBServer`);
    the message carries the end of the server's log."""


class FDBResponseError(FDBError):
    """The server replied with an error. ``str(e)`` is the server's text, e.g.
    ``"ERR value is not an integer or out of range"``; :attr:`code` is its first word."""

    @property
    def code(self) -> str:
        """The error code: the first word of the server's text (``"ERR"``, ``"WRONGTYPE"``...)."""
        text = str(self)
        return text.split(" ", 1)[0] if text else ""


class FDBWrongTypeError(FDBResponseError):
    """A command was used on a key holding another type (Redis's ``WRONGTYPE`` error)."""


class FDBAuthenticationError(FDBResponseError):
    """Authentication is required or failed (``NOAUTH`` / ``WRONGPASS`` / ``ERR invalid password``)."""


# Codes redis-py leaves in the text (not in its EXCEPTION_CLASSES table).
_KEPT_CODES = frozenset(
    "WRONGTYPE BUSYKEY BUSY NOTBUSY NOREPLICAS MISCONF UNBLOCKED NOPROTO NOGOODSLAVE NOTREADY "
    "UNKILLABLE BUSYGROUP NOGROUP INVALIDOBJ CROSSSLOT".split()
)


def _stripped_codes() -> "dict":
    """Codes that redis-py strips from an error's text (older versions do not keep them in
    ``status_code``), by exception class. Plain ResponseError strips "ERR" only. (redis-py is
    imported here, not at the top: `import fdb.errors` stays cheap.)"""
    import redis.exceptions as rex

    return {
        rex.ExecAbortError: "EXECABORT",
        rex.ReadOnlyError: "READONLY",
        rex.NoScriptError: "NOSCRIPT",
        rex.OutOfMemoryError: "OOM",
        rex.NoPermissionError: "NOPERM",
        rex.BusyLoadingError: "LOADING",
    }


def _server_text(exc: Exception) -> str:
    """Rebuild the server's full error text (redis-py strips the leading code)."""
    text = str(exc)
    code = getattr(exc, "status_code", None)
    if code:
        return f"{code} {text}" if not text.startswith(code + " ") else text
    import redis.exceptions as rex

    for cls, stripped in _stripped_codes().items():
        if isinstance(exc, cls):
            return f"{stripped} {text}"
    if type(exc) is rex.ResponseError and text.split(" ", 1)[0] not in _KEPT_CODES:
        return f"ERR {text}"
    return text


def from_reply_text(text: str) -> "FDBResponseError":
    """The exception for an error reply whose full text (code included) is ``text``."""
    if text.startswith("WRONGTYPE"):
        return FDBWrongTypeError(text)
    if text.startswith(("NOAUTH", "WRONGPASS")) or text.startswith("ERR invalid password") or \
            text.startswith("ERR AUTH"):
        return FDBAuthenticationError(text)
    return FDBResponseError(text)


def start_hint(port: Optional[int]) -> str:
    return (
        "Is fdb-server running? Start it with `make run` in the FDB repository "
        f"or `fdb-server --port {port if port is not None else 6380}`."
    )


def translate(exc: BaseException, host: Optional[str] = None, port: Optional[int] = None) -> FDBError:
    """Map a redis-py exception to the matching :class:`FDBError` (the caller raises it ``from``
    the original)."""
    if isinstance(exc, FDBError):
        return exc
    import redis.exceptions as rex

    if isinstance(exc, rex.AuthenticationError) or (
        isinstance(exc, rex.ResponseError) and _server_text(exc).startswith(("NOAUTH", "WRONGPASS"))
    ):
        return FDBAuthenticationError(_server_text(exc))
    if isinstance(exc, rex.TimeoutError):
        return FDBTimeoutError(f"FDB at {host}:{port} did not answer in time: {exc}")
    if isinstance(exc, rex.ConnectionError):
        text = str(exc)
        if "max number of clients" in text:
            return FDBConnectionError(f"FDB at {host}:{port} refused the connection: "
                                      f"ERR {text}", host, port)
        return FDBConnectionError(
            f"Cannot connect to FDB at {host}:{port}: {text} {start_hint(port)}", host, port
        )
    if isinstance(exc, rex.ResponseError):
        text = _server_text(exc)
        if text.startswith("WRONGTYPE"):
            return FDBWrongTypeError(text)
        return FDBResponseError(text)
    return FDBError(str(exc))
