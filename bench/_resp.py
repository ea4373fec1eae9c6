"""Minimal blocking RESP2 client for the persistence benchmarks (no third-party dependency).

Uses hiredis.Reader to parse replies when the `hiredis` module is installed (much faster for
millions of replies) and a small pure-Python parser otherwise.

    c = Client(port)            # 127.0.0.1
    c.call("PING")              # -> "PONG" (simple strings as str, bulk strings as bytes)
    c.pipeline([("GET", k) for k in keys])   # -> list of replies, in order
    info(c)                     # -> {"section": {...}} parsed INFO

Simple-string replies come back as str (pure-Python parser) or bytes (hiredis): compare with
text(r). Error replies are returned as ReplyError instances (not raised) so callers can decide.
"""

import socket

try:  # optional accelerator
    import hiredis  # type: ignore
except ImportError:  # pragma: no cover
    hiredis = None


class ReplyError(Exception):
    def __str__(self):
        return self.args[0] if self.args else "error"


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class _PyReader:
    """Incremental RESP2 parser; get() returns a reply or False when more bytes are needed."""

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0

    def feed(self, data):
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def _line(self, pos):
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            return None, pos
        return bytes(self.buf[pos:end]), end + 2

    def _parse(self, pos):
        line, npos = self._line(pos)
        if line is None:
            return False, pos
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode(), npos
        if t == b"-":
            return ReplyError(rest.decode(errors="replace")), npos
        if t == b":":
            return int(rest), npos
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None, npos
            if len(self.buf) < npos + n + 2:
                return False, pos
            return bytes(self.buf[npos:npos + n]), npos + n + 2
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None, npos
            items = []
            for _ in range(n):
                item, npos2 = self._parse(npos)
                if item is False and npos2 == npos:
                    return False, pos
                items.append(item)
                npos = npos2
            return items, npos
        raise ValueError("bad RESP type byte %r" % t)

    def gets(self):
        r, npos = self._parse(self.pos)
        if r is False and npos == self.pos:
            return False
        self.pos = npos
        return r


def _make_reader():
    if hiredis is not None:
        return hiredis.Reader(replyError=ReplyError, notEnoughData=False)
    return _PyReader()


class Client:
    def __init__(self, port, host="127.0.0.1", timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = _make_reader()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _read_one(self):
        while True:
            r = self.reader.gets()
            if r is not False:
                return r
            data = self.sock.recv(1 << 18)
            if not data:
                raise ConnectionError("server closed the connection")
            self.reader.feed(data)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self._read_one()

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_replies(self, n):
        return [self._read_one() for _ in range(n)]

    def pipeline(self, cmds):
        self.sock.sendall(b"".join(encode(*c) for c in cmds))
        return self.read_replies(len(cmds))


def text(r):
    """A simple/bulk string reply as str (None stays None, errors become their message)."""
    if isinstance(r, bytes):
        return r.decode(errors="replace")
    return r if r is None else str(r)


def parse_info(text):
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            cur = line[1:].strip().lower()
            sections.setdefault(cur, {})
            continue
        k, sep, v = line.partition(":")
        if sep:
            sections.setdefault(cur or "", {})[k] = v
    return sections


def info(client, section=None):
    r = client.call("INFO", section) if section else client.call("INFO")
    if isinstance(r, ReplyError):
        raise r
    return parse_info(r)


def info_flat(client):
    out = {}
    for sec in info(client).values():
        out.update(sec)
    return out
