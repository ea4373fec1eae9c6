"""The clients' fast path (fdb._fast): single commands on hiredis-parsed connections of the
client's own, beside redis-py's pool for pipelines. Same results as the redis-py path, the
same errors, reconnects and timeouts, AUTH and SELECT on its connections, and asyncio calls
pipelined in order on one connection."""

import asyncio

import pytest

from conftest import ServerProcess
from fdb.errors import (FDBAuthenticationError, FDBResponseError, FDBTimeoutError,
                        FDBWrongTypeError)
from fdb_client import FDBClient, FDBSyncClient


def _ops(db):
    db.set("s", {"a": [1, 2]})
    db.set("b", b"42")
    out = [db.get("s"), db.get("b"), db.get("missing", "d"), db.incr("n", 5), db.exists("s", "n"),
           db.mget("s", "nope"), db.hset("h", mapping={"f": 1}), db.hgetall("h"),
           db.sadd("z", 1), db.ttl("s"), db.expire("s", 100), db.set("s", 1, nx=True),
           sorted(db.keys("*"))]
    return out


def test_fast_and_redis_paths_agree(server, raw):
    with FDBSyncClient(host="127.0.0.1", port=server.port) as fast:
        assert fast._fast is not None
        a = _ops(fast)
    raw.flushall()
    with FDBSyncClient(host="127.0.0.1", port=server.port, fast=False) as slow:
        assert slow._fast is None
        b = _ops(slow)
    assert a == b


def test_settings_the_fast_path_does_not_handle_use_redis_py(server):
    import redis

    c = FDBSyncClient(host="127.0.0.1", port=server.port,
                      connection_class=redis.connection.Connection)
    assert c._fast is None and c.ping()


async def test_async_calls_pipeline_in_order_on_one_connection(async_db, raw):
    assert async_db._fast is not None
    await asyncio.gather(*(async_db.set(f"k{i}", i) for i in range(300)))
    got = await asyncio.gather(*(async_db.get(f"k{i}") for i in range(300)))
    assert got == list(range(300))
    clients = [c for c in raw.client_list() if c.get("cmd") in ("get", "set")]
    assert len(clients) == 1  # one connection served all 600 concurrent calls


async def test_async_errors_keep_the_connection_in_step(async_db):
    await async_db.set("str", "x")
    with pytest.raises(FDBWrongTypeError):
        await async_db.lpush("str", 1)
    assert await async_db.get("str") == "x"


def test_sync_reconnects_after_the_connection_is_killed(sync_db, raw):
    sync_db.set("a", 1)
    raw.client_kill_filter(_type="normal", skipme=True)
    assert sync_db.get("a") == 1


async def test_async_reconnects_after_the_connection_is_killed(async_db, raw):
    await async_db.set("a", 1)
    raw.client_kill_filter(_type="normal", skipme=True)
    assert await async_db.get("a") == 1


@pytest.fixture
def debug_server():
    srv = ServerProcess(extra_args=["--enable-debug-command", "yes"]).start()
    yield srv
    srv.cleanup()


def test_sync_timeout_then_the_next_call_works(debug_server):
    from fdb._commands import _Cmd

    with FDBSyncClient(host="127.0.0.1", port=debug_server.port, timeout=0.2, retries=0) as db:
        db.set("a", 1)
        with pytest.raises(FDBTimeoutError, match="did not answer in time"):
            db._run(_Cmd(("DEBUG", "SLEEP", "0.6"), lambda r: r))
        assert db.get("a") == 1  # not the late +OK of DEBUG SLEEP


async def test_async_timeout_then_the_next_call_works(debug_server):
    from fdb._commands import _Cmd

    db = FDBClient(host="127.0.0.1", port=debug_server.port, timeout=0.2, retries=0)
    try:
        await db.set("a", 1)
        with pytest.raises(FDBTimeoutError):
            await db._run(_Cmd(("DEBUG", "SLEEP", "0.6"), lambda r: r))
        assert await db.get("a") == 1
    finally:
        await db.close()


@pytest.fixture
def auth_server():
    srv = ServerProcess(extra_args=["--requirepass", "s3cret"]).start()
    yield srv
    srv.cleanup()


def test_password_and_db_on_fast_connections(auth_server):
    with FDBSyncClient(host="127.0.0.1", port=auth_server.port, password="s3cret", db=3) as db:
        db.set("k", "v")
        assert db.redis.execute_command("SELECT", 3) and db.redis.get("k") == b"v"
    with pytest.raises(FDBAuthenticationError):
        FDBSyncClient(host="127.0.0.1", port=auth_server.port, password="wrong").get("k")
    with pytest.raises(FDBAuthenticationError):
        FDBSyncClient(host="127.0.0.1", port=auth_server.port).get("k")


