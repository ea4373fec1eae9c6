"""FDB clients: :class:`FDBClient` (asyncio), :class:`FDBSyncClient` and :func:`fdb_client`.

Both clients sit on redis-py (``redis.asyncio`` and ``redis``): connection pooling, pipelines,
RESP parsing and reconnects are redis-py's. What FDB adds is the value encoding
(:mod:`fdb.codec`: JSON-native values that keep ``INCR`` working), the original FDB method set,
and exceptions from :mod:`fdb.errors`.

Host and port default to the environment variables ``FDB_HOST`` and ``FDB_PORT`` when set,
else ``localhost`` and ``6380``. Explicit arguments always win.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generic,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.exceptions
import redis.retry
from redis.backoff import ExponentialBackoff

from .codec import decode, encode
from .errors import translate

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

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6380
DEFAULT_MAX_CONNECTIONS = 50

KeyT = Union[str, bytes]
ExpiryT = Union[int, datetime.timedelta]
_P = TypeVar("_P", bound="_PipelineCommands")
_T = TypeVar("_T")


def _resolve_host(host: Optional[str]) -> str:
    return host if host is not None else (os.environ.get("FDB_HOST") or DEFAULT_HOST)


def _resolve_port(port: Optional[int]) -> int:
    if port is not None:
        return int(port)
    env = os.environ.get("FDB_PORT")
    return int(env) if env else DEFAULT_PORT


def _seconds(value: ExpiryT) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return int(value)


def _millis(value: ExpiryT) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)


def _key_text(key: Any) -> str:
    return key.decode("utf-8", "surrogateescape") if isinstance(key, (bytes, bytearray)) else str(key)


def _k(key: Any) -> bytes:
    """A key (also a hash field name) as bytes; ``str`` keys are UTF-8 (lone surrogates from
    :meth:`keys` map back to the original non-UTF-8 bytes). Any other type is refused: ``None``,
    ``123`` or ``("a",)`` would otherwise become the keys "None", "123", "('a',)"."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8", "surrogateescape")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"FDB keys are str or bytes, not {type(key).__name__} ({key!r:.60}); "
                    f"convert it yourself, e.g. str(key)")


def _ks(keys: Sequence[Any]) -> Tuple[bytes, ...]:
    return tuple(_k(k) for k in keys)


def _flatten(keys: Sequence[Any]) -> List[KeyT]:
    """``mget("a", "b")`` and ``mget(["a", "b"])`` both work."""
    if len(keys) == 1 and isinstance(keys[0], (list, tuple)):
        return list(keys[0])
    return list(keys)


# --- Commands, built once and run by the clients and pipelines --------------------------------


class _Cmd(Generic[_T]):
    """One command: its arguments for ``execute_command`` and how to turn the reply into the
    method's result (after redis-py's own response callback)."""

    __slots__ = ("args", "post")

    def __init__(self, args: Tuple[Any, ...], post: Callable[[Any], _T]) -> None:
        self.args = args
        self.post = post


def _to_bool(reply: Any) -> bool:
    return bool(reply)


def _to_int(reply: Any) -> int:
    return int(reply)


def _c_set(key: KeyT, value: Any, ex: Optional[ExpiryT], px: Optional[ExpiryT], nx: bool,
           xx: bool) -> "_Cmd[bool]":
    if nx and xx:
        raise ValueError("set(): nx and xx are mutually exclusive")
    if ex is not None and px is not None:
        raise ValueError("set(): give ex or px, not both")
    args: List[Any] = ["SET", _k(key), encode(value)]
    if ex is not None:
        args += ["EX", _seconds(ex)]
    if px is not None:
        args += ["PX", _millis(px)]
    if nx:
        args.append("NX")
    if xx:
        args.append("XX")
    return _Cmd(tuple(args), _to_bool)


def _c_get(key: KeyT, default: Any) -> "_Cmd[Any]":
    return _Cmd(("GET", _k(key)), lambda r: default if r is None else decode(r))


def _c_delete(keys: Sequence[KeyT]) -> "_Cmd[int]":
    return _Cmd(("DEL", *_ks(keys)), _to_int)


def _c_exists(keys: Sequence[KeyT]) -> "_Cmd[int]":
    return _Cmd(("EXISTS", *_ks(keys)), _to_int)


