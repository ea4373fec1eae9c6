"""FDB clients: :class:`FDBClient` (asyncio), :class:`FDBSyncClient` and :func:`fdb_client`.

Commands and pipelines go on the fast path (:mod:`fdb._fast`: the client's own connections,
hiredis packing and parsing); redis-py (``redis`` and ``redis.asyncio``) is the client's
``.redis`` and carries everything when the fast path cannot (``fast=False``, a ``retry=``
policy, TLS, Unix sockets, a custom connection class). What FDB adds is the value encoding
(:mod:`fdb.codec`: JSON-native values that keep ``INCR`` working), the original FDB method set
with the collection methods of the embedded engine (:mod:`fdb._commands`), and exceptions from
:mod:`fdb.errors`.

Host and port default to the environment variables ``FDB_HOST`` and ``FDB_PORT`` when set,
else ``localhost`` and ``6380``. Explicit arguments always win.
"""

from __future__ import annotations

import contextlib
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
)

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.exceptions
import redis.retry
from redis.backoff import ExponentialBackoff

from ._commands import (  # noqa: F401 - the names used here, and DEFAULT_HOST/PORT re-exported
    COLLECTION_METHODS, DEFAULT_HOST, DEFAULT_PORT, ExpiryT, KeyT, _c_delete, _c_exists,
    _c_expire, _c_get, _c_incrby, _c_incrby_n, _c_info, _c_keys, _c_mget, _c_mset, _c_set,
    _c_ttl, _Cmd, _DBSIZE, _decode_or_none, _FLUSHDB, _install_collections, _k, _PING,
    _resolve_host, _resolve_port, _T,
)
from . import _fast
from .codec import decode, encode
from .errors import FDBError, translate

_pack = _fast.pack
_MULTI = _pack(("MULTI",))
_EXEC = _pack(("EXEC",))

__all__ = [
    "FDBClient",
    "FDBSyncClient",
    "FDBPipeline",
    "FDBAsyncPipeline",
    "fdb_client",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_MAX_CONNECTIONS",
]

DEFAULT_MAX_CONNECTIONS = 50

_P = TypeVar("_P", bound="_PipelineCommands")


# --- Connection settings ----------------------------------------------------------------------


def _pool_kwargs(host: str, port: int, db: int, password: Optional[str], timeout: Optional[float],
                 max_connections: int, retry: Any, extra: Dict[str, Any]) -> Dict[str, Any]:
    kw: Dict[str, Any] = dict(
        host=host,
        port=port,
        db=db,
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=max_connections,
        timeout=timeout,  # BlockingConnectionPool: wait this long for a free connection
        retry=retry,
        # redis-py 5.0 retries only errors listed here (later versions use the Retry's list).
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
    )
    kw.update(extra)
    return kw


def _default_retry(cls: Any, retries: int) -> Any:
    # Reconnect and retry a command on ConnectionError/TimeoutError, quickly: a restarted server
    # is back within milliseconds, and a missing one should be reported without a long wait.
    return cls(ExponentialBackoff(cap=0.25, base=0.02), retries)


def _fast_settings(host: str, port: int, db: int, password: Optional[str],
                   timeout: Optional[float], retries: int, fast: bool, explicit_retry: bool,
                   pool_kwargs: Dict[str, Any]) -> "Optional[_fast.Settings]":
    """The fast path's settings, or None when a setting needs redis-py for every command (see
    fdb._fast)."""
    if not fast or explicit_retry or not set(pool_kwargs) <= _fast.FAST_KWARGS:
        return None
    return _fast.Settings(host, port, timeout, password, db, pool_kwargs.get("username"),
                          pool_kwargs.get("client_name"), retries,
                          bool(pool_kwargs.get("socket_keepalive")))


class _Base:
    """What both clients share: the address, error translation and repr."""

    host: str
    port: int
    db: int

    def _translating(self) -> "contextlib.AbstractContextManager[None]":
        return _translating(self.host, self.port)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port!r}, db={self.db!r})"