async def test_async_password_and_db(auth_server):
    async with FDBClient(host="127.0.0.1", port=auth_server.port, password="s3cret", db=2) as db:
        await db.set("k", [1])
        assert await db.get("k") == [1]
        assert await db.redis.execute_command("DBSIZE") == 1  # redis-py's pool: db 2 too
    with pytest.raises(FDBAuthenticationError):
        async with FDBClient(host="127.0.0.1", port=auth_server.port, password="no"):
            pass


@pytest.mark.parametrize("transaction", [True, False])
def test_sync_pipeline_fast_and_redis_paths_agree(server, raw, transaction):
    results = []
    for fast in (True, False):
        raw.flushall()
        with FDBSyncClient(host="127.0.0.1", port=server.port, fast=fast) as db:
            db.set("s", "text")
            pipe = db.pipeline(transaction=transaction)
            pipe.set("a", [1]).get("a").incr("s").rpush("l", b"x").lrange("l").get("none", 0)
            results.append(pipe.execute(raise_on_error=False))
            pipe.incr("s").set("b", 1)
            with pytest.raises(FDBResponseError, match="not an integer"):
                pipe.execute()
            assert len(pipe) == 0
    fast, slow = results
    assert type(fast[2]) is type(slow[2]) is FDBResponseError and str(fast[2]) == str(slow[2])
    fast[2] = slow[2] = None
    assert fast == slow == [True, [1], None, 1, [b"x"], 0]


async def test_async_pipeline_of_many_commands_and_concurrent_calls(async_db):
    pipe = async_db.pipeline(transaction=False)
    for i in range(5000):
        pipe.set(f"k{i}", {"i": i, "pad": "x" * 80})
    other = asyncio.ensure_future(async_db.get("k0"))  # interleaves with the batch
    assert await pipe.execute() == [True] * 5000
    await other
    pipe = async_db.pipeline()
    for i in range(5000):
        pipe.get(f"k{i}")
    got = await pipe.execute()
    assert [g["i"] for g in got] == list(range(5000))


def test_forked_child_does_not_use_the_parents_connections(sync_db):
    import os

    sync_db.set("a", 1)
    assert len(sync_db._fast.idle) == 1
    parent_conn = sync_db._fast.idle[0]
    pid = os.fork()
    if pid == 0:  # the child: its own connection, the parent's left alone
        ok = sync_db._fast.idle == [] and sync_db.get("a") == 1 and \
            sync_db._fast.idle[0] is not parent_conn
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sync_db._fast.idle == [parent_conn] and sync_db.get("a") == 1


@pytest.fixture
def not_resp_server():
    """A TCP server that answers anything with bytes that are not RESP."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            try:
                c.recv(1024)
                c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            except OSError:
                pass
            finally:
                c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def test_sync_reply_that_is_not_resp_is_an_fdb_error(not_resp_server):
    from fdb.errors import FDBError

    db = FDBSyncClient(host="127.0.0.1", port=not_resp_server, retries=0, timeout=2)
    with pytest.raises(FDBError, match="not RESP"):
        db.get("k")


async def test_async_reply_that_is_not_resp_is_an_fdb_error(not_resp_server):
    from fdb.errors import FDBError

    db = FDBClient(host="127.0.0.1", port=not_resp_server, retries=0, timeout=2)
    with pytest.raises(FDBError, match="not RESP"):
        await db.get("k")
    await db.close()


def test_sync_connection_keeps_its_timeout_in_the_kernel(server):
    # A blocking socket with SO_RCVTIMEO/SO_SNDTIMEO: one send and one recv a command, where
    # a Python-level timeout would poll() before each (the timeout itself: the tests above).
    import socket
    import struct

    with FDBSyncClient(host="127.0.0.1", port=server.port, timeout=2.5) as db:
        db.set("k", 1)
        (conn,) = db._fast.idle
        assert conn.sock.gettimeout() is None
        for opt in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
            sec, usec = struct.unpack("ll", conn.sock.getsockopt(socket.SOL_SOCKET, opt, 16))
            assert (sec, usec) == (2, 500000)


async def test_async_sequential_calls_read_their_reply_in_place(async_db):
    # Sequential get/set with nothing else on the loop: the reply is read in the call itself,
    # no future is created and the loop is not entered (AsyncPool.now).
    await async_db.set("k", 0)
    loop = asyncio.get_running_loop()
    made = []
    create_future = loop.create_future
    loop.create_future = lambda: made.append(1) or create_future()
    try:
        for i in range(50):
            assert await async_db.set(f"k{i}", {"i": i}) is True
            assert await async_db.get(f"k{i}") == {"i": i}
        assert await async_db.get("missing", "d") == "d"
        await async_db.hset("h", "f", 1)
        with pytest.raises(FDBWrongTypeError):  # an error reply read in place
            await async_db.get("h")
        assert await async_db.get("k0") == {"i": 0}  # and the connection is still in step
    finally:
        del loop.create_future
    assert made == []  # also hset: AsyncPool.call tries the same first