def _c_keys(pattern: KeyT) -> "_Cmd[List[str]]":
    return _Cmd(("KEYS", _k(pattern)), lambda r: [_key_text(k) for k in r])


def _c_info(section: Optional[str]) -> "_Cmd[Dict[str, Any]]":
    args: Tuple[Any, ...] = ("INFO", section) if section else ("INFO",)
    return _Cmd(args, lambda r: dict(r))


def _c_expire(key: KeyT, seconds: ExpiryT) -> "_Cmd[bool]":
    return _Cmd(("EXPIRE", _k(key), _seconds(seconds)), _to_bool)


def _c_incrby(cmd: str, key: KeyT, amount: int) -> "_Cmd[int]":
    if amount == 1:
        return _Cmd((cmd[:4], _k(key)), _to_int)  # INCR / DECR
    return _Cmd((cmd, _k(key), int(amount)), _to_int)


def _c_incrby_n(key: KeyT, amount: int) -> "_Cmd[int]":
    return _Cmd(("INCRBY", _k(key), int(amount)), _to_int)


def _c_mget(keys: Sequence[KeyT], default: Any) -> "_Cmd[List[Any]]":
    keys = _flatten(keys)
    if not keys:
        raise ValueError("mget() needs at least one key")
    return _Cmd(("MGET", *_ks(keys)), lambda r: [default if v is None else decode(v) for v in r])


def _c_mset(mapping: Mapping[KeyT, Any]) -> "_Cmd[bool]":
    if not mapping:
        raise ValueError("mset() needs at least one key")
    args: List[Any] = ["MSET"]
    for k, v in mapping.items():
        args += [_k(k), encode(v)]
    return _Cmd(tuple(args), _to_bool)


_PING: "_Cmd[bool]" = _Cmd(("PING",), _to_bool)
_DBSIZE: "_Cmd[int]" = _Cmd(("DBSIZE",), _to_int)
_FLUSHDB: "_Cmd[bool]" = _Cmd(("FLUSHDB",), _to_bool)


def _c_ttl(key: KeyT) -> "_Cmd[int]":
    return _Cmd(("TTL", _k(key)), _to_int)


# --- Collections: hashes, lists, sets, sorted sets ---------------------------------------------
#
# One builder per method, shared by FDBSyncClient, FDBClient, the pipelines and the embedded
# engine (fdb.engine), which get the method from _install_collections below. Key and hash field
# names are text (str or bytes, as keys); values, list elements and set/sorted-set members are
# JSON-native like get/set (fdb.codec). The post functions take the reply in every shape it
# comes in: redis-py's RESP2 and RESP3 callbacks (HGETALL as a dict, SMEMBERS as a set, scores
# as floats) and the engine's raw replies (flat lists, scores as bytes).

_NO_VALUE: Any = object()


def _decode_or(default: Any) -> Callable[[Any], Any]:
    return lambda r: default if r is None else decode(r)


def _decode_all(reply: Any) -> List[Any]:
    return [decode(v) for v in reply]


def _pairs_of(reply: Any) -> List[Tuple[Any, Any]]:
    if isinstance(reply, dict):
        return list(reply.items())
    if reply and isinstance(reply[0], (list, tuple)):  # RESP3: [[member, score], ...]
        return [tuple(p) for p in reply]
    it = iter(reply)
    return list(zip(it, it))


def _score(s: Any) -> float:
    return float(s)


def _c_hset(key: KeyT, field: Optional[KeyT] = None, value: Any = _NO_VALUE,
            mapping: Optional[Mapping[KeyT, Any]] = None) -> "_Cmd[int]":
    """Set hash fields (``hset(k, "f", v)`` and/or ``hset(k, mapping={...})``); the number of
    fields that were new."""
    args: List[Any] = ["HSET", _k(key)]
    if field is not None or value is not _NO_VALUE:
        args += [_k(field), encode(None if value is _NO_VALUE else value)]
    for f, v in (mapping or {}).items():
        args += [_k(f), encode(v)]
    if len(args) == 2:
        raise ValueError("hset() needs a field and value, or a mapping")
    return _Cmd(tuple(args), _to_int)


def _c_hget(key: KeyT, field: KeyT, default: Any = None) -> "_Cmd[Any]":
    """A hash field's value, or ``default`` if the field (or the key) does not exist."""
    return _Cmd(("HGET", _k(key), _k(field)), _decode_or(default))


