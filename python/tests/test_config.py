"""FDBConfig: defaults, validation, and its fdb-server flags (checked against the binary)."""

import os
from pathlib import Path

import pytest
import redis
from pydantic import ValidationError

from fdb_server import FDBConfig

from conftest import ServerProcess, free_port


def test_defaults():
    c = FDBConfig()
    assert (c.host, c.port, c.max_connections, c.data_dir, c.file_extension) == (
        "127.0.0.1", 6380, 10000, "./fdb_data", ".fdb")
    assert (c.cache_size, c.flush_interval, c.compression) == (10000, 1.0, False)
    assert c.max_workers == (os.cpu_count() or 1)


def test_issue_example_config():
    c = FDBConfig(host="127.0.0.1", port=6380, max_connections=100, data_dir="./fdb_data",
                  file_extension=".fdb", cache_size=10000, flush_interval=5.0, max_workers=4,
                  compression=True)
    assert c.to_server_args() == [
        "--bind", "127.0.0.1", "--port", "6380", "--maxclients", "100", "--dir", "./fdb_data",
        "--cache-size", "10000", "--fsync", "everysec", "--threads", "4", "--compression", "yes",
    ]


def test_flush_interval_zero_means_fsync_always():
    args = FDBConfig(flush_interval=0).to_server_args()
    assert args[args.index("--fsync") + 1] == "always"


def test_path_data_dir():
    assert FDBConfig(data_dir=Path("/tmp/x")).data_dir == "/tmp/x"


@pytest.mark.parametrize(
    "kw",
    [
        {"port": 0}, {"port": 65536}, {"port": -1}, {"port": "http"},
        {"max_connections": 0}, {"cache_size": 0}, {"cache_size": -5}, {"max_workers": 0},
        {"flush_interval": -1.0}, {"flush_interval": float("nan")},
        {"file_extension": ".db"}, {"file_extension": "fdb"},
        {"host": ""}, {"host": "local host"}, {"data_dir": ""},
        {"compression": "maybe"}, {"unknown_field": 1},
    ],
)
def test_validation_errors(kw):
    with pytest.raises(ValidationError):
        FDBConfig(**kw)


def test_assignment_is_validated():
    c = FDBConfig()
    with pytest.raises(ValidationError):
        c.port = 70000


def test_server_accepts_the_flags(tmp_path):
    c = FDBConfig(port=free_port(), data_dir=str(tmp_path), max_connections=123, cache_size=77,
                  flush_interval=0, max_workers=3, compression=True)
    srv = ServerProcess(port=c.port, data_dir=c.data_dir)
    srv.extra_args = c.to_server_args()  # later flags win over the harness's defaults
    srv.start()
    try:
        r = redis.Redis(host=c.host, port=c.port, decode_responses=True)
        cfg = r.config_get("*")
        assert cfg["maxclients"] == "123"
        assert cfg["cache-size"] == "77"
        assert cfg["appendfsync"] == "always"
        assert cfg["io-threads"] == "3"
        assert cfg["compression"] == "yes"
        assert Path(cfg["dir"]).resolve() == tmp_path.resolve()
        r.close()
    finally:
        srv.cleanup()
