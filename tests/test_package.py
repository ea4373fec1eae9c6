"""The Debian package (`make deb`, packaging/): built from the build directory of
FDB_SERVER_BIN, unpacked with `dpkg -x` into a temporary root (never installed on the machine
that runs the tests), its control data, files and modes checked, its unit checked with
`systemd-analyze verify`, and its binary started with the unit's command line against the
packaged config file, as an unprivileged user when the tests run as root. About 10 s once the
build is done (`make package-test` runs this file alone).
"""

import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest
import redis

from conftest import FDB_BIN, ROOT, SANITIZED, TARGET, free_port

BUILD = os.path.dirname(os.path.abspath(FDB_BIN))

pytestmark = [
    pytest.mark.skipif(TARGET == "redis", reason="FDB's package"),
    pytest.mark.skipif(SANITIZED, reason="the package is made from the release build"),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None or shutil.which("cpack") is None,
                       reason="needs dpkg-deb and cpack"),
    pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")),
                       reason="FDB_SERVER_BIN is not in a CMake build directory"),
]


@pytest.fixture(scope="module")
def deb():
    p = subprocess.run(["make", "-C", ROOT, "deb", f"BUILD={BUILD}"], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    m = re.search(r"CPack: - package: (\S+\.deb) generated", p.stdout)
    assert m, p.stdout
    return m.group(1)


@pytest.fixture(scope="module")
def root(deb):
    """The package unpacked; the directory is traversable by everyone, so that an
    unprivileged user can run what is inside."""
    base = tempfile.mkdtemp(prefix="fdb-package-")
    os.chmod(base, 0o755)
    subprocess.run(["dpkg-deb", "-x", deb, base], check=True, timeout=60)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def control(deb, tmp_path_factory):
    d = tmp_path_factory.mktemp("control")
    subprocess.run(["dpkg-deb", "-e", deb, str(d)], check=True, timeout=60)
    return d


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_control_data(deb, control):
    assert field(deb, "Package") == "fdb"
    version = subprocess.run([FDB_BIN, "--version"], capture_output=True, text=True).stdout
    assert version == f"fdb-server {field(deb, 'Version')}\n"
    # The dependencies are the shared libraries' packages (dpkg-shlibdeps), and adduser.
    depends = {d.split()[0] for d in field(deb, "Depends").split(", ")}
    for pkg in ("libc6", "libstdc++6", "libssl3", "libzstd1", "liblzf1", "liblua5.1-0",
                "lua-cjson", "lua-bitop", "libsystemd0", "adduser"):
        assert pkg in depends, field(deb, "Depends")
    assert (control / "conffiles").read_text().split() == ["/etc/fdb/fdb.conf",
                                                           "/etc/logrotate.d/fdb"]
    for script in ("postinst", "prerm", "postrm"):
        path = control / script
        assert os.stat(path).st_mode & 0o777 == 0o755, script
        assert subprocess.run(["sh", "-n", str(path)]).returncode == 0, script
    postinst = (control / "postinst").read_text()
    assert "adduser --system --group" in postinst and "/var/lib/fdb" in postinst


def test_files_modes_and_owners(deb):
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                             check=True).stdout
    files = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        files[path.removeprefix(".")] = (mode, owner)
    assert all(owner == "root/root" for _, owner in files.values()), listing
    expected = {
        "/usr/bin/fdb-server": "-rwxr-xr-x",
        "/usr/bin/fdb-check": "-rwxr-xr-x",
        # It may hold passwords: the postinst gives it to the fdb user, nobody else reads it.
        "/etc/fdb/fdb.conf": "-rw-r-----",
        "/lib/systemd/system/fdb.service": "-rw-r--r--",
        "/etc/logrotate.d/fdb": "-rw-r--r--",
        "/usr/share/doc/fdb/README.md": "-rw-r--r--",
        "/usr/share/doc/fdb/operations.md": "-rw-r--r--",
    }
    for path, mode in expected.items():
        assert files.get(path, (None,))[0] == mode, (path, files.get(path))
    regular = sorted(p for p, (m, _) in files.items() if m.startswith("-"))
    assert regular == sorted(expected), regular