@contextlib.contextmanager
def _translating(host: str, port: int) -> Iterator[None]:
    try:
        yield
    except redis.exceptions.RedisError as e:
        raise translate(e, host, port) from e


# --- Pipelines --------------------------------------------------------------------------------


class _Clean(list):
    """Replies known to hold no error (the fast path checked them in C): _finish skips its
    own check."""

    __slots__ = ()


class _PipelineCommands:
    """The commands a pipeline queues; each returns the pipeline, so calls can be chained."""

    def __init__(self, pipe: Any, host: str, port: int, fast: Any = None,
                 transaction: bool = True) -> None:
        # ``pipe``: redis-py's pipeline, or None on the fast path (``fast``: the client's
        # fdb._fast pool), where the commands are packed as they are queued and sent in one
        # write, wrapped in MULTI/EXEC for a transaction.
        self._pipe = pipe
        self._fast = fast
        self._transaction = transaction
        self._packed: List[bytes] = []
        self._posts: List[Callable[[Any], Any]] = []
        self.host = host
        self.port = port

    def _queue(self: _P, cmd: "_Cmd[Any]") -> _P:
        if self._fast is not None:
            self._packed.append(_pack(cmd.args))
        else:
            self._pipe.execute_command(*cmd.args)
        self._posts.append(cmd.post)
        return self

    def _fast_request(self) -> Tuple[bytes, int]:
        packed, self._packed = self._packed, []
        if self._transaction:
            return _MULTI + b"".join(packed) + _EXEC, len(packed) + 2
        return b"".join(packed), len(packed)

    def _fast_replies(self, replies: List[Any], raise_on_error: bool) -> List[Any]:
        """The replies of the queued commands from the raw replies of the batch, errors as
        FDB exceptions (the first one raised with ``raise_on_error``)."""
        if self._transaction:
            queued, replies = replies[1:-1], replies[-1]
            if isinstance(replies, _fast._ReplyError):  # EXECABORT: a command was refused
                first = next((r for r in queued if isinstance(r, _fast._ReplyError)), replies)
                self._posts = []
                raise _fast.from_reply_text(str(first))
            if replies is None:
                self._posts = []
                raise FDBError("the transaction was aborted (EXEC returned nil)")
        if _fast._ReplyError not in map(type, replies):  # the common case: no error reply
            return _Clean(replies)
        out = [_fast.from_reply_text(str(r)) if isinstance(r, _fast._ReplyError) else r
               for r in replies]
        if raise_on_error:
            for r in out:
                if isinstance(r, FDBError):
                    self._posts = []
                    raise r
        return out

    def __len__(self) -> int:
        return len(self._posts)

    def _finish(self, replies: List[Any]) -> List[Any]:
        posts, self._posts = self._posts, []
        for reply in () if type(replies) is _Clean else replies:
            if isinstance(reply, Exception):  # an error in its slot (raise_on_error=False)
                break
        else:
            if _decode_or_none in posts and posts.count(_decode_or_none) == len(posts):
                return list(map(_decode_or_none, replies))  # a batch of plain gets
            return [post(reply) for post, reply in zip(posts, replies)]
        out: List[Any] = []
        for post, reply in zip(posts, replies):
            if isinstance(reply, Exception):
                out.append(translate(reply, self.host, self.port))
            else:
                out.append(post(reply))
        return out

    def set(self: _P, key: KeyT, value: Any, ex: Optional[ExpiryT] = None,
            px: Optional[ExpiryT] = None, nx: bool = False, xx: bool = False) -> _P:
        """Queue :meth:`FDBClient.set`."""
        return self._queue(_c_set(key, value, ex, px, nx, xx))

    def get(self: _P, key: KeyT, default: Any = None) -> _P:
        """Queue :meth:`FDBClient.get`."""
        if self._fast is not None and default is None:  # the common case, without a _Cmd
            self._packed.append(_pack(("GET", _k(key))))
            self._posts.append(_decode_or_none)
            return self
        return self._queue(_c_get(key, default))

    def delete(self: _P, *keys: KeyT) -> _P:
        """Queue :meth:`FDBClient.delete`."""
        return self._queue(_c_delete(keys))

    def exists(self: _P, *keys: KeyT) -> _P:
        """Queue :meth:`FDBClient.exists`."""
        return self._queue(_c_exists(keys))

    def keys(self: _P, pattern: KeyT = "*") -> _P:
        """Queue :meth:`FDBClient.keys`."""
        return self._queue(_c_keys(pattern))

    def dbsize(self: _P) -> _P:
        """Queue :meth:`FDBClient.dbsize`."""
        return self._queue(_DBSIZE)

    def flushdb(self: _P) -> _P:
        """Queue :meth:`FDBClient.flushdb`."""
        return self._queue(_FLUSHDB)

    def ping(self: _P) -> _P:
        """Queue :meth:`FDBClient.ping`."""
        return self._queue(_PING)

    def expire(self: _P, key: KeyT, seconds: ExpiryT) -> _P:
        """Queue :meth:`FDBClient.expire`."""
        return self._queue(_c_expire(key, seconds))

    def ttl(self: _P, key: KeyT) -> _P:
        """Queue :meth:`FDBClient.ttl`."""
        return self._queue(_c_ttl(key))

    def incr(self: _P, key: KeyT, amount: int = 1) -> _P:
        """Queue :meth:`FDBClient.incr`."""
        return self._queue(_c_incrby("INCRBY", key, amount))

    def incrby(self: _P, key: KeyT, amount: int) -> _P:
        """Queue :meth:`FDBClient.incrby`."""
        return self._queue(_c_incrby_n(key, amount))

    def decr(self: _P, key: KeyT, amount: int = 1) -> _P:
        """Queue :meth:`FDBClient.decr`."""
        return self._queue(_c_incrby("DECRBY", key, amount))

    def mget(self: _P, *keys: Any, default: Any = None) -> _P:
        """Queue :meth:`FDBClient.mget`."""
        return self._queue(_c_mget(keys, default))

    def mset(self: _P, mapping: Mapping[KeyT, Any]) -> _P:
        """Queue :meth:`FDBClient.mset`."""
        return self._queue(_c_mset(mapping))


