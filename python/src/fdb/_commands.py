"""The commands of the FDB API as data: each method (``set``, ``hgetall``, ``zadd`` ...) is a
builder that returns a :class:`_Cmd` -- the command's arguments and how to turn its reply into
the method's result. FDBSyncClient, FDBClient, their pipelines (:mod:`fdb.client`) and the
embedded engine (:mod:`fdb.engine`) run the same builders, so every method has the same
arguments, encoding (:mod:`fdb.codec`) and results everywhere.

No redis-py here: the embedded engine imports this module without the network clients.
"""

from __future__ import annotations

import datetime
import os
from typing import (
    Any,
    Callable,
    Dict,
    Generic,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

from .codec import decode, encode

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6380

KeyT = Union[str, bytes]
ExpiryT = Union[int, datetime.timedelta]
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


def _decode_or_none(r: Any) -> Any:
    return None if r is None else decode(r)


def _c_get(key: KeyT, default: Any) -> "_Cmd[Any]":
    if default is None:
        return _Cmd(("GET", _k(key)), _decode_or_none)
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
    if default is None:
        return _decode_or_none
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


