"""The wire protocol, byte for byte, over raw sockets: inline commands, pipelining, partial frames,
protocol errors (which close the connection), limits (proto-max-bulk-len, inline size, maxclients),
and the RESP2 and RESP3 shapes of the replies of the server commands.

Written against Redis 7's documented behaviour and checked against redis-server 7.0.15
(FDB_TEST_TARGET=redis).
"""

import random
import socket
import time

import pytest

from conftest import Raw, encode_command


def call(raw, *args):
    raw.cmd(*args)
    return raw.read_reply()


def no_more_replies(raw, wait=0.1):
    """True when nothing beyond what was read arrives (and the connection stays open)."""
    raw.sock.settimeout(wait)
    try:
        chunk = raw.sock.recv(65536)
    except socket.timeout:
        return raw.buf == b""
    finally:
        raw.sock.settimeout(10)
    raw.buf += chunk
    return False


def assert_healthy(port):
    c = Raw(port)
    try:
        assert call(c, "PING") == b"+PONG\r\n"
        assert call(c, "SET", "health", "ok") == b"+OK\r\n"
        assert call(c, "GET", "health") == b"$2\r\nok\r\n"
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# inline commands


def test_inline_ping(raw):
    raw.send(b"PING\r\n")
    assert raw.read_reply() == b"+PONG\r\n"
    # a bare LF also ends an inline command
    raw.send(b"PING\n")
    assert raw.read_reply() == b"+PONG\r\n"
    raw.send(b"ping\r\n")
    assert raw.read_reply() == b"+PONG\r\n"


def test_inline_set_get(raw):
    raw.send(b"SET a b\r\n")
    assert raw.read_reply() == b"+OK\r\n"
    raw.send(b"GET a\r\n")
    assert raw.read_reply() == b"$1\r\nb\r\n"
    # runs of spaces separate arguments like one space
    raw.send(b"SET   c    d   \r\nGET c\r\n")
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b"$1\r\nd\r\n"
    assert call(raw, "GET", "a") == b"$1\r\nb\r\n"


def test_inline_quoted_arguments(raw):
    raw.send(b'SET k "a b"\r\nGET k\r\n')
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b"$3\r\na b\r\n"
    raw.send(b"SET k2 'c d'\r\nGET k2\r\n")
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b"$3\r\nc d\r\n"
    # double quotes understand escapes, including \xHH
    raw.send(b'ECHO "\\x41\\n\\t\\"q\\""\r\n')
    assert raw.read_reply() == b'$6\r\nA\n\t"q"\r\n'
    # single quotes only understand \'
    raw.send(b"ECHO 'it\\'s'\r\n")
    assert raw.read_reply() == b"$4\r\nit's\r\n"
    # an empty quoted string is an empty argument
    raw.send(b'SET "" empty\r\nGET ""\r\n')
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b"$5\r\nempty\r\n"
    raw.send(b'ECHO ""\r\n')
    assert raw.read_reply() == b"$0\r\n\r\n"


def test_inline_empty_lines_are_ignored(raw):
    raw.send(b"\r\n\r\n\n   \r\nPING\r\n")
    assert raw.read_reply() == b"+PONG\r\n"
    assert no_more_replies(raw)


def test_inline_errors_keep_connection(raw):
    raw.send(b"NOSUCH a b\r\n")
    assert raw.read_reply() == b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
    raw.send(b"GET\r\n")
    assert raw.read_reply() == b"-ERR wrong number of arguments for 'get' command\r\n"
    raw.send(b"PING\r\n")
    assert raw.read_reply() == b"+PONG\r\n"


def test_inline_and_multibulk_mixed(raw):
    raw.send(b"SET x 1\r\n" + encode_command("INCR", "x") + b"INCR x\r\n" + encode_command("GET", "x"))
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b":2\r\n"
    assert raw.read_reply() == b":3\r\n"
    assert raw.read_reply() == b"$1\r\n3\r\n"


# ---------------------------------------------------------------------------------------------
# pipelining and framing