def _c_hmget(key: KeyT, fields: Sequence[KeyT], default: Any = None) -> "_Cmd[List[Any]]":
    """The values of several fields, ``default`` for missing ones."""
    return _Cmd(("HMGET", _k(key), *_ks(fields)),
                lambda r: [default if v is None else decode(v) for v in r])


def _c_hgetall(key: KeyT) -> "_Cmd[Dict[str, Any]]":
    """The whole hash as a dict (empty if the key does not exist)."""
    return _Cmd(("HGETALL", _k(key)),
                lambda r: {_key_text(f): decode(v) for f, v in _pairs_of(r)})


def _c_hdel(key: KeyT, *fields: KeyT) -> "_Cmd[int]":
    """Delete hash fields; the number removed."""
    return _Cmd(("HDEL", _k(key), *_ks(fields)), _to_int)


def _c_hexists(key: KeyT, field: KeyT) -> "_Cmd[bool]":
    """Whether the hash has the field."""
    return _Cmd(("HEXISTS", _k(key), _k(field)), _to_bool)


def _c_hlen(key: KeyT) -> "_Cmd[int]":
    """The number of fields (0 if the key does not exist)."""
    return _Cmd(("HLEN", _k(key)), _to_int)


def _c_hkeys(key: KeyT) -> "_Cmd[List[str]]":
    """The field names."""
    return _Cmd(("HKEYS", _k(key)), lambda r: [_key_text(f) for f in r])


def _c_hincrby(key: KeyT, field: KeyT, amount: int = 1) -> "_Cmd[int]":
    """Add ``amount`` to the integer in a hash field (0 if absent); the new value."""
    return _Cmd(("HINCRBY", _k(key), _k(field), int(amount)), _to_int)


def _c_lpush(key: KeyT, *values: Any) -> "_Cmd[int]":
    """Prepend values (the last given ends up first); the new length."""
    return _Cmd(("LPUSH", _k(key), *(encode(v) for v in values)), _to_int)


def _c_rpush(key: KeyT, *values: Any) -> "_Cmd[int]":
    """Append values; the new length."""
    return _Cmd(("RPUSH", _k(key), *(encode(v) for v in values)), _to_int)


def _c_lpop(key: KeyT, default: Any = None) -> "_Cmd[Any]":
    """Remove and return the first element, or ``default`` if the list is empty."""
    return _Cmd(("LPOP", _k(key)), _decode_or(default))


def _c_rpop(key: KeyT, default: Any = None) -> "_Cmd[Any]":
    """Remove and return the last element, or ``default`` if the list is empty."""
    return _Cmd(("RPOP", _k(key)), _decode_or(default))


def _c_lrange(key: KeyT, start: int = 0, stop: int = -1) -> "_Cmd[List[Any]]":
    """Elements ``start``..``stop`` inclusive (negative: from the end)."""
    return _Cmd(("LRANGE", _k(key), int(start), int(stop)), _decode_all)


def _c_lindex(key: KeyT, index: int, default: Any = None) -> "_Cmd[Any]":
    """The element at ``index`` (negative: from the end), or ``default``."""
    return _Cmd(("LINDEX", _k(key), int(index)), _decode_or(default))


def _c_llen(key: KeyT) -> "_Cmd[int]":
    """The list's length (0 if the key does not exist)."""
    return _Cmd(("LLEN", _k(key)), _to_int)


def _c_sadd(key: KeyT, *members: Any) -> "_Cmd[int]":
    """Add members; the number that were new."""
    return _Cmd(("SADD", _k(key), *(encode(m) for m in members)), _to_int)


def _c_srem(key: KeyT, *members: Any) -> "_Cmd[int]":
    """Remove members; the number removed."""
    return _Cmd(("SREM", _k(key), *(encode(m) for m in members)), _to_int)


def _c_smembers(key: KeyT) -> "_Cmd[List[Any]]":
    """The members, in no particular order. A list, not a ``set``: members may be dicts or
    lists, which a Python set cannot hold."""
    return _Cmd(("SMEMBERS", _k(key)), _decode_all)


