"""The embedded engine: FDB's C++ engine in this process, over a data directory, no server.

:func:`create_engine` returns an :class:`AsyncEngine` (the original FDB API: ``await
db.start()``, ``await db.set(...)``); ``create_engine(config, sync=True)`` or
:class:`SyncEngine` gives the same methods as plain calls.

How it works. :mod:`fdb._engine` (python/binding/engine.cc, nanobind) owns one ``fdb::DB``
(include/fdb/db.h): the server's keyspace, storage engine and command dispatcher without the
network layer. Every method builds a command and runs it through that dispatcher, so the
semantics, error texts and on-disk format are exactly fdb-server's, and a data directory written
here is served by fdb-server and the other way round (one process at a time: the directory's
``LOCK`` file). Values use the clients' JSON-native encoding (:mod:`fdb.codec`).

Threads. The engine is thread-safe and releases the GIL during every call but ``get``. The async
engine runs the calls that touch one key or a few (``get``, ``set``, ``incr``, ``hget``,
``lpush`` ...) in the event loop's thread: a value in RAM takes microseconds, less than a hop
to a thread; writes wait for the log's write to the kernel only (fsync ``everysec``). With
fsync ``always`` (``flush_interval=0``) writes run on the pool, and so do the calls that may
take long (``keys``, ``flushdb``, ``save``, ``info``, ``execute``, whole-collection reads such
as ``hgetall``/``lrange``/``smembers``/``zrange``): on its own thread pool of
``config.max_workers`` threads. ``AsyncEngine(..., inline=False)`` sends every call to the pool.

Durability follows ``config.flush_interval`` as for the server: ``> 0`` is ``everysec`` (a
write has reached the kernel when its call returns and is fsynced within about a second), ``0``
is ``always`` (fsynced before the call returns). :meth:`SyncEngine.stop` writes a checkpoint,
so the next start reads the index instead of replaying the log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _commands as _c
from .codec import decode, encode
from .config import FDBConfig
from .errors import FDBError, FDBLockedError, FDBResponseError, FDBWrongTypeError

__all__ = ["SyncEngine", "AsyncEngine", "create_engine", "parse_info"]

KeyT = Union[str, bytes]
_T = TypeVar("_T")


def _load_module() -> Any:
    try:
        from . import _engine  # type: ignore[attr-defined]
    except ImportError as e:
        raise FDBError(
            "the embedded engine (fdb._engine) is not built: install the package with "
            "`pip install ./python`, or build the checkout with `make build` and put "
            f"build/python on PYTHONPATH ({e})"
        ) from e
    return _engine


def _response_error(text: str) -> FDBResponseError:
    return FDBWrongTypeError(text) if text.startswith("WRONGTYPE") else FDBResponseError(text)


def _number(v: str) -> Any:
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def parse_info(text: Union[str, bytes]) -> Dict[str, Any]:
    """INFO's text as one flat dict, as redis-py's ``info()`` gives it: numbers parsed,
    ``a=1,b=2`` values (``db0:keys=1,expires=0``) as dicts."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    info: Dict[str, Any] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if "=" in value and "," in value or value.count("=") == 1 and key.startswith("db"):
            info[key] = {k: _number(v) for k, v in
                         (kv.split("=", 1) for kv in value.split(",") if "=" in kv)}
        else:
            info[key] = _number(value)
    return info



class _Stopped:
    """What :class:`SyncEngine` calls while it is stopped, in place of ``fdb._engine.Engine``:
    every call raises. (So the get/set paths need no check of their own.)"""

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        raise FDBError("the engine is not started: call start() (or `await db.start()`)")

    get = set = execute = close = _raise


_STOPPED = _Stopped()