def test_pipeline_1000_in_one_write(raw):
    raw.send(b"".join(encode_command("INCR", "ctr") for _ in range(1000)))
    for i in range(1, 1001):
        assert raw.read_reply() == b":%d\r\n" % i
    assert no_more_replies(raw)


def test_pipeline_mixed_replies_in_order(raw):
    payload = b""
    expected = []
    for i in range(300):
        payload += encode_command("SET", f"k{i}", f"v{i}")
        expected.append(b"+OK\r\n")
        payload += encode_command("GET", f"k{i}")
        expected.append(b"$%d\r\nv%d\r\n" % (len(f"v{i}"), i))
        payload += encode_command("GET", f"missing{i}")
        expected.append(b"$-1\r\n")
        payload += encode_command("NOSUCH")
        expected.append(b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n")
    raw.send(payload)
    for e in expected:
        assert raw.read_reply() == e


def test_pipeline_1000_inline(raw):
    raw.send(b"INCR n\r\n" * 1000)
    for i in range(1, 1001):
        assert raw.read_reply() == b":%d\r\n" % i


def test_command_sent_one_byte_at_a_time(raw):
    data = encode_command("SET", "slow", "value with spaces")
    for i in range(len(data)):
        raw.send(data[i:i + 1])
        time.sleep(0.001)
    assert raw.read_reply() == b"+OK\r\n"
    assert no_more_replies(raw)
    assert call(raw, "GET", "slow") == b"$17\r\nvalue with spaces\r\n"


def test_inline_sent_one_byte_at_a_time(raw):
    for b in b"ECHO hello\r\n":
        raw.send(bytes([b]))
        time.sleep(0.001)
    assert raw.read_reply() == b"$5\r\nhello\r\n"
    assert no_more_replies(raw)


def test_pipeline_split_at_random_points(raw):
    rnd = random.Random(1234)
    values = [f"item-{i}" * rnd.randint(1, 50) for i in range(200)]
    payload = b"".join(encode_command("APPEND", "s", v) for v in values)
    pos = 0
    while pos < len(payload):
        n = rnd.randint(1, 300)
        raw.send(payload[pos:pos + n])
        pos += n
    total = 0
    for v in values:
        total += len(v)
        assert raw.read_reply() == b":%d\r\n" % total
    assert call(raw, "GET", "s") == b"$%d\r\n%s\r\n" % (total, "".join(values).encode())


def test_binary_safe_arguments(raw):
    value = bytes(range(256)) + b"\r\n$3\r\n*1\r\n\x00"
    assert call(raw, "SET", b"bin\x00key\r\n", value) == b"+OK\r\n"
    assert call(raw, "GET", b"bin\x00key\r\n") == b"$%d\r\n%s\r\n" % (len(value), value)
    assert call(raw, "SET", "", "") == b"+OK\r\n"
    assert call(raw, "GET", "") == b"$0\r\n\r\n"


def test_large_value_and_many_arguments(raw):
    big = b"x" * 300_000
    raw.send(encode_command("SET", "big", big) + encode_command("STRLEN", "big") + encode_command("GET", "big"))
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b":300000\r\n"
    assert raw.read_reply() == b"$300000\r\n" + big + b"\r\n"
    args = []
    for i in range(2000):
        args += [f"key{i}", f"val{i}"]
    assert call(raw, "MSET", *args) == b"+OK\r\n"
    assert call(raw, "DBSIZE") == b":2001\r\n"
    assert call(raw, "GET", "key1999") == b"$7\r\nval1999\r\n"


def test_empty_multibulk_is_ignored(raw):
    # *0 and *-1 are no-ops without a reply
    raw.send(b"*0\r\n*-1\r\n" + encode_command("PING"))
    assert raw.read_reply() == b"+PONG\r\n"
    assert no_more_replies(raw)


# ---------------------------------------------------------------------------------------------
# protocol errors: an error reply, then the server closes the connection

PROTOCOL_ERRORS = [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    # more than INT_MAX (2^31 - 1) arguments
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*99999999999999999999\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    # longer than the default proto-max-bulk-len of 512 MB
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b'SET k "a b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"SET k 'a b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    # a closing quote must be followed by a space or the end of the line
    (b'SET k "a"b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]


@pytest.mark.parametrize("payload,error", PROTOCOL_ERRORS,
                         ids=[repr(p[0])[2:-1][:30] for p in PROTOCOL_ERRORS])
def test_protocol_error_closes_connection(raw, server, payload, error):
    c = raw.more()
    c.send(payload)
    assert c.read_reply() == error
    assert c.closed()
    assert c.buf == b""
    assert_healthy(server.port)


def test_protocol_error_after_good_commands(raw):
    c = raw.more()
    # commands before the bad frame run and are answered; nothing after it is run
    c.send(encode_command("SET", "before", "1") + b"PING\r\n*abc\r\n" + encode_command("SET", "after", "1"))
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b"+PONG\r\n"
    assert c.read_reply() == b"-ERR Protocol error: invalid multibulk length\r\n"
    assert c.closed()
    assert call(raw, "EXISTS", "before") == b":1\r\n"
    assert call(raw, "EXISTS", "after") == b":0\r\n"


def test_too_big_inline_request(raw, server):
    c = raw.more()
    c.send(b"x" * (70 * 1024))
    assert c.read_reply() == b"-ERR Protocol error: too big inline request\r\n"
    assert c.closed()
    assert_healthy(server.port)


def test_inline_request_just_under_limit(raw):
    # an inline command a little under 64 KB is fine
    value = b"v" * (60 * 1024)
    raw.send(b"SET big " + value + b"\r\n")
    assert raw.read_reply() == b"+OK\r\n"
    assert call(raw, "STRLEN", "big") == b":%d\r\n" % len(value)


def test_too_big_count_strings(raw, server):
    c = raw.more()
    c.send(b"*" + b"1" * (70 * 1024))
    assert c.read_reply() == b"-ERR Protocol error: too big mbulk count string\r\n"
    assert c.closed()
    c = raw.more()
    c.send(b"*1\r\n$" + b"1" * (70 * 1024))
    assert c.read_reply() == b"-ERR Protocol error: too big bulk count string\r\n"
    assert c.closed()
    assert_healthy(server.port)


def test_multibulk_count_up_to_int_max_waits_for_data(raw):
    # a huge but legal count is accepted (and the server waits for the arguments)
    c = raw.more()
    c.send(b"*1073741825\r\n$4\r\nPING\r\n")
    assert not c.closed(timeout=0.3)
    assert c.buf == b""
    assert call(raw, "PING") == b"+PONG\r\n"


def test_proto_max_bulk_len(server_factory):
    srv = server_factory("--proto-max-bulk-len", "1mb")
    c = Raw(srv.port)
    try:
        assert call(c, "CONFIG", "GET", "proto-max-bulk-len") == \
            b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n"
        # exactly the limit is allowed
        value = b"y" * 1048576
        assert call(c, "SET", "k", value) == b"+OK\r\n"
        assert call(c, "STRLEN", "k") == b":1048576\r\n"
        # one byte more is refused as soon as the length is read
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        assert c.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
        assert c.closed()
    finally:
        c.close()
    assert_healthy(srv.port)


def test_client_closing_mid_command_leaves_server_healthy(raw, server):
    for partial in [
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc",
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100000000\r\n" + b"z" * 1000,
        b"*3\r\n$3\r\nSET\r\n$4\r\nhal",
        b"*300\r\n",
        b"SET half value",
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$",
    ]:
        c = raw.more()
        c.send(partial)
        time.sleep(0.01)
        c.close()
    # a connection reset in the middle of a command, too
    c = raw.more()
    c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nab")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    time.sleep(0.05)
    assert call(raw, "EXISTS", "half") == b":0\r\n"
    assert_healthy(server.port)


def test_client_closing_with_unread_replies(raw, server):
    # the client sends a lot and never reads: the server must cope with the closed socket
    c = raw.more()
    c.send(encode_command("SET", "big", b"q" * 200_000))
    c.send(encode_command("GET", "big") * 50)
    c.close()
    time.sleep(0.05)
    assert call(raw, "STRLEN", "big") == b":200000\r\n"
    assert_healthy(server.port)


# ---------------------------------------------------------------------------------------------
# maxclients


def test_maxclients(server_factory):
    srv = server_factory("--maxclients", "3")
    conns = []
    deadline = time.time() + 5
    try:
        while len(conns) < 3:
            c = Raw(srv.port)
            reply = call(c, "PING")
            if reply == b"+PONG\r\n":
                conns.append(c)
                continue
            # the harness's own startup probe may not be gone yet
            c.close()
            assert time.time() < deadline, reply
            time.sleep(0.02)
        # (the harness's startup probe may have been refused above: count from here)
        before = int(call(conns[0], "INFO", "stats").split(b"rejected_connections:")[1]
                     .split(b"\r\n")[0])
        extra = Raw(srv.port)
        # the refused client gets the error without sending anything, then is disconnected
        assert extra.read_reply() == b"-ERR max number of clients reached\r\n"
        assert extra.closed()
        extra.close()
        # the existing clients are unaffected
        for c in conns:
            assert call(c, "PING") == b"+PONG\r\n"
        rejected = call(conns[0], "INFO", "stats")
        assert b"\r\nrejected_connections:%d\r\n" % (before + 1) in rejected
        # a freed slot can be reused
        conns.pop().close()
        deadline = time.time() + 5
        while True:
            c = Raw(srv.port)
            reply = call(c, "PING")
            if reply == b"+PONG\r\n":
                conns.append(c)
                break
            c.close()
            assert time.time() < deadline, reply
            time.sleep(0.02)
    finally:
        for c in conns:
            c.close()


# ---------------------------------------------------------------------------------------------
# reply shapes in RESP2 and RESP3


def resp3(raw):
    reply = call(raw, "HELLO", "3")
    assert reply.startswith(b"%7\r\n")
    return raw


SHAPES = [
    # (command, RESP2 reply, RESP3 reply)
    (("PING",), b"+PONG\r\n", b"+PONG\r\n"),
    (("ECHO", "hi"), b"$2\r\nhi\r\n", b"$2\r\nhi\r\n"),
    (("GET", "missing"), b"$-1\r\n", b"_\r\n"),
    (("DBSIZE",), b":0\r\n", b":0\r\n"),
    (("SELECT", "0"), b"+OK\r\n", b"+OK\r\n"),
    (("CONFIG", "GET", "proto-max-bulk-len"),
     b"*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n",
     b"%1\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"),
    (("CONFIG", "GET", "nosuch"), b"*0\r\n", b"%0\r\n"),
    # INCRBYFLOAT answers a bulk string in both protocols (not a RESP3 double)
    (("INCRBYFLOAT", "f", "1.5"), b"$3\r\n1.5\r\n", b"$3\r\n1.5\r\n"),
    (("INFO", "nosuchsection"), b"$0\r\n\r\n", b"=4\r\ntxt:\r\n"),
    (("CLIENT", "GETNAME"), b"$-1\r\n", b"_\r\n"),
    (("COMMAND", "INFO", "nosuch"), b"*1\r\n$-1\r\n", b"*1\r\n_\r\n"),
    (("COMMAND", "DOCS", "nosuch"), b"*0\r\n", b"%0\r\n"),
    (("COMMAND", "GETKEYS", "SET", "k", "v"), b"*1\r\n$1\r\nk\r\n", b"*1\r\n$1\r\nk\r\n"),
    (("CLIENT", "KILL", "ID", "999999999"), b":0\r\n", b":0\r\n"),
    (("CLIENT", "NO-EVICT", "off"), b"+OK\r\n", b"+OK\r\n"),
    (("FLUSHDB",), b"+OK\r\n", b"+OK\r\n"),
    (("NOSUCH",), b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
     b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"),
    (("HELLO", "4"), b"-NOPROTO unsupported protocol version\r\n",
     b"-NOPROTO unsupported protocol version\r\n"),
]


@pytest.mark.parametrize("args,r2,r3", SHAPES, ids=[" ".join(s[0]) for s in SHAPES])
def test_reply_shapes(raw, args, r2, r3):
    assert call(raw, *args) == r2
    other = resp3(raw.more())
    assert call(other, "FLUSHDB") == b"+OK\r\n"
    assert call(other, *args) == r3


def test_shape_hello(raw):
    flat = call(raw, "HELLO", "2")
    assert flat.startswith(b"*14\r\n$6\r\nserver\r\n$")
    m = call(raw, "HELLO", "3")
    assert m.startswith(b"%7\r\n$6\r\nserver\r\n$")
    # field order: server, version, proto, id, mode, role, modules
    cid = call(raw, "CLIENT", "ID")
    tail = (b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n" + cid +
            b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
    assert m.endswith(tail)
    assert b"$7\r\nversion\r\n$" in m
    tail2 = (b"$5\r\nproto\r\n:2\r\n$2\r\nid\r\n" + cid +
             b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
    assert call(raw, "HELLO", "2").endswith(tail2)


def test_shape_time(raw):
    for conn in (raw, resp3(raw.more())):
        reply = call(conn, "TIME")
        parts = reply.split(b"\r\n")
        assert parts[0] == b"*2" and parts[1].startswith(b"$") and parts[3].startswith(b"$")
        assert parts[2].isdigit() and parts[4].isdigit()
        assert int(parts[1][1:]) == len(parts[2]) and int(parts[3][1:]) == len(parts[4])


def test_shape_info_verbatim(raw):
    r2 = call(raw, "INFO", "server")
    assert r2.startswith(b"$") and b"\r\n# Server\r\n" in r2
    r3 = call(resp3(raw.more()), "INFO", "server")
    # RESP3: a verbatim string of format txt
    assert r3.startswith(b"=")
    header, body = r3.split(b"\r\n", 1)
    assert body.startswith(b"txt:# Server\r\n")
    assert int(header[1:]) == len(body) - 2


@pytest.mark.parametrize("sub", ["INFO", "LIST"])
def test_shape_client_info_and_list(raw, sub):
    r2 = call(raw, "CLIENT", sub)
    assert r2.startswith(b"$") and b"\r\nid=" in r2 and r2.endswith(b"\n\r\n")
    r3 = call(resp3(raw.more()), "CLIENT", sub)
    assert r3.startswith(b"=")
    header, body = r3.split(b"\r\n", 1)
    assert body.startswith(b"txt:id=")
    assert int(header[1:]) == len(body) - 2
    assert body.endswith(b"\n\r\n")


def test_shape_command_info_sets(raw):
    r2 = call(raw, "COMMAND", "INFO", "get")
    assert r2.startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n")
    assert b"+readonly\r\n" in r2 and b"+fast\r\n" in r2
    assert b":1\r\n:1\r\n:1\r\n*3\r\n" in r2
    # RESP3: flags and ACL categories are sets of simple strings
    r3 = call(resp3(raw.more()), "COMMAND", "INFO", "get")
    assert r3.startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n")
    assert b":1\r\n:1\r\n:1\r\n~3\r\n" in r3
    for cat in (b"+@read\r\n", b"+@string\r\n", b"+@fast\r\n"):
        assert cat in r2 and cat in r3


def test_shape_command_docs(raw):
    r2 = call(raw, "COMMAND", "DOCS", "get")
    assert r2.startswith(b"*2\r\n$3\r\nget\r\n*")
    assert b"$7\r\nsummary\r\n$" in r2
    r3 = call(resp3(raw.more()), "COMMAND", "DOCS", "get")
    assert r3.startswith(b"%1\r\n$3\r\nget\r\n%")
    assert b"$7\r\nsummary\r\n$" in r3


def test_shape_errors_are_identical_in_resp3(raw):
    c = resp3(raw.more())
    assert call(c, "GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert call(c, "SELECT", "99") == b"-ERR DB index is out of range\r\n"


def test_resp3_protocol_errors_still_close(raw):
    c = resp3(raw.more())
    c.send(b"*1\r\n$abc\r\n")
    assert c.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert c.closed()
