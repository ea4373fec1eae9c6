"""The clients' fast path: one command, one round trip, without redis-py's layers.

FDBSyncClient and FDBClient send their single commands (``get``, ``set``, ``incr``, ``hget``
...) through the connections of this module; pipelines, transactions, ``client.redis`` and
any connection setting the fast path does not handle (TLS, Unix sockets, a custom
``connection_class`` ...) use redis-py as before. Both paths speak to the same server with the
same credentials and database.

Why. Through redis-py a command costs 40-90 µs of Python on top of the loopback round trip
(~130 µs on the reference VM): argument packing in Python, the pool's locks, the retry
wrapper, response callbacks, and for asyncio a StreamReader and ``wait_for``. Here a command
is packed by hiredis in C (``hiredis.pack_command``), written with one ``send``, and its reply
parsed by hiredis's ``Reader``:

* sync: a plain blocking socket per thread-held connection (an idle list: ``pop`` to use,
  ``append`` to give back; both atomic under the GIL), its timeout kept by the kernel
  (``SO_RCVTIMEO``/``SO_SNDTIMEO``): one ``send`` and one ``recv`` a command, where Python's
  own socket timeout adds a ``poll`` before each;
* asyncio: an ``asyncio.Protocol`` whose ``data_received`` feeds the Reader and resolves the
  oldest waiting future. All the tasks of one client share one connection per event loop:
  concurrent calls are pipelined on it, in order, so concurrency costs no extra connections
  (redis-py takes one connection per concurrent call from its pool). A call made while no
  other waits on the connection and the loop has nothing ready reads its reply in place
  (``_Protocol.exchange``: ``poll`` and ``read`` on the socket, no future, no pass through the
  loop).

The measurements behind the choice (bench/python/bench.py, docs/benchmarks.md "Python"):
redis-py with hiredis, redis-py's asyncio client, hiredis's Reader under an asyncio Protocol
(this module), the same under uvloop (bench.py measures it when uvloop is installed; not a
dependency: it would change the user's loop policy, and the in-place read is faster).

Replies are RESP2 on these connections (the results the methods return are the same in both
protocols); ``protocol=3`` applies to redis-py's connections (pipelines, ``client.redis``).

Failures: a connection error or a timeout closes the connection (a late reply would answer the
wrong command); the command is retried on a new connection ``retries`` times with a short
backoff, as redis-py's ``Retry`` does, then raised as :class:`FDBConnectionError` /
:class:`FDBTimeoutError`. An error reply raises :class:`FDBResponseError` (or a subclass).
"""

from __future__ import annotations

import asyncio
import collections
import os
import select
import socket
import struct
import threading
import time
import weakref
from typing import Any, Deque, List, Optional, Sequence

import hiredis

from .errors import (
    FDBConnectionError,
    FDBError,
    FDBTimeoutError,
    from_reply_text,
    start_hint,
)

pack = hiredis.pack_command
_running_loop = asyncio.get_running_loop
_get_ident = threading.get_ident
Future = asyncio.Future
# AsyncPool.now: nothing sent, go through AsyncPool.call.
LATER = object()

# Settings the fast path handles itself; with any other pool keyword the client uses redis-py
# for everything.
FAST_KWARGS = frozenset({"protocol", "username", "client_name", "socket_keepalive",
                         "health_check_interval", "connection_pool_class"})


class _ReplyError(Exception):
    """An error reply, as hiredis's Reader returns it (not raised)."""


def _reader() -> "hiredis.Reader":
    return hiredis.Reader(replyError=_ReplyError)


def _backoff(attempt: int) -> float:
    return min(0.25, 0.02 * (2 ** attempt))


class Settings:
    """What a new connection needs: address, timeout, handshake."""

    __slots__ = ("host", "port", "timeout", "handshake", "retries", "keepalive")

    def __init__(self, host: str, port: int, timeout: Optional[float], password: Optional[str],
                 db: int, username: Optional[str], client_name: Optional[str], retries: int,
                 keepalive: bool) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.keepalive = keepalive
        hs: List[bytes] = []
        if password is not None:
            hs.append(pack(("AUTH", username, password) if username else ("AUTH", password)))
        if db:
            hs.append(pack(("SELECT", db)))
        if client_name:
            hs.append(pack(("CLIENT", "SETNAME", client_name)))
        self.handshake = hs

    def connection_error(self, exc: BaseException) -> FDBConnectionError:
        return FDBConnectionError(
            f"Cannot connect to FDB at {self.host}:{self.port}: {exc} {start_hint(self.port)}",
            self.host, self.port)

    def timeout_error(self) -> FDBTimeoutError:
        return FDBTimeoutError(f"FDB at {self.host}:{self.port} did not answer in time: "
                               f"no reply within {self.timeout} s")