class SyncEngine:
    """The embedded engine with plain (blocking) methods. Thread-safe.

    ``SyncEngine(config)`` does not open anything; :meth:`start` (or ``with``) opens
    ``config.data_dir`` and :meth:`stop` closes it. Settings used: ``data_dir``,
    ``flush_interval`` (fsync policy), ``cache_size`` (values kept in RAM; the rest are read
    back from disk when needed) and ``compression``; ``host``, ``port``, ``max_connections``
    concern the server only, and ``max_workers`` sizes :class:`AsyncEngine`'s thread pool.

    Raises (from every method): :class:`~fdb.errors.FDBResponseError` (or
    :class:`~fdb.errors.FDBWrongTypeError`) with Redis's error text for an error reply,
    :class:`~fdb.errors.FDBLockedError` from :meth:`start` when another process holds the
    directory, :class:`~fdb.errors.FDBError` for I/O errors and for calls on a stopped engine.
    """

    def __init__(self, config: Optional[FDBConfig] = None, **overrides: Any) -> None:
        cfg = config or FDBConfig()
        if overrides:  # validated like the constructor's arguments
            cfg = FDBConfig.model_validate({**cfg.model_dump(), **overrides})
        self.config: FDBConfig = cfg
        self._e: Any = _STOPPED  # the fdb._engine.Engine while started

    def __repr__(self) -> str:
        state = "open" if self._e is not _STOPPED else "stopped"
        return f"<SyncEngine {self.config.data_dir!r} {state}>"

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._e is not _STOPPED

    def start(self) -> "SyncEngine":
        """Open the data directory (created if missing) and recover its data. Idempotent."""
        if self._e is not _STOPPED:
            return self
        mod = _load_module()
        cfg = self.config
        path = os.path.abspath(cfg.data_dir)
        try:
            self._e = mod.Engine(path, fsync=cfg.fsync_policy, cache_size=cfg.cache_size,
                                 compression=cfg.compression)
        except mod.BusyError as e:
            raise FDBLockedError(
                f"Cannot open the FDB data directory {path!r}: {e}. Stop the fdb-server (or "
                "close the engine) that uses it, or choose another data_dir.", path) from None
        except mod.EngineError as e:
            raise FDBError(f"Cannot open the FDB data directory {path!r}: {e}") from None
        return self

    def stop(self) -> None:
        """Checkpoint, close the log and release the directory. Idempotent."""
        e, self._e = self._e, _STOPPED
        if e is not _STOPPED:
            e.close()

    close = stop

    def __enter__(self) -> "SyncEngine":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- commands -----------------------------------------------------------------------------

    def execute(self, *args: Any) -> Any:
        """Run any command and return its raw reply (bulk -> ``bytes``, integer -> ``int``,
        status -> ``str``, array -> ``list``, nil -> ``None``). Arguments are ``bytes``,
        ``str`` or numbers; values are not encoded. Raises FDBResponseError for an error."""
        return self._call(self._e.execute, args)

    @staticmethod
    def _call(fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` with the engine's errors as FDB's exceptions."""
        try:
            return fn(*args)
        except _REPLY_ERROR as err:
            raise _response_error(str(err)) from None
        except _ENGINE_ERROR as err:
            raise FDBError(str(err)) from None

    def _run(self, cmd: "_c._Cmd[_T]") -> _T:
        return cmd.post(self.execute(*cmd.args))

    def set(self, key: KeyT, value: Any, ex: Optional[_c.ExpiryT] = None,
            px: Optional[_c.ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
        """Store a JSON-native value; ``ex``/``px`` set a TTL (seconds/ms), ``nx``/``xx`` store
        only if the key is absent/present. True if stored."""
        if ex is None and px is None and not nx and not xx:
            # The fast path: straight to DB::Set, one Python frame. The binding takes a key
            # that is exactly str or bytes as it is and raises TypeError for any other key,
            # which is converted as everywhere else (_c._k) and tried again.
            data = encode(value)
            try:
                self._e.set(key, data)
            except TypeError:
                self._call(self._e.set, _c._k(key), data)
            except _REPLY_ERROR as err:
                raise _response_error(str(err)) from None
            except _ENGINE_ERROR as err:
                raise FDBError(str(err)) from None
            return True
        return self._run(_c._c_set(key, value, ex, px, nx, xx))

    def get(self, key: KeyT, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` if the key does not exist."""
        try:  # the fast path, as in set()
            raw = self._e.get(key)
        except TypeError:
            raw = self._call(self._e.get, _c._k(key))
        except _REPLY_ERROR as err:
            raise _response_error(str(err)) from None
        except _ENGINE_ERROR as err:
            raise FDBError(str(err)) from None
        return default if raw is None else decode(raw)

    def delete(self, *keys: KeyT) -> int:
        """Delete keys; the number that existed."""
        return self._run(_c._c_delete(keys))

    def exists(self, *keys: KeyT) -> int:
        """How many of the keys exist."""
        return self._run(_c._c_exists(keys))

    def keys(self, pattern: KeyT = "*") -> List[str]:
        """Keys matching a glob pattern, in no particular order."""
        return self._run(_c._c_keys(pattern))

    def dbsize(self) -> int:
        """Number of keys."""
        return self._run(_c._DBSIZE)

    def flushdb(self) -> bool:
        """Delete every key."""
        return self._run(_c._FLUSHDB)

    def ping(self) -> bool:
        """True if the engine is open and answers."""
        return self._run(_c._PING)

    def info(self, section: Optional[str] = None) -> Dict[str, Any]:
        """INFO as a flat dict (``fdb_version``, ``fdb_fsync``, ``cache_entries``, ``db0``...)."""
        args: Tuple[Any, ...] = ("INFO", section) if section else ("INFO",)
        return parse_info(self.execute(*args))

    def save(self) -> bool:
        """Write a checkpoint now (SAVE)."""
        return self.execute("SAVE") == "OK"

    def expire(self, key: KeyT, seconds: _c.ExpiryT) -> bool:
        """Set a time to live; False if the key does not exist."""
        return self._run(_c._c_expire(key, seconds))

    def ttl(self, key: KeyT) -> int:
        """Seconds to live; -1 without expiry, -2 for a missing key."""
        return self._run(_c._c_ttl(key))

    def incr(self, key: KeyT, amount: int = 1) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if absent); the new value."""
        return self._run(_c._c_incrby("INCRBY", key, amount))

    def incrby(self, key: KeyT, amount: int) -> int:
        """Add ``amount`` to the integer at ``key``; the new value."""
        return self._run(_c._c_incrby_n(key, amount))

    def decr(self, key: KeyT, amount: int = 1) -> int:
        """Subtract ``amount`` from the integer at ``key``; the new value."""
        return self._run(_c._c_incrby("DECRBY", key, amount))

    def mget(self, *keys: Any, default: Any = None) -> List[Any]:
        """Values of several keys (``mget("a", "b")`` or ``mget(["a", "b"])``)."""
        return self._run(_c._c_mget(keys, default))

    def mset(self, mapping: Mapping[KeyT, Any]) -> bool:
        """Store several values atomically."""
        return self._run(_c._c_mset(mapping))

    # The collection methods (hset, hget, ..., lpush, ..., sadd, ..., zadd, ...) are the
    # clients' (fdb.client.COLLECTION_METHODS), installed below: same names, arguments and
    # results.


_c._install_collections(SyncEngine, "sync")


# Filled on first use of the module (see _bind_errors) so that importing fdb does not need the
# compiled module; until then these match nothing.
class _Never(Exception):
    pass


_REPLY_ERROR: Any = _Never
_ENGINE_ERROR: Any = _Never


def _bind_errors() -> None:
    global _REPLY_ERROR, _ENGINE_ERROR
    try:
        mod = _load_module()
    except FDBError:
        return
    _REPLY_ERROR, _ENGINE_ERROR = mod.ReplyError, mod.EngineError


_bind_errors()

# The methods AsyncEngine runs on its pool (everything but the lifecycle).
_ASYNC_METHODS = (
    "execute set get delete exists keys dbsize flushdb ping info save expire ttl incr incrby "
    "decr mget mset"
).split() + list(_c.COLLECTION_METHODS)


class AsyncEngine:
    """The embedded engine for asyncio: the methods of :class:`SyncEngine` as coroutines. Point
    calls on values in RAM run in the loop's thread; the rest on the engine's thread pool
    (``config.max_workers`` threads; the GIL is released in the engine, so the event loop keeps
    running). See the module docstring, "Threads".

    ::

        db = create_engine(FDBConfig(data_dir="./my_app_db"))
        await db.start()
        try:
            await db.set("config:version", "1.0.0")
        finally:
            await db.stop()

    Also ``async with create_engine(cfg) as db: ...``. :attr:`sync` is the underlying
    :class:`SyncEngine` (usable from other threads at the same time).
    """

    def __init__(self, config: Optional[FDBConfig] = None, *, inline: bool = True,
                 **overrides: Any) -> None:
        self.sync = SyncEngine(config, **overrides)
        self.config = self.sync.config
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        # See _INLINE_READS: point reads and writes run in the loop's thread, no pool hop.
        self._inline_reads = inline
        self._inline_writes = inline and self.config.flush_interval > 0

    def __repr__(self) -> str:
        state = "open" if self.sync.started else "stopped"
        return f"<AsyncEngine {self.config.data_dir!r} {state}>"

    @property
    def started(self) -> bool:
        return self.sync.started

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.config.max_workers, thread_name_prefix="fdb-engine")
        return self._pool

    async def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs) if kwargs else (
            functools.partial(fn, *args) if args else fn)
        return await loop.run_in_executor(self._executor(), call)

    async def start(self) -> "AsyncEngine":
        """Open the data directory and recover its data (on the pool). Idempotent."""
        await self._call(self.sync.start)
        return self

    async def stop(self) -> None:
        """Checkpoint and close (waits for calls in flight). Idempotent."""
        if self._pool is None:
            self.sync.stop()
            return
        await self._call(self.sync.stop)
        pool, self._pool = self._pool, None
        pool.shutdown(wait=False)

    close = stop

    async def __aenter__(self) -> "AsyncEngine":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # Typed stubs of the generated coroutines, for readers and type checkers.
    async def execute(self, *args: Any) -> Any: ...  # noqa: E704
    async def set(self, key: KeyT, value: Any, ex: Optional[_c.ExpiryT] = None,  # noqa: E704
                  px: Optional[_c.ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool: ...
    async def get(self, key: KeyT, default: Any = None) -> Any: ...  # noqa: E704
    async def delete(self, *keys: KeyT) -> int: ...  # noqa: E704
    async def exists(self, *keys: KeyT) -> int: ...  # noqa: E704
    async def keys(self, pattern: KeyT = "*") -> List[str]: ...  # noqa: E704
    async def dbsize(self) -> int: ...  # noqa: E704
    async def flushdb(self) -> bool: ...  # noqa: E704
    async def ping(self) -> bool: ...  # noqa: E704
    async def info(self, section: Optional[str] = None) -> Dict[str, Any]: ...  # noqa: E704
    async def save(self) -> bool: ...  # noqa: E704
    async def expire(self, key: KeyT, seconds: _c.ExpiryT) -> bool: ...  # noqa: E704
    async def ttl(self, key: KeyT) -> int: ...  # noqa: E704
    async def incr(self, key: KeyT, amount: int = 1) -> int: ...  # noqa: E704
    async def incrby(self, key: KeyT, amount: int) -> int: ...  # noqa: E704
    async def decr(self, key: KeyT, amount: int = 1) -> int: ...  # noqa: E704
    async def mget(self, *keys: Any, default: Any = None) -> List[Any]: ...  # noqa: E704
    async def mset(self, mapping: Mapping[KeyT, Any]) -> bool: ...  # noqa: E704
    async def hset(self, key: KeyT, field: Optional[KeyT] = None, value: Any = None,  # noqa
                   mapping: Optional[Mapping[KeyT, Any]] = None) -> int: ...
    async def hget(self, key: KeyT, field: KeyT, default: Any = None) -> Any: ...  # noqa: E704
    async def hgetall(self, key: KeyT) -> Dict[str, Any]: ...  # noqa: E704
    async def hdel(self, key: KeyT, *fields: KeyT) -> int: ...  # noqa: E704
    async def lpush(self, key: KeyT, *values: Any) -> int: ...  # noqa: E704
    async def rpush(self, key: KeyT, *values: Any) -> int: ...  # noqa: E704
    async def lpop(self, key: KeyT, default: Any = None) -> Any: ...  # noqa: E704
    async def rpop(self, key: KeyT, default: Any = None) -> Any: ...  # noqa: E704
    async def lrange(self, key: KeyT, start: int = 0, stop: int = -1) -> List[Any]: ...  # noqa
    async def llen(self, key: KeyT) -> int: ...  # noqa: E704
    async def sadd(self, key: KeyT, *members: Any) -> int: ...  # noqa: E704
    async def srem(self, key: KeyT, *members: Any) -> int: ...  # noqa: E704
    async def smembers(self, key: KeyT) -> List[Any]: ...  # noqa: E704
    async def sismember(self, key: KeyT, member: Any) -> bool: ...  # noqa: E704
    async def zadd(self, key: KeyT, mapping: Mapping[Any, float]) -> int: ...  # noqa: E704
    async def zrange(self, key: KeyT, start: int = 0, stop: int = -1,  # noqa: E704
                     withscores: bool = False) -> List[Any]: ...
    async def zscore(self, key: KeyT, member: Any) -> Optional[float]: ...  # noqa: E704
    async def zrem(self, key: KeyT, *members: Any) -> int: ...  # noqa: E704


# Calls that touch one key (or a few named ones) and cannot wait long: run in the event loop's
# own thread, no hop to the pool. A value in RAM is read or written in a few microseconds --
# less than the hop itself (~50 µs: a pool thread wakes, then the loop is woken). Writes wait
# for their log record to reach the kernel (fsync everysec), not for the disk; with fsync
# "always" (flush_interval=0) they wait for an fsync, so then the writes go to the pool.
# A read of a value evicted from RAM (cache_size) is a read of the data file, usually from the
# page cache; AsyncEngine(inline=False) sends every call to the pool instead.
_INLINE_READS = frozenset(
    "get exists mget ttl ping dbsize hget hmget hexists hlen lindex llen sismember scard "
    "zscore zrank zcard".split())
_INLINE_WRITES = frozenset(
    "set delete incr incrby decr mset expire hset hdel hincrby lpush rpush lpop rpop sadd srem "
    "zadd zincrby zrem".split())


def _make_async(name: str) -> Callable[..., Any]:
    sync_method = getattr(SyncEngine, name)
    read = name in _INLINE_READS
    write = name in _INLINE_WRITES

    if read or write:
        @functools.wraps(sync_method)
        async def method(self: AsyncEngine, *args: Any, **kwargs: Any) -> Any:
            if self._inline_reads if read else self._inline_writes:
                return getattr(self.sync, name)(*args, **kwargs)
            return await self._call(getattr(self.sync, name), *args, **kwargs)
    else:
        @functools.wraps(sync_method)
        async def method(self: AsyncEngine, *args: Any, **kwargs: Any) -> Any:
            return await self._call(getattr(self.sync, name), *args, **kwargs)

    return method


# Replace the stubs with coroutines that run the SyncEngine method (its docstring included).
for _name in _ASYNC_METHODS:
    setattr(AsyncEngine, _name, _make_async(_name))
del _name


# get and set, the calls a cache makes most, without the generic wrapper's lookups.
# The inline cases repeat SyncEngine.get/set's fast path here rather than calling it: one
# Python call less per operation (~8% of a set).
async def _async_get(self: AsyncEngine, key: KeyT, default: Any = None) -> Any:
    if self._inline_reads:
        try:
            raw = self.sync._e.get(key)
        except TypeError:  # a key that is not exactly str/bytes: the general path
            return self.sync.get(key, default)
        except _REPLY_ERROR as err:
            raise _response_error(str(err)) from None
        except _ENGINE_ERROR as err:
            raise FDBError(str(err)) from None
        return default if raw is None else decode(raw)
    return await self._call(self.sync.get, key, default)


async def _async_set(self: AsyncEngine, key: KeyT, value: Any, ex: Optional[_c.ExpiryT] = None,
                     px: Optional[_c.ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
    if self._inline_writes:
        if ex is None and px is None and not nx and not xx:
            data = encode(value)
            try:
                self.sync._e.set(key, data)
            except TypeError:  # a key that is not exactly str/bytes: the general path
                return self.sync.set(key, value)
            except _REPLY_ERROR as err:
                raise _response_error(str(err)) from None
            except _ENGINE_ERROR as err:
                raise FDBError(str(err)) from None
            return True
        return self.sync.set(key, value, ex, px, nx, xx)
    return await self._call(self.sync.set, key, value, ex, px, nx, xx)


_async_get.__doc__, _async_set.__doc__ = SyncEngine.get.__doc__, SyncEngine.set.__doc__
_async_get.__name__, _async_set.__name__ = "get", "set"
_async_get.__qualname__, _async_set.__qualname__ = "AsyncEngine.get", "AsyncEngine.set"
AsyncEngine.get = _async_get  # type: ignore[method-assign]
AsyncEngine.set = _async_set  # type: ignore[method-assign]


def create_engine(config: Optional[FDBConfig] = None, *, sync: bool = False,
                  **overrides: Any) -> Union[AsyncEngine, SyncEngine]:
    """The embedded engine over ``config.data_dir`` (not yet open: call ``start()``).

    Returns an :class:`AsyncEngine`, or a :class:`SyncEngine` with ``sync=True``. Keyword
    ``overrides`` replace fields of ``config`` (validated): ``create_engine(data_dir="./db")``.
    """
    return SyncEngine(config, **overrides) if sync else AsyncEngine(config, **overrides)
