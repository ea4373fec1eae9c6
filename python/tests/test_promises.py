"""What the clients and the embedded engine promise about keys and values, on every path:
keys are str or bytes (anything else is a TypeError, never its str()), bytes read back as
bytes, and a value over the server's limit is refused with an error naming the limit."""

import pytest

from fdb import codec
from fdb_client import FDBClient, FDBSyncClient
from fdb_server import create_engine

BAD_KEYS = [None, 123, ("a",), 1.5, ["k"]]
BYTES = [b"42", b"hello", b"", b"null", b'{"a": 1}', b"\xff\xfe", b"\xff\x00x"]


@pytest.fixture
def engine(engine_dir):
    with create_engine(data_dir=engine_dir, sync=True) as db:
        yield db


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_sync_client_refuses_keys_that_are_not_text(sync_db, raw, key):
    for call in (lambda: sync_db.set(key, 1), lambda: sync_db.get(key),
                 lambda: sync_db.delete(key), lambda: sync_db.incr(key),
                 lambda: sync_db.hset("h", key, 1),
                 *([lambda: sync_db.mset({key: 1})] if not isinstance(key, list) else [])):
        with pytest.raises(TypeError, match="keys are str or bytes"):
            call()
    assert raw.dbsize() == 0  # nothing stored under "None", "123", "('a',)"...


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_async_client_refuses_keys_that_are_not_text(async_db, raw, key):
    with pytest.raises(TypeError, match="keys are str or bytes"):
        await async_db.set(key, 1)
    with pytest.raises(TypeError, match="keys are str or bytes"):
        await async_db.get(key)
    with pytest.raises(TypeError, match="keys are str or bytes"):
        async_db.pipeline().set(key, 1)
    assert raw.dbsize() == 0


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_engine_refuses_keys_that_are_not_text(engine, key):
    for call in (lambda: engine.set(key, 1), lambda: engine.get(key),
                 lambda: engine.delete(key), lambda: engine.hset("h", key, 1)):
        with pytest.raises(TypeError, match="keys are str or bytes"):
            call()
    assert engine.dbsize() == 0


@pytest.mark.parametrize("value", BYTES, ids=repr)
def test_bytes_stay_bytes_sync(sync_db, value):
    sync_db.set("b", value)
    got = sync_db.get("b")
    assert got == value and type(got) is bytes
    sync_db.rpush("l", value)
    assert sync_db.lrange("l") == [value]
    sync_db.hset("h", "f", value)
    assert sync_db.hget("h", "f") == value


@pytest.mark.parametrize("value", BYTES, ids=repr)
async def test_bytes_stay_bytes_async(async_db, value):
    await async_db.set("b", value)
    got = await async_db.get("b")
    assert got == value and type(got) is bytes
    assert await async_db.mget("b") == [value]


@pytest.mark.parametrize("value", BYTES, ids=repr)
def test_bytes_stay_bytes_engine(engine, value):
    engine.set("b", value)
    got = engine.get("b")
    assert got == value and type(got) is bytes


@pytest.fixture
def small_limit(monkeypatch, raw):
    """The server's proto-max-bulk-len and the codec's limit lowered to 1 MB together, so the
    limit can be passed without sending 512 MB (the default of both)."""
    old = raw.config_get("proto-max-bulk-len")["proto-max-bulk-len"]
    raw.config_set("proto-max-bulk-len", 1024 * 1024)
    monkeypatch.setattr(codec, "MAX_VALUE_SIZE", 1024 * 1024)
    yield 1024 * 1024
    raw.config_set("proto-max-bulk-len", old)


def test_default_limit_is_the_servers(raw):
    assert codec.MAX_VALUE_SIZE == int(raw.config_get("proto-max-bulk-len")["proto-max-bulk-len"])


def test_value_over_the_limit_names_it_sync(sync_db, raw, small_limit):
    with pytest.raises(ValueError, match=r"over FDB's limit of 1048576 bytes \(1 MB"):
        sync_db.set("big", "x" * (small_limit + 1))
    with pytest.raises(ValueError, match="limit of 1048576"):
        sync_db.set("big", b"\xff" * (small_limit + 1))
    with pytest.raises(ValueError, match="limit of 1048576"):
        sync_db.mset({"a": 1, "big": ["x" * small_limit]})
    sync_db.set("ok", "x" * (small_limit - 10))  # the connection is fine
    assert len(sync_db.get("ok")) == small_limit - 10


async def test_value_over_the_limit_names_it_async(async_db, small_limit):
    with pytest.raises(ValueError, match="limit of 1048576"):
        await async_db.set("big", {"v": "x" * small_limit})
    assert await async_db.ping()


def test_value_over_the_limit_names_it_engine(engine, monkeypatch):
    monkeypatch.setattr(codec, "MAX_VALUE_SIZE", 1000)
    with pytest.raises(ValueError, match="limit of 1000 bytes"):
        engine.set("big", "x" * 1001)
    assert engine.get("big") is None
