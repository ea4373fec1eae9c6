"""fdb-server as a service: --version, --help and --print-config (generated from the parameter
table, src/server/config_help.h), the packaged config file (packaging/fdb.conf), and systemd's
readiness protocol (`supervised systemd`: sd_notify READY=1 / STOPPING=1 on NOTIFY_SOCKET).
"""

import os
import re
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import FDB_BIN, ROOT, TARGET, Server

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="fdb-server's own flags and files")

PACKAGED_CONF = os.path.join(ROOT, "packaging", "fdb.conf")


def run(*args, **kw):
    return subprocess.run([FDB_BIN, *args], capture_output=True, text=True, timeout=30, **kw)


class ConfFileServer(Server):
    """`fdb-server CONFIG-FILE --port P --bind 127.0.0.1 --dir D --logfile ""`: the file first,
    as a service manager starts it, then the harness's port, loopback and data directory."""

    def __init__(self, conf):
        self.conf = conf
        super().__init__()

    def start(self):
        self.args = [FDB_BIN, self.conf, "--port", str(self.port), "--bind", "127.0.0.1",
                     "--dir", self.dir, "--logfile", ""]
        super().start()


@pytest.fixture
def conf_file_server():
    started = []

    def make(conf):
        s = ConfFileServer(conf)
        started.append(s)
        return s

    yield make
    for s in started:
        s.close()


def test_version(server):
    p = run("--version")
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"fdb-server (\d+\.\d+\.\d+)\n", p.stdout)
    assert m, p.stdout
    # The one version number (CMake's project version) is INFO's too.
    assert server.client().info("server")["fdb_version"] == m.group(1)


def test_help_lists_every_parameter_config_get_reports(server):
    p = run("--help")
    assert p.returncode == 0, p.stderr
    help_text = p.stdout
    listed = set(re.findall(r"--([a-z0-9_-]+)", help_text))
    names = server.client().config_get("*")
    assert len(names) > 150
    missing = sorted(n for n in names if n not in listed)
    assert missing == []
    # Each parameter's line has what it accepts and its default, then its meaning.
    assert ("  --appendfsync <always|everysec|no>  default everysec\n"
            "      always: acknowledge a write once fsynced") in help_text
    assert "  --dir <string>  default ./fdb_data  [startup only]\n" in help_text


def test_unknown_flag_points_at_help():
    p = run("--no-such-parameter", "1")
    assert p.returncode == 2
    assert "unknown option --no-such-parameter" in p.stderr
    assert "--help" in p.stderr


def test_print_config_starts_a_server_with_what_was_given(conf_file_server, tmp_path):
    p = run("--maxmemory", "3mb", "--hz", "20", "--print-config")
    assert p.returncode == 0, p.stderr
    assert "\nmaxmemory 3mb\n" in p.stdout and "\nhz 20\n" in p.stdout
    assert "\n# port 6380\n" in p.stdout  # not given: commented out at its default
    conf = tmp_path / "fdb.conf"
    conf.write_text(p.stdout)
    s = conf_file_server(str(conf))
    c = s.client()
    assert c.config_get("maxmemory") == {"maxmemory": str(3 * 1024 * 1024)}
    assert c.config_get("hz") == {"hz": "20"}
    # No parameter without effect is set, so the start warns about none.
    assert "without effect in FDB" not in s.read_log()


def test_packaged_config_file_is_current(tmp_path):
    """packaging/fdb.conf is what fdb-server writes for the package (make conf regenerates it)."""
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("needs cmake")
    out = tmp_path / "fdb.conf"
    subprocess.run([cmake, f"-DFDB_SERVER={FDB_BIN}", f"-DOUT={out}", "-P",
                    os.path.join(ROOT, "packaging", "fdb-conf.cmake")],
                   check=True, capture_output=True, timeout=60)
    with open(PACKAGED_CONF) as f:
        assert f.read() == out.read_text(), "packaging/fdb.conf is stale: run `make conf`"


def test_packaged_config_file_starts_the_server(conf_file_server):
    # The package's values (dir /var/lib/fdb, the log in /var/log/fdb) are overridden by the
    # harness's --port/--dir and a --logfile of its own; everything else is the file's.
    with open(PACKAGED_CONF) as f:
        text = f.read()
    assert "\ndir /var/lib/fdb\n" in text
    assert "\nlogfile /var/log/fdb/fdb-server.log\n" in text
    assert "\nbind 127.0.0.1\n" in text and "\nport 6380\n" in text
    s = conf_file_server(PACKAGED_CONF)
    c = s.client()
    assert c.ping()
    assert c.config_get("appendfsync") == {"appendfsync": "everysec"}
    assert "without effect in FDB" not in s.read_log()


# ---------------------------------------------------------------------------------------------
# supervised systemd: sd_notify(3) on the datagram socket systemd names in NOTIFY_SOCKET.


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def messages_left(sock):
    """The datagrams already queued (after the sender exited, nothing more can come)."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096))
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(30)
    return out


@pytest.mark.parametrize("mode", ["systemd", "auto"])
def test_supervised_systemd_notifies_ready_then_stopping(server_factory, notify_socket, mode):
    s = server_factory("--supervised", mode)
    # Server() returned once PING answered; READY=1 was sent before (after the listener
    # opened): it is queued.
    assert notify_socket.recv(4096) == b"READY=1"
    s.client().set("k", "v")
    assert s.stop(signal.SIGTERM) == 0
    assert messages_left(notify_socket) == [b"STOPPING=1"]
    assert "checkpoint written at shutdown" in s.read_log()


def test_supervised_no_sends_nothing(server_factory, notify_socket):
    s = server_factory()  # supervised no, the default, as Redis
    assert s.client().config_get("supervised") == {"supervised": "no"}
    assert s.stop() == 0
    assert messages_left(notify_socket) == []


def test_ready_comes_after_recovery(server_factory, notify_socket, tmp_path):
    # A server that has keys to recover says READY=1 only after they are all loaded: a client
    # woken by READY=1 finds them.
    data = tmp_path / "data"
    data.mkdir()
    data = str(data)
    s = server_factory(data_dir=data)
    c = s.client()
    c.mset({f"k{i}": i for i in range(2000)})
    assert s.stop(signal.SIGKILL) == -signal.SIGKILL  # no checkpoint: the log is replayed
    p = subprocess.Popen([FDB_BIN, "--port", str(s.port), "--bind", "127.0.0.1", "--dir", data,
                          "--supervised", "systemd"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert notify_socket.recv(4096) == b"READY=1"
        import redis
        assert redis.Redis(port=s.port).dbsize() == 2000
    finally:
        p.terminate()
        p.wait(timeout=30)
