"""Black-box test harness: starts the real fdb-server binary on a free loopback port.

FDB_SERVER_BIN names the binary (default build/fdb-server). FDB_TEST_TARGET=redis runs the same
tests against Debian's redis-server instead, which is how the tests themselves are checked
against Redis 7's behaviour.
"""

import os
import socket
import subprocess
import tempfile
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("FDB_TEST_TARGET", "fdb")
FDB_BIN = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))
SANITIZED = os.environ.get("FDB_SANITIZED") == "1"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10, interval=0.01, what="condition"):
    """Polls pred() until it is true (returning its value) or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Server:
    """One server process on a free port, stopped by PID."""

    def __init__(self, extra_args=(), threads=2, data_dir=None):
        self.port = free_port()
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fdb-test-")
            data_dir = self._tmp.name
        self.dir = data_dir
        if TARGET == "redis":
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", data_dir]
        else:
            args = [FDB_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", data_dir,
                    "--threads", str(threads)]
        self.args = args + list(extra_args)
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + (30 if SANITIZED else 10)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    reply = s.recv(64)
                    # A server started with --requirepass answers NOAUTH: it is up all the same.
                    if reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("server did not answer PING in time")

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None
        return self.proc.returncode if self.proc else None

    def close(self):
        self.stop()
        if self._tmp:
            self._tmp.cleanup()


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server_factory():
    """Starts dedicated servers (with their own flags); all are stopped after the test."""
    started = []

    def make(*extra_args, **kw):
        s = Server(extra_args, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, server):
    """A decoded redis-py client in RESP2 and in RESP3, on a flushed server."""
    c = server.client(protocol=request.param)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r2(server):
    """A RESP2-only client, for tests of exact reply shapes."""
    c = server.client(protocol=2)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(server):
    c = server.client(protocol=3)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def rb(server):
    """A client that returns bytes, for binary-safe values."""
    c = server.client(decode_responses=False)
    c.flushall()
    yield c
    c.close()


def encode_command(*args):
    """A command as a RESP array of bulk strings (str and int arguments are encoded)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Raw:
    """A raw socket to the server: send bytes, read replies byte-exact."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        self.send(encode_command(*args))

    def read_line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_reply(self):
        """Returns one reply as raw bytes, including nested aggregates."""
        line = self.read_line()
        t = line[:1]
        if t in (b"$", b"=", b"!"):
            n = int(line[1:])
            if n < 0:
                return line + b"\r\n"
            return line + b"\r\n" + self.read_exact(n + 2)
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(line[1:])
            if n < 0:
                return line + b"\r\n"
            if t in (b"%", b"|"):
                n *= 2
            return line + b"\r\n" + b"".join(self.read_reply() for _ in range(n))
        return line + b"\r\n"

    def closed(self, timeout=5):
        """True when the server closes the connection (after any pending replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(server):
    conns = []

    def make():
        c = Raw(server.port)
        conns.append(c)
        return c

    c = make()
    c.cmd("FLUSHALL")
    assert c.read_reply() == b"+OK\r\n"
    c.more = make
    yield c
    for c in conns:
        c.close()
