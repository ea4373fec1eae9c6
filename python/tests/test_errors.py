"""Errors: connection refused, server errors, translation of redis-py's exceptions."""

import pytest
import redis.exceptions as rex

from fdb.errors import translate
from fdb_client import (
    FDBAuthenticationError,
    FDBClient,
    FDBConnectionError,
    FDBError,
    FDBResponseError,
    FDBSyncClient,
    FDBWrongTypeError,
    fdb_client,
)

from conftest import ServerProcess, free_port


def _assert_start_hint(err: FDBConnectionError, port: int) -> None:
    text = str(err)
    assert "make run" in text and f"fdb-server --port {port}" in text
    assert err.port == port and isinstance(err, FDBError)


def test_sync_connection_refused():
    port = free_port()
    db = FDBSyncClient(host="127.0.0.1", port=port)
    with pytest.raises(FDBConnectionError) as e:
        db.connect()
    _assert_start_hint(e.value, port)
    with pytest.raises(FDBConnectionError):
        with FDBSyncClient(host="127.0.0.1", port=port):
            pass
    with pytest.raises(FDBConnectionError):
        db.get("k")
    # the fast path chains the socket error, redis-py its ConnectionError
    assert isinstance(e.value.__cause__, (rex.ConnectionError, ConnectionRefusedError))


async def test_async_connection_refused():
    port = free_port()
    with pytest.raises(FDBConnectionError) as e:
        async with fdb_client(host="127.0.0.1", port=port):
            pass
    _assert_start_hint(e.value, port)
    db = FDBClient(host="127.0.0.1", port=port)
    with pytest.raises(FDBConnectionError):
        await db.set("k", 1)


def test_incr_on_a_non_number(sync_db):
    sync_db.set("name", "Alice")
    with pytest.raises(FDBResponseError) as e:
        sync_db.incr("name")
    assert str(e.value) == "ERR value is not an integer or out of range"
    assert e.value.code == "ERR"
    sync_db.set("f", 1.5)  # floats are not integers for INCR either
    with pytest.raises(FDBResponseError):
        sync_db.incrby("f", 2)


async def test_async_server_error(async_db):
    await async_db.set("doc", {"a": 1})
    with pytest.raises(FDBResponseError, match="^ERR value is not an integer or out of range$"):
        await async_db.incr("doc")


def test_pipeline_errors(sync_db):
    sync_db.set("s", "text")
    pipe = sync_db.pipeline(transaction=False)
    pipe.set("n", 1).incr("s").incr("n")
    with pytest.raises(FDBResponseError, match="not an integer"):
        pipe.execute()
    pipe.incr("s").get("n")
    out = pipe.execute(raise_on_error=False)
    assert isinstance(out[0], FDBResponseError) and out[1] == 2


def test_password_required(tmp_path):
    srv = ServerProcess(data_dir=str(tmp_path), extra_args=["--requirepass", "s3cret"]).start()
    try:
        with pytest.raises(FDBAuthenticationError):
            FDBSyncClient(host="127.0.0.1", port=srv.port).set("k", 1)
        with pytest.raises(FDBAuthenticationError):
            FDBSyncClient(host="127.0.0.1", port=srv.port, password="wrong").connect()
        with FDBSyncClient(host="127.0.0.1", port=srv.port, password="s3cret") as db:
            assert db.set("k", 1) and db.get("k") == 1
    finally:
        srv.cleanup()


@pytest.mark.parametrize(
    "exc,cls,text",
    [
        (rex.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
         FDBWrongTypeError, "WRONGTYPE Operation against a key holding the wrong kind of value"),
        (rex.ResponseError("value is not an integer or out of range"), FDBResponseError,
         "ERR value is not an integer or out of range"),
        (rex.ExecAbortError("Transaction discarded because of previous errors."),
         FDBResponseError, "EXECABORT Transaction discarded because of previous errors."),
        (rex.TimeoutError("Timeout reading from socket"), FDBError, None),
    ],
)
def test_translation(exc, cls, text):
    err = translate(exc, "h", 1)
    assert isinstance(err, cls)
    if text is not None:
        assert str(err) == text
