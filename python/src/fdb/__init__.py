"""FDB for Python: the original FDB API over fdb-server (and, later, the embedded engine).

Modules:
    fdb.client  -- FDBClient (asyncio), FDBSyncClient, fdb_client(), pipelines.
    fdb.codec   -- the JSON-native value encoding (see python/README.md).
    fdb.errors  -- FDBError and its subclasses.
    fdb.config  -- FDBConfig, the validated server settings.

The public entry points are the top-level modules ``fdb_client`` and ``fdb_server``.
"""

from .client import FDBAsyncPipeline, FDBClient, FDBPipeline, FDBSyncClient, fdb_client
from .config import FDBConfig
from .errors import (
    FDBAuthenticationError,
    FDBConnectionError,
    FDBError,
    FDBResponseError,
    FDBTimeoutError,
    FDBWrongTypeError,
)

__version__ = "0.1.0"

__all__ = [
    "FDBClient",
    "FDBSyncClient",
    "FDBPipeline",
    "FDBAsyncPipeline",
    "fdb_client",
    "FDBConfig",
    "FDBError",
    "FDBConnectionError",
    "FDBTimeoutError",
    "FDBResponseError",
    "FDBWrongTypeError",
    "FDBAuthenticationError",
]