def _check(reply: Any) -> Any:
    if type(reply) is _ReplyError:
        raise from_reply_text(str(reply))
    return reply


# --- blocking ---------------------------------------------------------------------------------


class SyncConnection:
    __slots__ = ("sock", "reader")

    def __init__(self, s: Settings) -> None:
        sock = socket.create_connection((s.host, s.port), s.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if s.keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # A blocking socket whose timeout the kernel keeps (SO_RCVTIMEO/SO_SNDTIMEO): a call is
        # one send and one recv. With Python's own timeout (settimeout) each of them is
        # preceded by a poll(), four system calls a command instead of two. On timeout recv
        # and send fail with EAGAIN (BlockingIOError), which SyncPool.call reports as a timeout.
        sock.settimeout(None)
        if s.timeout is not None:
            sec = int(s.timeout)
            tv = struct.pack("ll", sec, max(1 if sec == 0 else 0,
                                            int((s.timeout - sec) * 1_000_000)))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        self.sock = sock
        self.reader = _reader()
        for cmd in s.handshake:
            _check(self.call(cmd))

    def call(self, packed: bytes, n: int = 0) -> Any:
        """The reply to one command, or with ``n`` > 0 the list of the next ``n`` replies."""
        sock = self.sock
        sock.sendall(packed)
        reader = self.reader
        out: List[Any] = []
        while True:
            # The reader is empty between calls: receive first, then parse.
            data = sock.recv(262144)
            if not data:
                raise ConnectionError("connection closed by the server")
            reader.feed(data)
            reply = reader.gets()
            while reply is not False:
                if not n:
                    return reply
                out.append(reply)
                if len(out) == n:
                    return out
                reply = reader.gets()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _forget_after_fork() -> None:
    """In a forked child: the parent's connections are not the child's to use (their replies
    would go to whichever process reads first). Drop them without closing the parent's
    sockets' state (the child's copies of the descriptors are just closed)."""
    for pool in list(_POOLS):
        idle, pool.idle = pool.idle, []
        for conn in idle:
            conn.close()


_POOLS: "weakref.WeakSet[SyncPool]" = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class SyncPool:
    """Idle connections of one FDBSyncClient; a thread takes one for a call and gives it back."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.idle: List[SyncConnection] = []
        _POOLS.add(self)

    def call(self, packed: bytes, n: int = 0) -> Any:
        """Send one packed command; return its reply (raises FDBError subclasses). With ``n``
        > 0, ``packed`` holds ``n`` commands and the list of their raw replies is returned
        (error replies as _ReplyError objects, not raised)."""
        idle = self.idle
        attempt = 0
        while True:
            try:
                conn = idle.pop()
            except IndexError:
                conn = None
            try:
                if conn is None:
                    conn = SyncConnection(self.settings)
                reply = conn.call(packed, n)
            except (socket.timeout, BlockingIOError):  # connect / SO_RCVTIMEO, SO_SNDTIMEO
                if conn is not None:
                    conn.close()
                if attempt >= self.settings.retries:
                    raise self.settings.timeout_error() from None
            except OSError as e:  # refused, reset, closed (ConnectionError is an OSError)
                if conn is not None:
                    conn.close()
                if attempt >= self.settings.retries:
                    raise self.settings.connection_error(e) from e
            except FDBError:  # the handshake failed (AUTH): no retry
                if conn is not None:
                    conn.close()
                raise
            except hiredis.ProtocolError as e:  # not RESP: a wrong port, not an FDB server
                if conn is not None:
                    conn.close()
                raise FDBError(f"FDB at {self.settings.host}:{self.settings.port} answered "
                               f"something that is not RESP: {e}") from e
            else:
                idle.append(conn)
                if n:
                    return reply
                if type(reply) is _ReplyError:
                    raise from_reply_text(str(reply))
                return reply
            time.sleep(_backoff(attempt))
            attempt += 1

    def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


# --- asyncio ----------------------------------------------------------------------------------


class _Batch:
    """A pipeline's place in the waiters: collects its ``n`` replies, then resolves ``fut``
    with their list (one future per batch, not per command)."""

    __slots__ = ("n", "replies", "fut")

    def __init__(self, n: int, fut: Any) -> None:
        self.n = n
        self.replies: List[Any] = []
        self.fut = fut


class _Protocol(asyncio.Protocol):
    """Feeds hiredis's Reader; replies resolve the waiting futures in order."""

    def __init__(self) -> None:
        self.reader = _reader()
        self.waiters: Deque[Any] = collections.deque()
        self.transport: Any = None
        self.lost: Optional[BaseException] = None
        self.fd = -1
        self.poller: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1
        if self.fd >= 0:
            self.poller = select.poll()
            self.poller.register(self.fd, select.POLLIN)

    def wait_idle(self, seconds: float, loop: Any, fut: Any) -> None:
        """Read the reply here while the event loop has nothing else to run (see AsyncPool):
        for up to ``seconds`` (less if a timer of the loop is due sooner) wait for the socket
        to be readable and feed what arrives, until ``fut`` is resolved. If it is not by then,
        the caller awaits it as usual."""
        scheduled = getattr(loop, "_scheduled", None)
        if scheduled:
            seconds = min(seconds, max(0.0, scheduled[0].when() - loop.time()))
        deadline = time.monotonic() + seconds
        while not fut.done():
            try:
                if not self.poller.poll(max(0.0, deadline - time.monotonic()) * 1000.0):
                    return
                data = os.read(self.fd, 262144)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # the transport sees the error too and reports it (connection_lost)
            if not data:
                return
            self.data_received(data)

    def exchange(self, packed: bytes, seconds: float, loop: Any) -> Any:
        """Send one command while nothing else waits on this connection and the event loop has
        nothing ready, and read its reply here (as wait_idle, without a future): the reply, or
        -- if it has not come within ``seconds`` -- a future that data_received resolves."""
        self.transport.write(packed)
        scheduled = loop._scheduled
        if scheduled:
            seconds = min(seconds, max(0.0, scheduled[0].when() - loop.time()))
        ms = seconds * 1000.0
        reader, poll, fd = self.reader, self.poller.poll, self.fd
        deadline = 0.0
        while True:
            try:
                if not poll(ms):
                    break
                data = os.read(fd, 262144)
            except OSError:  # EAGAIN, EINTR, or an error the transport reports too
                break
            if not data:
                break
            reader.feed(data)
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as e:
                self.lost = ConnectionError(
                    f"the server answered something that is not RESP: {e}")
                self.close()
                raise self.lost from None
            if reply is not False:
                return reply
            # Part of the reply: wait for the rest, within the same time.
            if not deadline:
                deadline = time.monotonic() + seconds
            ms = max(0.0, deadline - time.monotonic()) * 1000.0
        fut = loop.create_future()
        self.waiters.append(fut)
        return fut

    def data_received(self, data: bytes) -> None:
        try:
            self._replies(data)
        except hiredis.ProtocolError as e:  # not RESP: fail every waiter, drop the connection
            self.lost = ConnectionError(f"the server answered something that is not RESP: {e}")
            self.connection_lost(self.lost)
            self.close()

    def _replies(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiters = self.waiters
        while waiters:
            w = waiters[0]
            if type(w) is _Batch:  # the replies of a pipeline: one future for them all
                replies, gets, missing = w.replies, reader.gets, w.n - len(w.replies)
                append = replies.append
                while missing:
                    reply = gets()
                    if reply is False:
                        return
                    append(reply)
                    missing -= 1
                reply = replies
                w = w.fut
            else:
                reply = reader.gets()
                if reply is False:
                    return
            waiters.popleft()
            if not w.done():  # a cancelled or timed-out call: its reply is dropped
                w.set_result(reply)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if self.lost is None:
            self.lost = exc or ConnectionError("connection closed by the server")
        waiters, self.waiters = self.waiters, collections.deque()
        for fut in waiters:
            if type(fut) is _Batch:
                fut = fut.fut
            if not fut.done():
                fut.set_exception(ConnectionError(str(self.lost)))

    def close(self) -> None:
        """Stop using the connection now (connection_lost comes later, from the loop)."""
        if self.lost is None:
            self.lost = ConnectionError("connection closed by the client")
        if self.transport is not None:
            try:
                self.transport.close()
            except RuntimeError:  # its event loop is closed: nothing left to close
                pass


class AsyncPool:
    """The connection of one FDBClient per event loop, shared by its tasks (calls pipeline)."""

    def __init__(self, settings: Settings, idle_wait: float = 0.001) -> None:
        self.settings = settings
        self.idle_wait = idle_wait
        self.proto: Optional[_Protocol] = None
        self.loop: Any = None
        self.connecting: Any = None  # a future while a connection is being made

    async def _connect(self, loop: Any) -> _Protocol:
        s = self.settings
        proto = _Protocol()
        await asyncio.wait_for(loop.create_connection(lambda: proto, s.host, s.port), s.timeout)
        sock = proto.transport.get_extra_info("socket")
        if sock is not None and s.keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for cmd in s.handshake:
            _check(await self._send(proto, loop, cmd))
        return proto

    async def _get(self, loop: Any) -> _Protocol:
        proto = self.proto
        if proto is not None and proto.lost is None and self.loop is loop:
            return proto
        if self.connecting is not None and self.loop is loop:
            return await asyncio.shield(self.connecting)
        self.close()
        self.loop = loop
        fut = self.connecting = loop.create_future()
        try:
            proto = await self._connect(loop)
        except BaseException as e:
            self.connecting = None
            fut.set_exception(e)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        self.connecting = None
        self.proto = proto
        fut.set_result(proto)
        return proto

    def _send(self, proto: _Protocol, loop: Any, packed: bytes, n: int = 0) -> Any:
        """An awaitable of the reply, or with ``n`` > 0 of the list of the ``n`` replies to
        the commands in ``packed``."""
        fut = loop.create_future()
        proto.waiters.append(_Batch(n, fut) if n else fut)
        proto.transport.write(packed)
        if self.idle_wait and not getattr(loop, "_ready", True) and proto.poller is not None:
            proto.wait_idle(self.idle_wait, loop, fut)
            if fut.done():
                return fut
        timeout = self.settings.timeout
        if timeout is None:
            return fut
        return _with_timeout(fut, loop, timeout, proto)

    def now(self, packed: bytes) -> Any:
        """The common case of sequential calls, without a coroutine: when nothing else waits on
        the connection and the event loop (running in this thread) has nothing ready, send
        ``packed`` and read its reply here (_Protocol.exchange). Returns the raw reply; or
        LATER when that is not the case (nothing was sent: use :meth:`call`); or the future
        of the reply, sent but not yet come (``await call(packed, sent=that)``).

        The running loop is recognised by its thread (``_thread_id``, set while it runs):
        asyncio.get_running_loop() costs a getpid() system call on Python < 3.12."""
        proto = self.proto
        if (proto is None or proto.lost is not None or proto.waiters or not self.idle_wait
                or proto.poller is None):
            return LATER
        loop = self.loop
        if getattr(loop, "_thread_id", None) != _get_ident() or getattr(loop, "_ready", True):
            return LATER
        return proto.exchange(packed, self.idle_wait, loop)

    async def call(self, packed: bytes, n: int = 0, sent: Any = None) -> Any:
        """As SyncPool.call. ``sent``: the future :meth:`now` returned for ``packed``."""
        loop = _running_loop()
        if sent is None and not n:
            reply = self.now(packed)
            if reply is not LATER:
                if not isinstance(reply, asyncio.Future):
                    if type(reply) is _ReplyError:
                        raise from_reply_text(str(reply))
                    return reply
                sent = reply
        attempt = 0
        while True:
            proto = None
            try:
                if sent is not None:
                    proto, fut, sent = self.proto, sent, None
                    timeout = self.settings.timeout
                    if timeout is not None:
                        fut = _with_timeout(fut, loop, timeout, proto)
                    reply = await fut
                else:
                    proto = await self._get(loop)
                    reply = await self._send(proto, loop, packed, n)
                if n:
                    return reply
            except TimeoutError:
                if proto is not None:
                    proto.close()
                if attempt >= self.settings.retries:
                    raise self.settings.timeout_error() from None
            except asyncio.TimeoutError:  # Python < 3.11: not the builtin
                if proto is not None:
                    proto.close()
                if attempt >= self.settings.retries:
                    raise self.settings.timeout_error() from None
            except OSError as e:
                if proto is not None:
                    proto.close()
                if attempt >= self.settings.retries:
                    raise self.settings.connection_error(e) from e
            else:
                if type(reply) is _ReplyError:
                    raise from_reply_text(str(reply))
                return reply
            await asyncio.sleep(_backoff(attempt))
            attempt += 1

    def close(self) -> None:
        proto, self.proto = self.proto, None
        if proto is not None:
            proto.close()


async def _with_timeout(fut: Any, loop: Any, timeout: float, proto: _Protocol) -> Any:
    """``await fut``, failing with TimeoutError (and closing the connection, whose next reply
    would be this one's) after ``timeout`` seconds. A timer handle, not ``asyncio.wait_for``:
    a third of the cost per call."""
    def expire() -> None:
        if not fut.done():
            fut.set_exception(TimeoutError())
            proto.close()

    handle = loop.call_later(timeout, expire)
    try:
        return await fut
    finally:
        handle.cancel()


def packed_all(cmds: Sequence[Sequence[Any]]) -> bytes:
    return b"".join(pack(tuple(c)) for c in cmds)