class FDBPipeline(_PipelineCommands):
    """A batch of commands sent in one round trip by :meth:`FDBSyncClient.pipeline` (a
    ``MULTI``/``EXEC`` transaction unless ``transaction=False``). Queue commands, then call
    :meth:`execute`; usable as a context manager (discards unexecuted commands on exit)."""

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queued commands; return their results, decoded like the client's methods.

        With ``raise_on_error=False`` a failed command's slot holds its :class:`FDBError`
        instead of raising the first one.
        """
        if self._fast is not None:
            if not self._posts:
                return []
            data, n = self._fast_request()
            try:
                replies = self._fast.call(data, n)
            except BaseException:
                self._posts = []
                raise
            return self._finish(self._fast_replies(replies, raise_on_error))
        try:
            with _translating(self.host, self.port):
                replies = self._pipe.execute(raise_on_error=raise_on_error)
        except BaseException:
            self._posts = []
            raise
        return self._finish(replies)

    def reset(self) -> None:
        """Discard the queued commands."""
        self._posts = []
        self._packed = []
        if self._pipe is not None:
            self._pipe.reset()

    def __enter__(self) -> "FDBPipeline":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.reset()


class FDBAsyncPipeline(_PipelineCommands):
    """The asyncio twin of :class:`FDBPipeline`, from :meth:`FDBClient.pipeline`. Queueing is
    synchronous (``pipe.set(...)``); ``await pipe.execute()`` sends the batch."""

    async def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queued commands; return their decoded results (see
        :meth:`FDBPipeline.execute`)."""
        if self._fast is not None:
            if not self._posts:
                return []
            data, n = self._fast_request()
            try:
                replies = await self._fast.call(data, n)
            except BaseException:
                self._posts = []
                raise
            return self._finish(self._fast_replies(replies, raise_on_error))
        try:
            with _translating(self.host, self.port):
                replies = await self._pipe.execute(raise_on_error=raise_on_error)
        except BaseException:
            self._posts = []
            raise
        return self._finish(replies)

    async def reset(self) -> None:
        """Discard the queued commands."""
        self._posts = []
        self._packed = []
        if self._pipe is None:
            return
        res = self._pipe.reset()
        if res is not None and hasattr(res, "__await__"):
            await res

    async def __aenter__(self) -> "FDBAsyncPipeline":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.reset()