def test_packaged_files_are_the_built_ones(root):
    with open(os.path.join(root, "etc/fdb/fdb.conf")) as f:
        packaged = f.read()
    with open(os.path.join(ROOT, "packaging", "fdb.conf")) as f:
        assert packaged == f.read(), "packaging/fdb.conf is stale: run `make conf`"
    # Stripped, and runs.
    out = subprocess.run(["file", os.path.join(root, "usr/bin/fdb-server")],
                         capture_output=True, text=True).stdout if shutil.which("file") else ""
    if out:
        assert "not stripped" not in out, out
    p = subprocess.run([os.path.join(root, "usr/bin/fdb-check"), "--help"], capture_output=True,
                       text=True, timeout=30)
    assert "fdb-check" in p.stdout + p.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_unit_verifies(root, tmp_path):
    # systemd-analyze verify --root resolves the unit's paths (ExecStart's binary) in the
    # unpacked package; the root also needs systemd's own units (sysinit.target...), copied
    # from this machine.
    vroot = tmp_path / "root"
    shutil.copytree(root, vroot, symlinks=True)
    units = vroot / "lib/systemd/system"
    for name in os.listdir("/lib/systemd/system"):
        src = os.path.join("/lib/systemd/system", name)
        if not (units / name).exists() and not os.path.isdir(src):
            shutil.copy(src, units / name, follow_symlinks=False)
    p = subprocess.run(["systemd-analyze", "verify", f"--root={vroot}", "fdb.service"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout + p.stderr == "", p.stdout + p.stderr
    # And it does find what is wrong.
    os.unlink(vroot / "usr/bin/fdb-server")
    p = subprocess.run(["systemd-analyze", "verify", f"--root={vroot}", "fdb.service"],
                       capture_output=True, text=True, timeout=60)
    assert "/usr/bin/fdb-server is not executable" in p.stderr


def unit_settings(root):
    settings = {}
    with open(os.path.join(root, "lib/systemd/system/fdb.service")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


def test_unit_is_hardened(root):
    s = unit_settings(root)
    for key, value in {"Type": "notify", "User": "fdb", "Group": "fdb", "StateDirectory": "fdb",
                       "LogsDirectory": "fdb", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "NoNewPrivileges": "yes",
                       "CapabilityBoundingSet": "", "LimitNOFILE": "65536"}.items():
        assert s.get(key) == [value], (key, s.get(key))
    assert s["ReadWritePaths"] == ["/var/lib/fdb /var/log/fdb -/etc/fdb"]
    assert s["ExecStart"][0].startswith("/usr/bin/fdb-server /etc/fdb/fdb.conf ")


def test_unit_command_line_starts_the_packaged_binary(root, tmp_path):
    """ExecStart, with the packaged paths under the unpacked root, plus a port and data and log
    directories of the test's own; as `nobody` when root (the package's user `fdb` is not made
    here), with the files that user owns after the postinst given to it."""
    argv = shlex.split(unit_settings(root)["ExecStart"][0])
    assert argv[:2] == ["/usr/bin/fdb-server", "/etc/fdb/fdb.conf"]
    assert argv[2:] == ["--supervised", "systemd", "--daemonize", "no"]
    work = tempfile.mkdtemp(prefix="fdb-package-run-")
    try:
        run_packaged_binary(root, argv, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_packaged_binary(root, argv, work):
    os.chmod(work, 0o755)
    data, logs = os.path.join(work, "data"), os.path.join(work, "log")
    os.mkdir(data, 0o750)
    os.mkdir(logs, 0o750)
    conf = os.path.join(root, "etc/fdb/fdb.conf")
    logfile = os.path.join(logs, "fdb-server.log")
    port = free_port()
    cmd = [os.path.join(root, argv[0].lstrip("/")), conf] + argv[2:] + [
        "--port", str(port), "--dir", data, "--logfile", logfile]
    if os.geteuid() == 0:
        user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        for path in (data, logs, conf):
            os.chown(path, uid, gid)
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + cmd
    else:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
    notify_path = os.path.join(work, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    os.chmod(notify_path, 0o777)
    notify.settimeout(30)
    proc = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=notify_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert notify.recv(4096) == b"READY=1"
        c = redis.Redis(port=port, decode_responses=True)
        assert c.ping()
        assert c.set("k", "v")
        assert c.config_get("dir") == {"dir": data}
        assert c.config_get("bind") == {"bind": "127.0.0.1"}
        # The log rotates as the packaged logrotate file says (copytruncate), while the server
        # runs; its next lines start the emptied file.
        if shutil.which("logrotate"):
            rotate_log(root, logs, user, group, work)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stdout.read()
        assert notify.recv(4096) == b"STOPPING=1"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
    owners = {os.stat(os.path.join(data, f)).st_uid for f in os.listdir(data)}
    if os.geteuid() == 0:
        assert owners == {pwd.getpwnam("nobody").pw_uid}
    with open(logfile, "rb") as f:
        text = f.read()
    assert text.startswith(b"%d:M " % proc.pid), text[:200]
    assert b"ready to exit" in text


def rotate_log(root, logs, user, group, work):
    with open(os.path.join(root, "etc/logrotate.d/fdb")) as f:
        conf = f.read()
    assert "copytruncate" in conf and "su fdb fdb" in conf
    conf = conf.replace("/var/log/fdb/", logs + "/").replace("su fdb fdb", f"su {user} {group}")
    conf_path = os.path.join(work, "logrotate.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    logfile = os.path.join(logs, "fdb-server.log")
    with open(logfile, "rb") as f:
        before = f.read()
    assert b"ready to accept connections" in before
    p = subprocess.run(["logrotate", "--force", "--state", os.path.join(work, "state"),
                        conf_path], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(os.path.join(logs, "fdb-server.log.1"), "rb") as f:
        assert f.read() == before
    assert os.path.getsize(logfile) == 0


def test_make_install_with_prefix_and_destdir(deb, tmp_path):
    # After the package (the `deb` fixture configured the build directory for /usr): another
    # prefix, staged under DESTDIR; the unit names that prefix's paths.
    stage = tmp_path / "stage"
    p = subprocess.run(["make", "-C", ROOT, "install", f"BUILD={BUILD}", "PREFIX=/usr/local",
                        f"DESTDIR={stage}"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    files = sorted(str(f.relative_to(stage)) for f in stage.rglob("*") if f.is_file())
    assert files == ["usr/local/bin/fdb-check", "usr/local/bin/fdb-server",
                     "usr/local/etc/fdb/fdb.conf", "usr/local/etc/logrotate.d/fdb",
                     "usr/local/lib/systemd/system/fdb.service",
                     "usr/local/share/doc/fdb/README.md", "usr/local/share/doc/fdb/operations.md"]
    unit = (stage / "usr/local/lib/systemd/system/fdb.service").read_text()
    assert ("\nExecStart=/usr/local/bin/fdb-server /usr/local/etc/fdb/fdb.conf "
            "--supervised systemd --daemonize no\n") in unit
    assert "Documentation=file:/usr/local/share/doc/fdb/operations.md" in unit
    assert os.stat(stage / "usr/local/etc/fdb/fdb.conf").st_mode & 0o777 == 0o640
