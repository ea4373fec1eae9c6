"""ACL users: passwords, command / key / channel permissions, selectors, ACL LOG, the ACL file,
and the commands around them, with redis-py in RESP2 and RESP3 and with redis-cli.

Everything here is Redis 7.0's behaviour: the file runs against redis-server too
(FDB_TEST_TARGET=redis).
"""

import hashlib
import os
import socket
import subprocess

import pytest
import redis

NOPERM_KEYS = "this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNELS = "this user has no permissions to access one of the channels used as arguments"
WRONGPASS = "invalid username-password pair or user is disabled."

PROTOCOLS = pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])


def as_user(srv, user, password, protocol=2):
    return srv.client(username=user, password=password, protocol=protocol)


def getuser(r, name):
    """ACL GETUSER as the server sent it (redis-py's acl_getuser reshapes it), as a dict; the
    selectors as a list of dicts."""
    raw = r.execute_command("ACL", "GETUSER", name)
    if raw is None:
        return None

    def as_dict(x):
        return x if isinstance(x, dict) else dict(zip(x[::2], x[1::2]))

    d = as_dict(raw)
    d["selectors"] = [as_dict(s) for s in d["selectors"]]
    return d


def raw(port, *commands):
    """Sends commands on a fresh socket; returns the first line of each reply (for AUTH's
    errors, which redis-py turns into a retried connection error)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    out = []
    f = s.makefile("rb")
    for cmd in commands:
        s.sendall(b"".join([b"*%d\r\n" % len(cmd)] +
                           [b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd]))
        out.append(f.readline().decode().rstrip("\r\n"))
    s.close()
    return out


def err(fn, *args, **kw):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args, **kw)
    return str(e.value)


@PROTOCOLS
def test_user_reads_but_cannot_write_a_prefix(server_factory, protocol):
    srv = server_factory()
    admin = srv.client(protocol=protocol)
    admin.set("app:1", "v")
    admin.set("other:1", "w")
    assert admin.acl_setuser("reader", enabled=True, passwords=["+pw"],
                             commands=["+@all"], keys=["%R~app:*", "~own:*"]) is True
    u = as_user(srv, "reader", "pw", protocol)
    assert u.acl_whoami() == "reader"
    assert u.get("app:1") == "v"
    assert u.mget("app:1", "app:2") == ["v", None]
    assert u.set("own:1", "x") is True
    assert NOPERM_KEYS in err(u.set, "app:1", "x")
    assert NOPERM_KEYS in err(u.delete, "app:1")
    assert NOPERM_KEYS in err(u.get, "other:1")
    # COPY reads its source and writes its destination.
    assert u.copy("app:1", "own:2") is True
    assert NOPERM_KEYS in err(u.copy, "own:2", "app:3")
    assert admin.get("app:1") == "v"


@PROTOCOLS
def test_user_without_config_and_debug(server_factory, protocol):
    # DEBUG allowed by the server, refused to the user by ACL.
    srv = server_factory("--enable-debug-command", "yes")
    admin = srv.client(protocol=protocol)
    admin.execute_command("ACL", "SETUSER", "ops", "on", ">pw", "~*", "&*", "+@all",
                          "-config", "-debug")
    u = as_user(srv, "ops", "pw", protocol)
    assert u.set("k", "v") is True
    assert err(u.config_get, "maxmemory") == (
        "this user has no permissions to run the 'config|get' command")
    assert err(u.config_set, "maxmemory", "1") == (
        "this user has no permissions to run the 'config|set' command")
    assert err(u.execute_command, "DEBUG", "SLEEP", "0") == (
        "this user has no permissions to run the 'debug' command")
    cmds = getuser(admin, "ops")["commands"].split()
    assert cmds[0] == "+@all" and sorted(cmds[1:]) == ["-config", "-debug"]


@PROTOCOLS
def test_selectors(server_factory, protocol):
    srv = server_factory()
    admin = srv.client(protocol=protocol)
    admin.execute_command("ACL", "SETUSER", "sel", "on", "nopass", "-@all",
                          "(+get ~r:*)", "(+set ~w:*)")
    u = as_user(srv, "sel", "any", protocol)
    assert u.set("w:1", "x") is True
    assert u.get("r:1") is None
    assert NOPERM_KEYS in err(u.get, "w:1")
    assert NOPERM_KEYS in err(u.set, "r:1", "x")
    assert "no permissions to run the 'ping' command" in err(u.ping)
    info = getuser(admin, "sel")
    assert info["commands"] == "-@all"
    sels = info["selectors"]
    assert len(sels) == 2
    assert sels[0] == {"commands": "-@all +get", "keys": "~r:*", "channels": ""}
    assert sels[1] == {"commands": "-@all +set", "keys": "~w:*", "channels": ""}
    line = [l for l in admin.acl_list() if l.startswith("user sel ")][0]
    assert line == ("user sel on nopass resetchannels -@all (~r:* resetchannels -@all +get) "
                    "(~w:* resetchannels -@all +set)")
    admin.execute_command("ACL", "SETUSER", "sel", "clearselectors")
    assert getuser(admin, "sel")["selectors"] == []


def test_setuser_errors(server_factory):
    srv = server_factory()
    r = srv.client()
    assert err(r.execute_command, "ACL", "SETUSER", "x", "~a", "bogus") == (
        "Error in ACL SETUSER modifier 'bogus': Syntax error")
    assert getuser(r, "x") is None  # nothing applied on an error
    assert err(r.execute_command, "ACL", "SETUSER", "x", "+nosuchcmd") == (
        "Error in ACL SETUSER modifier '+nosuchcmd': Unknown command or category name in ACL")
    assert "Usernames can't contain spaces" in err(r.execute_command, "ACL", "SETUSER", "a b")
    assert "Unmatched parenthesis" in err(r.execute_command, "ACL", "SETUSER", "x", "(~a")
    assert err(r.execute_command, "ACL", "DELUSER", "default") == (
        "The 'default' user cannot be removed")
    assert err(r.execute_command, "ACL", "CAT", "nosuch") == "Unknown category 'nosuch'"


@PROTOCOLS
def test_passwords_and_auth(server_factory, protocol):
    srv = server_factory()
    r = srv.client(protocol=protocol)
    h = hashlib.sha256(b"two").hexdigest()
    r.execute_command("ACL", "SETUSER", "u", "on", ">one", "#" + h, "+@all", "~*")
    assert getuser(r, "u")["passwords"] == [hashlib.sha256(b"one").hexdigest(), h]
    wrong = "-WRONGPASS " + WRONGPASS
    assert raw(srv.port, ["AUTH", "u", "one"], ["AUTH", "u", "two"], ["AUTH", "u", "three"],
               ["AUTH", "u", "two"]) == ["+OK", "+OK", wrong, "+OK"]
    c = as_user(srv, "u", "one", protocol)
    assert c.acl_whoami() == "u"
    assert " user=u " in c.execute_command("CLIENT", "INFO")
    r.execute_command("ACL", "SETUSER", "u", "<one")
    assert raw(srv.port, ["AUTH", "u", "one"]) == [wrong]
    r.execute_command("ACL", "SETUSER", "u", "off")
    assert raw(srv.port, ["AUTH", "u", "two"]) == [wrong]
    r.execute_command("ACL", "SETUSER", "u", "on", "nopass")
    assert raw(srv.port, ["AUTH", "u", "whatever"]) == ["+OK"]
    # HELLO ... AUTH
    assert raw(srv.port, ["HELLO", "3", "AUTH", "u", "x"])[0].startswith("%")
    assert raw(srv.port, ["HELLO", "2", "AUTH", "nobody", "x"]) == [wrong]
    assert raw(srv.port, ["AUTH", "nobody", "x"]) == [wrong]


def test_requirepass_is_the_default_users_password(server_factory):
    srv = server_factory()
    r = srv.client()
    assert r.acl_list() == ["user default on nopass ~* &* +@all"]
    r.config_set("requirepass", "pw")
    h = hashlib.sha256(b"pw").hexdigest()
    assert r.acl_list() == [f"user default on #{h} ~* &* +@all"]
    fresh = srv.client()
    with pytest.raises(redis.AuthenticationError):
        fresh.ping()
    assert srv.client(password="pw").ping() is True
    r.config_set("requirepass", "")
    assert r.acl_list() == ["user default on nopass ~* &* +@all"]


@PROTOCOLS
def test_acl_log(server_factory, protocol):
    srv = server_factory()
    admin = srv.client(protocol=protocol)
    # +client: redis-py sends CLIENT SETINFO on connecting (a Redis 7.2 command).
    admin.execute_command("ACL", "SETUSER", "lo", "on", ">pw", "+get", "+publish", "+client", "~k*",
                          "resetchannels", "&news")
    u = as_user(srv, "lo", "pw", protocol)
    err(u.set, "k1", "v")
    err(u.set, "k1", "v")
    err(u.get, "other")
    err(u.publish, "sports", "m")
    assert raw(srv.port, ["AUTH", "lo", "wrong"]) == ["-WRONGPASS " + WRONGPASS]
    entries = admin.acl_log()
    got = [(e["reason"], e["context"], e["object"], e["username"], e["count"]) for e in entries]
    assert got == [
        ("auth", "toplevel", "AUTH", "lo", 1),
        ("channel", "toplevel", "sports", "lo", 1),
        ("key", "toplevel", "other", "lo", 1),
        ("command", "toplevel", "set", "lo", 2),
    ]
    for e in entries:
        assert float(e["age-seconds"]) >= 0
        assert "127.0.0.1:" in str(e["client-info"])  # redis-py parses it in RESP2
    assert len(admin.acl_log(count=2)) == 2
    assert admin.acl_log_reset() is True
    assert admin.acl_log() == []


def test_transactions_scripts_and_pubsub_are_checked(server_factory):
    srv = server_factory()
    admin = srv.client()
    admin.execute_command("ACL", "SETUSER", "t", "on", ">pw", "~k*", "&ok",
                          "+multi", "+exec", "+get", "+eval", "+subscribe", "+publish")
    u = as_user(srv, "t", "pw")
    # Queued: refused at once, and EXEC aborts.
    u.execute_command("MULTI")
    assert "no permissions to run the 'set' command" in err(u.execute_command, "SET", "k", "v")
    with pytest.raises(redis.exceptions.ExecAbortError):
        u.execute_command("EXEC")
    # A script runs with its caller's permissions.
    e = err(u.eval, "return redis.call('set', 'k', 'v')", 0)
    assert "can't run this command or subcommand" in e
    assert admin.acl_log()[0]["context"] == "lua"
    assert u.eval("return redis.call('get', 'k')", 0) is None
    # Channels.
    assert u.publish("ok", "m") == 0
    assert NOPERM_CHANNELS in err(u.publish, "no", "m")
    p = u.pubsub()
    with pytest.raises(redis.ResponseError, match="channels"):
        p.subscribe("no")
        p.get_message(timeout=5)


class Conn:
    """A raw connection authenticated as a user."""

    def __init__(self, port, user, password):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")
        assert self.cmd("AUTH", user, password) == "+OK"

    def cmd(self, *args):
        self.sock.sendall(b"".join([b"*%d\r\n" % len(args)] +
                                   [b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args]))
        return self.f.readline().decode().rstrip("\r\n")

    def closed(self):
        """Whether the server closed the connection (a PING gets no reply)."""
        try:
            return self.cmd("PING") == ""
        except OSError:
            return True


def test_deluser_kills_its_connections(server_factory):
    srv = server_factory()
    admin = srv.client()
    admin.execute_command("ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*")
    admin.execute_command("ACL", "SETUSER", "stays", "on", ">pw", "+@all", "~*")
    victim = Conn(srv.port, "gone", "pw")
    other = Conn(srv.port, "stays", "pw")
    assert "user=gone" in admin.execute_command("CLIENT", "LIST")
    assert admin.acl_deluser("gone") == 1
    assert victim.closed()
    assert other.cmd("PING") == "+PONG"
    assert "user=gone" not in admin.execute_command("CLIENT", "LIST")
    # Deleting the user one is authenticated as: the reply, then the connection closes.
    assert other.cmd("ACL", "DELUSER", "stays") == ":1"
    assert other.closed()


def test_client_kill_user(server_factory):
    srv = server_factory()
    admin = srv.client()
    admin.execute_command("ACL", "SETUSER", "k", "on", "nopass", "+@all", "~*")
    a = as_user(srv, "k", "x")
    b = as_user(srv, "k", "x")
    a.ping()
    b.ping()
    assert admin.client_kill_filter(user="k") == 2
    assert "No such user" in err(admin.client_kill_filter, user="nobody")


def test_aclfile_save_and_load(server_factory, tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user alice on >alice ~* &* +@all\n")
    srv = server_factory("--aclfile", str(path))
    r = srv.client()
    assert sorted(r.acl_users()) == ["alice", "default"]
    assert srv.client(username="alice", password="alice").get("x") is None
    r.execute_command("ACL", "SETUSER", "bob", "on", ">bob", "-@all", "+get", "~b*")
    assert r.acl_save() is True
    lines = path.read_text().splitlines()
    h = hashlib.sha256(b"bob").hexdigest()
    assert f"user bob on #{h} ~b* resetchannels -@all +get" in lines
    assert "user default on nopass ~* &* +@all" in lines
    # Edited on disk, loaded back; users not in the file are gone.
    path.write_text("\n".join(l for l in lines if not l.startswith("user alice")) +
                    "\nuser carol on nopass ~c* +@read\n")
    assert r.acl_load() is True
    assert sorted(r.acl_users()) == ["bob", "carol", "default"]
    carol = srv.client(username="carol", password="x")
    assert carol.get("c1") is None
    assert NOPERM_KEYS in err(carol.get, "d1")
    # A bad file changes nothing.
    path.write_text("user dave on bogus\n")
    assert "Syntax error" in err(r.acl_load)
    assert sorted(r.acl_users()) == ["bob", "carol", "default"]


def test_acl_load_without_file(server_factory):
    srv = server_factory()
    assert "not configured to use an ACL file" in err(srv.client().acl_load)


def test_dryrun_cat_genpass_help(server_factory):
    srv = server_factory()
    r = srv.client()
    r.execute_command("ACL", "SETUSER", "d", "+@all", "%R~r*")
    assert r.acl_dryrun("d", "GET", "r1") == "OK"
    assert r.acl_dryrun("d", "SET", "r1", "v") == "This user has no permissions to access the 'r1' key"
    r.execute_command("ACL", "SETUSER", "d", "-get")
    assert r.acl_dryrun("d", "GET", "r1") == "This user has no permissions to run the 'get' command"
    assert "User 'nobody' not found" in err(r.acl_dryrun, "nobody", "GET", "x")
    cats = r.acl_cat()
    for c in ("keyspace", "read", "write", "string", "list", "set", "sortedset", "hash", "stream",
              "bitmap", "hyperloglog", "geo", "pubsub", "admin", "fast", "slow", "blocking",
              "dangerous", "connection", "transaction", "scripting"):
        assert c in cats
    assert "get" in r.acl_cat("string") and "get" not in r.acl_cat("write")
    assert "multi" in r.acl_cat("transaction")
    assert len(r.acl_genpass()) == 64
    assert len(r.acl_genpass(5)) == 2
    assert "GENPASS argument must be the number" in err(r.execute_command, "ACL", "GENPASS",
                                                        "5000")
    help_lines = r.execute_command("ACL", "HELP")
    assert help_lines[0].startswith("ACL <subcommand>")


def test_config_user_lines(server_factory):
    srv = server_factory("--user", "default", "on", "nopass", "~*", "&*", "+@all", "-flushdb",
                         "--user", "viewer", "on", ">v", "~*", "+@read")
    r = srv.client()
    assert "no permissions to run the 'flushdb' command" in err(r.flushdb)
    assert srv.client(username="viewer", password="v").get("x") is None


def test_redis_cli_user(server_factory):
    srv = server_factory()
    srv.client().execute_command("ACL", "SETUSER", "cli", "on", ">clipw", "~c*", "+@all")
    base = ["redis-cli", "-p", str(srv.port), "--user", "cli", "--pass", "clipw", "--no-auth-warning"]
    assert subprocess.run(base + ["SET", "c1", "v"], capture_output=True, text=True).stdout == "OK\n"
    out = subprocess.run(base + ["SET", "d1", "v"], capture_output=True, text=True).stdout
    assert out.strip() == "NOPERM " + NOPERM_KEYS
    out = subprocess.run(base + ["ACL", "WHOAMI"], capture_output=True, text=True).stdout
    assert out == "cli\n"
    bad = ["redis-cli", "-p", str(srv.port), "--user", "cli", "--pass", "no", "--no-auth-warning",
           "PING"]
    res = subprocess.run(bad, capture_output=True, text=True)
    assert "WRONGPASS" in res.stdout + res.stderr
