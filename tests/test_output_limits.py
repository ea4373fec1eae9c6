"""client-output-buffer-limit's soft limit: a client whose pending output stays above it for
longer than the soft seconds is closed even when no new output comes to trigger the check (the
I/O thread's once-a-second check, as Redis's clientsCron)."""

import socket
import time

import pytest


def client_names(c):
    return [cl.get("name") for cl in c.client_list()]


@pytest.mark.parametrize("cls", ["pubsub"])
def test_soft_limit_closes_a_client_when_traffic_stopped(server_factory, cls):
    s = server_factory()
    c = s.client(protocol=2)
    c.config_set("client-output-buffer-limit", f"{cls} 0 100000 1")
    sub = socket.create_connection(("127.0.0.1", s.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sub.sendall(b"CLIENT SETNAME stuck\r\n")
        assert sub.recv(100) == b"+OK\r\n"
        payload = "x" * 100000
        if cls == "pubsub":
            sub.sendall(b"SUBSCRIBE ch\r\n")
            sub.recv(100)
        else:
            c.set("big", payload)
        # Output piles up until the client's buffer holds more than the soft limit (the
        # socket's buffers take some first); the client never reads.
        for _ in range(200):
            if cls == "pubsub":
                c.publish("ch", payload)
            else:
                sub.sendall(b"GET big\r\n")
            omem = [int(cl["omem"]) for cl in c.client_list() if cl.get("name") == "stuck"]
            if not omem or omem[0] > 100000:
                break
        # Nothing more is sent to it: the soft seconds pass with no traffic at all.
        deadline = time.time() + 15
        while "stuck" in client_names(c) and time.time() < deadline:
            time.sleep(0.2)
        assert "stuck" not in client_names(c)
    finally:
        sub.close()
        c.close()