def _c_sismember(key: KeyT, member: Any) -> "_Cmd[bool]":
    """Whether ``member`` is in the set."""
    return _Cmd(("SISMEMBER", _k(key), encode(member)), _to_bool)


def _c_scard(key: KeyT) -> "_Cmd[int]":
    """The number of members."""
    return _Cmd(("SCARD", _k(key)), _to_int)


def _c_zadd(key: KeyT, mapping: Mapping[Any, float]) -> "_Cmd[int]":
    """Add members with scores (``{member: score}``); the number that were new."""
    if not mapping:
        raise ValueError("zadd() needs at least one member")
    args: List[Any] = ["ZADD", _k(key)]
    for m, score in mapping.items():
        args += [repr(float(score)), encode(m)]
    return _Cmd(tuple(args), _to_int)


def _c_zrange(key: KeyT, start: int = 0, stop: int = -1,
              withscores: bool = False) -> "_Cmd[List[Any]]":
    """Members by rank, lowest score first; ``(member, score)`` pairs with ``withscores``."""
    args: Tuple[Any, ...] = ("ZRANGE", _k(key), int(start), int(stop))
    if withscores:
        return _Cmd(args + ("WITHSCORES",),
                    lambda r: [(decode(m), float(s)) for m, s in _pairs_of(r)])
    return _Cmd(args, _decode_all)


def _c_zscore(key: KeyT, member: Any) -> "_Cmd[Optional[float]]":
    """The member's score, or None."""
    return _Cmd(("ZSCORE", _k(key), encode(member)), lambda r: None if r is None else float(r))


def _c_zincrby(key: KeyT, member: Any, amount: float = 1.0) -> "_Cmd[float]":
    """Add ``amount`` to the member's score (0 if absent); the new score."""
    return _Cmd(("ZINCRBY", _k(key), repr(float(amount)), encode(member)), _score)


def _c_zrank(key: KeyT, member: Any) -> "_Cmd[Optional[int]]":
    """The member's rank (0: lowest score), or None."""
    return _Cmd(("ZRANK", _k(key), encode(member)), lambda r: None if r is None else int(r))


def _c_zrem(key: KeyT, *members: Any) -> "_Cmd[int]":
    """Remove members; the number removed."""
    return _Cmd(("ZREM", _k(key), *(encode(m) for m in members)), _to_int)


def _c_zcard(key: KeyT) -> "_Cmd[int]":
    """The number of members."""
    return _Cmd(("ZCARD", _k(key)), _to_int)


#: The collection methods (name -> builder), the same on every client, pipeline and engine.
COLLECTION_METHODS: Dict[str, Callable[..., "_Cmd[Any]"]] = {
    name: globals()["_c_" + name] for name in (
        "hset hget hmget hgetall hdel hexists hlen hkeys hincrby "
        "lpush rpush lpop rpop lrange lindex llen "
        "sadd srem smembers sismember scard "
        "zadd zrange zscore zincrby zrank zrem zcard").split()
}


def _install_collections(cls: type, kind: str) -> None:
    """Give ``cls`` the collection methods. ``kind``: "sync" (``self._run(cmd)``), "async"
    (``await self._run(cmd)``) or "queue" (``self._queue(cmd)``, pipelines)."""
    import inspect

    for name, builder in COLLECTION_METHODS.items():
        if kind == "async":
            async def method(self: Any, *a: Any, _b: Any = builder, **kw: Any) -> Any:
                return await self._run(_b(*a, **kw))
        elif kind == "queue":
            def method(self: Any, *a: Any, _b: Any = builder, **kw: Any) -> Any:
                return self._queue(_b(*a, **kw))
        else:
            def method(self: Any, *a: Any, _b: Any = builder, **kw: Any) -> Any:
                return self._run(_b(*a, **kw))
        sig = inspect.signature(builder)
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                  *sig.parameters.values()]
        method.__signature__ = sig.replace(parameters=params,  # type: ignore[attr-defined]
                                           return_annotation=inspect.Signature.empty)
        method.__name__ = name
        method.__qualname__ = f"{cls.__name__}.{name}"
        method.__doc__ = (builder.__doc__ if kind != "queue"
                          else f"Queue :meth:`{name}` (returns the pipeline).")
        if name not in cls.__dict__:  # a method of the class's own wins
            setattr(cls, name, method)


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


