"""Protected mode: while the default user has no password, only clients on 127.0.0.1, ::1 (and
Unix sockets) are served; others get Redis's DENIED text and are closed.

127.0.0.2 is a loopback address that Redis does not count as local, so a client connecting from
it (its socket bound to 127.0.0.2 before connect) stands for a remote client without traffic
leaving the machine. Runs against redis-server too (FDB_TEST_TARGET=redis).
"""

import socket

import pytest

DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from "
    b"the loopback interface. If you want to connect from external computers to Redis you may "
    b"adopt one of the following solutions: 1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    b"the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration "
    b"file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    b"If you started the server manually just for testing, restart it with the "
    b"'--protected-mode no' option. 4) Setup a an authentication password for the default "
    b"user. NOTE: You only need to do one of the above things in order for the server to start "
    b"accepting connections from the outside.\r\n"
)

BOTH = ("--bind", "127.0.0.1", "127.0.0.2")


def talk(port, source, payload=b"PING\r\n"):
    """Connects from `source`, sends `payload`, returns everything read until the server closes
    or stops sending."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(payload)
    except OSError:
        pass
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if out.endswith(b"\r\n") and not out.startswith(b"-DENIED"):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def closed_after(port, source):
    """Whether the server closes a connection from `source` after its first reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True, data
            data += chunk
    except socket.timeout:
        return False, data
    except ConnectionResetError:
        return True, data
    finally:
        s.close()


def test_far_client_is_denied_and_closed(server_factory):
    srv = server_factory(*BOTH)
    closed, data = closed_after(srv.port, "127.0.0.2")
    assert closed
    assert data == DENIED


def test_local_client_is_served(server_factory):
    srv = server_factory(*BOTH)
    assert talk(srv.port, "127.0.0.1") == b"+PONG\r\n"


def test_requirepass_lifts_protected_mode(server_factory):
    srv = server_factory(*BOTH, "--requirepass", "s3cret")
    assert talk(srv.port, "127.0.0.2") == b"-NOAUTH Authentication required.\r\n"
    assert talk(srv.port, "127.0.0.2", b"AUTH s3cret\r\nPING\r\n").startswith(b"+OK\r\n")
    assert talk(srv.port, "127.0.0.1") == b"-NOAUTH Authentication required.\r\n"


def test_protected_mode_no(server_factory):
    srv = server_factory(*BOTH, "--protected-mode", "no")
    assert talk(srv.port, "127.0.0.2") == b"+PONG\r\n"


@pytest.mark.parametrize("protocol", [2, 3])
def test_config_set_and_acl_password_open_the_server(server_factory, protocol):
    srv = server_factory(*BOTH)
    r = srv.client(protocol=protocol)
    assert r.config_get("protected-mode") == {"protected-mode": "yes"}
    r.config_set("protected-mode", "no")
    assert talk(srv.port, "127.0.0.2") == b"+PONG\r\n"
    r.config_set("protected-mode", "yes")
    assert closed_after(srv.port, "127.0.0.2") == (True, DENIED)
    # A password for the default user given through ACL, not requirepass, counts the same.
    r.execute_command("ACL", "SETUSER", "default", ">pw")
    assert talk(srv.port, "127.0.0.2") == b"-NOAUTH Authentication required.\r\n"