# --- The clients ------------------------------------------------------------------------------


class FDBSyncClient(_Base):
    """Synchronous FDB client over a redis-py connection pool.

    Args:
        host: server host; default ``$FDB_HOST`` or ``"localhost"``.
        port: server port; default ``$FDB_PORT`` or ``6380``.
        db: logical database number (``SELECT``).
        password: ``AUTH`` password (fdb-server ``--requirepass``).
        timeout: seconds for connecting, for each reply, and for waiting for a free pooled
            connection; ``None`` waits forever.
        max_connections: size of the connection pool (callers beyond it wait up to ``timeout``).
        retries: how many times a command is retried, after reconnecting, on a connection error
            or timeout (redis-py's ``Retry``; pass ``retry=`` for a policy of your own).
        fast: send single commands on the fast path (:mod:`fdb._fast`: hiredis, no redis-py
            layers); pipelines, transactions and :attr:`redis` always use redis-py. ``False``,
            a ``retry=`` policy, or a pool keyword the fast path does not handle (TLS, a Unix
            socket, ``connection_class`` ...) send everything through redis-py.
        **pool_kwargs: passed through to redis-py's ``BlockingConnectionPool`` / connections,
            e.g. ``username``, ``health_check_interval``, ``socket_keepalive``, ``client_name``,
            ``protocol=3``, ``retry``, ``connection_class``.

    Use as a context manager (``with FDBSyncClient() as db:``) or call :meth:`connect` /
    :meth:`close`. Commands connect lazily, so :meth:`connect` is only needed to fail early.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, db: int = 0,
                 password: Optional[str] = None, timeout: Optional[float] = 5.0,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, retries: int = 3,
                 fast: bool = True, **pool_kwargs: Any) -> None:
        self.host = _resolve_host(host)
        self.port = _resolve_port(port)
        self.db = db
        self.timeout = timeout
        fs = _fast_settings(self.host, self.port, db, password, timeout, retries, fast,
                            "retry" in pool_kwargs, pool_kwargs)
        self._fast: Optional[_fast.SyncPool] = _fast.SyncPool(fs) if fs is not None else None
        retry = pool_kwargs.pop("retry", None) or _default_retry(redis.retry.Retry, retries)
        pool_kwargs.setdefault("connection_pool_class", redis.BlockingConnectionPool)
        pool_class = pool_kwargs.pop("connection_pool_class")
        self._pool = pool_class(**_pool_kwargs(self.host, self.port, db, password, timeout,
                                               max_connections, retry, pool_kwargs))
        self._redis = redis.Redis(connection_pool=self._pool)

    @property
    def redis(self) -> "redis.Redis":
        """The underlying ``redis.Redis`` (raw bytes, no FDB encoding) for anything else."""
        return self._redis

    def _run(self, cmd: "_Cmd[_T]") -> _T:
        f = self._fast
        if f is not None:
            return cmd.post(f.call(_pack(cmd.args)))
        # try/except rather than self._translating(): a context manager costs about a
        # microsecond per call, which shows on a loopback round trip.
        try:
            reply = self._redis.execute_command(*cmd.args)
        except redis.exceptions.RedisError as e:
            raise translate(e, self.host, self.port) from e
        return cmd.post(reply)

    def connect(self) -> "FDBSyncClient":
        """Check the server answers (``PING``); raise :class:`FDBConnectionError` if not."""
        self._run(_PING)
        return self

    def close(self) -> None:
        """Close all pooled connections. The client reconnects if used again."""
        if self._fast is not None:
            self._fast.close()
        self._redis.close()
        self._pool.disconnect()

    def __enter__(self) -> "FDBSyncClient":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def pipeline(self, transaction: bool = True) -> FDBPipeline:
        """A :class:`FDBPipeline`: the queued commands go in one round trip (in a
        ``MULTI``/``EXEC`` transaction unless ``transaction=False``)."""
        if self._fast is not None:
            return FDBPipeline(None, self.host, self.port, self._fast, transaction)
        return FDBPipeline(self._redis.pipeline(transaction=transaction), self.host, self.port)

    def set(self, key: KeyT, value: Any, ex: Optional[ExpiryT] = None,
            px: Optional[ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
        """Store ``value`` (JSON-native, see :mod:`fdb.codec`). ``ex``/``px``: expire after
        seconds/milliseconds; ``nx``: only if absent; ``xx``: only if present. Returns whether
        the value was stored."""
        if ex is None and px is None and not nx and not xx:
            # The common case without building a _Cmd (the per-call cost matters for a cache).
            f = self._fast
            if f is not None:
                f.call(_pack(("SET", _k(key), encode(value))))
                return True
            try:
                self._redis.execute_command("SET", _k(key), encode(value))
            except redis.exceptions.RedisError as e:
                raise translate(e, self.host, self.port) from e
            return True
        return self._run(_c_set(key, value, ex, px, nx, xx))

    def get(self, key: KeyT, default: Any = None) -> Any:
        """The value at ``key``, decoded; ``default`` if the key does not exist."""
        f = self._fast
        if f is not None:
            reply = f.call(_pack(("GET", _k(key))))
            return default if reply is None else decode(reply)
        try:
            reply = self._redis.execute_command("GET", _k(key))
        except redis.exceptions.RedisError as e:
            raise translate(e, self.host, self.port) from e
        return default if reply is None else decode(reply)

    def delete(self, *keys: KeyT) -> int:
        """Delete keys; return how many existed."""
        return self._run(_c_delete(keys))

    def exists(self, *keys: KeyT) -> int:
        """How many of ``keys`` exist (a key named twice counts twice)."""
        return self._run(_c_exists(keys))

    def keys(self, pattern: KeyT = "*") -> List[str]:
        """Key names matching a glob ``pattern`` (``KEYS``)."""
        return self._run(_c_keys(pattern))

    def dbsize(self) -> int:
        """Number of keys in the database."""
        return self._run(_DBSIZE)

    def flushdb(self) -> bool:
        """Delete every key in the database."""
        return self._run(_FLUSHDB)

    def ping(self) -> bool:
        """True if the server answers."""
        return self._run(_PING)

    def info(self, section: Optional[str] = None) -> Dict[str, Any]:
        """Server information as one flat dict, as redis-py's ``info()`` (numbers parsed),
        including FDB's own fields (``fdb_version``, ``fdb_fsync``, ``cache_entries``...)."""
        cmd = _c_info(section)
        try:
            reply = self._redis.execute_command(*cmd.args)
        except redis.exceptions.RedisError as e:
            raise translate(e, self.host, self.port) from e
        return cmd.post(reply)

    def expire(self, key: KeyT, seconds: ExpiryT) -> bool:
        """Set a time to live; False if the key does not exist."""
        return self._run(_c_expire(key, seconds))

    def ttl(self, key: KeyT) -> int:
        """Seconds to live; -1 if the key has no expiry, -2 if it does not exist."""
        return self._run(_c_ttl(key))

    def incr(self, key: KeyT, amount: int = 1) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if absent); return the new value."""
        return self._run(_c_incrby("INCRBY", key, amount))

    def incrby(self, key: KeyT, amount: int) -> int:
        """Add ``amount`` to the integer at ``key``; return the new value."""
        return self._run(_c_incrby_n(key, amount))

    def decr(self, key: KeyT, amount: int = 1) -> int:
        """Subtract ``amount`` from the integer at ``key``; return the new value."""
        return self._run(_c_incrby("DECRBY", key, amount))

    def mget(self, *keys: Any, default: Any = None) -> List[Any]:
        """Values of several keys (``mget("a", "b")`` or ``mget(["a", "b"])``), ``default``
        for missing ones."""
        return self._run(_c_mget(keys, default))

    def mset(self, mapping: Mapping[KeyT, Any]) -> bool:
        """Store several values at once (atomically)."""
        return self._run(_c_mset(mapping))


class FDBClient(_Base):
    """Asyncio FDB client over a ``redis.asyncio`` connection pool.

    Same arguments as :class:`FDBSyncClient`; every command is a coroutine. Use
    ``async with FDBClient() as db:``, :func:`fdb_client`, or :meth:`connect` / :meth:`close`.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, db: int = 0,
                 password: Optional[str] = None, timeout: Optional[float] = 5.0,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, retries: int = 3,
                 fast: bool = True, **pool_kwargs: Any) -> None:
        self.host = _resolve_host(host)
        self.port = _resolve_port(port)
        self.db = db
        self.timeout = timeout
        fs = _fast_settings(self.host, self.port, db, password, timeout, retries, fast,
                            "retry" in pool_kwargs, pool_kwargs)
        self._fast: Optional[_fast.AsyncPool] = _fast.AsyncPool(fs) if fs is not None else None
        retry = pool_kwargs.pop("retry", None) or _default_retry(redis.asyncio.retry.Retry, retries)
        pool_kwargs.setdefault("connection_pool_class", redis.asyncio.BlockingConnectionPool)
        pool_class = pool_kwargs.pop("connection_pool_class")
        self._pool = pool_class(**_pool_kwargs(self.host, self.port, db, password, timeout,
                                               max_connections, retry, pool_kwargs))
        self._redis = redis.asyncio.Redis(connection_pool=self._pool)

    @property
    def redis(self) -> "redis.asyncio.Redis":
        """The underlying ``redis.asyncio.Redis`` (raw bytes, no FDB encoding)."""
        return self._redis

    async def _run(self, cmd: "_Cmd[_T]") -> _T:
        f = self._fast
        if f is not None:
            return cmd.post(await f.call(_pack(cmd.args)))
        return await self._run_redis(cmd)

    async def _run_redis(self, cmd: "_Cmd[_T]") -> _T:
        with self._translating():
            reply = await self._redis.execute_command(*cmd.args)
        return cmd.post(reply)

    async def connect(self) -> "FDBClient":
        """Check the server answers (``PING``); raise :class:`FDBConnectionError` if not."""
        await self._run(_PING)
        return self

    async def close(self) -> None:
        """Close all pooled connections. The client reconnects if used again."""
        if self._fast is not None:
            self._fast.close()
        aclose = getattr(self._redis, "aclose", None)
        await (aclose() if aclose is not None else self._redis.close())
        await self._pool.disconnect()

    async def __aenter__(self) -> "FDBClient":
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def pipeline(self, transaction: bool = True) -> FDBAsyncPipeline:
        """A :class:`FDBAsyncPipeline`: the queued commands go in one round trip (in a
        ``MULTI``/``EXEC`` transaction unless ``transaction=False``)."""
        if self._fast is not None:
            return FDBAsyncPipeline(None, self.host, self.port, self._fast, transaction)
        return FDBAsyncPipeline(self._redis.pipeline(transaction=transaction), self.host,
                                self.port)

    async def set(self, key: KeyT, value: Any, ex: Optional[ExpiryT] = None,
                  px: Optional[ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
        """Store ``value`` (JSON-native, see :mod:`fdb.codec`). ``ex``/``px``: expire after
        seconds/milliseconds; ``nx``: only if absent; ``xx``: only if present. Returns whether
        the value was stored."""
        f = self._fast
        if f is not None and ex is None and px is None and not nx and not xx:
            packed = _pack(("SET", key.encode("utf-8", "surrogateescape")
                            if type(key) is str else _k(key), encode(value)))
            reply = f.now(packed)  # sequential calls: the reply read in place (fdb._fast)
            if reply is _fast.LATER:
                await f.call(packed)
            elif type(reply) is _fast.Future:
                await f.call(packed, sent=reply)
            elif type(reply) is _fast._ReplyError:
                raise _fast.from_reply_text(str(reply))
            return True
        return await self._run(_c_set(key, value, ex, px, nx, xx))

    async def get(self, key: KeyT, default: Any = None) -> Any:
        """The value at ``key``, decoded; ``default`` if the key does not exist."""
        f = self._fast
        if f is not None:
            packed = _pack(("GET", key.encode("utf-8", "surrogateescape")
                            if type(key) is str else _k(key)))
            reply = f.now(packed)  # as in set()
            if reply is _fast.LATER:
                reply = await f.call(packed)
            elif type(reply) is _fast.Future:
                reply = await f.call(packed, sent=reply)
            elif type(reply) is _fast._ReplyError:
                raise _fast.from_reply_text(str(reply))
            return default if reply is None else decode(reply)
        return await self._run(_c_get(key, default))

    async def delete(self, *keys: KeyT) -> int:
        """Delete keys; return how many existed."""
        return await self._run(_c_delete(keys))

    async def exists(self, *keys: KeyT) -> int:
        """How many of ``keys`` exist (a key named twice counts twice)."""
        return await self._run(_c_exists(keys))

    async def keys(self, pattern: KeyT = "*") -> List[str]:
        """Key names matching a glob ``pattern`` (``KEYS``)."""
        return await self._run(_c_keys(pattern))

    async def dbsize(self) -> int:
        """Number of keys in the database."""
        return await self._run(_DBSIZE)

    async def flushdb(self) -> bool:
        """Delete every key in the database."""
        return await self._run(_FLUSHDB)

    async def ping(self) -> bool:
        """True if the server answers."""
        return await self._run(_PING)

    async def info(self, section: Optional[str] = None) -> Dict[str, Any]:
        """Server information as one flat dict, as redis-py's ``info()`` (numbers parsed),
        including FDB's own fields (``fdb_version``, ``fdb_fsync``, ``cache_entries``...)."""
        return await self._run_redis(_c_info(section))

    async def expire(self, key: KeyT, seconds: ExpiryT) -> bool:
        """Set a time to live; False if the key does not exist."""
        return await self._run(_c_expire(key, seconds))

    async def ttl(self, key: KeyT) -> int:
        """Seconds to live; -1 if the key has no expiry, -2 if it does not exist."""
        return await self._run(_c_ttl(key))

    async def incr(self, key: KeyT, amount: int = 1) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if absent); return the new value."""
        return await self._run(_c_incrby("INCRBY", key, amount))

    async def incrby(self, key: KeyT, amount: int) -> int:
        """Add ``amount`` to the integer at ``key``; return the new value."""
        return await self._run(_c_incrby_n(key, amount))

    async def decr(self, key: KeyT, amount: int = 1) -> int:
        """Subtract ``amount`` from the integer at ``key``; return the new value."""
        return await self._run(_c_incrby("DECRBY", key, amount))

    async def mget(self, *keys: Any, default: Any = None) -> List[Any]:
        """Values of several keys (``mget("a", "b")`` or ``mget(["a", "b"])``), ``default``
        for missing ones."""
        return await self._run(_c_mget(keys, default))

    async def mset(self, mapping: Mapping[KeyT, Any]) -> bool:
        """Store several values at once (atomically)."""
        return await self._run(_c_mset(mapping))


@contextlib.asynccontextmanager
async def fdb_client(**kwargs: Any) -> AsyncIterator[FDBClient]:
    """``async with fdb_client(**kw) as db:`` -- a connected :class:`FDBClient` (same arguments),
    closed on exit."""
    client = FDBClient(**kwargs)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


_install_collections(_PipelineCommands, "queue")
_install_collections(FDBSyncClient, "sync")
_install_collections(FDBClient, "async")
