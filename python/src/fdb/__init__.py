"""FDB for Python: the original FDB API over fdb-server and over the embedded engine.

Modules:
    fdb.client  -- FDBClient (asyncio), FDBSyncClient, fdb_client(), pipelines.
    fdb.engine  -- the embedded engine: create_engine(), AsyncEngine, SyncEngine.
    fdb.server  -- FDBServer / create_server(): fdb-server as a child process; the CLI.
    fdb.codec   -- the JSON-native value encoding (see python/README.md).
    fdb.errors  -- FDBError and its subclasses.
    fdb.config  -- FDBConfig, the validated settings.
    fdb._engine -- the compiled engine (nanobind); use fdb.engine instead.

The public entry points are the top-level modules ``fdb_client`` and ``fdb_server``.
"""

# The compiled module fdb._engine is installed beside this file by `pip install ./python`; a
# checkout's own build (cmake -DFDB_PYTHON=ON, as `make build` does) puts it in
# <build>/python/fdb/ instead. extend_path lets `fdb` span both when <build>/python is on
# sys.path, so the tests run the checkout's sources with the checkout's engine.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

# Everything below is imported on first use (PEP 562), so that `import fdb`, `import fdb_client`
# and `import fdb_server` cost a few milliseconds: redis-py, pydantic and asyncio are imported
# only by the modules that need them, when a name from them is first used.
_LAZY = {
    "FDBClient": "client", "FDBSyncClient": "client", "FDBPipeline": "client",
    "FDBAsyncPipeline": "client", "fdb_client": "client",
    "FDBConfig": "config",
    "create_engine": "engine", "AsyncEngine": "engine", "SyncEngine": "engine",
    "FDBServer": "server", "create_server": "server",
    "FDBError": "errors", "FDBLockedError": "errors", "FDBServerError": "errors",
    "FDBConnectionError": "errors", "FDBTimeoutError": "errors", "FDBResponseError": "errors",
    "FDBWrongTypeError": "errors", "FDBAuthenticationError": "errors",
}


def __getattr__(name: str):  # noqa: ANN201 - PEP 562
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fdb' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():  # noqa: ANN201
    return sorted(list(globals()) + list(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "FDBClient",
    "FDBSyncClient",
    "FDBPipeline",
    "FDBAsyncPipeline",
    "fdb_client",
    "FDBConfig",
    "create_engine",
    "AsyncEngine",
    "SyncEngine",
    "create_server",
    "FDBServer",
    "FDBError",
    "FDBLockedError",
    "FDBServerError",
    "FDBConnectionError",
    "FDBTimeoutError",
    "FDBResponseError",
    "FDBWrongTypeError",
    "FDBAuthenticationError",
]
