"""CONFIG SET port / bind move the listener while the server runs (src/net/server.cc Rebind):
the new socket is opened first, so an address that cannot be had is refused with Redis's error
and every parameter of the call keeps its old value."""

import socket

import pytest
import redis

from conftest import free_port


def connects(port):
    try:
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=2)
        ok = c.ping()
        c.close()
        return ok
    except redis.ConnectionError:
        return False


@pytest.fixture
def own(server_factory):
    s = server_factory()
    c = s.client(protocol=2)
    yield s, c
    c.close()


def test_config_set_port_moves_the_listener(own):
    s, c = own
    new_port = free_port()
    assert c.config_set("port", new_port)
    assert c.config_get("port") == {"port": str(new_port)}
    assert c.ping()  # a connection accepted before the move stays
    assert connects(new_port)
    assert not connects(s.port)
    s.port = new_port  # so the fixture's teardown finds it
    # and back again, with another parameter in the same call
    back = free_port()
    assert c.config_set("port", back, "maxmemory-samples", 7)
    assert connects(back)
    assert not connects(new_port)
    assert c.config_get("maxmemory-samples") == {"maxmemory-samples": "7"}
    s.port = back


def test_the_port_just_left_is_free_when_config_set_replies(own):
    """The old listener is given up before CONFIG SET replies (as Redis, which closes it at
    once): moving away and straight back never finds the old port still taken. (FDB's I/O
    threads switch listeners on their own threads; before the old one stopped listening at
    once, 12 of 100 such moves failed under ASan.)"""
    s, c = own
    start = s.port
    for _ in range(20):
        assert c.config_set("port", free_port())
        assert c.config_set("port", start)
    assert connects(start)
    assert c.ping()


def test_port_in_use_is_refused_and_everything_rolled_back(own):
    s, c = own
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        used = taken.getsockname()[1]
        before = c.config_get("maxmemory")["maxmemory"]
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("CONFIG", "SET", "maxmemory", "10000001", "port", used,
                              "client-query-buffer-limit", "10m")
        assert str(e.value).startswith(
            "CONFIG SET failed (possibly related to argument 'port') - "
            "Unable to listen on this port")
        assert c.config_get("maxmemory")["maxmemory"] == before
        assert c.config_get("port")["port"] == str(s.port)
        assert c.config_get("client-query-buffer-limit")["client-query-buffer-limit"] == \
            str(1 << 30)
    finally:
        taken.close()
    assert connects(s.port)


def test_bad_bind_address_is_refused(own):
    s, c = own
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("bind", "999.999.999.999")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'bind') - "
                            "Failed to bind to specified addresses.")
    assert c.config_get("bind") == {"bind": "127.0.0.1"}
    assert connects(s.port)
    # A good one is taken at once.
    assert c.config_set("bind", "127.0.0.1")
    assert connects(s.port)