class _PipelineCommands:
    """The commands a pipeline queues; each returns the pipeline, so calls can be chained."""

    def __init__(self, pipe: Any, host: str, port: int) -> None:
        self._pipe = pipe
        self._posts: List[Callable[[Any], Any]] = []
        self.host = host
        self.port = port

    def _queue(self: _P, cmd: "_Cmd[Any]") -> _P:
        self._pipe.execute_command(*cmd.args)
        self._posts.append(cmd.post)
        return self

    def __len__(self) -> int:
        return len(self._posts)

    def _finish(self, replies: List[Any]) -> List[Any]:
        posts, self._posts = self._posts, []
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
        **pool_kwargs: passed through to redis-py's ``BlockingConnectionPool`` / connections,
            e.g. ``username``, ``health_check_interval``, ``socket_keepalive``, ``client_name``,
            ``protocol=3``, ``retry``, ``connection_class``.

    Use as a context manager (``with FDBSyncClient() as db:``) or call :meth:`connect` /
    :meth:`close`. Commands connect lazily, so :meth:`connect` is only needed to fail early.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, db: int = 0,
                 password: Optional[str] = None, timeout: Optional[float] = 5.0,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, retries: int = 3,
                 **pool_kwargs: Any) -> None:
        self.host = _resolve_host(host)
        self.port = _resolve_port(port)
        self.db = db
        self.timeout = timeout
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
        self._redis.close()
        self._pool.disconnect()

    def __enter__(self) -> "FDBSyncClient":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def pipeline(self, transaction: bool = True) -> FDBPipeline:
        """A :class:`FDBPipeline` on this client's pool."""
        return FDBPipeline(self._redis.pipeline(transaction=transaction), self.host, self.port)

    def set(self, key: KeyT, value: Any, ex: Optional[ExpiryT] = None,
            px: Optional[ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
        """Store ``value`` (JSON-native, see :mod:`fdb.codec`). ``ex``/``px``: expire after
        seconds/milliseconds; ``nx``: only if absent; ``xx``: only if present. Returns whether
        the value was stored."""
        if ex is None and px is None and not nx and not xx:
            # The common case without building a _Cmd (the per-call cost matters for a cache).
            try:
                self._redis.execute_command("SET", _k(key), encode(value))
            except redis.exceptions.RedisError as e:
                raise translate(e, self.host, self.port) from e
            return True
        return self._run(_c_set(key, value, ex, px, nx, xx))

    def get(self, key: KeyT, default: Any = None) -> Any:
        """The value at ``key``, decoded; ``default`` if the key does not exist."""
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
        return self._run(_c_info(section))

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
                 **pool_kwargs: Any) -> None:
        self.host = _resolve_host(host)
        self.port = _resolve_port(port)
        self.db = db
        self.timeout = timeout
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
        with self._translating():
            reply = await self._redis.execute_command(*cmd.args)
        return cmd.post(reply)

    async def connect(self) -> "FDBClient":
        """Check the server answers (``PING``); raise :class:`FDBConnectionError` if not."""
        await self._run(_PING)
        return self

    async def close(self) -> None:
        """Close all pooled connections. The client reconnects if used again."""
        aclose = getattr(self._redis, "aclose", None)
        await (aclose() if aclose is not None else self._redis.close())
        await self._pool.disconnect()

    async def __aenter__(self) -> "FDBClient":
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def pipeline(self, transaction: bool = True) -> FDBAsyncPipeline:
        """A :class:`FDBAsyncPipeline` on this client's pool."""
        return FDBAsyncPipeline(self._redis.pipeline(transaction=transaction), self.host, self.port)

    async def set(self, key: KeyT, value: Any, ex: Optional[ExpiryT] = None,
                  px: Optional[ExpiryT] = None, nx: bool = False, xx: bool = False) -> bool:
        """Store ``value`` (JSON-native, see :mod:`fdb.codec`). ``ex``/``px``: expire after
        seconds/milliseconds; ``nx``: only if absent; ``xx``: only if present. Returns whether
        the value was stored."""
        return await self._run(_c_set(key, value, ex, px, nx, xx))

    async def get(self, key: KeyT, default: Any = None) -> Any:
        """The value at ``key``, decoded; ``default`` if the key does not exist."""
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
        return await self._run(_c_info(section))

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
