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

from .client import FDBAsyncPipeline, FDBClient, FDBPipeline, FDBSyncClient, fdb_client
from .config import FDBConfig
from .engine import AsyncEngine, SyncEngine, create_engine
from .errors import (
    FDBAuthenticationError,
    FDBConnectionError,
    FDBError,
    FDBLockedError,
    FDBServerError,
    FDBResponseError,
    FDBTimeoutError,
    FDBWrongTypeError,
)

from .server import FDBServer, create_server

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
