"""The listeners, as Redis 7.0's: `unixsocket` / `unixsocketperm` (a Unix socket beside the TCP
addresses, its clients local for protected mode, `addr=PATH:0` and flag `U` in CLIENT LIST, the
file removed at exit), and `bind` as a list of addresses (`-` marks an optional one, `*` and
`::*`, `""` for no TCP listener at all) with Redis's default `* -::*`.

Runs against redis-server too (FDB_TEST_TARGET=redis). 127.0.0.2 is a loopback address Redis
does not count as local; 203.0.113.7 (TEST-NET-3) is an address this host does not have.
"""

import os
import socket
import stat
import subprocess
import tempfile

import pytest
import redis

from conftest import FDB_BIN, SANITIZED, TARGET, free_port, wait_for

UNAVAILABLE = "203.0.113.7"


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def tcp_answers(host, port, source=None):
    """PING over TCP: the first reply line, or None when the connection is refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        s.sendall(b"PING\r\n")
        return s.recv(4096).split(b"\r\n")[0]
    except ConnectionRefusedError:
        return None
    finally:
        s.close()


class Proc:
    """A server started with exactly the given listener flags (no --bind unless given), waited
    for on its Unix socket when it has one, else on 127.0.0.1. Stopped by PID."""

    def __init__(self, *flags, unixsocket=None, conf=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="fdb-listen-")
        self.dir = self.tmp.name
        self.port = free_port()
        self.unixsocket = unixsocket
        head = [conf] if conf else []
        if TARGET == "redis":
            args = ["redis-server", *head, "--port", str(self.port), "--save", "",
                    "--appendonly", "no", "--dir", self.dir]
        else:
            args = [FDB_BIN, *head, "--port", str(self.port), "--dir", self.dir, "--threads", "2"]
        if unixsocket:
            args += ["--unixsocket", unixsocket]
        self.args = args + list(flags)
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._up, timeout=30 if SANITIZED else 10, what="the server")

    def _up(self):
        assert self.proc.poll() is None, self.read_log()
        try:
            c = self.client()
            ok = c.ping()
            c.close()
            return ok
        except (redis.ConnectionError, FileNotFoundError):
            return False

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 10)
        if self.unixsocket:
            return redis.Redis(unix_socket_path=self.unixsocket, **kw)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def read_log(self):
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def close(self):
        self.stop()
        self.tmp.cleanup()


@pytest.fixture
def procs():
    started = []

    def make(*flags, **kw):
        p = Proc(*flags, **kw)
        started.append(p)
        return p

    yield make
    for p in started:
        p.close()


@pytest.fixture
def sock_path(tmp_path):
    # A short path: sun_path holds 108 bytes, and pytest's tmp_path can be long.
    d = tempfile.mkdtemp(prefix="fdbsock-")
    yield os.path.join(d, "s.sock")
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def client_line(c):
    info = c.execute_command("CLIENT", "INFO")
    return dict(kv.split("=", 1) for kv in info.strip().split(" "))


# ---------------------------------------------------------------------------------------------
# unixsocket


@pytest.mark.parametrize("protocol", [2, 3])
def test_unix_socket_serves_clients_as_redis(procs, sock_path, protocol):
    p = procs("--bind", "127.0.0.1", unixsocket=sock_path)
    c = p.client(protocol=protocol)
    assert c.set("k", "v")
    assert c.get("k") == "v"
    me = client_line(c)
    assert me["addr"] == sock_path + ":0"
    assert me["laddr"] == sock_path + ":0"
    assert me["flags"] == "U"
    assert me["resp"] == str(protocol)
    # The TCP listener is there too, and its clients are not flagged U.
    t = redis.Redis(host="127.0.0.1", port=p.port, decode_responses=True, protocol=protocol)
    assert t.get("k") == "v"
    tcp_me = client_line(t)
    assert tcp_me["flags"] == "N"
    assert tcp_me["addr"].startswith("127.0.0.1:")
    listed = {e["id"]: e for e in c.client_list()}
    assert listed[me["id"]]["addr"] == sock_path + ":0"
    assert listed[me["id"]]["flags"] == "U"
    assert listed[tcp_me["id"]]["flags"] == "N"
    assert c.config_get("unixsocket") == {"unixsocket": sock_path}
    t.close()
    c.close()


def test_unix_socket_with_redis_cli(procs, sock_path):
    procs("--bind", "127.0.0.1", unixsocket=sock_path)
    out = subprocess.run(["redis-cli", "-s", sock_path, "SET", "a", "1"], capture_output=True,
                         text=True, timeout=30)
    assert out.stdout.strip() == "OK"
    out = subprocess.run(["redis-cli", "-s", sock_path, "-3", "HELLO", "3"], capture_output=True,
                         text=True, timeout=30)
    assert "proto" in out.stdout
    out = subprocess.run(["redis-cli", "-s", sock_path, "GET", "a"], capture_output=True,
                         text=True, timeout=30)
    assert out.stdout.strip() == "1"


def test_unixsocketperm_sets_the_file_mode(procs, sock_path):
    p = procs("--bind", "127.0.0.1", "--unixsocketperm", "700", unixsocket=sock_path)
    st = os.stat(sock_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert p.client().config_get("unixsocketperm") == {"unixsocketperm": "700"}


def test_socket_file_is_removed_at_exit(procs, sock_path):
    p = procs("--bind", "127.0.0.1", unixsocket=sock_path)
    assert os.path.exists(sock_path)
    assert p.stop() == 0  # SIGTERM
    assert not os.path.exists(sock_path)


def test_socket_file_is_removed_after_shutdown_command(procs, sock_path):
    p = procs("--bind", "127.0.0.1", unixsocket=sock_path)
    try:
        p.client().shutdown(nosave=True)  # redis-py takes the closed connection as the answer
    except redis.ConnectionError:
        pass
    assert p.proc.wait(timeout=20) == 0
    assert not os.path.exists(sock_path)


def test_a_file_left_at_the_path_is_replaced(procs, sock_path):
    """A socket file a killed server left behind does not stop the next start (as Redis)."""
    with open(sock_path, "w") as f:
        f.write("stale")
    p = procs("--bind", "127.0.0.1", unixsocket=sock_path)
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    assert p.client().ping()


def test_unix_clients_are_local_for_protected_mode(procs, sock_path):
    p = procs("--bind", "127.0.0.1 127.0.0.2", unixsocket=sock_path)
    assert p.client().config_get("protected-mode") == {"protected-mode": "yes"}
    assert tcp_answers("127.0.0.1", p.port, source="127.0.0.2").startswith(b"-DENIED")
    assert p.client().ping()  # the Unix socket is local
    assert tcp_answers("127.0.0.1", p.port, source="127.0.0.1") == b"+PONG"


# ---------------------------------------------------------------------------------------------
# bind


def test_every_address_of_bind_is_listened_on(procs):
    p = procs("--bind", "127.0.0.1 127.0.0.2")
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    # Connected to 127.0.0.2, from 127.0.0.1 (served: local).
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") == b"+PONG"


def test_an_optional_address_the_host_lacks_is_skipped(procs):
    p = procs("--bind", f"127.0.0.1 -{UNAVAILABLE} 127.0.0.2")
    assert p.client().config_get("bind") == {"bind": f"127.0.0.1 -{UNAVAILABLE} 127.0.0.2"}
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") == b"+PONG"


def test_a_required_address_the_host_lacks_stops_the_start(tmp_path):
    port = free_port()
    if TARGET == "redis":
        args = ["redis-server", "--port", str(port), "--save", "", "--dir", str(tmp_path)]
    else:
        args = [FDB_BIN, "--port", str(port), "--dir", str(tmp_path)]
    p = subprocess.run(args + ["--bind", f"127.0.0.1 {UNAVAILABLE}"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0
    assert "Failed listening on port" in p.stdout + p.stderr


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_addresses(procs):
    p = procs("--bind", "127.0.0.1 ::1")
    assert tcp_answers("::1", p.port) == b"+PONG"
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    c = redis.Redis(host="::1", port=p.port, decode_responses=True)
    me = client_line(c)
    assert me["addr"].startswith("[::1]:")
    assert me["laddr"] == f"[::1]:{p.port}"
    c.close()


def test_config_set_bind_moves_to_several_addresses_and_rolls_back(procs):
    p = procs("--bind", "127.0.0.1")
    c = p.client()
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") is None
    # The same port on more addresses, 127.0.0.1 among them (held by the old listener).
    assert c.config_set("bind", f"127.0.0.1 127.0.0.2 -{UNAVAILABLE}")
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") == b"+PONG"
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    assert c.ping()  # connections accepted before stay
    # A required address the host lacks: refused, nothing changed, still listening on both.
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("CONFIG", "SET", "maxmemory-samples", "9", "bind",
                          f"127.0.0.1 {UNAVAILABLE}")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'bind') - "
                            "Failed to bind to specified addresses.")
    assert c.config_get("bind") == {"bind": f"127.0.0.1 127.0.0.2 -{UNAVAILABLE}"}
    assert c.config_get("maxmemory-samples") == {"maxmemory-samples": "5"}
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") == b"+PONG"
    # And back to one address.
    assert c.config_set("bind", "127.0.0.1")
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.1") is None
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"


def test_empty_bind_is_unix_only(procs, sock_path):
    p = procs("--bind", "", unixsocket=sock_path)
    c = p.client()
    assert c.config_get("bind") == {"bind": ""}
    assert tcp_answers("127.0.0.1", p.port) is None
    assert c.set("k", "v")
    # CONFIG SET opens a TCP listener and closes it again.
    assert c.config_set("bind", "127.0.0.1")
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    assert c.config_set("bind", "")
    assert c.config_get("bind") == {"bind": ""}
    assert tcp_answers("127.0.0.1", p.port) is None
    assert c.get("k") == "v"


def test_empty_bind_in_a_config_file_and_rewrite(procs, sock_path, tmp_path):
    conf = tmp_path / "server.conf"
    conf.write_text('bind ""\n')
    p = procs(unixsocket=sock_path, conf=str(conf))
    c = p.client()
    assert c.config_get("bind") == {"bind": ""}
    assert tcp_answers("127.0.0.1", p.port) is None
    assert c.config_rewrite()
    assert [ln for ln in conf.read_text().splitlines() if ln.startswith("bind")] == ['bind ""']


def test_default_bind_is_every_address_behind_protected_mode(procs, sock_path, tmp_path):
    """Redis's default `* -::*`: every address, and protected mode keeps clients beyond
    loopback out while the default user has no password. CONFIG REWRITE counts it as the
    default (no bind line)."""
    conf = tmp_path / "server.conf"
    conf.write_text("# no bind here\n")
    p = procs(unixsocket=sock_path, conf=str(conf))
    c = p.client()
    assert c.config_get("bind") == {"bind": "* -::*"}
    assert c.config_get("protected-mode") == {"protected-mode": "yes"}
    assert tcp_answers("127.0.0.1", p.port) == b"+PONG"
    if has_ipv6_loopback():
        assert tcp_answers("::1", p.port) == b"+PONG"
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.2").startswith(b"-DENIED")
    assert c.config_rewrite()
    assert not [ln for ln in conf.read_text().splitlines() if ln.startswith("bind")]
    # A password lets the far client in (after AUTH).
    assert c.config_set("requirepass", "s3cret")
    far = redis.Redis(host="127.0.0.2", port=p.port, password="s3cret", decode_responses=True)
    assert far.ping()
    far.close()
    assert c.config_set("requirepass", "")
    # ...and `protected-mode no` without one.
    assert c.config_set("protected-mode", "no")
    assert tcp_answers("127.0.0.2", p.port, source="127.0.0.2") == b"+PONG"
